"""Reachability from outside the cluster: pod IPs only where routed; loadBalancerSourceRanges enforced."""
from __future__ import annotations

import pytest

import kubelab

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
       "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}}
LB = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
      "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}],
               "loadBalancerSourceRanges": ["203.0.113.0/28"]}}


def _pod_ip(lab):
    return lab.get("Pod", "web")["status"]["podIP"]


@pytest.mark.parametrize("cni,mode", [("flannel", "bgp"), ("calico", "vxlan"), ("calico", "ipip"), ("weave", "bgp")])
def test_overlay_pod_ips_have_no_route_from_outside(cni, mode):
    """With an overlay, does a client outside the cluster get "no route to host" for a pod IP?"""
    lab = kubelab.connect(cni=cni, calico_mode=mode)
    lab.apply(POD)
    verdict = lab.reach(None, _pod_ip(lab), 80)
    assert not verdict and "no route to host" in verdict.reason and "overlay" in verdict.reason


def test_routed_calico_pod_ips_are_reachable_from_outside():
    """Calico BGP (routes peered into the network) lets an outside client reach a pod IP directly."""
    lab = kubelab.connect(cni="calico", calico_mode="bgp")
    lab.apply(POD)
    assert lab.reach(None, _pod_ip(lab), 80)


def test_routability_can_be_switched_off_for_bgp_without_peering():
    """pods_routable_from_outside=False: BGP only among the nodes, the outside has no route."""
    lab = kubelab.connect(cni="calico", pods_routable_from_outside=False)
    lab.apply(POD)
    assert "no route to host" in lab.reach(None, _pod_ip(lab), 80).reason


def test_load_balancer_source_ranges_drop_other_clients():
    """A client outside loadBalancerSourceRanges is dropped; one inside gets through."""
    lab = kubelab.connect()
    lab.apply([POD, LB])
    lb_ip = lab.get("Service", "web")["status"]["loadBalancer"]["ingress"][0]["ip"]
    allowed = lab.reach("203.0.113.5", lb_ip, 80)
    denied = lab.reach("198.51.100.7", lb_ip, 80)
    assert allowed and not denied
    assert "loadBalancerSourceRanges" in denied.reason
    # the default outside client 203.0.113.10 is in 203.0.113.0/28
    assert lab.reach(None, lb_ip, 80)


def test_load_balancer_source_ranges_do_not_guard_the_node_port():
    """NodePorts are not subject to loadBalancerSourceRanges (kube-proxy documents it)."""
    lab = kubelab.connect()
    lab.apply([POD, LB])
    node_port = lab.get("Service", "web")["spec"]["ports"][0]["nodePort"]
    node_ip = lab.get("Node", "node-1", None)["status"]["addresses"][0]["address"]
    assert lab.reach("198.51.100.7", node_ip, node_port)
