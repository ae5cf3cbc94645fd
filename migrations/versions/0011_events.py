"""Events for GraphQL subscriptions (issue 18 §3, docs/events.md): NOTIFYs from triggers, so an
event is announced only when the transaction that wrote it commits (PostgreSQL delivers a
transaction's notifications at its commit, and never for one that rolled back).

Channel `boothgraph_events`, payloads carry ids only (far under NOTIFY's 8000-byte limit); the
server reads what it needs once per event (events/hub.py):
- `call:<call_logs.id>`: a call was logged;
- `import:<audit_log.id>`: an import's `data.import` entry (one per unit it was audited under; the
  server groups the entries of one transaction);
- `turnout:<election_id>:<booth_id>`: marks of a booth were added or undone (one per booth and
  statement: PostgreSQL folds identical payloads of one transaction).
Channel `boothgraph_sessions`: `session:<id>` when a session is revoked or its end moved
earlier, `key:<prefix>` when an API key is revoked, so open subscriptions of that token close.
(`boothgraph_assignments` from 0001 already announces role changes by user id.)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from migrations.sql import run_script

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UPGRADE = r"""
create function events_call_logged() returns trigger language plpgsql as $$
begin
    perform pg_notify('boothgraph_events', 'call:' || new.id);
    return null;
end $$;
create trigger events_call_logged after insert on call_logs
    for each row execute function events_call_logged();

create function events_import_audited() returns trigger language plpgsql as $$
begin
    perform pg_notify('boothgraph_events', 'import:' || new.id);
    return null;
end $$;
create trigger events_import_audited after insert on audit_log
    for each row when (new.action = 'data.import') execute function events_import_audited();

create function events_turnout_marked() returns trigger language plpgsql as $$
begin
    perform pg_notify('boothgraph_events', 'turnout:' || t.election_id || ':' || t.booth_id)
    from (select distinct election_id, booth_id from changed_marks) t;
    return null;
end $$;
create trigger events_turnout_marked after insert on turnout_marks
    referencing new table as changed_marks for each statement execute function events_turnout_marked();
create trigger events_turnout_unmarked after delete on turnout_marks
    referencing old table as changed_marks for each statement execute function events_turnout_marked();

create function events_session_ended() returns trigger language plpgsql as $$
begin
    if new.revoked_at is not null and old.revoked_at is null or new.expires_at < old.expires_at then
        perform pg_notify('boothgraph_sessions', 'session:' || new.id);
    end if;
    return null;
end $$;
create trigger events_session_ended after update on sessions
    for each row execute function events_session_ended();

create function events_key_revoked() returns trigger language plpgsql as $$
begin
    if new.revoked_at is not null and old.revoked_at is null or new.expires_at < old.expires_at then
        perform pg_notify('boothgraph_sessions', 'key:' || new.prefix);
    end if;
    return null;
end $$;
create trigger events_key_revoked after update on api_keys
    for each row execute function events_key_revoked();
"""

DOWNGRADE = r"""
drop trigger if exists events_call_logged on call_logs;
drop trigger if exists events_import_audited on audit_log;
drop trigger if exists events_turnout_marked on turnout_marks;
drop trigger if exists events_turnout_unmarked on turnout_marks;
drop trigger if exists events_session_ended on sessions;
drop trigger if exists events_key_revoked on api_keys;
drop function if exists events_call_logged, events_import_audited, events_turnout_marked, events_session_ended,
    events_key_revoked;
"""


def upgrade() -> None:
    run_script(UPGRADE)


def downgrade() -> None:
    run_script(DOWNGRADE)
