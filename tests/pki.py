"""Certificates for TLS tests, made on the spot with trustme (never committed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["Pki", "make_pki"]


@dataclass
class Pki:
    ca: Path              # the CA that signed the server's and the client's certificates
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_ca: Path        # another CA, and a client certificate it signed
    rogue_cert: Path
    rogue_key: Path


def _write(folder: Path, name: str, blob: trustme.Blob) -> Path:
    path = folder / name
    blob.write_to_path(str(path))
    return path


def make_pki(folder: Path) -> Pki:
    """Two CAs in ``folder``: one that signed the server's and a client's certificates,
    and another that signed an intruder's."""
    ca, rogue = trustme.CA(), trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("voice-pipeline.example")
    intruder = rogue.issue_cert("voice-pipeline.example")
    return Pki(
        ca=_write(folder, "ca.pem", ca.cert_pem),
        server_cert=_write(folder, "server.pem", server.cert_chain_pems[0]),
        server_key=_write(folder, "server.key", server.private_key_pem),
        client_cert=_write(folder, "client.pem", client.cert_chain_pems[0]),
        client_key=_write(folder, "client.key", client.private_key_pem),
        rogue_ca=_write(folder, "rogue-ca.pem", rogue.cert_pem),
        rogue_cert=_write(folder, "rogue.pem", intruder.cert_chain_pems[0]),
        rogue_key=_write(folder, "rogue.key", intruder.private_key_pem),
    )
