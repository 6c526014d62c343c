#!/usr/bin/env bash
# Create .venv and install the pinned requirements when they changed. Sourced by
# ./dashboard.sh and ./test.sh; needs only Python 3.11 on the machine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQ="${1:-requirements.txt}"
PY="$(command -v python3.11 || command -v python3)"
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  echo "» Creating virtual environment in .venv ($($PY --version))"
  "$PY" -m venv "$ROOT/.venv"
fi
STAMP="$ROOT/.venv/.installed-$(basename "$REQ")"
WANT="$(cat "$ROOT/requirements.txt" "$ROOT/$REQ" | sha256sum | cut -c1-16)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  echo "» Installing $REQ (first run takes about a minute)"
  "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/$REQ"
  # the project itself, editable: puts the `ontmoet` command in .venv/bin
  "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT"
  echo "$WANT" > "$STAMP"
fi
