"""Table definitions of the relational store, shared by SQLite and MySQL.

Column names and types follow the jobworkerp schema so that a database
written by one can be read by the other. Times are epoch milliseconds.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import mysql

metadata = MetaData()

# MEDIUMBLOB on MySQL: a plain BLOB stops at 64 KiB, too small for job args
# and outputs.
Blob = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")

# BIGINT autoincrement keys need INTEGER on SQLite, where only
# "INTEGER PRIMARY KEY" is an alias of the rowid.
AutoId = BigInteger().with_variant(Integer(), "sqlite")

runner = Table(
    "runner",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(128), nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("definition", Text, nullable=False),
    Column("type", Integer, nullable=False),
)

worker = Table(
    "worker",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("runner_id", BigInteger, nullable=False),
    Column("runner_settings", Blob, nullable=False),
    Column("retry_type", Integer, nullable=False, default=0),
    Column("interval", Integer, nullable=False, default=0),
    Column("max_interval", Integer, nullable=False, default=0),
    Column("max_retry", Integer, nullable=False, default=0),
    Column("basis", Float, nullable=False, default=2.0),
    Column("periodic_interval", Integer, nullable=False, default=0),
    Column("channel", String(255), nullable=True),
    Column("queue_type", Integer, nullable=False, default=0),
    Column("response_type", Integer, nullable=False, default=0),
    Column("store_success", Boolean, nullable=False, default=False),
    Column("store_failure", Boolean, nullable=False, default=False),
    Column("use_static", Boolean, nullable=False, default=False),
    Column("broadcast_results", Boolean, nullable=False, default=False),
    # jwp addition: comma-separated worker ids that get this job's output as
    # their args after a SUCCESS.
    Column("next_workers", Text, nullable=False, default=""),
    # SQLite would otherwise reuse the id of a deleted newest worker.
    sqlite_autoincrement=True,
)

job = Table(
    "job",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("worker_id", BigInteger, nullable=False),
    Column("args", Blob, nullable=False),
    Column("uniq_key", String(128), nullable=True, unique=True),
    Column("enqueue_time", BigInteger, nullable=False),
    Column("grabbed_until_time", BigInteger, nullable=False, default=0),
    Column("run_after_time", BigInteger, nullable=False, default=0),
    Column("retried", Integer, nullable=False, default=0),
    Column("priority", Integer, nullable=False, default=0),
    Column("timeout", BigInteger, nullable=False, default=0),
    Column("request_streaming", Boolean, nullable=False, default=False),
    # jwp addition: the job's request metadata as a JSON object, so a job
    # restored from the RDB keeps the headers it was enqueued with.
    Column("metadata", Text, nullable=False, default="{}"),
    Index("worker_id_key", "worker_id"),
    Index("find_job_key", "run_after_time", "grabbed_until_time", "worker_id", "priority"),
)

job_result = Table(
    "job_result",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("job_id", BigInteger, nullable=False),
    Column("worker_id", BigInteger, nullable=False),
    # jwp addition: the worker's name and flags when the job ran, so results
    # stay readable after their worker is changed or deleted.
    Column("worker_name", String(128), nullable=False, default=""),
    Column("max_retry", Integer, nullable=False, default=0),
    Column("response_type", Integer, nullable=False, default=0),
    Column("store_success", Boolean, nullable=False, default=False),
    Column("store_failure", Boolean, nullable=False, default=False),
    Column("args", Blob, nullable=False),
    Column("uniq_key", String(128), nullable=True),
    Column("status", Integer, nullable=False),
    Column("output", Blob, nullable=False),
    Column("retried", Integer, nullable=False, default=0),
    Column("priority", Integer, nullable=False, default=0),
    Column("enqueue_time", BigInteger, nullable=False),
    Column("run_after_time", BigInteger, nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=False),
    Column("timeout", BigInteger, nullable=False, default=0),
    Column("request_streaming", Boolean, nullable=False, default=False),
    Column("metadata", Text, nullable=False, default="{}"),
    Index("job_id_key", "job_id", "end_time"),
    Index("result_worker_id_key", "worker_id", "job_id"),
)
