"""Install footprint of the course: a fresh virtual environment, README's first command's install
(`pip install -e ".[course]"`), then its size on disk and the time it took.

    python benchmarks/bench_install.py            # the interpreter running this script
    python benchmarks/bench_install.py --python python3.11 --no-cache

The target (issue 15) is <= 600 MB and <= 60 s on the course's reference machine (2 cores). Downloads
come from pip's cache unless --no-cache; the figures say which, since a cold cache measures the network.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            p = Path(dirpath) / name
            if not p.is_symlink():
                total += p.stat().st_size
    return total


def _largest(site: Path, n: int = 8) -> list[tuple[int, str]]:
    sizes = [(_size(p) if p.is_dir() else p.stat().st_size, p.name) for p in site.iterdir()]
    return sorted(sizes, reverse=True)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venv")
    parser.add_argument("--extra", default="course", help="extra to install (default: course)")
    parser.add_argument("--no-cache", action="store_true", help="pip --no-cache-dir (measures downloads too)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kubelab-install-") as tmp:
        clone = Path(tmp) / "kubelab"
        shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(".git", "*.egg-info", "__pycache__", "build"))
        venv = Path(tmp) / "venv"
        start = time.perf_counter()
        subprocess.run([args.python, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        if args.no_cache:
            pip.append("--no-cache-dir")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        subprocess.run([*pip, "-e", f".[{args.extra}]"], check=True, cwd=clone, env=env)
        seconds = time.perf_counter() - start
        size = _size(venv)
        version = subprocess.run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.version.split()[0])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        site = next((venv / "lib").glob("python*/site-packages"))
        print(f"python {version}, extra [{args.extra}], pip cache {'off' if args.no_cache else 'on'}")
        print(f"install time: {seconds:.1f} s")
        print(f"environment size: {size / 1e6:.0f} MB")
        for nbytes, name in _largest(site):
            print(f"  {nbytes / 1e6:7.1f} MB  {name}")


if __name__ == "__main__":
    main()
