"""Every command and snippet in README.md, run as written in a fresh copy of the repository.

A fresh copy is every file git tracks (or would track), copied to a temporary folder: nothing the
developer's checkout happens to hold. Two commands are run in a form that cannot recurse or reinstall
into the shared environment, which each test says: `pip install` as `--dry-run` (resolves the extra
and builds the package metadata) and `python -m pytest` as `--collect-only` (the suite itself is this).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def readme_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def readme_commands() -> list[str]:
    """Each shell command in README's bash blocks, `&&` chains split, comments dropped."""
    commands = []
    for block in readme_blocks("bash"):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line:
                commands += [part.strip() for part in line.split("&&")]
    return commands


def readme_comment_commands() -> list[str]:
    """Commands README gives in comments as the next step (`# then: dig ...`)."""
    return [m.strip() for block in readme_blocks("bash") for m in re.findall(r"#\s*then:\s*(.+)", block)]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A fresh copy: the files git tracks or would track (untracked but not ignored)."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    target = tmp_path_factory.mktemp("fresh") / "kubelab"
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def env_for(clone: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_TOKEN")}
    env["PYTHONPATH"] = str(clone)   # the copy's kubelab, as `pip install -e .` in the copy would give
    env.update(extra)
    return env


def kubelab_argv(command: str) -> list[str]:
    args = shlex.split(command)
    assert args[0] == "kubelab"
    return [sys.executable, "-m", "kubelab.cli", *args[1:]]


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return h.hexdigest()


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
        try:
            udp.bind(("127.0.0.1", port))
            tcp.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# ------------------------------------------------------------------ every command has a test here
HANDLED = {
    'python -m pip install -e ".[course]"': "test_pip_install_resolves",
    "kubelab course": "test_kubelab_course_opens_lesson_00_and_stops_cleanly",
    'python -m pip install -e ".[test]"': "test_pip_install_resolves",
    "python -m pytest": "test_pytest_collects_everything",
    "kubelab grade examples/submissions/ --out grades.csv": "test_grade_example_submissions",
    "kubelab release": "test_release_changes_nothing_on_a_fresh_clone",
    "kubelab dns serve -f examples/web.yaml --port 10053": "test_dns_example_answers",
    "python tools/install-kubectl": "test_install_kubectl_is_a_no_op_when_kubectl_is_there",
    "kubelab serve -f examples/web.yaml": "test_kubectl_against_the_served_example",
    "kubectl get pods -A -o wide": "test_kubectl_against_the_served_example",
    "kubectl exec client -- curl -s http://web": "test_kubectl_against_the_served_example",
}


def test_every_readme_command_is_run_by_a_test():
    """Does each command README shows have a test below that runs it (so a new command needs one)?"""
    assert readme_commands() == list(dict.fromkeys(readme_commands()))  # no duplicates to hide behind
    assert set(readme_commands()) == set(HANDLED), set(readme_commands()) ^ set(HANDLED)
    assert readme_comment_commands() == ["dig @127.0.0.1 -p 10053 web.default.svc.cluster.local"]
    assert len(readme_blocks("python")) == 1
    for test in HANDLED.values():
        assert test in globals()


@pytest.mark.parametrize("extra", ["course", "test"])
def test_pip_install_resolves(clone, extra):
    """Does `python -m pip install -e ".[<extra>]"` resolve and build on this Python (run as --dry-run)?"""
    assert f'python -m pip install -e ".[{extra}]"' in readme_commands()
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run",
                             "--disable-pip-version-check", "-e", f".[{extra}]"], cwd=clone, capture_output=True,
                            text=True, timeout=600, env=env_for(clone))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "kubelab" in result.stdout


def test_pytest_collects_everything(clone):
    """Does `python -m pytest` collect the whole suite in a fresh copy (no import or tomllib errors)?"""
    assert "python -m pytest" in readme_commands()
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                            cwd=clone, capture_output=True, text=True, timeout=600, env=env_for(clone))
    assert result.returncode == 0, result.stdout[-3000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert re.match(r"\d+ tests collected in ", summary), summary   # "..., 2 errors in" when a module fails


def test_grade_example_submissions(clone):
    """Does the grade command write a gradebook and feedback for the example learner, leaving submissions alone?"""
    command = "kubelab grade examples/submissions/ --out grades.csv"
    before = _digest(clone / "examples" / "submissions")
    result = subprocess.run(kubelab_argv(command), cwd=clone, capture_output=True, text=True, timeout=600,
                            env=env_for(clone))
    assert result.returncode == 0, result.stderr[-2000:]
    rows = (clone / "grades.csv").read_text().splitlines()
    assert rows[0].startswith("learner,") and rows[1].startswith("ada,")
    assert "01-pod-on-node-2" in rows[0] and rows[0].endswith(",total,notes,isolation")
    ada = dict(zip(rows[0].split(","), rows[1].split(",")))
    assert ada["01-pod-on-node-2"] == "1.00" and ada["01-podcidr-owner"] == ada["01-node-agent"] == "0.00"
    assert ada["isolation"] in ("bubblewrap", "unshare", "none")
    feedback = (clone / "feedback" / "ada.txt").read_text()
    assert "[PASS] a Pod named api exists" in feedback          # the exercise ada solved
    assert "the run ended early" not in feedback
    report = (clone / "grading-report.txt").read_text()
    assert report.startswith("isolation: ") and "nbval verdicts/ada--01-pod-networking.ipynb" in report
    assert (clone / "verdicts" / "ada--01-pod-networking.ipynb").is_file()
    assert _digest(clone / "examples" / "submissions") == before


def test_release_changes_nothing_on_a_fresh_clone(clone):
    """Does `kubelab release` run, and regenerate exercises/ exactly as committed?"""
    before = _digest(clone / "exercises")
    result = subprocess.run(kubelab_argv("kubelab release"), cwd=clone, capture_output=True, text=True, timeout=300,
                            env=env_for(clone))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("wrote ") == len(list((clone / "solutions").glob("*.ipynb")))
    assert _digest(clone / "exercises") == before


@pytest.fixture(scope="module")
def dns_server(clone):
    """README's `kubelab dns serve` command, running (on its port when free, else on a free one)."""
    command = "kubelab dns serve -f examples/web.yaml --port 10053"
    argv = kubelab_argv(command)
    port = 10053
    if not _free(port):   # a shared machine may have it taken: the same command on another port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        argv[-1] = str(port)
    proc = subprocess.Popen(argv, cwd=clone, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env_for(clone))
    line = proc.stdout.readline()
    assert "serving cluster DNS" in line, proc.stderr.read() if proc.poll() is not None else line
    yield port
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert "Traceback" not in proc.stderr.read()


def test_dns_example_answers(dns_server):
    """Does the served cluster answer README's question (web's ClusterIP) over UDP?"""
    import dns.message
    import dns.query

    query = dns.message.make_query("web.default.svc.cluster.local", "A")
    answer = dns.query.udp(query, "127.0.0.1", port=dns_server, timeout=5)
    addresses = [item.address for rrset in answer.answer for item in rrset]
    assert len(addresses) == 1 and addresses[0].startswith("10.")


def test_dig_as_written_answers(dns_server):
    """Does README's `dig @127.0.0.1 -p 10053 web.default.svc.cluster.local` print the Service's address?"""
    if shutil.which("dig") is None:
        pytest.skip("needs dig: apt-get install dnsutils (.ci/run installs it)")
    [command] = readme_comment_commands()
    argv = shlex.split(command.replace("10053", str(dns_server)))
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "status: NOERROR" in result.stdout
    assert re.search(r"web\.default\.svc\.cluster\.local\.\s+\d+\s+IN\s+A\s+10\.", result.stdout)


def test_python_snippet_runs_as_written(clone):
    """Does README's Python snippet run in a fresh copy, and does its client reach web?"""
    [snippet] = readme_blocks("python")
    code = snippet + "\nprint('VERDICT', bool(lab.reach('default/client', 'web', port=80)))\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=clone, capture_output=True, text=True, timeout=120,
                            env=env_for(clone))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "VERDICT True" in result.stdout


def test_kubelab_course_opens_lesson_00_and_stops_cleanly(clone, tmp_path):
    """Does `kubelab course` print a URL (token, free port) that opens lesson 00, and does Ctrl-C stop
    JupyterLab and the kernels it started cleanly (exit 0, no traceback, no runtime files left)?"""
    pytest.importorskip("jupyterlab", reason="needs JupyterLab: pip install -e '.[course]'")
    runtime = tmp_path / "runtime"
    env = env_for(clone, BROWSER="true", JUPYTER_RUNTIME_DIR=str(runtime))   # BROWSER=true: open no window
    proc = subprocess.Popen(kubelab_argv("kubelab course"), cwd=clone, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:(\d+))(/lab/tree/notebooks/00-welcome\.ipynb)\?token=(\w+)", line)
        assert match, line
        base, _port, path, token = match.groups()
        for _ in range(240):
            try:
                page = urllib.request.urlopen(f"{base}{path}?token={token}", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer at the printed URL")
        assert "JupyterLab" in page
        headers = {"Authorization": f"token {token}"}
        lesson = urllib.request.urlopen(urllib.request.Request(
            f"{base}/api/contents/notebooks/00-welcome.ipynb?content=0", headers=headers), timeout=10)
        assert json.load(lesson)["type"] == "notebook"
        kernel = json.load(urllib.request.urlopen(urllib.request.Request(
            f"{base}/api/kernels", data=b"{}", headers=headers, method="POST"), timeout=30))
        # a learner's kernel that is up and answering, as when they press Ctrl-C
        from jupyter_client import BlockingKernelClient

        [connection] = runtime.glob(f"kernel-{kernel['id']}.json")
        client = BlockingKernelClient(connection_file=str(connection))
        client.load_connection_file()
        client.start_channels()
        try:
            for attempt in range(3):   # on a loaded machine a missed heartbeat reads as "died": ask again
                try:
                    client.wait_for_ready(timeout=120)
                    break
                except RuntimeError:
                    if attempt == 2:
                        raise
        finally:
            client.stop_channels()
        os.killpg(proc.pid, signal.SIGINT)     # Ctrl-C in a terminal signals the whole foreground group
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    stderr = proc.stderr.read()
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr[-2000:]
    leftovers = sorted(p.name for p in runtime.glob("*.json")) if runtime.exists() else []
    assert leftovers == [], leftovers   # jpserver-*.json and kernel-*.json removed on a clean shutdown


def _kubectl_or_skip() -> str:
    kubectl = shutil.which("kubectl", path="/usr/local/bin") or shutil.which("kubectl")
    version = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True) if kubectl else None
    if version is None or "v1.35" not in version.stdout:
        if os.environ.get("CI"):
            pytest.fail("kubectl v1.35 is missing: run `python tools/install-kubectl` (.ci/run does)")
        pytest.skip("needs kubectl v1.35: python tools/install-kubectl")
    return kubectl


def test_install_kubectl_is_a_no_op_when_kubectl_is_there(clone):
    """Does README's `python tools/install-kubectl` leave an installed kubectl v1.35 as it is, and say so?"""
    _kubectl_or_skip()
    result = subprocess.run([sys.executable, "tools/install-kubectl"], cwd=clone, capture_output=True, text=True,
                            timeout=600, env=env_for(clone))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "v1.35" in result.stdout + result.stderr


def test_kubectl_against_the_served_example(clone, tmp_path):
    """Do README's `kubelab serve -f examples/web.yaml`, then `kubectl get pods -A -o wide` and
    `kubectl exec client -- curl -s http://web` work as written, with the KUBECONFIG the server prints?"""
    kubectl = _kubectl_or_skip()
    proc = subprocess.Popen(kubelab_argv("kubelab serve -f examples/web.yaml --port 0"), cwd=clone,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(clone))
    try:
        export = ""
        for _ in range(5):
            line = proc.stdout.readline()
            if line.startswith("export KUBECONFIG="):
                export = line.strip()
                break
        assert export, proc.stderr.read() if proc.poll() is not None else "no export line"
        env = dict(env_for(clone), KUBECONFIG=export.split("=", 1)[1], HOME=str(tmp_path))
        pods = subprocess.run([kubectl, "get", "pods", "-A", "-o", "wide"], capture_output=True, text=True,
                              timeout=60, env=env)
        assert pods.returncode == 0, pods.stderr
        assert re.search(r"^default\s+client\s+1/1\s+Running", pods.stdout, re.M), pods.stdout
        curl = subprocess.run([kubectl, "exec", "client", "--", "curl", "-s", "http://web"], capture_output=True,
                              text=True, timeout=60, env=env)
        assert curl.returncode == 0 and curl.stdout.strip(), curl.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)
