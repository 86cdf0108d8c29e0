"""CoreDNS's forward plugin reaches real upstreams: stub domains ask their own (private) nameservers, its
forwards are traffic that NetworkPolicy judges, and a dead forward costs the client time (the query clock)."""
from __future__ import annotations

import pytest

import kubelab
from kubelab.errors import KubelabError

PRIVATE = {"10.0.0.53": {"ledger.corp.example.internal": {"A": ["10.0.5.20"]}}}
WORLD = {"payments.example.com": {"A": ["203.0.113.7"]}}

SHOP = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: cart, namespace: shop, labels: {app: cart}}
spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {selector: {app: cart}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: c, image: busybox}]}
"""

STUB = """
corp.example.internal:53 {
    errors
    cache 30
    forward . 10.0.0.53
}
"""

# CoreDNS may reach the private server only: the world's resolver (the node's 192.168.0.2) is cut off
CORE_DNS_EGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: coredns-egress, namespace: kube-system}
spec:
  podSelector: {matchLabels: {k8s-app: kube-dns}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/24}}]
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
"""

FIVE_NAMES = ["payments.example.com.shop.svc.cluster.local", "payments.example.com.svc.cluster.local",
              "payments.example.com.cluster.local", "payments.example.com.localdomain", "payments.example.com"]


def _lab(stub: str = STUB):
    lab = kubelab.connect(external_dns=WORLD, dns_servers=PRIVATE)
    lab.apply(SHOP)
    cm = lab.get("ConfigMap", "coredns", "kube-system")
    cm["data"]["Corefile"] += stub
    lab.apply(cm)
    return lab


def _coredns_log(lab) -> str:
    pod = lab.list("Pod", "kube-system", selector="k8s-app=kube-dns")[0]["metadata"]["name"]
    return lab.logs(f"kube-system/{pod}")


def test_a_stub_zone_is_answered_by_its_own_server():
    """Does a name in the stub zone get the private server's record, which the world does not know?"""
    lab = _lab()
    answer = lab.resolve("ledger.corp.example.internal", src="shop/api")
    assert answer.addresses == ["10.0.5.20"] and answer.elapsed_ms < 1000
    assert lab.resolve_outside("ledger.corp.example.internal").rcode == "NXDOMAIN"
    # a name the private server lacks: its NXDOMAIN, not the world's answer
    assert lab.resolve("payments.corp.example.internal.", src="shop/api").rcode == "NXDOMAIN"
    assert lab.resolve("payments.example.com", src="shop/api").addresses == ["203.0.113.7"]


def test_a_typo_in_the_stub_zone_sends_the_name_to_the_world():
    """corp.example.intenral: ledger.corp.example.internal goes to the world's resolver, NXDOMAIN."""
    lab = _lab(STUB.replace("corp.example.internal:53", "corp.example.intenral:53"))
    answer = lab.resolve("ledger.corp.example.internal", src="shop/api")
    assert answer.rcode == "NXDOMAIN" and not answer.addresses
    assert "ledger.corp.example.internal" in answer.queries
    assert "plugin/errors" not in _coredns_log(lab)


def test_a_typo_in_the_stub_address_is_servfail_after_the_forward_deadline():
    """forward . 10.0.0.35 (nothing answers there): SERVFAIL after 5 s, and CoreDNS logs the i/o timeout."""
    lab = _lab(STUB.replace("forward . 10.0.0.53", "forward . 10.0.0.35"))
    answer = lab.resolve("ledger.corp.example.internal.", src="shop/api")
    assert answer.rcode == "SERVFAIL" and 5000 <= answer.elapsed_ms < 5100
    assert ";; Query time:" in str(answer)
    log = _coredns_log(lab)
    errors = [line for line in log.splitlines() if "plugin/errors" in line]
    assert len(errors) == 1
    assert errors[0].startswith("[ERROR] plugin/errors: 2 ledger.corp.example.internal. A: read udp 10.244.")
    assert errors[0].endswith("->10.0.0.35:53: i/o timeout")


def test_an_egress_policy_on_coredns_makes_external_names_slow_and_servfail():
    """CoreDNS cut off from 192.168.0.2: five names tried, three NXDOMAIN at once, two SERVFAIL after 5 s each;
    cluster names and the allowed stub zone still resolve at once."""
    lab = _lab()
    lab.apply(CORE_DNS_EGRESS)
    answer = lab.resolve("payments.example.com", src="shop/api")
    assert answer.rcode == "SERVFAIL" and list(answer.queries) == FIVE_NAMES
    assert 10000 <= answer.elapsed_ms < 10100
    assert answer.failure("payments.example.com").startswith(
        "could not resolve payments.example.com: SERVFAIL after 10.0 s (5 names tried: "
        "payments.example.com.shop.svc.cluster.local, ")
    assert lab.resolve("cart.shop", src="shop/api").addresses
    assert lab.resolve("cart.shop", src="shop/api").elapsed_ms < 1000
    assert lab.resolve("ledger.corp.example.internal", src="shop/api").addresses == ["10.0.5.20"]
    errors = [line for line in _coredns_log(lab).splitlines() if "plugin/errors" in line]
    assert any("payments.example.com.localdomain. A: read udp" in line and "->192.168.0.2:53: i/o timeout" in line
               for line in errors)
    assert any(" payments.example.com. A: read udp" in line for line in errors)
    # the reach verdict to the name carries the same explanation
    verdict = lab.reach("shop/api", "payments.example.com", 443)
    assert not verdict and "SERVFAIL after 10.0 s (5 names tried" in verdict.reason


def test_fixing_the_coredns_policy_clears_it():
    """Allowing the world's resolver in the policy (apply) makes the external name resolve at once again."""
    lab = _lab()
    lab.apply(CORE_DNS_EGRESS)
    assert not lab.resolve("payments.example.com", src="shop/api")
    fixed = CORE_DNS_EGRESS.replace("- to: [{ipBlock: {cidr: 10.0.0.0/24}}]",
                                    "- to: [{ipBlock: {cidr: 10.0.0.0/24}}, {ipBlock: {cidr: 192.168.0.2/32}}]")
    lab.apply(fixed)
    answer = lab.resolve("payments.example.com", src="shop/api")
    assert answer.addresses == ["203.0.113.7"] and answer.elapsed_ms < 1000


def test_kubectl_exec_tools_say_how_long_a_failed_lookup_took():
    """curl, nslookup and dig in the pod report the SERVFAIL, the names tried and the time waited."""
    from kubelab.serve.podexec import run_in_pod as run_command

    lab = _lab()
    lab.apply(CORE_DNS_EGRESS)
    pod = lab.get("Pod", "api", "shop")
    curl = run_command(lab, pod, "c", ["curl", "-sS", "http://payments.example.com/"])
    assert curl.code == 6 and "curl: (6) Could not resolve host: payments.example.com" in curl.stderr
    assert "SERVFAIL after 10.0 s (5 names tried" in curl.stderr
    nslookup = run_command(lab, pod, "c", ["nslookup", "payments.example.com"])
    assert "** server can't find payments.example.com: SERVFAIL" in nslookup.stdout
    assert "after 10.0 s" in nslookup.stdout
    dig = run_command(lab, pod, "c", ["dig", "payments.example.com"])
    assert "status: SERVFAIL" in dig.stdout and ";; Query time: 500" in dig.stdout


def test_glibc_timeout_and_attempts_set_the_wait_when_no_nameserver_answers():
    """A blocked nameserver costs timeout x attempts per query (res_send), read from resolv.conf options."""
    lab = kubelab.connect()
    lab.apply(SHOP)
    lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: shop}
spec: {podSelector: {}, policyTypes: [Egress]}
---
apiVersion: v1
kind: Pod
metadata: {name: quick, namespace: shop}
spec:
  containers: [{name: c, image: busybox}]
  dnsConfig: {options: [{name: timeout, value: "1"}, {name: attempts, value: "1"}]}
""")
    slow = lab.resolve("cart", src="shop/api")        # 4 names, each 5 s x 2 attempts... until the walk stops
    assert slow.rcode == "TIMEOUT" and slow.elapsed_ms == 10000 * len(slow.queries)
    quick = lab.resolve("cart", src="shop/quick")
    assert quick.rcode == "TIMEOUT" and quick.elapsed_ms == 1000 * len(quick.queries)


@pytest.mark.parametrize("servers, words", [
    ({"not-an-ip": {"a.example": {"A": ["1.2.3.4"]}}}, "'not-an-ip' is not an IP address"),
    (["10.0.0.53"], "must be a dict of nameserver IP -> records"),
    ({"10.0.0.53": {"a.example": ["1.2.3.4"]}}, "must map each name to its records by type"),
])
def test_a_bad_dns_servers_option_is_a_clear_error(servers, words):
    """connect(dns_servers=...) names the option and shows the format to write."""
    with pytest.raises(KubelabError) as err:
        kubelab.connect(dns_servers=servers)
    assert words in str(err.value) and "dns_servers=" in str(err.value)


def test_a_stub_zone_forwarding_to_resolv_conf_or_a_node_nameserver_asks_the_world():
    """forward . /etc/resolv.conf (or the node's 192.168.0.2) in a stub block means the world's DNS."""
    world = {"ledger.corp.example.internal": {"A": ["198.51.100.9"]}}
    for upstream in ("/etc/resolv.conf", "192.168.0.2"):
        lab = kubelab.connect(external_dns=world, dns_servers=PRIVATE)
        lab.apply(SHOP)
        cm = lab.get("ConfigMap", "coredns", "kube-system")
        cm["data"]["Corefile"] += STUB.replace("10.0.0.53", upstream)
        lab.apply(cm)
        assert lab.resolve("ledger.corp.example.internal", src="shop/api").addresses == ["198.51.100.9"]


def test_a_pod_may_ask_a_private_nameserver_directly():
    """dnsPolicy None with the private server as nameserver: its records, no cluster names."""
    lab = kubelab.connect(dns_servers=PRIVATE)
    lab.apply("""
apiVersion: v1
kind: Pod
metadata: {name: direct}
spec:
  containers: [{name: c, image: busybox}]
  dnsPolicy: None
  dnsConfig: {nameservers: [10.0.0.53]}
""")
    assert lab.resolve("ledger.corp.example.internal", src="default/direct").addresses == ["10.0.5.20"]
    assert lab.resolve("kubernetes.default.svc.cluster.local", src="default/direct").rcode == "NXDOMAIN"


def test_a_stub_block_without_the_errors_plugin_fails_silently():
    """No errors plugin in the stub's server block: the same SERVFAIL after 5 s, but nothing in CoreDNS's log."""
    lab = _lab(STUB.replace("    errors\n", "").replace("forward . 10.0.0.53", "forward . 10.0.0.35"))
    answer = lab.resolve("ledger.corp.example.internal.", src="shop/api")
    assert answer.rcode == "SERVFAIL" and answer.elapsed_ms >= 5000
    assert "plugin/errors" not in _coredns_log(lab)


def test_coredns_error_lines_are_bounded():
    """A storm of failed forwards cannot grow CoreDNS's log past LINES_KEPT lines."""
    from kubelab.sim.logs import LINES_KEPT, record_coredns_lines

    lab = kubelab.connect()
    record_coredns_lines(lab.cluster, [f"[ERROR] plugin/errors: 2 n{i}.example. A: i/o timeout" for i in range(2000)])
    assert len(lab.cluster.coredns_log) == LINES_KEPT
    assert "n0.example." in _coredns_log(lab)


def test_a_repeated_failed_lookup_is_logged_once_per_cluster_state():
    """Asking again in an unchanged cluster waits as long again (learners' repeats are seconds apart, past the
    cache's 5 s SERVFAIL TTL) but adds no second error line: the log stays bounded."""
    lab = _lab(STUB.replace("forward . 10.0.0.53", "forward . 10.0.0.35"))
    first = lab.resolve("ledger.corp.example.internal.", src="shop/api")
    again = lab.resolve("ledger.corp.example.internal.", src="shop/api")
    assert first.elapsed_ms == again.elapsed_ms >= 5000
    assert _coredns_log(lab).count("plugin/errors") == 1
