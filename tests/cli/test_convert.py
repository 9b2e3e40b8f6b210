"""JSON to bytes and back with the schemas that runners publish."""

from __future__ import annotations

import pytest

from jwp.cli.convert import (
    decode_payload,
    encode_args,
    encode_settings,
    output_of,
    parse_worker_ref,
)
from jwp.cli.errors import InputError, ServerError
from jwp.proto.jobworkerp.data import common_pb2, job_result_pb2, runner_pb2
from jwp.proto.jobworkerp.runner import http_request_args_pb2, http_request_runner_pb2
from jwp.server.runners.protos import runner_proto


def _http_runner() -> runner_pb2.Runner:
    """The HTTP_REQUEST runner as RunnerService describes it, with a settings schema."""
    return runner_pb2.Runner(
        id=runner_pb2.RunnerId(value=2),
        data=runner_pb2.RunnerData(
            name="HTTP_REQUEST",
            runner_settings_proto=runner_proto("http_request_runner.proto"),
            job_args_proto=runner_proto("http_request_args.proto"),
            result_output_proto=runner_proto("http_request_result.proto"),
        ),
    )


def _raw_runner() -> runner_pb2.Runner:
    return runner_pb2.Runner(
        id=runner_pb2.RunnerId(value=9), data=runner_pb2.RunnerData(name="RAW")
    )


def test_settings_converted_with_schema() -> None:
    encoded = encode_settings(_http_runner(), '{"base_url":"https://www.example.com/search"}')

    settings = http_request_runner_pb2.HttpRequestRunnerSettings.FromString(encoded)
    assert settings.base_url == "https://www.example.com/search"


def test_args_converted_with_nested_list() -> None:
    encoded = encode_args(
        _http_runner(),
        '{"headers":[],"method":"GET","path":"/search","queries":[{"key":"q","value":"test"}]}',
    )

    args = http_request_args_pb2.HttpRequestArgs.FromString(encoded)
    assert args.method == "GET"
    assert args.queries[0].value == "test"


def test_settings_unknown_field_named() -> None:
    with pytest.raises(InputError) as raised:
        encode_settings(_http_runner(), '{"baseurl":"x"}')

    message = str(raised.value)
    assert '"baseurl"' in message
    assert "--settings" in message
    assert "the fields are: base_url" in message
    assert "jwp runner find --id 2" in message


def test_nested_unknown_field_named() -> None:
    with pytest.raises(InputError, match=r"queries\[0\]\.kee|kee"):
        encode_args(_http_runner(), '{"queries":[{"kee":"q"}]}')


def test_empty_settings_with_schema_is_default_message() -> None:
    assert encode_settings(_http_runner(), "") == b""


def test_raw_runner_sends_text_unchanged() -> None:
    assert encode_settings(_raw_runner(), "") == b""
    assert encode_args(_raw_runner(), "not JSON at all") == b"not JSON at all"


def test_schema_that_does_not_compile_is_server_error() -> None:
    runner = runner_pb2.Runner(
        id=runner_pb2.RunnerId(value=5),
        data=runner_pb2.RunnerData(name="BROKEN", job_args_proto="message {"),
    )

    with pytest.raises(ServerError, match="BROKEN"):
        encode_args(runner, "{}")


def test_decode_payload_fallbacks() -> None:
    assert decode_payload("", b"plain \xff text") == "plain \ufffd text"
    assert decode_payload(None, b"\x01\x02") == {"base64": "AQI="}
    undecodable = decode_payload(runner_proto("http_request_result.proto"), b"\xff\xff")
    assert undecodable["base64"] == "//8="
    assert "cannot decode" in undecodable["error"]


def test_output_of_failed_result_is_text() -> None:
    result = job_result_pb2.JobResult(
        data=job_result_pb2.JobResultData(
            status=common_pb2.FATAL_ERROR,
            output=common_pb2.ResultOutput(items=b"runner failed"),
        )
    )

    assert output_of(result, _http_runner()) == "runner failed"


def test_output_of_streamed_result_is_none() -> None:
    result = job_result_pb2.JobResult(data=job_result_pb2.JobResultData())

    assert output_of(result, _http_runner()) is None


@pytest.mark.parametrize(
    ("text", "ref"),
    [("12", 12), ("Echo", "Echo"), (" 7 ", 7), ("a1", "a1"), ("²", "²"), ("１", "１")],
)
def test_parse_worker_ref(text: str, ref: int | str) -> None:
    assert parse_worker_ref(text) == ref


def test_parse_worker_ref_empty() -> None:
    with pytest.raises(InputError, match="--worker"):
        parse_worker_ref(" ")


def test_parse_worker_ref_beyond_int64() -> None:
    with pytest.raises(InputError, match="--next-workers 9223372036854775808: worker ids"):
        parse_worker_ref(str(2**63), "--next-workers")
