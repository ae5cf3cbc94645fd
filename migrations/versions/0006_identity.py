"""Sign-in without the CLI (issue 18 §1): invitations and the sessions they open.

- `invitations`: a one-time code for a user, issued by someone who could grant that user's roles;
  only the SHA-256 of its secret part is stored. It expires, is used once, and is burned after
  MAX_ATTEMPTS wrong secrets (`attempts`).
- `sessions`: what an exchanged invitation opens: a refresh token (stored hashed, rotated on
  every use, the previous one remembered so that its reuse ends the session) and the session id
  every access token of it carries (`sid`). `revoked_at` set = signed out or revoked: every
  server process refuses the session's access tokens at their next request, since the viewer
  middleware reads it from the database.
- `api_keys`: keys of service accounts (users that partner tools act as): `bgk_<prefix>_<secret>`,
  the prefix shown and stored, the secret only hashed; expiry, revocation, last use (written at
  most once a minute), and `replaced_by` after a rotation; `registered_only` keys may run
  persisted operations only.
- `persisted_operations`: documents by SHA-256 (issue 18 §2, core/persisted.py), registered by
  `boothgraph operations register` or by clients' automatic persisted queries.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from migrations.sql import run_script

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = """
create table invitations (
    id           bigint generated always as identity primary key,
    user_id      text not null references users(id) on delete cascade,
    secret_hash  bytea not null,
    issued_by    text not null,
    issued_at    timestamptz not null default now(),
    expires_at   timestamptz not null,
    used_at      timestamptz,
    attempts     integer not null default 0
);
create index invitations_user on invitations (user_id);

create table sessions (
    id                   uuid primary key,
    user_id              text not null references users(id) on delete cascade,
    invitation_id        bigint references invitations(id),
    refresh_hash         bytea not null unique,
    previous_refresh_hash bytea,
    created_at           timestamptz not null default now(),
    refreshed_at         timestamptz not null default now(),
    expires_at           timestamptz not null,
    revoked_at           timestamptz,
    revoked_by           text
);
create index sessions_user on sessions (user_id);
create index sessions_previous on sessions (previous_refresh_hash) where previous_refresh_hash is not null;

create table api_keys (
    id            bigint generated always as identity primary key,
    prefix        text not null unique,
    secret_hash   bytea not null,
    user_id       text not null references users(id) on delete cascade,
    name          text not null,
    created_by    text not null,
    created_at    timestamptz not null default now(),
    expires_at    timestamptz not null,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    replaced_by   bigint references api_keys(id)
);
create index api_keys_user on api_keys (user_id);
alter table api_keys add column registered_only boolean not null default false;

create table persisted_operations (
    sha256        text primary key,
    document      text not null,
    source        text not null,
    registered_at timestamptz not null default now()
);
"""

DOWNGRADE = """
drop table persisted_operations;
drop table api_keys;
drop table sessions;
drop table invitations;
"""


def upgrade() -> None:
    run_script(UPGRADE)


def downgrade() -> None:
    run_script(DOWNGRADE)
