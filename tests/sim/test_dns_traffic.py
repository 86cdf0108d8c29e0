"""DNS as traffic under NetworkPolicy, headless answers as CoreDNS gives them, hostNetwork pod addresses."""
from __future__ import annotations

import kubelab

APP = """
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
"""
DENY_EGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress}
spec: {podSelector: {}, policyTypes: [Egress]}
"""
ALLOW_DNS_PODS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
"""
ALLOW_DNS_SERVICE_IP = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns-ip}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.96.0.10/32}}]
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
"""


def _lab():
    lab = kubelab.connect()
    lab.apply(APP)
    return lab


def test_blocked_dns_times_out_like_a_resolver():
    """With egress denied, does lab.resolve from the pod time out instead of answering?"""
    lab = _lab()
    assert lab.resolve("web", "A", src="default/web")
    lab.apply(DENY_EGRESS)
    answer = lab.resolve("web", "A", src="default/web")
    assert answer.rcode == "TIMEOUT" and not answer.records
    assert str(answer).startswith(";; connection timed out; no servers could be reached")
    assert "deny-egress" in answer.reason
    # sent as is (no pod, no policy in the way) the name still resolves
    assert lab.resolve("web.default.svc.cluster.local", "A")


def test_allowing_the_dns_pods_restores_resolution():
    """An egress rule to the kube-dns pods on 53 lets the query through."""
    lab = _lab()
    lab.apply(DENY_EGRESS)
    lab.apply(ALLOW_DNS_PODS)
    assert lab.resolve("web", "A", src="default/web").addresses
    assert not [f for f in lab.lint() if f.code == "egress-blocks-dns"]


def test_allowing_only_the_service_ip_still_blocks_dns_and_lint_says_why():
    """Policies see the CoreDNS pod IPs after DNAT: an ipBlock of the Service IP does not allow DNS."""
    lab = _lab()
    lab.apply(DENY_EGRESS)
    lab.apply(ALLOW_DNS_SERVICE_IP)
    assert lab.resolve("web", "A", src="default/web").rcode == "TIMEOUT"
    findings = [f for f in lab.lint() if f.code == "egress-blocks-dns"]
    assert {f.policy for f in findings} == {"default/allow-dns-ip", "default/deny-egress"}
    assert any("after kube-proxy's DNAT" in f.message for f in findings if f.policy == "default/allow-dns-ip")


def test_coredns_ingress_policy_blocks_dns_and_is_flagged():
    """A default-deny ingress policy in kube-system cuts every pod off from DNS; lint names it."""
    lab = _lab()
    lab.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "deny-in", "namespace": "kube-system"},
               "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    assert lab.resolve("web", "A", src="default/web").rcode == "TIMEOUT"
    assert "kube-system/deny-in" in {f.policy for f in lab.lint() if f.code == "egress-blocks-dns"}


def test_flannel_does_not_enforce_so_dns_works():
    """A CNI that does not enforce NetworkPolicy leaves DNS working."""
    lab = kubelab.connect(cni="flannel")
    lab.apply(APP)
    lab.apply(DENY_EGRESS)
    assert lab.resolve("web", "A", src="default/web").addresses


def test_headless_answers_follow_coredns():
    """Headless: NXDOMAIN with no ready endpoint; publishNotReadyAddresses publishes not-ready pods."""
    lab = kubelab.connect()
    lab.apply([{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "h"},
                "spec": {"clusterIP": "None", "selector": {"app": "h"}, "ports": [{"name": "http", "port": 80}]}},
               {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "h"}},
                "spec": {"hostname": "p", "subdomain": "h", "containers": [{"name": "c", "image": "nginx"}]},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}}])
    assert lab.resolve("h.default.svc.cluster.local", "A").rcode == "NXDOMAIN"
    assert lab.resolve("p.h.default.svc.cluster.local", "A").rcode == "NXDOMAIN"
    svc = lab.get("Service", "h")
    svc["spec"]["publishNotReadyAddresses"] = True
    lab.apply(svc)
    ip = lab.get("Pod", "p")["status"]["podIP"]
    assert lab.resolve("h.default.svc.cluster.local", "A").addresses == [ip]
    assert lab.resolve("p.h.default.svc.cluster.local", "A").addresses == [ip]


def test_several_host_network_pods_share_and_may_pin_the_node_ip():
    """hostNetwork pods on one node all have its IP; pinning that IP in status.podIP is valid for each."""
    lab = kubelab.connect()
    node_ip = "192.168.0.11"
    for name, port, pinned in (("a", 9100, True), ("b", 9101, True), ("c", 9102, False)):
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
               "spec": {"nodeName": "node-1", "hostNetwork": True,
                        "containers": [{"name": "c", "image": "x", "ports": [{"containerPort": port}]}]}}
        if pinned:
            pod["status"] = {"podIP": node_ip}
        lab.apply(pod)
    assert {lab.get("Pod", n)["status"]["podIP"] for n in "abc"} == {node_ip}
    assert lab.reach("node/node-2", node_ip, 9101)
