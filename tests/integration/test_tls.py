"""TLS and mutual TLS on a real server, with a CA and certificates made here (trustme).

Refused: a plaintext client of a TLS server; a client that does not trust the server's
CA; under mutual TLS, a client without a certificate and one whose certificate another
CA signed.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from normalizer.errors import ConfigError
from normalizer.service.tls import channel_credentials
from tests.integration.conftest import serve
from tests.pki import Pki, make_pki

pytestmark = pytest.mark.integration

REFUSED = (grpc.StatusCode.UNAVAILABLE,)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


async def normalize(address: str, credentials: grpc.ChannelCredentials | None
                    ) -> pb.NormalizeResponse:
    channel = (grpc.aio.insecure_channel(address) if credentials is None
               else grpc.aio.secure_channel(address, credentials))
    async with channel:
        return await pb_grpc.QueryNormalizerStub(channel).Normalize(
            pb.NormalizeRequest(transcript="今天天汽怎么样"), timeout=5)


async def refused(address: str, credentials: grpc.ChannelCredentials | None) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await normalize(address, credentials)
    assert info.value.code() in REFUSED, info.value


def creds(ca: Path | None, cert: Path | None = None,
          key: Path | None = None) -> grpc.ChannelCredentials:
    made = channel_credentials(str(ca) if ca else None, str(cert) if cert else None,
                               str(key) if key else None)
    assert made is not None
    return made


async def test_tls_serves_trusting_clients_and_refuses_plaintext(shipped_store, pki):
    async with serve(shipped_store, tls_cert=str(pki.server_cert),
                     tls_key=str(pki.server_key)) as running:
        address = running.address
        answer = await normalize(address, creds(pki.ca))
        assert answer.normalized and answer.text == "今天的天气怎么样"
        # health and the rest of the port are behind TLS too
        async with grpc.aio.secure_channel(address, creds(pki.ca)) as channel:
            status = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5)
        assert status.status == health_pb2.HealthCheckResponse.SERVING
        # without --tls-client-ca a client certificate is not needed (nor refused)
        assert (await normalize(address, creds(pki.ca, pki.client_cert, pki.client_key))
                ).normalized
        await refused(address, None)                      # plaintext
        await refused(address, creds(pki.rogue_ca))       # does not trust the server's CA


async def test_mutual_tls_requires_a_certificate_from_the_client_ca(shipped_store, pki):
    async with serve(shipped_store, tls_cert=str(pki.server_cert),
                     tls_key=str(pki.server_key), tls_client_ca=str(pki.ca)) as running:
        address = running.address
        answer = await normalize(address, creds(pki.ca, pki.client_cert, pki.client_key))
        assert answer.normalized
        await refused(address, creds(pki.ca))                                # no certificate
        await refused(address, creds(pki.ca, pki.rogue_cert, pki.rogue_key))  # untrusted one
        await refused(address, None)                                         # plaintext


async def test_unreadable_or_non_pem_files_are_named(shipped_store, pki, tmp_path):
    not_pem = tmp_path / "cert.der"
    not_pem.write_bytes(b"\x30\x82\x01\x0a")
    with pytest.raises(ConfigError, match=r"--tls-cert .*cert\.der: not a PEM file"):
        async with serve(shipped_store, tls_cert=str(not_pem), tls_key=str(pki.server_key)):
            pass
    with pytest.raises(ConfigError, match=r"--tls-key .*missing\.key: cannot read"):
        async with serve(shipped_store, tls_cert=str(pki.server_cert),
                         tls_key=str(tmp_path / "missing.key")):
            pass
    with pytest.raises(ConfigError, match="--tls-cert and --tls-key go together"):
        channel_credentials(str(pki.ca), str(pki.client_cert), None)
