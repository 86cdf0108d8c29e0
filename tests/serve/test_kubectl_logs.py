"""`kubectl logs` against the served cluster: what the simulated apps printed for the requests routed to them,
with -c, --tail, --timestamps, --previous, -f, and a warning for containers that print nothing."""
from __future__ import annotations

import os
import subprocess

import pytest

from .manifests import APP, NETEXEC


def _serve_requests(kubectl, lab):
    kubectl.write("app.yaml", APP + "---\n" + NETEXEC)
    kubectl.ok("apply", "-f", "app.yaml")
    ip = lab.get("Pod", "net")["status"]["podIP"]
    for path in ("/hostname", "/echo?msg=hello", "/clientip"):
        kubectl.ok("exec", "client", "--", "curl", "-s", f"http://{ip}:8080{path}")
    return ip


def test_logs_show_what_the_container_printed(kubectl, lab):
    """Does `kubectl logs net -c netexec` print agnhost netexec's lines for the requests curl sent, the same
    text lab.logs() returns, and --tail/--timestamps shape it as on a real cluster?"""
    _serve_requests(kubectl, lab)
    out = kubectl.ok("logs", "net", "-c", "netexec")
    assert [line.split(" ", 2)[2] for line in out.splitlines()] == ["GET /hostname", "GET /echo?msg=hello&code=",
                                                                    "GET /clientip"]
    assert out == lab.logs("net", container="netexec")
    assert kubectl.ok("logs", "net", "-c", "netexec", "--tail=1").endswith("GET /clientip\n")
    stamped = kubectl.ok("logs", "net", "-c", "netexec", "--timestamps").splitlines()
    assert stamped == lab.logs("net", container="netexec", timestamps=True).splitlines()
    assert stamped[0].split(" ", 1)[0].endswith("Z") and stamped[0].split(" ", 1)[1] == out.splitlines()[0]
    assert kubectl.ok("logs", "net", "-c", "nginx") == ""   # nothing reached nginx yet


def test_kubectl_logs_errors_as_the_api_server_words_them(kubectl, lab):
    """Are --previous (no previous container), an unknown container and a container that prints nothing
    answered as kube-apiserver/kubelet answer them?"""
    _serve_requests(kubectl, lab)
    previous = kubectl("logs", "net", "-c", "netexec", "--previous")
    assert previous.returncode == 1
    assert 'Error from server (BadRequest): previous terminated container "netexec" in pod "net" not found' \
        in previous.stderr
    silent = kubectl("logs", "client")
    assert silent.returncode == 0 and silent.stdout == ""
    assert "Warning: container 'client' (busybox:1.36) prints nothing the simulator keeps" in silent.stderr
    assert "Warning" not in kubectl("logs", "net", "-c", "nginx").stderr   # nginx does log, just had no requests


def test_logs_follow_streams_new_lines_and_ends_when_the_pod_goes(kubectl, lab):
    """Does `kubectl logs -f` print the lines already written, then new ones as requests arrive, and end
    (exit 0) once the pod is deleted?"""
    ip = _serve_requests(kubectl, lab)
    env = {**os.environ, "KUBECONFIG": str(kubectl.kubeconfig), "HOME": str(kubectl.workdir)}
    follow = subprocess.Popen([kubectl.binary, "--cache-dir", str(kubectl.cache), "logs", "-f", "net", "-c",
                               "netexec"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert follow.stdout.readline().endswith("GET /hostname\n")
        for _ in range(2):
            follow.stdout.readline()
        lab.http(f"http://{ip}:8080/healthz", src="client")
        assert follow.stdout.readline().endswith("GET /healthz\n")
        lab.delete("Pod", "net", grace_period=0)
        out, _ = follow.communicate(timeout=30)
        assert follow.returncode == 0 and out == ""
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.communicate()


def test_python_client_reads_pod_logs(kubectl, server, lab):
    """Does the official client's read_namespaced_pod_log return the same lines, with tail_lines?"""
    kubernetes = pytest.importorskip("kubernetes")
    _serve_requests(kubectl, lab)
    api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(server.kubeconfig)))
    text = api.read_namespaced_pod_log("net", "default", container="netexec")
    assert text == lab.logs("net", container="netexec")
    assert api.read_namespaced_pod_log("net", "default", container="netexec", tail_lines=1).endswith("GET /clientip\n")
    with pytest.raises(kubernetes.client.ApiException) as refused:   # two containers: the API wants one named
        api.read_namespaced_pod_log("net", "default")
    assert refused.value.status == 400
    assert "a container name must be specified for pod net, choose one of: [netexec nginx]" in refused.value.body
