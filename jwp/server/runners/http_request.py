"""The HTTP_REQUEST runner: send one HTTP request and return the response as the result.

The URL is `path` resolved against the worker's `base_url` by RFC 3986
rules, so `/x` replaces the whole base path, `x` replaces its last segment,
and an absolute URL replaces the base entirely. Any HTTP status, 4xx and 5xx
included, is a successful job whose `HttpResponseResult` carries the status
code, headers and body: the caller decides what a status means. Only a
request that got no response fails the job.

Redirects are followed (at most MAX_REDIRECTS). A redirect to another origin
(scheme, host or port) drops the Authorization, Proxy-Authorization and
Cookie headers, so credentials meant for one server never reach another.

The body is decoded with the charset of its Content-Type, UTF-8 when none is
declared or the charset is unknown, and invalid bytes become U+FFFD. Binary
content is decoded the same way, so it is not recoverable from the result:
the result message has only a text field.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import httpx

from jwp.errors import InvalidArgumentError, RetryableRunnerError, RunnerArgumentError
from jwp.proto.jobworkerp.runner.http_request_args_pb2 import HttpRequestArgs
from jwp.proto.jobworkerp.runner.http_request_result_pb2 import HttpResponseResult
from jwp.proto.jobworkerp.runner.http_request_runner_pb2 import HttpRequestRunnerSettings

from .base import Runner
from .parsing import parse_args, parse_settings, require_field

logger = logging.getLogger(__name__)

RUNNER_NAME = "HTTP_REQUEST"

# The methods of RFC 9110 and PATCH (RFC 5789). An extension method is far
# more likely a typo than a server that expects it.
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)

# Browsers and curl stop after 20 to 50 redirects; 10 is reqwest's default,
# which jobworkerp used.
MAX_REDIRECTS = 10

CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")

# Request extension that carries the origin of a job's first request to the
# redirect requests httpx derives from it.
ORIGIN_EXTENSION = "jwp_first_origin"


class HttpRequestRunner(Runner):
    """Sends `HttpRequestArgs` to the worker's `base_url` with httpx.

    Args:
        connect_timeout_s: Limit for opening a connection.
        read_timeout_s: Limit for each read (and write) on the connection.
        total_timeout_s: Limit for the whole request, redirects included.
        response_limit_bytes: A larger response body fails the job.
    """

    def __init__(
        self,
        *,
        connect_timeout_s: float,
        read_timeout_s: float,
        total_timeout_s: float,
        response_limit_bytes: int,
    ) -> None:
        self._timeout = httpx.Timeout(
            connect=connect_timeout_s, read=read_timeout_s, write=read_timeout_s, pool=None
        )
        self._total_timeout_s = total_timeout_s
        self._response_limit_bytes = response_limit_bytes
        self._base_url: httpx.URL | None = None
        self._client: httpx.AsyncClient | None = None

    async def load(self, settings: bytes) -> None:
        """Check `base_url` and open the client.

        Raises:
            RunnerArgumentError: The settings do not decode or `base_url` is not an
                absolute http or https URL.
        """
        message = parse_settings(HttpRequestRunnerSettings, settings, RUNNER_NAME)
        self._base_url = _check_base_url(message.base_url)
        self._client = httpx.AsyncClient(
            timeout=self._timeout,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            event_hooks={"request": [self._drop_credentials_across_origins]},
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        """Send the request and return an encoded `HttpResponseResult`.

        Raises:
            RunnerArgumentError: Invalid args, an invalid URL or header, too many
                redirects, or a response body over the limit.
            RetryableRunnerError: A timeout, or a connection that failed or broke.
        """
        if self._client is None or self._base_url is None:
            raise RuntimeError("HttpRequestRunner.run called before load")
        request_args = parse_args(HttpRequestArgs, args, RUNNER_NAME)
        # Cookies set by one job's responses must not reach the next job of
        # a reused (static) instance.
        self._client.cookies.clear()
        request = self._build_request(self._client, self._base_url, request_args)
        logger.debug("HTTP_REQUEST %s %s", request.method, request.url)
        try:
            async with asyncio.timeout(self._total_timeout_s):
                result = await self._send(self._client, request)
        except TimeoutError:
            raise RetryableRunnerError(
                f"HTTP request {request.method} {request.url} timed out after "
                f"{self._total_timeout_s:g} s in total; raise JWP_HTTP_TOTAL_TIMEOUT_MS "
                "if the server is slow"
            ) from None
        return result.SerializeToString()

    def _build_request(
        self, client: httpx.AsyncClient, base_url: httpx.URL, request_args: HttpRequestArgs
    ) -> httpx.Request:
        method = request_args.method.strip().upper()
        if method not in METHODS:
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: method {request_args.method!r} is not an HTTP method; "
                f"use one of {', '.join(sorted(METHODS))}"
            )
        url = resolve_url(base_url, request_args.path)
        if request_args.queries:
            # Appended after the path's own query; httpx's `params` would replace it.
            queries: list[tuple[str, str | int | float | bool | None]] = list(
                url.params.multi_items()
            )
            queries += [(query.key, query.value) for query in request_args.queries]
            url = url.copy_with(params=httpx.QueryParams(queries))
        try:
            return client.build_request(
                method,
                url,
                headers=[(header.key, header.value) for header in request_args.headers],
                content=request_args.body.encode() if request_args.HasField("body") else None,
                extensions={ORIGIN_EXTENSION: origin_of(url)},
            )
        except (httpx.InvalidURL, httpx.LocalProtocolError, ValueError, TypeError) as error:
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: cannot build the request to {url}: {error}; "
                "check the path, queries and headers"
            ) from None

    async def _send(self, client: httpx.AsyncClient, request: httpx.Request) -> HttpResponseResult:
        target = f"{request.method} {request.url}"
        try:
            response = await client.send(request, stream=True)
            try:
                content = await self._read_limited(response, target)
            finally:
                await response.aclose()
        except httpx.TimeoutException as error:
            raise RetryableRunnerError(
                f"HTTP request {target} timed out ({type(error).__name__}); the server did not "
                "answer in time"
            ) from None
        except httpx.TooManyRedirects:
            raise RunnerArgumentError(
                f"HTTP request {target} was redirected more than {MAX_REDIRECTS} times; "
                "check the URL for a redirect loop"
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError) as error:
            raise RunnerArgumentError(f"HTTP request {target} is invalid: {error}") from None
        except httpx.TransportError as error:
            raise RetryableRunnerError(
                f"HTTP request {target} failed: {type(error).__name__}: {error or 'no detail'}"
            ) from None

        result = HttpResponseResult(status_code=response.status_code, content=content)
        for name, value in response.headers.multi_items():
            result.headers.add(key=name, value=value)
        logger.debug("HTTP_REQUEST %s answered %d", target, response.status_code)
        return result

    async def _read_limited(self, response: httpx.Response, target: str) -> str:
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self._response_limit_bytes:
                raise RunnerArgumentError(
                    f"HTTP response to {target} is larger than {self._response_limit_bytes} "
                    "bytes; raise JWP_HTTP_RESPONSE_LIMIT_BYTES or request less"
                )
        return decode_body(bytes(body), response.charset_encoding)

    async def _drop_credentials_across_origins(self, request: httpx.Request) -> None:
        """Remove credential headers from a request (a redirect) that leaves the first origin.

        httpx passes the first request's extensions on to each redirect
        request. A request without the origin extension loses its
        credentials too, so a change in httpx fails safe.
        """
        first_origin = request.extensions.get(ORIGIN_EXTENSION)
        if first_origin is not None and first_origin == origin_of(request.url):
            return
        for name in CREDENTIAL_HEADERS:
            if name in request.headers:
                logger.debug("HTTP_REQUEST: dropped %s on redirect to %s", name, request.url)
                del request.headers[name]


def origin_of(url: httpx.URL) -> tuple[str, str, int | None]:
    """Return the (scheme, host, port) of a URL, with the scheme's default port filled in."""
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)


def resolve_url(base_url: httpx.URL, path: str) -> httpx.URL:
    """Resolve `path` against `base_url` as RFC 3986 section 5.2 describes."""
    try:
        return base_url.join(path)
    except httpx.InvalidURL as error:
        raise RunnerArgumentError(
            f"{RUNNER_NAME}: path {path!r} does not form a valid URL with base_url "
            f"{str(base_url)!r}: {error}"
        ) from None


def decode_body(body: bytes, charset: str | None) -> str:
    """Decode a body by its declared charset (UTF-8 when absent or unknown), replacing errors."""
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


async def check_http_request_settings(settings: bytes) -> None:
    """Reject HTTP_REQUEST worker settings whose `base_url` is set but not an http(s) URL.

    An empty `base_url` passes, so that workers without settings can still
    be created. Each of their jobs then fails at load with a message asking
    for a `base_url`.

    Raises:
        InvalidArgumentError: `base_url` is not an absolute http or https URL.
    """
    message = HttpRequestRunnerSettings()
    # codec.check_settings decoded these bytes strictly before calling this check.
    message.ParseFromString(settings)
    if message.base_url.strip():
        _check_base_url(message.base_url, "runner_settings.base_url", InvalidArgumentError)


def _check_base_url(
    base_url: str,
    field: str = "base_url",
    error_class: type[InvalidArgumentError] | type[RunnerArgumentError] = RunnerArgumentError,
) -> httpx.URL:
    text = require_field(
        base_url, field, RUNNER_NAME, 'set it to an absolute URL such as "https://host/api/"'
    )
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as error:
        raise error_class(f"{RUNNER_NAME}: {field} {text!r} is not a valid URL: {error}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise error_class(
            f"{RUNNER_NAME}: {field} {text!r} is not an absolute http or https URL; "
            'set it to a URL such as "https://host/api/"'
        )
    return url
