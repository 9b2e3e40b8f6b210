"""The executor: task types, flow directives and the task lifecycle, without a server.

Run tasks need jobs, so they are tested against a real server in
`test_workflow_runners.py`. Here a job runner that records its calls
replaces the server where only the executor's side of a run task is checked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import pytest

from jwp.server.workflow.errors import ErrorType
from jwp.server.workflow.executor import WorkflowExecutor, WorkflowOutcome, WorkflowStatus
from jwp.server.workflow.model import RunTask, parse_workflow

from .documents import document


class RecordingJobRunner:
    """Returns the arguments it got, so tests see what a run task would send."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def run(
        self,
        task: RunTask,
        *,
        arguments: Any,
        settings: Any,
        timeout_ms: int,
        metadata: Mapping[str, str],
    ) -> Any:
        call = {
            "task": task.name,
            "arguments": arguments,
            "settings": settings,
            "timeout_ms": timeout_ms,
            "metadata": dict(metadata),
        }
        self.calls.append(call)
        return {"echo": arguments}


async def run(
    body: str,
    workflow_input: Any = None,
    context: dict[str, Any] | None = None,
    *,
    job_runner: RecordingJobRunner | None = None,
    metadata: dict[str, str] | None = None,
) -> tuple[WorkflowOutcome, list[tuple[str, Any]]]:
    events: list[tuple[str, Any]] = []
    executor = WorkflowExecutor(
        parse_workflow(document(body)),
        run_id="run-1",
        job_runner=job_runner,
        metadata=metadata,
        on_task_finished=lambda position, output: events.append((position, output)),
    )
    outcome = await executor.execute(workflow_input, context or {})
    return outcome, events


async def completed(body: str, workflow_input: Any = None, **kwargs: Any) -> Any:
    outcome, _ = await run(body, workflow_input, **kwargs)
    assert outcome.status is WorkflowStatus.COMPLETED, outcome.error
    return outcome.output


async def faulted(body: str, workflow_input: Any = None, **kwargs: Any) -> WorkflowOutcome:
    outcome, _ = await run(body, workflow_input, **kwargs)
    assert outcome.status is WorkflowStatus.FAULTED, outcome.output
    assert outcome.error is not None
    return outcome


# set, do, and the data flow between tasks


async def test_set_writes_context_and_output() -> None:
    output = await completed(
        """
        do:
          - first: {set: {a: 1, b: "${.x}"}}
          - second: {set: {sum: "${$a + $b}", echo: "${.}"}}
        """,
        {"x": 2},
    )
    assert output == {"sum": 3, "echo": {"a": 1, "b": 2}}


async def test_nested_do_passes_output_on() -> None:
    output = await completed(
        """
        do:
          - outer:
              do:
                - inner: {set: {n: "${. + 1}"}, output: {as: "${.n}"}}
                - again: {set: {n: "${. * 10}"}, output: {as: "${.n}"}}
          - last: {set: {final: "${.}"}}
        """,
        1,
    )
    assert output == {"final": 20}


async def test_progress_events_name_each_finished_task() -> None:
    outcome, events = await run(
        """
        do:
          - outer:
              do:
                - inner: {set: {a: 1}}
          - last: {set: {b: 2}}
        """
    )
    assert [position for position, _ in events] == [
        "/do/0/outer/do/0/inner",
        "/do/0/outer",
        "/do/1/last",
    ]
    assert events[0][1] == {"a": 1}
    assert outcome.position == "/do/1/last"
    assert outcome.id == "run-1"


# if, input.from, output.as, export.as, schemas, timeout


async def test_if_false_skips_task_and_keeps_input() -> None:
    output = await completed(
        """
        do:
          - skipped: {if: "${. > 5}", set: {never: true}}
          - kept: {if: "$${{% if raw_input < 5 %}true{% endif %}}", set: {seen: "${.}"}}
        """,
        3,
    )
    assert output == {"seen": 3}


async def test_input_from_output_as_and_export_as() -> None:
    output = await completed(
        """
        do:
          - shaped:
              input: {from: "${.payload}"}
              set: {doubled: "${. * 2}"}
              output: {as: {value: "${.doubled}", original: "${$input}"}}
              export: {as: {saved: "${.value}"}}
          - reader: {set: {fromContext: "${$saved}", viaContext: "${$context.saved}"}}
        """,
        {"payload": 21},
    )
    assert output == {"fromContext": 42, "viaContext": 42}


async def test_output_as_liquid_object_builds_structure() -> None:
    output = await completed(
        """
        do:
          - build:
              set: {name: x}
              output: {as: '$${{"files": ["{{ name }}", "y"]}}'}
          - count: {set: {n: "${.files | length}"}}
        """
    )
    assert output == {"n": 2}


async def test_export_as_must_give_object() -> None:
    outcome = await faulted(
        """
        do:
          - bad: {set: {a: 1}, export: {as: "${.a}"}}
        """
    )
    assert outcome.position == "/do/0/bad"
    assert "export.as gave a number" in str(outcome.error)


async def test_task_schemas_are_checked() -> None:
    body = """
        do:
          - checked:
              input: {schema: {document: {type: object, required: [id]}}}
              set: {ok: true}
              output: {schema: {document: {type: object, required: [missing]}}}
        """
    input_error = await faulted(body, {"no": "id"})
    assert input_error.error is not None
    assert input_error.error.type == ErrorType.VALIDATION
    assert "task input does not match its schema" in str(input_error.error)
    output_error = await faulted(body, {"id": 1})
    assert "task output does not match its schema" in str(output_error.error)


async def test_workflow_input_from_and_output_as() -> None:
    output = await completed(
        """
        input: {from: "${.inner}"}
        output: {as: "${.result}"}
        do:
          - calc: {set: {result: "${. + 1}"}}
        """,
        {"inner": 1},
    )
    assert output == 2


async def test_timeout_fails_slow_task() -> None:
    started = time.monotonic()
    outcome = await faulted(
        """
        do:
          - slow: {wait: PT30S, timeout: {after: {milliseconds: 50}}}
        """
    )
    assert time.monotonic() - started < 10
    assert outcome.error is not None
    assert outcome.error.type == ErrorType.TIMEOUT
    assert outcome.error.status == 408
    assert outcome.position == "/do/0/slow"


async def test_wait_iso_and_object_durations() -> None:
    started = time.monotonic()
    output = await completed(
        """
        do:
          - iso: {wait: PT0.05S}
          - object: {wait: {milliseconds: 50}}
        """,
        "kept",
    )
    assert output == "kept"
    assert time.monotonic() - started >= 0.1


# flow directives


async def test_then_exit_leaves_only_the_current_list() -> None:
    output = await completed(
        """
        do:
          - block:
              do:
                - one: {set: {a: 1}, then: exit}
                - skipped: {set: {never: true}}
          - after: {set: {b: "${$a}", never: "${$never}"}}
        """
    )
    assert output == {"b": 1, "never": None}


async def test_then_end_stops_the_workflow() -> None:
    output = await completed(
        """
        do:
          - block:
              do:
                - one: {set: {a: 1}, then: end}
                - skipped: {set: {b: 2}}
          - after: {set: {c: 3}}
        """
    )
    assert output == {"a": 1}


async def test_then_jumps_to_named_task_and_loops() -> None:
    output = await completed(
        """
        do:
          - start: {set: {n: 0}}
          - step: {set: {n: "${$n + 1}"}}
          - check:
              switch:
                - again: {when: "${$n < 5}", then: step}
                - done: {then: continue}
          - finish: {set: {count: "${$n}"}}
        """
    )
    assert output == {"count": 5}


async def test_then_expression_names_the_target() -> None:
    output = await completed(
        """
        do:
          - pick: {set: {target: last}, then: "${.target}"}
          - middle: {set: {never: true}}
          - last: {set: {reached: "${$never}"}}
        """
    )
    assert output == {"reached": None}


async def test_then_expression_with_unknown_task_faults() -> None:
    outcome = await faulted(
        """
        do:
          - pick: {set: {a: 1}, then: "${\\"nowhere\\"}"}
        """
    )
    assert "then names task 'nowhere'" in str(outcome.error)


# switch


async def test_switch_first_matching_case_decides() -> None:
    body = """
        do:
          - route:
              switch:
                - big: {when: "${. > 10}", then: large}
                - small: {when: "${. > 0}", then: positive}
                - fallback: {then: exit}
          - large: {set: {size: large}, then: end}
          - positive: {set: {size: positive}, then: end}
        """
    assert await completed(body, 50) == {"size": "large"}
    assert await completed(body, 5) == {"size": "positive"}
    assert await completed(body, -1) == -1


async def test_switch_without_match_continues() -> None:
    output = await completed(
        """
        do:
          - route:
              switch:
                - never: {when: "${false}", then: end}
          - next: {set: {went: onward}}
        """
    )
    assert output == {"went": "onward"}


# for


async def test_for_each_in_at() -> None:
    output = await completed(
        """
        do:
          - loop:
              for: {each: name, in: "${.names}", at: position}
              do:
                - greet: {set: {line: "$${{{ position }}:{{ name }}}"}}
          - after: {set: {loopVars: "${[$name, $position]}", lines: "${[.[].line]}"}}
        """,
        {"names": ["a", "b", "c"]},
    )
    assert output == {"loopVars": [None, None], "lines": ["0:a", "1:b", "2:c"]}


async def test_for_default_variable_names() -> None:
    output = await completed(
        """
        do:
          - loop:
              for: {in: "${.}"}
              do:
                - pair: {set: {pair: "${[$index, $item]}"}, output: {as: "${.pair}"}}
        """,
        ["x", "y"],
    )
    assert output == [[0, "x"], [1, "y"]]


async def test_for_empty_collection_gives_empty_array() -> None:
    output = await completed(
        """
        do:
          - loop:
              for: {in: "${.}"}
              do:
                - never: {raise: {error: {type: "https://x/never", status: 500}}}
        """,
        [],
    )
    assert output == []


async def test_for_while_stops_the_loop() -> None:
    output = await completed(
        """
        do:
          - loop:
              for: {in: "${.}"}
              while: "${$index < 2}"
              do:
                - keep: {set: {v: "${$item}"}, output: {as: "${.v}"}}
        """,
        [10, 20, 30, 40],
    )
    assert output == [10, 20]


async def test_for_in_must_be_an_array() -> None:
    outcome = await faulted(
        """
        do:
          - loop:
              for: {in: "${.}"}
              do:
                - x: {set: {a: 1}}
        """,
        {"not": "a list"},
    )
    assert "for.in gave an object, not an array" in str(outcome.error)
    assert outcome.position == "/do/0/loop"


async def test_for_in_parallel_runs_iterations_together() -> None:
    started = time.monotonic()
    output = await completed(
        """
        do:
          - loop:
              for: {in: "${.}"}
              inParallel: true
              do:
                - pause: {wait: {milliseconds: 300}}
                - tag: {set: {v: "${$item * 2}", i: "${$index}"}}
        """,
        [1, 2, 3, 4, 5],
    )
    elapsed = time.monotonic() - started
    assert output == [{"v": 2 * n, "i": n - 1} for n in range(1, 6)]
    assert elapsed < 1.2, f"5 iterations of 300 ms took {elapsed:.2f} s"


async def test_for_in_parallel_failure_cancels_other_iterations() -> None:
    started = time.monotonic()
    outcome = await faulted(
        """
        do:
          - loop:
              for: {in: "${.}"}
              inParallel: true
              do:
                - maybeFail:
                    if: "${$item == 2}"
                    raise: {error: {type: "https://x/boom", status: 500}}
                - slow: {wait: PT30S}
        """,
        [1, 2, 3],
    )
    assert time.monotonic() - started < 10
    assert outcome.error is not None
    assert outcome.error.type == "https://x/boom"
    assert outcome.position == "/do/0/loop/do/0/maybeFail"


# fork


async def test_fork_runs_branches_concurrently() -> None:
    started = time.monotonic()
    output = await completed(
        """
        do:
          - both:
              fork:
                branches:
                  - left: {do: [{pause: {wait: {milliseconds: 300}}}, {l: {set: {side: left}}}]}
                  - right: {do: [{pause: {wait: {milliseconds: 300}}}, {r: {set: {side: right}}}]}
        """
    )
    assert output == [{"side": "left"}, {"side": "right"}]
    assert time.monotonic() - started < 0.55


async def test_fork_leaves_out_null_outputs() -> None:
    output = await completed(
        """
        do:
          - both:
              fork:
                branches:
                  - nothing: {set: {a: 1}, output: {as: "${null}"}}
                  - something: {set: {b: 2}}
        """
    )
    assert output == [{"b": 2}]


async def test_fork_compete_first_success_wins() -> None:
    started = time.monotonic()
    output = await completed(
        """
        do:
          - race:
              fork:
                compete: true
                branches:
                  - slow: {do: [{pause: {wait: PT30S}}, {s: {set: {winner: slow}}}]}
                  - failing: {raise: {error: {type: "https://x/fail", status: 500}}}
                  - fast: {do: [{pause: {wait: {milliseconds: 50}}}, {f: {set: {winner: fast}}}]}
        """
    )
    assert output == {"winner": "fast"}
    assert time.monotonic() - started < 10


async def test_fork_compete_all_failing_raises_first_error() -> None:
    outcome = await faulted(
        """
        do:
          - race:
              fork:
                compete: true
                branches:
                  - one: {raise: {error: {type: "https://x/one", status: 500}}}
                  - two: {raise: {error: {type: "https://x/two", status: 500}}}
        """
    )
    assert outcome.error is not None
    assert outcome.error.type == "https://x/one"


# raise and try/catch


async def test_raise_faults_with_error_object() -> None:
    outcome = await faulted(
        """
        do:
          - check:
              raise:
                error:
                  type: https://example.com/errors/bad-input
                  status: 422
                  title: bad input
                  detail: "$${value was {{ raw_input }}}"
        """,
        7,
    )
    assert outcome.output == {
        "type": "https://example.com/errors/bad-input",
        "status": 422,
        "title": "bad input",
        "detail": "value was 7",
        "instance": "/do/0/check",
    }
    assert outcome.position == "/do/0/check"


async def test_try_catch_runs_catch_do_with_error_variable() -> None:
    output = await completed(
        """
        do:
          - guarded:
              try:
                - fail: {raise: {error: {type: "https://x/e", status: 418, title: teapot}}}
              catch:
                as: problem
                do:
                  - handle: {set: {caught: "${$problem.status}", title: "${$problem.title}"}}
          - after: {set: {problemAfter: "${$problem}", last: "${.caught}"}}
        """
    )
    assert output == {"problemAfter": None, "last": 418}


async def test_catch_without_do_swallows_error_and_passes_input() -> None:
    output = await completed(
        """
        do:
          - guarded:
              try:
                - fail: {raise: {error: {type: "https://x/e", status: 500}}}
              catch: {}
        """,
        "input",
    )
    assert output == "input"


@pytest.mark.parametrize(
    ("error_filter", "caught"),
    [
        ("{type: https://x/e}", True),
        ("{type: https://x/other}", False),
        ("{status: 418}", True),
        ("{status: 500}", False),
        ("{title: teapot, status: 418}", True),
        ("{details: 'short and stout'}", True),
        ("{details: other}", False),
        ("{instance: /do/0/guarded/try/0/fail}", True),
    ],
)
async def test_catch_errors_with_filter(error_filter: str, caught: bool) -> None:
    outcome, _ = await run(
        f"""
        do:
          - guarded:
              try:
                - fail:
                    raise:
                      error:
                        type: https://x/e
                        status: 418
                        title: teapot
                        detail: short and stout
              catch:
                errors: {{with: {error_filter}}}
                do:
                  - handle: {{set: {{handled: true}}}}
        """
    )
    expected = WorkflowStatus.COMPLETED if caught else WorkflowStatus.FAULTED
    assert outcome.status is expected


async def test_catch_filter_matches_standard_type_by_short_name() -> None:
    output = await completed(
        """
        do:
          - guarded:
              try:
                - slow: {wait: PT30S, timeout: {after: {milliseconds: 20}}}
              catch:
                errors: {with: {type: timeout}}
                do:
                  - handle: {set: {timedOut: "${$error.status}"}}
        """
    )
    assert output == {"timedOut": 408}


async def test_catch_when_and_except_when() -> None:
    body = """
        do:
          - guarded:
              try:
                - fail: {raise: {error: {type: "https://x/e", status: "${.}"}}}
              catch:
                when: "${$error.status >= 500}"
                exceptWhen: "${$error.status == 503}"
                do:
                  - handle: {set: {handled: "${$error.status}"}}
        """
    assert await completed(body, 500) == {"handled": 500}
    assert (await faulted(body, 404)).error is not None
    assert (await faulted(body, 503)).error is not None


async def test_try_retry_succeeds_on_second_attempt() -> None:
    output = await completed(
        """
        do:
          - init: {set: {attempts: 0}}
          - guarded:
              try:
                - count: {set: {attempts: "${$attempts + 1}"}}
                - failFirst:
                    if: "${$attempts < 2}"
                    raise: {error: {type: "https://x/flaky", status: 503}}
                - done: {set: {attempts: "${$attempts}", ok: true}}
              catch:
                errors: {with: {status: 503}}
                retry:
                  delay: {milliseconds: 10}
                  backoff: {constant: {}}
                  limit: {attempt: {count: 3}}
        """
    )
    assert output == {"attempts": 2, "ok": True}


async def test_try_retry_exhausted_without_do_faults() -> None:
    started = time.monotonic()
    outcome = await faulted(
        """
        do:
          - init: {set: {attempts: 0}}
          - guarded:
              try:
                - count: {set: {attempts: "${$attempts + 1}"}}
                - fail: {raise: {error: {type: "https://x/always", status: "${$attempts}"}}}
              catch:
                retry:
                  delay: {milliseconds: 20}
                  backoff: {linear: {}}
                  limit: {attempt: {count: 2}}
        """
    )
    assert outcome.error is not None
    assert outcome.error.status == 3
    assert time.monotonic() - started >= 0.06


async def test_try_retry_exhausted_runs_catch_do() -> None:
    output = await completed(
        """
        do:
          - guarded:
              try:
                - fail: {raise: {error: {type: "https://x/always", status: 500}}}
              catch:
                retry: {delay: {milliseconds: 1}, limit: {attempt: {count: 1}}}
                do:
                  - fallback: {set: {fallback: true}}
        """
    )
    assert output == {"fallback": True}


async def test_errors_inside_nested_tasks_keep_their_position() -> None:
    outcome = await faulted(
        """
        do:
          - outer:
              do:
                - inner: {set: {x: "${.missing.deeper | length}"}}
        """,
        {"missing": 5},
    )
    assert outcome.position == "/do/0/outer/do/0/inner"
    assert outcome.error is not None
    assert outcome.error.type == ErrorType.EXPRESSION


# run tasks, seen from the executor


async def test_run_task_gets_evaluated_arguments_settings_and_metadata() -> None:
    jobs = RecordingJobRunner()
    output = await completed(
        """
        do:
          - call:
              metadata: {team: search, ignored: {nested: true}}
              timeout: {after: PT2S}
              run:
                runner:
                  name: HTTP_REQUEST
                  settings: {base_url: "${.base}"}
                  arguments: {method: GET, path: "$${/items/{{ id }}}", queries: ["${.q}"]}
          - named:
              run: {worker: {name: existing, arguments: {value: "${.echo.path}"}}}
        """,
        {"base": "http://127.0.0.1:1", "id": 7, "q": {"key": "a", "value": "b"}},
        job_runner=jobs,
        metadata={"trace": "t-1"},
    )
    first, second = jobs.calls
    assert first["arguments"] == {
        "method": "GET",
        "path": "/items/7",
        "queries": [{"key": "a", "value": "b"}],
    }
    assert first["settings"] == {"base_url": "http://127.0.0.1:1"}
    assert first["timeout_ms"] == 2000
    assert first["metadata"] == {"trace": "t-1", "team": "search"}
    assert second["arguments"] == {"value": "/items/7"}
    assert second["settings"] is None
    assert second["timeout_ms"] == 1_200_000
    assert output == {"echo": {"value": "/items/7"}}


# context, variables, cancellation


async def test_workflow_context_and_builtin_variables() -> None:
    output = await completed(
        """
        do:
          - read:
              set:
                fromContext: "${$greeting}"
                workflowInput: "${$workflow.input}"
                workflowId: "${$workflow.id}"
                taskName: "${$task.name}"
                taskReference: "${$task.reference}"
                runtimeName: "${$runtime.name}"
                contextKeys: "${$context | keys}"
        """,
        {"x": 1},
        context={"greeting": "hello"},
    )
    assert output == {
        "fromContext": "hello",
        "workflowInput": {"x": 1},
        "workflowId": "run-1",
        "taskName": "read",
        "taskReference": "/do/0/read",
        "runtimeName": "jwp",
        "contextKeys": ["greeting"],
    }


async def test_cancel_stops_a_waiting_workflow() -> None:
    executor = WorkflowExecutor(
        parse_workflow(document("do:\n  - pause: {wait: PT60S}\n")),
        run_id="run-2",
        job_runner=None,
    )
    task = asyncio.create_task(executor.execute(None, {}))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_endless_jump_loop_yields_to_other_tasks() -> None:
    executor = WorkflowExecutor(
        parse_workflow(document("do:\n  - spin: {set: {a: 1}, then: spin}\n")),
        run_id="run-3",
        job_runner=None,
    )
    task = asyncio.create_task(executor.execute(None, {}))
    ticked = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, ticked.set)
    await asyncio.wait_for(ticked.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
