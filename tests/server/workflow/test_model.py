"""Workflow documents: parsing, validation with task paths, and the typed model."""

from __future__ import annotations

import json

import pytest

from jwp.server.workflow.durations import DurationError, duration_ms
from jwp.server.workflow.errors import WorkflowDefinitionError
from jwp.server.workflow.model import (
    DEFAULT_WORKER_OPTIONS,
    ForTask,
    RunnerTarget,
    RunTask,
    SetTask,
    TryTask,
    WorkerTarget,
    parse_workflow,
)

from .documents import HEADER, README_LS_WORKFLOW, document


def issues_of(text: str) -> list[str]:
    with pytest.raises(WorkflowDefinitionError) as caught:
        parse_workflow(text)
    return [str(issue) for issue in caught.value.issues]


def test_readme_example_parses() -> None:
    workflow = parse_workflow(README_LS_WORKFLOW)
    assert workflow.name == "ls-test"
    assert [task.path for task in workflow.tasks] == ["/do/0/ListWorker", "/do/1/EachFileIteration"]
    loop = workflow.tasks[1]
    assert isinstance(loop, ForTask)
    assert (loop.each, loop.at, loop.in_parallel) == ("file", "ind", False)
    inner = loop.tasks[0]
    assert inner.path == "/do/1/EachFileIteration/do/0/ListWorkerInner"
    assert isinstance(inner, RunTask)
    assert isinstance(inner.target, RunnerTarget)
    assert inner.target.options.channel == "workflow"
    assert inner.target.options.store_success


def test_json_document_parses() -> None:
    data = {
        "document": {"dsl": "0.0.1", "namespace": "default", "name": "j", "version": "1.0.0"},
        "do": [{"one": {"set": {"a": 1}}}],
    }
    workflow = parse_workflow(json.dumps(data))
    assert isinstance(workflow.tasks[0], SetTask)


def test_yaml_dates_stay_strings() -> None:
    workflow = parse_workflow(document("do:\n  - when: {set: {day: 2025-01-31}}\n"))
    assert workflow.definition["do"][0]["when"]["set"]["day"] == "2025-01-31"


def test_yaml_booleans_follow_yaml_1_2() -> None:
    workflow = parse_workflow(document("do:\n  - flags: {set: {a: on, b: yes, c: true}}\n"))
    assert workflow.definition["do"][0]["flags"]["set"] == {"a": "on", "b": "yes", "c": True}


def test_run_options_defaults_without_options() -> None:
    workflow = parse_workflow(
        document(
            """
            do:
              - Call: {run: {runner: {name: COMMAND, arguments: {command: echo}}}}
              - Named: {run: {worker: {name: existing, arguments: {a: 1}}}}
            """
        )
    )
    call, named = workflow.tasks
    assert isinstance(call, RunTask) and isinstance(call.target, RunnerTarget)
    assert call.target.options == DEFAULT_WORKER_OPTIONS
    assert call.target.options.store_failure and call.target.options.broadcast_results
    assert not call.target.options.store_success
    assert isinstance(named, RunTask) and isinstance(named.target, WorkerTarget)


def test_catch_retry_policy_is_built() -> None:
    workflow = parse_workflow(
        document(
            """
            do:
              - Guard:
                  try:
                    - work: {set: {a: 1}}
                  catch:
                    errors: {with: {status: 503}}
                    as: failure
                    retry:
                      delay: PT0.5S
                      backoff: {exponential: {}}
                      limit: {attempt: {count: 3, duration: {seconds: 1}}}
            """
        )
    )
    guard = workflow.tasks[0]
    assert isinstance(guard, TryTask)
    policy = guard.catch.retry
    assert policy is not None
    assert [policy.delay_before_retry(n) for n in range(4)] == [500, 1000, 1000, None]
    assert guard.catch.as_name == "failure"
    assert guard.catch.error_filter == {"status": 503}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "do:\n  - EachFile:\n      for: {each: f}\n      do: []\n",
            "/do/0/EachFile/for/in: missing required property 'in'",
        ),
        (
            "do:\n  - A: {set: {x: 1}, wait: PT1S}\n",
            "/do/0/A: task has more than one type (set, wait); give exactly one",
        ),
        (
            "do:\n  - B: {if: '${true}'}\n",
            "/do/0/B: task has no type; give exactly one of do, for, fork, raise, run, set, "
            "switch, try, wait",
        ),
        (
            "do:\n  - C: {wait: 5}\n",
            "/do/0/C/wait: 5 is not a duration; give an ISO 8601 string such as PT5S or an "
            "object such as {seconds: 5}",
        ),
        (
            "do:\n  - D: {run: {}}\n",
            "/do/0/D/run: missing run target; give runner (name and arguments) or worker "
            "(name and arguments)",
        ),
        (
            "do:\n  - D: {run: {runner: {name: X, arguments: {}}, worker: {name: Y, "
            "arguments: {}}}}\n",
            "/do/0/D/run: give either runner or worker, not both",
        ),
        (
            "do:\n  - E: {raise: {error: named}}\n",
            '/do/0/E/raise/error: "named" names a reusable definition, but named errors are '
            "not supported; write the definition inline",
        ),
        ("do:\n  - F: {set: {x: 1}, foo: 2}\n", "/do/0/F/foo: unknown property 'foo'"),
        (
            "do:\n  - G: {run: {runner: {name: COMMAND}}}\n",
            "/do/0/G/run/runner/arguments: missing required property 'arguments'",
        ),
        (
            "do:\n  - {}\n",
            "/do/0: a task list entry must be a map with exactly one key, the task name",
        ),
        ("do:\n  - H: {set: {}}\n", "/do/0/H/set: {} should be non-empty"),
        (
            "do:\n  - I:\n      do:\n        - J: {for: {in: '${.}'}}\n",
            "/do/0/I/do/0/J/do: missing required property 'do'",
        ),
    ],
)
def test_structure_errors_name_the_task_path(body: str, expected: str) -> None:
    assert expected in issues_of(HEADER + body)


def test_document_header_is_checked() -> None:
    issues = issues_of("document: {dsl: 0.0.1, namespace: default, name: 'bad name'}\ndo: []\n")
    assert "/document/version: missing required property 'version'" in issues
    assert any(issue.startswith("/document/name: 'bad name' does not match") for issue in issues)


def test_every_problem_is_listed() -> None:
    issues = issues_of(
        document(
            """
            do:
              - A: {wait: 5}
              - B: {set: {x: 1}, extra: true}
            """
        )
    )
    assert len(issues) == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "do:\n  - G: {set: {y: '${.[}'}}\n",
            "/do/0/G/set/y: jq filter '.[' does not compile",
        ),
        (
            "do:\n  - K: {set: {z: '$${{% if %}}'}}\n",
            "/do/0/K/set/z: Liquid template '{% if %}' does not compile: missing expression",
        ),
        (
            "do:\n  - L: {run: {runner: {name: COMMAND, arguments: {args: [ok, '${)}']}}}}\n",
            "/do/0/L/run/runner/arguments/args/1: jq filter ')' does not compile",
        ),
        (
            "do:\n  - H: {wait: P1Y}\n",
            "/do/0/H/wait: duration 'P1Y' uses years or months",
        ),
        (
            "do:\n  - F: {set: {input: 1}}\n",
            "/do/0/F/set/input: 'input' is a built-in variable",
        ),
        (
            "do:\n  - F: {set: {a: 1}, then: Nowhere}\n",
            "/do/0/F/then: 'Nowhere' is neither continue, exit, end nor a task of this list "
            "(tasks: F)",
        ),
        (
            "do:\n  - S:\n      switch:\n        - a: {then: Zed}\n",
            "/do/0/S/switch/0/a/then: 'Zed' is neither continue, exit, end nor a task",
        ),
        (
            "do:\n  - T: {set: {a: 1}, input: {schema: {document: {type: 5}}}}\n",
            "/do/0/T/input/schema/document/type: not a valid JSON Schema",
        ),
        (
            "input: {schema: {document: {type: stringy}}}\ndo: []\n",
            "/input/schema/document/type: not a valid JSON Schema",
        ),
        (
            "do:\n  - L:\n      for: {in: '${.}', each: x, at: x}\n      do: []\n",
            "/do/0/L/for/at: 'x' is also the item variable",
        ),
        (
            "do:\n  - Guard:\n      try: []\n      catch: {as: task}\n",
            "/do/0/Guard/catch/as: 'task' is a built-in variable",
        ),
        (
            "do:\n  - W: {wait: PT1S, timeout: {after: soon}}\n",
            "/do/0/W/timeout/after: duration 'soon' is not an ISO 8601 duration",
        ),
    ],
)
def test_meaning_errors_name_the_task_path(body: str, expected: str) -> None:
    issues = issues_of(HEADER + body)
    assert any(issue.startswith(expected) for issue in issues), issues


def test_jump_to_sibling_task_is_accepted() -> None:
    workflow = parse_workflow(
        document(
            """
            do:
              - first: {set: {a: 1}, then: third}
              - second: {set: {b: 2}}
              - third: {set: {c: 3}, then: "${ \\"end\\" }"}
            """
        )
    )
    assert workflow.tasks[0].then is not None
    assert workflow.tasks[0].then.text == "third"


def test_invalid_yaml_is_reported() -> None:
    issues = issues_of("do: [\n")
    assert len(issues) == 1
    assert issues[0].startswith("/: not valid YAML or JSON at line")


def test_empty_document_is_reported() -> None:
    assert issues_of("  \n") == ["/: the document is empty"]


def test_error_message_names_the_source() -> None:
    with pytest.raises(WorkflowDefinitionError) as caught:
        parse_workflow(HEADER + "do:\n  - A: {wait: 5}\n", source="workflow ./x.yaml")
    assert str(caught.value).startswith("invalid workflow ./x.yaml: /do/0/A/wait: ")


@pytest.mark.parametrize(
    ("duration", "milliseconds"),
    [
        ("PT5S", 5000),
        ("PT0.25S", 250),
        ("PT1M30S", 90_000),
        ("P1DT1H", 90_000_000),
        ("P1W", 604_800_000),
        ({"seconds": 2, "milliseconds": 5}, 2005),
        ({"days": 1}, 86_400_000),
    ],
)
def test_durations(duration: object, milliseconds: int) -> None:
    assert duration_ms(duration) == milliseconds


@pytest.mark.parametrize("duration", ["P", "PT", "5S", "P1M", "PT-1S", {}, {"weeks": 1}, 5])
def test_invalid_durations(duration: object) -> None:
    with pytest.raises(DurationError):
        duration_ms(duration)
