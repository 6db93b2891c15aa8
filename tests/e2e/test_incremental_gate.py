"""`normalizer index build` as operators run it: incremental rebuilds, what changed,
pruning, and the evaluation gate refusing a harmful change and accepting a harmless one."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import EN_SMALL, ZH_SMALL, run_cli, write_catalog

pytestmark = pytest.mark.e2e

GATE_REFUSED = 3
CASES = [
    ("今天天汽怎么样", "weather.today", "zh-CN"), ("今天天气咋样", "weather.today", "zh-CN"),
    ("嗯今天的天气怎么样啊", "weather.today", "zh-CN"), ("把音量调大一点吧", "volume.up", "zh-CN"),
    ("声音大一点儿", "volume.up", "zh-CN"), ("播放一首音乐", "music.play", "zh-CN"),
    ("珠穆朗玛峰有多高", None, "zh-CN"), ("设一个早上八点的闹钟", None, "zh-CN"),
    ("whats the weather like to day", "weather.today", "en-US"),
    ("turn the volume up please", "volume.up", "en-US"), ("who wrote hamlet", None, "en-US"),
]
ZH_WITHOUT_WEATHER = ZH_SMALL.replace("""  - id: weather.today
    text: 今天的天气怎么样
    variants:
      - 今天天气如何
      - 今天天气怎么样
""", "")
ZH_WITH_LIGHTS = ZH_SMALL + """  - id: lights.on
    text: 打开所有的灯
"""


def _build(catalog: Path, store: Path, *extra: str) -> tuple[int, dict[str, object], str]:
    result = run_cli("index", "build", "--queries", catalog, "--out", store, "--quiet", *extra)
    out = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.returncode, out, result.stderr


def _snapshot(store: Path) -> tuple[bytes, list[str]]:
    return (store / "CURRENT").read_bytes(), sorted(p.name for p in (store / "versions").iterdir())


def test_rebuild_embeds_only_what_changed_and_prunes_old_versions(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "catalog", {"zh.yaml": ZH_SMALL, "en.yaml": EN_SMALL})
    store = tmp_path / "store"
    code, first, err = _build(catalog, store, "--keep-versions", "2")
    assert code == 0, err
    assert (first["embedded"], first["reused"], first["changes"]) == (15, 0, None)

    changed = ZH_SMALL.replace("      - 放首歌\n", "      - 放首歌吧\n")        # one line
    write_catalog(catalog, {"zh.yaml": changed, "en.yaml": EN_SMALL})
    code, second, err = _build(catalog, store, "--keep-versions", "2")
    assert code == 0, err
    assert (second["embedded"], second["reused"]) == (1, 14)
    assert second["previous"] == first["version"]
    assert second["changes"] == {
        "zh-CN": {"added": [], "removed": [], "changed": ["music.play"]},
        "en-US": {"added": [], "removed": [], "changed": []}}
    assert "zh-CN: 0 added, 0 removed, 1 changed" in err and "zh-CN changed: music.play" in err
    assert "embedded 1 text(s), reused 14 from the embedding cache" in err

    write_catalog(catalog, {"zh.yaml": ZH_WITH_LIGHTS, "en.yaml": EN_SMALL})
    code, third, err = _build(catalog, store, "--keep-versions", "2")
    assert code == 0, err
    assert (third["embedded"], third["reused"]) == (1, 15)    # 放首歌 came back: cached
    assert third["pruned"] == [first["version"]]
    assert _snapshot(store)[1] == sorted([second["version"], third["version"]])

    def cached() -> int:
        with sqlite3.connect(store / "embeddings.sqlite") as db:
            return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    assert cached() == 17                     # 15, 放首歌吧 (the second), 打开所有的灯
    # The same content built again within the same second is the same version (its name is
    # the build second and the content's checksum): wait for the next second, so that the
    # fourth build is a new version and pushes the second out.
    time.sleep(1.0 - time.time() % 1.0)
    code, fourth, err = _build(catalog, store, "--keep-versions", "2")
    assert code == 0, err
    assert (fourth["embedded"], fourth["reused"]) == (0, 16)
    assert fourth["pruned"] == [second["version"]]
    assert cached() == 16                     # 放首歌吧: no kept version uses it


def test_gate_refuses_a_harmful_change_and_accepts_a_harmless_one(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "catalog", {"zh.yaml": ZH_SMALL, "en.yaml": EN_SMALL})
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps({"transcript": t, "expected_id": e, "locale": loc},
                                        ensure_ascii=False) + "\n" for t, e, loc in CASES),
                     encoding="utf-8")
    store = tmp_path / "store"
    code, first, err = _build(catalog, store, "--gate-cases", cases)
    assert code == 0, err
    assert "no current version to compare with" in err
    baseline = first["gate"]["candidate"]                    # type: ignore[index]
    assert baseline["zh-CN"]["correct"] > 0, baseline        # the weather cases are right
    before = _snapshot(store)

    # Someone deletes the weather query: the zh-CN cases about the weather lose their answer.
    write_catalog(catalog, {"zh.yaml": ZH_WITHOUT_WEATHER, "en.yaml": EN_SMALL})
    code, refused, err = _build(catalog, store, "--gate-cases", cases)
    assert code == GATE_REFUSED, err
    assert refused["published"] is False
    assert _snapshot(store) == before                         # CURRENT and versions untouched
    gate = refused["gate"]
    assert gate["baseline_version"] == first["version"]       # type: ignore[index]
    assert gate["problems"] and gate["problems"][0].startswith(   # type: ignore[index]
        "zh-CN: correct rate fell")
    worse = {w["transcript"] for w in gate["worse"]}          # type: ignore[index]
    assert worse and worse <= {t for t, e, _ in CASES if e == "weather.today"}
    assert "gate: REFUSED: zh-CN: correct rate fell" in err
    assert "cases that got worse" in err and "'今天天汽怎么样' (expected weather.today)" in err
    assert "discarded, the store is unchanged" in err

    # A new query no case is about changes nothing: published.
    write_catalog(catalog, {"zh.yaml": ZH_WITH_LIGHTS, "en.yaml": EN_SMALL})
    code, accepted, err = _build(catalog, store, "--gate-cases", cases)
    assert code == 0, err
    assert accepted["published"] is True and accepted["gate"]["worse"] == []  # type: ignore[index]
    assert (store / "CURRENT").read_text(encoding="utf-8").strip() == accepted["version"]
    assert accepted["changes"]["zh-CN"]["added"] == ["lights.on"]  # type: ignore[index]

    # A tighter tolerance than the data allows is still honoured: nothing got worse.
    code, _, err = _build(catalog, store, "--gate-cases", cases,
                          "--gate-max-wrong-increase", "0", "--gate-max-correct-drop", "0")
    assert code == 0, err


def test_gate_tolerances_need_gate_cases(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "catalog", {"en.yaml": EN_SMALL})
    result = run_cli("index", "build", "--queries", catalog, "--out", tmp_path / "s",
                     "--gate-max-correct-drop", "0.1")
    assert result.returncode == 1
    assert "--gate-max-correct-drop is a tolerance of the evaluation gate; it needs " \
           "--gate-cases FILE" in result.stderr
    assert not (tmp_path / "s").exists()
