"""grpc.health.v1 and server reflection."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client import CollectorRegistry

from normalizer.metrics import Metrics
from normalizer.service.server import create_server
from tests.integration.conftest import poll_until, relaxed_settings, serve

pytestmark = pytest.mark.integration

SERVICE = "normalizer.v1.QueryNormalizer"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def check(channel: grpc.aio.Channel, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    resp = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return resp.status


async def test_serving_once_ready(shipped_store):
    async with serve(shipped_store) as running:
        assert running.server.ready.is_set()
        assert await check(running.channel, "") == SERVING
        assert await check(running.channel, SERVICE) == SERVING
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await check(running.channel, "no.such.Service")
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_not_serving_until_the_embedder_answers(shipped_store, controlled):
    controlled.gate = asyncio.Event()
    async with serve(shipped_store, controlled, wait_ready=False) as running:
        await asyncio.wait_for(controlled.entered.wait(), 10)   # warm-up call is waiting
        assert await check(running.channel, "") == NOT_SERVING
        assert await check(running.channel, SERVICE) == NOT_SERVING
        assert not running.server.ready.is_set()
        controlled.gate.set()

        async def both_serving() -> bool:
            return (await check(running.channel, "") == SERVING
                    and await check(running.channel, SERVICE) == SERVING)

        await poll_until(both_serving, 10, what="health SERVING")
        assert running.server.ready.is_set()
        assert running.server.fatal is None


async def test_not_serving_once_stop_begins(shipped_store, controlled):
    server = create_server(relaxed_settings(), controlled, shipped_store,
                           Metrics(CollectorRegistry()))
    await server.start()
    await asyncio.wait_for(server.ready.wait(), 30)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    stop_task = None
    try:
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=SERVICE))
        first = await asyncio.wait_for(watch.read(), 5)
        assert first.status == SERVING
        stop_task = asyncio.ensure_future(server.stop(5.0))
        second = await asyncio.wait_for(watch.read(), 5)
        assert second.status == NOT_SERVING
        watch.cancel()
        await asyncio.wait_for(stop_task, 10)
    finally:
        await channel.close()
        if stop_task is None:
            await server.stop(0.5)


async def test_reflection_lists_services(shipped_store):
    async with serve(shipped_store) as running:
        stub = reflection_pb2_grpc.ServerReflectionStub(running.channel)
        call = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        responses = [r async for r in call]
        file_call = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
            file_containing_symbol=SERVICE)]), timeout=5)
        files = [r async for r in file_call]
    assert len(responses) == 1
    names = {s.name for s in responses[0].list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health"} <= names
    assert len(files) == 1
    assert files[0].WhichOneof("message_response") == "file_descriptor_response"
    assert len(files[0].file_descriptor_response.file_descriptor_proto) >= 1
