"""house_key() made inlinable, with a fast path for plain house numbers: same values, a third of the cost.

0005 declared `house_key(text)` STRICT. PostgreSQL inlines a SQL function into the expression
that calls it only when, for a strict function, every construct of its body is strict too, and
NULLIF is not: so every row of a COPY into voters called the function through the SQL-function
executor to compute the generated column `voters.household` (bench/README.md, Import,
"2026-12-06 (third session)": a COPY of the medium preset's voters took twice as long with the
column as without it). Without STRICT the body is inlined, and it already gives NULL for NULL
(regexp_replace is strict), so every value is the same and the stored column needs no rewrite.

Most house numbers are plain digits without a leading zero ("37"), which the rules of 0005 leave
as they are: those skip the two regular expressions. Every other value goes through them as before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import importlib

from migrations.sql import run_script

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# 0005's body, unchanged, as the general case (a module name that starts with a digit).
_PAGES = importlib.import_module("migrations.versions.0005_pages").UPGRADE
_BODY_FROM = "language sql immutable strict parallel safe as $$\n    select "
_BODY_TO = "\n$$;"
GENERAL = _PAGES.split(_BODY_FROM, 1)[1].split(_BODY_TO, 1)[0]

UPGRADE = rf"""
create or replace function house_key(house_number text) returns text
language sql immutable parallel safe as $$
    select case
        -- digits only, the first not a zero: nothing to drop, already the key
        when house_number <> '' and ltrim(house_number, '0123456789') = '' and left(house_number, 1) <> '0'
        then house_number
        else {GENERAL}
    end
$$;
"""

DOWNGRADE = rf"""
create or replace function house_key(house_number text) returns text
language sql immutable strict parallel safe as $$
    select {GENERAL}
$$;
"""


def upgrade() -> None:
    run_script(UPGRADE)


def downgrade() -> None:
    run_script(DOWNGRADE)
