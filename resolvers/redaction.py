"""THE redaction rule for voter records, and the per-request log of what was read in clear.

Phone: in clear with voter.read_contact over the voter, or when the voter is on the viewer's
call list of an open campaign; otherwise masked `******` + last 4 digits. caste_category, caste,
economic_status: null without voter.read_sensitive over the voter. `redacted_fields` names
every field withheld or masked for this viewer, whether or not the voter has a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policies import Cover

SENSITIVE_FIELDS = ("casteCategory", "caste", "economicStatus")
MASK = "******"


def mask_phone(phone: str | None) -> str | None:
    return None if phone is None else MASK + phone[-4:]


@dataclass(frozen=True, slots=True)
class VoterVisibility:
    contact: Cover
    sensitive: Cover


@dataclass(slots=True)
class RedactedVoter:
    phone: str | None
    caste_category: str | None
    caste: str | None
    economic_status: str | None
    redacted_fields: list[str]
    phone_in_clear: bool
    sensitive_in_clear: bool


def voter_ancestors(row: Mapping[str, Any]) -> tuple[int | None, ...]:
    return (None, row["region_id"], row["district_id"], row["mandal_id"], row["booth_id"])


def redact_voter(row: Mapping[str, Any], visibility: VoterVisibility, *, on_call_list: bool = False) -> RedactedVoter:
    ancestors = voter_ancestors(row)
    phone_clear = on_call_list or visibility.contact.covers_ancestors(ancestors)
    sensitive_clear = visibility.sensitive.covers_ancestors(ancestors)
    redacted: list[str] = []
    if not phone_clear:
        redacted.append("phone")
    if not sensitive_clear:
        redacted.extend(SENSITIVE_FIELDS)
    return RedactedVoter(
        phone=row["phone"] if phone_clear else mask_phone(row["phone"]),
        caste_category=row["caste_category"] if sensitive_clear else None,
        caste=row["caste"] if sensitive_clear else None,
        economic_status=row["economic_status"] if sensitive_clear else None,
        redacted_fields=redacted,
        phone_in_clear=phone_clear and row["phone"] is not None,
        sensitive_in_clear=sensitive_clear
        and any(row[c] is not None for c in ("caste_category", "caste", "economic_status")),
    )


@dataclass
class ReadLog:
    """What one request read in clear: action -> set of voter ids, written to the audit log
    once per request and action (records = distinct voters)."""

    voters: dict[str, set[int]] = field(default_factory=dict)
    unit_codes: dict[str, str | None] = field(default_factory=dict)

    def note(self, redacted: RedactedVoter, voter_id: int, unit_code: str | None = None) -> None:
        if redacted.phone_in_clear:
            self._add("voter.read_contact", voter_id, unit_code)
        if redacted.sensitive_in_clear:
            self._add("voter.read_sensitive", voter_id, unit_code)

    def _add(self, action: str, voter_id: int, unit_code: str | None) -> None:
        self.voters.setdefault(action, set()).add(voter_id)
        if action not in self.unit_codes:
            self.unit_codes[action] = unit_code
        elif self.unit_codes[action] != unit_code:
            self.unit_codes[action] = None  # reads spanning several units: no single unit

    def entries(self) -> list[tuple[str, str | None, int]]:
        return [(action, self.unit_codes.get(action), len(ids)) for action, ids in sorted(self.voters.items())]
