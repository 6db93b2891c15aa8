"""`normalizer index build` with the local embedder: a good build, then invalid catalogs
that must be reported as `file:line: message` and leave the store untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    EN_SMALL,
    LOCAL_MODEL,
    ZH_SMALL,
    run_cli,
    write_catalog,
)

pytestmark = pytest.mark.e2e


def _snapshot(store: Path) -> tuple[bytes, list[str], list[str]]:
    """CURRENT's bytes, the versions/ listing (hidden entries too), the store's top level."""
    return ((store / "CURRENT").read_bytes(),
            sorted(p.name for p in (store / "versions").iterdir()),
            sorted(p.name for p in store.iterdir()))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, object]]:
    root = tmp_path_factory.mktemp("build")
    catalog = write_catalog(root / "catalog", {"zh.yaml": ZH_SMALL, "en.yaml": EN_SMALL})
    store = root / "store"
    result = run_cli("index", "build", "--queries", catalog, "--out", store, "--quiet")
    assert result.returncode == 0, result.stderr
    return store, result.stdout, json.loads(result.stdout)


def test_build_publishes_a_version(built: tuple[Path, str, dict[str, object]]) -> None:
    store, _, out = built
    version = out["version"]
    assert isinstance(version, str) and version
    assert out["locales"] == {"zh-CN": 4, "en-US": 3}
    assert (store / "CURRENT").read_text(encoding="utf-8").strip() == version
    folder = store / "versions" / version
    assert {"manifest.json", "catalog.json", "zh-CN.faiss", "en-US.faiss"} <= {
        p.name for p in folder.iterdir()}
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == version
    assert manifest["embedding"]["model"] == LOCAL_MODEL
    assert manifest["embedding"]["dimensions"] == 384
    assert manifest["locales"]["zh-CN"] == {"canonical_queries": 4, "indexed_texts": 9}
    assert manifest["locales"]["en-US"] == {"canonical_queries": 3, "indexed_texts": 6}
    assert not [p for p in (store / "versions").iterdir() if p.name.startswith(".")]


DUPLICATE_ID = """\
locale: zh-CN
queries:
  - id: weather.today
    text: 今天的天气怎么样
  - id: volume.up
    text: 把音量调大一点
  - id: weather.today
    text: 明天的天气怎么样
"""

UNKNOWN_KEY = """\
locale: en-US
queries:
  - id: volume.up
    text: turn the volume up
  - id: volume.down
    text: turn the volume down
    synonyms:
      - make it quieter
"""

EMPTY_TEXT = """\
locale: en-US
queries:
  - id: volume.up
    text: turn the volume up
  - id: volume.down
    text: ""
"""

# (file content, line of the offending node, words the message must contain)
INVALID = {
    "duplicate-id": (DUPLICATE_ID, 7, ("duplicate id", "weather.today")),
    "unknown-key": (UNKNOWN_KEY, 7, ("unknown key", "synonyms")),
    "empty-text": (EMPTY_TEXT, 6, ("text", "empty")),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_catalog_is_reported_and_store_untouched(
        case: str, tmp_path: Path, built: tuple[Path, str, dict[str, object]]) -> None:
    store, _, _ = built
    content, line, words = INVALID[case]
    # one valid file beside the broken one: the whole build must still be refused
    catalog = write_catalog(tmp_path / "catalog", {"a-valid.yaml": ZH_SMALL.replace(
        "zh-CN", "zh-TW"), "broken.yaml": content})
    broken = catalog / "broken.yaml"
    before = _snapshot(store)

    result = run_cli("index", "build", "--queries", catalog, "--out", store, "--quiet")

    assert result.returncode != 0, f"build of an invalid catalog succeeded:\n{result.stdout}"
    assert result.stdout.strip() == "", "no version JSON may be printed on failure"
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith(f"{broken}:{line}: ")]
    assert lines, (f"expected a line starting with '{broken}:{line}: ' in stderr:\n"
                   f"{result.stderr}")
    message = lines[0].lower()
    for word in words:
        assert word in message, f"{word!r} not in {lines[0]!r}"
    assert "Traceback" not in result.stderr
    assert _snapshot(store) == before, "the store changed after a failed build"
