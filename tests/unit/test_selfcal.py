"""Self-calibration's synthesised cases: each kind, from the catalog alone."""

from __future__ import annotations

import random

import pytest

from normalizer.catalog import CanonicalQuery, surface_key
from normalizer.matching.lang import for_locale
from normalizer.matching.slots import SlotIndex
from normalizer.matching.utterance import prepare
from normalizer.selfcal import noise
from normalizer.selfcal.synthesis import ood_corpus, synthesize
from tests.unit.test_guard import EN_CATALOG
from tests.unit.test_slots import ZH_CATALOG


def _synthesised(catalog: dict[str, list[str]], locale: str):
    language = for_locale(locale)
    queries = [CanonicalQuery(qid, texts[0], tuple(texts[1:]), "x:1")
               for qid, texts in catalog.items()]
    texts = [(q, t) for q, query in enumerate(queries) for t in query.texts]
    rows = [prepare(t, language) for _, t in texts]
    row_query = [q for q, _ in texts]
    slots = SlotIndex.derive(list(zip(row_query, rows, strict=True)), language)
    return synthesize(locale, queries, rows, row_query, slots), texts, queries


@pytest.mark.parametrize(("catalog", "locale"), [(ZH_CATALOG, "zh-CN"), (EN_CATALOG, "en-US")])
def test_every_kind_is_made_and_labelled(catalog, locale) -> None:
    cases, texts, queries = _synthesised(catalog, locale)
    kinds = {c.kind for c in cases}
    assert kinds == {"held_out", "noised", "slot_change", "out_of_domain"}
    catalog_keys = {surface_key(t) for _, t in texts}
    for c in cases:
        if c.kind == "held_out":
            # the held-out row is the case's own text, of the expected query
            q, text = texts[c.hidden]
            assert text == c.transcript and queries[q].id == c.expected_id
        elif c.kind == "noised":
            assert c.expected_id is not None and surface_key(c.transcript) not in catalog_keys
        else:
            assert c.expected_id is None and surface_key(c.transcript) not in catalog_keys


def test_slot_changes_swap_a_value_the_catalog_does_not_hold() -> None:
    cases, texts, _ = _synthesised(EN_CATALOG, "en-US")
    changed = [c.transcript for c in cases if c.kind == "slot_change"]
    catalog_words = {w for _, t in texts for w in t.split()}
    # every slot change says something the catalog never says (a room, a person, a number)
    assert changed
    for text in changed:
        assert set(text.split()) - catalog_words or any(ch.isdigit() for ch in text), text


def test_synthesis_is_reproducible() -> None:
    first, _, _ = _synthesised(ZH_CATALOG, "zh-CN")
    again, _, _ = _synthesised(ZH_CATALOG, "zh-CN")
    assert first == again


def test_the_out_of_domain_corpus_ships_with_the_package() -> None:
    assert len(ood_corpus("zh")) >= 3000 and len(ood_corpus("en")) >= 3000
    assert ood_corpus("fr") == ()


def test_noise_keeps_numbers_negations_and_antonyms() -> None:
    zh, en = for_locale("zh-CN"), for_locale("en-US")
    for seed in range(40):
        rng = random.Random(seed)
        noisy = noise.apply("别关掉客厅的灯", zh, rng)
        assert noisy is None or ("别" in noisy and "关" in noisy)
        noisy = noise.apply("do not turn off the kitchen lights at six", en, rng)
        assert noisy is None or all(w in noisy.split() for w in ("not", "off", "six"))
