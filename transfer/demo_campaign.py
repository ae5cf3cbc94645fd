"""The demo's outreach: one open campaign in the first district, with calls assigned to every
caller there, so that `boothgraph demo`'s caller opens the app on a call list with work in it.

The CSV format has no campaigns, so they are written here after the import, by the same rules
`assignCalls` follows (a phone, consent not DENIED, a beneficiary of one of the campaign's schemes,
under the caller's own unit), and audited as `outreach.campaign` / `outreach.assign` by `system`
like the command-line import.
"""

from __future__ import annotations

from collections import Counter

import asyncpg

from resolvers import audit

CAMPAIGN_NAME = "Beneficiary check-in · लाभार्थी संपर्क"
CAMPAIGN_DAYS = 60
CALLS_PER_CALLER = 25
SYSTEM_USER = "system"

FIRST_DISTRICT_SQL = """
select u.id, u.code, a.user_id as president
from units u join assignments a on a.unit_id = u.id and a.role = 'DISTRICT_PRESIDENT'
where u.level = 'DISTRICT' order by u.id, a.id limit 1
"""
CALLERS_SQL = """
select a.user_id, u.id as unit_id, u.code, u.level
from assignments a join units u on u.id = a.unit_id
where a.role = 'CALLER' and u.district_id = $1 order by u.depth desc, a.id
"""  # booth callers first, then mandal, then district: each one's own area before a wider list takes it
ASSIGN_SQL = """
insert into call_assignments (campaign_id, voter_id, caller_id, assigned_by)
select $1, v.id, $2, $3 from voters v
where v.{level}_id = $4 and v.phone is not null and v.contact_consent <> 'DENIED'
  and exists (select 1 from beneficiaries b where b.voter_id = v.id and b.scheme_code = any($5::text[]))
  and not exists (select 1 from call_assignments x where x.campaign_id = $1 and x.voter_id = v.id)
order by v.booth_id, v.serial_number, v.id
limit $6
on conflict (campaign_id, voter_id) do nothing
"""
COUNT_SQL = """
select count(*) from voters v
where v.{level}_id = $2 and v.phone is not null and v.contact_consent <> 'DENIED'
  and exists (select 1 from beneficiaries b where b.voter_id = v.id and b.scheme_code = any($3::text[]))
  and not exists (select 1 from call_assignments x where x.campaign_id = $1 and x.voter_id = v.id)
"""
LEVEL_COLUMNS = {"DISTRICT": "district", "MANDAL": "mandal", "BOOTH": "booth"}


async def seed_demo_campaign(conn: asyncpg.Connection) -> tuple[str, int] | None:
    """Creates the open campaign and its call lists in one transaction, unless a campaign exists;
    returns (district code, calls assigned), or None when nothing was done."""
    if await conn.fetchval("select exists (select 1 from campaigns)"):
        return None
    district = await conn.fetchrow(FIRST_DISTRICT_SQL)
    if district is None:
        return None
    async with conn.transaction():
        schemes = [r["code"] for r in await conn.fetch("select code from schemes order by code")]
        campaign_id = await conn.fetchval(
            """insert into campaigns (name, unit_id, schemes, opens_on, closes_on, created_by)
               values ($1, $2, $3, current_date, current_date + $4::int, $5) returning id""",
            CAMPAIGN_NAME,
            district["id"],
            schemes,
            CAMPAIGN_DAYS,
            district["president"],
        )
        await audit.record(
            conn,
            user_id=SYSTEM_USER,
            action="outreach.campaign",
            unit_id=district["id"],
            unit_code=district["code"],
            records=0,
            detail=audit.detail_json(campaign=campaign_id, name=CAMPAIGN_NAME, schemes=schemes),
        )
        total = 0
        callers = await conn.fetch(CALLERS_SQL, district["id"])
        sharing = Counter(c["unit_id"] for c in callers)
        for caller in callers:
            sql = ASSIGN_SQL.format(level=LEVEL_COLUMNS[caller["level"]])
            # Callers of one unit share its voters rather than the first taking them all.
            left = sharing[caller["unit_id"]]
            sharing[caller["unit_id"]] -= 1
            eligible = await conn.fetchval(
                COUNT_SQL.format(level=LEVEL_COLUMNS[caller["level"]]), campaign_id, caller["unit_id"], schemes
            )
            limit = min(CALLS_PER_CALLER, -(-eligible // left))
            status = await conn.execute(
                sql, campaign_id, caller["user_id"], district["president"], caller["unit_id"], schemes, limit
            )
            count = int(status.split()[-1])
            total += count
            await audit.record(
                conn,
                user_id=SYSTEM_USER,
                action="outreach.assign",
                unit_id=caller["unit_id"],
                unit_code=caller["code"],
                records=count,
                detail=audit.detail_json(campaign=campaign_id, caller=caller["user_id"]),
            )
    return district["code"], total
