"""docs/errors.md lists every gRPC status the error mapping can return."""

from __future__ import annotations

from pathlib import Path

import pytest

from jwp.server.grpc.status import GRPC_STATUS_OF_ERROR

ERRORS_DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


@pytest.mark.parametrize("code", sorted({code.name for code in GRPC_STATUS_OF_ERROR.values()}))
def test_errors_doc_lists_status(code: str) -> None:
    assert f"| `{code}` |" in ERRORS_DOC.read_text(), f"docs/errors.md has no row for {code}"


def test_errors_doc_lists_auth_header() -> None:
    assert "jobworkerp-auth" in ERRORS_DOC.read_text()
