"""Printing a job's streamed output (`job enqueue-for-stream`, `job-result listen-stream`).

Each chunk is decoded with the runner's result schema and printed as soon as
it arrives: for people as one line of compact JSON (or the text of a runner
without a result schema), with `--json` as a line `{"chunk": ...}`. The final
result, which the server sends in the trailing metadata, follows as a card
or as a line `{"result": ...}`. `enqueue-for-stream` first prints the job id
to stderr, from the stream's initial metadata, so a long job can be cancelled
from another terminal while its output streams.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from jwp.proto.jobworkerp.data import runner_pb2

from .client import OutputStream, stopped_waiting_message
from .convert import Lookups, decode_payload
from .errors import ServerError, StoppedWaitingError
from .output import Output, result_card
from .records import job_result_record


def print_output_stream(
    stream: OutputStream,
    runner: runner_pb2.Runner | None,
    lookups: Lookups,
    *,
    json_mode: bool,
    announce_job_id: bool = False,
) -> None:
    """Print the chunks and then the result of a stream; raise ServerError unless it succeeded.

    With `announce_job_id`, the job id goes to stderr as soon as the initial
    metadata arrives, before any output.
    """
    output = Output(json_mode=json_mode)
    proto_text = runner.data.result_output_proto if runner is not None else None
    try:
        if announce_job_id:
            _print_job_id(stream.job_id())
        for item in stream:
            # The `end` item, and the empty item of a finished job, carry no output.
            if not item.HasField("data"):
                continue
            chunk = decode_payload(proto_text, item.data, include_defaults=True)
            if output.json_mode:
                output.json_line({"chunk": chunk})
            else:
                output.line(_chunk_text(chunk))
    except KeyboardInterrupt:
        # After the cancel the call is over, so job_id() returns at once:
        # the id if the headers had arrived, else None.
        stream.cancel()
        raise StoppedWaitingError(stopped_waiting_message(stream.job_id())) from None

    result = stream.result()
    if result is None:
        raise ServerError(
            f"the stream ended without the job's result ({OutputStream.RESULT_KEY} trailer); "
            "look for it with `jwp job-result list-by-job-id`"
        )
    record = job_result_record(result, lookups)
    if output.json_mode:
        output.json_line({"result": record})
    else:
        output.show(result_card(record))
    if record["status"] != "SUCCESS":
        raise ServerError(
            f"job {record['job_id']} failed with status {record['status']}; see the output above"
        )


def _print_job_id(job_id: int | None) -> None:
    # No id comes when the call failed before its headers (iterating then
    # raises the error) or from a server that does not send it.
    if job_id is None:
        return
    typer.echo(f"job id: {job_id} (cancel it with `jwp job delete --id {job_id}`)", err=True)


def _chunk_text(chunk: Any) -> str:
    if isinstance(chunk, str):
        return chunk
    return json.dumps(chunk, ensure_ascii=False, separators=(", ", ": "))
