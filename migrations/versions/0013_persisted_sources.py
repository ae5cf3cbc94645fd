"""persisted_operations by source: the automatic registrations of one user are counted at each new
one (core/persisted.py bounds them per user and in all), so the count needs an index.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from migrations.sql import run_script

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UPGRADE = r"""
create index persisted_operations_source on persisted_operations (source);
"""

DOWNGRADE = r"""
drop index if exists persisted_operations_source;
"""


def upgrade() -> None:
    run_script(UPGRADE)


def downgrade() -> None:
    run_script(DOWNGRADE)
