"""refresh_rollups(): the booth counts of the voters projected without a ten-row cross join,
and inserted in key order.

Same signature and the same result as 0002's version (tests/test_transfer_rollups.py checks it
against a fresh GROUP BY, against the row triggers, and on random voters).

Where 0002's time went, measured at 1M voters (medium preset, 1,056 booths, 83k booth rows;
bench/README.md, "Import"): the grouping-sets aggregate 1.2 s (seq scan 0.3 s), then every
one of its 75k groups crossed with a VALUES list of ten candidate rows, nine of them filtered
out (0.23 s), then the insert (0.38 s), about 5 us per booth row in all. The insert's cost is
one heap tuple and one unique-index entry per row, each WAL-logged, in the hash aggregate's
order (by grouping set, booths scattered), no anomaly: into a fresh table of the same shape it
costs the same, and without the primary key it falls to 0.07 s. So the "7 s for 745k booth
rows" at 10M voters was this per-row cost times ten. (When the booths' rows are already there,
the DELETE leaves dead entries of the same keys, which each insert's uniqueness check visits:
twice the cost again.) Dropping and rebuilding the key around a first load's recount gave no
gain we could measure.

Here: one row per group, the grouping set's key by coalesce (the other grouping columns are
NULL in a set that does not group by them), the four plain counts of the booth set by one
unnest of arrays; and the rows sorted by the key, so the index fills from its right edge.
1.98 s against 2.31 s for the whole recount (medians of 5 interleaved runs, 1M voters, empty
unit_rollups); 24.6 s against 28.3 s at 10M (one run each, 872,876 rows, the same md5).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import importlib

from migrations.sql import run_script

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# 0002's definition (a module name that starts with a digit): the function is restated whole,
# with only its booth counts of the voters replaced; the rest (scheme and outreach counts, the
# levels above) is 0002's, unchanged.
PREVIOUS = importlib.import_module("migrations.versions.0002_import").UPGRADE
_BOOTH_COUNTS_FROM = "    -- Every voter dimension of voter_contributions() from one scan"
_BOOTH_COUNTS_TO = "    insert into unit_rollups (unit_id, dim, key, n)\n    select v.booth_id, 'scheme'"
BOOTH_COUNTS = r"""    -- Every voter dimension of voter_contributions() from one scan: one grouping set per
    -- dimension; grouping() tells the sets apart (bit 32 gender .. bit 1 economic_status, 63 the
    -- booth alone). In a set, only its own column is not NULL by grouping, so coalesce is its key.
    insert into unit_rollups (unit_id, dim, key, n)
    select g.booth_id, d.dim, d.key, d.n
    from (
        select v.booth_id,
               grouping(v.gender, v.band, v.consent, v.caste_category, v.caste, v.economic_status) as gs,
               coalesce(v.gender, v.band, v.consent, v.caste_category, v.caste, v.economic_status) as key,
               count(*) as n,
               count(v.phone) as with_phone,
               count(v.phone) filter (where v.consent <> 'DENIED') as contactable,
               count(*) filter (where v.caste_category is not null or v.economic_status is not null) as surveyed
        from (select booth_id, gender, age_band(age) as band, contact_consent as consent, caste_category,
                     caste, economic_status, phone
              from voters where booth_id = any(booth_ids)) v
        group by grouping sets ((v.booth_id), (v.booth_id, v.gender), (v.booth_id, v.band),
                                (v.booth_id, v.consent), (v.booth_id, v.caste_category),
                                (v.booth_id, v.caste), (v.booth_id, v.economic_status))
    ) g
    cross join lateral unnest(
        case when g.gs = 63 then '{voters,with_phone,contactable,surveyed}'::text[]
             else array[case g.gs when 31 then 'gender' when 47 then 'age_band' when 55 then 'consent'
                                  when 59 then 'caste_category' when 61 then 'caste' else 'economic_status' end]
        end,
        case when g.gs = 63 then '{"","","",""}'::text[] else array[g.key] end,
        case when g.gs = 63 then array[g.n, g.with_phone, g.contactable, g.surveyed] else array[g.n] end
    ) d(dim, key, n)
    where d.key is not null and d.n > 0
    order by 1, 2, 3;

"""


def _with_booth_counts(previous: str) -> str:
    before, rest = previous.split(_BOOTH_COUNTS_FROM, 1)
    _, after = rest.split(_BOOTH_COUNTS_TO, 1)
    return before + BOOTH_COUNTS + _BOOTH_COUNTS_TO + after


UPGRADE = _with_booth_counts(PREVIOUS)


def upgrade() -> None:
    run_script(UPGRADE)


def downgrade() -> None:
    run_script(PREVIOUS)
