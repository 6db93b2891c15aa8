"""The catalog loader against hostile files: property-based, and the classic attacks.

Whatever the bytes, ``load_catalog`` returns a catalog or raises ``CatalogError``
whose every problem is ``file:line: message`` — never another exception, a hang or
unbounded memory. Hypothesis runs with a fixed seed and a bounded example count
(profiles in tests/conftest.py); the number of files tried is printed at the end.
"""

from __future__ import annotations

import re
import resource
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from normalizer.catalog import MAX_FILE_BYTES, Catalog, load_catalog
from normalizer.errors import CatalogError
from tests.conftest import EN_SMALL, ZH_SMALL, report_figure

TRIED: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    report_figure("hostile inputs tried (zero crashes, hangs or INTERNAL statuses)",
                  f"catalog loader: {sum(TRIED.values())} files ("
                  + ", ".join(f"{k} {v}" for k, v in sorted(TRIED.items())) + ")")


def load_bytes(data: bytes) -> Catalog | CatalogError:
    """Load a catalog folder holding one file with ``data``; check the error's form."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hostile.yaml"
        path.write_bytes(data)
        try:
            catalog = load_catalog(folder)
        except CatalogError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert re.match(rf"^{re.escape(str(path))}:\d+: \S", problem), problem
                assert len(problem) < 2000, problem[:200]
            TRIED["refused"] += 1
            return exc
    TRIED["loaded"] += 1
    return catalog


YAML_BITS = st.sampled_from([
    "locale: ", "zh-CN", "en-US", "queries:", "\n", "  - ", "id: ", "text: ", "variants:",
    "    ", "\t", "- ", ": ", "[", "]", "{", "}", ",", "&a ", "*a", "! ", "!!str ", "!!python/x ",
    "? ", "|", ">", "'", '"', "#", "%YAML 1.1\n", "---\n", "...\n", "<<: ", "~", "null", "12",
    "0x1F", "1e999", ".nan", "打开灯", "\ufeff", "\u202e", "\x00", "\x07", "\r\n", "\u2028",
    "weather.today", "a" * 300,
])


@given(st.lists(YAML_BITS, max_size=60).map("".join))
def test_yaml_shaped_noise(text: str) -> None:
    load_bytes(text.encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=400))
def test_arbitrary_bytes(data: bytes) -> None:
    load_bytes(data)


VALID = textwrap.dedent(ZH_SMALL).encode()


@given(st.lists(st.tuples(st.integers(0, len(VALID)), st.integers(0, 8),
                          st.binary(max_size=6)), min_size=1, max_size=6))
def test_a_valid_catalog_damaged_here_and_there(edits: list[tuple[int, int, bytes]]) -> None:
    data = bytearray(VALID)
    for at, cut, insert in edits:
        data[at:at + cut] = insert
    load_bytes(bytes(data))


@given(st.text(max_size=80), st.text(max_size=80), st.lists(st.text(max_size=40), max_size=5))
def test_arbitrary_unicode_values(qid: str, text: str, variants: list[str]) -> None:
    document = yaml.safe_dump({"locale": "en-US", "queries": [
        {"id": qid, "text": text, "variants": variants}]}, allow_unicode=True)
    load_bytes(document.encode("utf-8", "surrogatepass"))


# -- the classic attacks, one by one ----------------------------------------------------------

def laughs(levels: int = 12) -> str:
    """Each alias level nine times the one below: 9**12 nodes if expanded."""
    out = 'x0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, levels):
        out += f"x{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n"
    return out


def refused(data: str | bytes, pattern: str) -> CatalogError:
    started = time.monotonic()
    result = load_bytes(data.encode() if isinstance(data, str) else data)
    assert time.monotonic() - started < 30    # a hang would take forever, not 30 s
    assert isinstance(result, CatalogError), result
    assert any(re.search(pattern, p) for p in result.problems), result.problems
    return result


def test_billion_laughs_in_values() -> None:
    refused(f"locale: en-US\n{laughs()}queries:\n  - id: a\n    text: *a11\n",
            r":\d+: text must be a string")


def test_billion_laughs_in_a_key() -> None:
    # Printing such a key would take exponential time; it must not be printed.
    refused(f"locale: en-US\n{laughs()}? *a11\n: 1\nqueries: []\n",
            r":\d+: a key in the file is a list or mapping")


def test_aliased_queries_are_duplicates() -> None:
    refused("locale: en-US\nqueries:\n  - &q {id: a, text: hi}\n  - *q\n", r"duplicate id 'a'")


@pytest.mark.parametrize("document", [
    "locale: en-US\nqueries: " + "[" * 50000 + "]" * 50000 + "\n",
    "locale: en-US\nqueries:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1200)),
], ids=["flow", "block"])
def test_nesting_too_deep(document: str) -> None:
    refused(document, r":1: invalid YAML: nested too deeply")


def test_tabs_for_indentation() -> None:
    refused("locale: en-US\nqueries:\n\t- id: a\n\t  text: hi\n", r":3: invalid YAML: .*'\\t'")


def test_a_leading_bom_is_fine_and_a_stray_one_is_text() -> None:
    loaded = load_bytes(b"\xef\xbb\xbf" + VALID)
    assert isinstance(loaded, Catalog) and len(loaded) == 4


def test_bytes_that_are_not_utf8_name_their_line() -> None:
    refused(b"locale: en-US\nqueries:\n  - id: a\n    text: h\xffi\n",
            r":4: byte 0xff at column 12 is not UTF-8")
    refused("locale: en-US\nqueries:\n  - id: a\n    text: hi\n".encode("utf-16"),
            r":1: byte 0xff at column 1 is not UTF-8")


def test_control_characters_name_their_line() -> None:
    refused("locale: en-US\nqueries:\n  - id: a\n    text: h\x07i\n",
            r":4: invalid YAML: the control character U\+0007")


def test_duplicate_keys() -> None:
    problems = refused("locale: en-US\nlocale: zh-CN\nqueries:\n  - id: a\n    text: hi\n"
                       "    text: ho\n", r":2: key 'locale' appears twice").problems
    assert any(re.search(r":6: key 'text' appears twice", p) for p in problems), problems


def test_tags_do_not_construct_anything() -> None:
    refused("locale: en-US\nqueries:\n  - id: !!python/object/apply:os.system [echo x]\n"
            "    text: hi\n", r":3: id must be a string")


def test_a_huge_file_is_refused_without_reading_it() -> None:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refused(VALID + b"#" * MAX_FILE_BYTES, r":1: \d+ bytes is over the limit of")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mb < 200, f"{grown_mb:.0f} MB"


def test_a_large_valid_catalog_loads() -> None:
    entries = "".join(f"  - id: q{i}\n    text: request number {i}\n" for i in range(5000))
    loaded = load_bytes(f"locale: en-US\nqueries:\n{entries}".encode())
    assert isinstance(loaded, Catalog) and len(loaded) == 5000


def test_the_small_test_catalogs_load() -> None:
    for text in (ZH_SMALL, EN_SMALL):
        assert isinstance(load_bytes(textwrap.dedent(text).encode()), Catalog)
