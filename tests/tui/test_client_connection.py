"""The dashboard's client: TLS settings from the environment and TLS mismatch messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from jwp.cli.client import parse_address
from jwp.tui.client import ClientError, JwpClient
from tests.support.servers import ServerProcess
from tests.support.tls import make_certificates


async def test_https_to_plaintext_server_explained(tui_server: ServerProcess) -> None:
    client = JwpClient(parse_address(f"https://{tui_server.address}"))
    try:
        with pytest.raises(ClientError) as caught:
            await client.check_health()
    finally:
        await client.close()

    assert "the server does not use TLS" in str(caught.value)


async def test_tls_server_trusted_through_ca_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificates = make_certificates(tmp_path)
    server = ServerProcess(
        tmp_path,
        {
            "JWP_TLS_CERT_FILE": str(certificates.server_cert),
            "JWP_TLS_KEY_FILE": str(certificates.server_key),
        },
    )
    server.start()
    try:
        monkeypatch.setenv("JWP_TLS_CA_FILE", str(certificates.ca))
        client = JwpClient(parse_address(f"https://{server.address}"))
        try:
            health = await client.check_health()
        finally:
            await client.close()
    finally:
        server.stop()

    assert health == "SERVING"
