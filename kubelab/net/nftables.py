"""What kube-proxy's nftables mode (GA since v1.33) programs on one node, printed as `nft list ruleset` does.

Follows pkg/proxy/nftables/proxier.go (setupNFTables, syncProxyRules, writeServiceToEndpointRules): one
table per IP family (`table ip kube-proxy`, `table ip6 kube-proxy`), the `service-ips` / `service-nodeports`
verdict maps that dispatch to per-service chains, endpoint chains chosen with `numgen random mod n`, the
`no-endpoint-*` maps that reject or drop, and the `firewall-ips` map for loadBalancerSourceRanges.
kube-proxy's defaults are assumed: masquerade bit 0x4000, --detect-local-mode ClusterCIDR, and
--nodeport-addresses `primary` (the nftables mode's default: node ports answer on the node's own IP only).
Sets and maps are printed before chains, each group sorted by name, so the text is deterministic.
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
from functools import lru_cache

from .kubeproxy import (affinity_timeout, categorize_endpoints, cluster_ips, endpoint_string, external_ips,
                        external_policy_local, externally_accessible, internal_policy_local, load_balancer_vips,
                        node_ip, node_zone, proxy_endpoints, service_port_name, uses_cluster_endpoints,
                        uses_local_endpoints)
from .objects import labels_of, name_of, namespace_of

__all__ = ["nft_chain_base", "nft_endpoint_chain_base", "nft_ruleset", "nft_list_ruleset"]

MASQ_MARK = "0x4000"
_CHAIN_BASE_MAX = 256 - 16   # knftables.NameLengthMax - chainNamePrefixLengthMax

# (name, type, hook, priority as nft prints it): nftablesBaseChains
_BASE_CHAINS = (
    ("filter-prerouting", "filter", "prerouting", "dstnat - 10"),
    ("filter-input", "filter", "input", "dstnat - 10"),
    ("filter-forward", "filter", "forward", "dstnat - 10"),
    ("filter-output", "filter", "output", "dstnat - 10"),
    ("filter-output-post-dnat", "filter", "output", "dstnat + 10"),
    ("nat-prerouting", "nat", "prerouting", "dstnat"),
    ("nat-output", "nat", "output", "dstnat"),
    ("nat-postrouting", "nat", "postrouting", "srcnat"),
)
# (destination chain, source chain, extra match): nftablesJumpChains, in kube-proxy's order
_JUMPS = (
    ("nodeport-endpoints-check", "filter-input", "ct state new"),
    ("service-endpoints-check", "filter-input", "ct state new"),
    ("service-endpoints-check", "filter-forward", "ct state new"),
    ("service-endpoints-check", "filter-output", "ct state new"),
    ("firewall-check", "filter-prerouting", "ct state new"),
    ("firewall-check", "filter-output", "ct state new"),
    ("services", "nat-output", ""),
    ("services", "nat-prerouting", ""),
    ("masquerading", "nat-postrouting", ""),
    ("cluster-ips-check", "filter-forward", "ct state new"),
    ("cluster-ips-check", "filter-output-post-dnat", "ct state new"),
)


@lru_cache(maxsize=65536)
def _hash_and_truncate(name: str) -> str:
    """hashAndTruncate: the first 8 base32 characters of sha256(name), "-", name (cut to 240 with "...")."""
    name = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()[:8] + "-" + name
    return name if len(name) <= _CHAIN_BASE_MAX else name[:_CHAIN_BASE_MAX - 3] + "..."


def nft_chain_base(namespace: str, name: str, protocol: str, port_name: str) -> str:
    """servicePortChainNameBase: "HASH-namespace/name/protocol/portName", e.g. ULMVA6XW-ns1/svc1/tcp/p80."""
    return _hash_and_truncate(f"{namespace}/{name}/{protocol.lower()}/{port_name}")


def nft_endpoint_chain_base(namespace: str, name: str, protocol: str, port_name: str, endpoint: str) -> str:
    """servicePortEndpointChainNameBase: "...__IP/port" with an IPv6 address's colons turned into dots."""
    host, _, port = endpoint.rpartition(":")
    host = host.strip("[]").replace(":", ".")
    return _hash_and_truncate(f"{namespace}/{name}/{protocol.lower()}/{port_name}__{host}/{port}")


class _Table:
    """One family's table: sets/maps with their elements, chains with their rules (insertion order)."""

    def __init__(self, family: str):
        self.family = family
        self.sets: dict[str, dict] = {}
        self.chains: dict[str, dict] = {}

    def add_set(self, name: str, kind: str, type_: str, comment: str | None = None, extra: tuple = ()) -> None:
        self.sets.setdefault(name, {"kind": kind, "type": type_, "comment": comment, "extra": extra,
                                    "elements": []})

    def element(self, name: str, key: str, value: str | None = None, comment: str | None = None) -> None:
        text = key + (f' comment "{comment}"' if comment else "") + (f" : {value}" if value else "")
        self.sets[name]["elements"].append(text)

    def chain(self, name: str, base: tuple | None = None, comment: str | None = None) -> None:
        self.chains.setdefault(name, {"base": base, "comment": comment, "rules": []})

    def rule(self, chain: str, text: str, comment: str | None = None) -> None:
        self.chain(chain)
        self.chains[chain]["rules"].append(text + (f' comment "{comment}"' if comment else ""))

    def render(self) -> list[str]:
        lines = [f"table {self.family} kube-proxy {{", '\tcomment "rules for kube-proxy"']
        for name in sorted(self.sets):
            s = self.sets[name]
            lines.append(f"\n\t{s['kind']} {name} {{")
            lines.append(f"\t\ttype {s['type']}")
            lines += [f"\t\t{e}" for e in s["extra"]]
            if s["comment"]:
                lines.append(f'\t\tcomment "{s["comment"]}"')
            elements = sorted(set(s["elements"]), key=_element_key)
            if elements:
                head = "\t\telements = { "
                lines.append(head + (",\n\t\t\t     ".join(elements)) + " }")
            lines.append("\t}")
        base_names = [c[0] for c in _BASE_CHAINS]
        order = [c for c in base_names if c in self.chains] + sorted(c for c in self.chains if c not in base_names)
        for name in order:
            c = self.chains[name]
            lines.append(f"\n\tchain {name} {{")
            if c["base"]:
                type_, hook, priority = c["base"]
                lines.append(f"\t\ttype {type_} hook {hook} priority {priority}; policy accept;")
            if c["comment"]:
                lines.append(f'\t\tcomment "{c["comment"]}"')
            lines += [f"\t\t{r}" for r in c["rules"]]
            lines.append("\t}")
        return lines + ["}"]


def _element_key(text: str) -> tuple:
    """Elements sorted by their address (numerically), then the rest of the key."""
    first, _, rest = text.partition(" ")
    try:
        ip = ipaddress.ip_address(first)
        return (0, ip.version, int(ip), rest)
    except ValueError:
        return (1, 0, 0, text)


def _family_cidrs(cidrs, family: str) -> list[str]:
    return [c.strip() for c in cidrs if c and c.strip()
            and (ipaddress.ip_network(c.strip(), strict=False).version == 6) == (family == "IPv6")]


def nft_ruleset(node_name: str, services: list[dict], slices: list[dict], nodes: list[dict], *,
                cluster_cidr: str, service_cidr: str = "", family: str = "IPv4") -> str:
    """The `table ip|ip6 kube-proxy` kube-proxy (nftables mode) writes on `node_name` for one IP family."""
    ipx, addr_type = ("ip6", "ipv6_addr") if family == "IPv6" else ("ip", "ipv4_addr")
    local_cidrs = _family_cidrs(cluster_cidr.split(","), family)
    service_cidrs = _family_cidrs(service_cidr.split(","), family)
    node = next((n for n in nodes if name_of(n) == node_name), None)
    this_node_ip = node_ip(node, family) if node else None
    zone = node_zone(nodes, node_name)
    t = _Table("ip6" if family == "IPv6" else "ip")

    # setupNFTables: base chains, jump chains, masquerading, the check chains and their maps.
    for name, type_, hook, priority in _BASE_CHAINS:
        t.chain(name, (type_, hook, priority))
    for dst, src, extra in _JUMPS:
        t.chain(dst)
        t.rule(src, (extra + " " if extra else "") + f"jump {dst}")
    for name in ("services", "cluster-ips-check", "masquerading", "mark-for-masquerade"):
        t.chain(name)
    t.rule("mark-for-masquerade", f"mark set mark or {MASQ_MARK}")
    t.rule("masquerading", f"mark and {MASQ_MARK} == 0 return")
    t.rule("masquerading", f"mark set mark xor {MASQ_MARK}")
    t.rule("masquerading", "masquerade fully-random")
    t.add_set("cluster-ips", "set", addr_type, "Active ClusterIPs")
    t.rule("cluster-ips-check", f"{ipx} daddr @cluster-ips reject", "Reject traffic to invalid ports of ClusterIPs")
    if service_cidrs:
        t.rule("cluster-ips-check", f"{ipx} daddr {{ {', '.join(service_cidrs)} }} drop",
               "Drop traffic to unallocated ClusterIPs")
    t.add_set("nodeport-ips", "set", addr_type, "IPs that accept NodePort traffic")
    if this_node_ip:
        t.element("nodeport-ips", this_node_ip)
    t.add_set("no-endpoint-services", "map", f"{addr_type} . inet_proto . inet_service : verdict",
              "vmap to drop or reject packets to services with no endpoints")
    t.add_set("no-endpoint-nodeports", "map", "inet_proto . inet_service : verdict",
              "vmap to drop or reject packets to service nodeports with no endpoints")
    t.chain("reject-chain", comment="helper for @no-endpoint-services / @no-endpoint-nodeports")
    t.rule("reject-chain", "reject")
    t.rule("service-endpoints-check", f"{ipx} daddr . meta l4proto . th dport vmap @no-endpoint-services")
    t.rule("nodeport-endpoints-check", f"{ipx} daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports")
    t.add_set("firewall-ips", "map", f"{addr_type} . inet_proto . inet_service : verdict",
              "destinations that are subject to LoadBalancerSourceRanges")
    t.rule("firewall-check", f"{ipx} daddr . meta l4proto . th dport vmap @firewall-ips")
    t.add_set("service-ips", "map", f"{addr_type} . inet_proto . inet_service : verdict",
              "ClusterIP, ExternalIP and LoadBalancer IP traffic")
    t.add_set("service-nodeports", "map", "inet_proto . inet_service : verdict", "NodePort traffic")
    t.rule("services", f"{ipx} daddr . meta l4proto . th dport vmap @service-ips")
    t.rule("services", f"{ipx} daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports")

    by_service: dict[tuple, list] = {}
    for s in slices:
        by_service.setdefault((namespace_of(s), labels_of(s).get("kubernetes.io/service-name")), []).append(s)
    for svc in sorted(services, key=lambda s: (namespace_of(s), name_of(s))):
        if not cluster_ips(svc, family):   # headless and ExternalName Services are not proxied
            continue
        svc_slices = by_service.get((namespace_of(svc), name_of(svc)), [])
        for port in (svc.get("spec") or {}).get("ports") or []:
            _write_service_port(t, svc, port, proxy_endpoints(svc, port, svc_slices, family), ipx=ipx,
                                addr_type=addr_type, family=family, node_name=node_name, zone=zone,
                                local_cidrs=local_cidrs, this_node_ip=this_node_ip)
    return "\n".join(t.render()) + "\n"


def _write_service_port(t: _Table, svc: dict, port: dict, endpoints, *, ipx, addr_type, family, node_name, zone,
                        local_cidrs, this_node_ip) -> None:
    """One iteration of syncProxyRules' per-service-port loop."""
    proto = port.get("protocol", "TCP").lower()
    spn = service_port_name(svc, port)
    ns, name, pname = namespace_of(svc), name_of(svc), port.get("name") or ""
    base = nft_chain_base(ns, name, proto, pname)
    cluster_chain, local_chain = "service-" + base, "local-" + base
    external_chain, fw_chain = "external-" + base, "firewall-" + base
    cat = categorize_endpoints(endpoints, svc, port, node_name, zone, family)

    def ep_chain(ep) -> str:
        return "endpoint-" + nft_endpoint_chain_base(ns, name, proto, pname, str(ep))

    def affinity_set(ep) -> str:
        return "affinity-" + nft_endpoint_chain_base(ns, name, proto, pname, str(ep))

    has_any = cat.has_any
    uses_cluster = bool(cat.cluster) and uses_cluster_endpoints(svc, port, family)
    uses_local = bool(cat.local) and uses_local_endpoints(svc, port, family)
    internal_chain, has_internal = cluster_chain, has_any
    if internal_policy_local(svc):
        internal_chain, has_internal = local_chain, has_any and bool(cat.local)
    external_policy_chain, has_external = cluster_chain, has_any
    if external_policy_local(svc):
        external_policy_chain, has_external = local_chain, has_any and bool(cat.local)
    uses_external = has_any and externally_accessible(svc, port, family)
    if not has_any:
        internal_verdict = external_verdict = "goto reject-chain"
    else:
        internal_verdict = None if has_internal else "drop"
        external_verdict = None if has_external else "drop"

    cip, svc_port = cluster_ips(svc, family)[0], str(port["port"])
    key = f"{proto} . {svc_port}"
    # Capture the cluster IP.
    t.element("cluster-ips", cip)
    if has_internal:
        t.element("service-ips", f"{cip} . {key}", f"goto {internal_chain}")
    else:
        t.element("no-endpoint-services", f"{cip} . {key}", internal_verdict, spn)
    # Capture external IPs.
    for ip in external_ips(svc, family):
        if has_any:
            t.element("service-ips", f"{ip} . {key}", f"goto {external_chain}")
        if not has_external:
            t.element("no-endpoint-services", f"{ip} . {key}", external_verdict, spn)
    # Capture load-balancer ingress; loadBalancerSourceRanges through the firewall map.
    lb_vips = load_balancer_vips(svc, family)
    source_ranges = _family_cidrs((svc.get("spec") or {}).get("loadBalancerSourceRanges") or [], family)
    uses_fw = bool(lb_vips) and bool(source_ranges)
    for ip in lb_vips:
        if has_any:
            t.element("service-ips", f"{ip} . {key}", f"goto {external_chain}")
        if uses_fw:
            t.element("firewall-ips", f"{ip} . {key}", f"goto {fw_chain}")
    if not has_external:
        for ip in lb_vips:
            t.element("no-endpoint-services", f"{ip} . {key}", external_verdict, spn)
    # Capture node ports (not subject to loadBalancerSourceRanges).
    node_port = port.get("nodePort")
    if node_port:
        if has_any:
            t.element("service-nodeports", f"{proto} . {node_port}", f"goto {external_chain}")
        if not has_external:
            t.element("no-endpoint-nodeports", f"{proto} . {node_port}", external_verdict, spn)

    # Internal traffic: masquerade off-cluster sources reaching the cluster IP.
    if has_internal and local_cidrs:
        t.rule(internal_chain, f"{ipx} daddr {cip} {proto} dport {svc_port} {ipx} saddr != {local_cidrs[0]} "
                               "jump mark-for-masquerade")
    # External traffic: the external- chain.
    if uses_external:
        t.chain(external_chain)
        if not external_policy_local(svc):
            t.rule(external_chain, "jump mark-for-masquerade")
        else:
            if local_cidrs:
                t.rule(external_chain, f"{ipx} saddr {local_cidrs[0]} goto {cluster_chain}", "short-circuit pod traffic")
            t.rule(external_chain, "fib saddr type local jump mark-for-masquerade", "masquerade local traffic")
            t.rule(external_chain, f"fib saddr type local goto {cluster_chain}", "short-circuit local traffic")
        if has_external:
            t.rule(external_chain, f"goto {external_policy_chain}")
    if uses_fw:
        sources = [str(ipaddress.ip_network(c, strict=False)) for c in source_ranges]
        if this_node_ip and any(ipaddress.ip_address(this_node_ip) in ipaddress.ip_network(c, strict=False)
                                for c in source_ranges):
            sources += lb_vips   # a VIP routed locally loops back with the VIP as its source
        t.chain(fw_chain)
        t.rule(fw_chain, f"{ipx} saddr != {{ {', '.join(sources)} }} drop")
    timeout = affinity_timeout(svc)
    if timeout is not None:
        for ep in cat.all_reachable:
            t.add_set(affinity_set(ep), "set", addr_type, extra=("flags dynamic,timeout", f"timeout {_duration(timeout)}"))
    for chain, chosen, used in ((cluster_chain, cat.cluster, uses_cluster), (local_chain, cat.local, uses_local)):
        if not used:
            continue
        if timeout is not None:
            for ep in chosen:
                t.rule(chain, f"{ipx} saddr @{affinity_set(ep)} goto {ep_chain(ep)}")
        arms = ", ".join(f"{i} : goto {ep_chain(ep)}" for i, ep in enumerate(chosen))
        t.rule(chain, f"numgen random mod {len(chosen)} vmap {{ {arms} }}")
    for ep in cat.all_reachable:
        chain = ep_chain(ep)
        t.rule(chain, f"{ipx} saddr {ep.ip} jump mark-for-masquerade")
        if timeout is not None:
            t.rule(chain, f"update @{affinity_set(ep)} {{ {ipx} saddr }}")
        t.rule(chain, f"meta l4proto {proto} dnat to {endpoint_string(ep.ip, ep.port)}")


def _duration(seconds: int) -> str:
    """nft prints timeouts as 3h, 10m, 1h30m, 45s."""
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v) or "0s"


def nft_list_ruleset(node_name: str, services: list[dict], slices: list[dict], nodes: list[dict], *,
                     cluster_cidr: str, service_cidr: str = "", families=("IPv4",)) -> str:
    """`nft list ruleset` on `node_name`: kube-proxy's table for each of the cluster's IP families."""
    return "".join(nft_ruleset(node_name, services, slices, nodes, cluster_cidr=cluster_cidr,
                               service_cidr=service_cidr, family=f) for f in families)
