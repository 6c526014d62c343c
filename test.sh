#!/usr/bin/env bash
# Install what is needed (once) and run lint + the whole test suite. .ci/run calls this.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh requirements-dev.txt
# Browser tests drive Debian's chromium; the map's Leaflet/d3/jQuery come from Debian's libjs-*
# packages (the test browser may not reach a CDN). Install them when we may (root) and they are
# missing; without chromium the browser tests skip.
need_apt=0
command -v chromium >/dev/null 2>&1 || need_apt=1
[ -e /usr/share/javascript/leaflet ] || need_apt=1
if [ "$need_apt" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "» Installing Debian chromium, libjs-leaflet/d3/jquery and poppler-utils for browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
     chromium libjs-leaflet libjs-d3 libjs-jquery poppler-utils >/dev/null) \
    || echo "» could not install chromium; browser tests will skip"
fi
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
