#!/usr/bin/env bash
# The one test command (README, .ci/run): a venv with the project and its dev tools, then lint,
# format check, types and the tests. Needs only Python 3.11 and pip; the tests use the
# PostgreSQL at 127.0.0.1:5432 when it answers (TEST_DATABASE_URL / DATABASE_URL win), else
# an embedded one (pgserver) under .boothgraph-test/.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
"$venv/bin/mypy" server.py cli.py workers.py core models policies resolvers routes schema transfer middleware events
"$venv/bin/pytest" "$@"
