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


class VoterVisibility:
    """Where a viewer reads voters' phones (`contact`) and sensitive fields in clear. The answer
    for a voter depends only on its booth's ancestors, so it is remembered per ancestry: a page
    asks the covers once per booth, not twice per voter."""

    __slots__ = ("contact", "sensitive", "_clear")
    MEMO_SIZE = 4096

    def __init__(self, contact: Cover, sensitive: Cover) -> None:
        self.contact = contact
        self.sensitive = sensitive
        self._clear: dict[tuple[int | None, ...], tuple[bool, bool]] = {}

    def clear(self, ancestors: tuple[int | None, ...]) -> tuple[bool, bool]:
        """(contact in clear, sensitive in clear) for a voter with these ancestors."""
        found = self._clear.get(ancestors)
        if found is None:
            if len(self._clear) >= self.MEMO_SIZE:
                self._clear.clear()
            found = (self.contact.covers_ancestors(ancestors), self.sensitive.covers_ancestors(ancestors))
            self._clear[ancestors] = found
        return found


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
    contact_clear, sensitive_clear = visibility.clear(voter_ancestors(row))
    phone_clear = on_call_list or contact_clear
    phone = row["phone"]
    if sensitive_clear:
        caste_category, caste, economic_status = row["caste_category"], row["caste"], row["economic_status"]
        redacted = [] if phone_clear else ["phone"]
    else:
        caste_category = caste = economic_status = None
        redacted = list(SENSITIVE_FIELDS) if phone_clear else ["phone", *SENSITIVE_FIELDS]
    return RedactedVoter(
        phone=phone if phone_clear else mask_phone(phone),
        caste_category=caste_category,
        caste=caste,
        economic_status=economic_status,
        redacted_fields=redacted,
        phone_in_clear=phone_clear and phone is not None,
        sensitive_in_clear=sensitive_clear
        and (caste_category is not None or caste is not None or economic_status is not None),
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
