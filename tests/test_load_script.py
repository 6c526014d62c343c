"""scripts/load_test.py: a short real run (two browser sessions) and its helpers."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser_util import chromium_path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "scripts" / "load_test.py"
FINAL = re.compile(r"^load: sessions=(\d+) actions=(\d+) errors=(\d+) p95_s=([\d.]+|nan)$")


def test_percentile_and_scenario_count():
    from scripts import load_test as lt

    values = [float(v) for v in range(1, 21)]  # 1 … 20
    assert lt.percentile(values, 50) == 10.0
    assert lt.percentile(values, 95) == 19.0
    assert lt.percentile([3.0], 95) == 3.0
    assert lt._scenario_count("Scenario wissen (2 nieuwe plekken, 1 gesloten)") == 2
    assert lt._scenario_count("") == 0


@pytest.mark.browser
@pytest.mark.skipif(chromium_path() is None, reason="chromium is absent (apt-get install chromium)")
def test_two_browser_sessions_for_15_seconds():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--sessions", "2", "--seconds", "15"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=420)
    out = proc.stdout.strip().splitlines()
    assert out, proc.stderr[-3000:]
    m = FINAL.match(out[-1])
    assert m, proc.stdout[-3000:] + proc.stderr[-3000:]
    sessions, actions, errors, p95 = int(m[1]), int(m[2]), int(m[3]), float(m[4])
    assert sessions == 2
    assert errors == 0 and proc.returncode == 0, proc.stdout[-3000:]
    assert actions >= 2  # each session changed its profile at least once
    assert 0 < p95 < 30  # under the script's own time-out per action
    assert any(line.startswith("profiel ") and "p95=" in line for line in out), out
    # the dashboard it started is gone
    url = next(line.split()[-1] for line in out if line.startswith("dashboard op "))
    port = urlsplit(url).port
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.1", port)) != 0, f"streamlit still answers on {url}"
