#!/usr/bin/env bash
# Flat with size: Q1-Q5 against the medium (1M) and the large (10M) database, back to back, with
# the same commands, at 16 clients and with one client.
#
#   bench/sizes.sh [-n 2000] [-c 16]
#
# Needs what bench/run.sh leaves behind: the cluster on 127.0.0.1:55432 (/tmp/peer/pg.sh) with
# database "boothgraph" holding /tmp/bg-medium, the peer's scripts in /tmp/peer, and a database
# "boothgraph_large" holding /tmp/bg-large:
#
#   python3 ../shared/tools/gen_dataset.py --preset large --out /tmp/bg-large
#   createdb -h 127.0.0.1 -p 55432 -U postgres boothgraph_large
#   DATABASE_URL=postgresql://postgres@127.0.0.1:55432/boothgraph_large .venv/bin/boothgraph import /tmp/bg-large
#   psql -h 127.0.0.1 -p 55432 -U postgres boothgraph_large -c 'vacuum analyze'
#
# For each size: `boothgraph serve --workers 2` with run.sh's production settings, scenario.py on
# the size's folder, driver.py per operation (-n, -c, 200 warm-up), then every operation again
# with one client (500 requests): at 16 connections a p50 is mostly queueing, with one client it
# is the request's own time. Prints one markdown table, then the workers' RSS after the runs.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
MAIN=$(cd "$BENCH/.." && pwd)
SCRATCH=${SCRATCH:-/tmp/peer}
N=2000
C=16
while [ $# -gt 0 ]; do
    case "$1" in
    -n) N=$2; shift 2 ;;
    -c) C=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
PORT=${BG_PORT:-8000}
export JWT_SECRET
JWT_SECRET=$(python3 -c 'import secrets; print("k" + secrets.token_urlsafe(32))')
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

run_size() {  # label database data
    local label=$1 db=$2 data=$3 work=$OUT/$1 pid
    mkdir -p "$work"
    (cd "$MAIN" && exec setsid env GRAPHIQL=false RATE_LIMIT_PER_S=1000000 RATE_LIMIT_BURST=1000000 \
        DATABASE_URL="postgresql://postgres@127.0.0.1:55432/$db" .venv/bin/boothgraph serve \
        --host 127.0.0.1 --port "$PORT" --workers 2) > "$work/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 240); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.5; done
    python3 "$SCRATCH/scenario.py" "$data" --out "$work" --secret="$JWT_SECRET" > /dev/null
    read -r user unit < <(python3 - "$data" <<'PY'
import csv, os, sys
rows = lambda n: csv.DictReader(open(os.path.join(sys.argv[1], n), newline="", encoding="utf-8"))
root = next(u["code"] for u in rows("units.csv") if not u["parent_code"])
print(next(r["user_id"] for r in rows("assignments.csv") if r["role"] == "STATE_PRESIDENT" and r["unit_code"] == root), root)
PY
)
    python3 -c 'import json, sys; json.dump({"unit": sys.argv[1]}, open(sys.argv[2], "w"))' "$unit" "$work/q5.vars.json"
    python3 "$SCRATCH/mktoken.py" "$user" --secret="$JWT_SECRET" > "$work/q5.token"
    for q in q1_booth_page q2_booth_scheme_page q3_district_stats q4_voter_by_epic q5_state_dashboard; do
        local n=${q%%_*} file=$SCRATCH/queries/boothgraph/$q.graphql
        [ "$n" = q5 ] && file=$BENCH/queries/$q.graphql
        python3 "$SCRATCH/driver.py" --url "http://127.0.0.1:$PORT/graphql" --token "$(cat "$work/$n.token")" \
            --variables "@$work/$n.vars.json" --query-file "$file" -n "$N" -c "$C" --warmup 200 \
            --label "$label:${n^^}" 2>/dev/null >> "$OUT/results.jsonl"
    done
    for q in q1_booth_page q2_booth_scheme_page q3_district_stats q4_voter_by_epic q5_state_dashboard; do
        local n=${q%%_*} file=$SCRATCH/queries/boothgraph/$q.graphql
        [ "$n" = q5 ] && file=$BENCH/queries/$q.graphql
        python3 "$SCRATCH/driver.py" --url "http://127.0.0.1:$PORT/graphql" --token "$(cat "$work/$n.token")" \
            --variables "@$work/$n.vars.json" --query-file "$file" -n 500 -c 1 --warmup 50 \
            --label "$label:${n^^}c1" 2>/dev/null >> "$OUT/results.jsonl"
    done
    ps -o rss=,args= --ppid "$(pgrep -f "port $PORT" | head -1)" | grep spawn_main |
        awk -v l="$label" '{printf "%s worker RSS %.0f MB\n", l, $1/1024}' >> "$OUT/rss.txt"
    kill -TERM -- "-$pid" 2>/dev/null || true
    sleep 2
}

run_size 10M boothgraph_large /tmp/bg-large
run_size 1M boothgraph /tmp/bg-medium
python3 - "$OUT/results.jsonl" <<'PY'
import json, sys
rows = {r["label"]: r for r in map(json.loads, open(sys.argv[1]))}
print("| op | 10M req/s | p50 ms | p99 ms | 1M req/s | p50 ms | p99 ms | p50 10M / 1M |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for op in ("Q1", "Q2", "Q3", "Q4", "Q5", "Q1c1", "Q2c1", "Q3c1", "Q4c1", "Q5c1"):
    a, b = rows[f"10M:{op}"], rows[f"1M:{op}"]
    name = op.replace("c1", ", one client") if op.endswith("c1") else f"{op}, 16 clients"
    print(f"| {name} | {a['rps']:.0f} | {a['p50_ms']:.1f} | {a['p99_ms']:.1f} | {b['rps']:.0f} | {b['p50_ms']:.1f} "
          f"| {b['p99_ms']:.1f} | {a['p50_ms'] / b['p50_ms']:.2f} |")
PY
cat "$OUT/rss.txt"
