"""Alembic environment: migrations run on the connection `migrate.upgrade_schema` passes.

jwp has no alembic.ini: the server upgrades its database at start-up. A
schema change is a new file in `versions/` (the layout of `0001_initial.py`,
`down_revision` naming the previous one) together with the change in
`tables.py`.
"""

from __future__ import annotations

from alembic import context

from jwp.server.storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    # MySQL ignores a name on a PRIMARY KEY and warns about it.
    version_table_pk=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
