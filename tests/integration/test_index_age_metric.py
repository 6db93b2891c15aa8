"""normalizer_index_built_timestamp_seconds: when the served version was built (index age)."""

from __future__ import annotations

from datetime import datetime

import pytest

from normalizer._proto import normalizer_pb2 as pb
from normalizer.index.store import IndexStore
from tests.conftest import running_server

pytestmark = pytest.mark.integration


async def test_built_timestamp_is_the_served_versions(shipped_store: IndexStore) -> None:
    async with running_server(shipped_store) as running:
        info = await running.stub.GetIndexInfo(pb.GetIndexInfoRequest(), timeout=10)
        value = running.metrics.registry.get_sample_value(
            "normalizer_index_built_timestamp_seconds")
    built = datetime.fromisoformat(info.built_at.replace("Z", "+00:00")).timestamp()
    assert value == built and built > 1.7e9
