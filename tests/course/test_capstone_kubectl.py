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
