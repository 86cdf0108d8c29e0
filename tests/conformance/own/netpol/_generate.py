"""Writes the np-k-NNN cases: upstream's truth tables re-derived with a copy of its Reachability helper.

Expected values come from the upstream test's OWN Expect* calls (test/e2e/network/netpol/network_policy.go,
reachability.go), replayed below on the 9-pod x/y/z model; loopback pairs are left out as upstream ignores
them. Extra probes (other protocols, outside IPs) state the documented rule they follow in `note`.
Run: python tests/conformance/own/netpol/_generate.py (rewrites the YAML files next to it).
"""
from __future__ import annotations

from pathlib import Path

import yaml

HERE = Path(__file__).parent
E2E = "kubernetes/kubernetes test/e2e/network/netpol/network_policy.go"
DOCS = "https://kubernetes.io/docs/concepts/services-networking/network-policies/"
NAMESPACES = ("x", "y", "z")
NAMES = ("a", "b", "c")
IP = {"x": "10.244.1.", "y": "10.244.2.", "z": "10.244.3."}
NS_LABEL = "kubernetes.io/metadata.name"


def pod_ports(extra=()):
    ports = [{"name": f"serve-{p}-{proto.lower()}", "port": p, "protocol": proto}
             for p in (80, 81) for proto in ("TCP", "UDP", "SCTP")]
    return ports + list(extra)


def model(extra_ports=(), extra_pods=(), ns_labels=None, pod_labels=None):
    """The 9-pod model; ns_labels / pod_labels ({"y": {...}} / {"x/b": {...}}) add labels to some of them."""
    namespaces = {ns: {"labels": {"ns": ns, NS_LABEL: ns, **(ns_labels or {}).get(ns, {})}} for ns in NAMESPACES}
    pods = [{"namespace": ns, "name": n, "labels": {"pod": n, **(pod_labels or {}).get(f"{ns}/{n}", {})},
             "ip": f"{IP[ns]}{10 + i}", "ports": pod_ports(extra_ports)}
            for ns in NAMESPACES for i, n in enumerate(NAMES)]
    return namespaces, pods + list(extra_pods)


class Reachability:
    """upstream reachability.go: a truth table over pod strings with Expect/ExpectPeer/ExpectAll*."""

    def __init__(self, pods, default: bool):
        self.pods = [f"{p['namespace']}/{p['name']}" for p in pods]
        self.m = {(a, b): default for a in self.pods for b in self.pods}

    @staticmethod
    def _match(peer, pod):
        ns, name = pod.split("/")
        return (peer.get("ns") in (None, ns)) and (peer.get("pod") in (None, name))

    def expect(self, a, b, v):
        self.m[(a, b)] = v
        return self

    def expect_peer(self, src, dst, v):
        for a in self.pods:
            for b in self.pods:
                if self._match(src, a) and self._match(dst, b):
                    self.m[(a, b)] = v
        return self

    def expect_all_ingress(self, pod, v):
        for a in self.pods:
            self.m[(a, pod)] = v
        return self

    def expect_all_egress(self, pod, v):
        for b in self.pods:
            self.m[(pod, b)] = v
        return self

    def probes(self, port, protocol, **marks):
        return [dict({"from": a, "to": b, "port": port, "protocol": protocol, "allowed": self.m[(a, b)]}, **marks)
                for a in self.pods for b in self.pods if a != b]


def policy(name, ns, spec):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def match_pod(v):
    return {"matchLabels": {"pod": v}}


def ns_is(ns):
    return {"matchLabels": {NS_LABEL: ns}}


def case(file, name, source, description, derivation, policies, expect, extra_ports=(), extra_pods=(), **labels):
    namespaces, pods = model(extra_ports, extra_pods, **labels)
    doc = {"name": name, "source": source, "description": description, "derivation": derivation,
           "namespaces": namespaces, "pods": pods, "policies": policies, "expect": expect}
    (HERE / f"{file}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, width=120))


def cases():
    _, pods = model()
    R = lambda: Reachability(pods, True)  # noqa: E731

    case("np-k-001-allow-from-all-namespaces", "np-k-001-allow-from-all-namespaces",
         f"{E2E} :: should enforce policy to allow ingress traffic from pods in all namespaces",
         "An empty namespaceSelector (matchLabels {}) in a peer selects every pod in every namespace.",
         ["TCP/80: NewReachability(true)",
          "from_ip probe: a namespaceSelector selects pods only (docs: 'namespaceSelector ... selects particular "
          "namespaces for which all Pods should be allowed'), and x/a is isolated for ingress"],
         [policy("allow-from-another-ns", "x", {"podSelector": match_pod("a"), "policyTypes": ["Ingress"],
                                                 "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {}}}]}]})],
         R().probes(80, "TCP") + [{"from_ip": "192.0.2.10", "to": "x/a", "port": 80, "protocol": "TCP", "allowed": False},
                                  {"from_ip": "192.0.2.10", "to": "x/b", "port": 80, "protocol": "TCP", "allowed": True}])

    r = R().expect_peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).expect_peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)
    case("np-k-002-namespace-selector-match-expressions", "np-k-002-namespace-selector-match-expressions",
         f"{E2E} :: should enforce policy based on NamespaceSelector with MatchExpressions",
         "namespaceSelector with matchExpressions In [y]: only namespace y reaches x/a; its own namespace is not implied.",
         ["TCP/80: NewReachability(true); ExpectPeer({ns:x},{ns:x,pod:a},false); ExpectPeer({ns:z},{ns:x,pod:a},false)"],
         [policy("allow-ns-y-match-selector", "x", {
             "podSelector": match_pod("a"), "policyTypes": ["Ingress"],
             "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [
                 {"key": NS_LABEL, "operator": "In", "values": ["y"]}]}}]}]})],
         r.probes(80, "TCP"))

    r = R().expect_all_ingress("x/a", False).expect("x/b", "x/a", True)
    case("np-k-003-pod-selector-match-expressions", "np-k-003-pod-selector-match-expressions",
         f"{E2E} :: should enforce policy based on PodSelector with MatchExpressions",
         "podSelector matchExpressions In [b] without namespaceSelector: pod b of the policy's OWN namespace only.",
         ["TCP/80: NewReachability(true); ExpectAllIngress(x/a,false); Expect(x/b,x/a,true)"],
         [policy("x-a-allows-x-b", "x", {"podSelector": match_pod("a"), "policyTypes": ["Ingress"],
                                         "ingress": [{"from": [{"podSelector": {"matchExpressions": [
                                             {"key": "pod", "operator": "In", "values": ["b"]}]}}]}]})],
         r.probes(80, "TCP"))

    r = R().expect_peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).expect("y/a", "x/a", False)
    case("np-k-004-multiple-podselectors-and-nsselectors", "np-k-004-multiple-podselectors-and-nsselectors",
         f"{E2E} :: should enforce policy based on Multiple PodSelectors and NamespaceSelectors",
         "One peer: namespace NotIn [x] AND pod In [b, c]; y/b, y/c, z/b, z/c reach x/a, nothing else does.",
         ["TCP/80: NewReachability(true); ExpectPeer({ns:x},{ns:x,pod:a},false); Expect(y/a,x/a,false)",
          "z/a -> x/a (the 9-pod model adds z): derived from the same peer, z/a is not pod In [b,c], so false"],
         [policy("allow-ns-y-z-pod-b-c", "x", {
             "podSelector": match_pod("a"), "policyTypes": ["Ingress"],
             "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [
                 {"key": NS_LABEL, "operator": "NotIn", "values": ["x"]}]},
                 "podSelector": {"matchExpressions": [{"key": "pod", "operator": "In", "values": ["b", "c"]}]}}]}]})],
         r.expect("z/a", "x/a", False).probes(80, "TCP"))

    r = R().expect_all_ingress("x/a", False).expect("x/b", "x/a", True).expect("x/c", "x/a", True)
    case("np-k-005-any-podselectors", "np-k-005-any-podselectors",
         f"{E2E} :: should enforce policy based on any PodSelectors",
         "Two peers in one `from` are ORed: pod b or pod c of namespace x.",
         ["TCP/80: NewReachability(true); ExpectAllIngress(x/a,false); Expect(x/b,x/a,true); Expect(x/c,x/a,true)"],
         [policy("allow-ns-x-pod-b-c", "x", {"podSelector": match_pod("a"), "policyTypes": ["Ingress"],
                                             "ingress": [{"from": [{"podSelector": match_pod("b")},
                                                                   {"podSelector": match_pod("c")}]}]})],
         r.probes(80, "TCP"))

    allow81 = policy("allow-client-a-via-ns-selector", "x", {
        "podSelector": match_pod("a"), "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": ns_is("y")}], "ports": [{"port": 81, "protocol": "TCP"}]}]})
    allow80 = policy("allow-client-a-via-ns-selector-80", "x", {
        "podSelector": match_pod("a"), "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": ns_is("y")}], "ports": [{"port": 80, "protocol": "TCP"}]}]})
    allow = (R().expect_peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False)
             .expect_peer({"ns": "y"}, {"ns": "x", "pod": "a"}, True)
             .expect_peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False))
    deny = R().expect_all_ingress("x/a", False)
    case("np-k-006-ports", "np-k-006-ports",
         f"{E2E} :: should enforce policy based on Ports",
         "from and ports in one rule are ANDed: namespace y on TCP 81 only; TCP 80 to x/a is closed for all.",
         ["TCP/81: reachabilityALLOW (ExpectPeer x->x/a false, y->x/a true, z->x/a false)",
          "TCP/80: ExpectAllIngress(x/a,false) (the stacked-policies test's reachabilityDENY before the second policy)"],
         [allow81], allow.probes(81, "TCP") + deny.probes(80, "TCP"))
    case("np-k-007-stacked-policies", "np-k-007-stacked-policies",
         f"{E2E} :: should enforce multiple, stacked policies with overlapping podSelectors",
         "Two policies selecting x/a add up: their rules are ORed (81 from y, and 80 from y).",
         ["TCP/81 and TCP/80 after both policies: reachabilityALLOW"],
         [allow81, allow80], allow.probes(81, "TCP") + allow.probes(80, "TCP"))

    r80 = R().expect_peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).expect_peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)
    case("np-k-008-named-port-from-namespace", "np-k-008-named-port-from-namespace",
         f"{E2E} :: should allow ingress access from namespace on one named port",
         "Named port serve-80-tcp with a namespace y peer: 80 open to y only, 81 closed to everybody.",
         ["TCP/80: ExpectPeer(x->x/a,false); ExpectPeer(z->x/a,false)", "TCP/81: ExpectAllIngress(x/a,false)"],
         [policy("allow-client-a-via-ns-selector-80", "x", {
             "podSelector": match_pod("a"), "policyTypes": ["Ingress"],
             "ingress": [{"from": [{"namespaceSelector": ns_is("y")}],
                          "ports": [{"port": "serve-80-tcp", "protocol": "TCP"}]}]})],
         r80.probes(80, "TCP") + deny.probes(81, "TCP"))

    r81 = R().expect_peer({"ns": "x"}, {}, False)
    case("np-k-009-egress-named-port", "np-k-009-egress-named-port",
         f"{E2E} :: should allow egress access on one named port",
         "Egress named port serve-80-tcp is resolved on the destination pod: 80 allowed everywhere, 81 denied from x.",
         ["TCP/80: NewReachability(true)", "TCP/81: ExpectPeer({ns:x},{},false)",
          "outside IP on 80: a named port only matches pods that declare it (docs: named ports are looked up in "
          "the destination pod), so x/a -> 192.0.2.10:80 is denied"],
         [policy("allow-egress", "x", {"podSelector": {"matchLabels": {}}, "policyTypes": ["Egress"],
                                       "egress": [{"ports": [{"port": "serve-80-tcp"}]}]})],
         R().probes(80, "TCP") + r81.probes(81, "TCP")
         + [{"from": "x/a", "to_ip": "192.0.2.10", "port": 80, "protocol": "TCP", "allowed": False,
             "implementation_specific": True,
             "note": "an IP destination has no named ports; most CNIs never match a named port for ipBlock/IP peers"}])

    p80 = R().expect_all_ingress("x/a", False).expect("x/b", "x/a", True)
    p81 = R().expect_all_ingress("x/a", False).expect_all_egress("x/a", False).expect("x/b", "x/a", True)
    case("np-k-010-ingress-and-egress-together", "np-k-010-ingress-and-egress-together",
         f"{E2E} :: should work with Ingress, Egress specified together",
         "One policy with both types: ingress only from x/b; egress only on TCP 80.",
         ["TCP/80: ExpectAllIngress(x/a,false); Expect(x/b,x/a,true)",
          "TCP/81: ExpectAllIngress(x/a,false); ExpectAllEgress(x/a,false); Expect(x/b,x/a,true)"],
         [policy("allow-client-a-via-pod-selector", "x", {
             "podSelector": match_pod("a"), "policyTypes": ["Egress", "Ingress"],
             "ingress": [{"from": [{"podSelector": match_pod("b")}]}], "egress": [{"ports": [{"port": 80}]}]})],
         p80.probes(80, "TCP") + p81.probes(81, "TCP")
         + [{"from": "x/a", "to_ip": "192.0.2.10", "port": 80, "protocol": "TCP", "allowed": True,
             "note": "egress rule with ports only: any destination on TCP 80"},
            {"from": "x/a", "to_ip": "192.0.2.10", "port": 81, "protocol": "TCP", "allowed": False}])

    ingress_xa = {"from": [{"namespaceSelector": ns_is("x"), "podSelector": match_pod("a")}]}
    r = (R().expect_peer({"ns": "x", "pod": "a"}, {}, False).expect_peer({}, {"ns": "y", "pod": "a"}, False)
         .expect_peer({"ns": "x", "pod": "a"}, {"ns": "y", "pod": "a"}, True).expect_peer({}, {"ns": "y", "pod": "b"}, False))
    case("np-k-011-egress-denied-on-client-side", "np-k-011-egress-denied-on-client-side",
         f"{E2E} :: should support denying of egress traffic on the client side (even if the server explicitly "
         "allows this traffic)",
         "A connection needs the source's egress AND the destination's ingress: y/b admits x/a, x/a's egress does not.",
         ["TCP/80: ExpectPeer(x/a->*,false); ExpectPeer(*->y/a,false); ExpectPeer(x/a->y/a,true); ExpectPeer(*->y/b,false)"],
         [policy("allow-to-ns-y-pod-a", "x", {"podSelector": match_pod("a"), "policyTypes": ["Egress"],
                                              "egress": [{"to": [{"namespaceSelector": ns_is("y"),
                                                                  "podSelector": match_pod("a")}]}]}),
          policy("allow-from-xa-on-ya-match-selector", "y", {"podSelector": match_pod("a"), "policyTypes": ["Ingress"],
                                                             "ingress": [ingress_xa]}),
          policy("allow-from-xa-on-yb-match-selector", "y", {"podSelector": match_pod("b"), "policyTypes": ["Ingress"],
                                                             "ingress": [ingress_xa]})],
         r.probes(80, "TCP"))

    udp = R().expect_peer({}, {"ns": "x", "pod": "a"}, False)
    case("np-k-012-any-port-on-one-protocol", "np-k-012-any-port-on-one-protocol",
         f"{E2E} :: should enforce ingress policy allowing any port traffic to a server on a specific protocol",
         "A port entry with only `protocol: TCP` matches every TCP port and no UDP.",
         ["TCP/80: NewReachability(true)", "UDP/80: ExpectPeer({}, {ns:x,pod:a}, false)",
          "TCP/81: same rule as TCP/80 (no port means all ports of that protocol)"],
         [policy("allow-ingress-by-proto", "x", {"podSelector": match_pod("a"), "policyTypes": ["Ingress"],
                                                 "ingress": [{"ports": [{"protocol": "TCP"}]}]})],
         R().probes(80, "TCP") + udp.probes(80, "UDP") + R().probes(81, "TCP"))

    only80 = R().expect_peer({}, {"ns": "x"}, False)
    case("np-k-013-ingress-allow-all-precedence", "np-k-013-ingress-allow-all-precedence",
         f"{E2E} :: should enforce multiple ingress policies with ingress allow-all policy taking precedence",
         "An allow-all ingress rule ({}) in a second policy opens what the first one (port 80 only) left closed.",
         ["TCP/81 with both policies: NewReachability(true)",
          "the first policy alone closed TCP/81 (ExpectPeer({}, {ns:x}, false)); adding one never removes access"],
         [policy("allow-ingress-port-80", "x", {"podSelector": {"matchLabels": {}}, "policyTypes": ["Ingress"],
                                                "ingress": [{"ports": [{"port": 80}]}]}),
          policy("allow-ingress", "x", {"podSelector": {"matchLabels": {}}, "policyTypes": ["Ingress"],
                                        "ingress": [{}]})],
         R().probes(81, "TCP") + [{"from_ip": "192.0.2.10", "to": "x/b", "port": 81, "protocol": "TCP", "allowed": True}])
    del only80

    case("np-k-014-egress-allow-all-precedence", "np-k-014-egress-allow-all-precedence",
         f"{E2E} :: should enforce multiple egress policies with egress allow-all policy taking precedence",
         "An allow-all egress rule ({}) in a second policy opens TCP 81 that the port-80-only egress policy closed.",
         ["TCP/81 with both policies: NewReachability(true)"],
         [policy("allow-egress-port-80", "x", {"podSelector": {"matchLabels": {}}, "policyTypes": ["Egress"],
                                               "egress": [{"ports": [{"port": 80}]}]}),
          policy("allow-egress", "x", {"podSelector": {"matchLabels": {}}, "policyTypes": ["Egress"], "egress": [{}]})],
         R().probes(81, "TCP") + [{"from": "x/a", "to_ip": "192.0.2.10", "port": 81, "protocol": "TCP", "allowed": True}])

    tcp81 = R().expect_peer({}, {"ns": "x"}, False)
    sctp81 = R().expect_peer({}, {"ns": "x"}, False)
    for src in sctp81.pods:
        if src != "x/a":
            sctp81.expect(src, "x/a", True)
    case("np-k-015-sctp-is-not-tcp", "np-k-015-sctp-is-not-tcp",
         f"{E2E} :: should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't "
         "support SCTP",
         "default-deny-ingress in x plus an SCTP/81 allow for x/a: TCP/81 stays closed to every pod in x.",
         ["TCP/81: ExpectPeer({}, {ns:x}, false)",
          "SCTP/81: derived from the docs' rule that a port entry matches its protocol: x/a admits SCTP 81 from "
          "everyone; x/b and x/c stay default-denied"],
         [policy("deny-ingress", "x", {"podSelector": {}, "policyTypes": ["Ingress"]}),
          policy("allow-only-sctp-ingress-on-port-81", "x", {
              "podSelector": match_pod("a"), "policyTypes": ["Ingress"],
              "ingress": [{"ports": [{"port": 81, "protocol": "SCTP"}]}]})],
         tcp81.probes(81, "TCP") + sctp81.probes(81, "SCTP"))

    iso = R().expect_all_ingress("x/a", False)
    udp81 = R()
    case("np-k-016-udp-only-rule-isolates-tcp", "np-k-016-udp-only-rule-isolates-tcp",
         f"{E2E} :: should not allow access by TCP when a policy specifies only UDP",
         "A UDP/81-only rule still isolates x/a: TCP 81 is denied, UDP 81 allowed.",
         ["TCP/81: ExpectAllIngress(x/a,false)", "UDP/81: derived: the rule allows UDP 81 from any source"],
         [policy("allow-only-udp-ingress-on-port-81", "x", {
             "podSelector": match_pod("a"), "policyTypes": ["Ingress"],
             "ingress": [{"ports": [{"port": 81, "protocol": "UDP"}]}]})],
         iso.probes(81, "TCP") + udp81.probes(81, "UDP"))

    r = R().expect_peer({"ns": "x", "pod": "a"}, {"ns": "y"}, False)
    case("np-k-017-egress-namespace-notin", "np-k-017-egress-namespace-notin",
         f"{E2E} :: should enforce policy based on NamespaceSelector with MatchExpressions using default ns label",
         "Egress of x/a to namespaces NotIn [y] (the automatic kubernetes.io/metadata.name label).",
         ["TCP/80: ExpectPeer({ns:x,pod:a}, {ns:y}, false)",
          "outside IP: a namespaceSelector peer selects pods only, so x/a -> 192.0.2.10 is denied"],
         [policy("allow-ns-y-match-selector-for-immutable-ns-label", "x", {
             "podSelector": match_pod("a"), "policyTypes": ["Egress"],
             "egress": [{"to": [{"namespaceSelector": {"matchExpressions": [
                 {"key": NS_LABEL, "operator": "NotIn", "values": ["y"]}]}}]}]})],
         r.probes(80, "TCP") + [{"from": "x/a", "to_ip": "192.0.2.10", "port": 80, "protocol": "TCP", "allowed": False}])

    r = R().expect_peer({"ns": "y"}, {"ns": "x"}, False).expect_peer({"ns": "z"}, {"ns": "x"}, False)
    case("np-k-018-deny-from-other-namespaces", "np-k-018-deny-from-other-namespaces",
         f"{E2E} :: should deny ingress from pods on other namespaces",
         "`from: [podSelector: {}]` means every pod of the policy's own namespace, nothing outside it.",
         ["TCP/80: ExpectPeer({ns:y},{ns:x},false); ExpectPeer({ns:z},{ns:x},false)"],
         [policy("deny-empty-policy", "x", {"podSelector": {}, "policyTypes": ["Ingress"],
                                            "ingress": [{"from": [{"podSelector": {"matchLabels": {}}}]}]})],
         r.probes(80, "TCP") + [{"from_ip": "192.0.2.10", "to": "x/a", "port": 80, "protocol": "TCP", "allowed": False}])

    # policyTypes defaulting: written without policyTypes, a policy with egress rules isolates both directions.
    r = R().expect_all_egress("x/a", False).expect("x/a", "y/a", True).expect_all_ingress("x/a", False)
    case("np-k-019-policytypes-default-with-egress", "np-k-019-policytypes-default-with-egress",
         f"{DOCS}#networkpolicy-resource (policyTypes: 'If no policyTypes are specified on a NetworkPolicy then by "
         "default Ingress will always be set and Egress will be set if the NetworkPolicy has any egress rules.')",
         "No policyTypes and only egress rules: the policy also isolates x/a for ingress, with no ingress allowed.",
         [f"upstream {E2E} :: should enforce egress policy allowing traffic to a server in a different namespace based "
          "on PodSelector and NamespaceSelector: ExpectAllEgress(x/a,false); Expect(x/a,y/a,true)",
          "here policyTypes is left out, so by the documented default Ingress is set too: ExpectAllIngress(x/a,false)"],
         [policy("allow-to-ns-y-pod-a", "x", {"podSelector": match_pod("a"),
                                              "egress": [{"to": [{"namespaceSelector": ns_is("y"),
                                                                  "podSelector": match_pod("a")}]}]})],
         r.probes(80, "TCP"))

    # endPort on ingress, pod to pod.
    extra = [{"name": f"serve-{p}-tcp", "port": p, "protocol": "TCP"} for p in (82, 83)]
    closed = R().expect_all_ingress("x/a", False)
    case("np-k-020-ingress-port-range", "np-k-020-ingress-port-range",
         f"{DOCS}#targeting-a-range-of-ports",
         "port 81 with endPort 82 admits TCP 81 and 82 (inclusive range) to x/a and nothing else.",
         ["docs (Targeting a range of ports): with endPort the rule matches every port from port to endPort, both included",
          "TCP/81, TCP/82: NewReachability(true)", "TCP/80, TCP/83, UDP/81: ExpectAllIngress(x/a,false)"],
         [policy("allow-81-82", "x", {"podSelector": match_pod("a"), "policyTypes": ["Ingress"],
                                      "ingress": [{"ports": [{"protocol": "TCP", "port": 81, "endPort": 82}]}]})],
         R().probes(81, "TCP") + R().probes(82, "TCP") + closed.probes(80, "TCP") + closed.probes(83, "TCP")
         + closed.probes(81, "UDP"), extra_ports=extra)

    # Pods with no labels; Exists / DoesNotExist selectors.
    bare = [{"namespace": "x", "name": "bare", "labels": {}, "ip": "10.244.1.20", "ports": pod_ports()}]
    _, pods_bare = model(extra_pods=bare)
    rb = Reachability(pods_bare, True)
    for dst in ("x/a", "x/b", "x/c"):
        rb.expect_all_ingress(dst, False).expect("x/bare", dst, True)
    rb.expect_all_ingress("x/bare", False)
    for src in rb.pods:
        if src.startswith("x/") and src != "x/bare":
            rb.expect(src, "x/bare", True)
    case("np-k-021-exists-and-doesnotexist", "np-k-021-exists-and-doesnotexist",
         [f"{DOCS}#behavior-of-to-and-from-selectors",
          "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#set-based-requirement"],
         "Pods labelled pod=* admit only x pods WITHOUT a pod label (DoesNotExist); the unlabeled pod, selected by "
         "DoesNotExist itself, admits only x pods that HAVE one (Exists).",
         ["set-based requirements: Exists matches a label with the key present, DoesNotExist one without it",
          "a podSelector without namespaceSelector only selects pods in the policy's namespace"],
         [policy("labelled-from-bare", "x", {"podSelector": {"matchExpressions": [{"key": "pod", "operator": "Exists"}]},
                                             "ingress": [{"from": [{"podSelector": {"matchExpressions": [
                                                 {"key": "pod", "operator": "DoesNotExist"}]}}]}]}),
          policy("bare-from-labelled", "x", {"podSelector": {"matchExpressions": [
              {"key": "pod", "operator": "DoesNotExist"}]},
              "ingress": [{"from": [{"podSelector": {"matchExpressions": [{"key": "pod", "operator": "Exists"}]}}]}]})],
         rb.probes(80, "TCP"), extra_pods=bare)

    # Empty podSelector with a namespaceSelector: all pods of the selected namespaces (by a custom label).
    r = R()
    for src in r.pods:
        for dst in ("x/a", "x/b", "x/c"):
            r.expect(src, dst, src.startswith("z/"))
    case("np-k-022-empty-podselector-in-other-namespace", "np-k-022-empty-podselector-in-other-namespace",
         f"{DOCS}#behavior-of-to-and-from-selectors",
         "One peer {namespaceSelector: ns=z, podSelector: {}} = every pod in namespace z; deny-all-but-that for x. "
         "A deny-all policy in y selects nothing in x or z.",
         ["docs: namespaceSelector and podSelector in one element select pods matching both",
          "docs: a policy only selects pods in its own namespace (the deny-all in y leaves x and z alone)",
          "y is default-deny for ingress: nothing reaches y pods"],
         [policy("allow-from-z", "x", {"podSelector": {}, "policyTypes": ["Ingress"],
                                       "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "z"}},
                                                              "podSelector": {}}]}]}),
          policy("deny-all", "y", {"podSelector": {}, "policyTypes": ["Ingress"]})],
         _deny_y(r).probes(80, "TCP"))

    # ipBlock with except, for IPs outside the cluster (the documented use).
    case("np-k-023-ipblock-except-external", "np-k-023-ipblock-except-external",
         [f"{DOCS}#networkpolicy-resource", "https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/"],
         "Ingress to x/a from 192.0.2.0/24 except 192.0.2.128/25, and egress from x/a to 198.51.100.0/24 except "
         "198.51.100.7/32: the except ranges are carved out, the rest of the CIDR allowed.",
         ["IPBlock: 'except is a list of CIDRs that should not be included within an IPBlock'",
          "pod-to-pod probes: an ipBlock for outside addresses matches no pod in 10.244/16"],
         [policy("ipblock-except", "x", {
             "podSelector": match_pod("a"), "policyTypes": ["Ingress", "Egress"],
             "ingress": [{"from": [{"ipBlock": {"cidr": "192.0.2.0/24", "except": ["192.0.2.128/25"]}}]}],
             "egress": [{"to": [{"ipBlock": {"cidr": "198.51.100.0/24", "except": ["198.51.100.7/32"]}}]}]})],
         [{"from_ip": "192.0.2.10", "to": "x/a", "port": 80, "protocol": "TCP", "allowed": True},
          {"from_ip": "192.0.2.127", "to": "x/a", "port": 80, "protocol": "TCP", "allowed": True},
          {"from_ip": "192.0.2.128", "to": "x/a", "port": 80, "protocol": "TCP", "allowed": False},
          {"from_ip": "192.0.2.200", "to": "x/a", "port": 80, "protocol": "TCP", "allowed": False},
          {"from_ip": "203.0.113.5", "to": "x/a", "port": 80, "protocol": "TCP", "allowed": False},
          {"from_ip": "203.0.113.5", "to": "x/b", "port": 80, "protocol": "TCP", "allowed": True},
          {"from": "x/a", "to_ip": "198.51.100.6", "port": 443, "protocol": "TCP", "allowed": True},
          {"from": "x/a", "to_ip": "198.51.100.7", "port": 443, "protocol": "TCP", "allowed": False},
          {"from": "x/a", "to_ip": "198.51.100.8", "port": 443, "protocol": "UDP", "allowed": True},
          {"from": "x/a", "to_ip": "8.8.8.8", "port": 53, "protocol": "UDP", "allowed": False},
          {"from": "x/b", "to_ip": "8.8.8.8", "port": 53, "protocol": "UDP", "allowed": True},
          {"from": "x/b", "to": "x/a", "port": 80, "protocol": "TCP", "allowed": False},
          {"from": "x/a", "to": "x/b", "port": 80, "protocol": "TCP", "allowed": False},
          {"from": "y/a", "to": "x/b", "port": 80, "protocol": "TCP", "allowed": True}])

    # Overlap of one policy's except with another policy's cidr: policies add up.
    r = R()  # every pod IP is inside 0.0.0.0/4 and x/b's /32 is allowed again by policy 2
    case("np-k-024-except-overlap-allowed-by-other-policy", "np-k-024-except-overlap-allowed-by-other-policy",
         f"{E2E} :: should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed",
         "Policy 1 allows 0.0.0.0/4 except x/b's /32; policy 2 allows x/b's /32. Together x/a reaches x/b.",
         ["upstream: Expect(x/a,x/b,false) with policy 1 alone; x/a -> x/b true once the /32 is allowed",
          "union of policies (docs: 'policies are additive')"],
         [policy("allow-client-a-via-cidr-egress-rule", "x", {
             "podSelector": match_pod("a"), "policyTypes": ["Egress"],
             "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/4", "except": ["10.244.1.11/32"]}}]}]}),
          policy("allow-client-a-to-b-via-cidr", "x", {
              "podSelector": match_pod("a"), "policyTypes": ["Egress"],
              "egress": [{"to": [{"ipBlock": {"cidr": "10.244.1.11/32"}}]}]})],
         [dict(p, implementation_specific=True, note="ipBlock matching pod IPs (upstream e2e: yes)")
          for p in r.probes(80, "TCP") if p["from"] == "x/a"]
         + [{"from": "x/a", "to_ip": "8.8.8.8", "port": 80, "protocol": "TCP", "allowed": True},
            {"from": "x/a", "to_ip": "192.0.2.10", "port": 80, "protocol": "TCP", "allowed": False}])

    # Empty `from: []` / `to: []` lists match everything; {namespaceSelector: {}, podSelector} = that pod anywhere.
    r = R()
    for src in r.pods:
        r.expect(src, "x/a", src.endswith("/b"))
    case("np-k-025-empty-peer-lists-and-any-namespace-pod", "np-k-025-empty-peer-lists-and-any-namespace-pod",
         [f"{DOCS}#behavior-of-to-and-from-selectors",
          "https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/"],
         "x/b's egress rule has `to: []` and its ingress rule `from: []` (both match all peers); x/a admits pod b "
         "of every namespace (namespaceSelector {} AND podSelector pod=b in one peer).",
         ["API: ingress.from 'If this field is empty or missing, this rule matches all sources'; egress.to likewise",
          f"upstream {E2E} :: should enforce policy based on PodSelector and NamespaceSelector (one peer = AND)"],
         [policy("all-via-empty-lists", "x", {"podSelector": match_pod("b"), "policyTypes": ["Ingress", "Egress"],
                                              "ingress": [{"from": []}], "egress": [{"to": []}]}),
          policy("pod-b-anywhere", "x", {"podSelector": match_pod("a"), "policyTypes": ["Ingress"],
                                         "ingress": [{"from": [{"namespaceSelector": {}, "podSelector": match_pod("b")}]}]})],
         r.probes(80, "TCP") + [{"from": "x/b", "to_ip": "192.0.2.10", "port": 443, "protocol": "TCP", "allowed": True},
                                {"from_ip": "192.0.2.10", "to": "x/b", "port": 80, "protocol": "TCP", "allowed": True}])

    # Several ports in one rule, each with its own protocol.
    tcp81 = R()
    udp80 = R()
    closed = R().expect_all_ingress("x/a", False)
    case("np-k-026-ports-with-mixed-protocols", "np-k-026-ports-with-mixed-protocols",
         f"{DOCS}#networkpolicy-resource",
         "One rule with ports [UDP 80, 81 (TCP by default)]: UDP/80 and TCP/81 open, TCP/80 and UDP/81 closed.",
         ["NetworkPolicyPort: protocol defaults to TCP; a rule's ports are ORed; port and protocol must both match",
          f"upstream {E2E} :: should enforce ingress policy allowing any port traffic to a server on a specific protocol"],
         [policy("udp80-tcp81", "x", {"podSelector": match_pod("a"), "policyTypes": ["Ingress"],
                                      "ingress": [{"ports": [{"protocol": "UDP", "port": 80}, {"port": 81}]}]})],
         udp80.probes(80, "UDP") + tcp81.probes(81, "TCP") + closed.probes(80, "TCP") + closed.probes(81, "UDP"))

    # Final states of upstream's label-update tests, written as static labels.
    r = R().expect_all_ingress("x/a", False).expect_peer({"ns": "y"}, {}, True)
    case("np-k-027-namespace-label-added", "np-k-027-namespace-label-added",
         f"{E2E} :: should allow ingress access from updated namespace",
         "Namespace y carries ns2=updated (the label upstream adds); a namespaceSelector on it admits y's pods to x/a.",
         ["after AddNamespaceLabel(y, ns2=updated): ExpectAllIngress(x/a,false); ExpectPeer({ns:y},{},true)"],
         [policy("allow-client-a-via-ns-selector", "x", {
             "podSelector": match_pod("a"), "policyTypes": ["Ingress"],
             "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns2": "updated"}}}]}]})],
         r.probes(80, "TCP"), ns_labels={"y": {"ns2": "updated"}})

    r = R().expect_all_ingress("x/a", False).expect("x/b", "x/a", True)
    case("np-k-028-pod-label-added", "np-k-028-pod-label-added",
         f"{E2E} :: should allow ingress access from updated pod",
         "x/b carries pod2=updated besides pod=b (x/c has pod2=updated but pod=c); a podSelector needing both labels "
         "admits x/b only.",
         ["after AddPodLabels(x/b, {pod: b, pod2: updated}): ExpectAllIngress(x/a,false); Expect(x/b,x/a,true)",
          "y/b and z/b have pod=b but not pod2, and are in other namespaces anyway"],
         [policy("allow-client-a-via-pod-selector", "x", {
             "podSelector": match_pod("a"), "policyTypes": ["Ingress"],
             "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b", "pod2": "updated"}}}]}]})],
         r.probes(80, "TCP"), pod_labels={"x/b": {"pod2": "updated"}, "x/c": {"pod2": "updated"}})


def _deny_y(r):
    for src in r.pods:
        for dst in ("y/a", "y/b", "y/c"):
            r.expect(src, dst, False)
    return r


if __name__ == "__main__":
    cases()
