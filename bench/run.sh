#!/usr/bin/env bash
# boothgraph vs the peer (PostGraphile + RLS) vs the raw-SQL limit, end to end, in one command:
#
#   bench/run.sh [--preset medium] [--runs 3] [-n 2000] [-c 16] [--warmup 200] [--reload] [--check-only]
#
# 1. generates the data with ../shared/tools/gen_dataset.py into /tmp/bg-<preset> (kept as a cache);
# 2. copies ../shared/bench/peer (read-only) to a scratch dir (/tmp/peer), npm ci + .venv there;
# 3. starts the peer's PostgreSQL cluster (pg.sh: 127.0.0.1:55432) and loads the data twice into it:
#    database "peer" (load.sh) and database "boothgraph" (`boothgraph import`, then VACUUM ANALYZE
#    as load.sh does). A database already holding this very data folder is kept (--reload forces);
# 4. starts PostGraphile (run_peer.sh) and `boothgraph serve --workers 2` with production
#    settings (GRAPHIQL=false, a random 43-character JWT_SECRET, the rate limit out of the way);
# 5. scenario.py with that secret (both servers get the same secret, so the same tokens);
#    verify_rls.py on the peer; bench/check.py asks both servers Q1-Q4 and compares the answers,
#    and checks Q5; nothing is timed unless all of that passes;
# 6. RUNS times: the peer (driver.py over queries/peer), the limit (limit.py), boothgraph
#    (driver.py over queries/boothgraph + bench/queries/q5_state_dashboard.graphql), and the same
#    five as persisted operations (registered with `boothgraph operations register` after the
#    checks; bench/persisted_driver.py sends the hash alone); then the ceiling of issue 18 §2:
#    `{ __typename }` on bench/framework_floor.py (strawberry + Starlette + uvicorn, nothing of
#    ours, on FLOOR_PORT) and on boothgraph, and bench/sql_floor.py (Q1, Q2, Q4's statements
#    replayed over asyncpg, no server);
# 7. writes bench/results/<preset>-<date>.md (bench/report.py) and .jsonl.
# Both servers are stopped at the end; the PostgreSQL cluster keeps running (/tmp/peer/pg.sh stop).
#
# Knobs (env): RUNS N C WARMUP (or the flags), PEER_WORKERS (node processes, default 2),
# BG_WORKERS (default 2), PEER_PORT (5055), BG_PORT (8000), FLOOR_PORT (8200), SCRATCH (/tmp/peer), DATA (/tmp/bg-<preset>),
# SHARED (../shared), JWT_SECRET (default: random), PGPORT (55432).
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
MAIN=$(cd "$BENCH/.." && pwd)
SHARED=${SHARED:-$(cd "$MAIN/../shared" && pwd)}
PEER_SRC=$SHARED/bench/peer
SCRATCH=${SCRATCH:-/tmp/peer}
PRESET=${PRESET:-medium}
RUNS=${RUNS:-3}
N=${N:-2000}
C=${C:-16}
WARMUP=${WARMUP:-200}
RELOAD=0
CHECK_ONLY=0
while [ $# -gt 0 ]; do
    case "$1" in
    --preset) PRESET=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    -n) N=$2; shift 2 ;;
    -c) C=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --reload) RELOAD=1; shift ;;
    --check-only) CHECK_ONLY=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
DATA=${DATA:-/tmp/bg-$PRESET}
PEER_WORKERS=${PEER_WORKERS:-2}
BG_WORKERS=${BG_WORKERS:-2}
PEER_PORT=${PEER_PORT:-5055}
BG_PORT=${BG_PORT:-8000}
export PGHOST=127.0.0.1 PGPORT=${PGPORT:-55432} PGUSER=postgres
PEER_URL=http://127.0.0.1:$PEER_PORT/graphql
BG_URL=http://127.0.0.1:$BG_PORT/graphql
FLOOR_PORT=${FLOOR_PORT:-8200}
FLOOR_URL=http://127.0.0.1:$FLOOR_PORT/graphql
BG_DB=boothgraph
BG=${BG_CMD:-$MAIN/.venv/bin/boothgraph}   # BG_CMD: another boothgraph executable
WORK=$SCRATCH/work
log() { printf '\n== %s  %s\n' "$(date +%T)" "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }
psql_() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# -- 0. tools ------------------------------------------------------------------------------------
[ -x "$BG" ] || die "$BG not found: install boothgraph into .venv first (.venv/bin/pip install -c constraints.txt -e '.[dev]')"
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed for PostGraphile"
if ! command -v wrk >/dev/null || [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
    [ "$(id -u)" = 0 ] || die "wrk and postgresql-15 are needed: apt-get install -y wrk postgresql-15"
    log "apt-get install wrk postgresql-15"
    apt-get install -y -qq wrk postgresql-15 >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq wrk postgresql-15 >/dev/null; }
fi

# -- 1. data -------------------------------------------------------------------------------------
if [ ! -s "$DATA/.bench-complete" ]; then
    log "generating the $PRESET preset into $DATA"
    rm -rf "$DATA" "$DATA.tmp"
    python3 "$SHARED/tools/gen_dataset.py" --preset "$PRESET" --out "$DATA.tmp"
    echo "preset=$PRESET generated=$(date +%s)" > "$DATA.tmp/.bench-complete"
    mv "$DATA.tmp" "$DATA"
fi
STAMP=$(cat "$DATA/.bench-complete")
VOTERS=$(($(wc -l < "$DATA/voters.csv") - 1))

# -- 2. the peer, in a scratch copy (../shared is read-only) -------------------------------------
log "peer scratch copy in $SCRATCH"
mkdir -p "$SCRATCH"
cp -r "$PEER_SRC/." "$SCRATCH/"
chmod -R u+w "$SCRATCH"
if ! cmp -s "$SCRATCH/package-lock.json" "$SCRATCH/node_modules/.bench-lock" 2>/dev/null; then
    (cd "$SCRATCH" && npm ci --no-audit --no-fund >/dev/null && cp package-lock.json node_modules/.bench-lock)
fi
[ -x "$SCRATCH/.venv/bin/python" ] || python3 -m venv "$SCRATCH/.venv"
"$SCRATCH/.venv/bin/python" -c 'import asyncpg' 2>/dev/null || "$SCRATCH/.venv/bin/pip" install -q asyncpg

# -- 3. one PostgreSQL cluster, two databases ----------------------------------------------------
"$SCRATCH/pg.sh" status >/dev/null 2>&1 || "$SCRATCH/pg.sh" start
loaded() {  # the database exists and was loaded from this very data folder
    [ "$RELOAD" = 0 ] && [ "$(psql_ -d postgres -Atc "select shobj_description(oid, 'pg_database')
        from pg_database where datname = '$1'")" = "$DATA $STAMP" ]
}
if loaded peer; then
    log "database peer already holds $DATA"
else
    log "loading $DATA into the peer (load.sh)"
    "$SCRATCH/load.sh" "$DATA" peer
    psql_ -d postgres -c "comment on database peer is '$DATA $STAMP'"
fi
export DATABASE_URL=postgresql://postgres@127.0.0.1:$PGPORT/$BG_DB
BG_CWD=$SCRATCH/bg-cwd            # no .env or .boothgraph/ of a developer leaks into the run
mkdir -p "$BG_CWD"
if loaded "$BG_DB"; then
    log "database $BG_DB already holds $DATA"
else
    log "importing $DATA into boothgraph (database $BG_DB)"
    psql_ -d postgres -c "drop database if exists $BG_DB" -c "create database $BG_DB"
    start=$SECONDS
    (cd "$BG_CWD" && "$BG" import "$DATA")
    IMPORT_S=$((SECONDS - start))
    psql_ -d "$BG_DB" -c "vacuum analyze"
    echo "boothgraph import took ${IMPORT_S}s (+ vacuum analyze $((SECONDS - start - IMPORT_S))s)" >&2
    psql_ -d postgres -c "comment on database $BG_DB is '$DATA $STAMP'"
fi

# -- 4. both servers -----------------------------------------------------------------------------
export JWT_SECRET=${JWT_SECRET:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')}
# boothgraph's production settings: env vars named after core/settings.py's fields.
BG_ENV=(GRAPHIQL=false RATE_LIMIT_PER_S=1000000 RATE_LIMIT_BURST=1000000)
missing=$(cd "$MAIN" && .venv/bin/python -c '
import sys
from core.settings import Settings
fields = set(Settings.model_fields)
print(" ".join(n for n in sys.argv[1:] if n.lower() not in fields))' jwt_secret database_url "${BG_ENV[@]%%=*}")
[ -z "$missing" ] || die "core/settings.py has no field for: $missing (update BG_ENV in bench/run.sh)"

mkdir -p "$WORK"
PIDS=()
stop_all() {
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
}
trap stop_all EXIT
for port in "$PEER_PORT" "$BG_PORT" "$FLOOR_PORT"; do
    ! curl -s -o /dev/null "http://127.0.0.1:$port/" || die "something already listens on port $port"
done

log "starting PostGraphile ($PEER_WORKERS worker(s)) and boothgraph ($BG_WORKERS workers)"
# setsid: each server in its own process group, so its workers are stopped with it.
(cd "$SCRATCH" && exec setsid env WORKERS="$PEER_WORKERS" PORT="$PEER_PORT" ./run_peer.sh peer) \
    > "$WORK/postgraphile.log" 2>&1 &
PIDS+=($!)
# The design card's stack alone (strawberry + Starlette + uvicorn, nothing of ours): the ceiling row.
(cd "$BG_CWD" && exec setsid "$MAIN/.venv/bin/python" "$BENCH/framework_floor.py" --port "$FLOOR_PORT" \
    --workers "$BG_WORKERS") > "$WORK/framework_floor.log" 2>&1 &
PIDS+=($!)
(cd "$BG_CWD" && exec setsid env "${BG_ENV[@]}" "$BG" serve --host 127.0.0.1 --port "$BG_PORT" \
    --workers "$BG_WORKERS") > "$WORK/boothgraph.log" 2>&1 &
PIDS+=($!)
wait_for() {  # url what
    for _ in $(seq 240); do
        curl -sf -o /dev/null -H 'Content-Type: application/json' -d '{"query":"{__typename}"}' "$1" && return 0
        sleep 0.5
    done
    die "$2 did not come up on $1 (see $WORK/$2.log)"
}
wait_for "$PEER_URL" postgraphile
wait_for "$FLOOR_URL" framework_floor
curl -sf -o /dev/null "http://127.0.0.1:$BG_PORT/readyz" || true
for _ in $(seq 240); do curl -sf -o /dev/null "http://127.0.0.1:$BG_PORT/readyz" && break; sleep 0.5; done
curl -sf -o /dev/null "http://127.0.0.1:$BG_PORT/readyz" || die "boothgraph not ready (see $WORK/boothgraph.log)"

# -- 5. scenario and checks ----------------------------------------------------------------------
log "scenario (same secret for both servers) and checks"
python3 "$SCRATCH/scenario.py" "$DATA" --out "$WORK" --secret="$JWT_SECRET"
read -r Q5_USER Q5_UNIT < <(python3 - "$DATA" <<'PY'
import csv, os, sys
rows = lambda n: csv.DictReader(open(os.path.join(sys.argv[1], n), newline="", encoding="utf-8"))
root = next(u["code"] for u in rows("units.csv") if not u["parent_code"])
user = next(r["user_id"] for r in rows("assignments.csv") if r["role"] == "STATE_PRESIDENT" and r["unit_code"] == root)
print(user, root)
PY
)
python3 -c 'import json, sys; json.dump({"unit": sys.argv[1]}, open(sys.argv[2], "w"))' "$Q5_UNIT" "$WORK/q5.vars.json"
python3 "$SCRATCH/mktoken.py" "$Q5_USER" --secret="$JWT_SECRET" > "$WORK/q5.token"

python3 "$SCRATCH/verify_rls.py" --url "$PEER_URL" --scenario "$WORK/scenario.json" | tee "$WORK/checks.txt" ||
    die "the peer's RLS checks failed: nothing timed"
python3 "$BENCH/check.py" --work "$WORK" --data "$DATA" --peer-url "$PEER_URL" --bg-url "$BG_URL" \
    --peer-queries "$SCRATCH/queries/peer" --bg-queries "$SCRATCH/queries/boothgraph" \
    --q5 "$BENCH/queries/q5_state_dashboard.graphql" | tee -a "$WORK/checks.txt" ||
    die "the answers differ or a query failed (see above and $WORK/boothgraph.log): nothing timed"
# Q1-Q5 registered as persisted operations (the very files driven below), so that they can also be
# sent as a hash alone (bench/persisted_driver.py; docs/persisted-operations.md).
rm -rf "$WORK/operations" && mkdir -p "$WORK/operations"
cp "$SCRATCH"/queries/boothgraph/q[1-4]_*.graphql "$BENCH/queries/q5_state_dashboard.graphql" "$WORK/operations/"
(cd "$BG_CWD" && "$BG" operations register "$WORK/operations") | tee -a "$WORK/checks.txt"
for q in "$WORK"/operations/*.graphql; do
    n=$(basename "$q"); n=${n%%_*}
    python3 "$BENCH/persisted_driver.py" --url "$BG_URL" --token "$(cat "$WORK/$n.token")" \
        --variables "@$WORK/$n.vars.json" --query-file "$q" -n 1 -c 1 --warmup 0 --label "persisted:${n^^}" \
        >/dev/null 2>>"$WORK/checks.txt" || die "the persisted $n failed (see $WORK/checks.txt): nothing timed"
done
[ "$CHECK_ONLY" = 0 ] || { log "--check-only: done"; exit 0; }

# -- 6. the runs ---------------------------------------------------------------------------------
DATE=$(date +%F)
mkdir -p "$BENCH/results"
OUT=$BENCH/results/$PRESET-$DATE
[ ! -e "$OUT.md" ] || OUT=$OUT-$(date +%H%M)
JSONL=$OUT.jsonl
: > "$JSONL"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
tag() { python3 -c 'import json, sys
for line in sys.stdin:
    r = json.loads(line); r["run"] = int(sys.argv[1]); print(json.dumps(r), flush=True)' "$1"; }
drive() {  # label url query-file qN
    python3 "$SCRATCH/driver.py" --url "$2" --token "$(cat "$WORK/$4.token")" --variables "@$WORK/$4.vars.json" \
        --query-file "$3" -n "$N" -c "$C" --warmup "$WARMUP" --label "$1"
}
sql_user() {  # the user each operation is asked as (scenario.json), for sql_floor.py
    python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print(s["dc_a"] if sys.argv[2] == "q2" else s["dp_a"])' \
        "$WORK/scenario.json" "$1"
}
QS=(q1_booth_page q2_booth_scheme_page q3_district_stats q4_voter_by_epic)
for run in $(seq "$RUNS"); do
    log "run $run of $RUNS: peer"
    for q in "${QS[@]}"; do
        n=${q%%_*}
        drive "peer:${n^^}" "$PEER_URL" "$SCRATCH/queries/peer/$q.graphql" "$n" | tag "$run" >> "$JSONL"
    done
    log "run $run of $RUNS: limit"
    "$SCRATCH/.venv/bin/python" "$SCRATCH/limit.py" --scenario "$WORK/scenario.json" \
        --dsn "postgresql://postgres@127.0.0.1:$PGPORT/peer" -n "$N" -c "$C" --warmup "$WARMUP" | tag "$run" >> "$JSONL"
    log "run $run of $RUNS: boothgraph"
    for q in "${QS[@]}"; do
        n=${q%%_*}
        drive "boothgraph:${n^^}" "$BG_URL" "$SCRATCH/queries/boothgraph/$q.graphql" "$n" | tag "$run" >> "$JSONL"
    done
    drive "boothgraph:Q5" "$BG_URL" "$BENCH/queries/q5_state_dashboard.graphql" q5 | tag "$run" >> "$JSONL"
    log "run $run of $RUNS: boothgraph, persisted operations (the hash alone)"
    for q in "$WORK"/operations/*.graphql; do
        n=$(basename "$q"); n=${n%%_*}
        python3 "$BENCH/persisted_driver.py" --url "$BG_URL" --token "$(cat "$WORK/$n.token")" \
            --variables "@$WORK/$n.vars.json" --query-file "$q" -n "$N" -c "$C" --warmup "$WARMUP" \
            --label "persisted:${n^^}" | tag "$run" >> "$JSONL"
    done
    log "run $run of $RUNS: the ceiling (issue 18 §2): the bare stack, boothgraph's least request, its SQL alone"
    drive "floor:TYPENAME" "$FLOOR_URL" "$BENCH/queries/typename.graphql" q4 | tag "$run" >> "$JSONL"
    drive "boothgraph:TYPENAME" "$BG_URL" "$BENCH/queries/typename.graphql" q4 | tag "$run" >> "$JSONL"
    for q in q1_booth_page q2_booth_scheme_page q4_voter_by_epic; do
        n=${q%%_*}
        (cd "$BG_CWD" && env "${BG_ENV[@]}" "$MAIN/.venv/bin/python" "$BENCH/sql_floor.py" \
            --query-file "$SCRATCH/queries/boothgraph/$q.graphql" --variables "@$WORK/$n.vars.json" \
            --user "$(sql_user "$n")" -n "$N" -c "$C" --warmup "$WARMUP" --label "${n^^}" 2>>"$WORK/sql_floor.log") |
            tag "$run" >> "$JSONL"
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# -- 7. the report -------------------------------------------------------------------------------
export PRESET DATA VOTERS WARMUP Q5_USER Q5_UNIT MAIN SCRATCH WORK LOAD_BEFORE LOAD_AFTER PEER_WORKERS BG_WORKERS
export BG_ENV_TEXT="${BG_ENV[*]}"
python3 - "$OUT.meta.json" <<'PY'
import datetime, json, os, platform, subprocess, sys
e = os.environ
def sh(*cmd, cwd=None):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=60).stdout.strip()
    except OSError:
        return "?"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))
pkgs = sh(f"{e['MAIN']}/.venv/bin/python", "-c", "from importlib.metadata import version as v\n"
          "for p in ('boothgraph','strawberry-graphql','graphql-core','starlette','uvicorn','granian','asyncpg','pycasbin','orjson'):\n"
          "    try: print(p, v(p))\n    except Exception: pass")
commit = sh("git", "-C", e["MAIN"], "rev-parse", "--short", "HEAD")
dirty = " (uncommitted changes)" if sh("git", "-C", e["MAIN"], "status", "--porcelain") else ""
meta = {
    "preset": e["PRESET"], "date": datetime.date.today().isoformat(), "data": e["DATA"], "voters": int(e["VOTERS"]),
    "warmup": e["WARMUP"], "q5_user": e["Q5_USER"], "q5_unit": e["Q5_UNIT"],
    "scenario": {k: v for k, v in json.load(open(f"{e['WORK']}/scenario.json")).items() if k != "tokens"},
    "machine": {
        "cores (nproc)": os.cpu_count(), "CPU": cpu, "memory": f"{int(mem) / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "load average (1/5/15 min) before / after the runs": f"{e['LOAD_BEFORE']} / {e['LOAD_AFTER']}",
        "PostgreSQL": sh("psql", "-Atc", "show server_version"),
        "PostGraphile": json.load(open(f"{e['SCRATCH']}/node_modules/postgraphile/package.json"))["version"]
                        + " on node " + sh("node", "--version"),
        "wrk": sh("sh", "-c", "wrk --version 2>&1 | head -1"),
        "Python": platform.python_version(),
        "boothgraph .venv": ", ".join(pkgs.splitlines()),
        "boothgraph commit": commit + dirty,
        "all on one machine": "the load generator, both servers and PostgreSQL share the cores",
    },
    "settings": {
        "PostgreSQL": "the peer's pg.sh cluster on 127.0.0.1:55432 (its postgresql.conf settings); databases peer and boothgraph side by side",
        "boothgraph": f"boothgraph serve --workers {e['BG_WORKERS']}, env {e['BG_ENV_TEXT']} JWT_SECRET=<random 43 chars>, other settings default",
        "PostGraphile": f"run_peer.sh with WORKERS={e['PEER_WORKERS']} (--cluster-workers)",
        "limit": "limit.py: asyncpg pool of C connections over database peer",
    },
}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PY
python3 "$BENCH/report.py" "$JSONL" --meta "$OUT.meta.json" --checks "$WORK/checks.txt" > "$OUT.md"
cat "$OUT.md"
log "wrote $OUT.md, $JSONL and $OUT.meta.json"
