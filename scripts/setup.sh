#!/usr/bin/env bash
# Prepare a fresh Debian 12 machine for Ironworks: system packages from scripts/apt-packages.txt, then a
# virtualenv in .venv with the service (and, when present, the agent) installed in editable mode.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t wanted < <(grep -v '^\s*#' scripts/apt-packages.txt | sed 's/\s*#.*//' | grep -v '^\s*$')
missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check --upgrade pip 2>/dev/null | grep -v WARNING || true
extras=(-e ".[test]")
[ -f agent/pyproject.toml ] && extras+=(-e ./agent)
.venv/bin/pip install -q --disable-pip-version-check "${extras[@]}" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import ironworks" && echo "setup: ready (.venv)"
