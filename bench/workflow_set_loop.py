"""Time the workflow engine on a `for` loop of 1,000 `set` steps.

Plain script, no server: it parses the document once, then runs it with
the executor several times and prints the engine time of each run (the
loop with its jq expressions, context variables and per-task progress
callbacks). Run: `.venv/bin/python bench/workflow_set_loop.py [--steps N] [--runs N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from jwp.server.workflow.executor import WorkflowExecutor, WorkflowStatus
from jwp.server.workflow.model import parse_workflow

DOCUMENT = """
document: {dsl: 0.0.1, namespace: default, name: set-loop, version: 0.0.1}
do:
  - init: {set: {total: 0}}
  - loop:
      for: {each: step, in: "${[range($workflow.input.steps)]}"}
      do:
        - add: {set: {total: "${$total + $step}"}}
  - result: {set: {total: "${$total}"}}
"""


async def run_once(steps: int) -> float:
    workflow = parse_workflow(DOCUMENT)
    finished = 0

    def count(position: str, output: object) -> None:
        nonlocal finished
        finished += 1

    executor = WorkflowExecutor(workflow, run_id="bench", job_runner=None, on_task_finished=count)
    started = time.perf_counter()
    outcome = await executor.execute({"steps": steps}, {})
    elapsed = time.perf_counter() - started
    assert outcome.status is WorkflowStatus.COMPLETED, outcome.error
    assert outcome.output == {"total": steps * (steps - 1) // 2}, outcome.output
    assert finished == steps + 3
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="set steps in the loop")
    parser.add_argument("--runs", type=int, default=5, help="timed runs after one warm-up")
    options = parser.parse_args()

    started = time.perf_counter()
    parse_workflow(DOCUMENT)
    print(
        f"parse and validate (first, compiles expressions): {time.perf_counter() - started:.4f} s"
    )

    asyncio.run(run_once(options.steps))
    times = [asyncio.run(run_once(options.steps)) for _ in range(options.runs)]
    print(
        f"engine time for {options.steps} set steps in a for loop over {options.runs} runs: "
        f"min {min(times):.4f} s, median {statistics.median(times):.4f} s, "
        f"max {max(times):.4f} s ({statistics.median(times) / options.steps * 1e6:.1f} us/step)"
    )


if __name__ == "__main__":
    main()
