"""Lesson figures: each notebook's execution time, and the whole course under nbval.
Targets: each lesson <= 20 s, the whole course (notebooks/ and solutions/) <= 2 min on 2 cores.

    python benchmarks/bench_notebooks.py
"""
from __future__ import annotations

import platform
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    print(f"machine: {platform.machine()}, CPython {platform.python_version()}")
    paths = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        elapsed = time.perf_counter() - start
        flag = "" if elapsed <= 20 else "   OVER 20 s"
        print(f"{path.relative_to(ROOT)!s:<45} {elapsed:6.1f} s{flag}")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
                             "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
                             "notebooks", "solutions"], cwd=ROOT, capture_output=True, text=True)
    total = time.perf_counter() - start
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-300:]
    print(f"whole course under nbval: {total:.1f} s (target <= 120 s): {last}")


if __name__ == "__main__":
    main()
