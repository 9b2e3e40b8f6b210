"""Token authentication: with AUTH_TOKEN set, every RPC needs header `jobworkerp-auth`.

The health service is exempt, so load balancers and orchestrators can probe
a server without the token. It reveals only whether the server is serving.
Reflection is not exempt, because it lists the whole API.

The token is compared in constant time, and neither the expected token nor
the one a caller sent ever appears in a message or a log line.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc

logger = logging.getLogger(__name__)

AUTH_HEADER = "jobworkerp-auth"
"""Request header that carries the token (lower case, as gRPC metadata keys are)."""

EXEMPT_METHOD_PREFIXES = ("/grpc.health.v1.Health/",)
"""Methods that need no token: the standard health service."""

# Rejected calls are logged at most once per this many seconds, with the
# number of rejections since the last line, so a client looping with a wrong
# token cannot flood the log.
REJECTION_LOG_INTERVAL_S = 60.0

Context = grpc.aio.ServicerContext[Any, Any]
Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[Any]]


def check_token(metadata: Iterable[tuple[str, str | bytes]] | None, token: str) -> str | None:
    """Return why `metadata` fails authentication against `token`, or None when it passes."""
    sent = None
    for key, value in metadata or ():
        if key.lower() == AUTH_HEADER:
            sent = value
            break
    if sent is None:
        return (
            f"missing header {AUTH_HEADER}; send the server's AUTH_TOKEN in it "
            "(the jwp CLI sends JWP_AUTH_TOKEN)"
        )
    sent_bytes = sent if isinstance(sent, bytes) else sent.encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(sent_bytes, token.encode("utf-8")):
        return (
            f"invalid token in header {AUTH_HEADER}; send the token the server's AUTH_TOKEN "
            "is set to"
        )
    return None


def is_exempt(method: str) -> bool:
    """Return whether `method` (a full path such as /pkg.Service/Method) needs no token."""
    return method.startswith(EXEMPT_METHOD_PREFIXES)


class RejectionLog:
    """Logs rejected calls at WARNING, at most once per REJECTION_LOG_INTERVAL_S."""

    def __init__(self) -> None:
        self._suppressed = 0
        self._last_logged = -REJECTION_LOG_INTERVAL_S

    def record(self, method: str, reason: str) -> None:
        now = time.monotonic()
        if now - self._last_logged < REJECTION_LOG_INTERVAL_S:
            self._suppressed += 1
            return
        # Only the reason's first clause: it never contains a token, and the
        # log needs no more than which check failed.
        logger.warning(
            "rejected %s: %s (%d more rejected call(s) since the last such line)",
            method,
            reason.split(";", 1)[0],
            self._suppressed,
        )
        self._suppressed = 0
        self._last_logged = now


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Reject calls without the right `jobworkerp-auth` header with UNAUTHENTICATED."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the auth token must not be empty")
        self._token = token
        self._rejections = RejectionLog()

    async def intercept_service(
        self,
        continuation: Continuation,
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or is_exempt(method):
            return handler
        reason = check_token(handler_call_details.invocation_metadata, self._token)
        if reason is None:
            return handler
        self._rejections.record(method, reason)
        return _rejecting_handler(handler, reason)


def _rejecting_handler(handler: Any, reason: str) -> Any:
    """Return a handler of the same kind as `handler` that aborts with UNAUTHENTICATED.

    The request is not decoded, so an unauthenticated caller learns nothing
    from how the server parses its bytes.
    """

    async def reject_unary(request: object, context: Context) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, reason)

    async def reject_stream(request: object, context: Context) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, reason)
        yield  # pragma: no cover - makes this an async generator; abort raises

    replaced: dict[str, Any] = {"request_deserializer": None}
    for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
        if getattr(handler, kind) is not None:
            replaced[kind] = reject_stream if kind.endswith("stream") else reject_unary
    return handler._replace(**replaced)
