"""The released layer of the sensitive breakdowns (docs/disclosure-control.md).

- released_cells: caste_category, caste and economic_status counts of every unit as last
  released, with the suppression pattern decided over the whole tree (resolvers/release.py).
  Viewers without voter.read_sensitive read these, not unit_rollups. Zero cells are not stored.
- release_changes: voters whose sensitive fields changed since their booth was last released,
  kept by a row trigger of its own (the rollup trigger is left as it is); a periodic release
  takes a booth only once MIN_CELL_SIZE of its voters are in here. Bulk writers (imports,
  `boothgraph.bulk` on) are skipped: an import releases every booth it touched.
- stats_release: one row, the last release (when, with which MIN_CELL_SIZE, what it cost).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from migrations.sql import run_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = r"""
create table released_cells (
    unit_id     integer not null references units(id) on delete cascade,
    dim         text not null check (dim in ('caste_category', 'caste', 'economic_status')),
    key         text not null,
    n           bigint not null check (n > 0),
    suppressed  boolean not null,
    primary key (unit_id, dim, key)
);

create table release_changes (
    voter_id  bigint primary key,
    booth_id  integer not null
);
create index release_changes_booth on release_changes (booth_id);

create table stats_release (
    id           boolean primary key default true check (id),
    released_at  timestamptz not null,
    min_cell     integer not null,
    booths       integer not null,
    cells        integer not null,
    suppressed   integer not null,
    degenerate   integer not null
);

create function voters_sensitive_changed() returns trigger language plpgsql as $$
begin
    if rollups_bulk() then return null; end if;
    insert into release_changes (voter_id, booth_id) values (new.id, new.booth_id)
    on conflict (voter_id) do update set booth_id = excluded.booth_id;
    return null;
end $$;
create trigger voters_sensitive_changed after update of caste_category, caste, economic_status on voters
    for each row
    when (old.caste_category is distinct from new.caste_category or old.caste is distinct from new.caste
          or old.economic_status is distinct from new.economic_status)
    execute function voters_sensitive_changed();
"""

DOWNGRADE = r"""
drop trigger if exists voters_sensitive_changed on voters;
drop function if exists voters_sensitive_changed;
drop table if exists stats_release, release_changes, released_cells;
"""


def upgrade() -> None:
    run_script(UPGRADE)


def downgrade() -> None:
    run_script(DOWNGRADE)
