"""Progress of one campaign per caller (`campaignCallers`), for the managers of its unit: how many
entries each caller holds, how many they called, how many they reached. Counted as
Campaign.progress counts (a voter whose consent is DENIED counts nowhere).

A campaign that is absent, not visible, or not managed by the viewer gives an empty list.
"""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.context import ReadContext
from resolvers.cursors import from_global_id
from resolvers.outreach import ENTRY_FROM, campaign_by_id


@dataclass(frozen=True, slots=True)
class CallerProgressRow:
    caller_id: str
    caller_name: str
    assigned: int
    called: int
    reached: int


PROGRESS_SQL = f"""
select ca.caller_id, us.name, count(*) as assigned, count(ca.last_outcome) as called,
       count(*) filter (where ca.last_outcome = 'REACHED') as reached
{ENTRY_FROM}
join users us on us.id = ca.caller_id
where ca.campaign_id = $1 and v.contact_consent <> 'DENIED'
group by 1, 2 order by 1
"""


async def caller_progress(ctx: ReadContext, *, campaign_id: str) -> list[CallerProgressRow]:
    found = from_global_id(campaign_id, "Campaign")
    if found is None:
        return []
    campaign = await campaign_by_id(ctx, found[1])
    if campaign is None or not campaign.managed:
        return []
    rows = await ctx.pool.fetch(PROGRESS_SQL, campaign.id)
    return [CallerProgressRow(r["caller_id"], r["name"], r["assigned"], r["called"], r["reached"]) for r in rows]
