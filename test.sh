#!/usr/bin/env bash
# Install what is needed (once) and run lint + the whole test suite. .ci/run calls this.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh requirements-dev.txt
# Browser tests use Debian's chromium; install it when we may (root) and it is missing.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "» Installing Debian chromium and poppler-utils for the browser and report tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
     chromium poppler-utils >/dev/null) || echo "» chromium could not be installed; browser tests will skip"
fi
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
