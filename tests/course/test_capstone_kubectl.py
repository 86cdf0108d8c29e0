"""Can a learner diagnose and fix their capstone with the real kubectl, and is what they did with it graded?"""
import subprocess

import pytest
import yaml

import kubelab
from kubelab.course.capstone import Capstone
from tests.serve.conftest import find_kubectl, kubectl_binary  # noqa: F401  (the fixture)


@pytest.fixture(scope="module")
def served():
    s = Capstone("learner@example.org", 2, clock=lambda: 0.0, faults=(
        "pathtype-exact", "ipblock-covers-pods", "port-targetport-swapped", "authz-denies-health-checker"))
    from kubelab.serve.kubeapi import KubeAPIServer
    srv = KubeAPIServer(s.lab).start()
    s.lab.api_server = srv
    yield s, str(srv.kubeconfig)
    srv.stop()


def _kubectl(binary, kubeconfig, *args, stdin=None):
    return subprocess.run([binary, "--kubeconfig", kubeconfig, *args], capture_output=True, text=True,
                          input=stdin, timeout=60)


def test_kubectl_sees_the_broken_service_and_its_fix_is_graded(kubectl_binary, served):
    """Does `kubectl get svc` show the swapped ports, and does `kubectl apply` of every fix resolve every
    ticket in the answer the check grades?"""
    scenario, kubeconfig = served
    out = _kubectl(kubectl_binary, kubeconfig, "get", "svc", "frontend", "-n", "shop").stdout
    assert "3000/TCP" in out
    fixes = yaml.safe_dump_all([d for f in scenario.faults for d in f.fix(scenario.base)])
    applied = _kubectl(kubectl_binary, kubeconfig, "apply", "-f", "-", stdin=fixes)
    assert applied.returncode == 0, applied.stderr
    assert scenario.progress().resolved == len(scenario.faults)
    answer = scenario.answer()
    assert {c["kind"] for c in answer["changes"]} >= {t[0] for f in scenario.faults for t in f.targets}
    assert bool(kubelab.check("11-capstone", answer))


@pytest.fixture(scope="module")
def served_dns():
    s = Capstone("dns-learner", 2, clock=lambda: 0.0, faults=(
        "ndots-timeout-under-egress", "stub-domain-typo", "affinity-pins-dead-pod"))
    from kubelab.serve.kubeapi import KubeAPIServer
    srv = KubeAPIServer(s.lab).start()
    s.lab.api_server = srv
    yield s, str(srv.kubeconfig)
    srv.stop()


def test_kubectl_shows_the_dns_faults_where_a_learner_looks(kubectl_binary, served_dns):
    """Do nslookup in the API pod, CoreDNS's logs and its ConfigMap show the two DNS faults, and the canary's
    logs the port its process really listens on, as kubectl prints them from a real cluster?"""
    scenario, kubeconfig = served_dns
    api = scenario.lab.list("Pod", "shop", selector="app=api")[0]["metadata"]["name"]
    looked_up = _kubectl(kubectl_binary, kubeconfig, "exec", "-n", "shop", api, "-c", "api", "--",
                         "nslookup", "payments.example.com")
    assert looked_up.returncode != 0 and "SERVFAIL" in looked_up.stdout + looked_up.stderr
    coredns = scenario.lab.list("Pod", "kube-system", selector="k8s-app=kube-dns")[0]["metadata"]["name"]
    logs = _kubectl(kubectl_binary, kubeconfig, "logs", "-n", "kube-system", coredns).stdout
    assert "plugin/errors" in logs and "->192.168.0.2:53: i/o timeout" in logs
    corefile = _kubectl(kubectl_binary, kubeconfig, "get", "configmap", "coredns", "-n", "kube-system",
                        "-o", "jsonpath={.data.Corefile}").stdout
    assert "corp.example.intenral:53 {" in corefile
    canary = scenario.lab.list("Pod", "edge", selector="track=canary")[0]["metadata"]["name"]
    started = _kubectl(kubectl_binary, kubeconfig, "logs", "-n", "edge", canary).stdout
    assert started.splitlines()[0] == "Starting server, listening on port 8080 (http)"
    fixes = yaml.safe_dump_all([d for f in scenario.faults for d in f.fix(scenario.base)])
    applied = _kubectl(kubectl_binary, kubeconfig, "apply", "-f", "-", stdin=fixes)
    assert applied.returncode == 0, applied.stderr
    assert scenario.progress().resolved == len(scenario.faults)
    assert bool(kubelab.check("11-capstone", scenario.answer()))
