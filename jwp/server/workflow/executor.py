"""Runs a validated workflow: the task lifecycle, flow directives and every task type.

Each task goes through the same steps (`_run_task`):

1. `if` on the raw input; a false value skips the task, whose output is then its input.
2. `input.schema` checks the raw input; `input.from` transforms it.
3. The task type runs on the transformed input and gives the raw output.
4. `output.as` transforms the raw output; `output.schema` checks the result.
5. `export.as` (on the output) returns an object merged into the context variables.
6. `then` decides the next task: `continue`, `exit` (leave the current list),
   `end` (end the workflow with this output), or the name of a task of the
   same list to jump to.

`timeout.after` bounds steps 2 to 6. A failure anywhere becomes a
`WorkflowError` carrying the JSON pointer of the task that failed;
`try`/`catch` may handle it, otherwise the workflow ends Faulted.

Context variables (the workflow context, `set` values, `export.as` keys,
`for` items and indexes, the caught error of `catch.as`) live in one dict
per run. Parallel `for` iterations and `fork` branches each work on a copy,
so what they set stays in their branch.
"""

from __future__ import annotations

import asyncio
import datetime
import enum
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import jwp

from .errors import ErrorType, WorkflowError, expression_error
from .expressions import Template, is_truthy
from .model import (
    RESERVED_VARIABLES,
    Catch,
    DoTask,
    FlowDirective,
    ForkTask,
    ForTask,
    RaiseTask,
    RunTask,
    SetTask,
    SwitchTask,
    Task,
    TryTask,
    WaitTask,
    Workflow,
)

logger = logging.getLogger(__name__)

DEFAULT_RUN_TIMEOUT_MS = 1_200_000
"""Job timeout of a run task without `timeout.after` (20 minutes, as in jobworkerp)."""

_NOT_SET = object()


class WorkflowStatus(enum.Enum):
    """End state of a run; the names are those of `WorkflowResult.WorkflowStatus`."""

    COMPLETED = "Completed"
    FAULTED = "Faulted"


@dataclass(frozen=True)
class WorkflowOutcome:
    """The end of a run: its status, output and position."""

    id: str
    status: WorkflowStatus
    output: Any
    position: str
    """JSON pointer of the last task that finished, or of the task that failed."""
    error: WorkflowError | None = None


TaskListener = Callable[[str, Any], None]
"""Called with the JSON pointer and the output of every task that finishes."""


class JobRunner(Protocol):
    """Runs the job of a run task and returns its decoded result (see `run.py`)."""

    async def run(
        self,
        task: RunTask,
        *,
        arguments: Any,
        settings: Any,
        timeout_ms: int,
        metadata: Mapping[str, str],
    ) -> Any: ...


class _EndWorkflow(Exception):
    """Raised by `then: end` to stop every task list up to the workflow."""

    def __init__(self, output: Any) -> None:
        super().__init__("workflow ended by a `then: end` directive")
        self.output = output


@dataclass(slots=True)
class _Outcome:
    output: Any
    directive: str


class WorkflowExecutor:
    """Runs one workflow once; create a new executor per run."""

    def __init__(
        self,
        workflow: Workflow,
        *,
        run_id: str,
        job_runner: JobRunner | None,
        metadata: Mapping[str, str] | None = None,
        on_task_finished: TaskListener | None = None,
    ) -> None:
        self.workflow = workflow
        self.run_id = run_id
        self._job_runner = job_runner
        self._metadata = dict(metadata or {})
        self._on_task_finished = on_task_finished
        self._started_at = _now_iso()
        self._workflow_input: Any = None
        self.position = ""

    async def execute(self, raw_input: Any, context: Mapping[str, Any]) -> WorkflowOutcome:
        """Run the workflow on `raw_input` with initial context variables `context`.

        The input must already have passed `check_input`. Task failures
        give a Faulted outcome; cancellation propagates.
        """
        workflow = self.workflow
        self._workflow_input = raw_input
        scope = dict(context)
        logger.info("workflow %s (%s) started", self.run_id, workflow.name)
        output: Any = raw_input
        try:
            value = raw_input
            if workflow.input_from is not None:
                value = self._transform(
                    workflow.input_from, raw_input, scope, input_value=raw_input
                )
            try:
                output = await self._run_list(workflow.tasks, value, scope)
            except _EndWorkflow as end:
                output = end.output
            if workflow.output_as is not None:
                output = self._transform(workflow.output_as, output, scope, input_value=value)
            if workflow.output_schema is not None:
                workflow.output_schema.check(output)
        except WorkflowError as error:
            logger.info("workflow %s (%s) faulted: %s", self.run_id, workflow.name, error)
            return WorkflowOutcome(
                id=self.run_id,
                status=WorkflowStatus.FAULTED,
                output=error.to_json(),
                position=error.instance or self.position,
                error=error,
            )
        logger.info("workflow %s (%s) completed", self.run_id, workflow.name)
        return WorkflowOutcome(
            id=self.run_id, status=WorkflowStatus.COMPLETED, output=output, position=self.position
        )

    # Task lists and the task lifecycle

    async def _run_list(self, tasks: list[Task], value: Any, scope: dict[str, Any]) -> Any:
        index = 0
        while index < len(tasks):
            outcome = await self._run_task(tasks[index], value, scope)
            value = outcome.output
            directive = outcome.directive
            if directive == "continue":
                index += 1
            elif directive == "exit":
                break
            elif directive == "end":
                raise _EndWorkflow(value)
            else:
                index = _index_of(tasks, directive, tasks[index])
            # A loop of tasks that never wait (set, switch, jumps) would hold
            # the event loop, and with it every other job and cancellation.
            await asyncio.sleep(0)
        return value

    async def _run_task(self, task: Task, raw_input: Any, scope: dict[str, Any]) -> _Outcome:
        if task.condition is not None:
            condition = self._evaluate(task.condition, task, raw_input, scope, raw_input)
            if not is_truthy(condition):
                logger.debug("workflow %s: task %s skipped by its if", self.run_id, task.path)
                return _Outcome(raw_input, "continue")
        try:
            if task.timeout_ms is None:
                outcome = await self._run_steps(task, raw_input, scope)
            else:
                outcome = await self._run_with_timeout(task, raw_input, scope, task.timeout_ms)
        except WorkflowError as error:
            raise error.at(task.path) from None
        self.position = task.path
        if self._on_task_finished is not None:
            self._on_task_finished(task.path, outcome.output)
        return outcome

    async def _run_with_timeout(
        self, task: Task, raw_input: Any, scope: dict[str, Any], timeout_ms: int
    ) -> _Outcome:
        deadline = asyncio.timeout(timeout_ms / 1000)
        try:
            async with deadline:
                return await self._run_steps(task, raw_input, scope)
        except TimeoutError:
            if not deadline.expired():
                raise
            raise WorkflowError(
                ErrorType.TIMEOUT,
                408,
                "task timed out",
                f"the task did not finish within {timeout_ms} ms (timeout.after)",
                task.path,
            ) from None

    async def _run_steps(self, task: Task, raw_input: Any, scope: dict[str, Any]) -> _Outcome:
        if task.input_schema is not None:
            task.input_schema.check(raw_input)
        task_input = raw_input
        if task.input_from is not None:
            task_input = self._transform(
                task.input_from, raw_input, scope, task=task, input_value=raw_input
            )

        raw_output, directive = await self._run_type(task, task_input, scope)

        output = raw_output
        if task.output_as is not None:
            output = self._transform(
                task.output_as,
                raw_output,
                scope,
                task=task,
                input_value=task_input,
                raw_output=raw_output,
            )
        if task.output_schema is not None:
            task.output_schema.check(output)
        if task.export_as is not None:
            self._export(task, output, task_input, scope)
        if directive is None:
            directive = self._directive(task.then, task, output, task_input, scope)
        return _Outcome(output, directive)

    async def _run_type(
        self, task: Task, value: Any, scope: dict[str, Any]
    ) -> tuple[Any, str | None]:
        """Run the task's own work; return its raw output and a directive it decided, if any."""
        if isinstance(task, SetTask):
            return self._set(task, value, scope), None
        if isinstance(task, ForTask):
            return await self._for(task, value, scope), None
        if isinstance(task, DoTask):
            return await self._run_list(task.tasks, value, scope), None
        if isinstance(task, RunTask):
            return await self._run(task, value, scope), None
        if isinstance(task, SwitchTask):
            return value, self._switch(task, value, scope)
        if isinstance(task, TryTask):
            return await self._try(task, value, scope), None
        if isinstance(task, ForkTask):
            return await self._fork(task, value, scope), None
        if isinstance(task, WaitTask):
            await asyncio.sleep(task.duration_ms / 1000)
            return value, None
        if isinstance(task, RaiseTask):
            raise self._raised_error(task, value, scope)
        raise AssertionError(f"unhandled task type {type(task).__name__}")

    # Task types

    def _set(self, task: SetTask, value: Any, scope: dict[str, Any]) -> Any:
        values = self._evaluate(task.values, task, value, scope, value)
        scope.update(values)
        return values

    async def _for(self, task: ForTask, value: Any, scope: dict[str, Any]) -> list[Any]:
        items = self._evaluate(task.collection, task, value, scope, value)
        if not isinstance(items, list):
            raise expression_error(
                f"for.in gave {_json_kind(items)}, not an array; make the expression "
                "return an array"
            )
        if task.in_parallel:
            return await self._for_parallel(task, items, value, scope)

        saved = {name: scope.get(name, _NOT_SET) for name in (task.each, task.at)}
        outputs = []
        try:
            for index, item in enumerate(items):
                scope[task.each] = item
                scope[task.at] = index
                if task.while_ is not None and not is_truthy(
                    self._evaluate(task.while_, task, value, scope, value)
                ):
                    break
                outputs.append(await self._run_list(task.tasks, value, scope))
        finally:
            _restore(scope, saved)
        return outputs

    async def _for_parallel(
        self, task: ForTask, items: list[Any], value: Any, scope: dict[str, Any]
    ) -> list[Any]:
        iterations: list[Callable[[], Awaitable[Any]]] = []
        for index, item in enumerate(items):
            branch_scope = {**scope, task.each: item, task.at: index}
            if task.while_ is not None and not is_truthy(
                self._evaluate(task.while_, task, value, branch_scope, value)
            ):
                break
            iterations.append(_bind(self._run_list, task.tasks, value, branch_scope))
        return await _run_all(iterations)

    async def _fork(self, task: ForkTask, value: Any, scope: dict[str, Any]) -> Any:
        # A branch's own `then` is ignored: branches are not a sequence.
        branches = [
            _bind(self._branch_output, branch, value, dict(scope)) for branch in task.branches
        ]
        if task.compete:
            return await _run_first(branches)
        outputs = await _run_all(branches)
        return [output for output in outputs if output is not None]

    async def _branch_output(self, task: Task, value: Any, scope: dict[str, Any]) -> Any:
        return (await self._run_task(task, value, scope)).output

    def _switch(self, task: SwitchTask, value: Any, scope: dict[str, Any]) -> str | None:
        for case in task.cases:
            if case.when is None or is_truthy(self._evaluate(case.when, task, value, scope, value)):
                return self._directive(case.then, task, value, value, scope)
        return None

    async def _try(self, task: TryTask, value: Any, scope: dict[str, Any]) -> Any:
        catch = task.catch
        retried = 0
        while True:
            try:
                return await self._run_list(task.tasks, value, scope)
            except WorkflowError as error:
                if not self._catches(task, error, value, scope):
                    raise
                delay_ms = catch.retry.delay_before_retry(retried) if catch.retry else None
                if delay_ms is not None:
                    retried += 1
                    logger.info(
                        "workflow %s: task %s failed (%s); retry %d in %d ms",
                        self.run_id,
                        task.path,
                        error,
                        retried,
                        delay_ms,
                    )
                    await asyncio.sleep(delay_ms / 1000)
                    continue
                logger.info("workflow %s: task %s caught %s", self.run_id, task.path, error)
                return await self._handle_caught(task, catch, error, value, scope)

    async def _handle_caught(
        self,
        task: TryTask,
        catch: Catch,
        error: WorkflowError,
        value: Any,
        scope: dict[str, Any],
    ) -> Any:
        if catch.tasks is None:
            if catch.retry is not None:
                # Retries were asked for and ran out; without catch.do the
                # error is not swallowed.
                raise error
            return value
        saved = {catch.as_name: scope.get(catch.as_name, _NOT_SET)}
        scope[catch.as_name] = error.to_json()
        try:
            return await self._run_list(catch.tasks, value, scope)
        finally:
            _restore(scope, saved)

    def _catches(
        self, task: TryTask, error: WorkflowError, value: Any, scope: dict[str, Any]
    ) -> bool:
        catch = task.catch
        if not _matches_filter(catch.error_filter, error):
            return False
        if catch.when is None and catch.except_when is None:
            return True
        error_scope = {**scope, catch.as_name: error.to_json()}
        if catch.when is not None and not is_truthy(
            self._evaluate(catch.when, task, value, error_scope, value)
        ):
            return False
        return catch.except_when is None or not is_truthy(
            self._evaluate(catch.except_when, task, value, error_scope, value)
        )

    def _raised_error(self, task: RaiseTask, value: Any, scope: dict[str, Any]) -> WorkflowError:
        fields = {
            key: self._evaluate(template, task, value, scope, value)
            for key, template in task.error.items()
        }
        status = fields.get("status")
        if isinstance(status, bool) or not isinstance(status, int):
            raise expression_error(f"raise.error.status {status!r} is not an integer")
        instance = fields.get("instance")
        return WorkflowError(
            str(fields.get("type")),
            status,
            str(fields.get("title") or "error raised by the workflow"),
            str(fields["detail"]) if fields.get("detail") is not None else None,
            str(instance) if instance else task.path,
        )

    async def _run(self, task: RunTask, value: Any, scope: dict[str, Any]) -> Any:
        if self._job_runner is None:
            raise WorkflowError(
                ErrorType.CONFIGURATION,
                500,
                "run tasks are not available",
                "this executor has no job runner",
            )
        target = task.target
        arguments = self._evaluate(target.arguments, task, value, scope, value)
        settings_template = getattr(target, "settings", None)
        settings = (
            self._evaluate(settings_template, task, value, scope, value)
            if settings_template is not None
            else None
        )
        metadata = dict(self._metadata)
        metadata.update({key: item for key, item in task.metadata.items() if isinstance(item, str)})
        return await self._job_runner.run(
            task,
            arguments=arguments,
            settings=settings,
            timeout_ms=task.timeout_ms or DEFAULT_RUN_TIMEOUT_MS,
            metadata=metadata,
        )

    # Expressions

    def _evaluate(
        self, template: Template, task: Task, value: Any, scope: dict[str, Any], input_value: Any
    ) -> Any:
        variables = _Variables(self, scope, task, input_value)
        return template.evaluate(value, variables)

    def _transform(
        self,
        template: Template,
        value: Any,
        scope: dict[str, Any],
        *,
        input_value: Any,
        task: Task | None = None,
        raw_output: Any = _NOT_SET,
    ) -> Any:
        variables = _Variables(self, scope, task, input_value, raw_output)
        return template.evaluate(value, variables, structured=True)

    def _export(self, task: Task, output: Any, task_input: Any, scope: dict[str, Any]) -> None:
        assert task.export_as is not None
        variables = _Variables(self, scope, task, task_input, output)
        exported = task.export_as.evaluate(output, variables, structured=True)
        if not isinstance(exported, dict):
            raise expression_error(
                f"export.as gave {_json_kind(exported)}; it must give an object whose keys "
                "become context variables"
            )
        reserved = sorted(RESERVED_VARIABLES.intersection(exported))
        if reserved:
            raise expression_error(
                f"export.as sets {', '.join(reserved)}, which are built-in variables; "
                "rename these keys"
            )
        if task.export_schema is not None:
            task.export_schema.check(exported)
        scope.update(exported)

    def _directive(
        self,
        directive: FlowDirective | None,
        task: Task,
        output: Any,
        task_input: Any,
        scope: dict[str, Any],
    ) -> str:
        if directive is None:
            return "continue"
        if directive.expression is None:
            return directive.text
        variables = _Variables(self, scope, task, task_input, output)
        name = directive.expression.evaluate(output, variables)
        if not isinstance(name, str) or not name:
            raise expression_error(
                f"then expression gave {_json_kind(name)}; it must give continue, exit, end "
                "or a task name"
            )
        return name

    def workflow_variable(self) -> dict[str, Any]:
        return {
            "id": self.run_id,
            "definition": self.workflow.definition,
            "input": self._workflow_input,
            "startedAt": self._started_at,
        }


class _Variables(Mapping[str, Any]):
    """The variables of one expression: built-ins first, then context variables."""

    __slots__ = ("_executor", "_input", "_output", "_scope", "_task")

    def __init__(
        self,
        executor: WorkflowExecutor,
        scope: dict[str, Any],
        task: Task | None,
        input_value: Any,
        output: Any = _NOT_SET,
    ) -> None:
        self._executor = executor
        self._scope = scope
        self._task = task
        self._input = input_value
        self._output = output

    def __getitem__(self, name: str) -> Any:
        if name == "input":
            return self._input
        if name == "output":
            return None if self._output is _NOT_SET else self._output
        if name == "context":
            return dict(self._scope)
        if name == "workflow":
            return self._executor.workflow_variable()
        if name == "runtime":
            return {"name": "jwp", "version": jwp.__version__}
        if name == "task":
            return self._task_variable()
        return self._scope[name]

    def _task_variable(self) -> dict[str, Any] | None:
        task = self._task
        if task is None:
            return None
        value: dict[str, Any] = {
            "name": task.name,
            "reference": task.path,
            "definition": task.definition,
            "input": self._input,
        }
        if self._output is not _NOT_SET:
            value["output"] = self._output
        return value

    def __iter__(self) -> Iterator[str]:
        yield from RESERVED_VARIABLES
        for name in self._scope:
            if name not in RESERVED_VARIABLES:
                yield name

    def __len__(self) -> int:
        return len(RESERVED_VARIABLES) + sum(
            1 for name in self._scope if name not in RESERVED_VARIABLES
        )


def check_input(workflow: Workflow, raw_input: Any) -> None:
    """Raise a validation WorkflowError when the input does not match `input.schema`."""
    if workflow.input_schema is not None:
        workflow.input_schema.check(raw_input)


def _index_of(tasks: list[Task], name: str, current: Task) -> int:
    for index, task in enumerate(tasks):
        if task.name == name:
            return index
    known = ", ".join(task.name for task in tasks)
    raise WorkflowError(
        ErrorType.CONFIGURATION,
        400,
        "invalid flow directive",
        f"then names task {name!r}, which is not in this task list ({known})",
        current.path,
    )


def _matches_filter(error_filter: dict[str, Any], error: WorkflowError) -> bool:
    for key, expected in error_filter.items():
        if key == "type":
            if expected != error.type and not error.type.endswith("/" + str(expected)):
                return False
        elif key == "status":
            if expected != error.status:
                return False
        elif key == "details":
            if expected != error.detail:
                return False
        elif expected != getattr(error, key, None):
            return False
    return True


def _restore(scope: dict[str, Any], saved: dict[str, Any]) -> None:
    for name, previous in saved.items():
        if previous is _NOT_SET:
            scope.pop(name, None)
        else:
            scope[name] = previous


def _bind(function: Callable[..., Awaitable[Any]], *args: Any) -> Callable[[], Awaitable[Any]]:
    return lambda: function(*args)


async def _run_all(factories: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run coroutines concurrently; on the first failure cancel the others and raise it."""
    tasks = [asyncio.ensure_future(factory()) for factory in factories]
    if not tasks:
        return []
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        failed = [task for task in tasks if task in done and task.exception() is not None]
        if failed:
            raise _first_exception(failed)
        return [task.result() for task in tasks]
    finally:
        await _cancel_all(tasks)


async def _run_first(factories: list[Callable[[], Awaitable[Any]]]) -> Any:
    """Return the output of the first coroutine that succeeds; cancel the rest.

    When every one fails, the error of the first in definition order is raised.
    """
    tasks = [asyncio.ensure_future(factory()) for factory in factories]
    if not tasks:
        return None
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                if task in done and task.exception() is None:
                    return task.result()
                if task in done and isinstance(task.exception(), _EndWorkflow):
                    raise task.exception()  # type: ignore[misc]
        raise _first_exception(tasks)
    finally:
        await _cancel_all(tasks)


def _first_exception(tasks: Sequence[asyncio.Future[Any]]) -> BaseException:
    for task in tasks:
        exception = task.exception()
        if isinstance(exception, _EndWorkflow):
            return exception
    for task in tasks:
        exception = task.exception()
        if exception is not None:
            return exception
    raise AssertionError("no task failed")


async def _cancel_all(tasks: Sequence[asyncio.Future[Any]]) -> None:
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, dict):
        return "an object"
    return "an array"


def _now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()
