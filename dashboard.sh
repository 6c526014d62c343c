#!/usr/bin/env bash
# Install what is needed (once) and open the dashboard on the default data.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh requirements.txt
exec .venv/bin/streamlit run app.py --server.headless=true --browser.gatherUsageStats=false "$@"
