import pytest

from normalizer._proto import normalizer_pb2 as pb
from tests.conftest import running_server

pytestmark = pytest.mark.integration


async def test_normalize_homophone(shipped_store):
    async with running_server(shipped_store) as running:
        resp = await running.stub.Normalize(pb.NormalizeRequest(transcript="今天天汽怎么样"))
        assert resp.normalized and resp.text == "今天的天气怎么样"
