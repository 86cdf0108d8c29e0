"""The three kube-proxy modes program distinct things: iptables chains, IPVS virtual servers + ipsets, nftables."""
from __future__ import annotations

import pytest

import kubelab
from kubelab.course.exercises._support import web_deployment, web_service

WEB = [web_deployment(replicas=3, port=8080), web_service(target=8080)]


def _lab(mode):
    lab = kubelab.connect(proxy_mode=mode)
    lab.apply(WEB)
    return lab


def test_iptables_mode_has_chains_and_no_virtual_servers():
    """In iptables mode: KUBE-SVC/KUBE-SEP chains, no IPVS virtual servers, no nftables table."""
    lab = _lab("iptables")
    assert "KUBE-SVC-" in lab.iptables_save("node-1") and "KUBE-SEP-" in lab.iptables_save("node-1")
    assert "TCP " not in lab.ipvsadm("node-1") and lab.ipvsadm("node-1").startswith("IP Virtual Server")
    assert lab.nft_list_ruleset("node-1") == ""


def test_ipvs_mode_matches_ipsets_and_has_no_endpoint_chains():
    """In IPVS mode: virtual servers, KUBE-SERVICES matches the KUBE-CLUSTER-IP ipset, no per-endpoint DNAT."""
    lab = _lab("ipvs")
    vip = lab.get("Service", "web")["spec"]["clusterIP"]
    rules = lab.iptables_save("node-1")
    assert "--match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ" in rules
    assert "KUBE-SVC-" not in rules and "KUBE-SEP-" not in rules and "DNAT" not in rules
    assert f"TCP  {vip}:80 rr" in lab.ipvsadm("node-1")
    assert f"{vip},tcp:80" in lab.ipset_list("node-1")
    assert lab.nft_list_ruleset("node-1") == ""


def test_nftables_mode_has_table_and_no_iptables_chains():
    """In nftables mode: `table ip kube-proxy` with the Service in its map, iptables without kube-proxy chains."""
    lab = _lab("nftables")
    vip = lab.get("Service", "web")["spec"]["clusterIP"]
    text = lab.nft_list_ruleset("node-1")
    assert text.startswith("table ip kube-proxy {")
    assert f"{vip} . tcp . 80 : goto service-" in text and "numgen random mod 3 vmap" in text
    assert "KUBE-" not in lab.iptables_save("node-1")
    assert "TCP " not in lab.ipvsadm("node-1")


def test_nftables_dual_stack_has_ip6_table():
    """A dual-stack nftables cluster programs both `table ip` and `table ip6 kube-proxy`."""
    lab = kubelab.connect(proxy_mode="nftables", ip_families=("IPv4", "IPv6"))
    text = lab.nft_list_ruleset("node-1")
    assert "table ip kube-proxy {" in text and "table ip6 kube-proxy {" in text


def test_load_balancer_source_ranges_appear_in_each_modes_rules():
    """loadBalancerSourceRanges: the FW chain (iptables), the firewall map (nftables), the FW ipset (IPVS)."""
    service = web_service(target=8080)
    service["spec"].update(type="LoadBalancer", loadBalancerSourceRanges=["203.0.113.0/25"])
    lb = [web_deployment(replicas=3, port=8080), service]
    for mode, needle in (("iptables", "-s 203.0.113.0/25 -j KUBE-EXT-"),
                         ("nftables", "ip saddr != { 203.0.113.0/25 } drop"),
                         ("ipvs", "KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN")):
        lab = kubelab.connect(proxy_mode=mode)
        lab.apply(lb)
        text = lab.nft_list_ruleset("node-1") if mode == "nftables" else lab.iptables_save("node-1")
        assert needle in text, mode


@pytest.mark.parametrize("mode", ["iptables", "ipvs", "nftables"])
def test_every_mode_still_forwards(mode):
    """Each mode steers a pod's connection to the Service onto one of its endpoints."""
    lab = _lab(mode)
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "c"},
               "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    verdict = lab.reach("default/c", "web", 80)
    assert verdict and verdict.endpoint in verdict.candidates and len(verdict.candidates) == 3
