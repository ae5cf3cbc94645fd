"""Voters' name search matches the Hindi name too: an index on (booth_id, name_hi) beside 0001's
(booth_id, lower(name)), so that `search: "पुष्"` is a prefix range scan per booth like a Latin one.

Devanagari has no case, so the Hindi name is compared as stored (no lower()); text_pattern_ops
makes LIKE 'prefix%' an index range whatever the database's collation.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("create index voters_booth_name_hi on voters (booth_id, name_hi text_pattern_ops)")


def downgrade() -> None:
    op.execute("drop index voters_booth_name_hi")
