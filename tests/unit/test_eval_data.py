"""The committed evaluation cases are what the documented generators make, and are valid.

A catalog change that invalidates them (an expected id that no longer exists, a slot
value a new query now covers) fails here, not silently in the figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from normalizer.catalog import load_catalog, surface_key
from normalizer.evaluation import load_cases

DATA = Path(__file__).resolve().parents[1] / "data"
CATALOG = Path(__file__).resolve().parents[2] / "canonical_queries"


def test_case_files_are_reproducible_from_the_generators() -> None:
    result = subprocess.run([sys.executable, str(DATA / "make_cases.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_cases_fit_the_catalog_and_the_splits_do_not_overlap(locale: str) -> None:
    queries = load_catalog(CATALOG).locales[locale]
    ids = {q.id for q in queries}
    catalog_keys = {surface_key(t) for q in queries for t in q.texts}
    dev = load_cases(DATA / f"cases.{locale}.dev.jsonl")
    test = load_cases(DATA / f"cases.{locale}.test.jsonl")
    for cases in (dev, test):
        assert len(cases) >= 600
        ood = [c for c in cases if c.expected_id is None]
        assert len(ood) >= 0.2 * len(cases)
        assert sum(c.noise == "slot_change" for c in ood) >= len(ood) / 2
        assert {c.expected_id for c in cases} - {None} <= ids
        # an out-of-domain case must not be a catalog text in disguise
        assert not [c.transcript for c in ood if surface_key(c.transcript) in catalog_keys]
    assert not {c.transcript for c in dev} & {c.transcript for c in test}


USERS = DATA / "users"


@pytest.mark.parametrize("script", ["zh_noise.py", "en_asr.py"])
def test_user_sets_are_what_their_generators_make(script: str) -> None:
    """The TSV of phrasings is valid and the committed cases match it (no recogniser run)."""
    result = subprocess.run([sys.executable, str(USERS / script), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_user_sets_load_and_hold_every_kind_of_phrasing(locale: str) -> None:
    ids = {q.id for q in load_catalog(CATALOG).locales[locale]}
    for split in ("dev", "test"):
        cases = load_cases(USERS / f"cases.{locale}.{split}.jsonl")
        kinds = {c.phrasing for c in cases}
        assert kinds == {"catalog", "paraphrase", "slot_change", "out_of_domain"}, kinds
        assert {c.expected_id for c in cases} - {None} <= ids
        assert all((c.expected_id is None) == (c.phrasing in ("slot_change", "out_of_domain"))
                   for c in cases)
        assert sum(c.phrasing == "paraphrase" for c in cases) >= 300
