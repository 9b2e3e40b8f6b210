"""Errors of workflow documents and of workflow runs.

Two kinds, because they end differently:

- `WorkflowDefinitionError`: the document (or the way a job names it) is
  unusable. Nothing ran; the job fails with OTHER_ERROR and the message
  lists every problem with its JSON pointer, e.g.
  `/do/1/EachFile/for/in: 'in' is a required property`.
- `WorkflowError`: a task failed while the workflow ran. It carries a
  Serverless Workflow error object (type, status, title, detail, instance)
  that `try`/`catch` can filter on; if nothing catches it the workflow ends
  Faulted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERROR_TYPE_BASE = "https://serverlessworkflow.io/spec/1.0.0/errors/"
"""Prefix of the standard error types of Serverless Workflow 1.0."""


class ErrorType:
    """Standard error types (the last segment also works in `catch.errors.with.type`)."""

    CONFIGURATION = ERROR_TYPE_BASE + "configuration"
    VALIDATION = ERROR_TYPE_BASE + "validation"
    EXPRESSION = ERROR_TYPE_BASE + "expression"
    TIMEOUT = ERROR_TYPE_BASE + "timeout"
    COMMUNICATION = ERROR_TYPE_BASE + "communication"
    RUNTIME = ERROR_TYPE_BASE + "runtime"


@dataclass(frozen=True)
class DefinitionIssue:
    """One problem of a workflow document: where it is and what is wrong."""

    path: str
    """JSON pointer into the document, e.g. `/do/1/EachFile/for/in`; empty for the root."""
    message: str

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.message}"


class WorkflowDefinitionError(ValueError):
    """A workflow document that cannot run; `issues` lists every problem found."""

    def __init__(self, issues: list[DefinitionIssue], *, source: str = "workflow") -> None:
        self.issues = issues
        self.source = source
        lines = "; ".join(str(issue) for issue in issues)
        super().__init__(f"invalid {source}: {lines}")


class WorkflowError(Exception):
    """A failed task, as a Serverless Workflow error object."""

    def __init__(
        self,
        error_type: str,
        status: int,
        title: str,
        detail: str | None = None,
        instance: str | None = None,
    ) -> None:
        self.type = error_type
        self.status = status
        self.title = title
        self.detail = detail
        self.instance = instance
        super().__init__(self.describe())

    def describe(self) -> str:
        """Return a one-line message: where, what, and the detail."""
        where = f"task {self.instance}: " if self.instance else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{where}{self.title}{detail} (type {self.type}, status {self.status})"

    def __str__(self) -> str:
        return self.describe()

    def to_json(self) -> dict[str, Any]:
        """Return the error object that `catch.as` exposes to expressions."""
        value: dict[str, Any] = {"type": self.type, "status": self.status, "title": self.title}
        if self.detail is not None:
            value["detail"] = self.detail
        if self.instance is not None:
            value["instance"] = self.instance
        return value

    def at(self, instance: str) -> WorkflowError:
        """Set the task pointer if the error does not name one yet; return self."""
        if self.instance is None:
            self.instance = instance
            self.args = (self.describe(),)
        return self


def expression_error(detail: str) -> WorkflowError:
    return WorkflowError(ErrorType.EXPRESSION, 400, "expression failed", detail)


def validation_error(detail: str) -> WorkflowError:
    return WorkflowError(ErrorType.VALIDATION, 400, "validation failed", detail)
