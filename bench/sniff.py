"""Time geo.sniff.classify_file over a whole data tree, cold (first pass, imports done) and
warm (cached schemas). Usage:

    .venv/bin/python bench/sniff.py [DATA_DIR]

Prints the file count, both totals and the slowest files.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.settings import default_data_dir  # noqa: E402
from geo.sniff import classify_file  # noqa: E402


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else default_data_dir()
    files = [p for p in sorted(root.rglob("*")) if p.is_file()]
    per_file = []
    t0 = time.perf_counter()
    for p in files:
        t = time.perf_counter()
        kind = classify_file(p)
        per_file.append((time.perf_counter() - t, p, kind))
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    for p in files:
        classify_file(p)
    warm = time.perf_counter() - t0
    print(f"{len(files)} files under {root}: cold {cold:.3f} s, warm {warm:.3f} s "
          f"(target < 1 s)")
    for dt, p, kind in sorted(per_file, reverse=True)[:5]:
        print(f"  {dt * 1000:7.1f} ms  {kind or '-':18s} {p.relative_to(root)}")


if __name__ == "__main__":
    main()
