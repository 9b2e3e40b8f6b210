"""Runner specs of INLINE_WORKFLOW (id 65535) and REUSABLE_WORKFLOW (id -1)."""

from __future__ import annotations

from jwp.proto.jobworkerp.data import common_pb2, runner_pb2
from jwp.server.runners.base import RunnerSpec
from jwp.server.runners.host import RunnerHost
from jwp.server.runners.protos import runner_proto

from .runner import InlineWorkflowRunner, ReusableWorkflowRunner, check_reusable_settings


def workflow_specs(host: RunnerHost) -> list[RunnerSpec]:
    """Return the specs of the two workflow runners; their jobs reach the server through `host`."""
    inline_id = common_pb2.RunnerType.INLINE_WORKFLOW
    reusable_id = common_pb2.RunnerType.REUSABLE_WORKFLOW
    return [
        RunnerSpec(
            id=inline_id,
            name="INLINE_WORKFLOW",
            description=(
                "Runs a workflow (Serverless Workflow YAML or JSON) given in the job args "
                "as a URL, a file path or the document itself"
            ),
            runner_type=inline_id,
            settings_proto="",
            args_proto=runner_proto("workflow_args.proto"),
            result_proto=runner_proto("workflow_result.proto"),
            output_type=runner_pb2.BOTH,
            definition=f"builtin{inline_id}",
            factory=lambda: InlineWorkflowRunner(host),
        ),
        RunnerSpec(
            id=reusable_id,
            name="REUSABLE_WORKFLOW",
            description=(
                "Runs the workflow stored in the worker's settings, with the input given "
                "in each job's args"
            ),
            runner_type=reusable_id,
            settings_proto=runner_proto("reusable_workflow_runner.proto"),
            args_proto=runner_proto("reusable_workflow_args.proto"),
            result_proto=runner_proto("workflow_result.proto"),
            output_type=runner_pb2.BOTH,
            definition=f"builtin{reusable_id}",
            factory=lambda: ReusableWorkflowRunner(host),
            settings_check=check_reusable_settings,
        ),
    ]
