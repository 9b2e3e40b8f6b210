"""Workflow documents shared by the workflow tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

HEADER = "document: {dsl: 0.0.1, namespace: default, name: test, version: 0.0.1}\n"

DATA_DIR = Path(__file__).parent / "data"

README_LS_WORKFLOW = (DATA_DIR / "readme-ls.yaml").read_text(encoding="utf-8")
"""The workflow example of the jobworkerp README, character for character."""

README_INNER_ARGUMENT = 'args: ["$${/{{file}}}"]'
TREE_INNER_ARGUMENT = 'args: ["$${{{ workflow.input }}/{{file}}}"]'


def readme_workflow_for_tree() -> str:
    """Return the README example with the inner `ls` relative to the workflow input.

    The README lists `/<name>`, which only works with input `/`; this one
    change makes it list the subdirectories of any input directory.
    """
    assert README_INNER_ARGUMENT in README_LS_WORKFLOW
    return README_LS_WORKFLOW.replace(README_INNER_ARGUMENT, TREE_INNER_ARGUMENT)


def document(body: str) -> str:
    """Return a workflow with the standard header and `body` (dedented YAML after it)."""
    return HEADER + textwrap.dedent(body)
