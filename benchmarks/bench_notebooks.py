"""Lesson figures: each notebook's execution time, its slowest cell, and the whole course under nbval.
Targets: every cell < 1 s, each lesson <= 20 s, the whole course (notebooks/ and solutions/) <= 2 min
on 2 cores.

    python benchmarks/bench_notebooks.py [--no-nbval] [notebook ...]
"""
from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def cell_seconds(cell) -> float:
    """The cell's run time as the kernel reported it (nbclient's timing metadata)."""
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return 0.0
    parse = lambda t: datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    print(f"machine: {platform.machine()}, CPython {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared)")
    paths = ([Path(a).resolve() for a in args] if args else
             sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb")))
    over = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        elapsed = time.perf_counter() - start
        times = [(cell_seconds(c), i) for i, c in enumerate(nb.cells) if c["cell_type"] == "code"]
        slowest, index = max(times, default=(0.0, -1))
        over += [(path, i, t) for t, i in times if t >= 1.0]
        flag = "" if elapsed <= 20 else "   OVER 20 s"
        print(f"{path.relative_to(ROOT)!s:<45} {elapsed:6.1f} s   slowest cell {slowest:4.2f} s (cell {index}){flag}")
    for path, i, t in over:
        print(f"OVER 1 s: {path.relative_to(ROOT)} cell {i}: {t:.2f} s")
    if "--no-nbval" in sys.argv:
        return
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
                             "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
                             "notebooks", "solutions"], cwd=ROOT, capture_output=True, text=True)
    total = time.perf_counter() - start
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-300:]
    print(f"whole course under nbval: {total:.1f} s (target <= 120 s): {last}")


if __name__ == "__main__":
    main()
