"""The nbval rule for the lessons' `!kubectl` cells (conftest.py): which cells run kubectl, and that they are
skipped with a reason, not failed, where the kubectl on PATH cannot reproduce their outputs."""
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from tests.notebook_kubectl import kubectl_commands, kubectl_on_path_problem

ROOT = Path(__file__).resolve().parents[1]


def test_kubectl_commands_are_the_shell_lines_that_run_kubectl():
    """Are `!kubectl ...` lines found (with Python around them), and comments, other shell commands and
    Python that merely mentions kubectl left out?"""
    source = ('url = "http://web"\n!kubectl get pods -o wide\n  !kubectl exec client -- curl -s {url}\n'
              '# !kubectl get svc\n!echo kubectl\nprint("kubectl")\n!kubectlx version')
    assert kubectl_commands(source) == ["kubectl get pods -o wide", "kubectl exec client -- curl -s {url}"]
    assert kubectl_commands("lab.serve()") == []


def _fake_kubectl(folder: Path, version: str) -> None:
    script = folder / "kubectl"
    script.write_text(f'#!/bin/sh\necho \'{{"clientVersion": {{"gitVersion": "{version}"}}}}\'\n')
    script.chmod(0o755)


def test_problem_names_the_install_command_or_the_wrong_version(tmp_path, monkeypatch):
    """Without kubectl, or with another minor version first on PATH, is the reason one line naming how to
    install v1.35; with v1.35.x is there no problem?"""
    monkeypatch.setenv("PATH", str(tmp_path))
    missing = kubectl_on_path_problem()
    assert missing.startswith("needs kubectl v1.35 on PATH") and "tools/install-kubectl" in missing
    _fake_kubectl(tmp_path, "v1.32.4-dispatcher")
    wrong = kubectl_on_path_problem()
    assert "v1.32.4-dispatcher" in wrong and "tools/install-kubectl" in wrong
    _fake_kubectl(tmp_path, "v1.35.2")
    assert kubectl_on_path_problem() is None


def test_nbval_skips_kubectl_cells_and_runs_the_rest_without_kubectl(tmp_path):
    """Under nbval with no kubectl on PATH (and not on CI), is the `!kubectl` cell skipped with the reason
    while the Python cell still runs and passes?"""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(1 + 1)", execution_count=1,
                                          outputs=[nbformat.v4.new_output("stream", name="stdout", text="2\n")]),
                nbformat.v4.new_code_cell("!kubectl get pods", execution_count=2,
                                          outputs=[nbformat.v4.new_output("stream", name="stdout", text="NAME\n")])]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, path)
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PATH=str(bin_dir), PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "conftest",
                             "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(tmp_path), "-rs", str(path)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert "1 passed, 1 skipped" in result.stdout, result.stdout + result.stderr
    assert "needs kubectl v1.35 on PATH" in result.stdout
