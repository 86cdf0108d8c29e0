"""kube-proxy nftables mode: chain names and the rules of one node, against pkg/proxy/nftables/proxier_test.go."""
from __future__ import annotations

import copy

from kubelab.net.nftables import nft_chain_base, nft_endpoint_chain_base, nft_list_ruleset, nft_ruleset

from .test_iptables import NODE, NODES, UPSTREAM_SERVICES, UPSTREAM_SLICES, eps, svc


def _services():
    services = copy.deepcopy(UPSTREAM_SERVICES)
    services[4]["spec"]["sessionAffinity"] = "ClientIP"     # svc5 has 3h ClientIP affinity upstream
    return services


def _rules():
    return nft_ruleset(NODE, _services(), UPSTREAM_SLICES, NODES, cluster_cidr="10.0.0.0/8",
                       service_cidr="172.30.0.0/16")


def test_chain_names_match_upstream_hashes():
    """Are service and endpoint chain names hashAndTruncate's (values from TestOverallNFTablesRules)?"""
    assert nft_chain_base("ns1", "svc1", "TCP", "p80") == "ULMVA6XW-ns1/svc1/tcp/p80"
    assert nft_chain_base("ns5", "svc5", "tcp", "p80") == "HVFWP5L3-ns5/svc5/tcp/p80"
    assert nft_endpoint_chain_base("ns1", "svc1", "tcp", "p80", "10.180.0.1:80") == "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"
    assert nft_endpoint_chain_base("ns4", "svc4", "tcp", "p80", "10.180.0.5:80") == "5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80"


def test_overall_rules_have_upstreams_service_dispatch():
    """Does the ruleset hold the maps, service chains and endpoint chains upstream's expected output has?"""
    text = _rules()
    assert text.startswith("table ip kube-proxy {\n\tcomment \"rules for kube-proxy\"")
    for line in [
        "172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80",
        "1.2.3.4 . tcp . 80 : goto external-42NFTM6N-ns2/svc2/tcp/p80",
        "tcp . 3003 : goto external-4AT6LBPK-ns3/svc3/tcp/p80",
        "ip daddr 172.30.0.41 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade",
        "numgen random mod 1 vmap { 0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 }",
        "numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80, "
        "1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }",
        "meta l4proto tcp dnat to 10.180.0.1:80",
        'ip saddr 10.0.0.0/8 goto service-42NFTM6N-ns2/svc2/tcp/p80 comment "short-circuit pod traffic"',
        "ip saddr != { 203.0.113.0/25 } drop",
        "5.6.7.8 . tcp . 80 : goto firewall-HVFWP5L3-ns5/svc5/tcp/p80",
        'tcp . 3001 comment "ns2/svc2:p80" : drop',
        '172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain',
        "ip saddr @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80",
        "update @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { ip saddr }",
        "ip daddr { 172.30.0.0/16 } drop comment \"Drop traffic to unallocated ClusterIPs\"",
    ]:
        assert line in text, line
    # no endpoints: no service chain for svc6, only the reject element
    assert "service-" + nft_chain_base("ns6", "svc6", "tcp", "p80") + " {" not in text


def test_numgen_covers_every_ready_endpoint_once():
    """With n ready endpoints, is there one `numgen random mod n` arm per endpoint and no iptables probabilities?"""
    ips = [f"10.0.0.{i}" for i in range(1, 6)]
    text = nft_ruleset(NODE, [svc("ns", "web", "10.96.0.5")], [eps("ns", "web", ips)], NODES,
                       cluster_cidr="10.0.0.0/8")
    line = next(ln for ln in text.splitlines() if "numgen" in ln)
    assert "numgen random mod 5" in line and all(f"__{ip}/80" in line for ip in ips)
    assert "probability" not in text


def test_headless_and_external_name_are_not_proxied():
    """Do headless and ExternalName Services get no map elements?"""
    headless = svc("ns", "h", "None")
    external = {"metadata": {"name": "x", "namespace": "ns"}, "spec": {"type": "ExternalName", "externalName": "a.b"}}
    text = nft_ruleset(NODE, [headless, external], [eps("ns", "h", ["10.0.0.1"])], NODES, cluster_cidr="10.0.0.0/8")
    assert "ns/h/" not in text and "ns/x/" not in text


def test_dual_stack_prints_one_table_per_family():
    """Does a dual-stack node get both `table ip kube-proxy` and `table ip6 kube-proxy`, with ip6 matches?"""
    v6 = svc("ns", "web6", "fd00:96::5")
    nodes = [{"metadata": {"name": NODE}, "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.2"},
                                                                    {"type": "InternalIP", "address": "fd00::2"}]}}]
    text = nft_list_ruleset(NODE, [v6], [eps("ns", "web6", ["fd00:10::7"], family="IPv6")], nodes,
                            cluster_cidr="10.0.0.0/8,fd00:10::/64", families=("IPv4", "IPv6"))
    assert "table ip kube-proxy {" in text and "table ip6 kube-proxy {" in text
    assert "__fd00.10..7/80" in text and "dnat to [fd00:10::7]:80" in text
    assert "ip6 saddr != fd00:10::/64 jump mark-for-masquerade" in text
