"""kube-proxy iptables mode: chain names, probabilities and the rules of one node, against upstream vectors."""
from __future__ import annotations

from textwrap import dedent

import pytest

from kubelab.net.iptables import chain_name, compute_probability, iptables_save, parse_iptables_save

NODE = "test-hostname"
NODES = [{"metadata": {"name": NODE}, "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.2"}]}}]


def svc(ns, name, cluster_ip, *, type_="ClusterIP", ports=None, **spec):
    ports = ports or [{"name": "p80", "port": 80, "protocol": "TCP"}]
    status = spec.pop("status", {})
    return {"metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}"},
            "spec": {"type": type_, "clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "ipFamilies": ["IPv4"],
                     "ports": ports, **spec}, "status": status}


def eps(ns, name, endpoints, *, port=80, port_name="p80", family="IPv4", slice_name=None):
    return {"metadata": {"name": slice_name or f"{name}-abcde", "namespace": ns,
                         "labels": {"kubernetes.io/service-name": name}},
            "addressType": family, "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
            "endpoints": [dict(e) if isinstance(e, dict) else {"addresses": [e]} for e in endpoints]}


# TestOverallIPTablesRulesWithMultipleServices in pkg/proxy/iptables/proxier_test.go
UPSTREAM_SERVICES = [
    svc("ns1", "svc1", "172.30.0.41"),
    svc("ns2", "svc2", "172.30.0.42", type_="LoadBalancer", externalTrafficPolicy="Local",
        ports=[{"name": "p80", "port": 80, "protocol": "TCP", "nodePort": 3001}], externalIPs=["192.168.99.22"],
        healthCheckNodePort=30000, status={"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}),
    svc("ns3", "svc3", "172.30.0.43", type_="NodePort",
        ports=[{"name": "p80", "port": 80, "protocol": "TCP", "nodePort": 3003}]),
    svc("ns4", "svc4", "172.30.0.44", type_="NodePort", externalIPs=["192.168.99.33"]),
    svc("ns5", "svc5", "172.30.0.45", type_="LoadBalancer", externalTrafficPolicy="Cluster",
        ports=[{"name": "p80", "port": 80, "protocol": "TCP", "nodePort": 3002}], healthCheckNodePort=30000,
        loadBalancerSourceRanges=[" 203.0.113.0/25"], status={"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}]}}),
    svc("ns6", "svc6", "172.30.0.46"),
]
UPSTREAM_SLICES = [
    eps("ns1", "svc1", ["10.180.0.1"]),
    eps("ns2", "svc2", ["10.180.0.2"]),
    eps("ns3", "svc3", ["10.180.0.3"]),
    eps("ns4", "svc4", ["10.180.0.4", {"addresses": ["10.180.0.5"], "nodeName": NODE}]),
    eps("ns5", "svc5", ["10.180.0.3"]),
]
UPSTREAM_EXPECTED = dedent("""\
    *filter
    :KUBE-NODEPORTS - [0:0]
    :KUBE-SERVICES - [0:0]
    :KUBE-EXTERNAL-SERVICES - [0:0]
    :KUBE-FIREWALL - [0:0]
    :KUBE-FORWARD - [0:0]
    :KUBE-PROXY-FIREWALL - [0:0]
    -A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
    -A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT
    -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP
    -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
    -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP
    -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
    -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
    -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP
    COMMIT
    *nat
    :KUBE-NODEPORTS - [0:0]
    :KUBE-SERVICES - [0:0]
    :KUBE-EXT-4SW47YFZTEDKD3PK - [0:0]
    :KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
    :KUBE-EXT-NUKIZ6OKUXPJNT4C - [0:0]
    :KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]
    :KUBE-FW-NUKIZ6OKUXPJNT4C - [0:0]
    :KUBE-MARK-MASQ - [0:0]
    :KUBE-POSTROUTING - [0:0]
    :KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
    :KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]
    :KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
    :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
    :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
    :KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
    :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
    :KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
    :KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]
    :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
    :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
    -A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
    -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
    -A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp --dport 3002 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
    -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
    -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
    -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
    -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
    -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
    -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
    -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.33 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK
    -A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C
    -A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 loadbalancer IP" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C
    -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
    -A KUBE-EXT-4SW47YFZTEDKD3PK -m comment --comment "masquerade traffic for ns4/svc4:p80 external destinations" -j KUBE-MARK-MASQ
    -A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVC-4SW47YFZTEDKD3PK
    -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
    -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
    -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
    -A KUBE-EXT-NUKIZ6OKUXPJNT4C -m comment --comment "masquerade traffic for ns5/svc5:p80 external destinations" -j KUBE-MARK-MASQ
    -A KUBE-EXT-NUKIZ6OKUXPJNT4C -j KUBE-SVC-NUKIZ6OKUXPJNT4C
    -A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ
    -A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK
    -A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
    -A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"
    -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
    -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
    -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
    -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
    -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
    -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
    -A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
    -A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
    -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
    -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
    -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
    -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
    -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
    -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
    -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
    -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
    -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
    -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ
    -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ
    -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN
    -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.180.0.3:80" -j KUBE-SEP-OYPFS5VJICHGATKP
    -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
    -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
    COMMIT
    """)


def test_matches_upstream_overall_rules_vector():
    """Does the dump for ClusterIP, NodePort, LoadBalancer (Local and Cluster, with source ranges), external-IP
    and endpoint-less Services equal proxier_test.go's TestOverallIPTablesRulesWithMultipleServices, byte for byte?
    (svc5 has a healthCheckNodePort but policy Cluster, so kube-proxy ignores it.)"""
    got = iptables_save(NODE, UPSTREAM_SERVICES, UPSTREAM_SLICES, NODES, cluster_cidr="10.0.0.0/8")
    assert got == UPSTREAM_EXPECTED


@pytest.mark.parametrize("name,proto,endpoint,expected", [
    ("ns1/svc1:p80", "tcp", None, "KUBE-SVC-XPGD46QRK7WJZT7O"),
    ("ns2/svc2:p80", "TCP", None, "KUBE-SVC-GNZBNJ2PO5MGZ6GT"),
    ("ns1/svc1:p80", "tcp", "10.180.0.1:80", "KUBE-SEP-SXIVWICOYRO3J4NJ"),
    ("ns4/svc4:p80", "tcp", "10.180.0.5:80", "KUBE-SEP-C6EBXVWJJZMIWKLZ"),
])
def test_chain_names_match_upstream_hashes(name, proto, endpoint, expected):
    """Is a chain name the prefix plus base32(sha256(servicePortName + lower(protocol) [+ endpoint]))[:16]?"""
    prefix = expected.split("-")[0] + "-" + expected.split("-")[1]
    assert chain_name(prefix, name, proto, endpoint) == expected


def test_probabilities_are_one_over_remaining():
    """Is rule i of n given probability 1/(n-i) formatted "%0.10f", the last rule none?"""
    endpoints = [f"10.0.0.{i}" for i in range(1, 5)]
    out = iptables_save(NODE, [svc("ns", "web", "10.96.0.5")], [eps("ns", "web", endpoints)], NODES,
                        cluster_cidr="10.0.0.0/8")
    chain = parse_iptables_save(out)["nat"][chain_name("KUBE-SVC", "ns/web:p80", "tcp")]
    probs = [r.probability for r in chain if r.target.startswith("KUBE-SEP-")]
    assert probs == ["0.2500000000", "0.3333333333", "0.5000000000", None]
    assert compute_probability(3) == "0.3333333333"


def test_endpoint_rules_are_sorted_by_ip_port_string():
    """Are a chain's endpoint rules ordered by the string "IP:port" (so 10.0.0.10 before 10.0.0.2)?"""
    out = iptables_save(NODE, [svc("ns", "web", "10.96.0.5")], [eps("ns", "web", ["10.0.0.2", "10.0.0.10"])], NODES,
                        cluster_cidr="10.0.0.0/8")
    chain = parse_iptables_save(out)["nat"][chain_name("KUBE-SVC", "ns/web:p80", "tcp")]
    assert [r.comment for r in chain][1:] == ["ns/web:p80 -> 10.0.0.10:80", "ns/web:p80 -> 10.0.0.2:80"]


def test_session_affinity_rules_come_first():
    """With ClientIP affinity, does the KUBE-SVC chain check `recent` lists before the random rules, and does
    each KUBE-SEP chain `--set` its list?"""
    service = svc("ns", "web", "10.96.0.5", sessionAffinity="ClientIP",
                  sessionAffinityConfig={"clientIP": {"timeoutSeconds": 600}})
    out = parse_iptables_save(iptables_save(NODE, [service], [eps("ns", "web", ["10.0.0.1", "10.0.0.2"])], NODES,
                                            cluster_cidr="10.0.0.0/8"))["nat"]
    svc_rules = out[chain_name("KUBE-SVC", "ns/web:p80", "tcp")]
    sep1 = chain_name("KUBE-SEP", "ns/web:p80", "tcp", "10.0.0.1:80")
    assert str(svc_rules[1]) == (f'-A {svc_rules[1].chain} -m comment --comment "ns/web:p80 -> 10.0.0.1:80" '
                                 f"-m recent --name {sep1} --rcheck --seconds 600 --reap -j {sep1}")
    assert "--set" in out[sep1][1].args


def test_internal_local_without_local_endpoints_drops_in_filter():
    """internalTrafficPolicy Local on a node without local endpoints: is the cluster IP DROPped (not REJECTed)
    with "has no local endpoints", and no nat rule captures it?"""
    service = svc("ns", "web", "10.96.0.5", internalTrafficPolicy="Local")
    out = parse_iptables_save(iptables_save(NODE, [service], [eps("ns", "web", [{"addresses": ["10.0.0.1"],
                                                                                 "nodeName": "other"}])],
                                            NODES, cluster_cidr="10.0.0.0/8"))
    assert [(r.comment, r.target) for r in out["filter"]["KUBE-SERVICES"]] == [
        ("ns/web:p80 has no local endpoints", "DROP")]
    assert [r.target for r in out["nat"]["KUBE-SERVICES"]] == ["KUBE-NODEPORTS"]


def test_external_local_with_local_endpoint_uses_svl_chain():
    """externalTrafficPolicy Local with an endpoint on this node: does KUBE-EXT end by jumping to KUBE-SVL,
    which lists only the local endpoint?"""
    service = svc("ns", "web", "10.96.0.5", type_="NodePort", externalTrafficPolicy="Local",
                  ports=[{"name": "p80", "port": 80, "protocol": "TCP", "nodePort": 30080}])
    slices = [eps("ns", "web", [{"addresses": ["10.0.0.1"], "nodeName": NODE},
                                {"addresses": ["10.0.0.2"], "nodeName": "other"}])]
    nat = parse_iptables_save(iptables_save(NODE, [service], slices, NODES, cluster_cidr="10.0.0.0/8"))["nat"]
    ext = nat[chain_name("KUBE-EXT", "ns/web:p80", "tcp")]
    svl = chain_name("KUBE-SVL", "ns/web:p80", "tcp")
    assert ext[-1].target == svl and ext[-1].args == ("-j", svl)
    assert [r.comment for r in nat[svl]] == ["ns/web:p80 -> 10.0.0.1:80"]


def test_ipv6_proxier_brackets_endpoints():
    """Does the IPv6 proxier DNAT to "[IP]:port" and keep ::1 out of node ports?"""
    service = svc("ns", "web", "fd00::5")
    service["spec"]["ipFamilies"] = ["IPv6"]
    out = iptables_save(NODE, [service], [eps("ns", "web", ["fd00:10::1"], family="IPv6")], NODES,
                        cluster_cidr="fd00:10::/64", family="IPv6")
    assert "--to-destination [fd00:10::1]:80" in out
    assert "! -d ::1/128 -j KUBE-NODEPORTS" in out and "KUBE-FIREWALL" not in out


def test_large_cluster_drops_endpoint_comments():
    """Is a node of a 2,000-Service, 10,000-endpoint cluster rendered in large-cluster mode (no per-endpoint
    comments)? (Speed: benchmarks/bench_core.py.)"""
    services, slices = [], []
    for i in range(2000):
        services.append(svc("ns", f"s{i}", f"10.96.{i // 250}.{i % 250 + 1}"))
        slices.append(eps("ns", f"s{i}", [f"10.{1 + i // 250}.{i % 250}.{j}" for j in range(5)]))
    out = iptables_save(NODE, services, slices, NODES, cluster_cidr="10.0.0.0/8")
    assert out.count("-j DNAT") == 10000
    assert "-> 10.1.0.0:80" not in out


def test_parse_roundtrip_keeps_rule_order():
    """Does parse_iptables_save keep every chain (even empty ones) and the rules in order?"""
    parsed = parse_iptables_save(UPSTREAM_EXPECTED)
    assert list(parsed) == ["filter", "nat"]
    assert parsed["nat"]["KUBE-SERVICES"][-1].target == "KUBE-NODEPORTS"
    assert str(parsed["nat"]["KUBE-MARK-MASQ"][0]) == "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000"
    assert parsed["filter"]["KUBE-PROXY-FIREWALL"][0].target == "DROP"
