"""Transport security: the server's TLS (and mutual TLS) credentials, and a client's.

``serve --tls-cert FILE --tls-key FILE`` serves TLS only (no plaintext port);
``--tls-client-ca FILE`` also requires every client to present a certificate signed
by one of the CAs in FILE. ``query`` and ``eval`` take ``--tls-ca`` (the CA that
signed the server's certificate; the system's roots without it) and, for mutual
TLS, ``--tls-cert`` and ``--tls-key``. Files are PEM.
"""

from __future__ import annotations

from pathlib import Path

import grpc

from normalizer.config import Settings
from normalizer.errors import ConfigError

__all__ = ["channel_credentials", "read_pem", "server_credentials"]


def read_pem(path: str, what: str, flag: str) -> bytes:
    """The bytes of a PEM file, or ConfigError naming the flag and the problem."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot read the {what}: {exc.strerror}") from exc
    if b"-----BEGIN " not in data:
        raise ConfigError(f"{flag} {path}: not a PEM file (no '-----BEGIN' line); "
                          f"the {what} must be PEM-encoded")
    return data


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials for ``serve``, or None for plaintext."""
    if not settings.tls_cert or not settings.tls_key:
        return None
    chain = read_pem(settings.tls_cert, "certificate chain", "--tls-cert")
    key = read_pem(settings.tls_key, "private key", "--tls-key")
    client_ca = (read_pem(settings.tls_client_ca, "client CA certificates", "--tls-client-ca")
                 if settings.tls_client_ca else None)
    return grpc.ssl_server_credentials([(key, chain)], root_certificates=client_ca,
                                       require_client_auth=client_ca is not None)


def channel_credentials(ca: str | None, cert: str | None,
                        key: str | None) -> grpc.ChannelCredentials | None:
    """A client's TLS credentials, or None for a plaintext channel (no flag given)."""
    if bool(cert) != bool(key):
        raise ConfigError("--tls-cert and --tls-key go together (a client certificate and "
                          "its key, for mutual TLS)")
    if not (ca or cert):
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=read_pem(ca, "CA certificates", "--tls-ca") if ca else None,
        private_key=read_pem(key, "private key", "--tls-key") if key else None,
        certificate_chain=read_pem(cert, "certificate chain", "--tls-cert") if cert else None)
