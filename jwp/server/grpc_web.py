"""gRPC-Web (USE_GRPC_WEB=true) on its own port, JWP_GRPC_WEB_ADDR (needs the `web` extra).

sonora's ASGI application serves the same servicer objects as the gRPC
server, and hypercorn serves it over HTTP/1.1 and HTTP/2, with TLS when
JWP_TLS_CERT_FILE is set. jobworkerp-rs serves gRPC-Web on its gRPC port;
jwp uses a second port because grpcio cannot share one with an HTTP server.

In front of sonora, `GrpcWebGate` applies what the gRPC server's
interceptors apply there: the AUTH_TOKEN check (the health service is
exempt), the JWP_MAX_MESSAGE_BYTES limit on the request body, and
INVALID_ARGUMENT for request bytes that do not decode. CORS is off: browsers
must load the page from the same origin, or go through a proxy that adds
the CORS headers the deployment needs.

`_JwpGrpcASGI` fixes these behaviours of sonora 0.2.3:

- unary trailers were written as Python bytes reprs; they are text now;
- the content type echoed the Accept header (*/* for most clients);
- a server stream with no messages ended in an HTTP 500;
- a stream kept running after the client disconnected;
- transport headers such as `host` reached the job metadata.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

import grpc

from jwp.config import Settings
from jwp.server.addresses import split_listen_address

from .grpc.auth import RejectionLog, check_token, is_exempt
from .grpc.decoding import checked_handler

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# HTTP headers of the transport, not gRPC metadata of the call.
TRANSPORT_HEADERS = frozenset(
    {
        "host",
        "content-type",
        "content-length",
        "accept",
        "accept-encoding",
        "connection",
        "origin",
        "referer",
        "te",
        "transfer-encoding",
        "x-grpc-web",
        "x-user-agent",
    }
)

# How long stopping waits for open gRPC-Web calls, in s.
STOP_GRACE_S = 2.0

# Length of the gRPC-Web frame header: one flag byte and a 4-byte length.
FRAME_HEADER_BYTES = 5


def _import_web() -> dict[str, Any]:
    try:
        from hypercorn.asyncio.run import worker_serve
        from hypercorn.config import Config
        from hypercorn.utils import wrap_app
        from sonora import protocol
        from sonora.asgi import grpcASGI
    except ImportError:
        raise ImportError(
            "USE_GRPC_WEB=true needs the sonora and hypercorn packages; install the `web` "
            "extra: pip install 'jwp[web]'"
        ) from None
    return {
        "worker_serve": worker_serve,
        "Config": Config,
        "wrap_app": wrap_app,
        "protocol": protocol,
        "grpcASGI": grpcASGI,
    }


def _asgi_class() -> type:
    grpc_asgi = _import_web()["grpcASGI"]

    class _JwpGrpcASGI(grpc_asgi):  # type: ignore[misc, valid-type]
        def add_registered_method_handlers(self, service_name: str, handlers: Any) -> None:
            # The generic handlers added with these already route every method.
            pass

        def _get_rpc_handler(self, path: str) -> Any:
            handler = super()._get_rpc_handler(path)
            return checked_handler(handler) if handler is not None else None

        def _create_context(self, scope: Scope) -> Any:
            context = super()._create_context(scope)
            context._invocation_metadata = [
                (key, value)
                for key, value in context._invocation_metadata
                if key not in TRANSPORT_HEADERS
            ]
            # sonora echoes the Accept header as the content type, which is
            # */* for many HTTP clients.
            content_type = context._response_headers[0][1]
            if not content_type.startswith(b"application/grpc-web"):
                context._response_headers[0] = (b"Content-Type", b"application/grpc-web+proto")
            return context

        async def _do_unary_response(
            self,
            rpc_method: Any,
            receive: Receive,
            send: Send,
            wrap_message: Any,
            context: Any,
            coroutine: Any,
        ) -> None:
            await _unary_response(rpc_method, send, wrap_message, context, coroutine)

        async def _do_streaming_response(
            self,
            rpc_method: Any,
            receive: Receive,
            send: Send,
            wrap_message: Any,
            context: Any,
            coroutine: Any,
        ) -> None:
            await _stream_response(rpc_method, receive, send, wrap_message, context, coroutine)

    return _JwpGrpcASGI


async def _unary_response(
    rpc_method: Any, send: Send, wrap_message: Any, context: Any, coroutine: Any
) -> None:
    """Send a unary response: headers, the message, then the trailers frame."""
    message = await coroutine if coroutine is not None else None
    body = b""
    if message is not None:
        body = wrap_message(False, False, rpc_method.response_serializer(message))
    body += _trailers_frame(wrap_message, context)
    headers = list(context._response_headers)
    if context._initial_metadata:
        headers.extend(context._initial_metadata)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _trailers_frame(wrap_message: Any, context: Any) -> bytes:
    trailers = [("grpc-status", str(context.code.value[0]))]
    if context.details:
        trailers.append(("grpc-message", quote(context.details)))
    if context._trailing_metadata:
        trailers.extend(context._trailing_metadata)
    protocol = _import_web()["protocol"]
    return bytes(wrap_message(True, False, protocol.pack_trailers(trailers)))


async def _stream_response(
    rpc_method: Any, receive: Receive, send: Send, wrap_message: Any, context: Any, stream: Any
) -> None:
    """Send a server stream: headers before the first message, then messages, then trailers.

    An abort before the first message is re-raised, so sonora sends it as a
    trailers-only response. A client disconnect stops the stream.
    """
    sender = _StreamSender(rpc_method, send, wrap_message, context)
    pumping = asyncio.ensure_future(sender.pump(stream))
    disconnected = asyncio.ensure_future(_wait_disconnect(receive))
    try:
        await asyncio.wait({pumping, disconnected}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        disconnected.cancel()
    if not pumping.done():
        pumping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pumping
        return
    try:
        pumping.result()
    except grpc.RpcError:
        if not sender.started:
            raise
    await sender.finish()


class _StreamSender:
    def __init__(self, rpc_method: Any, send: Send, wrap_message: Any, context: Any) -> None:
        self._rpc_method = rpc_method
        self._send = send
        self._wrap_message = wrap_message
        self._context = context
        self.started = False

    async def start(self) -> None:
        headers = list(self._context._response_headers)
        if self._context._initial_metadata:
            headers.extend(self._context._initial_metadata)
        await self._send({"type": "http.response.start", "status": 200, "headers": headers})
        self.started = True

    async def pump(self, stream: Any) -> None:
        if stream is None:
            return
        async for message in stream:
            if not self.started:
                await self.start()
            data = self._wrap_message(False, False, self._rpc_method.response_serializer(message))
            await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def finish(self) -> None:
        if not self.started:
            await self.start()
        data = _trailers_frame(self._wrap_message, self._context)
        await self._send({"type": "http.response.body", "body": data, "more_body": False})


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class GrpcWebGate:
    """ASGI middleware that checks the token and the request size before sonora runs."""

    def __init__(self, app: AsgiApp, *, token: str | None, max_message_bytes: int) -> None:
        self._app = app
        self._token = token
        self._max_body_bytes = max_message_bytes + FRAME_HEADER_BYTES
        self._rejections = RejectionLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await _complete_lifespan(receive, send)
            return
        try:
            headers = [
                (key.decode("ascii").lower(), value.decode("ascii"))
                for key, value in scope["headers"]
            ]
        except UnicodeDecodeError:
            message = "request headers must be ASCII"
            await _send_status(send, grpc.StatusCode.INVALID_ARGUMENT, message)
            return
        path = scope.get("path", "")
        if self._token is not None and scope.get("method") == "POST" and not is_exempt(path):
            reason = check_token(headers, self._token)
            if reason is not None:
                self._rejections.record(path, reason)
                await _send_status(send, grpc.StatusCode.UNAUTHENTICATED, reason)
                return
        body = await self._read_body(receive, send)
        if body is None:
            return
        await self._app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive, send: Send) -> bytes | None:
        body = bytearray()
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                return None
            body += event.get("body", b"")
            if len(body) > self._max_body_bytes:
                await _send_status(
                    send,
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"request body is over {self._max_body_bytes} bytes, the limit set by "
                    "JWP_MAX_MESSAGE_BYTES; send a smaller request",
                )
                return None
            if not event.get("more_body"):
                return bytes(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Return a receive callable that yields the buffered body once, then the real events."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_status(send: Send, code: grpc.StatusCode, message: str) -> None:
    """Send a trailers-only gRPC-Web response carrying `code` and `message`."""
    headers = [
        (b"content-type", b"application/grpc-web+proto"),
        (b"grpc-status", str(code.value[0]).encode()),
        (b"grpc-message", quote(message).encode("ascii")),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _complete_lifespan(receive: Receive, send: Send) -> None:
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class GrpcWebServer:
    """Serves the gRPC services as gRPC-Web until `close`."""

    def __init__(self, settings: Settings, register: Callable[[Any], None]) -> None:
        """Build the ASGI app; `register(target)` adds the servicers to a grpc.Server-like one."""
        web = _import_web()
        self._worker_serve = web["worker_serve"]
        self._settings = settings
        asgi = _asgi_class()(enable_cors=False)
        register(asgi)
        token = settings.auth_token.get_secret_value() if settings.auth_token else None
        self.app = GrpcWebGate(asgi, token=token, max_message_bytes=settings.jwp_max_message_bytes)
        self._config = self._hypercorn_config(web["Config"])
        self._wrapped = web["wrap_app"](self.app, self._config.wsgi_max_body_size, "asgi")
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.port: int | None = None

    def _hypercorn_config(self, config_class: Any) -> Any:
        settings = self._settings
        # Checked here too, since Settings can be built without validation.
        split_listen_address(settings.jwp_grpc_web_addr, "JWP_GRPC_WEB_ADDR")
        config = config_class()
        config.bind = [settings.jwp_grpc_web_addr.strip()]
        config.accesslog = None
        config.errorlog = logger
        config.graceful_timeout = STOP_GRACE_S
        if settings.jwp_tls_cert_file is not None:
            config.certfile = str(settings.jwp_tls_cert_file)
            config.keyfile = str(settings.jwp_tls_key_file)
            if settings.jwp_tls_client_ca_file is not None:
                config.ca_certs = str(settings.jwp_tls_client_ca_file)
                config.verify_mode = ssl.CERT_REQUIRED
        return config

    async def start(self) -> None:
        """Bind the port and start serving in a task."""
        sockets = self._config.create_sockets()
        bound = sockets.secure_sockets or sockets.insecure_sockets
        self.port = bound[0].getsockname()[1]
        # Listening now queues connections made before hypercorn's accept
        # loop runs, so the server is reachable as soon as start returns.
        for sock in bound:
            sock.listen(self._config.backlog)
        self._task = asyncio.create_task(
            self._worker_serve(
                self._wrapped, self._config, sockets=sockets, shutdown_trigger=self._stop.wait
            ),
            name="grpc-web",
        )
        scheme = "https" if self._config.ssl_enabled else "http"
        logger.info(
            "gRPC-Web serving on %s://%s (port %d)",
            scheme,
            self._settings.jwp_grpc_web_addr,
            self.port,
        )

    async def close(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        try:
            await self._task
        except Exception:
            logger.exception("the gRPC-Web server failed while stopping")
        self._task = None
