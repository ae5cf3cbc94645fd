"""SQLModel table models: the typed mirror of the tables that migrations/ creates.

Alembic owns the schema (triggers, functions and indexes live in the revisions); these
classes give the rest of the code names and types for the columns, and
`tests/test_migrations.py` checks they match the migrated database column for column.
Knows nothing above it: no casbin, no strawberry, no resolvers.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import Column, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel


class Level(str, Enum):
    STATE = "STATE"
    REGION = "REGION"
    DISTRICT = "DISTRICT"
    MANDAL = "MANDAL"
    BOOTH = "BOOTH"

    @property
    def depth(self) -> int:
        return LEVELS.index(self)

    @property
    def column(self) -> str:
        """The ancestor column of units/voters that holds a unit of this level."""
        return f"{self.value.lower()}_id"


LEVELS: list[Level] = list(Level)


class Gender(str, Enum):
    MALE = "MALE"
    FEMALE = "FEMALE"
    THIRD_GENDER = "THIRD_GENDER"


class CasteCategory(str, Enum):
    GEN = "GEN"
    OBC = "OBC"
    SC = "SC"
    ST = "ST"


class EconomicStatus(str, Enum):
    BPL = "BPL"
    LOW_INCOME = "LOW_INCOME"
    MIDDLE_INCOME = "MIDDLE_INCOME"
    HIGH_INCOME = "HIGH_INCOME"


class ContactConsent(str, Enum):
    GRANTED = "GRANTED"
    DENIED = "DENIED"
    UNKNOWN = "UNKNOWN"


class CallOutcome(str, Enum):
    REACHED = "REACHED"
    NO_ANSWER = "NO_ANSWER"
    WRONG_NUMBER = "WRONG_NUMBER"
    REFUSED = "REFUSED"
    CALL_BACK = "CALL_BACK"


class Unit(SQLModel, table=True):
    __tablename__ = "units"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    parent_id: int | None = Field(default=None, foreign_key="units.id")
    level: str
    depth: int
    name: str
    name_hi: str | None = None
    path: str  # codes from the top, "/"-separated: the Casbin domain
    state_id: int
    region_id: int | None = None
    district_id: int | None = None
    mandal_id: int | None = None
    booth_id: int | None = None


class Scheme(SQLModel, table=True):
    __tablename__ = "schemes"
    code: str = Field(primary_key=True)
    name: str
    name_hi: str | None = None


class Voter(SQLModel, table=True):
    __tablename__ = "voters"
    id: int | None = Field(default=None, primary_key=True)
    epic_number: str = Field(unique=True)
    booth_id: int = Field(foreign_key="units.id")
    mandal_id: int
    district_id: int
    region_id: int
    serial_number: int
    name: str
    name_hi: str | None = None
    relative_name: str | None = None
    age: int
    gender: str
    house_number: str | None = None
    phone: str | None = None
    caste_category: str | None = None
    caste: str | None = None
    economic_status: str | None = None
    contact_consent: str = "UNKNOWN"
    erased: bool = False
    roll_page: int | None = None  # the page an import gave; NULL: pages of 30 serials
    page: int | None = None  # generated (0005): roll_page, else (serial_number - 1) / 30 + 1
    household: str | None = None  # generated (0005): house_key(house_number), the household's key


class Beneficiary(SQLModel, table=True):
    __tablename__ = "beneficiaries"
    voter_id: int = Field(primary_key=True, foreign_key="voters.id")
    scheme_code: str = Field(primary_key=True, foreign_key="schemes.code")
    since: dt.date | None = None


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: str = Field(primary_key=True)
    name: str
    phone: str | None = None


class Assignment(SQLModel, table=True):
    __tablename__ = "assignments"
    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="users.id")
    role: str
    unit_id: int = Field(foreign_key="units.id")
    page: int | None = None  # a role held at one page of the booth `unit_id` (PAGE_INCHARGE)


class Campaign(SQLModel, table=True):
    __tablename__ = "campaigns"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    unit_id: int = Field(foreign_key="units.id")
    schemes: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    opens_on: dt.date
    closes_on: dt.date
    created_by: str = Field(foreign_key="users.id")
    created_at: dt.datetime | None = None
    purpose: str = "FEEDBACK"  # or BENEFIT_REGISTRATION (0009)


class CallAssignment(SQLModel, table=True):
    __tablename__ = "call_assignments"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id")
    voter_id: int = Field(foreign_key="voters.id")
    caller_id: str = Field(foreign_key="users.id")
    assigned_by: str = Field(foreign_key="users.id")
    assigned_at: dt.datetime | None = None
    last_call_id: int | None = None
    last_outcome: str | None = None


class CallLog(SQLModel, table=True):
    __tablename__ = "call_logs"
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="call_assignments.id")
    voter_id: int = Field(foreign_key="voters.id")
    caller_id: str = Field(foreign_key="users.id")
    outcome: str
    problems: str | None = None
    benefit_received: bool | None = None
    desired_benefit: str | None = None
    satisfaction: int | None = None
    notes: str | None = None
    called_at: dt.datetime | None = None


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime | None = None
    user_id: str
    action: str
    unit_id: int | None = Field(default=None, foreign_key="units.id")
    unit_code: str | None = None
    records: int = 0
    detail: str | None = None


class UnitRollup(SQLModel, table=True):
    __tablename__ = "unit_rollups"
    unit_id: int = Field(primary_key=True, foreign_key="units.id")
    dim: str = Field(primary_key=True)
    key: str = Field(primary_key=True, default="")
    n: int


# ------------------------------------------------------------------ elections (0009) ---
class Election(SQLModel, table=True):
    __tablename__ = "elections"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    name: str
    name_hi: str | None = None
    model_code_from: dt.date
    counting_on: dt.date
    created_by: str
    updated_at: dt.datetime | None = None


class ElectionPhase(SQLModel, table=True):
    __tablename__ = "election_phases"
    election_id: int = Field(primary_key=True, foreign_key="elections.id")
    unit_id: int = Field(primary_key=True, foreign_key="units.id")
    poll_date: dt.date


class TurnoutMark(SQLModel, table=True):
    __tablename__ = "turnout_marks"
    # No foreign keys since migration 0012: the marking statement finds both rows itself.
    election_id: int = Field(primary_key=True)
    voter_id: int = Field(primary_key=True)
    booth_id: int
    marked_at: dt.datetime
    local_hour: int
    caste_category: str | None = None
    marked_by: str


class TurnoutRollup(SQLModel, table=True):
    __tablename__ = "turnout_rollups"
    election_id: int = Field(primary_key=True)
    unit_id: int = Field(primary_key=True)
    dim: str = Field(primary_key=True)
    key: str = Field(primary_key=True, default="")
    stripe: int = Field(primary_key=True)
    n: int


metadata = SQLModel.metadata
