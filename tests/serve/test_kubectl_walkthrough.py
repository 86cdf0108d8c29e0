"""A lesson's kubectl session end to end: create and expose a Deployment, watch its endpoints change as
it scales, curl it from a client pod before and after a NetworkPolicy, look a headless Service up."""
import os
import queue
import subprocess
import threading

import pytest

import kubelab

from .manifests import DENY_WEB, HEADLESS, WORKLOADS


@pytest.fixture
def lab():
    """The served cluster, with one name in the world outside it (for the ExternalName step)."""
    return kubelab.connect(external_dns={"docs.example.com": {"A": "203.0.113.10"}})


class Watch:
    """`kubectl ... -w` in the background; its lines arrive on a queue."""

    def __init__(self, kubectl, *args):
        env = {**os.environ, "KUBECONFIG": str(kubectl.kubeconfig), "HOME": str(kubectl.workdir)}
        self.proc = subprocess.Popen([kubectl.binary, "--cache-dir", str(kubectl.cache), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, predicate, limit: float = 20.0) -> list[str]:
        """Lines up to and including the first that satisfies predicate (a hang guard, not a timing check)."""
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=limit)
            except queue.Empty:
                raise AssertionError(f"watch never printed the expected line; saw {seen}") from None
            seen.append(line)
            if predicate(line):
                return seen

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def test_services_lesson_with_kubectl(kubectl, lab):
    """Does a learner's kubectl session behave as on a real cluster at each step?"""
    kubectl.ok("create", "deployment", "web", "--image=registry.k8s.io/e2e-test-images/agnhost:2.53",
               "--replicas=2", "--port=80", "--", "/agnhost", "netexec", "--http-port=80")
    assert kubectl.ok("expose", "deployment", "web", "--port=80").strip() == "service/web exposed"
    assert kubectl.ok("rollout", "status", "deployment/web", "--timeout=10s").strip() == \
        'deployment "web" successfully rolled out'

    watch = Watch(kubectl, "get", "endpointslices", "-l", "kubernetes.io/service-name=web", "--watch")
    try:
        first = watch.until(lambda line: line.startswith("web-"))
        assert first[0].split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
        assert len(first[-1].split()[3].split(",")) == 2
        kubectl.ok("scale", "deployment", "web", "--replicas=3")
        grown = watch.until(lambda line: line.startswith("web-") and len(line.split()[3].split(",")) == 3)
        ips = sorted(p["status"]["podIP"] for p in lab.list("Pod", "default", selector="app=web"))
        assert sorted(grown[-1].split()[3].split(",")) == ips
    finally:
        watch.stop()

    kubectl.ok("run", "client", "--image=busybox:1.36", "--", "sleep", "infinity")
    assert kubectl.ok("exec", "client", "--", "wget", "-qO-", "-T", "2", "http://web") != ""
    kubectl.write("deny.yaml", DENY_WEB)
    assert kubectl.ok("apply", "-f", "deny.yaml").strip() == "networkpolicy.networking.k8s.io/deny-web created"
    blocked = kubectl("exec", "client", "--", "wget", "-qO-", "-T", "2", "http://web")
    assert blocked.returncode == 1 and "wget: download timed out" in blocked.stderr

    kubectl.write("headless.yaml", HEADLESS)
    kubectl.ok("apply", "-f", "headless.yaml")
    answer = kubectl.ok("exec", "client", "--", "nslookup", "web-headless")
    assert sorted(line.split()[1] for line in answer.splitlines() if line.startswith("Address: ")) == ips
    assert "Endpoints:" in kubectl.ok("describe", "svc", "web-headless")
    assert "podSelector" in kubectl.ok("explain", "networkpolicy.spec")


def test_pod_networking_lesson_with_kubectl(kubectl, lab):
    """Pod networking: each pod's own IP and routes, and the node's routes to the other nodes' pod CIDRs."""
    kubectl.write("app.yaml", WORKLOADS)
    kubectl.ok("apply", "-f", "app.yaml")
    pod = lab.get("Pod", "client")
    assert kubectl.ok("exec", "client", "--", "hostname", "-i").strip() == pod["status"]["podIP"]
    assert f"inet {pod['status']['podIP']}/32 scope global eth0" in kubectl.ok("exec", "client", "--", "ip", "addr")
    node = pod["spec"]["nodeName"]
    out = kubectl.ok("debug", f"node/{node}", "-i", "--image=busybox:1.36", "--profile=general", input="ip route\nexit\n")
    others = [n["metadata"]["name"] for n in lab.list("Node") if n["metadata"]["name"] != node]
    for other in others:
        assert f"{lab.pod_cidr_of(other)} via " in out


def test_exposing_services_lesson_with_kubectl(kubectl, lab):
    """Exposing: a NodePort answers on every node's address, a LoadBalancer gets an EXTERNAL-IP from the cloud."""
    kubectl.write("app.yaml", WORKLOADS)
    kubectl.ok("apply", "-f", "app.yaml")
    kubectl.ok("expose", "deployment", "web", "--name=web-np", "--type=NodePort", "--port=80")
    node_port = lab.get("Service", "web-np")["spec"]["ports"][0]["nodePort"]
    row = kubectl.ok("get", "svc", "web-np").splitlines()[1].split()
    assert row[1] == "NodePort" and row[4] == f"80:{node_port}/TCP"
    node_ip = lab.get("Node", "node-2", None)["status"]["addresses"][0]["address"]
    assert kubectl.ok("exec", "client", "--", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                      f"http://{node_ip}:{node_port}") == "200"
    kubectl.ok("expose", "deployment", "web", "--name=web-lb", "--type=LoadBalancer", "--port=80")
    external = lab.get("Service", "web-lb")["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert kubectl.ok("get", "svc", "web-lb").splitlines()[1].split()[3] == external


def test_dns_lesson_with_kubectl(kubectl, lab):
    """DNS: ndots:5 and the search list in resolv.conf, a short name through the search list, an ExternalName CNAME."""
    kubectl.write("app.yaml", WORKLOADS)
    kubectl.ok("apply", "-f", "app.yaml")
    kubectl.ok("expose", "deployment", "web", "--port=80")
    kubectl.ok("create", "service", "externalname", "docs", "--external-name=docs.example.com")
    resolv = kubectl.ok("exec", "client", "--", "cat", "/etc/resolv.conf")
    assert "options ndots:5" in resolv and "search default.svc.cluster.local svc.cluster.local cluster.local" in resolv
    ip = lab.get("Service", "web")["spec"]["clusterIP"]
    assert kubectl.ok("exec", "client", "--", "dig", "+short", "+search", "web").strip() == ip
    assert kubectl.ok("exec", "client", "--", "dig", "+short", "web").strip() == ""   # dig: no search list
    cname = kubectl.ok("exec", "client", "--", "nslookup", "docs")
    assert "docs.default.svc.cluster.local\tcanonical name = docs.example.com.\nName:\tdocs.example.com\n" \
        "Address: 203.0.113.10\n" in cname
