"""turnout_marks without its foreign keys and its unused index (issue 16, the marking load).

A mark batch inserts only voters it has just found on the booth's roll and elections it has just
found polling there (resolvers/turnout.mark_voted, one statement), and the service never deletes
a voter (erasure keeps the roll record) nor an election. So the two foreign keys checked nothing
the statement had not, at a price: each check takes a KEY SHARE lock on the referenced row, which
writes the voter's heap page (and a WAL record) for every mark, and makes every concurrent batch
share a lock on the one elections row (a MultiXact per overlap). `turnout_marks_booth`
(election_id, booth_id) served no query (undo and GOTV go by voter, the release by election and
time) and cost an index entry per mark. bench/README.md, "CPU per marking batch", has the
measurements.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from migrations.sql import run_script

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UPGRADE = r"""
alter table turnout_marks drop constraint if exists turnout_marks_election_id_fkey;
alter table turnout_marks drop constraint if exists turnout_marks_voter_id_fkey;
drop index if exists turnout_marks_booth;
"""

DOWNGRADE = r"""
alter table turnout_marks add constraint turnout_marks_election_id_fkey foreign key (election_id) references elections(id);
alter table turnout_marks add constraint turnout_marks_voter_id_fkey foreign key (voter_id) references voters(id);
create index if not exists turnout_marks_booth on turnout_marks (election_id, booth_id);
"""


def upgrade() -> None:
    run_script(UPGRADE)


def downgrade() -> None:
    run_script(DOWNGRADE)
