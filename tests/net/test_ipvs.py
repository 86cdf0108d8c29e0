"""kube-proxy IPVS mode as `ipvsadm -Ln` prints it."""
from __future__ import annotations

from kubelab.net.ipvs import ipvs_virtual_servers, ipvsadm

NODES = [{"metadata": {"name": "node-a"}, "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.10"}]}}]


def service(**spec):
    return {"metadata": {"name": "web", "namespace": "default"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.50", "ipFamilies": ["IPv4"],
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP"}], **spec}}


def slices(*nodes_of_endpoints):
    return [{"metadata": {"name": "web-x", "namespace": "default", "labels": {"kubernetes.io/service-name": "web"}},
             "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
             "endpoints": [{"addresses": [f"10.244.0.{i + 1}"], "nodeName": n} for i, n in enumerate(nodes_of_endpoints)]}]


def test_cluster_ip_virtual_server_lists_real_servers():
    """Does a ClusterIP Service print as one rr virtual server with Masq real servers of weight 1?"""
    assert ipvsadm("node-a", [service()], slices("node-a", "node-b"), NODES) == (
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        "TCP  10.96.0.50:80 rr\n"
        "  -> 10.244.0.1:8080              Masq    1      0          0\n"
        "  -> 10.244.0.2:8080              Masq    1      0          0\n")


def test_affinity_is_persistent_and_scheduler_is_configurable():
    """Does ClientIP affinity show as `persistent <timeout>` and --ipvs-scheduler as the scheduler name?"""
    out = ipvsadm("node-a", [service(sessionAffinity="ClientIP")], slices("node-a"), NODES, scheduler="lc")
    assert "TCP  10.96.0.50:80 lc persistent 10800\n" in out


def test_node_port_on_each_node_ip_and_local_policy():
    """Does a NodePort get a virtual server per node IP, with only local endpoints under Local policy, and
    all endpoints when the node has none of its own?"""
    svc = service(type="NodePort", externalTrafficPolicy="Local",
                  ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}])
    vs = {v[1]: v[4] for v in ipvs_virtual_servers("node-a", [svc], slices("node-a", "node-b"), NODES)}
    assert vs == {"10.96.0.50:80": ("10.244.0.1:8080", "10.244.0.2:8080"), "192.168.0.10:30080": ("10.244.0.1:8080",)}
    vs = {v[1]: v[4] for v in ipvs_virtual_servers("node-a", [svc], slices("node-b"), NODES)}
    assert vs["192.168.0.10:30080"] == ("10.244.0.1:8080",)


def test_virtual_server_exists_without_endpoints_and_headless_is_skipped():
    """Is a Service without endpoints still a virtual server (no real servers), and a headless one absent?"""
    out = ipvsadm("node-a", [service(), {**service(), "metadata": {"name": "h", "namespace": "default"},
                                          "spec": {**service()["spec"], "clusterIP": "None"}}], [], NODES)
    assert out.endswith("TCP  10.96.0.50:80 rr\n") and "None" not in out
