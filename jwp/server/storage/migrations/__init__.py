"""Alembic migrations of the relational store; `jwp.server.storage.migrate` runs them."""
