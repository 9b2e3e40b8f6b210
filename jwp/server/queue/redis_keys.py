"""Every Redis key and pub/sub channel name of Scalable mode.

With an empty JWP_REDIS_KEY_PREFIX the names are those of jobworkerp
(`q{priority}:{channel}:`, `r:d:{job_id}`, `jr:jid:{job_id}`, `JOB_STATUS`,
`job_result_changed:*`, `job_result_streaming:*`, `__worker_pubsub_channel__`),
so a jobworkerp client or tool that reads them keeps working. Names that
start with `jwp:` are jwp's own: processing lists, leases, wake lists.
"""

from __future__ import annotations

from jwp.proto.jobworkerp.data import common_pb2

PRIORITIES = (common_pb2.PRIORITY_HIGH, common_pb2.PRIORITY_MEDIUM, common_pb2.PRIORITY_LOW)
"""Priorities in the order fetch takes them."""


class RedisKeys:
    """Builds key and channel names under one prefix."""

    def __init__(self, prefix: str = "") -> None:
        if any(not character.isprintable() for character in prefix):
            raise ValueError(
                f"Redis key prefix {prefix!r} contains control characters; use printable text"
            )
        self.prefix = prefix

    # Immediate queues

    def queue(self, priority: int, channel: str) -> str:
        """List of encoded Job messages of one channel and priority (RPUSH, LPOP)."""
        return f"{self.prefix}q{priority}:{channel}:"

    def queues(self, channel: str) -> list[str]:
        """The three queue lists of a channel, highest priority first."""
        return [self.queue(priority, channel) for priority in PRIORITIES]

    @property
    def channels(self) -> str:
        """Set of the channel names jobs were ever pushed to (for cancel and restore scans)."""
        return f"{self.prefix}jwp:channels"

    def wake(self, channel: str) -> str:
        """List of wake tokens of a channel; pushes feed it, idle fetchers BLPOP it."""
        return f"{self.prefix}jwp:wake:{channel}"

    def uniq(self, uniq_key: str) -> str:
        """String holding the id of the pending job that owns a uniq_key."""
        return f"{self.prefix}jwp:uniq:{uniq_key}"

    # Processes and their leases

    @property
    def processes(self) -> str:
        """Set of the ids of processes that own a processing hash."""
        return f"{self.prefix}jwp:processes"

    def process_lease(self, process_id: str) -> str:
        """String with a PX expiry that a live process renews."""
        return f"{self.prefix}jwp:process:{process_id}"

    def processing(self, process_id: str) -> str:
        """Hash token -> `queue key \\n wake key \\n encoded Job` of jobs a process runs."""
        return f"{self.prefix}jwp:processing:{process_id}"

    @property
    def processing_sequence(self) -> str:
        """Counter that names entries of processing hashes."""
        return f"{self.prefix}jwp:processing_seq"

    def node(self, node_id: int) -> str:
        """String naming the process that leases a snowflake node id."""
        return f"{self.prefix}jwp:node:{node_id}"

    @property
    def restore_lock(self) -> str:
        """Lock so that processes starting together restore WITH_BACKUP jobs only once."""
        return f"{self.prefix}jwp:restore_lock"

    # Statuses and results

    @property
    def job_status(self) -> str:
        """Hash job id -> JobStatus number."""
        return f"{self.prefix}JOB_STATUS"

    def direct_result(self, job_id: int) -> str:
        """List holding the encoded JobResult of a DIRECT job for its waiting caller."""
        return f"{self.prefix}r:d:{job_id}"

    def latest_result(self, job_id: int) -> str:
        """String with the latest final JobResult of a broadcasting worker's job."""
        return f"{self.prefix}jr:jid:{job_id}"

    # Pub/sub channels

    def job_results_channel(self, job_id: int) -> str:
        return f"{self.prefix}job_result_changed:job:{job_id}"

    def worker_results_channel(self, worker_id: int) -> str:
        return f"{self.prefix}job_result_changed:worker:{worker_id}"

    def stream_channel(self, job_id: int) -> str:
        return f"{self.prefix}job_result_streaming:job:{job_id}"

    def direct_channel(self, job_id: int) -> str:
        """Notification that `r:d:{job_id}` has a result (the payload is empty)."""
        return f"{self.prefix}jwp:direct:{job_id}"

    @property
    def worker_changed_channel(self) -> str:
        return f"{self.prefix}__worker_pubsub_channel__"

    @property
    def runner_changed_channel(self) -> str:
        """Runners added or deleted at run time, for the other processes to load or drop."""
        return f"{self.prefix}jwp:runner_changed"

    @property
    def cancel_channel(self) -> str:
        """Requests to stop a running job, for whichever process runs it."""
        return f"{self.prefix}jwp:cancel"

    @property
    def rdb_due_channel(self) -> str:
        """Wakes the RDB pollers when a front stored a job that is due soon."""
        return f"{self.prefix}jwp:rdb_due"
