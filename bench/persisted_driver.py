#!/usr/bin/env python3
"""driver.py's load, with the operation sent as a persisted one: the body holds only
`extensions.persistedQuery.sha256Hash` (the SHA-256 of the query file's text) and the variables,
never the text (docs/persisted-operations.md). The operation must be registered first
(`boothgraph operations register DIR`, as bench/run.sh does); an unknown hash fails the check
request (PERSISTED_QUERY_NOT_FOUND) and nothing is measured.

    bench/persisted_driver.py --url http://127.0.0.1:8000/graphql --token "$TOKEN" \\
        --query-file q1_booth_page.graphql --variables @q1.vars.json -n 2000 -c 16 [--warmup 200] [--label L]

Prints driver.py's one JSON line (label, engine, n, c, errors, seconds, rps, p50_ms, p99_ms).
Standard library only; the load generator is driver.py's own (wrk when installed).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
DRIVER = HERE.parent.parent / "shared" / "bench" / "peer" / "driver.py"


def load_driver(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("peer_driver", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def persisted_body(text: str, variables: dict) -> bytes:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return json.dumps(
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}, "variables": variables}
    ).encode()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True)
    p.add_argument("--token", default="")
    p.add_argument("--query-file", required=True, help="the registered operation's file (its text is hashed)")
    p.add_argument("--variables", default="{}", help="JSON object, or @file.json")
    p.add_argument("-n", type=int, default=2000)
    p.add_argument("-c", type=int, default=16)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--label", default="")
    p.add_argument("--engine", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--driver", type=Path, default=DRIVER, help="the peer's driver.py")
    a = p.parse_args(argv)
    driver = load_driver(a.driver)
    variables = a.variables
    if variables.startswith("@"):
        variables = Path(variables[1:]).read_text()
    body = persisted_body(Path(a.query_file).read_text(), json.loads(variables))

    status, text = driver.check(a.url, a.token, body)
    print(f"{a.label or a.query_file} (persisted): HTTP {status} {text[:300]}", file=sys.stderr)
    if status != 200 or '"errors"' in text:
        print("check request failed (is the operation registered?); not measuring", file=sys.stderr)
        return 1
    engine = a.engine if a.engine != "auto" else ("wrk" if shutil.which("wrk") else "python")
    run = driver.run_wrk if engine == "wrk" else driver.run_python
    if a.warmup:
        run(a.url, a.token, body, a.warmup, a.c)
    r = run(a.url, a.token, body, a.n, a.c)
    r.update(label=a.label, engine=engine, c=a.c, rps=r["n"] / r["seconds"])
    print(
        f"{a.label}: {r['rps']:.0f} req/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
        f"({r['n']} requests, {r['errors']} errors, {engine}, persisted)",
        file=sys.stderr,
    )
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
