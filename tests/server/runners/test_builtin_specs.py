"""The built-in runners as RunnerService lists them: fixed ids, names, schemas and output types."""

from __future__ import annotations

import pytest

from jwp import schema
from jwp.proto.jobworkerp.data import runner_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from tests.conftest import Stubs

EXPECTED = {
    1: ("COMMAND", "CommandArgs", "CommandResult", runner_pb2.BOTH),
    2: ("HTTP_REQUEST", "HttpRequestArgs", "HttpResponseResult", runner_pb2.NON_STREAMING),
    3: ("GRPC_UNARY", "GrpcUnaryArgs", "GrpcUnaryResult", runner_pb2.NON_STREAMING),
    4: ("DOCKER", "DockerArgs", None, runner_pb2.NON_STREAMING),
    5: (
        "SLACK_POST_MESSAGE",
        "SlackChatPostMessageArgs",
        "SlackChatPostMessageResult",
        runner_pb2.NON_STREAMING,
    ),
    6: ("PYTHON_COMMAND", "PythonCommandArgs", "PythonCommandResult", runner_pb2.NON_STREAMING),
    65533: ("LLM_CHAT", "LLMChatArgs", "LLMChatResult", runner_pb2.BOTH),
    65534: ("LLM_COMPLETION", "LLMCompletionArgs", "LLMCompletionResult", runner_pb2.BOTH),
}


@pytest.mark.parametrize("runner_id", sorted(EXPECTED))
async def test_builtin_runner_listed(stubs: Stubs, runner_id: int) -> None:
    name, args_message, result_message, output_type = EXPECTED[runner_id]

    found = await stubs.runners.Find(runner_pb2.RunnerId(value=runner_id))

    data = found.data.data
    assert data.name == name
    assert data.runner_type == runner_id
    assert data.definition == f"builtin{runner_id}"
    assert data.output_type == output_type
    assert data.description
    args_type = schema.compile_first_message(data.job_args_proto)
    assert args_type is not None
    assert args_type.DESCRIPTOR.name == args_message
    if result_message is None:
        assert data.HasField("result_output_proto")
        assert data.result_output_proto == ""
    else:
        result_type = schema.compile_first_message(data.result_output_proto)
        assert result_type is not None
        assert result_type.DESCRIPTOR.name == result_message


async def test_runner_list_has_every_builtin(stubs: Stubs) -> None:
    listed = [
        runner.id.value
        async for runner in stubs.runners.FindList(service_common_pb2.FindListRequest())
    ]

    assert set(EXPECTED) <= set(listed)
