"""A packet's path through the cluster, hop by hop: pod eth0, veth, bridge or route, tunnel,
underlay, and kube-proxy's NAT where a Service is involved."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..results import Hop
from .cni import CniProfile

__all__ = ["Location", "veth_name", "path_hops", "nat_hop", "reply_hops", "stop_at_last_hop"]


@dataclass(frozen=True)
class Location:
    """Where one end of a connection lives: a pod (on a node), a node's own network, or outside."""

    kind: str                 # "pod", "node", "external"
    ip: str
    label: str                # "pod default/web-1", "node node-1", "client 203.0.113.10"
    node: str | None = None   # node name for pods and nodes
    node_ip: str | None = None
    host_network: bool = False


def veth_name(profile: CniProfile, pod_key: str) -> str:
    """Host-side veth names are derived from the pod (Calico: 'cali' + hash; others: 'veth' + hash)."""
    digest = hashlib.sha1(pod_key.encode()).hexdigest()
    return f"{profile.veth_prefix}{digest[:15 - len(profile.veth_prefix)]}"


def _leave(src: Location, profile: CniProfile, dst_ip: str) -> list[Hop]:
    if src.kind == "pod" and not src.host_network:
        pod_key = src.label.split(" ", 1)[1]
        hops = [Hop(src.label, "eth0", "leaves the pod's network namespace", src.ip, dst_ip),
                Hop(f"node {src.node}", veth_name(profile, pod_key), "arrives on the host end of the veth pair",
                    src.ip, dst_ip)]
        if profile.bridge:
            hops.append(Hop(f"node {src.node}", profile.bridge, "reaches the bridge, the pod's default gateway",
                            src.ip, dst_ip))
        return hops
    if src.kind == "external":
        return [Hop(src.label, "-", "sends from outside the cluster", src.ip, dst_ip)]
    return [Hop(f"node {src.node}", "host network", "sends from the node's own network namespace", src.ip, dst_ip)]


def _arrive(dst: Location, profile: CniProfile, src_ip: str) -> list[Hop]:
    if dst.kind == "pod" and not dst.host_network:
        pod_key = dst.label.split(" ", 1)[1]
        hops = []
        if profile.bridge:
            hops.append(Hop(f"node {dst.node}", profile.bridge, "bridge forwards to the pod's veth", src_ip, dst.ip))
        else:
            hops.append(Hop(f"node {dst.node}", "routing table",
                            f"route {dst.ip}/{128 if ':' in dst.ip else 32} dev {veth_name(profile, pod_key)} (one route per local pod)",
                            src_ip, dst.ip))
        hops.append(Hop(f"node {dst.node}", veth_name(profile, pod_key), "enters the veth pair", src_ip, dst.ip))
        hops.append(Hop(dst.label, "eth0", "delivered to the pod", src_ip, dst.ip))
        return hops
    if dst.kind == "external":
        return [Hop(dst.label, "-", "delivered outside the cluster", src_ip, dst.ip)]
    return [Hop(f"node {dst.node}", "host network", "delivered to the node's own network namespace", src_ip, dst.ip)]


def _cross(src_node: str, src_node_ip: str, dst_node: str, dst_node_ip: str, profile: CniProfile,
           src_ip: str, dst_ip: str, dst_pod_cidr: str | None, pod_mtu: int | None = None) -> list[Hop]:
    """Between two nodes: encapsulated through the CNI's tunnel, or routed on the underlay."""
    if profile.encapsulation:
        detail = f"{profile.encapsulation}"
        if profile.vni is not None:
            detail += f" VNI {profile.vni}"
        if profile.udp_port:
            detail += f", UDP {profile.udp_port}"
        detail += f", outer {src_node_ip} -> {dst_node_ip}, +{profile.overhead} bytes (pod MTU {pod_mtu or profile.pod_mtu})"
        return [
            Hop(f"node {src_node}", profile.tunnel_device,
                f"route {dst_pod_cidr or dst_ip} via {profile.tunnel_device}, which encapsulates the packet", src_ip, dst_ip,
                detail),
            Hop(f"node {src_node}", "eth0", "sends the encapsulated packet", src_node_ip, dst_node_ip),
            Hop("underlay", "eth0", f"carries the outer packet from {src_node} to {dst_node}",
                src_node_ip, dst_node_ip, detail),
            Hop(f"node {dst_node}", "eth0", f"receives the outer packet (to the {profile.tunnel_device} port)",
                src_node_ip, dst_node_ip),
            Hop(f"node {dst_node}", profile.tunnel_device, "decapsulates the inner packet", src_ip, dst_ip),
        ]
    return [
        Hop(f"node {src_node}", "eth0", f"route {dst_pod_cidr or dst_ip} via {dst_node_ip} (learned over BGP)",
            src_ip, dst_ip),
        Hop("underlay", "eth0", f"routed unencapsulated from {src_node} to {dst_node}", src_ip, dst_ip),
        Hop(f"node {dst_node}", "eth0", "receives the packet", src_ip, dst_ip),
    ]


def path_hops(src: Location, dst: Location, profile: CniProfile, *, first_dst_ip: str,
              nat: list[Hop] = (), snat_ip: str | None = None, dst_pod_cidr: str | None = None,
              nat_node: str | None = None, nat_node_ip: str | None = None, pod_mtu: int | None = None) -> list[Hop]:
    """Hops from src to dst. `nat` hops (kube-proxy) run on `nat_node` (the client's node, or the node
    that received a NodePort/LoadBalancer packet); after them the packet is addressed to dst.ip."""
    hops = _leave(src, profile, first_dst_ip)
    src_ip = src.ip
    here_node, here_ip = src.node, src.node_ip
    snat = [h for h in nat if h.action.startswith("SNAT")]
    if nat:
        if src.kind == "external" and nat_node:
            hops.append(Hop("underlay", "-", f"reaches node {nat_node}", src.ip, first_dst_ip))
            hops.append(Hop(f"node {nat_node}", "eth0", "arrives on the node", src.ip, first_dst_ip))
            here_node, here_ip = nat_node, nat_node_ip
        hops.extend(h for h in nat if h not in snat)   # DNAT: PREROUTING/OUTPUT, before routing
    def leaving(hops_out: list[Hop]) -> list[Hop]:
        """SNAT (POSTROUTING) rewrites the source after the routing decision, as the packet leaves the node."""
        nonlocal src_ip
        if not snat:
            return hops_out
        src_ip = snat_ip or src_ip
        head, tail = hops_out[:1], hops_out[1:]
        return head + snat + [Hop(h.where, h.device, h.action, src_ip if h.src == src.ip else h.src, h.dst, h.detail)
                              for h in tail]

    if dst.kind in ("pod", "node") and here_node and dst.node and here_node != dst.node:
        if dst.kind == "node" or dst.host_network:
            # only pod subnets are reached through the CNI's tunnel; node addresses are plain underlay
            hops.extend(leaving([Hop(f"node {here_node}", "eth0", f"route to {dst.ip} on the node network",
                                     src_ip, dst.ip),
                                 Hop("underlay", "eth0", f"routed from {here_node} to {dst.node} (no encapsulation: "
                                     "the destination is a node address)", src_ip, dst.ip)]))
        else:
            hops.extend(leaving(_cross(here_node, here_ip, dst.node, dst.node_ip, profile, src_ip, dst.ip,
                                       dst_pod_cidr, pod_mtu)))
    elif src.kind == "external" and not nat and dst.kind in ("pod", "node"):
        hops.append(Hop("underlay", "-", f"reaches node {dst.node}", src_ip, dst.ip))
    elif src.kind in ("pod", "node") and dst.kind == "external":
        hops.append(Hop(f"node {here_node}", "eth0", "leaves through the node's default route", src_ip, dst.ip))
    elif snat:   # same node: the source is rewritten as the packet leaves for the local pod
        hops.extend(snat)
        src_ip = snat_ip or src_ip
    hops.extend(_arrive(dst, profile, src_ip))
    return hops


_PROXY_DEVICES = {"iptables": "iptables nat", "ipvs": "IPVS kube-ipvs0", "nftables": "nftables kube-proxy",
                  "ebpf": "eBPF service map"}


def nat_hop(node: str, what: str, src_ip: str, dst_ip: str, detail: str = "", proxy_mode: str = "iptables") -> Hop:
    """A NAT step of kube-proxy (or the CNI's portmap, which uses iptables), named by where it happens."""
    return Hop(f"node {node}", _PROXY_DEVICES.get(proxy_mode, proxy_mode), what, src_ip, dst_ip, detail)


def reply_hops(dst: Location, src: Location, seen_src_ip: str, first_dst_ip: str, nat_node: str | None) -> list[Hop]:
    """The reply retraces the path; conntrack on the NAT node undoes DNAT (and SNAT) so the client sees
    the address it connected to."""
    hops = [Hop(dst.label, "eth0", "replies", dst.ip, seen_src_ip)]
    if nat_node:
        hops.append(Hop(f"node {nat_node}", "conntrack",
                        f"reverses the NAT: source becomes {first_dst_ip} again", first_dst_ip, src.ip))
    hops.append(Hop(src.label, "eth0" if src.kind == "pod" else "-", "receives the reply", first_dst_ip, src.ip))
    return hops


POLICY_FILTER = "iptables filter"   # where Calico's policy chains (cali-fw-<veth>) judge a pod's egress


def stop_at_source_node(hops: list[Hop], src: Location, action: str) -> list[Hop]:
    """A packet the source pod's egress policy refuses never leaves its node: the CNI enforces egress at the
    pod's host-side interface, after kube-proxy's DNAT (so the policy sees the endpoint, not the Service IP).
    The path is cut after the host end of the veth and any NAT on that node; the drop is the last hop."""
    on_node = f"node {src.node}"
    kept = []
    for hop in hops:
        leaving = hop.where == src.label
        if not (leaving or (hop.where == on_node and (not kept or kept[-1].where == src.label
                                                      or hop.device in _PROXY_DEVICES.values()))):
            break
        kept.append(hop)
    if len(kept) < 2:
        return stop_at_last_hop(hops, action)
    return kept + [Hop(on_node, POLICY_FILTER, action, kept[-1].src, kept[-1].dst)]


def stop_at_last_hop(hops: list[Hop], action: str) -> list[Hop]:
    """A packet that does not get through: its last hop says what happened instead of delivery."""
    if not hops:
        return hops
    last = hops[-1]
    return hops[:-1] + [Hop(last.where, last.device, action, last.src, last.dst, last.detail)]
