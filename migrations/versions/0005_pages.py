"""Roll pages and households below the booth, and page-level assignments (docs/pages.md).

- `voters.roll_page`: the page an import gave (voters.csv's optional `page` column), or NULL;
  `voters.page`: the page the voter is on, generated: the roll's page, else pages of 30
  consecutive serial numbers (serial 1-30 page 1, 31-60 page 2, ...). A page is no row of its
  own (Uttar Pradesh has some 50 lakh): it is the pair (booth_id, page) that voters carry.
- `house_key(text)`: the normalised house number (docs/pages.md, "Households"), and
  `voters.household`, generated from it: voters of one booth with the same key are one household.
- `assignments.page`: a role held at one page of the assignment's booth (PAGE_INCHARGE); NULL for
  every role held at a unit. The unique key becomes (user, role, unit, page), NULLs not distinct.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from migrations.sql import run_script

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PAGE_SIZE = 30  # voters per page where the roll gives none

UPGRADE = rf"""
-- A house number's household key: upper case; spaces, dots, commas, hyphens and underscores
-- dropped; leading zeros of each run of digits dropped; nothing left -> NULL (no household).
-- "12", " 12 ", "012" -> "12"; "12-A", "12 a", "12A" -> "12A"; "3/12", "3 / 12" -> "3/12".
create function house_key(house_number text) returns text
language sql immutable strict parallel safe as $$
    select nullif(
        regexp_replace(
            upper(regexp_replace(house_number, '[[:space:].,_-]+', '', 'g')),
            '(^|[^0-9])0+([0-9])', '\1\2', 'g'),
        '')
$$;

alter table voters
    add column roll_page integer check (roll_page > 0),
    add column page integer generated always as
        (coalesce(roll_page, (serial_number - 1) / {PAGE_SIZE} + 1)) stored,
    add column household text generated always as (house_key(house_number)) stored;
create index voters_booth_page on voters (booth_id, page, serial_number);
create index voters_booth_household on voters (booth_id, household) where household is not null;

alter table assignments add column page integer check (page > 0);
alter table assignments drop constraint assignments_user_id_role_unit_id_key;
alter table assignments add constraint assignments_user_role_unit_page
    unique nulls not distinct (user_id, role, unit_id, page);
"""

DOWNGRADE = """
delete from assignments where page is not null;
alter table assignments drop constraint assignments_user_role_unit_page;
alter table assignments add constraint assignments_user_id_role_unit_id_key unique (user_id, role, unit_id);
alter table assignments drop column page;
drop index if exists voters_booth_household;
drop index if exists voters_booth_page;
alter table voters drop column household, drop column page, drop column roll_page;
drop function house_key(text);
"""


def upgrade() -> None:
    run_script(UPGRADE)


def downgrade() -> None:
    run_script(DOWNGRADE)
