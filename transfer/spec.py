"""What each import file may hold: its columns, their rules and its key (csv-format.md).

One declaration per file; the header check, the staging table and the set-wise SQL checks
are all derived from it, so a rule lives in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from models import LEVELS, CasteCategory, ContactConsent, EconomicStatus, Gender
from policies.engine import default_engine


# Which levels each role may be assigned at: from the Casbin policy (p2 rules), read when the
# importer is loaded, so an administrator's edit of policies/policy.csv applies to imports too.
def _role_levels() -> dict[str, frozenset[str]]:
    engine = default_engine()
    return {role: engine.allowed_levels(role) for role in engine.roles()}


ROLE_LEVELS: dict[str, frozenset[str]] = _role_levels()

Kind = Literal["text", "code", "unit_code", "epic", "int", "enum", "date", "phone"]
# value: in the header and never empty; header: in the header, may be empty; optional: neither.
Need = Literal["value", "header", "optional"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"
    need: Need = "value"
    choices: tuple[str, ...] = ()
    low: int = 0
    high: int = 0

    @property
    def in_header(self) -> bool:
        return self.need != "optional"


@dataclass(frozen=True)
class FileSpec:
    name: str  # "voters.csv"
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

    @property
    def stem(self) -> str:
        return self.name.removesuffix(".csv")


def _enum(name: str, values: tuple[str, ...], need: Need = "value") -> Column:
    return Column(name, "enum", need, choices=values)


INT4_MAX = 2_147_483_647

UNITS = FileSpec(
    "units.csv",
    (
        Column("code", "unit_code"),
        Column("parent_code", "unit_code", "header"),
        _enum("level", tuple(level.value for level in LEVELS)),
        Column("name"),
        Column("name_hi", need="optional"),
    ),
    key=("code",),
)
VOTERS = FileSpec(
    "voters.csv",
    (
        Column("epic_number", "epic"),
        Column("booth_code", "unit_code"),
        Column("serial_number", "int", low=1, high=INT4_MAX),
        Column("name"),
        Column("name_hi", need="optional"),
        Column("relative_name", need="optional"),
        Column("age", "int", low=18, high=120),
        _enum("gender", tuple(g.value for g in Gender)),
        Column("house_number", need="optional"),
        Column("phone", "phone", "optional"),
        _enum("caste_category", tuple(c.value for c in CasteCategory), "optional"),
        Column("caste", need="optional"),
        _enum("economic_status", tuple(e.value for e in EconomicStatus), "optional"),
        _enum("contact_consent", tuple(c.value for c in ContactConsent), "optional"),
        # The roll's own page number (docs/pages.md); empty or absent: pages of 30 serial numbers.
        Column("page", "int", "optional", low=1, high=INT4_MAX),
    ),
    key=("epic_number",),
)
SCHEMES = FileSpec(
    "schemes.csv",
    (Column("code", "code"), Column("name"), Column("name_hi", need="optional")),
    key=("code",),
)
BENEFICIARIES = FileSpec(
    "beneficiaries.csv",
    (Column("epic_number", "epic"), Column("scheme_code", "code"), Column("since", "date", "optional")),
    key=("epic_number", "scheme_code"),
)
USERS = FileSpec(
    "users.csv",
    (Column("id", "code"), Column("name"), Column("phone", need="optional")),
    key=("id",),
)
ASSIGNMENTS = FileSpec(
    "assignments.csv",
    (
        Column("user_id", "code"),
        _enum("role", tuple(ROLE_LEVELS)),
        Column("unit_code", "unit_code"),
        # A role held at that roll page of the booth unit_code (PAGE_INCHARGE, docs/pages.md).
        Column("page", "int", "optional", low=1, high=INT4_MAX),
    ),
    key=("user_id", "role", "unit_code", "page"),
)

# The order in which files are checked and written: every file after the ones it refers to.
FILES: tuple[FileSpec, ...] = (UNITS, SCHEMES, USERS, VOTERS, BENEFICIARIES, ASSIGNMENTS)
BY_NAME: dict[str, FileSpec] = {spec.name: spec for spec in FILES}
