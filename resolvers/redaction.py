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

from policies import PAGE_INDEX, Cover

SENSITIVE_FIELDS = ("casteCategory", "caste", "economicStatus")
MASK = "******"


def mask_phone(phone: str | None) -> str | None:
    return None if phone is None else MASK + phone[-4:]


class VoterVisibility:
    """Where a viewer reads voters' phones (`contact`) and sensitive fields in clear. The answer
    for a voter depends only on its booth's ancestors, so it is remembered per ancestry: a page
    asks the covers once per booth, not twice per voter."""

    __slots__ = ("contact", "sensitive", "_clear", "_paged")
    MEMO_SIZE = 4096

    def __init__(self, contact: Cover, sensitive: Cover) -> None:
        self.contact = contact
        self.sensitive = sensitive
        self._clear: dict[tuple[int | None, ...], tuple[bool, bool]] = {}
        # Only a cover holding a roll page makes the answer depend on the voter's page: else the
        # memo stays per booth (a large export would otherwise keep an entry per page).
        self._paged = any(u.page is not None for u in (*contact.units, *sensitive.units))

    def clear(self, ancestors: tuple[int | None, ...]) -> tuple[bool, bool]:
        """(contact in clear, sensitive in clear) for a voter with these ancestors (and page)."""
        if not self._paged:
            ancestors = ancestors[:PAGE_INDEX]
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
    """(state, region, district, mandal, booth, page): the page decides a page in-charge's cover."""
    return (None, row["region_id"], row["district_id"], row["mandal_id"], row["booth_id"], row["page"])


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
    """What one request read in clear, per action and per booth the voters lie in: written to
    the audit log once per request, action and booth (records = distinct voters there). The
    booth is the one unit that is always inside the reader's scope and under every auditor
    whose scope holds the voter, whatever level the policy gives audit.read (service.md)."""

    voters: dict[tuple[str, str], set[int]] = field(default_factory=dict)

    def note(self, redacted: RedactedVoter, voter_id: int, unit_code: str) -> None:
        """`unit_code`: the booth the voter lies in."""
        if redacted.phone_in_clear:
            self.voters.setdefault(("voter.read_contact", unit_code), set()).add(voter_id)
        if redacted.sensitive_in_clear:
            self.voters.setdefault(("voter.read_sensitive", unit_code), set()).add(voter_id)

    def entries(self) -> list[tuple[str, str, int]]:
        """(action, unit code, records), sorted."""
        return [(action, code, len(ids)) for (action, code), ids in sorted(self.voters.items())]
