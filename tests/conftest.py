"""Shared fixtures: the shipped catalog, an index built from it once, real servers on port 0."""

from __future__ import annotations

import asyncio
import contextlib
import os
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from hypothesis import HealthCheck, settings
from prometheus_client import CollectorRegistry

from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from normalizer.catalog import load_catalog
from normalizer.config import Settings, load_settings
from normalizer.embedding import Embedder, create_embedder
from normalizer.index.store import IndexStore
from normalizer.metrics import Metrics
from normalizer.publishing import build_index
from normalizer.service.server import NormalizerServer, create_server

# Property-based tests: a fixed seed (derandomize) and a bounded example count in CI;
# HYPOTHESIS_PROFILE=thorough tries many more inputs on demand.
for _name, _examples in (("ci", 150), ("thorough", 3000)):
    settings.register_profile(_name, max_examples=_examples, derandomize=True, deadline=None,
                              database=None, print_blob=True,
                              suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
CATALOG_DIR = ROOT / "canonical_queries"
DATA_DIR = Path(__file__).resolve().parent / "data"


# A small two-locale catalog for tests that build their own stores.
ZH_SMALL = """\
locale: zh-CN
queries:
  - id: weather.today
    text: 今天的天气怎么样
    variants:
      - 今天天气如何
      - 今天天气怎么样
  - id: volume.up
    text: 把音量调大一点
    variants:
      - 声音大一点
  - id: alarm.set.7am
    text: 设一个早上七点的闹钟
    variants:
      - 早上七点叫我起床
  - id: music.play
    text: 播放音乐
    variants:
      - 放首歌
"""

EN_SMALL = """\
locale: en-US
queries:
  - id: weather.today
    text: what's the weather like today
    variants:
      - how is the weather today
  - id: volume.up
    text: turn the volume up
    variants:
      - make it louder
  - id: alarm.set.7am
    text: set an alarm for 7 am
    variants:
      - wake me up at seven in the morning
"""


def write_catalog(folder: Path, files: dict[str, str] | None = None) -> Path:
    """Write catalog files (default: the small zh-CN + en-US catalog) into ``folder``."""
    files = files if files is not None else {"zh.yaml": ZH_SMALL, "en.yaml": EN_SMALL}
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder



# Figures tests measure on the way (times to fallback, inputs tried), by section; printed
# at the end of the run, so that every CI log carries them.
FIGURES: dict[str, list[str]] = {}


def report_figure(section: str, line: str, header: str | None = None) -> None:
    lines = FIGURES.setdefault(section, [header] if header else [])
    lines.append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for section, lines in FIGURES.items():
        terminalreporter.section(section)
        for line in lines:
            terminalreporter.write_line(line)


def make_settings(**overrides: object) -> Settings:
    """Test settings: loopback, port 0, no environment, fast reloads."""
    flags = {"host": "127.0.0.1", "port": 0, "metrics_port": 0, "reload_interval": 0.2}
    flags.update(overrides)
    return load_settings(flags, environ={})


@pytest.fixture(scope="session")
def catalog_dir() -> Path:
    return CATALOG_DIR


@pytest.fixture(scope="session")
def shipped_store(tmp_path_factory: pytest.TempPathFactory) -> IndexStore:
    """The shipped catalog embedded once per session with the local embedder (read-only)."""
    store = IndexStore(tmp_path_factory.mktemp("store"))

    async def build() -> None:
        embedder = create_embedder(make_settings())
        try:
            await build_index(load_catalog(CATALOG_DIR), embedder, store, progress=False)
        finally:
            await embedder.aclose()

    asyncio.run(build())
    return store


@dataclass
class Running:
    server: NormalizerServer
    channel: grpc.aio.Channel
    stub: pb_grpc.QueryNormalizerStub
    metrics: Metrics

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.port}"


@contextlib.asynccontextmanager
async def running_server(store: IndexStore, settings: Settings | None = None,
                         embedder: Embedder | None = None,
                         wait_ready: bool = True) -> AsyncIterator[Running]:
    """A real server on 127.0.0.1:0 with its own metrics registry, and a channel to it."""
    settings = settings or make_settings()
    metrics = Metrics(CollectorRegistry())
    server = create_server(settings, embedder or create_embedder(settings), store, metrics)
    await server.start()
    if wait_ready:
        await asyncio.wait_for(server.ready.wait(), 30)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield Running(server, channel, pb_grpc.QueryNormalizerStub(channel), metrics)
    finally:
        await channel.close()
        await server.stop(0.5)
