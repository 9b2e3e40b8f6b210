"""The INLINE_WORKFLOW and REUSABLE_WORKFLOW runners.

INLINE_WORKFLOW takes the document in each job's args (`workflow_url` or
`workflow_data`); REUSABLE_WORKFLOW takes it from the worker's settings
(`json_data`), checked when the worker is created and parsed once per
runner instance. Both read `input` as JSON (text that is not JSON is the
JSON string of that text) and `workflow_context` as a JSON object of
initial context variables, and return a `WorkflowResult`.

How a run ends:

- The document, the input or the context is invalid (nothing ran): the
  job fails with OTHER_ERROR; a workflow URL that cannot be reached fails
  with ERROR_AND_RETRY.
- A task fails and nothing catches it: the job succeeds with a Faulted
  `WorkflowResult` whose `error_message` says what failed, `position`
  points at the task, and `output` is the error object. Like a command's
  non-zero exit code, the outcome is data, and the worker's retry policy
  does not rerun a workflow whose tasks may have side effects.
- Otherwise: SUCCESS with a Completed result whose `output` is the final
  output as JSON.

In streaming mode (EnqueueForStream) one Running `WorkflowResult` is sent
per finished task, then the final one. A cancelled job stops the workflow,
and its run tasks cancel their jobs and delete their temporary workers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, TypeVar

from google.protobuf.message import DecodeError, Message

from jwp.errors import InvalidArgumentError, RunnerArgumentError
from jwp.ids import uuid7
from jwp.proto.jobworkerp.runner.reusable_workflow_args_pb2 import ReusableWorkflowArgs
from jwp.proto.jobworkerp.runner.reusable_workflow_runner_pb2 import (
    ReusableWorkflowRunnerSettings,
)
from jwp.proto.jobworkerp.runner.workflow_args_pb2 import InlineWorkflowArgs
from jwp.proto.jobworkerp.runner.workflow_result_pb2 import WorkflowResult
from jwp.server.runners.base import Runner
from jwp.server.runners.host import RunnerHost

from .errors import WorkflowDefinitionError, WorkflowError
from .executor import WorkflowExecutor, WorkflowOutcome, WorkflowStatus, check_input
from .model import RESERVED_VARIABLES, Workflow, parse_workflow
from .run import ServerJobRunner
from .source import load_from_url, parse_in_thread

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)

_STATUS = {
    WorkflowStatus.COMPLETED: WorkflowResult.Completed,
    WorkflowStatus.FAULTED: WorkflowResult.Faulted,
}


class _WorkflowRunner(Runner):
    """What both workflow runners share: input parsing, execution and results."""

    def __init__(self, host: RunnerHost) -> None:
        self._host = host

    async def _execute(
        self,
        workflow: Workflow,
        args: InlineWorkflowArgs | ReusableWorkflowArgs,
        metadata: Mapping[str, str],
        stream: asyncio.Queue[bytes | None] | None = None,
    ) -> bytes:
        run_id = args.execution_id if args.HasField("execution_id") else str(uuid7())
        raw_input = parse_input(args.input)
        context = parse_context(args.workflow_context if args.HasField("workflow_context") else "")
        try:
            check_input(workflow, raw_input)
        except WorkflowError as error:
            raise RunnerArgumentError(
                f"input of workflow {workflow.name} is invalid: {error.detail}"
            ) from None

        def send_progress(position: str, output: Any) -> None:
            if stream is not None:
                running = WorkflowResult(
                    id=run_id,
                    output=_json_text(output),
                    position=position,
                    status=WorkflowResult.Running,
                )
                stream.put_nowait(running.SerializeToString())

        executor = WorkflowExecutor(
            workflow,
            run_id=run_id,
            job_runner=ServerJobRunner(self._host, workflow_label=f"workflow {run_id}"),
            metadata=metadata,
            on_task_finished=send_progress if stream is not None else None,
        )
        outcome = await executor.execute(raw_input, context)
        return _result(outcome).SerializeToString()

    async def _stream(
        self,
        workflow: Workflow,
        args: InlineWorkflowArgs | ReusableWorkflowArgs,
        metadata: Mapping[str, str],
    ) -> AsyncIterator[bytes]:
        progress: asyncio.Queue[bytes | None] = asyncio.Queue()
        execution = asyncio.create_task(self._execute(workflow, args, metadata, progress))
        execution.add_done_callback(lambda _: progress.put_nowait(None))
        try:
            while (item := await progress.get()) is not None:
                yield item
            yield execution.result()
        finally:
            if not execution.done():
                execution.cancel()
                await asyncio.gather(execution, return_exceptions=True)


class InlineWorkflowRunner(_WorkflowRunner):
    """Runs the workflow that each job's args give."""

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        parsed = _decode(InlineWorkflowArgs, args)
        workflow = await self._load(parsed)
        return await self._execute(workflow, parsed, metadata)

    async def run_stream(self, args: bytes, metadata: Mapping[str, str]) -> AsyncIterator[bytes]:
        parsed = _decode(InlineWorkflowArgs, args)
        workflow = await self._load(parsed)
        async for item in self._stream(workflow, parsed, metadata):
            yield item

    async def _load(self, args: InlineWorkflowArgs) -> Workflow:
        source = args.WhichOneof("workflow_source")
        if source == "workflow_url":
            timeout_s = self._host.settings.workflow_http_timeout_sec
            return await load_from_url(args.workflow_url, http_timeout_s=timeout_s)
        if source == "workflow_data":
            return await parse_in_thread(args.workflow_data, source="workflow_data")
        raise RunnerArgumentError(
            "workflow_source is missing; set workflow_url (a URL or file path) or "
            "workflow_data (YAML or JSON text)"
        )


class ReusableWorkflowRunner(_WorkflowRunner):
    """Runs the workflow stored in the worker's settings."""

    def __init__(self, host: RunnerHost) -> None:
        super().__init__(host)
        self._workflow: Workflow | None = None

    async def load(self, settings: bytes) -> None:
        self._workflow = await _settings_workflow(settings, RunnerArgumentError)

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        parsed = _decode(ReusableWorkflowArgs, args)
        return await self._execute(self._loaded(), parsed, metadata)

    async def run_stream(self, args: bytes, metadata: Mapping[str, str]) -> AsyncIterator[bytes]:
        parsed = _decode(ReusableWorkflowArgs, args)
        async for item in self._stream(self._loaded(), parsed, metadata):
            yield item

    def _loaded(self) -> Workflow:
        if self._workflow is None:
            raise RunnerArgumentError("the REUSABLE_WORKFLOW runner ran before load()")
        return self._workflow


async def check_reusable_settings(settings: bytes) -> None:
    """Reject REUSABLE_WORKFLOW worker settings whose `json_data` is not a valid workflow."""
    await _settings_workflow(settings, InvalidArgumentError)


async def _settings_workflow(
    settings: bytes, error_class: type[InvalidArgumentError] | type[RunnerArgumentError]
) -> Workflow:
    message = ReusableWorkflowRunnerSettings()
    try:
        message.ParseFromString(settings)
    except DecodeError:
        raise error_class(
            "runner_settings are not a ReusableWorkflowRunnerSettings message"
        ) from None
    if not message.json_data.strip():
        raise error_class(
            "runner_settings.json_data is empty; give the workflow as YAML or JSON text"
        )
    try:
        return await asyncio.to_thread(
            parse_workflow, message.json_data, source="workflow in runner_settings.json_data"
        )
    except WorkflowDefinitionError as error:
        raise error_class(str(error)) from None


def parse_input(text: str) -> Any:
    """Parse a workflow input: JSON text, or else the text as a JSON string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_context(text: str) -> dict[str, Any]:
    """Parse `workflow_context`: a JSON object of context variables (empty text: none)."""
    if not text.strip():
        return {}
    try:
        context = json.loads(text)
    except json.JSONDecodeError as error:
        raise RunnerArgumentError(
            f"workflow_context is not valid JSON (line {error.lineno} column {error.colno}: "
            f"{error.msg}); give a JSON object"
        ) from None
    if not isinstance(context, dict):
        raise RunnerArgumentError("workflow_context must be a JSON object of variables")
    reserved = sorted(RESERVED_VARIABLES.intersection(context))
    if reserved:
        raise RunnerArgumentError(
            f"workflow_context sets {', '.join(reserved)}, which are built-in variables; "
            "rename these keys"
        )
    return context


def _decode(message_type: type[M], data: bytes) -> M:
    message = message_type()
    try:
        message.ParseFromString(data)
    except DecodeError:
        raise RunnerArgumentError(
            f"job args are not a {message_type.DESCRIPTOR.full_name} message"
        ) from None
    return message


def _result(outcome: WorkflowOutcome) -> WorkflowResult:
    result = WorkflowResult(
        id=outcome.id,
        output=_json_text(outcome.output),
        position=outcome.position,
        status=_STATUS[outcome.status],
    )
    if outcome.error is not None:
        result.error_message = str(outcome.error)
    return result


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
