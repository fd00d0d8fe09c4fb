#!/usr/bin/env bash
# Start the local PostgreSQL cluster (no systemd here) and make root a superuser, for the tests.
# Prints the admin URL the tests use (IRONWORKS_TEST_PG_URL).
set -euo pipefail
ver=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
if [ -z "$ver" ]; then
    echo "start-postgres: PostgreSQL is not installed (scripts/setup.sh installs it)" >&2
    exit 1
fi
if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
    pg_ctlcluster "$ver" main start
fi
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='root'\"" | grep -q 1 \
    || su postgres -c "createuser -s root"
echo "postgresql+psycopg://root@/postgres?host=/var/run/postgresql"
