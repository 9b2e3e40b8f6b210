"""Keep worker ids from being reused on SQLite.

SQLite gives an `INTEGER PRIMARY KEY` row the highest id plus one, so the
id of the newest worker came back after it was deleted, and its stored
jobs then ran for the new worker. `AUTOINCREMENT` makes SQLite remember
the highest id ever used. SQLite cannot add it to an existing table, so
the table is copied into a new one. MySQL and MariaDB do not reuse
AUTO_INCREMENT values, so nothing changes there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "worker", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "worker", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass
