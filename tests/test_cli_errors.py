"""The `kubelab` command given bad arguments: one line `kubelab: error: ...` and exit 1, or a usage error
(exit 2) for arguments argparse can judge alone; never a traceback, never a silent success."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

import kubelab

REPO = Path(__file__).resolve().parents[1]


def run(*args, cwd) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "kubelab.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    (root / "a-folder").mkdir()
    (root / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (root / "not-yaml.yaml").write_text("kind: [unclosed\n")
    (root / "a-file").write_text("x")
    (root / "sub.ipynb").write_text("{}")
    (root / "broken-solutions").mkdir()
    (root / "broken-solutions" / "01-x.ipynb").write_text("{ not json")
    (root / "empty-folder").mkdir()
    return root


@pytest.fixture(scope="module")
def busy_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", port))
            tcp.listen()
            yield port


ERRORS = [
    # (arguments, words the one-line message must hold)
    (["grade", "missing.ipynb", "--out", "g.csv"], ["missing.ipynb", "no such"]),
    (["grade", "sub.ipynb", "--out", "a-folder"], ["--out a-folder", "folder"]),
    (["grade", "a-file", "--out", "g.csv"], ["a-file", "not a notebook"]),
    (["grade", "empty-folder", "--out", "g.csv"], ["no submitted notebooks"]),
    (["grade", "sub.ipynb", "--out", "g.csv", "--reference", "nope"], ["nope", "no reference solution notebooks"]),
    (["dns", "serve", "-f", "missing.yaml"], ["-f missing.yaml", "no such file"]),
    (["dns", "serve", "-f", "a-folder"], ["-f a-folder", "folder"]),
    (["dns", "serve", "-f", "binary.yaml"], ["-f binary.yaml", "not a text file"]),
    (["dns", "serve", "-f", "not-yaml.yaml"], ["not valid YAML"]),
    (["release", "--solutions", "broken-solutions", "--exercises", "out"], ["01-x.ipynb", "not a readable notebook"]),
    (["release", "--solutions", "nope"], ["--solutions nope", "no such folder"]),
    (["release", "--check", "--solutions", "nope"], ["--solutions nope", "no such folder"]),
    (["release", "--solutions", "empty-folder"], ["holds no notebooks"]),
    (["release", "--solutions", str(REPO / "solutions"), "--exercises", "a-file"], ["--exercises a-file", "is a file"]),
]


@pytest.mark.parametrize("args, needles", ERRORS, ids=[" ".join(a[:3]) for a, _ in ERRORS])
def test_bad_arguments_give_one_line_and_exit_1(files, args, needles):
    """Is the mistake one `kubelab: error:` line with exit status 1, naming what is wrong?"""
    result = run(*args, cwd=files)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("kubelab: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_a_busy_dns_port_is_one_line(files, busy_port):
    """Does `dns serve --port <busy>` say the port is taken instead of a traceback?"""
    result = run("dns", "serve", "--port", str(busy_port), cwd=files)
    assert result.returncode == 1
    assert result.stderr.startswith(f"kubelab: error: --port {busy_port}: cannot listen") and \
        result.stderr.count("\n") == 1, result.stderr


USAGE = [
    ["dns", "serve", "--port", "70000"],
    ["dns", "serve", "--port", "-1"],
    ["course", "--port", "abc"],
    ["course", "--port", "0"],
    ["grade", "sub.ipynb", "--out", "g.csv", "--timeout", "0"],
    ["no-such-command"],
    [],
]


@pytest.mark.parametrize("args", USAGE, ids=[" ".join(a) or "nothing" for a in USAGE])
def test_usage_errors_exit_2_without_traceback(files, args):
    """Are arguments of the wrong shape usage errors (exit 2) with argparse's message?"""
    result = run(*args, cwd=files)
    assert result.returncode == 2, result.stderr
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_version_flag(files):
    """Does `kubelab --version` print the version, as users expect?"""
    result = run("--version", cwd=files)
    assert result.returncode == 0 and result.stdout == f"kubelab {kubelab.__version__}\n"
