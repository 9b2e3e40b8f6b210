"""Workflow documents: parsing, validation, and the typed model the executor runs.

`parse_workflow(text)` reads YAML or JSON text and returns a `Workflow`, or
raises `WorkflowDefinitionError` listing every problem with its JSON
pointer (`/do/1/EachFile/for/in: missing required property 'in'`) before
anything runs. Validation has two stages:

1. Structure, with the JSON Schema `workflow.schema.json` beside this file
   (the subset of Serverless Workflow 1.0 that jwp runs).
2. Meaning: every expression compiles, durations parse, `schema.document`
   values are valid JSON Schemas, `then` names a task of the same list,
   and variable names do not shadow the built-in variables.

Tasks become dataclasses with their expressions compiled, so a run only
evaluates them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from .durations import DurationError, duration_ms
from .errors import DefinitionIssue, WorkflowDefinitionError, WorkflowError, validation_error
from .expressions import Template, parse_expression
from .retry import RetryPolicy

TASK_TYPES = ("do", "for", "fork", "raise", "run", "set", "switch", "try", "wait")
"""Keys that give a task its type; a task has exactly one (a `for` task also has `do`)."""

RESERVED_VARIABLES = frozenset({"input", "output", "context", "runtime", "workflow", "task"})
"""Variables the executor defines; context variables cannot take these names."""

FLOW_KEYWORDS = frozenset({"continue", "exit", "end"})

_SCHEMA_RESOURCE = "workflow.schema.json"
_NAMED_REFERENCE_FIELDS = {
    "error": "errors",
    "retry": "retry policies",
    "timeout": "timeouts",
}


# The model


@dataclass(frozen=True, slots=True)
class SchemaCheck:
    """A compiled JSON Schema for an input, output or export value."""

    validator: Validator
    where: str

    def check(self, value: Any) -> None:
        """Raise a validation WorkflowError naming the first mismatch."""
        error = jsonschema.exceptions.best_match(self.validator.iter_errors(value))
        if error is not None:
            location = _pointer(list(error.absolute_path)) or "/"
            raise validation_error(
                f"{self.where} does not match its schema at {location}: {error.message}"
            )


@dataclass(frozen=True, slots=True)
class FlowDirective:
    """`continue`, `exit`, `end`, a task name, or an expression that returns one of them."""

    text: str
    expression: Template | None = None


@dataclass(kw_only=True, slots=True)
class Task:
    """Fields every task type has."""

    name: str
    path: str
    """JSON pointer of the task in the document, e.g. `/do/1/EachFile`."""
    definition: dict[str, Any]
    condition: Template | None = None
    input_schema: SchemaCheck | None = None
    input_from: Template | None = None
    output_as: Template | None = None
    output_schema: SchemaCheck | None = None
    export_as: Template | None = None
    export_schema: SchemaCheck | None = None
    timeout_ms: int | None = None
    then: FlowDirective | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True, slots=True)
class DoTask(Task):
    tasks: list[Task]


@dataclass(kw_only=True, slots=True)
class ForTask(Task):
    each: str
    at: str
    collection: Template
    while_: Template | None
    in_parallel: bool
    tasks: list[Task]


@dataclass(kw_only=True, slots=True)
class ForkTask(Task):
    branches: list[Task]
    compete: bool


@dataclass(kw_only=True, slots=True)
class RaiseTask(Task):
    error: dict[str, Template]
    """`type`, `status`, `title`, `detail`, `instance` of the error to raise."""


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """`run.runner.options`: how the worker behind a run task is configured."""

    channel: str | None = None
    with_backup: bool = False
    store_success: bool = False
    store_failure: bool = False
    use_static: bool = False
    broadcast_results: bool = False
    retry: RetryPolicy | None = None


DEFAULT_WORKER_OPTIONS = WorkerOptions(store_failure=True, broadcast_results=True)
"""Options of a run task that gives none."""


@dataclass(frozen=True, slots=True)
class RunnerTarget:
    """`run.runner`: a runner by name, with settings and arguments."""

    name: str
    settings: Template | None
    arguments: Template
    options: WorkerOptions


@dataclass(frozen=True, slots=True)
class WorkerTarget:
    """`run.worker`: an existing worker by name, with arguments."""

    name: str
    arguments: Template


@dataclass(kw_only=True, slots=True)
class RunTask(Task):
    target: RunnerTarget | WorkerTarget


@dataclass(kw_only=True, slots=True)
class SetTask(Task):
    values: Template


@dataclass(frozen=True, slots=True)
class SwitchCase:
    name: str
    when: Template | None
    then: FlowDirective


@dataclass(kw_only=True, slots=True)
class SwitchTask(Task):
    cases: list[SwitchCase]


@dataclass(frozen=True, slots=True)
class Catch:
    """`try.catch`: which errors to catch, how to retry, and what to run instead."""

    error_filter: dict[str, Any]
    as_name: str
    when: Template | None
    except_when: Template | None
    retry: RetryPolicy | None
    tasks: list[Task] | None


@dataclass(kw_only=True, slots=True)
class TryTask(Task):
    tasks: list[Task]
    catch: Catch


@dataclass(kw_only=True, slots=True)
class WaitTask(Task):
    duration_ms: int


@dataclass(slots=True)
class Workflow:
    """A validated workflow document."""

    name: str
    namespace: str
    version: str
    dsl: str
    definition: dict[str, Any]
    """The document as parsed, exposed as `$workflow.definition`."""
    tasks: list[Task]
    input_schema: SchemaCheck | None = None
    input_from: Template | None = None
    output_as: Template | None = None
    output_schema: SchemaCheck | None = None


# Parsing and validation


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that keeps dates and times as strings, so documents stay JSON data."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]]


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# YAML 1.2 booleans only, as the Rust YAML parser of jobworkerp reads them:
# `on`, `off`, `yes` and `no` stay strings.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def parse_workflow(text: str, *, source: str = "workflow") -> Workflow:
    """Parse YAML or JSON workflow text and validate it.

    Args:
        text: The document.
        source: What the text is, for error messages (e.g. "workflow ./ls.yaml").

    Raises:
        WorkflowDefinitionError: The text does not parse or the document is invalid.
    """
    return build_workflow(load_document(text, source=source), source=source)


def load_document(text: str, *, source: str = "workflow") -> Any:
    """Parse YAML or JSON text into plain data (no validation)."""
    if not text.strip():
        raise WorkflowDefinitionError([DefinitionIssue("", "the document is empty")], source=source)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise WorkflowDefinitionError(
            [DefinitionIssue("", f"not valid YAML or JSON{where}: {problem}")], source=source
        ) from None


def build_workflow(data: Any, *, source: str = "workflow") -> Workflow:
    """Validate parsed document data and build the model.

    Raises:
        WorkflowDefinitionError: Listing every problem, in document order.
    """
    issues = structure_issues(data)
    if issues:
        raise WorkflowDefinitionError(issues, source=source)
    builder = _Builder()
    workflow = builder.workflow(data)
    if builder.issues:
        builder.issues.sort(key=lambda issue: _path_sort_key(issue.path))
        raise WorkflowDefinitionError(builder.issues, source=source)
    return workflow


def structure_issues(data: Any) -> list[DefinitionIssue]:
    """Check `data` against the workflow JSON Schema; return the problems found."""
    issues: list[DefinitionIssue] = []
    seen: set[tuple[str, str]] = set()
    for error in _document_validator().iter_errors(data):
        for issue in _describe(error):
            key = (issue.path, issue.message)
            if key not in seen:
                seen.add(key)
                issues.append(issue)
    issues.sort(key=lambda issue: _path_sort_key(issue.path))
    return issues


@functools.cache
def _document_validator() -> Validator:
    text = resources.files(__package__).joinpath(_SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema = json.loads(text)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator: Validator = validator_class(schema)
    return validator


def _describe(error: ValidationError) -> Iterator[DefinitionIssue]:
    """Turn one jsonschema error into issues that name the offending key and the fix."""
    path = list(error.absolute_path)
    pointer = _pointer(path)
    instance = error.instance
    if error.validator == "required":
        missing = re.match(r"^'(.*)' is a required property$", error.message)
        name = missing.group(1) if missing else str(error.validator_value)
        yield DefinitionIssue(_pointer([*path, name]), f"missing required property '{name}'")
    elif error.validator in ("additionalProperties", "unevaluatedProperties"):
        yield from _describe_unexpected(path, instance, error.message)
    elif error.validator == "anyOf" and _is_task_schema(error):
        yield DefinitionIssue(
            pointer, "task has no type; give exactly one of " + ", ".join(TASK_TYPES)
        )
    elif error.validator == "oneOf" and path[-1:] == ["run"]:
        both = isinstance(instance, dict) and "runner" in instance and "worker" in instance
        yield DefinitionIssue(
            pointer,
            "give either runner or worker, not both"
            if both
            else "missing run target; give runner (name and arguments) or worker "
            "(name and arguments)",
        )
    elif error.validator == "oneOf" and _is_duration_schema(error):
        yield DefinitionIssue(
            pointer,
            f"{_show(instance)} is not a duration; give an ISO 8601 string such as PT5S "
            "or an object such as {seconds: 5}",
        )
    elif (
        error.validator == "type"
        and isinstance(instance, str)
        and path
        and path[-1] in _NAMED_REFERENCE_FIELDS
    ):
        kind = _NAMED_REFERENCE_FIELDS[str(path[-1])]
        yield DefinitionIssue(
            pointer,
            f"{_show(instance)} names a reusable definition, but named {kind} are not "
            "supported; write the definition inline",
        )
    elif error.validator in ("minProperties", "maxProperties") and _is_task_item(error):
        yield DefinitionIssue(
            pointer, "a task list entry must be a map with exactly one key, the task name"
        )
    else:
        yield DefinitionIssue(pointer, error.message)


def _describe_unexpected(path: list[Any], instance: Any, message: str) -> Iterator[DefinitionIssue]:
    names = re.findall(r"'((?:[^'\\]|\\.)*)'", message.split("(", 1)[-1])
    if isinstance(instance, dict):
        types = [key for key in TASK_TYPES if key in instance and key != "do"]
        if "do" in instance and not types:
            types = ["do"]
        if len(types) > 1 and set(names) <= set(TASK_TYPES):
            yield DefinitionIssue(
                _pointer(path),
                f"task has more than one type ({', '.join(types)}); give exactly one",
            )
            return
    for name in names or ["?"]:
        yield DefinitionIssue(_pointer([*path, name]), f"unknown property '{name}'")


def _is_task_schema(error: ValidationError) -> bool:
    branches = error.validator_value
    return isinstance(branches, list) and {"required": ["wait"]} in branches


def _is_duration_schema(error: ValidationError) -> bool:
    branches = error.validator_value
    return isinstance(branches, list) and any(
        isinstance(branch, dict) and "milliseconds" in branch.get("properties", {})
        for branch in branches
    )


def _is_task_item(error: ValidationError) -> bool:
    return (
        isinstance(error.schema, dict)
        and "additionalProperties" in error.schema
        and (error.schema.get("maxProperties") == 1)
    )


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


def _pointer(parts: list[Any]) -> str:
    """Return an RFC 6901 JSON pointer for path parts."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _path_sort_key(pointer: str) -> list[tuple[int, Any]]:
    key: list[tuple[int, Any]] = []
    for part in pointer.split("/")[1:]:
        key.append((0, int(part)) if part.isdigit() else (1, part))
    return key


class _Builder:
    """Builds the model from structurally valid data, collecting meaning problems."""

    def __init__(self) -> None:
        self.issues: list[DefinitionIssue] = []

    def problem(self, path: str, message: str) -> None:
        self.issues.append(DefinitionIssue(path, message))

    def workflow(self, data: dict[str, Any]) -> Workflow:
        document = data["document"]
        input_spec = data.get("input", {})
        output_spec = data.get("output", {})
        return Workflow(
            name=document["name"],
            namespace=document["namespace"],
            version=document["version"],
            dsl=document["dsl"],
            definition=data,
            tasks=self.task_list(data["do"], "/do"),
            input_schema=self.schema(input_spec, "/input/schema", "workflow input"),
            input_from=self.template(input_spec.get("from"), "/input/from"),
            output_as=self.template(output_spec.get("as"), "/output/as"),
            output_schema=self.schema(output_spec, "/output/schema", "workflow output"),
        )

    def task_list(self, items: list[dict[str, Any]], path: str) -> list[Task]:
        tasks = []
        for index, item in enumerate(items):
            ((name, body),) = item.items()
            tasks.append(self.task(name, body, f"{path}/{index}/{_escape(name)}"))
        names = {task.name for task in tasks}
        for task in tasks:
            self.check_jump(task.then, names, f"{task.path}/then")
            if isinstance(task, SwitchTask):
                for index, case in enumerate(task.cases):
                    case_path = f"{task.path}/switch/{index}/{_escape(case.name)}/then"
                    self.check_jump(case.then, names, case_path)
        return tasks

    def task(self, name: str, body: dict[str, Any], path: str) -> Task:
        common = self.common(name, body, path)
        if "for" in body:
            return self.for_task(body, path, common)
        if "fork" in body:
            fork = body["fork"]
            return ForkTask(
                **common,
                branches=self.task_list(fork["branches"], f"{path}/fork/branches"),
                compete=fork.get("compete", False),
            )
        if "raise" in body:
            return RaiseTask(**common, error=self.raise_error(body["raise"]["error"], path))
        if "run" in body:
            return RunTask(**common, target=self.run_target(body["run"], f"{path}/run"))
        if "set" in body:
            return self.set_task(body["set"], path, common)
        if "switch" in body:
            return SwitchTask(**common, cases=self.switch_cases(body["switch"], path))
        if "try" in body:
            return TryTask(
                **common,
                tasks=self.task_list(body["try"], f"{path}/try"),
                catch=self.catch(body["catch"], f"{path}/catch"),
            )
        if "wait" in body:
            return WaitTask(**common, duration_ms=self.duration(body["wait"], f"{path}/wait"))
        return DoTask(**common, tasks=self.task_list(body["do"], f"{path}/do"))

    def common(self, name: str, body: dict[str, Any], path: str) -> dict[str, Any]:
        input_spec = body.get("input", {})
        output_spec = body.get("output", {})
        export_spec = body.get("export", {})
        timeout = body.get("timeout")
        then = body.get("then")
        return {
            "name": name,
            "path": path,
            "definition": body,
            "condition": self.template(body.get("if"), f"{path}/if"),
            "input_schema": self.schema(input_spec, f"{path}/input/schema", "task input"),
            "input_from": self.template(input_spec.get("from"), f"{path}/input/from"),
            "output_as": self.template(output_spec.get("as"), f"{path}/output/as"),
            "output_schema": self.schema(output_spec, f"{path}/output/schema", "task output"),
            "export_as": self.template(export_spec.get("as"), f"{path}/export/as"),
            "export_schema": self.schema(export_spec, f"{path}/export/schema", "exported context"),
            "timeout_ms": (
                self.duration(timeout["after"], f"{path}/timeout/after") if timeout else None
            ),
            "then": self.flow_directive(then, f"{path}/then") if then is not None else None,
            "metadata": body.get("metadata", {}),
        }

    def for_task(self, body: dict[str, Any], path: str, common: dict[str, Any]) -> ForTask:
        loop = body["for"]
        each = loop.get("each", "item")
        at = loop.get("at", "index")
        self.check_variable_name(each, f"{path}/for/each")
        self.check_variable_name(at, f"{path}/for/at")
        if each == at:
            self.problem(f"{path}/for/at", f"'{at}' is also the item variable; use another name")
        collection = self.template(loop["in"], f"{path}/for/in") or Template(None)
        return ForTask(
            **common,
            each=each,
            at=at,
            collection=collection,
            while_=self.template(body.get("while"), f"{path}/while"),
            in_parallel=body.get("inParallel", False),
            tasks=self.task_list(body["do"], f"{path}/do"),
        )

    def set_task(self, values: dict[str, Any], path: str, common: dict[str, Any]) -> SetTask:
        for key in values:
            self.check_variable_name(key, f"{path}/set/{_escape(key)}")
        return SetTask(**common, values=self.template(values, f"{path}/set") or Template({}))

    def raise_error(self, error: dict[str, Any], path: str) -> dict[str, Template]:
        compiled = {}
        for key, value in error.items():
            template = self.template(value, f"{path}/raise/error/{key}")
            if template is not None:
                compiled[key] = template
        return compiled

    def run_target(self, run: dict[str, Any], path: str) -> RunnerTarget | WorkerTarget:
        if "worker" in run:
            worker = run["worker"]
            return WorkerTarget(
                name=worker["name"],
                arguments=self.template(worker["arguments"], f"{path}/worker/arguments")
                or Template({}),
            )
        runner = run["runner"]
        options = runner.get("options")
        return RunnerTarget(
            name=runner["name"],
            settings=self.template(runner.get("settings"), f"{path}/runner/settings"),
            arguments=self.template(runner["arguments"], f"{path}/runner/arguments")
            or Template({}),
            options=(
                self.worker_options(options, f"{path}/runner/options")
                if options is not None
                else DEFAULT_WORKER_OPTIONS
            ),
        )

    def worker_options(self, options: dict[str, Any], path: str) -> WorkerOptions:
        retry = options.get("retry")
        return WorkerOptions(
            channel=options.get("channel"),
            with_backup=options.get("withBackup", False),
            store_success=options.get("storeSuccess", False),
            store_failure=options.get("storeFailure", False),
            use_static=options.get("useStatic", False),
            broadcast_results=options.get("broadcastResults", False),
            retry=self.retry_policy(retry, f"{path}/retry") if retry is not None else None,
        )

    def switch_cases(self, cases: list[dict[str, Any]], path: str) -> list[SwitchCase]:
        result = []
        for index, item in enumerate(cases):
            ((name, case),) = item.items()
            case_path = f"{path}/switch/{index}/{_escape(name)}"
            result.append(
                SwitchCase(
                    name=name,
                    when=self.template(case.get("when"), f"{case_path}/when"),
                    then=self.flow_directive(case["then"], f"{case_path}/then"),
                )
            )
        return result

    def catch(self, catch: dict[str, Any], path: str) -> Catch:
        as_name = catch.get("as", "error")
        self.check_variable_name(as_name, f"{path}/as")
        retry = catch.get("retry")
        return Catch(
            error_filter=catch.get("errors", {}).get("with", {}),
            as_name=as_name,
            when=self.template(catch.get("when"), f"{path}/when"),
            except_when=self.template(catch.get("exceptWhen"), f"{path}/exceptWhen"),
            retry=self.retry_policy(retry, f"{path}/retry") if retry is not None else None,
            tasks=self.task_list(catch["do"], f"{path}/do") if "do" in catch else None,
        )

    def retry_policy(self, policy: dict[str, Any], path: str) -> RetryPolicy:
        backoff = next(iter(policy.get("backoff", {})), None)
        attempt = policy.get("limit", {}).get("attempt", {})
        delay = policy.get("delay")
        limit_duration = attempt.get("duration")
        return RetryPolicy(
            backoff=backoff,
            delay_ms=self.duration(delay, f"{path}/delay") if delay is not None else 0,
            max_retries=attempt.get("count", 0),
            max_delay_ms=(
                self.duration(limit_duration, f"{path}/limit/attempt/duration")
                if limit_duration is not None
                else None
            ),
        )

    def template(self, raw: Any, path: str) -> Template | None:
        if raw is None:
            return None
        try:
            return Template(raw)
        except WorkflowError:
            for leaf_path, error in _expression_errors(raw, path):
                self.problem(leaf_path, error.detail or error.title)
            return None

    def flow_directive(self, text: str, path: str) -> FlowDirective:
        try:
            expression = parse_expression(text)
        except WorkflowError as error:
            self.problem(path, error.detail or error.title)
            expression = None
        if expression is None:
            return FlowDirective(text.strip())
        return FlowDirective(text, Template(text))

    def check_jump(self, directive: FlowDirective | None, names: set[str], path: str) -> None:
        if directive is None or directive.expression is not None:
            return
        if directive.text not in FLOW_KEYWORDS and directive.text not in names:
            known = ", ".join(sorted(names)) or "none"
            self.problem(
                path,
                f"'{directive.text}' is neither continue, exit, end nor a task of this list "
                f"(tasks: {known})",
            )

    def duration(self, value: Any, path: str) -> int:
        try:
            return duration_ms(value)
        except DurationError as error:
            self.problem(path, str(error))
            return 0

    def schema(self, spec: dict[str, Any], path: str, where: str) -> SchemaCheck | None:
        schema = spec.get("schema")
        if schema is None:
            return None
        document = schema["document"]
        validator_class = jsonschema.validators.validator_for(document)
        try:
            validator_class.check_schema(document)
        except jsonschema.exceptions.SchemaError as error:
            location = _pointer(list(error.absolute_path))
            self.problem(f"{path}/document{location}", f"not a valid JSON Schema: {error.message}")
            return None
        return SchemaCheck(validator=validator_class(document), where=where)

    def check_variable_name(self, name: str, path: str) -> None:
        if name in RESERVED_VARIABLES:
            self.problem(
                path,
                f"'{name}' is a built-in variable; choose another name (reserved: "
                f"{', '.join(sorted(RESERVED_VARIABLES))})",
            )


def _expression_errors(raw: Any, path: str) -> Iterator[tuple[str, WorkflowError]]:
    """Yield the path and error of every string in `raw` that fails to compile."""
    if isinstance(raw, str):
        try:
            parse_expression(raw)
        except WorkflowError as error:
            yield path, error
    elif isinstance(raw, dict):
        for key, item in raw.items():
            yield from _expression_errors(item, f"{path}/{_escape(str(key))}")
    elif isinstance(raw, list):
        for index, item in enumerate(raw):
            yield from _expression_errors(item, f"{path}/{index}")


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
