#!/usr/bin/env bash
# Set up everything the tests need, then run the whole suite (unit, API on SQLite and PostgreSQL,
# drivers against real BMC emulators, agent on loop devices, VM and lab tests). Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
IRONWORKS_TEST_PG_URL=$(scripts/start-postgres.sh | tail -1)
export IRONWORKS_TEST_PG_URL
exec .venv/bin/pytest -p no:cacheprovider --durations=25 "$@"
