"""connect("live") against a real cluster: runs only when KUBELAB_LIVE_CONTEXT names a kubeconfig context
(kind, minikube, a cloud cluster) that may run agnhost pods; otherwise skipped with that reason."""
import os
import time

import pytest

import kubelab

CONTEXT = os.environ.get("KUBELAB_LIVE_CONTEXT")
pytestmark = pytest.mark.skipif(not CONTEXT, reason="no real cluster: set KUBELAB_LIVE_CONTEXT to a kubeconfig "
                                                    "context to run the live backend against it")
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53"


def pods(names_and_args):
    return [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": n, "labels": {"app": n}},
             "spec": {"containers": [{"name": n, "image": AGNHOST, "args": args,
                                      "ports": [{"containerPort": 80}] if args[0] == "netexec" else []}]}}
            for n, args in names_and_args]


def wait_running(lab, names, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        phases = {p["metadata"]["name"]: (p.get("status") or {}).get("phase") for p in lab.list("Pod", "default")}
        if all(phases.get(n) == "Running" for n in names):
            return
        time.sleep(2)
    pytest.fail(f"pods {names} were not Running after {timeout}s on context {CONTEXT}")


def test_reach_on_a_real_cluster_matches_the_prediction():
    """On a real cluster, does a pod reach another's netexec port, observed by exec, with the prediction beside it?"""
    lab = kubelab.connect("live", context=CONTEXT, namespace_prefix="kubelab-test-")
    try:
        lab.apply(pods([("server", ["netexec", "--http-port=80"]), ("client", ["pause"])]))
        wait_running(lab, ["server", "client"])
        verdict = lab.reach("default/client", "default/server", 80)
        assert verdict.allowed, verdict.reason
        assert verdict.predicted is not None
    finally:
        lab.cleanup()
