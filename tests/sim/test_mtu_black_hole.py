"""Does a request's size meet the path MTU in the simulated data path: with Calico VXLAN and veth_mtu raised to the
underlay's 1500, do small requests between nodes work while large ones hang, with the trace naming the tunnel
where the packet was dropped (Calico docs, "Configure MTU": VXLAN needs underlay MTU - 50)?"""
import pytest

import kubelab
from kubelab.net.cni import cni_profile, largest_packet, mtu_black_hole

ECHO = "registry.k8s.io/gateway-api/echo-basic:v20240412-v1.0.0"


def _pod(name, node):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": ECHO,
                                                       "ports": [{"name": "http", "containerPort": 3000}]}]}}


def _lab(veth_mtu=None, calico_mode="vxlan"):
    lab = kubelab.connect("simulated", calico_mode=calico_mode)
    docs = [_pod("client", "node-1"), _pod("far", "node-2"), _pod("near", "node-1"),
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "far"},
             "spec": {"selector": {"app": "far"}, "ports": [{"port": 80, "targetPort": "http"}]}}]
    if veth_mtu is not None:
        docs.append({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": "calico-config", "namespace": "kube-system"}, "data": {"veth_mtu": veth_mtu}})
    lab.apply(docs)
    return lab


def _post(lab, url, size):
    return lab.http(url, src="default/client", method="POST", body="x" * size)


def test_the_rule_compares_the_largest_segment_with_the_tunnels_path_mtu():
    vxlan, bgp = cni_profile("calico", "vxlan"), cni_profile("calico", "bgp")
    assert largest_packet(100, 1500) == 140 and largest_packet(9000, 1500) == 1500
    assert mtu_black_hole(vxlan, 1450) is None                     # exactly the path MTU fits
    assert "path MTU 1450" in mtu_black_hole(vxlan, 1451)
    assert mtu_black_hole(bgp, 1500) is None                       # no encapsulation, no overhead


def test_a_right_mtu_carries_large_requests_across_nodes():
    lab = _lab()                                                   # Calico's own VXLAN MTU: 1450
    assert _post(lab, "http://far/upload", 8000).status == 200
    assert lab.trace("default/client", "far.default.svc.cluster.local", 80).mtu == 1450


def test_a_too_large_veth_mtu_black_holes_large_requests_only():
    lab = _lab("1500")
    assert _post(lab, "http://far/upload", 500).status == 200      # small: one short packet, fits
    hung = _post(lab, "http://far/upload", 8000)
    assert hung.status == 0
    assert "node node-1 vxlan.calico: dropped: a 1500-byte packet (DF set)" in hung.reason
    assert hung.hops[-1].device == "vxlan.calico" and "fragmentation needed" in hung.hops[-1].action
    assert lab.trace("default/client", "far.default.svc.cluster.local", 80).mtu == 1500


@pytest.mark.parametrize("veth_mtu, calico_mode, url", [
    ("1500", "vxlan", "http://near:3000/upload"),                   # same node: no tunnel on the way
    ("1500", "bgp", "http://far/upload"),                          # routed, not encapsulated
    ("1400", "vxlan", "http://far/upload"),                        # below the path MTU: wasteful but safe
])
def test_no_black_hole_without_a_tunnel_or_with_room_to_spare(veth_mtu, calico_mode, url):
    lab = _lab(veth_mtu, calico_mode)
    if "near" in url:
        url = f"http://{lab.get('Pod', 'near')['status']['podIP']}:3000/upload"
    assert _post(lab, url, 8000).status == 200
