"""Writes to one voter: updateVoterSurvey, enrollBeneficiary, eraseVoterPersonalData.

Each runs in one transaction with its audit entry. The voter is looked up among the voters
the viewer can read (voter.read): absent, elsewhere or unreadable -> NOT_FOUND; readable
without voter.write over it -> FORBIDDEN. Input that is wrong whatever the data
(phone, enums, dates) is refused first with BAD_USER_INPUT, so it reveals nothing.

The row triggers on voters and beneficiaries keep unit_rollups exact, so statistics reflect a
write as soon as it commits. Audit `detail` names the fields changed, never their values.

Erasure (DPDP Act 2023): phone and survey fields wiped, consent DENIED, `erased` set; the roll
record stays. While erased, only an update that sets contactConsent GRANTED may record new
personal data (and it lifts the erasure); any other attempt is BAD_USER_INPUT.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

from core.errors import BadUserInput, Forbidden, NotFound
from core.viewer import Viewer
from models import CasteCategory, ContactConsent, EconomicStatus
from policies import PolicyEngine
from resolvers import audit, outreach
from resolvers.context import ReadContext
from resolvers.input_checks import check_enum, check_phone, check_text, parse_date
from resolvers.redaction import voter_ancestors
from resolvers.scope import SqlParams, scope_condition
from resolvers.unit_of_work import in_transaction
from resolvers.voters import VoterRecord, Want, voter_by_id

# GraphQL input name -> column
SURVEY_FIELDS = {
    "phone": "phone",
    "casteCategory": "caste_category",
    "caste": "caste",
    "economicStatus": "economic_status",
    "contactConsent": "contact_consent",
}

VOTER_ROW_SQL = """
select v.*, b.code as booth_code
from voters v join units b on b.id = v.booth_id
"""


async def voter_for_write(
    conn: asyncpg.Connection, viewer: Viewer, policy: PolicyEngine, epic_number: str
) -> asyncpg.Record:
    """The voter row locked FOR UPDATE; NOT_FOUND when absent or not readable (voter.read: a
    voter is an object the viewer can read only with it, access-policy.md), FORBIDDEN when
    readable without voter.write over it. Call inside the mutation's transaction."""
    params = SqlParams(epic_number)
    cond = scope_condition(policy.cover(viewer, "voter.read"), params, "v", pages=True)
    row = await conn.fetchrow(f"{VOTER_ROW_SQL} where v.epic_number = $1 and {cond} for update of v", *params.values)
    if row is None or not policy.cover(viewer, "voter.read").covers_ancestors(voter_ancestors(row)):
        # A voter the viewer cannot read is absent to them, so the answer (the voter as a read
        # shows it) never carries more than a read would (service.md: NOT_FOUND).
        raise NotFound("No such voter")
    if not policy.cover(viewer, "voter.write").covers_ancestors(voter_ancestors(row)):
        raise Forbidden("You may not change this voter's record")
    return row


async def fetch_voter(conn: asyncpg.Connection, voter_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(f"{VOTER_ROW_SQL} where v.id = $1", voter_id)
    assert row is not None
    return row


def clean_survey(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validated column -> value for the given fields (a field absent from `changes` is left
    as it is; an explicit None clears it, except contactConsent which cannot be null)."""
    unknown = set(changes) - set(SURVEY_FIELDS) - {"epicNumber"}
    if unknown:
        raise BadUserInput(f"Unknown survey fields: {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    if "phone" in changes:
        out["phone"] = check_phone(changes["phone"])
    if "casteCategory" in changes:
        out["caste_category"] = check_enum(changes["casteCategory"], CasteCategory, "casteCategory")
    if "caste" in changes:
        caste = check_text(changes["caste"], "caste", limit=50)
        out["caste"] = caste.strip() or None if caste is not None else None
    if "economicStatus" in changes:
        out["economic_status"] = check_enum(changes["economicStatus"], EconomicStatus, "economicStatus")
    if changes.get("contactConsent") is not None:
        out["contact_consent"] = check_enum(changes["contactConsent"], ContactConsent, "contactConsent")
    return out


async def update_voter_survey(
    conn: asyncpg.Connection, viewer: Viewer, policy: PolicyEngine, epic_number: str, changes: Mapping[str, Any]
) -> asyncpg.Record:
    """updateVoterSurvey: `changes` holds only the input fields that were given."""
    check_text(epic_number, "epicNumber", limit=20, required=True)
    columns = clean_survey(changes)

    async def work() -> asyncpg.Record:
        row = await voter_for_write(conn, viewer, policy, epic_number)
        values = dict(columns)
        if row["erased"]:
            if values.get("contact_consent") == "GRANTED":
                values["erased"] = False
            elif (
                any(v is not None for k, v in values.items() if k != "contact_consent")
                or values.get("contact_consent", "DENIED") != "DENIED"
            ):
                raise BadUserInput(
                    "This voter's personal data was erased at their request; "
                    "set contactConsent GRANTED to record new data",
                    argument="input",
                )
        changed = sorted(k for k, v in values.items() if row[k] != v)
        if changed:
            params = SqlParams(row["id"])
            sets = ", ".join(f"{col} = {params.add(values[col])}" for col in changed)
            await conn.execute(f"update voters set {sets} where id = $1", *params.values)
            if "contact_consent" in changed and values["contact_consent"] == "DENIED":
                await outreach.leave_call_lists(conn, voter_id=row["id"])
        await audit.record(
            conn,
            user_id=viewer.user_id,
            action="voter.write",
            unit_id=row["booth_id"],
            unit_code=row["booth_code"],
            records=1,
            detail=audit.detail_json(epic=row["epic_number"], fields=[c for c in changed if c != "erased"]),
        )
        return await fetch_voter(conn, row["id"])

    return await in_transaction(conn, work)


async def erase_voter_personal_data(
    conn: asyncpg.Connection, viewer: Viewer, policy: PolicyEngine, epic_number: str
) -> asyncpg.Record:
    check_text(epic_number, "epicNumber", limit=20, required=True)

    async def work() -> asyncpg.Record:
        row = await voter_for_write(conn, viewer, policy, epic_number)
        await conn.execute(
            """update voters set phone = null, caste_category = null, caste = null, economic_status = null,
                      contact_consent = 'DENIED', erased = true
               where id = $1""",
            row["id"],
        )
        await outreach.leave_call_lists(conn, voter_id=row["id"])
        await audit.record(
            conn,
            user_id=viewer.user_id,
            action="voter.erase",
            unit_id=row["booth_id"],
            unit_code=row["booth_code"],
            records=1,
            detail=audit.detail_json(epic=row["epic_number"]),
        )
        return await fetch_voter(conn, row["id"])

    return await in_transaction(conn, work)


async def enroll_beneficiary(
    conn: asyncpg.Connection,
    viewer: Viewer,
    policy: PolicyEngine,
    epic_number: str,
    scheme: str,
    since: str | None = None,
) -> asyncpg.Record:
    """Upserts (voter, scheme); a given `since` replaces the stored one, none keeps it."""
    check_text(epic_number, "epicNumber", limit=20, required=True)
    check_text(scheme, "scheme", limit=50, required=True)
    since_date = parse_date(since, "since")
    if not await conn.fetchval("select true from schemes where code = $1", scheme):
        raise BadUserInput(f"Unknown scheme {scheme}", argument="scheme")

    async def work() -> asyncpg.Record:
        row = await voter_for_write(conn, viewer, policy, epic_number)
        await conn.execute(
            """insert into beneficiaries (voter_id, scheme_code, since) values ($1, $2, $3)
               on conflict (voter_id, scheme_code) do update
               set since = coalesce(excluded.since, beneficiaries.since)
               where beneficiaries.since is distinct from coalesce(excluded.since, beneficiaries.since)""",
            row["id"],
            scheme,
            since_date,
        )
        await audit.record(
            conn,
            user_id=viewer.user_id,
            action="beneficiary.enroll",
            unit_id=row["booth_id"],
            unit_code=row["booth_code"],
            records=1,
            detail=audit.detail_json(epic=row["epic_number"], scheme=scheme),
        )
        return await fetch_voter(conn, row["id"])

    return await in_transaction(conn, work)


async def written_voter(ctx: ReadContext, voter_id: int, want: Want = Want()) -> VoterRecord:
    """The voter a mutation returns, after commit, exactly as a read shows it to the viewer
    (visibility and redaction of resolvers.voters); NOT_FOUND when a read would not show it
    (e.g. the viewer's voter.read was revoked meanwhile), never the raw row. `want`: what the
    mutation's selection asks for (the audit notes only what goes out)."""
    record = await voter_by_id(ctx, voter_id, want)
    if record is None:
        raise NotFound("No such voter")
    return record
