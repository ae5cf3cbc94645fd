#!/usr/bin/env python3
"""The design card's stack with nothing of ours: strawberry's ASGI GraphQL app in a Starlette
app under uvicorn (uvloop, httptools), answering `{ __typename }`. No middleware, no token, no
database. Its req/s under the same load driver and concurrency as bench/run.sh is the most any
GraphQL request can reach on this stack and machine: the ceiling that issue 18 §2's target is
held against (bench/README.md, "Issue 18 §2: the ceiling").

    .venv/bin/python bench/framework_floor.py --port 8200 --workers 2 &
    python3 ../shared/bench/peer/driver.py --url http://127.0.0.1:8200/graphql \\
        --query-file bench/queries/typename.graphql -n 4000 -c 16 --warmup 400 --label floor
"""

from __future__ import annotations

import argparse
from pathlib import Path

import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


def app() -> Starlette:
    """uvicorn's factory: one per worker process."""
    graphql = GraphQL(strawberry.Schema(query=Query), graphql_ide=None)
    return Starlette(routes=[Route("/graphql", graphql, methods=["GET", "POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    uvicorn.run(
        "framework_floor:app",
        app_dir=str(Path(__file__).resolve().parent),
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_level="warning",
        server_header=False,
    )


if __name__ == "__main__":
    main()
