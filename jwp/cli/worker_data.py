"""WorkerData from the options of `jwp worker create` and `jwp worker update`.

Both commands describe a worker with the same options. Create fills every
option with its default. Update leaves an option None when it was not given,
so only the given options change the worker read from the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2

from .convert import Lookups, encode_settings, parse_worker_ref
from .errors import InputError
from .options import check_name

DEFAULT_RETRY_INTERVAL_MS = 1000
DEFAULT_RETRY_MAX_INTERVAL_MS = 0
DEFAULT_RETRY_MAX = 3
DEFAULT_RETRY_BASIS = 2.0


@dataclass
class RetryOptions:
    """The `--retry-*` options; None means not given."""

    type: str | None = None
    interval_ms: int | None = None
    max_interval_ms: int | None = None
    max_retry: int | None = None
    basis: float | None = None

    def given(self) -> bool:
        values = (self.type, self.interval_ms, self.max_interval_ms, self.max_retry, self.basis)
        return any(value is not None for value in values)


@dataclass
class WorkerOptions:
    """The options that describe a worker; None means not given."""

    name: str | None = None
    description: str | None = None
    runner_id: int | None = None
    settings: str | None = None
    response_type: str | None = None
    queue_type: str | None = None
    channel: str | None = None
    periodic_ms: int | None = None
    store_success: bool | None = None
    store_failure: bool | None = None
    broadcast_results: bool | None = None
    use_static: bool | None = None
    next_workers: str | None = None
    retry: RetryOptions = field(default_factory=RetryOptions)


def apply_options(data: worker_pb2.WorkerData, options: WorkerOptions, lookups: Lookups) -> None:
    """Set the fields of `data` that `options` gives; settings go through the runner's schema.

    Raises:
        InputError: Settings that do not match the schema, or retry options
            without a retry type for a worker that does not retry.
        ServerError: The runner or a next worker does not exist.
    """
    if options.name is not None:
        check_name(options.name, "worker")
        data.name = options.name
    if options.description is not None:
        data.description = options.description
    if options.runner_id is not None:
        data.runner_id.CopyFrom(runner_pb2.RunnerId(value=options.runner_id))
    if options.runner_id is not None or options.settings is not None:
        # The runner is looked up even without --settings, so that an unknown
        # runner id fails here, before anything is sent.
        runner = lookups.runner(data.runner_id.value)
        if options.settings is not None:
            data.runner_settings = encode_settings(runner, options.settings)

    _apply_scalars(data, options)
    if options.channel is not None:
        # An empty channel means the default channel, which is stored as an absent field.
        if options.channel:
            data.channel = options.channel
        else:
            data.ClearField("channel")
    if options.retry.given():
        data.retry_policy.CopyFrom(_retry_policy(data, options.retry))
    if options.next_workers is not None:
        del data.next_workers[:]
        data.next_workers.extend(_resolve_next_workers(options.next_workers, lookups))


def _apply_scalars(data: worker_pb2.WorkerData, options: WorkerOptions) -> None:
    if options.response_type is not None:
        data.response_type = cast(
            common_pb2.ResponseType, common_pb2.ResponseType.Value(options.response_type)
        )
    if options.queue_type is not None:
        data.queue_type = cast(common_pb2.QueueType, common_pb2.QueueType.Value(options.queue_type))
    if options.periodic_ms is not None:
        data.periodic_interval = options.periodic_ms
    if options.store_success is not None:
        data.store_success = options.store_success
    if options.store_failure is not None:
        data.store_failure = options.store_failure
    if options.broadcast_results is not None:
        data.broadcast_results = options.broadcast_results
    if options.use_static is not None:
        data.use_static = options.use_static


def _retry_policy(data: worker_pb2.WorkerData, retry: RetryOptions) -> common_pb2.RetryPolicy:
    """Return the worker's retry policy with the given `--retry-*` options applied."""
    retries = data.HasField("retry_policy") and data.retry_policy.type != common_pb2.NONE
    if retries:
        policy = common_pb2.RetryPolicy()
        policy.CopyFrom(data.retry_policy)
    elif retry.type is None:
        raise InputError(
            "--retry-interval, --retry-max-interval, --retry-max and --retry-basis need "
            "--retry-type (CONSTANT, LINEAR or EXPONENTIAL), because the worker does not retry yet"
        )
    else:
        policy = common_pb2.RetryPolicy(
            interval=DEFAULT_RETRY_INTERVAL_MS,
            max_interval=DEFAULT_RETRY_MAX_INTERVAL_MS,
            max_retry=DEFAULT_RETRY_MAX,
            basis=DEFAULT_RETRY_BASIS,
        )

    if retry.type is not None:
        policy.type = cast(common_pb2.RetryType, common_pb2.RetryType.Value(retry.type))
    if retry.interval_ms is not None:
        policy.interval = retry.interval_ms
    if retry.max_interval_ms is not None:
        policy.max_interval = retry.max_interval_ms
    if retry.max_retry is not None:
        policy.max_retry = retry.max_retry
    if retry.basis is not None:
        policy.basis = retry.basis
    return policy


def _resolve_next_workers(text: str, lookups: Lookups) -> list[worker_pb2.WorkerId]:
    """Turn `--next-workers 3,4,Resize` into worker ids; names are looked up on the server."""
    worker_ids: list[worker_pb2.WorkerId] = []
    for token in (part.strip() for part in text.split(",")):
        if not token:
            continue
        ref = parse_worker_ref(token, "--next-workers")
        if isinstance(ref, int):
            worker_ids.append(worker_pb2.WorkerId(value=ref))
        else:
            worker_ids.append(lookups.worker(ref).id)
    return worker_ids
