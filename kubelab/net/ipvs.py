"""What kube-proxy's IPVS mode programs on one node, printed as `ipvsadm -Ln` does.

From pkg/proxy/ipvs/proxier.go (syncProxyRules, syncEndpoint): one virtual server per cluster IP, external
IP, load-balancer VIP and node IP x nodePort, scheduler `--ipvs-scheduler` (rr), `persistent <timeout>`
for ClientIP affinity, real servers of weight 1 in masquerade (NAT) mode. Virtual servers exist even without
endpoints. Entries are sorted (protocol, address, port) where the kernel would list its hash order.
"""
from __future__ import annotations

import ipaddress

from .kubeproxy import (affinity_timeout, categorize_endpoints, cluster_ips, endpoint_string, external_ips,
                        external_policy_local, internal_policy_local, load_balancer_vips, node_zone, proxy_endpoints)
from .objects import name_of, namespace_of

__all__ = ["ipvs_virtual_servers", "ipvsadm"]

_HEADER = ("IP Virtual Server version 1.2.1 (size=4096)\n"
           "Prot LocalAddress:Port Scheduler Flags\n"
           "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn")


def _real_servers(cat, only_local: bool) -> tuple:
    """syncEndpoint: local endpoints when the policy is Local and some exist, else the cluster endpoints
    (IPVS keeps serving node-local pods even without local endpoints, kubernetes#97081)."""
    chosen = cat.local if only_local and cat.local else cat.cluster
    return tuple(sorted(str(e) for e in chosen))


def ipvs_virtual_servers(node_name: str, services, slices, nodes, *, scheduler: str = "rr",
                         family: str = "IPv4") -> list[tuple]:
    """[(protocol, "VIP:port", scheduler, persistent timeout or None, (real servers...))] for one node."""
    node_ips = [a["address"] for n in nodes if name_of(n) == node_name
                for a in (n.get("status") or {}).get("addresses") or []
                if a.get("type") == "InternalIP" and (ipaddress.ip_address(a["address"]).version == 6) == (family == "IPv6")]
    zone = node_zone(nodes, node_name)
    by_service: dict[tuple, list] = {}
    for s in slices:
        key = (namespace_of(s), ((s.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name"))
        by_service.setdefault(key, []).append(s)
    out = []
    for svc in services:
        cips = cluster_ips(svc, family)
        if not cips:
            continue
        timeout = affinity_timeout(svc)
        svc_slices = by_service.get((namespace_of(svc), name_of(svc)), [])
        for port in (svc.get("spec") or {}).get("ports") or []:
            proto = port.get("protocol", "TCP")
            cat = categorize_endpoints(proxy_endpoints(svc, port, svc_slices, family), svc, port, node_name, zone,
                                       family)
            internal = _real_servers(cat, internal_policy_local(svc))
            external = _real_servers(cat, external_policy_local(svc))
            out.append((proto, endpoint_string(cips[0], port["port"]), scheduler, timeout, internal))
            for ip in external_ips(svc, family) + load_balancer_vips(svc, family):
                out.append((proto, endpoint_string(ip, port["port"]), scheduler, timeout, external))
            if port.get("nodePort"):
                for ip in node_ips:
                    out.append((proto, endpoint_string(ip, port["nodePort"]), scheduler, timeout, external))
    return sorted(set(out), key=_vs_key)


def _vs_key(vs: tuple) -> tuple:
    host, _, port = vs[1].rpartition(":")
    ip = ipaddress.ip_address(host.strip("[]"))
    return (vs[0], ip.version, int(ip), int(port))


def ipvsadm(node_name: str, services, slices, nodes, *, scheduler: str = "rr", family: str = "IPv4") -> str:
    """`ipvsadm -Ln` on `node_name` in IPVS mode (trailing padding trimmed, connection counters 0)."""
    lines = [_HEADER]
    for proto, vip, sched, timeout, reals in ipvs_virtual_servers(node_name, services, slices, nodes,
                                                                  scheduler=scheduler, family=family):
        lines.append(f"{proto}  {vip} {sched}" + (f" persistent {timeout}" if timeout is not None else ""))
        for rs in reals:
            lines.append(f"  -> {rs:<28} {'Masq':<7} {1:<6} {0:<10} {0}")
    return "\n".join(lines) + "\n"
