"""``normalizer eval`` and ``normalizer calibrate`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import build_store, run_cli

pytestmark = pytest.mark.e2e

CASES = [
    {"transcript": "今天的天气怎么样", "expected_id": "weather.today", "locale": "zh-CN",
     "noise": "clean"},
    {"transcript": "今天天汽怎么样", "expected_id": "weather.today", "locale": "zh-CN",
     "noise": "homophone"},
    {"transcript": "珠穆朗玛峰有多高", "expected_id": None, "locale": "zh-CN",
     "noise": "out_of_domain"},
    {"transcript": "设一个早上九点的闹钟", "expected_id": None, "locale": "zh-CN",
     "noise": "slot_change"},
    {"transcript": "what's the weather like today", "expected_id": "weather.today",
     "locale": "en-US", "noise": "clean"},
    {"transcript": "uh turn the volume up please", "expected_id": "volume.up",
     "locale": "en-US", "noise": "filler",
     "alternatives": [{"text": "uh turn the volume up please", "score": 0.8},
                      {"text": "turn the volume up", "score": 0.4}]},
    {"transcript": "who wrote hamlet", "expected_id": None, "locale": "en-US",
     "noise": "out_of_domain"},
    {"transcript": "set an alarm for 9 am", "expected_id": None, "locale": "en-US",
     "noise": "slot_change"},
]


def write_cases(path: Path, cases: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases),
                    encoding="utf-8")
    return path


def test_eval_reports_rates_plot_and_json(tmp_path: Path, small_store: Path) -> None:
    cases = write_cases(tmp_path / "cases.jsonl", CASES)
    plot, figures = tmp_path / "curve.png", tmp_path / "figures.json"
    result = run_cli("eval", "--index", small_store, "--cases", cases, "--plot", plot,
                     "--json", figures)
    assert result.returncode == 0, result.stderr
    assert "zh-CN" in result.stdout and "en-US" in result.stdout
    assert "wrong rewrites: 0" in result.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000
    report = json.loads(figures.read_text())
    for locale in ("zh-CN", "en-US"):
        mine = [c for c in CASES if c["locale"] == locale]
        got = report["locales"][locale]
        assert got["cases"] == len(mine)
        assert got["in_domain"] == sum(c["expected_id"] is not None for c in mine)
        assert got["out_of_domain"] == sum(c["expected_id"] is None for c in mine)
        # The exact catalog text is always right; the out-of-domain ones must stay raw.
        assert got["correct"] >= 0.5
        assert got["wrong"] == 0.0
        assert got["pass_through"] == 1.0
    assert set(report["thresholds"]) == {"zh-CN", "en-US"}
    assert report["wrong_rewrites"] == []
    assert {k.split("/")[1] for k in report["noise"]} == {c["noise"] for c in CASES}


def test_eval_names_the_bad_line(tmp_path: Path, small_store: Path) -> None:
    cases = tmp_path / "bad.jsonl"
    cases.write_text(json.dumps(CASES[0], ensure_ascii=False) + "\n{not json\n")
    result = run_cli("eval", "--index", small_store, "--cases", cases, "--plot", "")
    assert result.returncode == 1
    assert f"{cases}:2: not valid JSON" in result.stderr
    cases.write_text('{"transcript": "x", "locale": "zh-CN"}\n')
    result = run_cli("eval", "--index", small_store, "--cases", cases, "--plot", "")
    assert result.returncode == 1
    assert f"{cases}:1: 'expected_id' must be a canonical id or null" in result.stderr


def test_calibrate_publishes_a_calibrated_version(tmp_path: Path, small_catalog: Path) -> None:
    store = tmp_path / "store"
    before = build_store(small_catalog, store, "--calibration", "none")
    cases = write_cases(tmp_path / "dev.jsonl", CASES)
    result = run_cli("calibrate", "--index", store, "--cases", cases, "--max-wrong-rate", "0.0")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    after = (store / "CURRENT").read_text().strip()
    assert printed["version"] == after != before
    assert printed["calibrated_from"] == before
    manifest = json.loads((store / "versions" / after / "manifest.json").read_text())
    calibration = manifest["calibration"]
    assert calibration["max_wrong_rate"] == 0.0
    assert set(calibration["locales"]) == {"zh-CN", "en-US"}
    for fitted in calibration["locales"].values():
        assert 0.0 < fitted["threshold"] <= 1.0
        assert fitted["dev"]["rewritten_wrong"] == 0
        assert set(fitted["weights"]) == set(calibration["features"])
    # the old version is untouched and still loadable; eval now reports calibrated thresholds
    assert (store / "versions" / before / "manifest.json").exists()
    evaluated = run_cli("eval", "--index", store, "--cases", cases, "--plot", "")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "uncalibrated" not in evaluated.stdout.splitlines()[0]


def test_calibrate_refuses_unknown_feature(tmp_path: Path, small_store: Path) -> None:
    cases = write_cases(tmp_path / "dev.jsonl", CASES)
    result = run_cli("calibrate", "--index", small_store, "--cases", cases, "--features",
                     "dense,loudness")
    assert result.returncode == 2
    assert "unknown feature(s) loudness" in result.stderr
