"""Node tools, seen from a host-network pod (as with `kubectl debug node/NAME`, whose pod shares the
node's network namespace): the rules kube-proxy programmed on that node and the node's routes."""
from __future__ import annotations

import ipaddress

from ...net.cni import cni_profile
from ...net.datapath import veth_name
from ...net.objects import name_of, namespace_of, pod_ips
from .base import Context, Result

__all__ = ["iptables_save", "ipvsadm", "nft", "conntrack", "node_ip_command"]


def _node(ctx: Context) -> str | None:
    return ctx.pod["spec"].get("nodeName") if ctx.host_network else None


def _needs_node(tool: str) -> Result:
    return Result("", f"{tool}: this pod has its own network namespace; run it in a host-network pod on the node "
                      "(kubectl debug node/<node> --image=busybox, then kubectl exec into the node-debugger pod)\n", 1)


def iptables_save(ctx: Context, args: list[str]) -> Result:
    node = _node(ctx)
    if node is None:
        return Result("", "iptables-save v1.8.10 (nf_tables): Could not fetch rule set generation id: "
                          "Permission denied (you must be root)\n", 4)
    return Result(ctx.lab.iptables_save(node), "", 0)


def ipvsadm(ctx: Context, args: list[str]) -> Result:
    node = _node(ctx)
    if node is None:
        return _needs_node("ipvsadm")
    return Result(ctx.lab.ipvsadm(node), "", 0)


def nft(ctx: Context, args: list[str]) -> Result:
    node = _node(ctx)
    if node is None:
        return _needs_node("nft")
    render = getattr(ctx.lab, "nft_list_ruleset", None)
    if render is None:
        return Result("", "nft: the simulator does not model nftables rules in this release\n", 1)
    return Result(render(node), "", 0)


def conntrack(ctx: Context, args: list[str]) -> Result:
    if _node(ctx) is None:
        return _needs_node("conntrack")
    # connections are not kept between probes: the table is empty, which is what conntrack -L prints
    return Result("", "conntrack v1.4.8 (conntrack-tools): 0 flow entries have been shown.\n", 0)


def node_ip_command(ctx: Context, args: list[str]) -> Result:
    """`ip addr` / `ip route` on the node: eth0 on the node network, the CNI's bridge or tunnel, and a
    route per other node's pod CIDR (through the tunnel, or to the node's address when routed)."""
    lab = ctx.lab
    node = ctx.pod["spec"].get("nodeName")
    profile = cni_profile(lab.config.cni, lab.config.calico_mode)
    node_net = ipaddress.ip_network(lab.config.node_cidr)
    my_ip = next(a["address"] for a in lab.cluster.find("Node", node)["status"]["addresses"] if a["type"] == "InternalIP")
    my_cidr = lab.pod_cidr_of(node)
    what = args[0] if args else ""
    if what in ("a", "addr", "address"):
        lines = ["1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN qlen 1000",
                 "    inet 127.0.0.1/8 scope host lo",
                 "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP qlen 1000",
                 f"    inet {my_ip}/{node_net.prefixlen} brd {node_net.broadcast_address} scope global eth0"]
        n = 3
        if profile.tunnel_device:
            lines.append(f"{n}: {profile.tunnel_device}: <NOARP,UP,LOWER_UP> mtu {profile.pod_mtu} state UNKNOWN")
            n += 1
        if profile.bridge and my_cidr:
            gw = ipaddress.ip_network(my_cidr).network_address + 1
            lines += [f"{n}: {profile.bridge}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu {profile.pod_mtu} state UP",
                      f"    inet {gw}/{ipaddress.ip_network(my_cidr).prefixlen} scope global {profile.bridge}"]
        return Result("\n".join(lines) + "\n", "", 0)
    if what in ("r", "ro", "route"):
        lines = [f"default via {node_net.network_address + 1} dev eth0",
                 f"{node_net} dev eth0 proto kernel scope link src {my_ip}"]
        for other in lab.cluster.items("Node"):
            name = other["metadata"]["name"]
            cidr = lab.pod_cidr_of(name)
            if cidr is None:
                continue
            if name == node:
                if profile.bridge:
                    gw = ipaddress.ip_network(cidr).network_address + 1
                    lines.append(f"{cidr} dev {profile.bridge} proto kernel scope link src {gw}")
                else:
                    lines += _calico_local_routes(lab, profile, node, cidr)
                continue
            other_ip = next(a["address"] for a in other["status"]["addresses"] if a["type"] == "InternalIP")
            if profile.tunnel_device and profile.name == "flannel":
                lines.append(f"{cidr} via {ipaddress.ip_network(cidr).network_address} dev {profile.tunnel_device} onlink")
            elif profile.tunnel_device:
                lines.append(f"{cidr} via {other_ip} dev {profile.tunnel_device} proto bird onlink")
            else:
                lines.append(f"{cidr} via {other_ip} dev eth0 proto bird")
        return Result("\n".join(lines[:2] + sorted(lines[2:])) + "\n", "", 0)
    return Result("", "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n", 1)


def _calico_local_routes(lab, profile, node: str, cidr: str) -> list[str]:
    """Calico without a bridge: a blackhole for the node's own block (BIRD advertises it) and one /32 route
    per local pod to its host-side veth, as the trace's "one route per local pod" hop reads them."""
    lines = [f"blackhole {cidr} proto bird"]
    for pod in lab.cluster.items("Pod"):
        spec = pod.get("spec") or {}
        if spec.get("nodeName") != node or spec.get("hostNetwork"):
            continue
        veth = veth_name(profile, f"{namespace_of(pod)}/{name_of(pod)}")
        lines += [f"{ip} dev {veth} scope link" for ip in pod_ips(pod) if ":" not in ip]
    return lines
