"""Initial schema: runner, worker, job, job_result.

The tables are those jwp 0.1 created with `metadata.create_all`, so a
database made by that version is stamped with this revision instead of
being created again.

Revision ID: 0001
Revises:
Create Date: 2025-06-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# MEDIUMBLOB on MySQL: a plain BLOB stops at 64 KiB.
Blob = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")
# Only "INTEGER PRIMARY KEY" is an alias of the rowid on SQLite.
AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "runner",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("type", sa.Integer, nullable=False),
    )
    op.create_table(
        "worker",
        sa.Column("id", AutoId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("runner_id", sa.BigInteger, nullable=False),
        sa.Column("runner_settings", Blob, nullable=False),
        sa.Column("retry_type", sa.Integer, nullable=False),
        sa.Column("interval", sa.Integer, nullable=False),
        sa.Column("max_interval", sa.Integer, nullable=False),
        sa.Column("max_retry", sa.Integer, nullable=False),
        sa.Column("basis", sa.Float, nullable=False),
        sa.Column("periodic_interval", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(255), nullable=True),
        sa.Column("queue_type", sa.Integer, nullable=False),
        sa.Column("response_type", sa.Integer, nullable=False),
        sa.Column("store_success", sa.Boolean, nullable=False),
        sa.Column("store_failure", sa.Boolean, nullable=False),
        sa.Column("use_static", sa.Boolean, nullable=False),
        sa.Column("broadcast_results", sa.Boolean, nullable=False),
        sa.Column("next_workers", sa.Text, nullable=False),
    )
    op.create_table(
        "job",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("worker_id", sa.BigInteger, nullable=False),
        sa.Column("args", Blob, nullable=False),
        sa.Column("uniq_key", sa.String(128), nullable=True, unique=True),
        sa.Column("enqueue_time", sa.BigInteger, nullable=False),
        sa.Column("grabbed_until_time", sa.BigInteger, nullable=False),
        sa.Column("run_after_time", sa.BigInteger, nullable=False),
        sa.Column("retried", sa.Integer, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("timeout", sa.BigInteger, nullable=False),
        sa.Column("request_streaming", sa.Boolean, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
    )
    op.create_index("worker_id_key", "job", ["worker_id"])
    op.create_index(
        "find_job_key", "job", ["run_after_time", "grabbed_until_time", "worker_id", "priority"]
    )
    op.create_table(
        "job_result",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("job_id", sa.BigInteger, nullable=False),
        sa.Column("worker_id", sa.BigInteger, nullable=False),
        sa.Column("worker_name", sa.String(128), nullable=False),
        sa.Column("max_retry", sa.Integer, nullable=False),
        sa.Column("response_type", sa.Integer, nullable=False),
        sa.Column("store_success", sa.Boolean, nullable=False),
        sa.Column("store_failure", sa.Boolean, nullable=False),
        sa.Column("args", Blob, nullable=False),
        sa.Column("uniq_key", sa.String(128), nullable=True),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("output", Blob, nullable=False),
        sa.Column("retried", sa.Integer, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("enqueue_time", sa.BigInteger, nullable=False),
        sa.Column("run_after_time", sa.BigInteger, nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=False),
        sa.Column("timeout", sa.BigInteger, nullable=False),
        sa.Column("request_streaming", sa.Boolean, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
    )
    op.create_index("job_id_key", "job_result", ["job_id", "end_time"])
    op.create_index("result_worker_id_key", "job_result", ["worker_id", "job_id"])


def downgrade() -> None:
    op.drop_table("job_result")
    op.drop_table("job")
    op.drop_table("worker")
    op.drop_table("runner")
