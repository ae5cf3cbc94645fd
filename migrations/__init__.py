"""Alembic owns the database schema; `core.migrate.upgrade()` applies these revisions."""
