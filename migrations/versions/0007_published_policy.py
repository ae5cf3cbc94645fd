"""published_policy: the access policy published through the database, so that one edit reaches
every API node before its next request (docs/scaling.md, "Several nodes").

One row at most (`boothgraph policy publish` writes it as the tables' owner, `boothgraph policy
withdraw` deletes it); the server's role may only read it (core/roles.py READ_ONLY). Every
server reads `version` with the viewer on every request (core/viewer.py: no extra round trip)
and swaps in the published model and rules when it differs from what it runs. A change also
NOTIFYs `boothgraph_policy` with the new version, for tools that want to watch.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from migrations.sql import run_script

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(
        """
create table published_policy (
    id smallint primary key default 1 check (id = 1),
    version bigint not null check (version > 0),
    model text not null,
    rules text not null,
    published_at timestamptz not null default now(),
    published_by text not null
);

create function published_policy_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('boothgraph_policy', coalesce(new.version, 0)::text);
    return null;
end $$;

create trigger published_policy_notify after insert or update or delete on published_policy
    for each row execute function published_policy_notify();
"""
    )


def downgrade() -> None:
    run_script("drop table published_policy; drop function published_policy_notify();")
