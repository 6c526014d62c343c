#!/usr/bin/env bash
# The coverage benchmark of issue 4 in one command: installs what it needs (once), then times
# the engine against the OSMnx tutorial method, networkx, pandana and one bare csgraph pass.
# Arguments go to bench/coverage.py (--profile, --limit, --repeat, --area).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh requirements-dev.txt
exec .venv/bin/python bench/coverage.py "$@"
