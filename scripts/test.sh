#!/usr/bin/env bash
# Set up everything the tests need, then run the whole suite (unit, API on SQLite and PostgreSQL,
# drivers against real BMC emulators, agent on loop devices, VM and lab tests). Extra args go to pytest.
# With CI set (.ci/run sets CI=true) a skip not named in tests/skip_allowlist.toml fails the run; without it,
# skips are allowed and the summary lists, in red, each one CI would fail.
#
# Without arguments the suite runs as two pytest processes side by side: one runs the tests that boot virtual
# machines (markers vm, lab: QEMU under TCG), the other everything else (API, drivers, agent on loop devices) and
# then the VM tests marked `late`, so that both take about as long. They share nothing but PostgreSQL (each
# service gets its own database) and the image and ramdisk caches (built under a file lock); every namespace, port
# and directory is per test. The VM process's output follows the other's; the run fails if any part fails. With
# arguments: one process, as given.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
IRONWORKS_TEST_PG_URL=$(scripts/start-postgres.sh | tail -1)
export IRONWORKS_TEST_PG_URL
PYTEST=(.venv/bin/pytest -p no:cacheprovider --durations=25)

if (($#)); then
    exec "${PYTEST[@]}" "$@"
fi

vm_log=$(mktemp -t ironworks-vm-tests.XXXXXX.log)
"${PYTEST[@]}" -m "(vm or lab) and not late" >"$vm_log" 2>&1 &
vm_pid=$!
trap 'kill "$vm_pid" 2>/dev/null || true' INT TERM

echo "=== tests without virtual machines (the VM and lab tests run alongside: $vm_log) ==="
rest_rc=0
"${PYTEST[@]}" -m "not vm and not lab" || rest_rc=$?
echo "=== VM tests marked late ==="
late_rc=0
"${PYTEST[@]}" -m "late" || late_rc=$?

echo "=== tests with virtual machines (markers vm, lab) ==="
tail -n +1 -f --pid="$vm_pid" "$vm_log"
vm_rc=0
wait "$vm_pid" || vm_rc=$?
echo "=== not vm/lab: exit $rest_rc; late VM tests: exit $late_rc; other vm/lab: exit $vm_rc ==="
((rest_rc == 0 && late_rc == 0 && vm_rc == 0))
