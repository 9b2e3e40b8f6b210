"""Wire-format checks of the jobworkerp protos and their generated modules.

The expected tables below restate the jobworkerp API (server commit 06135404)
independently of the .proto files, plus jwp's additions: WorkerData field 12
`next_workers`, ResultStatus CANCELLED = 6 and WorkerService.FindChannelList.
A change that breaks compatibility with jobworkerp clients fails here.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor

from jwp.schema import compile_first_message

REPO_ROOT = Path(__file__).resolve().parent.parent
RUNNER_PROTO_ROOT = REPO_ROOT / "proto" / "jobworkerp" / "runner"
GENERATED = "jwp.proto.jobworkerp"


def load(module: str) -> ModuleType:
    return importlib.import_module(f"{GENERATED}.{module}")


def describe_fields(message: Descriptor) -> list[str]:
    """Render each field as "<number> [optional |repeated |oneof:<name> ]<type> <name>"."""
    proto = descriptor_pb2.DescriptorProto()
    message.CopyToProto(proto)
    map_entries = {nested.name: nested for nested in proto.nested_type if nested.options.map_entry}

    lines = []
    for field in proto.field:
        type_name = field.type_name.rsplit(".", 1)[-1]
        if type_name in map_entries:
            key, value = map_entries[type_name].field
            lines.append(f"{field.number} map<{scalar(key)},{scalar(value)}> {field.name}")
            continue
        rendered_type = type_name if field.type_name else scalar(field)

        if field.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED:
            modifier = "repeated "
        elif field.proto3_optional:
            modifier = "optional "
        elif field.HasField("oneof_index"):
            modifier = f"oneof:{proto.oneof_decl[field.oneof_index].name} "
        else:
            modifier = ""
        lines.append(f"{field.number} {modifier}{rendered_type} {field.name}")
    return lines


def scalar(field: descriptor_pb2.FieldDescriptorProto) -> str:
    type_name: str = descriptor_pb2.FieldDescriptorProto.Type.Name(field.type)
    return type_name.removeprefix("TYPE_").lower()


def describe_enum(enum: EnumDescriptor) -> dict[str, int]:
    return {value.name: value.number for value in enum.values}


def spec(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines()]


# --- stale stubs -----------------------------------------------------------


def test_generated_modules_match_protos() -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "gen_protos.py"), "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


# --- services --------------------------------------------------------------

# service -> {rpc: (request, response, server streaming)}
SERVICES: dict[str, tuple[str, dict[str, tuple[str, str, bool]]]] = {
    "RunnerService": (
        "service.runner_pb2",
        {
            "Create": ("service.CreateRunnerRequest", "service.CreateRunnerResponse", False),
            "Delete": ("data.RunnerId", "service.SuccessResponse", False),
            "Find": ("data.RunnerId", "service.OptionalRunnerResponse", False),
            "FindByName": ("service.RunnerNameRequest", "service.OptionalRunnerResponse", False),
            "FindList": ("service.FindListRequest", "data.Runner", True),
            "Count": ("service.CountCondition", "service.CountResponse", False),
        },
    ),
    "WorkerService": (
        "service.worker_pb2",
        {
            "Create": ("data.WorkerData", "service.CreateWorkerResponse", False),
            "Update": ("data.Worker", "service.SuccessResponse", False),
            "Delete": ("data.WorkerId", "service.SuccessResponse", False),
            "Find": ("data.WorkerId", "service.OptionalWorkerResponse", False),
            "FindByName": ("service.WorkerNameRequest", "service.OptionalWorkerResponse", False),
            "FindList": ("service.FindWorkerListRequest", "data.Worker", True),
            "Count": ("service.CountCondition", "service.CountResponse", False),
            "FindChannelList": ("data.Empty", "service.FindChannelListResponse", False),
        },
    ),
    "JobService": (
        "service.job_pb2",
        {
            "Enqueue": ("service.JobRequest", "service.CreateJobResponse", False),
            "EnqueueForStream": ("service.JobRequest", "data.ResultOutputItem", True),
            "Delete": ("data.JobId", "service.SuccessResponse", False),
            "Find": ("data.JobId", "service.OptionalJobResponse", False),
            "FindList": ("service.FindListRequest", "data.Job", True),
            "FindQueueList": ("service.FindQueueListRequest", "service.JobAndStatus", True),
            "Count": ("service.CountCondition", "service.CountResponse", False),
        },
    ),
    "JobStatusService": (
        "service.job_pb2",
        {
            "Find": ("data.JobId", "service.OptionalJobStatusResponse", False),
            "FindAll": ("data.Empty", "service.JobStatusResponse", True),
        },
    ),
    "JobRestoreService": (
        "service.job_pb2",
        {
            "Restore": ("service.JobRestoreRequest", "service.SuccessResponse", False),
            "FindAll": ("service.JobRestoreRequest", "data.Job", True),
        },
    ),
    "JobResultService": (
        "service.job_result_pb2",
        {
            "Delete": ("data.JobResultId", "service.SuccessResponse", False),
            "Find": ("data.JobResultId", "service.OptionalJobResultResponse", False),
            "FindList": ("service.FindListRequest", "data.JobResult", True),
            "FindListByJobId": ("service.FindListByJobIdRequest", "data.JobResult", True),
            "Listen": ("service.ListenRequest", "data.JobResult", False),
            "ListenStream": ("service.ListenRequest", "data.ResultOutputItem", True),
            "ListenByWorker": ("service.ListenByWorkerRequest", "data.JobResult", True),
            "Count": ("service.CountCondition", "service.CountResponse", False),
        },
    ),
}


@pytest.mark.parametrize("service_name", sorted(SERVICES))
def test_service_stub_imports(service_name: str) -> None:
    module_name, _ = SERVICES[service_name]
    grpc_module = load(module_name + "_grpc")

    assert hasattr(grpc_module, f"{service_name}Stub")
    assert hasattr(grpc_module, f"{service_name}Servicer")
    assert hasattr(grpc_module, f"add_{service_name}Servicer_to_server")


@pytest.mark.parametrize("service_name", sorted(SERVICES))
def test_service_rpcs(service_name: str) -> None:
    module_name, expected = SERVICES[service_name]
    service = load(module_name).DESCRIPTOR.services_by_name[service_name]
    assert service.full_name == f"jobworkerp.service.{service_name}"

    actual = {
        method.name: (
            method.input_type.full_name.removeprefix("jobworkerp."),
            method.output_type.full_name.removeprefix("jobworkerp."),
            method.server_streaming,
        )
        for method in service.methods
    }
    assert actual == expected
    assert not any(method.client_streaming for method in service.methods)


def test_enqueue_method_path() -> None:
    grpc_module = load("service.job_pb2_grpc")
    assert grpc_module.__file__ is not None
    source = Path(grpc_module.__file__).read_text()

    assert "'/jobworkerp.service.JobService/Enqueue'" in source


# --- messages --------------------------------------------------------------

MESSAGES: dict[str, tuple[str, str, str]] = {
    # name: (module, message path inside the module, fields)
    "Empty": ("data.common_pb2", "Empty", ""),
    "Trailer": ("data.common_pb2", "Trailer", "1 map<string,string> metadata"),
    "RetryPolicy": (
        "data.common_pb2",
        "RetryPolicy",
        """
        1 RetryType type
        2 uint32 interval
        3 uint32 max_interval
        4 uint32 max_retry
        5 float basis
        """,
    ),
    "ResultOutputItem": (
        "data.common_pb2",
        "ResultOutputItem",
        """
        1 oneof:item bytes data
        2 oneof:item Trailer end
        """,
    ),
    "ResultOutput": ("data.common_pb2", "ResultOutput", "1 bytes items"),
    "RunnerId": ("data.runner_pb2", "RunnerId", "1 int64 value"),
    "RunnerData": (
        "data.runner_pb2",
        "RunnerData",
        """
        1 string name
        2 string description
        3 RunnerType runner_type
        4 string runner_settings_proto
        5 string job_args_proto
        6 optional string result_output_proto
        7 StreamingOutputType output_type
        8 string definition
        """,
    ),
    "Runner": ("data.runner_pb2", "Runner", "1 RunnerId id\n2 RunnerData data"),
    "WorkerId": ("data.worker_pb2", "WorkerId", "1 int64 value"),
    "WorkerData": (
        "data.worker_pb2",
        "WorkerData",
        """
        1 string name
        2 string description
        3 RunnerId runner_id
        4 bytes runner_settings
        5 RetryPolicy retry_policy
        6 uint32 periodic_interval
        7 optional string channel
        8 QueueType queue_type
        9 ResponseType response_type
        10 bool store_success
        11 bool store_failure
        12 repeated WorkerId next_workers
        13 bool use_static
        14 bool broadcast_results
        """,
    ),
    "Worker": ("data.worker_pb2", "Worker", "1 WorkerId id\n2 WorkerData data"),
    "JobId": ("data.job_pb2", "JobId", "1 int64 value"),
    "JobData": (
        "data.job_pb2",
        "JobData",
        """
        1 WorkerId worker_id
        2 bytes args
        3 optional string uniq_key
        4 int64 enqueue_time
        5 optional int64 grabbed_until_time
        6 int64 run_after_time
        7 uint32 retried
        8 Priority priority
        9 uint64 timeout
        10 bool request_streaming
        """,
    ),
    "Job": (
        "data.job_pb2",
        "Job",
        "1 JobId id\n2 JobData data\n3 map<string,string> metadata",
    ),
    "JobResultId": ("data.job_result_pb2", "JobResultId", "1 int64 value"),
    "JobResultData": (
        "data.job_result_pb2",
        "JobResultData",
        """
        1 JobId job_id
        2 WorkerId worker_id
        3 string worker_name
        4 bytes args
        5 optional string uniq_key
        6 ResultStatus status
        7 ResultOutput output
        8 uint32 retried
        9 uint32 max_retry
        10 Priority priority
        11 uint64 timeout
        12 bool request_streaming
        13 int64 enqueue_time
        14 int64 run_after_time
        15 int64 start_time
        16 int64 end_time
        17 ResponseType response_type
        18 bool store_success
        19 bool store_failure
        """,
    ),
    "JobResult": (
        "data.job_result_pb2",
        "JobResult",
        "1 JobResultId id\n2 JobResultData data\n3 map<string,string> metadata",
    ),
    "SuccessResponse": ("service.common_pb2", "SuccessResponse", "1 bool is_success"),
    "FindListRequest": (
        "service.common_pb2",
        "FindListRequest",
        "1 optional int32 limit\n2 optional int64 offset",
    ),
    "CountCondition": ("service.common_pb2", "CountCondition", ""),
    "CountResponse": ("service.common_pb2", "CountResponse", "1 int64 total"),
    "CreateRunnerRequest": (
        "service.runner_pb2",
        "CreateRunnerRequest",
        """
        1 string name
        2 string description
        3 RunnerType runner_type
        4 string definition
        """,
    ),
    "CreateRunnerResponse": ("service.runner_pb2", "CreateRunnerResponse", "1 RunnerId id"),
    "OptionalRunnerResponse": (
        "service.runner_pb2",
        "OptionalRunnerResponse",
        "1 optional Runner data",
    ),
    "RunnerNameRequest": ("service.runner_pb2", "RunnerNameRequest", "1 string name"),
    "CreateWorkerResponse": ("service.worker_pb2", "CreateWorkerResponse", "1 WorkerId id"),
    "OptionalWorkerResponse": (
        "service.worker_pb2",
        "OptionalWorkerResponse",
        "1 optional Worker data",
    ),
    "WorkerNameRequest": ("service.worker_pb2", "WorkerNameRequest", "1 string name"),
    "FindWorkerListRequest": (
        "service.worker_pb2",
        "FindWorkerListRequest",
        """
        1 repeated RunnerType runner_types
        2 optional string channel
        3 optional int32 limit
        4 optional int64 offset
        """,
    ),
    "FindChannelListResponse": (
        "service.worker_pb2",
        "FindChannelListResponse",
        "1 repeated ChannelInfo channels",
    ),
    "ChannelInfo": (
        "service.worker_pb2",
        "ChannelInfo",
        "1 string name\n2 uint32 concurrency",
    ),
    "CreateJobResponse": (
        "service.job_pb2",
        "CreateJobResponse",
        "1 JobId id\n2 optional JobResult result",
    ),
    "OptionalJobResponse": ("service.job_pb2", "OptionalJobResponse", "1 optional Job data"),
    "JobRequest": (
        "service.job_pb2",
        "JobRequest",
        """
        1 oneof:worker WorkerId worker_id
        2 oneof:worker string worker_name
        3 bytes args
        4 optional string uniq_key
        5 optional int64 run_after_time
        6 optional Priority priority
        7 optional uint64 timeout
        """,
    ),
    "FindQueueListRequest": (
        "service.job_pb2",
        "FindQueueListRequest",
        "1 optional int32 limit\n2 optional string channel",
    ),
    "JobAndStatus": (
        "service.job_pb2",
        "JobAndStatus",
        "1 Job job\n2 optional JobStatus status",
    ),
    "JobStatusResponse": (
        "service.job_pb2",
        "JobStatusResponse",
        "1 JobId id\n2 JobStatus status",
    ),
    "OptionalJobStatusResponse": (
        "service.job_pb2",
        "OptionalJobStatusResponse",
        "1 optional JobStatus status",
    ),
    "JobRestoreRequest": (
        "service.job_pb2",
        "JobRestoreRequest",
        "1 optional bool include_grabbed\n2 optional int32 limit",
    ),
    "OptionalJobResultResponse": (
        "service.job_result_pb2",
        "OptionalJobResultResponse",
        "1 optional JobResult data",
    ),
    "ListenRequest": (
        "service.job_result_pb2",
        "ListenRequest",
        """
        1 JobId job_id
        2 oneof:worker WorkerId worker_id
        3 oneof:worker string worker_name
        4 optional uint64 timeout
        """,
    ),
    "ListenByWorkerRequest": (
        "service.job_result_pb2",
        "ListenByWorkerRequest",
        """
        2 oneof:worker WorkerId worker_id
        3 oneof:worker string worker_name
        """,
    ),
    "FindListByJobIdRequest": (
        "service.job_result_pb2",
        "FindListByJobIdRequest",
        "1 JobId job_id",
    ),
    # Runner schemas.
    "CommandArgs": (
        "runner.command_args_pb2",
        "CommandArgs",
        "1 string command\n2 repeated string args\n3 bool with_memory_monitoring",
    ),
    "CommandResult": (
        "runner.command_result_pb2",
        "CommandResult",
        """
        1 optional int32 exit_code
        2 optional string stdout
        3 optional string stderr
        4 optional uint64 execution_time_ms
        5 optional uint64 started_at
        6 optional uint64 max_memory_usage_kb
        """,
    ),
    "runner.ResultOutput": ("runner.common_pb2", "ResultOutput", "1 repeated bytes items"),
    "HttpRequestRunnerSettings": (
        "runner.http_request_runner_pb2",
        "HttpRequestRunnerSettings",
        "1 string base_url",
    ),
    "HttpRequestArgs": (
        "runner.http_request_args_pb2",
        "HttpRequestArgs",
        """
        1 repeated KeyValue headers
        2 string method
        3 string path
        4 optional string body
        5 repeated KeyValue queries
        """,
    ),
    "HttpRequestArgs.KeyValue": (
        "runner.http_request_args_pb2",
        "HttpRequestArgs.KeyValue",
        "1 string key\n2 string value",
    ),
    "HttpResponseResult": (
        "runner.http_request_result_pb2",
        "HttpResponseResult",
        "1 uint32 status_code\n2 repeated KeyValue headers\n3 string content",
    ),
    "GrpcUnaryRunnerSettings": (
        "runner.grpc_unary_runner_pb2",
        "GrpcUnaryRunnerSettings",
        """
        1 string host
        2 uint32 port
        3 bool tls
        4 optional uint32 timeout_ms
        5 optional uint32 max_message_size
        6 optional string auth_token
        7 optional TlsConfig tls_config
        8 optional bool use_reflection
        """,
    ),
    "GrpcUnaryRunnerSettings.TlsConfig": (
        "runner.grpc_unary_runner_pb2",
        "GrpcUnaryRunnerSettings.TlsConfig",
        """
        1 string ca_cert_path
        2 string client_cert_path
        3 string client_key_path
        4 string server_name_override
        """,
    ),
    "GrpcUnaryArgs": (
        "runner.grpc_unary_args_pb2",
        "GrpcUnaryArgs",
        """
        1 string method
        2 string request
        3 map<string,string> metadata
        4 int64 timeout
        """,
    ),
    "GrpcUnaryResult": (
        "runner.grpc_unary_result_pb2",
        "GrpcUnaryResult",
        """
        1 map<string,string> metadata
        2 bytes body
        3 int32 code
        4 optional string message
        """,
    ),
    "DockerRunnerSettings": (
        "runner.docker_runner_pb2",
        "DockerRunnerSettings",
        """
        1 optional string from_image
        2 optional string from_src
        3 optional string repo
        4 optional string tag
        5 optional string platform
        7 repeated string env
        8 repeated string volumes
        9 optional string working_dir
        10 repeated string entrypoint
        """,
    ),
    "DockerArgs": (
        "runner.docker_args_pb2",
        "DockerArgs",
        """
        1 optional string image
        2 optional string user
        3 repeated string exposed_ports
        4 repeated string env
        5 repeated string cmd
        6 optional bool args_escaped
        7 repeated string volumes
        8 optional string working_dir
        9 repeated string entrypoint
        10 optional bool network_disabled
        11 optional string mac_address
        12 repeated string shell
        """,
    ),
    "SlackRunnerSettings": (
        "runner.slack_runner_pb2",
        "SlackRunnerSettings",
        "1 string bot_token\n2 optional string bot_name",
    ),
    "SlackChatPostMessageArgs": (
        "runner.slack_args_pb2",
        "SlackChatPostMessageArgs",
        """
        1 string channel
        2 repeated Attachment attachments
        3 repeated string blocks
        4 optional string text
        5 optional string icon_emoji
        6 optional string icon_url
        7 optional bool link_names
        8 optional bool mrkdwn
        9 optional string parse
        10 optional bool reply_broadcast
        11 optional string thread_ts
        12 optional bool unfurl_links
        13 optional bool unfurl_media
        14 optional string username
        """,
    ),
    "SlackChatPostMessageArgs.Attachment": (
        "runner.slack_args_pb2",
        "SlackChatPostMessageArgs.Attachment",
        """
        1 optional string color
        2 optional string author_icon
        3 optional string author_link
        4 optional string author_name
        5 optional string fallback
        6 repeated AttachmentField fields
        7 optional string footer
        8 optional string footer_icon
        9 optional string image_url
        10 repeated string mrkdwn_in
        11 optional string pretext
        12 optional string text
        13 optional string title
        14 optional string title_link
        15 optional string thumb_url
        16 optional int32 ts
        """,
    ),
    "SlackChatPostMessageArgs.AttachmentField": (
        "runner.slack_args_pb2",
        "SlackChatPostMessageArgs.AttachmentField",
        "1 optional string title\n2 optional string value\n3 optional bool short",
    ),
    "SlackChatPostMessageResult": (
        "runner.slack_result_pb2",
        "SlackChatPostMessageResult",
        "1 string channel\n2 string ts\n3 string message",
    ),
    "PythonCommandRunnerSettings": (
        "runner.python_command_runner_pb2",
        "PythonCommandRunnerSettings",
        """
        1 string python_version
        2 optional string uv_path
        3 oneof:requirements_spec PackagesList packages
        4 oneof:requirements_spec string requirements_url
        """,
    ),
    "PythonCommandRunnerSettings.PackagesList": (
        "runner.python_command_runner_pb2",
        "PythonCommandRunnerSettings.PackagesList",
        "1 repeated string list",
    ),
    "PythonCommandArgs": (
        "runner.python_command_args_pb2",
        "PythonCommandArgs",
        """
        1 map<string,string> env_vars
        2 oneof:script string script_content
        3 oneof:script string script_url
        4 oneof:input_data string data_body
        5 oneof:input_data string data_url
        6 bool with_stderr
        """,
    ),
    "PythonCommandResult": (
        "runner.python_command_result_pb2",
        "PythonCommandResult",
        "1 int32 exit_code\n2 string output\n3 optional string output_stderr",
    ),
    "McpServerArgs": (
        "runner.mcp_server_args_pb2",
        "McpServerArgs",
        "1 string tool_name\n2 string arg_json",
    ),
    "McpServerResult": (
        "runner.mcp_server_result_pb2",
        "McpServerResult",
        "1 repeated Content content\n2 bool is_error",
    ),
    "McpServerResult.Content": (
        "runner.mcp_server_result_pb2",
        "McpServerResult.Content",
        """
        1 oneof:raw_content TextContent text
        2 oneof:raw_content ImageContent image
        3 oneof:raw_content AudioContent audio
        4 oneof:raw_content EmbeddedResource resource
        """,
    ),
    "McpServerResult.EmbeddedResource": (
        "runner.mcp_server_result_pb2",
        "McpServerResult.EmbeddedResource",
        """
        1 oneof:resource TextResourceContents text
        2 oneof:resource BlobResourceContents blob
        """,
    ),
    "McpServerResult.TextResourceContents": (
        "runner.mcp_server_result_pb2",
        "McpServerResult.TextResourceContents",
        "1 string uri\n2 optional string mime_type\n3 string text",
    ),
    "McpServerResult.BlobResourceContents": (
        "runner.mcp_server_result_pb2",
        "McpServerResult.BlobResourceContents",
        "1 string uri\n2 optional string mime_type\n3 string blob",
    ),
    "McpServerResult.ImageContent": (
        "runner.mcp_server_result_pb2",
        "McpServerResult.ImageContent",
        "1 string data\n2 string mime_type",
    ),
    "McpServerResult.AudioContent": (
        "runner.mcp_server_result_pb2",
        "McpServerResult.AudioContent",
        "1 string data\n2 string mime_type",
    ),
    "McpServerResult.TextContent": (
        "runner.mcp_server_result_pb2",
        "McpServerResult.TextContent",
        "1 string text",
    ),
    "InlineWorkflowArgs": (
        "runner.workflow_args_pb2",
        "InlineWorkflowArgs",
        """
        1 oneof:workflow_source string workflow_url
        2 oneof:workflow_source string workflow_data
        3 string input
        4 optional string workflow_context
        5 optional string execution_id
        """,
    ),
    "ReusableWorkflowRunnerSettings": (
        "runner.reusable_workflow_runner_pb2",
        "ReusableWorkflowRunnerSettings",
        "1 string json_data",
    ),
    "ReusableWorkflowArgs": (
        "runner.reusable_workflow_args_pb2",
        "ReusableWorkflowArgs",
        "1 string input\n2 optional string workflow_context\n3 optional string execution_id",
    ),
    "WorkflowResult": (
        "runner.workflow_result_pb2",
        "WorkflowResult",
        """
        1 string id
        2 string output
        3 string position
        4 WorkflowStatus status
        5 optional string error_message
        """,
    ),
    "LLMRunnerSettings": (
        "runner.llm.runner_pb2",
        "LLMRunnerSettings",
        """
        1 oneof:settings OllamaRunnerSettings ollama
        2 oneof:settings GenaiRunnerSettings genai
        """,
    ),
    "LLMRunnerSettings.OllamaRunnerSettings": (
        "runner.llm.runner_pb2",
        "LLMRunnerSettings.OllamaRunnerSettings",
        """
        1 optional string base_url
        2 string model
        3 optional string system_prompt
        4 optional bool pull_model
        """,
    ),
    "LLMRunnerSettings.GenaiRunnerSettings": (
        "runner.llm.runner_pb2",
        "LLMRunnerSettings.GenaiRunnerSettings",
        "1 string model\n2 optional string system_prompt\n3 optional string base_url",
    ),
    "LLMCompletionArgs": (
        "runner.llm.completion_args_pb2",
        "LLMCompletionArgs",
        """
        1 optional string model
        2 optional string system_prompt
        3 string prompt
        4 optional LLMOptions options
        5 optional GenerationContext context
        6 optional FunctionOptions function_options
        """,
    ),
    "LLMCompletionArgs.LLMOptions": (
        "runner.llm.completion_args_pb2",
        "LLMCompletionArgs.LLMOptions",
        """
        1 optional int32 max_tokens
        2 optional float temperature
        3 optional float top_p
        4 optional float repeat_penalty
        5 optional int32 repeat_last_n
        6 optional int32 seed
        7 optional bool extract_reasoning_content
        """,
    ),
    "LLMCompletionArgs.FunctionOptions": (
        "runner.llm.completion_args_pb2",
        "LLMCompletionArgs.FunctionOptions",
        """
        1 bool use_function_calling
        2 optional string function_set_name
        3 optional bool use_runners_as_function
        4 optional bool use_workers_as_function
        """,
    ),
    "LLMCompletionArgs.GenerationContext": (
        "runner.llm.completion_args_pb2",
        "LLMCompletionArgs.GenerationContext",
        "1 oneof:context OllamaContext ollama_context",
    ),
    "LLMCompletionArgs.OllamaContext": (
        "runner.llm.completion_args_pb2",
        "LLMCompletionArgs.OllamaContext",
        "1 repeated int32 data",
    ),
    "LLMCompletionResult": (
        "runner.llm.completion_result_pb2",
        "LLMCompletionResult",
        """
        1 optional MessageContent content
        2 optional string reasoning_content
        3 bool done
        4 optional GenerationContext context
        5 optional Usage usage
        """,
    ),
    "LLMCompletionResult.Usage": (
        "runner.llm.completion_result_pb2",
        "LLMCompletionResult.Usage",
        """
        1 string model
        2 optional uint32 prompt_tokens
        3 optional uint32 completion_tokens
        4 optional float total_prompt_time_sec
        5 optional float total_completion_time_sec
        """,
    ),
    "LLMCompletionResult.GenerationContext": (
        "runner.llm.completion_result_pb2",
        "LLMCompletionResult.GenerationContext",
        "1 oneof:context OllamaContext ollama",
    ),
    "LLMCompletionResult.MessageContent": (
        "runner.llm.completion_result_pb2",
        "LLMCompletionResult.MessageContent",
        "1 oneof:content string text",
    ),
    "LLMChatArgs": (
        "runner.llm.chat_args_pb2",
        "LLMChatArgs",
        """
        1 optional string model
        2 optional LLMOptions options
        4 optional FunctionOptions function_options
        5 repeated ChatMessage messages
        """,
    ),
    "LLMChatArgs.ChatMessage": (
        "runner.llm.chat_args_pb2",
        "LLMChatArgs.ChatMessage",
        "1 ChatRole role\n2 MessageContent content",
    ),
    "LLMChatArgs.MessageContent": (
        "runner.llm.chat_args_pb2",
        "LLMChatArgs.MessageContent",
        """
        1 oneof:content string text
        2 oneof:content Image image
        3 oneof:content ToolCalls tool_calls
        """,
    ),
    "LLMChatArgs.MessageContent.Image": (
        "runner.llm.chat_args_pb2",
        "LLMChatArgs.MessageContent.Image",
        "1 string content_type\n2 ImageSource source",
    ),
    "LLMChatArgs.MessageContent.ImageSource": (
        "runner.llm.chat_args_pb2",
        "LLMChatArgs.MessageContent.ImageSource",
        "1 string url\n2 string base64",
    ),
    "LLMChatArgs.MessageContent.ToolCall": (
        "runner.llm.chat_args_pb2",
        "LLMChatArgs.MessageContent.ToolCall",
        "1 string call_id\n2 string fn_name\n3 string fn_arguments",
    ),
    "LLMChatArgs.MessageContent.ToolCalls": (
        "runner.llm.chat_args_pb2",
        "LLMChatArgs.MessageContent.ToolCalls",
        "1 repeated ToolCall calls",
    ),
    "LLMChatResult": (
        "runner.llm.chat_result_pb2",
        "LLMChatResult",
        """
        1 optional MessageContent content
        2 optional string reasoning_content
        3 bool done
        4 optional Usage usage
        """,
    ),
    "LLMChatResult.MessageContent": (
        "runner.llm.chat_result_pb2",
        "LLMChatResult.MessageContent",
        """
        1 oneof:content string text
        2 oneof:content Image image
        3 oneof:content ToolCalls tool_calls
        """,
    ),
    "LLMChatResult.Usage": (
        "runner.llm.chat_result_pb2",
        "LLMChatResult.Usage",
        """
        1 string model
        2 optional uint32 prompt_tokens
        3 optional uint32 completion_tokens
        4 optional float total_prompt_time_sec
        5 optional float total_completion_time_sec
        """,
    ),
}


def find_message(module_name: str, path: str) -> Descriptor:
    descriptor: Descriptor = load(module_name).DESCRIPTOR.message_types_by_name[path.split(".")[0]]
    for nested in path.split(".")[1:]:
        descriptor = descriptor.nested_types_by_name[nested]
    return descriptor


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_message_fields(name: str) -> None:
    module_name, path, fields = MESSAGES[name]

    assert describe_fields(find_message(module_name, path)) == spec(fields)


def test_worker_next_workers_is_field_12() -> None:
    field = find_message("data.worker_pb2", "WorkerData").fields_by_name["next_workers"]

    assert field.number == 12
    assert field.is_repeated
    assert field.message_type is not None
    assert field.message_type.full_name == "jobworkerp.data.WorkerId"


def test_listen_by_worker_has_no_field_1() -> None:
    message = find_message("service.job_result_pb2", "ListenByWorkerRequest")

    assert 1 not in message.fields_by_number
    assert set(message.fields_by_number) == {2, 3}


def test_job_request_worker_oneof() -> None:
    message = find_message("service.job_pb2", "JobRequest")
    oneof = message.oneofs_by_name["worker"]

    assert [field.name for field in oneof.fields] == ["worker_id", "worker_name"]
    assert [field.number for field in oneof.fields] == [1, 2]


def test_packages() -> None:
    assert load("data.common_pb2").DESCRIPTOR.package == "jobworkerp.data"
    assert load("service.job_pb2").DESCRIPTOR.package == "jobworkerp.service"
    assert load("runner.command_args_pb2").DESCRIPTOR.package == "jobworkerp.runner"
    assert load("runner.llm.chat_args_pb2").DESCRIPTOR.package == "jobworkerp.runner.llm"


def test_all_files_are_proto3() -> None:
    for path in sorted((REPO_ROOT / "proto").rglob("*.proto")):
        assert 'syntax = "proto3";' in path.read_text(), path


# --- enums -----------------------------------------------------------------

ENUMS: dict[str, tuple[str, dict[str, int]]] = {
    "StorageType": ("data.common_pb2", {"STANDALONE": 0, "SCALABLE": 1}),
    "RunnerType": (
        "data.common_pb2",
        {
            "PLUGIN": 0,
            "COMMAND": 1,
            "HTTP_REQUEST": 2,
            "GRPC_UNARY": 3,
            "DOCKER": 4,
            "SLACK_POST_MESSAGE": 5,
            "PYTHON_COMMAND": 6,
            "MCP_SERVER": 7,
            "LLM_CHAT": 65533,
            "LLM_COMPLETION": 65534,
            "INLINE_WORKFLOW": 65535,
            "REUSABLE_WORKFLOW": -1,
        },
    ),
    "Priority": ("data.common_pb2", {"PRIORITY_MEDIUM": 0, "PRIORITY_LOW": -1, "PRIORITY_HIGH": 1}),
    "RetryType": (
        "data.common_pb2",
        {"NONE": 0, "EXPONENTIAL": 1, "LINEAR": 2, "CONSTANT": 3},
    ),
    "ResponseType": ("data.common_pb2", {"NO_RESULT": 0, "DIRECT": 1}),
    "ResultStatus": (
        "data.common_pb2",
        {
            "SUCCESS": 0,
            "ERROR_AND_RETRY": 1,
            "FATAL_ERROR": 2,
            "ABORT": 3,
            "MAX_RETRY": 4,
            "OTHER_ERROR": 5,
            "CANCELLED": 6,
        },
    ),
    "JobStatus": ("data.common_pb2", {"PENDING": 0, "RUNNING": 1, "WAIT_RESULT": 2}),
    "QueueType": ("data.common_pb2", {"NORMAL": 0, "WITH_BACKUP": 1, "FORCED_RDB": 2}),
    "StreamingOutputType": (
        "data.runner_pb2",
        {"NON_STREAMING": 0, "STREAMING": 1, "BOTH": 2},
    ),
}


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_data_enum_values(name: str) -> None:
    module_name, expected = ENUMS[name]

    assert describe_enum(load(module_name).DESCRIPTOR.enum_types_by_name[name]) == expected


def test_runner_result_status_matches_data() -> None:
    runner_enum = load("runner.common_pb2").DESCRIPTOR.enum_types_by_name["ResultStatus"]

    assert describe_enum(runner_enum) == ENUMS["ResultStatus"][1]


def test_key_enum_values() -> None:
    common = load("data.common_pb2")

    assert common.Priority.Value("PRIORITY_LOW") == -1
    assert common.RunnerType.Value("REUSABLE_WORKFLOW") == -1
    assert common.ResultStatus.Value("CANCELLED") == 6
    assert load("runner.common_pb2").ResultStatus.Value("CANCELLED") == 6


def test_nested_runner_enums() -> None:
    workflow_status = find_message(
        "runner.workflow_result_pb2", "WorkflowResult"
    ).enum_types_by_name["WorkflowStatus"]
    chat_role = find_message("runner.llm.chat_args_pb2", "LLMChatArgs").enum_types_by_name[
        "ChatRole"
    ]

    assert describe_enum(workflow_status) == {
        "Completed": 0,
        "Faulted": 1,
        "Cancelled": 2,
        "Pending": 3,
        "Running": 4,
        "Waiting": 5,
    }
    assert describe_enum(chat_role) == {
        "ROLE_UNSPECIFIED": 0,
        "ROLE_SYSTEM": 1,
        "ROLE_USER": 2,
        "ROLE_ASSISTANT": 3,
        "ROLE_TOOL": 4,
    }


# --- runner schema files ---------------------------------------------------

# Clients compile each file alone and take its first top-level message.
RUNNER_SCHEMA_FILES = {
    "command_args.proto": "jobworkerp.runner.CommandArgs",
    "command_result.proto": "jobworkerp.runner.CommandResult",
    "common.proto": "jobworkerp.runner.ResultOutput",
    "http_request_runner.proto": "jobworkerp.runner.HttpRequestRunnerSettings",
    "http_request_args.proto": "jobworkerp.runner.HttpRequestArgs",
    "http_request_result.proto": "jobworkerp.runner.HttpResponseResult",
    "grpc_unary_runner.proto": "jobworkerp.runner.GrpcUnaryRunnerSettings",
    "grpc_unary_args.proto": "jobworkerp.runner.GrpcUnaryArgs",
    "grpc_unary_result.proto": "jobworkerp.runner.GrpcUnaryResult",
    "docker_runner.proto": "jobworkerp.runner.DockerRunnerSettings",
    "docker_args.proto": "jobworkerp.runner.DockerArgs",
    "slack_runner.proto": "jobworkerp.runner.SlackRunnerSettings",
    "slack_args.proto": "jobworkerp.runner.SlackChatPostMessageArgs",
    "slack_result.proto": "jobworkerp.runner.SlackChatPostMessageResult",
    "python_command_runner.proto": "jobworkerp.runner.PythonCommandRunnerSettings",
    "python_command_args.proto": "jobworkerp.runner.PythonCommandArgs",
    "python_command_result.proto": "jobworkerp.runner.PythonCommandResult",
    "mcp_server_args.proto": "jobworkerp.runner.McpServerArgs",
    "mcp_server_result.proto": "jobworkerp.runner.McpServerResult",
    "workflow_args.proto": "jobworkerp.runner.InlineWorkflowArgs",
    "reusable_workflow_runner.proto": "jobworkerp.runner.ReusableWorkflowRunnerSettings",
    "reusable_workflow_args.proto": "jobworkerp.runner.ReusableWorkflowArgs",
    "workflow_result.proto": "jobworkerp.runner.WorkflowResult",
    "llm/runner.proto": "jobworkerp.runner.llm.LLMRunnerSettings",
    "llm/completion_args.proto": "jobworkerp.runner.llm.LLMCompletionArgs",
    "llm/completion_result.proto": "jobworkerp.runner.llm.LLMCompletionResult",
    "llm/chat_args.proto": "jobworkerp.runner.llm.LLMChatArgs",
    "llm/chat_result.proto": "jobworkerp.runner.llm.LLMChatResult",
}


def test_runner_schema_file_list() -> None:
    present = {
        path.relative_to(RUNNER_PROTO_ROOT).as_posix()
        for path in RUNNER_PROTO_ROOT.rglob("*.proto")
    }

    assert present == set(RUNNER_SCHEMA_FILES)


@pytest.mark.parametrize("file_name", sorted(RUNNER_SCHEMA_FILES))
def test_runner_schema_first_message(file_name: str) -> None:
    message_class = compile_first_message((RUNNER_PROTO_ROOT / file_name).read_text())

    assert message_class is not None
    assert message_class.DESCRIPTOR.full_name == RUNNER_SCHEMA_FILES[file_name]


@pytest.mark.parametrize("file_name", sorted(RUNNER_SCHEMA_FILES))
def test_runner_schema_has_no_imports(file_name: str) -> None:
    module_name = "runner." + file_name.removesuffix(".proto").replace("/", ".") + "_pb2"

    assert list(load(module_name).DESCRIPTOR.dependencies) == []
