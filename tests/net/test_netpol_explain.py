"""explain(): NetworkPolicies in plain English; lint(): valid policies that probably do not do what was meant."""
from __future__ import annotations

import pytest

from kubelab.errors import ValidationError
from kubelab.net.netpol_explain import LINT_CODES, Finding, explain, lint


def ns(name, **labels):
    return {"metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **labels}}}


def pod(key, ip, labels=None, ports=()):
    namespace, name = key.split("/")
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "ports": [
                {"name": n, "containerPort": p, "protocol": proto} for n, p, proto in ports]}]},
            "status": {"podIP": ip, "podIPs": [{"ip": ip}]}}


def np_(key, **spec):
    namespace, name = key.split("/")
    spec.setdefault("podSelector", {})
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


DOCS_EXAMPLE = np_("default/test-network-policy", podSelector={"matchLabels": {"role": "db"}},
                   policyTypes=["Ingress", "Egress"],
                   ingress=[{"from": [{"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                                      {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
                                      {"podSelector": {"matchLabels": {"role": "frontend"}}}],
                             "ports": [{"protocol": "TCP", "port": 6379}]}],
                   egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 5978}]}])


def test_explain_reads_the_docs_example_like_the_docs():
    """Does explain() say what the docs say of their example policy, per direction?"""
    assert explain(DOCS_EXAMPLE) == "\n".join([
        "NetworkPolicy default/test-network-policy",
        "Selects pods with role=db in namespace default.",
        "Ingress: isolated; connections into the selected pods are allowed when they match any rule:",
        "  rule 0: on TCP/6379",
        "    from any of:",
        "      - IPs in 172.17.0.0/16 except 172.17.1.0/24",
        "      - any pod in namespaces with project=myproject",
        "      - pods with role=frontend in namespace default",
        "Egress: isolated; connections out of the selected pods are allowed when they match any rule:",
        "  rule 0: on TCP/5978",
        "    to:",
        "      - IPs in 10.0.0.0/24",
    ])


def test_explain_default_deny_and_inferred_policy_types():
    """Does explain() spell out that ingress: [] denies everything and that policyTypes defaulted to Ingress?"""
    text = explain(np_("x/deny", ingress=[]))
    assert "Selects every pod in namespace x." in text
    assert "policyTypes not given: defaults to Ingress" in text
    assert "Ingress: isolated and nothing allowed" in text
    assert "Egress: not affected; policyTypes has no Egress." in text


def test_explain_rules_without_peers_ports_ranges_and_named_ports():
    """Does explain() describe every peer and every port, including ranges and named ports?"""
    text = explain(np_("x/p", ingress=[{"ports": [{"port": "http"}, {"port": 32000, "endPort": 32768},
                                                  {"protocol": "UDP"}]}],
                       egress=[{"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]}]))
    assert "from anywhere (every pod in every namespace and every IP)" in text
    assert "TCP port named 'http' (resolved on the destination pod)" in text
    assert "TCP ports 32000-32768" in text and "every UDP port" in text
    assert "pods with k8s-app=kube-dns in any namespace" in text
    assert "rule 0: on every port and protocol" in text


def test_explain_says_ignored_rules_when_policy_types_leave_a_direction_out():
    """When policyTypes omits Egress but egress rules exist, does explain() say they are ignored?"""
    text = explain(np_("x/p", policyTypes=["Ingress"], egress=[{}]))
    assert "Egress: not affected; policyTypes has no Egress (its rules are ignored)." in text


def test_explain_rejects_an_invalid_policy():
    """Does explain() refuse a policy the API server would reject?"""
    with pytest.raises(ValidationError):
        explain(np_("x/p", policyTypes=["Sideways"]))


# --- lint ------------------------------------------------------------------------------------------------

NAMESPACES = [ns("x"), ns("y", team="b"), ns("kube-system")]
PODS = [pod("x/web", "10.244.1.10", {"app": "web"}, [("http", 80, "TCP")]),
        pod("x/db", "10.244.1.11", {"app": "db"}),
        pod("y/client", "10.244.2.10", {"app": "client"}),
        pod("kube-system/dns", "10.244.9.10", {"k8s-app": "kube-dns"}, [("dns", 53, "UDP")])]


def codes(findings):
    return sorted({(f.policy, f.code) for f in findings})


def test_lint_is_quiet_for_a_sound_policy():
    """Does a well-formed, effective policy produce no findings?"""
    ok = np_("x/web", podSelector={"matchLabels": {"app": "web"}},
             ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "b"}}}], "ports": [{"port": "http"}]}])
    assert lint(NAMESPACES, PODS, [ok]) == []


def test_lint_selector_typo_selects_no_pods():
    """Is a podSelector matching nothing in its namespace reported?"""
    found = lint(NAMESPACES, PODS, [np_("x/p", podSelector={"matchLabels": {"app": "wbe"}})])
    assert codes(found) == [("x/p", "selects-no-pods")]
    assert found[0].field == "spec.podSelector"


def test_lint_pod_selector_only_peer_pointing_at_another_namespace():
    """Is the classic 'podSelector alone, pods live elsewhere' mistake reported with its fix?"""
    found = lint(NAMESPACES, PODS, [np_("x/p", ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]}])])
    assert codes(found) == [("x/p", "pod-peer-other-namespace")]
    assert found[0].field == "spec.ingress[0].from[0]" and "namespaceSelector" in found[0].message


def test_lint_peer_matching_no_pod():
    """Is a peer whose selectors match no pod at all reported?"""
    found = lint(NAMESPACES, PODS, [np_("x/p", ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "zz"}}}]}])])
    assert codes(found) == [("x/p", "peer-selects-no-pods")]


def test_lint_named_port_no_destination_declares():
    """Is a named port no destination pod declares reported, for ingress and for egress?"""
    found = lint(NAMESPACES, PODS, [np_("x/p", podSelector={"matchLabels": {"app": "db"}},
                                        ingress=[{"ports": [{"port": "postgres"}]}])])
    assert codes(found) == [("x/p", "named-port-unresolved")]
    assert found[0].field == "spec.ingress[0].ports[0].port"
    egress_ok = np_("y/out", policyTypes=["Egress"],
                    egress=[{"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "web"}}}],
                             "ports": [{"port": "http"}]}, {"ports": [{"port": 53, "protocol": "UDP"}]}])
    assert lint(NAMESPACES, PODS, [egress_ok]) == []


def test_lint_rules_ignored_by_policy_types():
    """Are egress rules in a policy whose policyTypes lists only Ingress reported?"""
    found = lint(NAMESPACES, PODS, [np_("x/p", policyTypes=["Ingress"], ingress=[{}], egress=[{}])])
    assert codes(found) == [("x/p", "rules-ignored-by-policy-types")]
    assert found[0].field == "spec.egress"


def test_lint_egress_isolation_without_dns():
    """Is an egress policy that leaves its pods without UDP/53 reported once per policy?"""
    found = lint(NAMESPACES, PODS, [np_("x/deny-out", policyTypes=["Egress"])])
    assert codes(found) == [("x/deny-out", "egress-blocks-dns")]
    assert "2 pod(s)" in found[0].message and "x/db" in found[0].message
    with_dns = np_("x/dns", policyTypes=["Egress"], egress=[{"ports": [{"port": 53, "protocol": "UDP"}]}])
    assert lint(NAMESPACES, PODS, [np_("x/deny-out", policyTypes=["Egress"]), with_dns]) == []


def test_lint_ip_block_covering_pod_ips():
    """Is an ipBlock that contains pod IPs reported as implementation-specific?"""
    found = lint(NAMESPACES, PODS, [np_("x/p", ingress=[{"from": [{"ipBlock": {"cidr": "10.244.0.0/16"}}]}])])
    assert codes(found) == [("x/p", "ipblock-contains-pod-ips")]
    assert found[0].field == "spec.ingress[0].from[0].ipBlock"


def test_lint_separate_namespace_and_pod_peers():
    """Is the YAML-dash mistake (namespaceSelector and podSelector as two peers) pointed out?"""
    found = lint(NAMESPACES, PODS, [np_("x/p", ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "b"}}},
                                                                 {"podSelector": {"matchLabels": {"app": "web"}}}]}])])
    assert codes(found) == [("x/p", "separate-namespace-and-pod-peers")]
    assert found[0].field == "spec.ingress[0].from"


def test_lint_output_is_sorted_and_codes_are_documented():
    """Are findings sorted (policy, code, field) and is every emitted code in LINT_CODES?"""
    policies = [np_("x/b", podSelector={"matchLabels": {"app": "none"}}, policyTypes=["Egress"]),
                np_("x/a", ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]}],
                    egress=[{"ports": [{"port": "nope"}]}], policyTypes=["Ingress"])]
    found = lint(NAMESPACES, PODS, policies)
    assert found == sorted(found) and len(found) >= 3
    assert {f.code for f in found} <= set(LINT_CODES)
    assert str(found[0]).startswith("x/a: ")


def test_finding_is_frozen():
    """Is a Finding immutable (a frozen dataclass)?"""
    f = Finding("x/p", "selects-no-pods", "spec.podSelector", "m")
    with pytest.raises(AttributeError):
        f.code = "other"
