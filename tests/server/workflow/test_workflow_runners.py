"""INLINE_WORKFLOW and REUSABLE_WORKFLOW against a real server: run tasks become real jobs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import grpc
import pytest

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner.reusable_workflow_args_pb2 import ReusableWorkflowArgs
from jwp.proto.jobworkerp.runner.reusable_workflow_runner_pb2 import (
    ReusableWorkflowRunnerSettings,
)
from jwp.proto.jobworkerp.runner.workflow_args_pb2 import InlineWorkflowArgs
from jwp.proto.jobworkerp.runner.workflow_result_pb2 import WorkflowResult
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import worker_pb2 as worker_service_pb2
from jwp.server.app import JwpServer
from tests.conftest import Stubs
from tests.support.http import Response, local_http_server
from tests.support.processes import process_alive
from tests.support.waiting import eventually

from .conftest import (
    INLINE_WORKFLOW_ID,
    REUSABLE_WORKFLOW_ID,
    InlineRunner,
    completed_output,
    workflow_result,
)
from .documents import document, readme_workflow_for_tree

COMMAND_ID = 1


def make_tree(root: Path) -> None:
    """A directory whose subdirectories all start with "d", as the README's `if` expects."""
    (root / "data").mkdir()
    (root / "data" / "a.csv").write_text("1")
    (root / "data" / "b.csv").write_text("2")
    (root / "docs").mkdir()
    (root / "docs" / "guide.md").write_text("#")
    (root / "notes.txt").write_text("n")


async def worker_names(stubs: Stubs) -> list[str]:
    workers = stubs.workers.FindList(worker_service_pb2.FindWorkerListRequest())
    return [worker.data.name async for worker in workers]


# The README example


async def test_readme_example_lists_every_subdirectory(
    inline: InlineRunner, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    make_tree(tree)

    result = await inline.run(data=readme_workflow_for_tree(), raw_input=str(tree))

    output = completed_output(result)
    listing = {"files": ["data", "docs", "notes.txt"]}
    assert len(output) == 3
    data_result, docs_result, skipped = output
    assert data_result["stdout"] == "a.csv\nb.csv"
    assert docs_result["stdout"] == "guide.md"
    assert data_result["exitCode"] == 0
    assert skipped == listing
    assert await worker_names(inline.stubs) == ["OneTimeFlow"]


async def test_workflow_from_local_file_url(inline: InlineRunner, tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(document("do:\n  - echo: {set: {got: '${.}'}}\n"))
    result = await inline.run(url=str(path), workflow_input={"a": 1})
    assert completed_output(result) == {"got": {"a": 1}}


async def test_workflow_from_http_url(inline: InlineRunner) -> None:
    with local_http_server() as http:
        http.routes["/flow.yaml"] = Response(body=document("do:\n  - x: {set: {v: 1}}\n").encode())
        result = await inline.run(url=http.url("/flow.yaml"), workflow_input=None)
        missing = await inline.run(url=http.url("/missing.yaml"), workflow_input=None)
    assert completed_output(result) == {"v": 1}
    assert missing.data.status == common_pb2.OTHER_ERROR
    assert "HTTP 404" in missing.data.output.items.decode()


async def test_unreachable_workflow_url_is_retryable(inline: InlineRunner) -> None:
    with local_http_server() as http:
        url = http.url("/gone.yaml")
    result = await inline.run(url=url, workflow_input=None)
    assert result.data.status == common_pb2.MAX_RETRY
    assert "fetching workflow" in result.data.output.items.decode()


async def test_missing_workflow_file_fails_the_job(inline: InlineRunner, tmp_path: Path) -> None:
    result = await inline.run(url=str(tmp_path / "nope.yaml"), workflow_input=None)
    assert result.data.status == common_pb2.OTHER_ERROR
    assert "nope.yaml not found" in result.data.output.items.decode()


async def test_invalid_document_fails_with_task_path(inline: InlineRunner) -> None:
    result = await inline.run(
        data=document("do:\n  - EachFile:\n      for: {each: f}\n      do: []\n"),
        workflow_input=None,
    )
    assert result.data.status == common_pb2.OTHER_ERROR
    message = result.data.output.items.decode()
    assert "/do/0/EachFile/for/in: missing required property 'in'" in message


async def test_input_is_checked_against_input_schema(inline: InlineRunner) -> None:
    text = "input: {schema: {document: {type: string}}}\n" + document("do:\n  - x: {set: {a: 1}}\n")
    result = await inline.run(data=text, workflow_input={"not": "a string"})
    assert result.data.status == common_pb2.OTHER_ERROR
    assert "input of workflow test is invalid" in result.data.output.items.decode()


async def test_non_json_input_is_string(inline: InlineRunner) -> None:
    text = document("do:\n  - x: {set: {kind: '${type}', value: '${.}'}}\n")
    assert completed_output(await inline.run(data=text, raw_input="/home")) == {
        "kind": "string",
        "value": "/home",
    }
    assert completed_output(await inline.run(data=text, raw_input="[1, 2]")) == {
        "kind": "array",
        "value": [1, 2],
    }


async def test_workflow_context_sets_variables(inline: InlineRunner) -> None:
    text = document("do:\n  - x: {set: {greeting: '$${{{ name }}!}'}}\n")
    ok = await inline.run(data=text, workflow_input=None, context='{"name": "jwp"}')
    assert completed_output(ok) == {"greeting": "jwp!"}
    bad = await inline.run(data=text, workflow_input=None, context="[1]")
    assert bad.data.status == common_pb2.OTHER_ERROR
    assert "workflow_context must be a JSON object" in bad.data.output.items.decode()


async def test_raise_gives_faulted_result_of_successful_job(inline: InlineRunner) -> None:
    text = document(
        "do:\n  - stop: {raise: {error: {type: 'https://x/stop', status: 409, title: halt}}}\n"
    )
    result = workflow_result(await inline.run(data=text, workflow_input=None))
    assert result.status == WorkflowResult.Faulted
    assert result.position == "/do/0/stop"
    assert "halt" in result.error_message
    assert json.loads(result.output)["status"] == 409
    assert len(result.id) == 36


async def test_execution_id_becomes_result_id(wstubs: Stubs, inline: InlineRunner) -> None:
    args = InlineWorkflowArgs(
        workflow_data=document("do:\n  - x: {set: {a: 1}}\n"), input="null", execution_id="run-42"
    )
    response = await wstubs.jobs.Enqueue(
        job_service_pb2.JobRequest(
            worker_id=worker_pb2.WorkerId(value=await inline.worker()),
            args=args.SerializeToString(),
        )
    )
    assert workflow_result(response.result).id == "run-42"


# Run tasks: jobs, workers, results


async def test_run_task_result_is_proto3_json(inline: InlineRunner) -> None:
    text = document(
        """
        do:
          - say:
              run:
                runner:
                  name: COMMAND
                  arguments: {command: echo, args: ["$${hello {{ raw_input }}}"], unknown: 1}
        """
    )
    output = completed_output(await inline.run(data=text, workflow_input="world"))
    assert output["stdout"] == "hello world"
    assert output["exitCode"] == 0
    assert isinstance(output["startedAt"], str)
    assert "maxMemoryUsageKb" not in output


async def test_failed_job_faults_the_task(inline: InlineRunner) -> None:
    text = document(
        """
        do:
          - broken:
              run:
                runner: {name: COMMAND, arguments: {command: /nonexistent/jwp-test-binary}}
        """
    )
    result = workflow_result(await inline.run(data=text, workflow_input=None))
    assert result.status == WorkflowResult.Faulted
    assert result.position == "/do/0/broken"
    assert "service unavailable" in result.error_message
    assert "MAX_RETRY" in result.error_message
    assert json.loads(result.output)["status"] == 503


async def test_unknown_runner_faults_the_task(inline: InlineRunner) -> None:
    text = document("do:\n  - call: {run: {runner: {name: NO_SUCH_RUNNER, arguments: {}}}}\n")
    result = workflow_result(await inline.run(data=text, workflow_input=None))
    assert result.status == WorkflowResult.Faulted
    assert "runner 'NO_SUCH_RUNNER' does not exist" in result.error_message


async def test_channel_not_served_faults_with_fix(inline: InlineRunner) -> None:
    text = document(
        """
        do:
          - call:
              run:
                runner: {name: COMMAND, arguments: {command: "true"}, options: {channel: nowhere}}
        """
    )
    result = workflow_result(await inline.run(data=text, workflow_input=None))
    assert result.status == WorkflowResult.Faulted
    assert "channel 'nowhere'" in result.error_message
    assert "WORKER_CHANNELS" in result.error_message
    assert await worker_names(inline.stubs) == ["OneTimeFlow"]


async def test_run_worker_uses_existing_worker(wstubs: Stubs, inline: InlineRunner) -> None:
    await wstubs.workers.Create(
        worker_pb2.WorkerData(
            name="Echo",
            runner_id=runner_pb2.RunnerId(value=COMMAND_ID),
            response_type=common_pb2.NO_RESULT,
        )
    )
    text = document(
        """
        do:
          - call:
              run: {worker: {name: Echo, arguments: {command: echo, args: ["${.word}"]}}}
              output: {as: "${.stdout}"}
        """
    )
    assert completed_output(await inline.run(data=text, workflow_input={"word": "hi"})) == "hi"


async def test_static_run_task_keeps_and_updates_its_worker(
    inline: InlineRunner, wstubs: Stubs
) -> None:
    def text(store_success: str) -> str:
        return document(
            f"""
            do:
              - StaticEcho:
                  run:
                    runner:
                      name: COMMAND
                      arguments: {{command: echo, args: [ok]}}
                      options: {{useStatic: true, storeSuccess: {store_success}}}
            """
        )

    assert completed_output(await inline.run(data=text("false"), workflow_input=None))
    first = await wstubs.workers.FindByName(worker_service_pb2.WorkerNameRequest(name="StaticEcho"))
    assert first.data.data.use_static
    assert not first.data.data.store_success

    assert completed_output(await inline.run(data=text("false"), workflow_input=None))
    again = await wstubs.workers.FindByName(worker_service_pb2.WorkerNameRequest(name="StaticEcho"))
    assert again.data.id == first.data.id

    assert completed_output(await inline.run(data=text("true"), workflow_input=None))
    updated = await wstubs.workers.FindByName(
        worker_service_pb2.WorkerNameRequest(name="StaticEcho")
    )
    assert updated.data.id == first.data.id
    assert updated.data.data.store_success


async def test_try_retry_of_real_job_succeeds_second_time(
    inline: InlineRunner, tmp_path: Path
) -> None:
    marker = tmp_path / "attempted"
    script = f"if [ -e {marker} ]; then echo second; else touch {marker}; exit 3; fi"
    text = document(
        f"""
        do:
          - guarded:
              try:
                - flaky:
                    run: {{runner: {{name: COMMAND, arguments: {{command: sh, args: ["-c", "{script}"]}}}}}}
                - check:
                    if: "${{.exitCode != 0}}"
                    raise: {{error: {{type: "https://x/flaky", status: 503, detail: "${{.exitCode | tostring}}"}}}}
              catch:
                errors: {{with: {{type: "https://x/flaky"}}}}
                retry: {{delay: {{milliseconds: 50}}, limit: {{attempt: {{count: 2}}}}}}
        """  # noqa: E501
    )
    output = completed_output(await inline.run(data=text, workflow_input=None))
    assert output["stdout"] == "second"
    assert marker.exists()


async def test_fork_compete_cancels_the_slower_job(inline: InlineRunner, tmp_path: Path) -> None:
    pid_file = tmp_path / "slow.pid"
    text = document(
        f"""
        do:
          - race:
              fork:
                compete: true
                branches:
                  - slow:
                      run:
                        runner:
                          name: COMMAND
                          arguments: {{command: sh, args: ["-c", "echo $$ > {pid_file}; exec sleep 30"]}}
                  - fast:
                      do:
                        - pause: {{wait: {{milliseconds: 300}}}}
                        - quick: {{run: {{runner: {{name: COMMAND, arguments: {{command: echo, args: [fast]}}}}}}}}
        """  # noqa: E501
    )
    output = completed_output(await inline.run(data=text, workflow_input=None))
    assert output["stdout"] == "fast"
    pid = int(pid_file.read_text())

    async def slow_process_gone() -> bool:
        return not process_alive(pid)

    await eventually(slow_process_gone, message="the losing branch's sleep to stop")
    assert await worker_names(inline.stubs) == ["OneTimeFlow"]


async def test_for_in_parallel_runs_jobs_concurrently(inline: InlineRunner) -> None:
    text = document(
        """
        do:
          - loop:
              for: {in: "${.}"}
              inParallel: true
              do:
                - nap:
                    run:
                      runner:
                        name: COMMAND
                        arguments: {command: sh, args: ["-c", "sleep 0.5; echo $0", "${$item}"]}
                        options: {channel: workflow}
                    output: {as: "${.stdout}"}
        """
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    output = completed_output(await inline.run(data=text, workflow_input=["a", "b", "c", "d"]))
    assert output == ["a", "b", "c", "d"]
    assert loop.time() - started < 1.8


async def test_http_request_runner_against_local_server(inline: InlineRunner) -> None:
    with local_http_server() as http:
        http.routes["/api/items/7"] = Response(
            body=json.dumps({"id": 7, "name": "seven"}).encode(),
            content_type="application/json",
        )
        text = document(
            """
            do:
              - get:
                  run:
                    runner:
                      name: HTTP_REQUEST
                      settings: {base_url: "${.base}"}
                      arguments:
                        method: GET
                        path: "$${items/{{ id }}}"
                        queries: [{key: verbose, value: "1"}]
                        headers: []
              - use:
                  set:
                    status: "${.statusCode}"
                    name: "${.content | fromjson | .name}"
            """
        )
        output = completed_output(
            await inline.run(data=text, workflow_input={"base": http.url("/api/"), "id": 7})
        )
        assert http.requests == [("GET", "/api/items/7?verbose=1")]
    assert output == {"status": 200, "name": "seven"}


async def test_nested_inline_workflow_fault_fails_the_task(inline: InlineRunner) -> None:
    inner = document("do:\n  - boom: {raise: {error: {type: 'https://x/inner', status: 500}}}\n")
    outer = document(
        """
        do:
          - nested:
              run:
                runner:
                  name: INLINE_WORKFLOW
                  arguments: {workflow_data: "${.}", input: "null"}
        """
    )
    result = workflow_result(await inline.run(data=outer, workflow_input=inner))
    assert result.status == WorkflowResult.Faulted
    assert result.position == "/do/0/nested"
    assert "nested workflow faulted" in result.error_message


# Temporary workers and cancellation


async def test_temporary_workers_are_deleted_after_failure(inline: InlineRunner) -> None:
    text = document(
        """
        do:
          - ok: {run: {runner: {name: COMMAND, arguments: {command: "true"}}}}
          - fail: {raise: {error: {type: "https://x/after", status: 500}}}
        """
    )
    result = workflow_result(await inline.run(data=text, workflow_input=None))
    assert result.status == WorkflowResult.Faulted
    assert await worker_names(inline.stubs) == ["OneTimeFlow"]


async def test_cancelled_workflow_job_cleans_up(
    wstubs: Stubs, workflow_server: JwpServer, tmp_path: Path
) -> None:
    worker = await wstubs.workers.Create(
        worker_pb2.WorkerData(
            name="BackgroundFlow",
            runner_id=runner_pb2.RunnerId(value=INLINE_WORKFLOW_ID),
            response_type=common_pb2.NO_RESULT,
            store_failure=True,
        )
    )
    pid_file = tmp_path / "sleep.pid"
    text = document(
        f"""
        do:
          - long:
              run:
                runner:
                  name: COMMAND
                  arguments: {{command: sh, args: ["-c", "echo $$ > {pid_file}; exec sleep 60"]}}
        """
    )
    args = InlineWorkflowArgs(workflow_data=text, input="null")
    response = await wstubs.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_id=worker.id, args=args.SerializeToString())
    )

    async def sleeping() -> bool:
        return pid_file.exists() and pid_file.read_text().strip() != ""

    await eventually(sleeping, message="the run task's command to start")
    names = await worker_names(wstubs)
    assert len(names) == 2, names
    assert names[0].startswith("long-")
    pid = int(pid_file.read_text())
    components = workflow_server.components
    assert components is not None
    statuses_before = await components.jobs.find_all_statuses()
    assert len(statuses_before) == 2

    deleted = await wstubs.jobs.Delete(job_pb2.JobId(value=response.id.value))
    assert deleted.is_success

    async def cleaned_up() -> bool:
        remaining = await worker_names(wstubs)
        statuses = await components.jobs.find_all_statuses()
        return remaining == ["BackgroundFlow"] and not statuses and not process_alive(pid)

    await eventually(cleaned_up, message="the temporary worker, job and process to be gone")


# Streaming


async def test_run_stream_sends_each_task_then_final(workflow_server: JwpServer) -> None:
    components = workflow_server.components
    assert components is not None
    spec = components.runners.find_by_name("INLINE_WORKFLOW")
    assert spec is not None
    runner = spec.factory()
    await runner.load(b"")
    text = document(
        """
        do:
          - one: {set: {a: 1}}
          - loop:
              for: {in: "${[1, 2]}"}
              do:
                - each: {set: {v: "${$item}"}}
          - echo: {run: {runner: {name: COMMAND, arguments: {command: echo, args: [done]}}}}
        """
    )
    args = InlineWorkflowArgs(workflow_data=text, input="null").SerializeToString()

    results = []
    async for chunk in runner.run_stream(args, {}):
        decoded = WorkflowResult()
        decoded.ParseFromString(chunk)
        results.append(decoded)

    positions = [result.position for result in results]
    assert positions == [
        "/do/0/one",
        "/do/1/loop/do/0/each",
        "/do/1/loop/do/0/each",
        "/do/1/loop",
        "/do/2/echo",
        "/do/2/echo",
    ]
    assert [result.status for result in results[:-1]] == [WorkflowResult.Running] * 5
    assert results[-1].status == WorkflowResult.Completed
    assert json.loads(results[1].output) == {"v": 1}
    assert json.loads(results[-1].output)["stdout"] == "done"
    assert len({result.id for result in results}) == 1


# REUSABLE_WORKFLOW


REUSABLE_DOCUMENT = document(
    """
    input: {schema: {document: {type: object, required: [name]}}}
    do:
      - greet:
          run:
            runner: {name: COMMAND, arguments: {command: echo, args: ["$${hello {{ name }}}"]}}
          output: {as: "${.stdout}"}
    """
)


async def test_reusable_workflow_runs_twice_with_different_inputs(wstubs: Stubs) -> None:
    settings = ReusableWorkflowRunnerSettings(json_data=REUSABLE_DOCUMENT)
    created = await wstubs.workers.Create(
        worker_pb2.WorkerData(
            name="Greeter",
            runner_id=runner_pb2.RunnerId(value=REUSABLE_WORKFLOW_ID),
            runner_settings=settings.SerializeToString(),
            response_type=common_pb2.DIRECT,
        )
    )

    async def greet(name: str) -> Any:
        args = ReusableWorkflowArgs(input=json.dumps({"name": name}))
        response = await wstubs.jobs.Enqueue(
            job_service_pb2.JobRequest(worker_id=created.id, args=args.SerializeToString())
        )
        return completed_output(response.result)

    assert await greet("alice") == "hello alice"
    assert await greet("bob") == "hello bob"


async def test_reusable_workflow_rejects_bad_input(wstubs: Stubs) -> None:
    settings = ReusableWorkflowRunnerSettings(json_data=REUSABLE_DOCUMENT)
    created = await wstubs.workers.Create(
        worker_pb2.WorkerData(
            name="Greeter",
            runner_id=runner_pb2.RunnerId(value=REUSABLE_WORKFLOW_ID),
            runner_settings=settings.SerializeToString(),
            response_type=common_pb2.DIRECT,
        )
    )
    args = ReusableWorkflowArgs(input='{"nobody": true}')
    response = await wstubs.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_id=created.id, args=args.SerializeToString())
    )
    assert response.result.data.status == common_pb2.OTHER_ERROR
    assert "'name' is a required property" in response.result.data.output.items.decode()


@pytest.mark.parametrize(
    ("json_data", "expected"),
    [
        (document("do:\n  - A: {wait: 5}\n"), "/do/0/A/wait: 5 is not a duration"),
        ("", "json_data is empty"),
        ("do: [", "not valid YAML or JSON"),
    ],
)
async def test_reusable_worker_with_invalid_document_is_rejected(
    wstubs: Stubs, json_data: str, expected: str
) -> None:
    settings = ReusableWorkflowRunnerSettings(json_data=json_data)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await wstubs.workers.Create(
            worker_pb2.WorkerData(
                name="Broken",
                runner_id=runner_pb2.RunnerId(value=REUSABLE_WORKFLOW_ID),
                runner_settings=settings.SerializeToString(),
            )
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in (caught.value.details() or "")
    assert await worker_names(wstubs) == []


async def test_workflow_runners_are_listed(wstubs: Stubs) -> None:
    inline = await wstubs.runners.Find(runner_pb2.RunnerId(value=INLINE_WORKFLOW_ID))
    reusable = await wstubs.runners.Find(runner_pb2.RunnerId(value=REUSABLE_WORKFLOW_ID))
    assert inline.data.data.name == "INLINE_WORKFLOW"
    assert inline.data.data.output_type == runner_pb2.BOTH
    assert "message InlineWorkflowArgs" in inline.data.data.job_args_proto
    assert "message WorkflowResult" in inline.data.data.result_output_proto
    assert inline.data.data.runner_settings_proto == ""
    assert reusable.data.data.name == "REUSABLE_WORKFLOW"
    assert "message ReusableWorkflowRunnerSettings" in reusable.data.data.runner_settings_proto
