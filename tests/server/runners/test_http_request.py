"""Tests of the HTTP_REQUEST runner against real HTTP servers on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest

from jwp.errors import RetryableRunnerError, RunnerArgumentError
from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner.http_request_args_pb2 import HttpRequestArgs
from jwp.proto.jobworkerp.runner.http_request_result_pb2 import HttpResponseResult
from jwp.proto.jobworkerp.runner.http_request_runner_pb2 import HttpRequestRunnerSettings
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.server.runners.http_request import HttpRequestRunner, resolve_url
from tests.conftest import Stubs
from tests.support.http_server import HttpServer, Request, Response, serve_http
from tests.support.jobs import output_text, run_job

HTTP_REQUEST = common_pb2.RunnerType.HTTP_REQUEST


async def echo(request: Request) -> Response:
    """Answer with what the request carried, as JSON."""
    return Response.json(
        {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "body": request.body.decode(),
            "headers": request.headers,
        }
    )


@pytest.fixture
async def echo_server() -> AsyncIterator[HttpServer]:
    async with serve_http(echo) as server:
        yield server


def settings(base_url: str) -> bytes:
    return HttpRequestRunnerSettings(base_url=base_url).SerializeToString()


def args(method: str = "GET", path: str = "", **fields: object) -> bytes:
    message = HttpRequestArgs(method=method, path=path)
    for key, value in fields.pop("queries", {}).items():  # type: ignore[attr-defined]
        message.queries.add(key=key, value=value)
    for key, value in fields.pop("headers", []):  # type: ignore[attr-defined]
        message.headers.add(key=key, value=value)
    if "body" in fields:
        message.body = str(fields["body"])
    return message.SerializeToString()


async def make_runner(base_url: str, **limits: float) -> HttpRequestRunner:
    values = {
        "connect_timeout_s": 5.0,
        "read_timeout_s": 5.0,
        "total_timeout_s": 10.0,
        "response_limit_bytes": 1024 * 1024,
    }
    values.update(limits)
    runner = HttpRequestRunner(**values)  # type: ignore[arg-type]
    await runner.load(settings(base_url))
    return runner


async def request(runner: HttpRequestRunner, request_args: bytes) -> HttpResponseResult:
    try:
        return HttpResponseResult.FromString(await runner.run(request_args, {}))
    finally:
        await runner.close()


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        ("http://h/search", "/search", "http://h/search"),
        ("http://h/a/b", "c", "http://h/a/c"),
        ("http://h/a/b/", "c", "http://h/a/b/c"),
        ("http://h/a/b", "/c", "http://h/c"),
        ("http://h/a/b", "", "http://h/a/b"),
        ("http://h/a/b", "?q=1", "http://h/a/b?q=1"),
        ("http://h/a/b/c", "../d", "http://h/a/d"),
        ("http://h/a", "http://other:8080/x", "http://other:8080/x"),
        ("http://h/a", "//other/x", "http://other/x"),
    ],
)
def test_resolve_url_rfc3986(base: str, path: str, expected: str) -> None:
    assert str(resolve_url(httpx.URL(base), path)) == expected


async def test_get_with_queries(echo_server: HttpServer) -> None:
    runner = await make_runner(f"{echo_server.url}/search")

    result = await request(runner, args("GET", "/search", queries={"q": "test", "n": "a b"}))

    assert result.status_code == 200
    body = httpx.Response(200, content=result.content).json()
    assert body["method"] == "GET"
    assert body["path"] == "/search"
    assert body["query"] == [["q", "test"], ["n", "a b"]]
    assert ("content-type", "application/json") in [(h.key, h.value) for h in result.headers]


async def test_queries_merge_with_path_query(echo_server: HttpServer) -> None:
    runner = await make_runner(echo_server.url)

    result = await request(runner, args("get", "/x?a=1", queries={"b": "2"}))

    assert httpx.Response(200, content=result.content).json()["query"] == [["a", "1"], ["b", "2"]]


async def test_post_body_and_headers(echo_server: HttpServer) -> None:
    runner = await make_runner(echo_server.url + "/api/")

    result = await request(
        runner,
        args("POST", "items", body='{"a": 1}', headers=[("X-Tag", "one"), ("X-Tag", "two")]),
    )

    body = httpx.Response(200, content=result.content).json()
    assert body["method"] == "POST"
    assert body["path"] == "/api/items"
    assert body["body"] == '{"a": 1}'
    assert ["x-tag", "one"] in body["headers"]
    assert ["x-tag", "two"] in body["headers"]


async def test_error_status_is_a_result() -> None:
    async def fail(request: Request) -> Response:
        return Response(500, [("content-type", "text/plain")], b"broken")

    async with serve_http(fail) as server:
        runner = await make_runner(server.url)
        result = await request(runner, args("GET", "/"))

    assert result.status_code == 500
    assert result.content == "broken"


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/plain; charset=iso-8859-1", "caf\u00e9".encode("latin-1"), "caf\u00e9"),
        ("text/plain; charset=shift_jis", "\u65e5\u672c".encode("shift_jis"), "\u65e5\u672c"),
        ("text/plain", "caf\u00e9".encode(), "caf\u00e9"),
        ("text/plain; charset=no-such-charset", b"ok\xff", "ok\ufffd"),
        ("application/octet-stream", b"\x89PNG\xff", "\ufffdPNG\ufffd"),
    ],
)
async def test_body_decoded_by_charset(content_type: str, body: bytes, expected: str) -> None:
    async def answer(request: Request) -> Response:
        return Response(200, [("content-type", content_type)], body)

    async with serve_http(answer) as server:
        runner = await make_runner(server.url)
        result = await request(runner, args("GET", "/"))

    assert result.content == expected


async def test_redirect_to_other_origin_drops_credentials(echo_server: HttpServer) -> None:
    async def redirect(request: Request) -> Response:
        target = echo_server.url if request.path == "/away" else ""
        return Response(302, [("location", f"{target}/landed")])

    credentials = [
        ("Authorization", "Bearer secret"),
        ("Cookie", "session=secret"),
        ("Proxy-Authorization", "Basic secret"),
        ("X-Other", "kept"),
    ]
    async with serve_http(redirect) as first:
        runner = await make_runner(first.url)
        result = await request(runner, args("GET", "/away", headers=credentials))

    assert result.status_code == 200
    landed = echo_server.requests[-1]
    assert landed.path == "/landed"
    assert landed.header("authorization") is None
    assert landed.header("cookie") is None
    assert landed.header("proxy-authorization") is None
    assert landed.header("x-other") == "kept"
    assert first.requests[0].header("authorization") == "Bearer secret"


async def test_redirect_same_origin_keeps_authorization() -> None:
    async def redirect(request: Request) -> Response:
        if request.path == "/start":
            return Response(302, [("location", "/end")])
        return Response(200, body=(request.header("authorization") or "").encode())

    async with serve_http(redirect) as server:
        runner = await make_runner(server.url)
        result = await request(runner, args("GET", "/start", headers=[("Authorization", "t")]))

    assert result.content == "t"


async def test_redirect_loop_rejected() -> None:
    async def loop(request: Request) -> Response:
        return Response(302, [("location", "/again")])

    async with serve_http(loop) as server:
        runner = await make_runner(server.url)
        with pytest.raises(RunnerArgumentError, match="redirected more than 10 times"):
            await request(runner, args("GET", "/"))


async def test_read_timeout_is_retryable() -> None:
    async def hang(request: Request) -> Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async with serve_http(hang) as server:
        runner = await make_runner(server.url, read_timeout_s=0.2)
        with pytest.raises(RetryableRunnerError, match="timed out"):
            await request(runner, args("GET", "/"))


async def test_total_timeout_is_retryable() -> None:
    async def trickle(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            while True:
                yield b"x"
                await asyncio.sleep(0.05)

        return Response(200, body=chunks())

    async with serve_http(trickle) as server:
        runner = await make_runner(server.url, read_timeout_s=1.0, total_timeout_s=0.3)
        with pytest.raises(RetryableRunnerError, match=r"timed out after 0\.3 s in total"):
            await request(runner, args("GET", "/"))


async def test_connection_refused_is_retryable() -> None:
    async with serve_http(echo) as server:
        url = server.url
    runner = await make_runner(url)

    with pytest.raises(RetryableRunnerError, match="ConnectError"):
        await request(runner, args("GET", "/"))


async def test_response_over_limit_rejected() -> None:
    async def big(request: Request) -> Response:
        return Response(200, body=b"x" * 5000)

    async with serve_http(big) as server:
        runner = await make_runner(server.url, response_limit_bytes=1024)
        with pytest.raises(RunnerArgumentError, match="larger than 1024 bytes"):
            await request(runner, args("GET", "/"))


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("", "base_url is empty"),
        ("   ", "base_url is empty"),
        ("ftp://host/x", "not an absolute http or https URL"),
        ("/relative/path", "not an absolute http or https URL"),
        ("http://[::1", "not a valid URL"),
    ],
)
async def test_bad_base_url_rejected_at_load(base_url: str, message: str) -> None:
    runner = HttpRequestRunner(
        connect_timeout_s=1, read_timeout_s=1, total_timeout_s=1, response_limit_bytes=1024
    )
    with pytest.raises(RunnerArgumentError, match=message):
        await runner.load(settings(base_url))


async def test_undecodable_settings_rejected() -> None:
    runner = HttpRequestRunner(
        connect_timeout_s=1, read_timeout_s=1, total_timeout_s=1, response_limit_bytes=1024
    )
    with pytest.raises(RunnerArgumentError, match="runner_settings for runner HTTP_REQUEST"):
        await runner.load(b"\x0a\x05ab")


@pytest.mark.parametrize(
    ("request_args", "message"),
    [
        (args("FETCH", "/"), "method 'FETCH' is not an HTTP method"),
        (args("", "/"), "method '' is not an HTTP method"),
        (args("GET", "http://[::1"), "does not form a valid URL"),
        (args("GET", "/", headers=[("Bad Header", "x")]), "Illegal header name"),
        (args("GET", "/", headers=[("X-Price", "\u20ac")]), "cannot build the request"),
        (b"\x12\x05ab", "job args for runner HTTP_REQUEST"),
    ],
)
async def test_bad_args_rejected(
    echo_server: HttpServer, request_args: bytes, message: str
) -> None:
    runner = await make_runner(echo_server.url)

    with pytest.raises(RunnerArgumentError, match=message):
        await request(runner, request_args)


async def test_static_instance_does_not_keep_cookies() -> None:
    async def cookies(request: Request) -> Response:
        return Response(
            200, [("set-cookie", "id=1; Path=/")], (request.header("cookie") or "").encode()
        )

    async with serve_http(cookies) as server:
        runner = await make_runner(server.url)
        try:
            first = HttpResponseResult.FromString(await runner.run(args("GET", "/"), {}))
            second = HttpResponseResult.FromString(await runner.run(args("GET", "/"), {}))
        finally:
            await runner.close()

    assert first.content == ""
    assert second.content == ""


# End to end through a server


async def test_job_readme_example(stubs: Stubs, echo_server: HttpServer) -> None:
    result = await run_job(
        stubs,
        HTTP_REQUEST,
        settings(f"{echo_server.url}/search"),
        args("GET", "/search", queries={"q": "test"}),
    )

    assert result.status == common_pb2.SUCCESS
    response = HttpResponseResult.FromString(result.output.items)
    assert response.status_code == 200
    assert httpx.Response(200, content=response.content).json()["query"] == [["q", "test"]]


async def test_job_timeout_ends_in_max_retry(stubs: Stubs) -> None:
    async def hang(request: Request) -> Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async with serve_http(hang) as server:
        result = await run_job(
            stubs, HTTP_REQUEST, settings(server.url), args("GET", "/"), timeout_ms=300
        )

    assert result.status == common_pb2.MAX_RETRY
    assert "timed out after 300 ms" in output_text(result)


async def test_job_bad_settings_fail_the_job(stubs: Stubs) -> None:
    result = await run_job(stubs, HTTP_REQUEST, settings(""), args("GET", "/"))

    assert result.status == common_pb2.OTHER_ERROR
    assert "base_url is empty" in output_text(result)


def http_worker(name: str, runner_settings: bytes) -> worker_pb2.WorkerData:
    return worker_pb2.WorkerData(
        name=name,
        runner_id=runner_pb2.RunnerId(value=HTTP_REQUEST),
        runner_settings=runner_settings,
        response_type=common_pb2.DIRECT,
    )


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("not a url", "runner_settings.base_url 'not a url' is not an absolute http or https URL"),
        ("ftp://host/x", "runner_settings.base_url 'ftp://host/x' is not an absolute http"),
        ("http://[::1", "runner_settings.base_url 'http://[::1' is not a valid URL"),
    ],
)
async def test_worker_create_rejects_bad_base_url(
    stubs: Stubs, base_url: str, message: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.workers.Create(http_worker("H", settings(base_url)))

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (raised.value.details() or "")
    count = await stubs.workers.Count(service_common_pb2.CountCondition())
    assert count.total == 0


async def test_worker_update_rejects_bad_base_url(stubs: Stubs) -> None:
    created = await stubs.workers.Create(http_worker("H", settings("http://127.0.0.1:9/")))

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.workers.Update(
            worker_pb2.Worker(id=created.id, data=http_worker("H", settings("not a url")))
        )

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "runner_settings.base_url 'not a url'" in (raised.value.details() or "")
    stored = await stubs.workers.Find(created.id)
    assert HttpRequestRunnerSettings.FromString(stored.data.data.runner_settings).base_url == (
        "http://127.0.0.1:9/"
    )


async def test_worker_create_accepts_empty_settings(stubs: Stubs) -> None:
    created = await stubs.workers.Create(http_worker("H", b""))

    stored = await stubs.workers.Find(created.id)
    assert stored.data.data.name == "H"
    assert stored.data.data.runner_settings == b""
