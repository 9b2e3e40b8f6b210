"""Workflows: the subset of Serverless Workflow 1.0 that INLINE_WORKFLOW and REUSABLE_WORKFLOW run.

Modules, in the order a run uses them: `source` (where a document comes
from), `model` (parsing, validation against `workflow.schema.json`, the
typed tasks), `expressions` (jq and Liquid), `executor` (the task
lifecycle and every task type), `run` (run tasks as jobs), `runner` (the
two runners and their `WorkflowResult`s), `specs` (their registry entries).
"""
