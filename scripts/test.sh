#!/usr/bin/env bash
# Set up everything the tests need, then run the whole suite (unit, API on SQLite and PostgreSQL,
# drivers against real BMC emulators, agent on loop devices, VM and lab tests). Extra args go to pytest.
# With CI set (.ci/run sets CI=true) a skip not named in tests/skip_allowlist.toml fails the run; without it,
# skips are allowed and the summary lists, in red, each one CI would fail.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
IRONWORKS_TEST_PG_URL=$(scripts/start-postgres.sh | tail -1)
export IRONWORKS_TEST_PG_URL
exec .venv/bin/pytest -p no:cacheprovider --durations=25 "$@"
