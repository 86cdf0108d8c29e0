"""NetworkPolicy semantics (networking.k8s.io/v1), validation, and the fast matrix against the reference."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubelab.errors import ProbeError, ValidationError
from kubelab.net.netpol import (PolicyEngine, compile_policy, policy_types, reference_allowed,
                                validate_network_policy)

# --- tiny builders ---------------------------------------------------------------------------------


def ns(name, **labels):
    return {"metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **labels}}}


def pod(key, ip, labels=None, ports=(), host_network=False, node=None, ips=None):
    namespace, name = key.split("/")
    spec = {"containers": [{"name": "c", "ports": [
        {"name": n, "containerPort": p, "protocol": proto} for n, p, proto in ports]}]}
    if host_network:
        spec["hostNetwork"] = True
    if node:
        spec["nodeName"] = node
    all_ips = ips or [ip]
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": spec, "status": {"podIP": all_ips[0], "podIPs": [{"ip": i} for i in all_ips]}}


def np_(key, **spec):
    namespace, name = key.split("/")
    spec.setdefault("podSelector", {})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


NAMESPACES = [ns("x", team="a"), ns("y", team="b"), ns("z", team="b")]
XA = pod("x/a", "10.244.1.10", {"pod": "a"}, [("http", 80, "TCP"), ("dns", 53, "UDP"), ("sctp", 9000, "SCTP")])
XB = pod("x/b", "10.244.1.11", {"pod": "b"}, [("http", 8080, "TCP")])
XC = pod("x/c", "10.244.1.12", {"pod": "c"})
YA = pod("y/a", "10.244.2.10", {"pod": "a"})
YB = pod("y/b", "10.244.2.11", {"pod": "b"})
ZB = pod("z/b", "10.244.3.11", {"pod": "b"})
PODS = [XA, XB, XC, YA, YB, ZB]
POD_A = {"matchLabels": {"pod": "a"}}
POD_B = {"matchLabels": {"pod": "b"}}


class engine:
    """A PolicyEngine plus the manifests it was built from, so tests can ask the reference too."""

    def __init__(self, *policies, namespaces=NAMESPACES, nodes=None):
        self.namespaces, self.policies = namespaces, list(policies)
        self.engine = PolicyEngine(namespaces, self.policies, nodes=nodes)
        self.decide = self.engine.decide
        self.allowed_matrix = self.engine.allowed_matrix
        self.policies_selecting = self.engine.policies_selecting


def allowed(eng, src, dst, port=80, protocol="TCP"):
    """decide(), the reference and the matrix must agree; return the shared answer."""
    got = eng.decide(src, dst, port, protocol).allowed
    assert reference_allowed(eng.namespaces, eng.policies, src, dst, port, protocol) == got
    if isinstance(src, dict) and isinstance(dst, dict):
        assert eng.allowed_matrix([src], [dst], port, protocol) == [[got]]
    return got


# --- selection and isolation -----------------------------------------------------------------------


def test_no_policy_allows_everything():
    """Is a pod no policy selects open in both directions (non-isolated by default)?"""
    d = engine().decide(XA, YB, 80)
    assert d.allowed and not d.egress.isolated and not d.ingress.isolated
    assert "no policy isolates" in d.reason


def test_empty_pod_selector_selects_every_pod_in_its_namespace_only():
    """Does an empty podSelector select every pod in the policy's namespace, and none elsewhere?"""
    eng = engine(np_("x/deny", ingress=[]))
    assert not allowed(eng, YA, XA) and not allowed(eng, YA, XB) and not allowed(eng, YA, XC)
    assert allowed(eng, XA, YA)


def test_isolation_names_the_policy_and_says_nothing_matched():
    """Does a denial name the isolating policy, the pod and the probed protocol/port?"""
    d = engine(np_("x/deny", ingress=[])).decide(YA, XA, 5432)
    assert d.reason == "x/a is isolated for ingress by x/deny and no rule allows y/a on TCP/5432"
    assert d.ingress.isolating == ("x/deny",) and d.ingress.allowed_by == ()


def test_pod_selector_only_peer_means_the_policys_own_namespace():
    """Does a peer with only podSelector select pods in the policy's namespace (not y/b, z/b)?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [{"podSelector": POD_B}]}]))
    assert allowed(eng, XB, XA)
    assert not allowed(eng, YB, XA) and not allowed(eng, ZB, XA) and not allowed(eng, XC, XA)


def test_namespace_and_pod_selector_in_one_peer_are_anded():
    """Are namespaceSelector and podSelector in ONE peer ANDed (pod b in team=b namespaces only)?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [
        {"namespaceSelector": {"matchLabels": {"team": "b"}}, "podSelector": POD_B}]}]))
    assert allowed(eng, YB, XA) and allowed(eng, ZB, XA)
    assert not allowed(eng, YA, XA) and not allowed(eng, XB, XA)


def test_separate_peers_are_ored():
    """Are two peers in one `from` list ORed (any pod in team=b namespaces, or pod b of x)?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [
        {"namespaceSelector": {"matchLabels": {"team": "b"}}}, {"podSelector": POD_B}]}]))
    assert allowed(eng, YA, XA) and allowed(eng, ZB, XA) and allowed(eng, XB, XA)
    assert not allowed(eng, XC, XA)


def test_empty_namespace_selector_selects_all_namespaces():
    """Does namespaceSelector: {} select pods in every namespace?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [{"namespaceSelector": {}, "podSelector": POD_B}]}]))
    assert allowed(eng, XB, XA) and allowed(eng, YB, XA) and allowed(eng, ZB, XA)
    assert not allowed(eng, YA, XA)


def test_namespace_selected_by_its_name_label():
    """Can a namespaceSelector use kubernetes.io/metadata.name, even for a namespace given without labels?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "y"}}}]}]),
        namespaces=[{"metadata": {"name": "x"}}, {"metadata": {"name": "y"}}])
    assert allowed(eng, YB, XA) and not allowed(eng, ZB, XA)


def test_match_expressions_in_peers():
    """Do NotIn / Exists / DoesNotExist work in peer selectors?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [
        {"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                                     "values": ["x"]}]},
         "podSelector": {"matchExpressions": [{"key": "pod", "operator": "Exists"}]}},
        {"podSelector": {"matchExpressions": [{"key": "pod", "operator": "DoesNotExist"}]}}]}]))
    nolabel = pod("x/n", "10.244.1.99")
    assert allowed(eng, YA, XA) and allowed(eng, nolabel, XA)
    assert not allowed(eng, XB, XA)


@pytest.mark.parametrize("rule", [{}, {"from": []}, {"from": None}])
def test_missing_or_empty_from_allows_every_source(rule):
    """Does a rule without `from` (or with an empty list) allow every pod and every IP?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[rule]))
    assert allowed(eng, YB, XA) and allowed(eng, "203.0.113.9", XA)


def test_empty_ingress_list_allows_nothing():
    """Does `ingress: []` isolate the selected pods with nothing allowed?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[]))
    assert not allowed(eng, XB, XA) and not allowed(eng, "203.0.113.9", XA)
    assert allowed(eng, XB, XC)


def test_absent_ingress_with_ingress_policy_type_allows_nothing():
    """Does policyTypes [Ingress] with no ingress section deny all ingress?"""
    eng = engine(np_("x/p", podSelector=POD_A, policyTypes=["Ingress"]))
    assert not allowed(eng, XB, XA)


def test_policy_types_inference():
    """Is Ingress always inferred and Egress only when the policy has egress rules (not for egress: [])?"""
    assert policy_types({}) == {"Ingress"}
    assert policy_types({"egress": []}) == {"Ingress"}
    assert policy_types({"egress": [{}]}) == {"Ingress", "Egress"}
    assert policy_types({"policyTypes": ["Egress"], "ingress": [{}]}) == {"Egress"}


def test_egress_only_policy_leaves_ingress_open():
    """Does a policy with policyTypes [Egress] leave ingress alone even though it lists ingress rules?"""
    eng = engine(np_("x/p", podSelector=POD_A, policyTypes=["Egress"], ingress=[]))
    assert allowed(eng, YB, XA)
    assert not allowed(eng, XA, YB)


def test_inferred_egress_isolation_from_egress_rules():
    """Without policyTypes, does an egress section make the pods egress-isolated (and still ingress-isolated)?"""
    eng = engine(np_("x/p", podSelector=POD_A, egress=[{"to": [{"podSelector": POD_B}]}]))
    assert allowed(eng, XA, XB) and not allowed(eng, XA, YB)
    assert not allowed(eng, XB, XA)


def test_empty_egress_without_policy_types_does_not_isolate_egress():
    """Is `egress: []` without policyTypes ignored for egress (policyTypes defaults to [Ingress])?"""
    eng = engine(np_("x/p", podSelector=POD_A, egress=[]))
    assert allowed(eng, XA, YB) and allowed(eng, XA, "198.51.100.1")


# --- both directions and the union -----------------------------------------------------------------


def test_connection_needs_source_egress_and_destination_ingress():
    """Does a connection need both the source's egress and the destination's ingress to allow it?"""
    deny_egress = np_("x/deny-egress", podSelector=POD_B, policyTypes=["Egress"])
    allow_in = np_("x/allow-in", podSelector=POD_A, ingress=[{"from": [{"podSelector": POD_B}]}])
    eng = engine(deny_egress, allow_in)
    d = eng.decide(XB, XA, 80)
    assert not d.allowed and d.ingress.allowed and not d.egress.allowed
    assert d.reason.startswith("x/b is isolated for egress by x/deny-egress")
    allow_out = np_("x/allow-out", podSelector=POD_B, policyTypes=["Egress"], egress=[{"to": [{"podSelector": POD_A}]}])
    eng = engine(deny_egress, allow_in, allow_out)
    d = eng.decide(XB, XA, 80)
    assert d.allowed
    assert d.reason == ("egress from x/b allowed by x/allow-out (egress rule 0); "
                        "ingress to x/a allowed by x/allow-in (ingress rule 0)")


def test_policies_add_up():
    """Do several policies selecting one pod allow the union of their rules?"""
    p1 = np_("x/from-b", podSelector=POD_A, ingress=[{"from": [{"podSelector": POD_B}]}])
    p2 = np_("x/from-c", podSelector=POD_A, ingress=[{"from": [{"podSelector": {"matchLabels": {"pod": "c"}}}]}])
    eng = engine(p1, p2)
    assert allowed(eng, XB, XA) and allowed(eng, XC, XA) and not allowed(eng, YA, XA)
    assert eng.decide(XC, XA, 80).ingress.allowed_by == (("x/from-c", 0),)
    assert eng.decide(XC, XA, 80).ingress.isolating == ("x/from-b", "x/from-c")


def test_deny_all_does_not_override_an_allow():
    """Does a default-deny policy leave another policy's allow rule in force (no deny rules exist)?"""
    eng = engine(np_("x/deny", ingress=[]), np_("x/allow", podSelector=POD_A, ingress=[{"from": [{"podSelector": POD_B}]}]))
    assert allowed(eng, XB, XA) and not allowed(eng, XB, XC)


# --- ports -------------------------------------------------------------------------------------------


def test_ports_and_from_in_one_rule_are_anded():
    """Must a connection match both `from` and `ports` of one rule?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [{"podSelector": POD_B}], "ports": [{"port": 80}]}]))
    assert allowed(eng, XB, XA, 80) and not allowed(eng, XB, XA, 81) and not allowed(eng, XC, XA, 80)


@pytest.mark.parametrize("ports", [None, []])
def test_missing_or_empty_ports_match_every_port_and_protocol(ports):
    """Does a rule without ports allow every port of every protocol?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [{"podSelector": POD_B}], "ports": ports}]))
    for port, proto in [(1, "TCP"), (53, "UDP"), (9000, "SCTP"), (65535, "TCP")]:
        assert allowed(eng, XB, XA, port, proto)


def test_port_protocol_defaults_to_tcp():
    """Does a port entry without protocol match TCP only?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"ports": [{"port": 53}]}]))
    assert allowed(eng, XB, XA, 53, "TCP") and not allowed(eng, XB, XA, 53, "UDP")


@pytest.mark.parametrize("proto", ["UDP", "SCTP"])
def test_udp_and_sctp_ports(proto):
    """Do UDP and SCTP port entries match only their own protocol?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"ports": [{"port": 9000, "protocol": proto}]}]))
    assert allowed(eng, XB, XA, 9000, proto) and not allowed(eng, XB, XA, 9000, "TCP")


def test_port_entry_with_only_a_protocol_matches_all_its_ports():
    """Does a port entry with only `protocol: UDP` allow every UDP port and no TCP?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"ports": [{"protocol": "UDP"}]}]))
    assert allowed(eng, XB, XA, 1, "UDP") and allowed(eng, XB, XA, 40000, "UDP") and not allowed(eng, XB, XA, 80)


def test_end_port_range_is_inclusive():
    """Does port..endPort match both ends and nothing outside?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"ports": [{"port": 32000, "endPort": 32768}]}]))
    assert [allowed(eng, XB, XA, p) for p in (31999, 32000, 32500, 32768, 32769)] == [False, True, True, True, False]


def test_named_port_resolves_on_the_destination_pod_for_ingress():
    """Does an ingress named port match the number the selected (destination) pod declares under that name?"""
    eng = engine(np_("x/p", ingress=[{"ports": [{"port": "http"}]}]))
    assert allowed(eng, YA, XA, 80) and not allowed(eng, YA, XA, 8080)
    assert allowed(eng, YA, XB, 8080) and not allowed(eng, YA, XB, 80)
    assert not allowed(eng, YA, XC, 80)  # x/c declares no port named http


def test_named_port_needs_the_same_protocol():
    """Does a named port only resolve to a container port of the rule's protocol?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"ports": [{"port": "dns", "protocol": "UDP"}]},
                                                       {"ports": [{"port": "http", "protocol": "UDP"}]}]))
    assert allowed(eng, YA, XA, 53, "UDP")
    assert not allowed(eng, YA, XA, 53, "TCP") and not allowed(eng, YA, XA, 80, "UDP")


def test_egress_named_port_resolves_on_the_destination_pod():
    """For egress, is a named port resolved on the destination pod, never on an external IP?"""
    eng = engine(np_("y/p", podSelector=POD_A, policyTypes=["Egress"], egress=[{"ports": [{"port": "http"}]}]))
    assert allowed(eng, YA, XA, 80) and not allowed(eng, YA, XA, 8080)
    assert allowed(eng, YA, XB, 8080)
    assert not allowed(eng, YA, "198.51.100.7", 80)


# --- ipBlock -------------------------------------------------------------------------------------------


def test_ip_block_with_except():
    """Does ipBlock allow its cidr minus the except ranges (the docs' 172.17.0.0/16 example)?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [
        {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}}]}]))
    assert [allowed(eng, ip, XA) for ip in ("172.17.0.5", "172.17.1.5", "172.17.2.5", "172.18.0.1")] == [
        True, False, True, False]


def test_ip_block_egress_to_external_ip():
    """Does an egress ipBlock allow connections to outside addresses in its range only?"""
    eng = engine(np_("x/p", podSelector=POD_A, policyTypes=["Egress"],
                     egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"port": 5978}]}]))
    assert allowed(eng, XA, "10.0.0.5", 5978) and not allowed(eng, XA, "10.0.1.5", 5978)
    assert not allowed(eng, XA, "10.0.0.5", 5979)


def test_ipv6_ip_block_with_except():
    """Do IPv6 cidr and except work, and does an IPv4 block ignore IPv6 addresses?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [
        {"ipBlock": {"cidr": "2001:db8::/32", "except": ["2001:db8:dead::/48"]}},
        {"ipBlock": {"cidr": "0.0.0.0/0"}}]}]))
    assert allowed(eng, "2001:db8:1::5", XA) and not allowed(eng, "2001:db8:dead::5", XA)
    assert not allowed(eng, "2001:db9::1", XA) and allowed(eng, "192.0.2.1", XA)


def test_ip_selector_peers_never_match_an_ip():
    """Can pod or namespace selectors match a bare IP? (only ipBlock can)"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [{"namespaceSelector": {}}]}]))
    assert allowed(eng, YB, XA) and not allowed(eng, "10.244.2.11", XA)


def test_ip_block_matching_a_pod_is_flagged_implementation_specific():
    """When an ipBlock matches a pod's IP, is the verdict allowed but marked implementation-specific?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [{"ipBlock": {"cidr": "10.244.0.0/16"}}]}]))
    d = eng.decide(YB, XA, 80)
    assert d.allowed and d.implementation_specific and "implementation-specific" in d.reason
    assert not eng.decide("10.244.2.11", XA, 80).implementation_specific


def test_dual_stack_pod_uses_the_connection_family():
    """Is a dual-stack pod matched by ipBlock on its address of the connection's family?"""
    v6_client = pod("y/d", "fd00::5", {"pod": "d"}, ips=["fd00::5", "10.244.2.50"])
    v4_server = XA  # primary IPv4, so the connection is IPv4 and y/d's source is 10.244.2.50
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [{"ipBlock": {"cidr": "fd00::/64"}}]}]))
    assert not allowed(eng, v6_client, v4_server)
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [{"ipBlock": {"cidr": "10.244.2.0/24"}}]}]))
    assert allowed(eng, v6_client, v4_server)


# --- hostNetwork, nodes, loopback -------------------------------------------------------------------


def test_host_network_pods_are_not_selected_and_count_as_their_node():
    """Do pod selectors ignore hostNetwork pods, while ipBlock sees their (node) IP? (implementation-specific)"""
    host = pod("y/agent", "192.168.0.10", {"pod": "b"}, host_network=True, node="n2")
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [{"namespaceSelector": {}, "podSelector": POD_B}]}]))
    d = eng.decide(host, XA, 80)
    assert not d.allowed and "implementation-specific" in d.reason
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"from": [{"ipBlock": {"cidr": "192.168.0.0/24"}}]}]))
    assert allowed(eng, host, XA)
    isolated_host = engine(np_("y/deny", ingress=[]))
    d = isolated_host.decide(XA, host, 80)
    assert d.allowed and not d.ingress.isolated and "implementation-specific" in d.reason


def test_traffic_from_the_pods_own_node_is_always_allowed():
    """Is traffic between a pod and its own node always allowed, whatever the policies say?"""
    local = pod("x/a", "10.244.1.10", {"pod": "a"}, node="n1")
    host_same = pod("kube-system/agent", "192.168.0.1", {}, host_network=True, node="n1")
    host_other = pod("kube-system/agent2", "192.168.0.2", {}, host_network=True, node="n2")
    node = {"metadata": {"name": "n1"}, "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.1"}]}}
    eng = engine(np_("x/deny", ingress=[], egress=[], policyTypes=["Ingress", "Egress"]), nodes=[node])
    assert allowed(eng, host_same, local) and allowed(eng, local, host_same)
    assert not allowed(eng, host_other, local)
    d = eng.decide("192.168.0.1", local, 80)
    assert d.allowed and "own node" in d.reason
    assert not eng.decide("192.168.0.2", local, 80).allowed


def test_a_pod_can_always_reach_itself():
    """Can a pod reach itself even when a policy denies all ingress and egress? (docs: it cannot block itself)"""
    eng = engine(np_("x/deny", policyTypes=["Ingress", "Egress"]))
    d = eng.decide(XA, XA, 80)
    assert d.allowed and "cannot block access to itself" in d.reason
    assert eng.allowed_matrix([XA, XB], [XA, XB], 80) == [[True, False], [False, True]]


# --- API details -----------------------------------------------------------------------------------------


def test_policies_selecting_by_direction():
    """Does policies_selecting list the policies selecting a pod, optionally per direction?"""
    eng = engine(np_("x/in", podSelector=POD_A), np_("x/out", policyTypes=["Egress"]), np_("y/other"))
    assert [p.key for p in eng.policies_selecting(XA)] == ["x/in", "x/out"]
    assert [p.key for p in eng.policies_selecting(XA, "egress")] == ["x/out"]
    assert [p.key for p in eng.policies_selecting(XB, "ingress")] == []


@pytest.mark.parametrize("args", [(XA, XB, 0, "TCP"), (XA, XB, 70000, "TCP"), (XA, XB, 80, "HTTP"),
                                  (XA, "not-an-ip", 80, "TCP"), (XA, 42, 80, "TCP")])
def test_bad_probe_raises_probe_error(args):
    """Is a probe with a bad port, protocol or peer a ProbeError rather than a crash?"""
    with pytest.raises(ProbeError):
        engine().decide(*args)


def test_lower_case_protocol_is_accepted_in_probes():
    """Is a probe protocol case-insensitive ('udp' means UDP)?"""
    eng = engine(np_("x/p", podSelector=POD_A, ingress=[{"ports": [{"port": 53, "protocol": "UDP"}]}]))
    assert eng.decide(XB, XA, 53, "udp").allowed


def test_policy_decision_is_truthy_and_printable():
    """Is a PolicyDecision usable as a bool and printed with its verdict?"""
    d = engine(np_("x/deny", ingress=[])).decide(YA, XA, 80)
    assert not d and str(d).startswith("DENIED: x/a is isolated for ingress")


def test_engine_rejects_an_invalid_policy():
    """Does building an engine with an invalid policy raise the policy's ValidationError?"""
    with pytest.raises(ValidationError, match="spec.policyTypes"):
        engine(np_("x/bad", policyTypes=["ingress"]))


def test_matrix_matches_decide_on_a_mixed_cluster():
    """Does allowed_matrix equal decide() on every pair for a cluster mixing every rule kind?"""
    policies = [
        np_("x/deny-all", policyTypes=["Ingress", "Egress"]),
        np_("x/a-in", podSelector=POD_A, ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "b"}},
                                                            "podSelector": POD_B}], "ports": [{"port": "http"}]}]),
        np_("x/a-out", podSelector=POD_A, egress=[{"to": [{"ipBlock": {"cidr": "10.244.2.0/24",
                                                                        "except": ["10.244.2.10/32"]}}]}]),
        np_("y/b-out", podSelector=POD_B, policyTypes=["Egress"], egress=[{"ports": [{"port": 80, "endPort": 90}]}]),
    ]
    eng = engine(*policies)
    for port, proto in [(80, "TCP"), (8080, "TCP"), (53, "UDP")]:
        m = eng.allowed_matrix(PODS, PODS, port, proto)
        for i, s in enumerate(PODS):
            for j, d in enumerate(PODS):
                assert m[i][j] == eng.decide(s, d, port, proto).allowed
                assert m[i][j] == reference_allowed(NAMESPACES, policies, s, d, port, proto)


def test_matrix_of_empty_lists():
    """Does allowed_matrix cope with no sources or no destinations?"""
    assert engine().allowed_matrix([], [XA], 80) == []
    assert engine().allowed_matrix([XA], [], 80) == [[]]


# --- validation ---------------------------------------------------------------------------------------

INVALID = [
    ({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]}, "spec.ingress[0].from[0].ipBlock.cidr",
     'Invalid value: "10.0.0.0/33": must be a valid CIDR value'),
    ({"ingress": [{"from": [{"ipBlock": {"cidr": "not-a-cidr"}}]}]}, "spec.ingress[0].from[0].ipBlock.cidr",
     "must be a valid CIDR value"),
    ({"egress": [{"to": [{"ipBlock": {}}]}]}, "spec.egress[0].to[0].ipBlock.cidr", "Required value"),
    ({"ingress": [{"from": [{"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.18.0.0/24"]}}]}]},
     "spec.ingress[0].from[0].ipBlock.except[0]", "must be a strict subset of `cidr`"),
    ({"ingress": [{"from": [{"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.0.0/16"]}}]}]},
     "spec.ingress[0].from[0].ipBlock.except[0]", "must be a strict subset of `cidr`"),
    ({"ingress": [{"from": [{"ipBlock": {"cidr": "2001:db8::/32", "except": ["10.0.0.0/8"]}}]}]},
     "spec.ingress[0].from[0].ipBlock.except[0]", "must be a strict subset of `cidr`"),
    ({"ingress": [{"ports": [{"endPort": 90}]}]}, "spec.ingress[0].ports[0].endPort",
     "may not be specified when `port` is not specified"),
    ({"ingress": [{"ports": [{"port": 90, "endPort": 80}]}]}, "spec.ingress[0].ports[0].endPort",
     "must be greater than or equal to `port`"),
    ({"egress": [{"ports": [{"port": "http", "endPort": 80}]}]}, "spec.egress[0].ports[0].endPort",
     "may not be specified when `port` is non-numeric"),
    ({"ingress": [{"ports": [{"port": 80, "protocol": "HTTP"}]}]}, "spec.ingress[0].ports[0].protocol",
     'Unsupported value: "HTTP": supported values: "TCP", "UDP", "SCTP"'),
    ({"ingress": [{"ports": [{"port": 80, "protocol": "tcp"}]}]}, "spec.ingress[0].ports[0].protocol",
     'Unsupported value: "tcp"'),
    ({"ingress": [{"ports": [{"port": 0}]}]}, "spec.ingress[0].ports[0].port",
     "Invalid value: 0: must be between 1 and 65535, inclusive"),
    ({"ingress": [{"ports": [{"port": 65536}]}]}, "spec.ingress[0].ports[0].port", "must be between 1 and 65535"),
    ({"ingress": [{"ports": [{"port": 80, "endPort": 70000}]}]}, "spec.ingress[0].ports[0].endPort",
     "must be between 1 and 65535"),
    ({"ingress": [{"ports": [{"port": "HTTP"}]}]}, "spec.ingress[0].ports[0].port",
     "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
    ({"ingress": [{"ports": [{"port": "a-very-long-port-name"}]}]}, "spec.ingress[0].ports[0].port",
     "must be no more than 15 characters"),
    ({"ingress": [{"ports": [{"port": "8080"}]}]}, "spec.ingress[0].ports[0].port",
     "must contain at least one letter (a-z)"),
    ({"ingress": [{"ports": [{"port": "web--ui"}]}]}, "spec.ingress[0].ports[0].port",
     "must not contain consecutive hyphens"),
    ({"ingress": [{"ports": [{"port": "-web"}]}]}, "spec.ingress[0].ports[0].port", "must not begin or end with a hyphen"),
    ({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]}, "spec.ingress[0].from[0]",
     "Forbidden: may not specify both ipBlock and another peer"),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "namespaceSelector": {}}]}]}, "spec.egress[0].to[0]",
     "may not specify both ipBlock and another peer"),
    ({"ingress": [{"from": [{}]}]}, "spec.ingress[0].from[0]", "Required value: must specify a peer"),
    ({"ingress": [{"from": [{"podSelector": {"matchExpressions": [{"key": "a", "operator": "Equals",
                                                                   "values": ["b"]}]}}]}]},
     "spec.ingress[0].from[0].podSelector.matchExpressions[0].operator", "Unsupported value"),
    ({"ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}]}]},
     "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values", "must be specified"),
    ({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}},
     "spec.podSelector.matchExpressions[0].values", "may not be specified"),
    ({"policyTypes": ["ingress"]}, "spec.policyTypes[0]", 'Unsupported value: "ingress": supported values: "Ingress", "Egress"'),
    ({"policyTypes": ["Ingress", "Egress", "Ingress"]}, "spec.policyTypes", "may not specify more than two policyTypes"),
    ({"ingress": [{"to": [{"podSelector": {}}]}]}, "spec.ingress[0].to", 'unknown field "spec.ingress[0].to"'),
    ({"ingress": {"from": []}}, "spec.ingress", "must be a list"),
]


@pytest.mark.parametrize("spec,path,message", INVALID, ids=[i[1] + ":" + i[2][:30] for i in INVALID])
def test_validation_errors_name_the_field_like_the_api_server(spec, path, message):
    """Is each invalid NetworkPolicy rejected with the API server's field path and message?"""
    with pytest.raises(ValidationError) as err:
        validate_network_policy(np_("x/bad", **spec))
    assert err.value.field == path
    assert message in err.value.problem
    assert str(err.value).startswith(f"NetworkPolicy x/bad: {path}: ")


def test_validation_order_follows_the_api_server():
    """Are ports checked before peers within a rule, as ValidateNetworkPolicySpec does?"""
    spec = {"ingress": [{"from": [{}], "ports": [{"port": 0}]}]}
    with pytest.raises(ValidationError) as err:
        validate_network_policy(np_("x/bad", **spec))
    assert err.value.field == "spec.ingress[0].ports[0].port"


@pytest.mark.parametrize("spec", [
    {},
    {"podSelector": {}, "ingress": [{}], "egress": [{}], "policyTypes": ["Ingress", "Egress"]},
    {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.5/24", "except": ["10.0.0.128/25"]}}]}]},
    {"ingress": [{"from": [{"ipBlock": {"cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"]}}]}]},
    {"ingress": [{"ports": [{"port": "serve-81-tcp"}, {"port": 1, "endPort": 65535, "protocol": "SCTP"}]}]},
    {"egress": [{"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"a": "b"}}}]}]},
])
def test_valid_policies_pass(spec):
    """Are valid policies (including a cidr with host bits, as the legacy check allows) accepted?"""
    validate_network_policy(np_("x/ok", **spec))
    compile_policy(np_("x/ok", **spec))


# --- the fast path equals the reference (property test) --------------------------------------------------

LABEL_VALUES = st.sampled_from(["a", "b", "c"])
LABELS = st.dictionaries(st.sampled_from(["app", "tier"]), LABEL_VALUES, max_size=2)
SELECTOR = st.one_of(
    st.just({}),
    st.builds(lambda m: {"matchLabels": m}, LABELS),
    st.builds(lambda k, op, v: {"matchExpressions": [{"key": k, "operator": op, "values": v}]},
              st.sampled_from(["app", "tier", "team"]), st.sampled_from(["In", "NotIn"]),
              st.lists(LABEL_VALUES, min_size=1, max_size=2)),
    st.builds(lambda k, op: {"matchExpressions": [{"key": k, "operator": op}]},
              st.sampled_from(["app", "tier", "team"]), st.sampled_from(["Exists", "DoesNotExist"])),
)
CIDRS = st.sampled_from([("10.244.0.0/16", ["10.244.1.0/24"]), ("10.244.1.0/24", ["10.244.1.4/31"]),
                         ("0.0.0.0/0", ["10.244.2.0/24"]), ("fd00::/64", ["fd00::4/126"]), ("10.244.1.3/32", []),
                         ("192.168.0.0/24", ["192.168.0.2/32"])])
IP_BLOCK = st.builds(lambda c: {"ipBlock": {"cidr": c[0], "except": c[1]}}, CIDRS)
PEER = st.one_of(
    IP_BLOCK,
    st.builds(lambda s: {"podSelector": s}, SELECTOR),
    st.builds(lambda s: {"namespaceSelector": s}, SELECTOR),
    st.builds(lambda a, b: {"podSelector": a, "namespaceSelector": b}, SELECTOR, SELECTOR),
    IP_BLOCK,
)
PORT = st.one_of(
    st.builds(lambda p, proto: {"port": p, "protocol": proto}, st.sampled_from([80, 81, 53]),
              st.sampled_from(["TCP", "UDP"])),
    st.builds(lambda p: {"port": p}, st.sampled_from(["http", "dns", "nope"])),
    st.builds(lambda r: {"port": r[0], "endPort": r[1]}, st.sampled_from([(50, 60), (79, 80), (81, 90), (53, 53)])),
    st.just({"protocol": "UDP"}),
)
RULE = st.fixed_dictionaries({}, optional={"peers": st.lists(PEER, max_size=3),
                                           "ports": st.lists(PORT, min_size=1, max_size=2)})
POLICY_TYPES = st.one_of(st.none(), st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]]))


@st.composite
def clusters(draw):
    namespaces = [ns(n, **draw(st.dictionaries(st.just("team"), LABEL_VALUES, max_size=1))) for n in ("x", "y")]
    pods = []
    for i in range(draw(st.integers(2, 8))):
        kind = draw(st.sampled_from(["v4", "v6", "dual", "dual6", "host"]))
        v4, v6 = f"10.244.{i % 3}.{i + 1}", f"fd00::{i + 1:x}"  # some inside, some outside the CIDRS
        ips = {"v4": [v4], "v6": [v6], "dual": [v4, v6], "dual6": [v6, v4], "host": [f"192.168.0.{i % 2 + 1}"]}[kind]
        ports = draw(st.lists(st.sampled_from([("http", 80, "TCP"), ("http", 81, "TCP"), ("dns", 53, "UDP")]),
                              max_size=2, unique_by=lambda p: p[0]))
        pods.append(pod(f"{draw(st.sampled_from(['x', 'y']))}/p{i}", ips[0], draw(LABELS), ports,
                        host_network=kind == "host", node=draw(st.sampled_from(["n1", "n2"])), ips=ips))
    policies = []
    for i in range(draw(st.integers(1, 4))):
        spec = {"podSelector": draw(SELECTOR)}
        for direction, word in (("ingress", "from"), ("egress", "to")):
            rules = draw(st.one_of(st.none(), st.lists(RULE, max_size=2)))
            if rules is not None:
                spec[direction] = [{**({word: r["peers"]} if "peers" in r else {}),
                                    **({"ports": r["ports"]} if "ports" in r else {})} for r in rules]
        types = draw(POLICY_TYPES)
        if types:
            spec["policyTypes"] = types
        policies.append(np_(f"{draw(st.sampled_from(['x', 'y']))}/np{i}", **spec))
    return namespaces, pods, policies


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_fast_matrix_and_decide_equal_the_reference(cluster):
    """On random clusters and policies, do allowed_matrix and decide() give exactly the reference answers?"""
    namespaces, pods, policies = cluster
    eng = PolicyEngine(namespaces, policies)
    for port, proto in [(80, "TCP"), (81, "TCP"), (53, "UDP"), (60, "TCP")]:
        matrix = eng.allowed_matrix(pods, pods, port, proto)
        for i, s in enumerate(pods):
            for j, d in enumerate(pods):
                expected = reference_allowed(namespaces, policies, s, d, port, proto)
                assert matrix[i][j] == expected, (i, j, port, proto)
                assert eng.decide(s, d, port, proto).allowed == expected, (i, j, port, proto)
        for ip in ("10.244.1.3", "203.0.113.1", "fd00::11", "192.168.0.2"):
            for p in pods:
                assert eng.decide(ip, p, port, proto).allowed == reference_allowed(namespaces, policies, ip, p, port,
                                                                                   proto)
                assert eng.decide(p, ip, port, proto).allowed == reference_allowed(namespaces, policies, p, ip, port,
                                                                                   proto)
