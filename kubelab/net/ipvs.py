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


# --- the iptables rules and ipsets IPVS mode programs beside the virtual servers -------------------------

_SET_COMMENTS = {  # ipsetInfo in pkg/proxy/ipvs/proxier.go: (type, comment)
    "KUBE-CLUSTER-IP": ("hash:ip,port", "Kubernetes service cluster ip + port for masquerade purpose"),
    "KUBE-LOOP-BACK": ("hash:ip,port,ip", "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"),
    "KUBE-EXTERNAL-IP": ("hash:ip,port", "Kubernetes service external ip + port for masquerade and filter purpose"),
    "KUBE-EXTERNAL-IP-LOCAL": ("hash:ip,port", "Kubernetes service external ip + port with externalTrafficPolicy=local"),
    "KUBE-LOAD-BALANCER": ("hash:ip,port", "Kubernetes service lb portal"),
    "KUBE-LOAD-BALANCER-FW": ("hash:ip,port", "Kubernetes service load balancer ip + port for load balancer with sourceRange"),
    "KUBE-LOAD-BALANCER-LOCAL": ("hash:ip,port", "Kubernetes service load balancer ip + port with externalTrafficPolicy=local"),
    "KUBE-LOAD-BALANCER-SOURCE-IP": ("hash:ip,port,ip", "Kubernetes service load balancer ip + port + source IP for packet filter purpose"),
    "KUBE-LOAD-BALANCER-SOURCE-CIDR": ("hash:ip,port,net", "Kubernetes service load balancer ip + port + source cidr for packet filter purpose"),
    "KUBE-NODE-PORT-TCP": ("bitmap:port", "Kubernetes nodeport TCP port for masquerade purpose"),
    "KUBE-NODE-PORT-LOCAL-TCP": ("bitmap:port", "Kubernetes nodeport TCP port with externalTrafficPolicy=local"),
    "KUBE-NODE-PORT-UDP": ("bitmap:port", "Kubernetes nodeport UDP port for masquerade purpose"),
    "KUBE-NODE-PORT-LOCAL-UDP": ("bitmap:port", "Kubernetes nodeport UDP port with externalTrafficPolicy=local"),
    "KUBE-HEALTH-CHECK-NODE-PORT": ("bitmap:port", "Kubernetes health check node port"),
    "KUBE-IPVS-IPS": ("hash:ip", "IPVS service ip"),
}


def ipvs_ipsets(node_name: str, services, slices, nodes, *, family: str = "IPv4") -> dict[str, list[str]]:
    """The members kube-proxy (IPVS mode) puts in each ipset on `node_name` (syncService/syncEndpoint)."""
    from .kubeproxy import categorize_endpoints as categorize, needs_health_check

    sets: dict[str, set] = {name: set() for name in _SET_COMMENTS}
    zone = node_zone(nodes, node_name)
    by_service: dict[tuple, list] = {}
    for s in slices:
        by_service.setdefault((namespace_of(s), ((s.get("metadata") or {}).get("labels") or {})
                               .get("kubernetes.io/service-name")), []).append(s)
    for svc in services:
        cips = cluster_ips(svc, family)
        if not cips:
            continue
        spec = svc.get("spec") or {}
        local = external_policy_local(svc)
        for port in spec.get("ports") or []:
            proto = port.get("protocol", "TCP").lower()
            entry = f"{proto}:{port['port']}"
            sets["KUBE-CLUSTER-IP"].add(f"{cips[0]},{entry}")
            sets["KUBE-IPVS-IPS"].add(cips[0])
            cat = categorize(proxy_endpoints(svc, port, by_service.get((namespace_of(svc), name_of(svc)), []), family),
                             svc, port, node_name, zone, family)
            for ep in cat.all_reachable:
                if ep.is_local(node_name):
                    sets["KUBE-LOOP-BACK"].add(f"{ep.ip},{proto}:{ep.port},{ep.ip}")
            for ip in external_ips(svc, family):
                sets["KUBE-EXTERNAL-IP-LOCAL" if local else "KUBE-EXTERNAL-IP"].add(f"{ip},{entry}")
                sets["KUBE-IPVS-IPS"].add(ip)
            ranges = [r.strip() for r in spec.get("loadBalancerSourceRanges") or [] if r.strip()]
            for ip in load_balancer_vips(svc, family):
                sets["KUBE-LOAD-BALANCER"].add(f"{ip},{entry}")
                sets["KUBE-IPVS-IPS"].add(ip)
                if local:
                    sets["KUBE-LOAD-BALANCER-LOCAL"].add(f"{ip},{entry}")
                if ranges:
                    sets["KUBE-LOAD-BALANCER-FW"].add(f"{ip},{entry}")
                    for cidr in ranges:
                        sets["KUBE-LOAD-BALANCER-SOURCE-CIDR"].add(
                            f"{ip},{entry},{ipaddress.ip_network(cidr, strict=False)}")
            if port.get("nodePort") and proto in ("tcp", "udp"):
                sets[f"KUBE-NODE-PORT-{proto.upper()}"].add(str(port["nodePort"]))
                if local:
                    sets[f"KUBE-NODE-PORT-LOCAL-{proto.upper()}"].add(str(port["nodePort"]))
        if needs_health_check(svc):
            sets["KUBE-HEALTH-CHECK-NODE-PORT"].add(str(spec["healthCheckNodePort"]))
    for n in nodes:
        if name_of(n) == node_name:
            for a in (n.get("status") or {}).get("addresses") or []:
                if a.get("type") == "InternalIP" and (":" in a["address"]) == (family == "IPv6"):
                    sets["KUBE-IPVS-IPS"].add(a["address"])
    return {name: sorted(members, key=_member_key) for name, members in sets.items()}


def _member_key(member: str) -> tuple:
    head = member.split(",")[0]
    try:
        ip = ipaddress.ip_address(head)
        return (0, ip.version, int(ip), member)
    except ValueError:
        return (1, 0, int(head) if head.isdigit() else 0, member)


def ipset_list(node_name: str, services, slices, nodes, *, family: str = "IPv4") -> str:
    """`ipset list` on `node_name` in IPVS mode: every kube-proxy set with its members (sizes left out)."""
    out = []
    for name, members in ipvs_ipsets(node_name, services, slices, nodes, family=family).items():
        kind, comment = _SET_COMMENTS[name]
        header = "range 0-65535" if kind == "bitmap:port" else f"family {'inet6' if family == 'IPv6' else 'inet'} hashsize 1024 maxelem 65536"
        out.append(f"Name: {name}\nType: {kind}\nHeader: {header} comment\n"
                   f"Number of entries: {len(members)}\nMembers:\n"
                   + "".join(f'{m} comment "{comment}"\n' for m in members))
    return "\n".join(out)


def ipvs_iptables_save(node_name: str, services, slices, nodes, *, cluster_cidr: str, family: str = "IPv4") -> str:
    """The filter and nat rules kube-proxy (IPVS mode) writes (writeIptablesRules): a fixed number of rules that
    match the ipsets above: no KUBE-SVC/KUBE-SEP chains, IPVS itself does the DNAT."""
    sets = ipvs_ipsets(node_name, services, slices, nodes, family=family)
    local_cidr = next((c.strip() for c in cluster_cidr.split(",") if c.strip()
                       and (":" in c) == (family == "IPv6")), None)
    nat: dict[str, list[str]] = {c: [] for c in ("KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT",
                                                 "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ")}
    flt: dict[str, list[str]] = {c: [] for c in ("KUBE-FORWARD", "KUBE-NODE-PORT", "KUBE-PROXY-FIREWALL",
                                                 "KUBE-SOURCE-RANGES-FIREWALL", "KUBE-IPVS-FILTER",
                                                 "KUBE-IPVS-OUT-FILTER")}

    def add(table, chain, *args):
        table[chain].append(" ".join(("-A", chain) + args))

    def comment(name):
        return ("-m", "comment", "--comment", f'"{_SET_COMMENTS[name][1]}"')

    if sets["KUBE-LOAD-BALANCER"]:
        add(nat, "KUBE-SERVICES", *comment("KUBE-LOAD-BALANCER"), "-m", "set", "--match-set", "KUBE-LOAD-BALANCER",
            "dst,dst", "-j", "KUBE-LOAD-BALANCER")
        if sets["KUBE-LOAD-BALANCER-LOCAL"]:
            add(nat, "KUBE-LOAD-BALANCER", *comment("KUBE-LOAD-BALANCER-LOCAL"), "-m", "set", "--match-set",
                "KUBE-LOAD-BALANCER-LOCAL", "dst,dst", "-j", "RETURN")
        add(nat, "KUBE-LOAD-BALANCER", "-j", "KUBE-MARK-MASQ")
    if sets["KUBE-LOAD-BALANCER-FW"]:
        add(flt, "KUBE-PROXY-FIREWALL", *comment("KUBE-LOAD-BALANCER-FW"), "-m", "set", "--match-set",
            "KUBE-LOAD-BALANCER-FW", "dst,dst", "-j", "KUBE-SOURCE-RANGES-FIREWALL")
        add(flt, "KUBE-SOURCE-RANGES-FIREWALL", *comment("KUBE-LOAD-BALANCER-SOURCE-CIDR"), "-m", "set",
            "--match-set", "KUBE-LOAD-BALANCER-SOURCE-CIDR", "dst,dst,src", "-j", "RETURN")
        add(flt, "KUBE-SOURCE-RANGES-FIREWALL", "-j", "DROP")
    for proto in ("TCP", "UDP"):
        if sets[f"KUBE-NODE-PORT-{proto}"]:
            if sets[f"KUBE-NODE-PORT-LOCAL-{proto}"]:
                add(nat, "KUBE-NODE-PORT", "-p", proto.lower(), *comment(f"KUBE-NODE-PORT-LOCAL-{proto}"), "-m", "set",
                    "--match-set", f"KUBE-NODE-PORT-LOCAL-{proto}", "dst", "-j", "RETURN")
            add(nat, "KUBE-NODE-PORT", "-p", proto.lower(), *comment(f"KUBE-NODE-PORT-{proto}"), "-m", "set",
                "--match-set", f"KUBE-NODE-PORT-{proto}", "dst", "-j", "KUBE-MARK-MASQ")
    if sets["KUBE-HEALTH-CHECK-NODE-PORT"]:
        add(flt, "KUBE-NODE-PORT", *comment("KUBE-HEALTH-CHECK-NODE-PORT"), "-m", "set", "--match-set",
            "KUBE-HEALTH-CHECK-NODE-PORT", "dst", "-j", "ACCEPT")
    if sets["KUBE-EXTERNAL-IP"]:
        add(nat, "KUBE-SERVICES", *comment("KUBE-EXTERNAL-IP"), "-m", "set", "--match-set", "KUBE-EXTERNAL-IP",
            "dst,dst", "-j", "KUBE-MARK-MASQ")
        add(nat, "KUBE-SERVICES", *comment("KUBE-EXTERNAL-IP"), "-m", "set", "--match-set", "KUBE-EXTERNAL-IP",
            "dst,dst", "-m", "addrtype", "!", "--src-type", "LOCAL", "-j", "ACCEPT")
    if sets["KUBE-CLUSTER-IP"]:
        masq = ("!", "-s", local_cidr) if local_cidr else ()
        add(nat, "KUBE-SERVICES", *comment("KUBE-CLUSTER-IP"), "-m", "set", "--match-set", "KUBE-CLUSTER-IP",
            "dst,dst", *masq, "-j", "KUBE-MARK-MASQ")
    add(nat, "KUBE-SERVICES", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "KUBE-NODE-PORT")
    add(nat, "KUBE-SERVICES", "-m", "set", "--match-set", "KUBE-CLUSTER-IP", "dst,dst", "-j", "ACCEPT")
    add(nat, "KUBE-SERVICES", "-m", "set", "--match-set", "KUBE-LOAD-BALANCER", "dst,dst", "-j", "ACCEPT")
    add(nat, "KUBE-POSTROUTING", *comment("KUBE-LOOP-BACK"), "-m", "set", "--match-set", "KUBE-LOOP-BACK",
        "dst,dst,src", "-j", "MASQUERADE")
    add(nat, "KUBE-POSTROUTING", "-m", "mark", "!", "--mark", "0x4000/0x4000", "-j", "RETURN")
    add(nat, "KUBE-POSTROUTING", "-j", "MARK", "--xor-mark", "0x4000")
    add(nat, "KUBE-POSTROUTING", "-m", "comment", "--comment", '"kubernetes service traffic requiring SNAT"',
        "-j", "MASQUERADE")
    add(nat, "KUBE-MARK-MASQ", "-j", "MARK", "--or-mark", "0x4000")
    add(flt, "KUBE-FORWARD", "-m", "comment", "--comment", '"kubernetes forwarding rules"', "-m", "mark", "--mark",
        "0x4000/0x4000", "-j", "ACCEPT")
    add(flt, "KUBE-FORWARD", "-m", "comment", "--comment", '"kubernetes forwarding conntrack rule"', "-m",
        "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")
    for name in ("KUBE-LOAD-BALANCER", "KUBE-CLUSTER-IP", "KUBE-EXTERNAL-IP", "KUBE-EXTERNAL-IP-LOCAL",
                 "KUBE-HEALTH-CHECK-NODE-PORT"):
        add(flt, "KUBE-IPVS-FILTER", "-m", "set", "--match-set", name,
            "dst" if name == "KUBE-HEALTH-CHECK-NODE-PORT" else "dst,dst", "-j", "RETURN")
    add(flt, "KUBE-IPVS-FILTER", "-m", "conntrack", "--ctstate", "NEW", "-m", "set", "--match-set",
        "KUBE-IPVS-IPS", "dst", "-j", "REJECT")
    lines = []
    for table, chains in (("filter", flt), ("nat", nat)):
        lines.append(f"*{table}")
        lines += [f":{c} - [0:0]" for c in chains]
        for rules in chains.values():
            lines += rules
        lines.append("COMMIT")
    return "\n".join(lines) + "\n"
