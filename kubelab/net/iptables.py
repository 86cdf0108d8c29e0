"""What kube-proxy's iptables mode programs on one node, as `iptables-save` text, and a parser for it.

Follows pkg/proxy/iptables/proxier.go (syncProxyRules, writeServiceToEndpointRules) with a fake iptables
that lacks --random-fully, masquerade bit 14 (0x4000), localhost node ports on (the defaults), and
--nodeport-addresses unset. Rules are written in kube-proxy's order; chains and the KUBE-SERVICES /
KUBE-NODEPORTS rules are then ordered as proxier_test.go's sortIPTablesRules prints them (kube-proxy itself
walks a Go map), so the text is deterministic and comparable with the upstream test vectors.
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import shlex
from dataclasses import dataclass
from functools import lru_cache

from .kubeproxy import (affinity_timeout, needs_health_check, categorize_endpoints, cluster_ips, endpoint_string, external_ips,
                        external_policy_local, externally_accessible, internal_policy_local, load_balancer_vips,
                        node_ip, node_zone, proxy_endpoints, service_port_name, uses_cluster_endpoints,
                        uses_local_endpoints)
from .objects import name_of, namespace_of

__all__ = ["chain_name", "compute_probability", "iptables_save", "parse_iptables_save", "Rule",
           "LARGE_CLUSTER_ENDPOINTS_THRESHOLD"]

MASQ_MARK = "0x4000"
LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000  # above this, per-endpoint comments are left out
_LAST_RULE = '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"'


@lru_cache(maxsize=65536)
def _hash16(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def chain_name(prefix: str, service_port_name: str, protocol: str, endpoint: str | None = None) -> str:
    """portProtoHash / servicePortEndpointChainName: prefix + base32(sha256(name + lower(protocol)
    [+ "IP:port"]))[:16], e.g. KUBE-SVC-XPGD46QRK7WJZT7O for "ns1/svc1:p80" tcp."""
    prefix = prefix if prefix.endswith("-") else prefix + "-"
    return prefix + _hash16(service_port_name + protocol.lower() + (endpoint or ""))


@lru_cache(maxsize=1024)
def compute_probability(n: int) -> str:
    """computeProbability: "%0.10f" of 1/n."""
    return "%0.10f" % (1.0 / n)


class _Table:
    """Chains and their rules in write order (proxyutil.LineBuffer, one per table)."""

    def __init__(self, chains):
        self.chains = dict.fromkeys(chains)
        self.rules: dict[str, list[str]] = {}

    def chain(self, name: str) -> None:
        self.chains[name] = None

    def add(self, chain: str, *args: str) -> None:
        self.rules.setdefault(chain, []).append(" ".join(("-A", chain) + args))

    def render(self, table: str) -> list[str]:
        first = [c for c in ("KUBE-NODEPORTS", "KUBE-SERVICES") if c in self.chains]
        order = first + sorted(c for c in self.chains if c not in first)
        lines = [f"*{table}"] + [f":{c} - [0:0]" for c in order]
        for c in order:
            lines += self.rules.get(c, [])
        return lines + ["COMMIT"]


def _family_cidr(cidrs: str | None, family: str) -> str | None:
    for cidr in (cidrs or "").split(","):
        cidr = cidr.strip()
        if cidr and (ipaddress.ip_network(cidr, strict=False).version == 6) == (family == "IPv6"):
            return cidr
    return None


def iptables_save(node_name: str, services: list[dict], slices: list[dict], nodes: list[dict], *,
                  cluster_cidr: str, local_pod_cidr: str | None = None, family: str = "IPv4") -> str:
    """The filter and nat tables kube-proxy (iptables mode) writes on `node_name`, as iptables-save text.

    Local traffic is detected by `cluster_cidr` (--detect-local-mode=ClusterCIDR), or by `local_pod_cidr`
    when given (NodeCIDR mode). `family` picks the IPv4 or IPv6 proxier of a dual-stack node.
    """
    local_cidr = _family_cidr(local_pod_cidr or cluster_cidr, family)
    node = next((n for n in nodes if name_of(n) == node_name), None)
    this_node_ip = node_ip(node, family) if node else None
    zone = node_zone(nodes, node_name)
    ipv6 = family == "IPv6"

    flt = _Table(["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS",
                  "KUBE-PROXY-FIREWALL"])
    nat = _Table(["KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"])
    nat.add("KUBE-POSTROUTING", "-m", "mark", "!", "--mark", f"{MASQ_MARK}/{MASQ_MARK}", "-j", "RETURN")
    nat.add("KUBE-POSTROUTING", "-j", "MARK", "--xor-mark", MASQ_MARK)
    nat.add("KUBE-POSTROUTING", "-m", "comment", "--comment", '"kubernetes service traffic requiring SNAT"',
            "-j", "MASQUERADE")
    nat.add("KUBE-MARK-MASQ", "-j", "MARK", "--or-mark", MASQ_MARK)
    if not ipv6:  # localhostNodePorts: block martian localnet connections (kubelet keeps a copy too)
        flt.chain("KUBE-FIREWALL")
        flt.add("KUBE-FIREWALL", "-m", "comment", "--comment", '"block incoming localnet connections"',
                "-d", "127.0.0.0/8", "!", "-s", "127.0.0.0/8", "-m", "conntrack", "!", "--ctstate",
                "RELATED,ESTABLISHED,DNAT", "-j", "DROP")

    slices_by_service: dict[tuple, list] = {}
    for s in slices:
        key = (namespace_of(s), ((s.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name"))
        slices_by_service.setdefault(key, []).append(s)
    ports = []
    for svc in services:
        if not cluster_ips(svc, family):  # headless and ExternalName Services are not proxied
            continue
        svc_slices = slices_by_service.get((namespace_of(svc), name_of(svc)), [])
        for port in (svc.get("spec") or {}).get("ports") or []:
            ports.append((f"{namespace_of(svc)}/{name_of(svc)}", port.get("name") or "", port.get("protocol", "TCP"),
                          svc, port, proxy_endpoints(svc, port, svc_slices, family)))
    ports.sort(key=lambda t: t[:3])
    large = sum(len(t[5]) for t in ports) > LARGE_CLUSTER_ENDPOINTS_THRESHOLD

    for _, _, _, svc, port, endpoints in ports:
        _write_service_port(flt, nat, svc, port, endpoints, node_name=node_name, zone=zone, family=family,
                            local_cidr=local_cidr, this_node_ip=this_node_ip, large=large)

    destinations = ("-m", "addrtype", "--dst-type", "LOCAL") + (("!", "-d", "::1/128") if ipv6 else ())
    nat.add("KUBE-SERVICES", "-m", "comment", "--comment", _LAST_RULE, *destinations, "-j", "KUBE-NODEPORTS")
    flt.add("KUBE-FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
    flt.add("KUBE-FORWARD", "-m", "comment", "--comment", '"kubernetes forwarding rules"', "-m", "mark", "--mark",
            f"{MASQ_MARK}/{MASQ_MARK}", "-j", "ACCEPT")
    flt.add("KUBE-FORWARD", "-m", "comment", "--comment", '"kubernetes forwarding conntrack rule"', "-m",
            "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")
    return "\n".join(flt.render("filter") + nat.render("nat")) + "\n"


def _write_service_port(flt: _Table, nat: _Table, svc: dict, port: dict, endpoints: tuple, *, node_name, zone,
                        family, local_cidr, this_node_ip, large) -> None:
    """One iteration of syncProxyRules' per-service-port loop."""
    spn = service_port_name(svc, port)
    proto = port.get("protocol", "TCP").lower()
    spec = svc.get("spec") or {}
    cat = categorize_endpoints(endpoints, svc, port, node_name, zone, family)
    svc_chain, svl_chain = chain_name("KUBE-SVC", spn, proto), chain_name("KUBE-SVL", spn, proto)
    ext_chain, fw_chain = chain_name("KUBE-EXT", spn, proto), chain_name("KUBE-FW", spn, proto)
    uses_cluster_chain = bool(cat.cluster) and uses_cluster_endpoints(svc, port, family)
    uses_local_chain = bool(cat.local) and uses_local_endpoints(svc, port, family)
    has_any = cat.has_any
    internal_chain, has_internal = svc_chain, has_any
    if internal_policy_local(svc):
        internal_chain, has_internal = svl_chain, has_any and bool(cat.local)
    ext_local = external_policy_local(svc)
    external_policy_chain, has_external = svc_chain, has_any
    if ext_local:
        external_policy_chain, has_external = svl_chain, has_any and bool(cat.local)
    uses_ext_chain = has_any and externally_accessible(svc, port, family)
    lb_vips = load_balancer_vips(svc, family)
    source_ranges = [r.strip() for r in spec.get("loadBalancerSourceRanges") or []
                     if r.strip() and (ipaddress.ip_network(r.strip(), strict=False).version == 6) == (family == "IPv6")]
    uses_fw = has_any and bool(lb_vips) and bool(source_ranges)
    lb_chain = fw_chain if uses_fw else ext_chain

    if not has_any:
        int_target, int_comment = "REJECT", f'"{spn} has no endpoints"'
        ext_target, ext_comment = int_target, int_comment
    else:
        int_target = int_comment = ext_target = ext_comment = None
        if not has_internal:
            int_target, int_comment = "DROP", f'"{spn} has no local endpoints"'
        if not has_external:
            ext_target, ext_comment = "DROP", f'"{spn} has no local endpoints"'

    cip, svc_port = cluster_ips(svc, family)[0], str(port["port"])
    match = ("-m", proto, "-p", proto)
    # Capture the cluster IP.
    if has_internal:
        nat.add("KUBE-SERVICES", "-m", "comment", "--comment", f'"{spn} cluster IP"', *match, "-d", cip,
                "--dport", svc_port, "-j", internal_chain)
    else:
        flt.add("KUBE-SERVICES", "-m", "comment", "--comment", int_comment, *match, "-d", cip, "--dport", svc_port,
                "-j", int_target)
    # Capture external IPs.
    for ip in external_ips(svc, family):
        if has_any:
            nat.add("KUBE-SERVICES", "-m", "comment", "--comment", f'"{spn} external IP"', *match, "-d", ip,
                    "--dport", svc_port, "-j", ext_chain)
        if not has_external:
            flt.add("KUBE-EXTERNAL-SERVICES", "-m", "comment", "--comment", ext_comment, *match, "-d", ip,
                    "--dport", svc_port, "-j", ext_target)
    # Capture load-balancer ingress.
    for ip in lb_vips:
        if has_any:
            nat.add("KUBE-SERVICES", "-m", "comment", "--comment", f'"{spn} loadbalancer IP"', *match, "-d", ip,
                    "--dport", svc_port, "-j", lb_chain)
        if uses_fw:
            flt.add("KUBE-PROXY-FIREWALL", "-m", "comment", "--comment", f'"{spn} traffic not accepted by {fw_chain}"',
                    *match, "-d", ip, "--dport", svc_port, "-j", "DROP")
    if not has_external:
        for ip in lb_vips:
            flt.add("KUBE-EXTERNAL-SERVICES", "-m", "comment", "--comment", ext_comment, *match, "-d", ip,
                    "--dport", svc_port, "-j", ext_target)
    # Capture node ports.
    node_port = port.get("nodePort")
    if node_port:
        if has_any:
            nat.add("KUBE-NODEPORTS", "-m", "comment", "--comment", spn, *match, "--dport", str(node_port),
                    "-j", ext_chain)
        if not has_external:
            flt.add("KUBE-EXTERNAL-SERVICES", "-m", "comment", "--comment", ext_comment, "-m", "addrtype",
                    "--dst-type", "LOCAL", *match, "--dport", str(node_port), "-j", ext_target)
    if needs_health_check(svc):
        flt.add("KUBE-NODEPORTS", "-m", "comment", "--comment", f'"{spn} health check node port"', "-m", "tcp",
                "-p", "tcp", "--dport", str(spec["healthCheckNodePort"]), "-j", "ACCEPT")

    # Internal traffic: masquerade off-cluster sources reaching the cluster IP.
    if has_internal and local_cidr:
        nat.add(internal_chain, "-m", "comment", "--comment", f'"{spn} cluster IP"', *match, "-d", cip,
                "--dport", svc_port, "!", "-s", local_cidr, "-j", "KUBE-MARK-MASQ")
    # External traffic: the EXT chain.
    if uses_ext_chain:
        nat.chain(ext_chain)
        if not ext_local:
            nat.add(ext_chain, "-m", "comment", "--comment", f'"masquerade traffic for {spn} external destinations"',
                    "-j", "KUBE-MARK-MASQ")
        else:
            if local_cidr:
                nat.add(ext_chain, "-m", "comment", "--comment", f'"pod traffic for {spn} external destinations"',
                        "-s", local_cidr, "-j", svc_chain)
            nat.add(ext_chain, "-m", "comment", "--comment",
                    f'"masquerade LOCAL traffic for {spn} external destinations"', "-m", "addrtype", "--src-type",
                    "LOCAL", "-j", "KUBE-MARK-MASQ")
            nat.add(ext_chain, "-m", "comment", "--comment", f'"route LOCAL traffic for {spn} external destinations"',
                    "-m", "addrtype", "--src-type", "LOCAL", "-j", svc_chain)
        if has_external:
            nat.add(ext_chain, "-j", external_policy_chain)
    # Load-balancer source ranges: the FW chain.
    if uses_fw:
        nat.chain(fw_chain)
        head = ("-m", "comment", "--comment", f'"{spn} loadbalancer IP"')
        allow_from_node = False
        for cidr in source_ranges:
            nat.add(fw_chain, *head, "-s", str(ipaddress.ip_network(cidr, strict=False)), "-j", ext_chain)
            if this_node_ip and ipaddress.ip_address(this_node_ip) in ipaddress.ip_network(cidr, strict=False):
                allow_from_node = True
        if allow_from_node:
            for ip in lb_vips:
                nat.add(fw_chain, *head, "-s", ip, "-j", ext_chain)
        nat.add(fw_chain, "-m", "comment", "--comment",
                f'"other traffic to {spn} will be dropped by KUBE-PROXY-FIREWALL"')
    timeout = affinity_timeout(svc)
    if uses_cluster_chain:
        nat.chain(svc_chain)
        _write_endpoint_rules(nat, spn, proto, svc_chain, cat.cluster, timeout, large)
    if uses_local_chain:
        nat.chain(svl_chain)
        _write_endpoint_rules(nat, spn, proto, svl_chain, cat.local, timeout, large)
    # Per-endpoint chains: hairpin masquerade, affinity bookkeeping, DNAT.
    for ep in cat.all_reachable:
        sep = chain_name("KUBE-SEP", spn, proto, str(ep))
        nat.chain(sep)
        comment = () if large else ("-m", "comment", "--comment", spn)
        nat.add(sep, *comment, "-s", ep.ip, "-j", "KUBE-MARK-MASQ")
        recent = ("-m", "recent", "--name", sep, "--set") if timeout is not None else ()
        nat.add(sep, *comment, *recent, *match, "-j", "DNAT", "--to-destination", endpoint_string(ep.ip, ep.port))


def _write_endpoint_rules(nat: _Table, spn: str, proto: str, chain: str, endpoints, timeout, large) -> None:
    """writeServiceToEndpointRules: affinity checks first, then rule i of n jumps with probability 1/(n-i)."""
    n = len(endpoints)
    for ep in endpoints if timeout is not None else ():
        sep = chain_name("KUBE-SEP", spn, proto, str(ep))
        comment = () if large else ("-m", "comment", "--comment", f'"{spn} -> {ep}"')
        nat.add(chain, *comment, "-m", "recent", "--name", sep, "--rcheck", "--seconds", str(timeout), "--reap",
                "-j", sep)
    for i, ep in enumerate(endpoints):
        comment = () if large else ("-m", "comment", "--comment", f'"{spn} -> {ep}"')
        stat = ("-m", "statistic", "--mode", "random", "--probability", compute_probability(n - i)) if i < n - 1 else ()
        nat.add(chain, *comment, *stat, "-j", chain_name("KUBE-SEP", spn, proto, str(ep)))


@dataclass(frozen=True)
class Rule:
    """One `-A CHAIN ...` line, split into its arguments."""

    chain: str
    args: tuple

    def _value(self, flag: str) -> str | None:
        for i, a in enumerate(self.args[:-1]):
            if a == flag:
                return self.args[i + 1]
        return None

    @property
    def target(self) -> str | None:
        """The -j target (None for a rule without one)."""
        return self._value("-j")

    @property
    def comment(self) -> str | None:
        return self._value("--comment")

    @property
    def probability(self) -> str | None:
        """The `--probability` string of a statistic match, as written."""
        return self._value("--probability")

    def __str__(self) -> str:
        return " ".join(("-A", self.chain) + tuple(f'"{a}"' if " " in a else a for a in self.args))


def parse_iptables_save(text: str) -> dict[str, dict[str, list[Rule]]]:
    """iptables-save text -> {table: {chain: [Rule, ...]}} with every declared chain (possibly empty), rules in order."""
    tables: dict[str, dict[str, list[Rule]]] = {}
    current: dict[str, list[Rule]] | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            current = tables.setdefault(line[1:], {})
        elif line.startswith(":") and current is not None:
            current.setdefault(line[1:].split()[0], [])
        elif line.startswith("-A ") and current is not None:
            parts = shlex.split(line)
            current.setdefault(parts[1], []).append(Rule(parts[1], tuple(parts[2:])))
    return tables
