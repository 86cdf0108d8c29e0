"""Connection and interface tools: busybox nc and ping, agnhost connect (what the upstream e2e tests
and cyclonus probe with), hostname, and `ip addr` / `ip route` as the CNI wires the pod."""
from __future__ import annotations

import ipaddress

from ...net.cni import cni_profile
from ...net.objects import is_ip, pod_ips
from .base import Context, Result, outcome, resolve_host, slow_lookup_note

__all__ = ["nc", "ping", "agnhost", "hostname", "ip"]


def nc(ctx: Context, args: list[str]) -> Result:
    """busybox nc -z[v] [-w SEC] [-u] HOST PORT: exit 0 when the port answers, 1 otherwise."""
    flags, positional, i = set(), [], 0
    while i < len(args):
        a = args[i]
        if a == "-w":
            i += 1
        elif a.startswith("-"):
            flags |= set(a[1:].replace("w", ""))
        else:
            positional.append(a)
        i += 1
    if len(positional) != 2 or not positional[1].isdigit():
        return Result("", "BusyBox v1.36.1 multi-call binary.\n\nUsage: nc [OPTIONS] HOST PORT  - connect\n", 1)
    host, port = positional[0], int(positional[1])
    protocol = "UDP" if "u" in flags else "TCP"
    ip = resolve_host(ctx, host)
    if ip is None:
        return Result("", f"nc: bad address '{host}'\n" + slow_lookup_note(ctx, host), 1)
    how = outcome(ctx.lab.reach(ctx.src, host, port, protocol))
    where = f"{host} ({ip}:{port})"
    if how == "ok" or (protocol == "UDP" and how == "timeout"):   # UDP: no answer looks open to nc -z
        return Result("", f"{where} open\n" if "v" in flags else "", 0)
    if how == "dns":
        return Result("", f"nc: bad address '{host}'\n" + slow_lookup_note(ctx, host), 1)
    return Result("", f"nc: {where}: {'Connection refused' if how == 'refused' else 'Connection timed out'}\n", 1)


def agnhost(ctx: Context, args: list[str]) -> Result:
    """/agnhost connect HOST:PORT [--timeout=1s] [--protocol=tcp|udp|sctp]: exit 0, or exit 1 with
    TIMEOUT, REFUSED or DNS on stderr (test/images/agnhost/connect/connect.go)."""
    if not args or args[0] != "connect":
        return Result("", f"Error: unknown command \"{args[0] if args else ''}\" for \"agnhost\"\n", 1)
    dest = next((a for a in args[1:] if not a.startswith("--")), None)
    protocol = next((a.split("=", 1)[1].upper() for a in args[1:] if a.startswith("--protocol=")), "TCP")
    if dest is None or ":" not in dest:
        return Result("", f"UNKNOWN: address {dest}: missing port in address\n", 1)
    host, port = dest.rsplit(":", 1)
    host = host.strip("[]")
    if resolve_host(ctx, host) is None:
        return Result("", f"DNS: lookup {host}: no such host\n" + slow_lookup_note(ctx, host), 1)
    how = outcome(ctx.lab.reach(ctx.src, host, int(port), protocol))
    if how == "ok":
        return Result("", "", 0)
    return Result("", {"refused": "REFUSED\n", "dns": f"DNS: lookup {host}: no such host\n"}.get(how, "TIMEOUT\n"), 1)


def _service_vip(ctx: Context, ip: str) -> bool:
    return ctx.lab.service_by_cluster_ip(ip) is not None


def ping(ctx: Context, args: list[str]) -> Result:
    """busybox ping -c N HOST. Pods and nodes answer; a ClusterIP is virtual: kube-proxy programs only
    its ports, so in iptables and nftables mode nothing answers ICMP, while IPVS binds the address to
    kube-ipvs0 on every node and the node answers."""
    count, host, i = 4, None, 0
    while i < len(args):
        if args[i] == "-c" and i + 1 < len(args):
            count = int(args[i + 1])
            i += 1
        elif args[i].startswith("-c") and args[i][2:].isdigit():
            count = int(args[i][2:])
        elif not args[i].startswith("-"):
            host = args[i]
        i += 1
    if host is None:
        return Result("", "BusyBox v1.36.1 multi-call binary.\n\nUsage: ping [OPTIONS] HOST\n", 1)
    ip = resolve_host(ctx, host)
    if ip is None:
        return Result("", f"ping: bad address '{host}'\n" + slow_lookup_note(ctx, host), 1)
    answers = not (_service_vip(ctx, ip) and ctx.lab.config.proxy_mode != "ipvs")
    target = ctx.lab.pod_by_ip(ip) if is_ip(ip) else None
    same_node = target is not None and target["spec"].get("nodeName") == ctx.pod["spec"].get("nodeName")
    ttl = 64 if same_node or _service_vip(ctx, ip) else 62
    lines = [f"PING {host} ({ip}): 56 data bytes"]
    if answers:
        lines += [f"64 bytes from {ip}: seq={n} ttl={ttl} time=0.100 ms" for n in range(count)]
    received = count if answers else 0
    lines += ["", f"--- {host} ping statistics ---",
              f"{count} packets transmitted, {received} packets received, {100 - 100 * received // max(count, 1)}% packet loss"]
    if answers:
        lines.append("round-trip min/avg/max = 0.100/0.100/0.100 ms")
    return Result("\n".join(lines) + "\n", "", 0 if answers else 1)


def hostname(ctx: Context, args: list[str]) -> Result:
    """hostname, hostname -i (the pod's addresses), hostname -f (the FQDN with a subdomain)."""
    if "-i" in args:
        return Result(" ".join(pod_ips(ctx.pod)) + "\n", "", 0)
    if "-f" in args or "--fqdn" in args:
        name = ctx.lab.hostname(ctx.src, fqdn=True) or ctx.lab.hostname(ctx.src)
        return Result(f"{name}\n", "", 0)
    return Result(f"{ctx.lab.hostname(ctx.src)}\n", "", 0)


def _mac(ip: str) -> str:
    """The CNI bridge plugin's hardware address: 0a:58 then the IPv4 address's bytes."""
    packed = ipaddress.ip_address(ip).packed[-4:]
    return "0a:58:" + ":".join(f"{b:02x}" for b in packed)


def _pod_links(ctx: Context) -> tuple[list[str], list[str]]:
    """(ip addr lines, ip route lines) of a pod's network namespace: lo and eth0 from its veth pair."""
    profile = cni_profile(ctx.lab.config.cni, ctx.lab.config.calico_mode)
    node = ctx.pod["spec"].get("nodeName")
    addr = ["1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN qlen 1000",
            "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
            "    inet 127.0.0.1/8 scope host lo", "       valid_lft forever preferred_lft forever"]
    ips = pod_ips(ctx.pod)
    mac = _mac(next((i for i in ips if ":" not in i), "10.0.0.1"))
    addr += [f"2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu {profile.pod_mtu} qdisc noqueue state UP",
             f"    link/ether {mac} brd ff:ff:ff:ff:ff:ff"]
    routes = []
    for ip in ips:
        v6 = ":" in ip
        cidr = ctx.lab.pod_cidr_of(node, "IPv6" if v6 else "IPv4")
        if profile.name == "calico" or cidr is None:
            addr += [f"    inet{'6' if v6 else ''} {ip}/{128 if v6 else 32} scope global eth0",
                     "       valid_lft forever preferred_lft forever"]
            if not v6:   # Calico: a /32 and a link-local gateway answered by proxy ARP on the host veth
                routes += ["default via 169.254.1.1 dev eth0", "169.254.1.1 dev eth0 scope link"]
            continue
        net = ipaddress.ip_network(cidr)
        gateway = net.network_address + 1
        addr += [f"    inet{'6' if v6 else ''} {ip}/{net.prefixlen}" + ("" if v6 else f" brd {net.broadcast_address}") +
                 " scope global eth0", "       valid_lft forever preferred_lft forever"]
        if not v6:
            routes += [f"default via {gateway} dev eth0", f"{net} dev eth0 scope link  src {ip}"]
    return addr, routes


IP_USAGE = 'Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\nwhere  OBJECT := { address | route | ... }\n'
_OBJECTS = {"a": "addr", "addr": "addr", "address": "addr", "r": "route", "ro": "route", "route": "route"}


def _ip_args(args: list[str]) -> tuple[str | None, str | None, str | None]:
    """(family "4"/"6"/None, object "addr"/"route", device) from `ip [-4|-6] OBJECT [show|list] [[dev] NAME]`;
    object None when the command line is not one ip understands."""
    family, rest = None, list(args)
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag in ("-4", "-6"):
            family = flag[1]
        elif flag not in ("-f", "-family"):
            return family, None, None
        elif rest:
            family = {"inet": "4", "inet6": "6"}.get(rest.pop(0), family)
    obj = _OBJECTS.get(rest.pop(0)) if rest else None
    if rest and rest[0] in ("show", "list", "ls", "s", "sh"):
        rest.pop(0)
    if rest and rest[0] == "dev":
        rest.pop(0)
    return family, obj, (rest[0] if rest else None)


def _addr_blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if line and not line.startswith(" "):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    return blocks


def _filter_addr(text: str, family: str | None, device: str | None) -> str:
    """`ip addr show DEV` keeps that interface's block; -4/-6 keep each interface's header and its inet/inet6
    addresses only (with their lifetimes), and leave out interfaces without one, as iproute2 prints them."""
    out = []
    for block in _addr_blocks(text):
        name = block[0].split(":")[1].strip().split("@")[0]
        if device is not None and name != device:
            continue
        if family is None:
            out += block
            continue
        word = "inet6" if family == "6" else "inet"
        kept, keep_next = [], False
        for line in block[1:]:
            if line.strip().split(" ")[0] == word:
                kept.append(line)
                keep_next = True
            elif keep_next and line.strip().startswith("valid_lft"):
                kept.append(line)
                keep_next = False
            else:
                keep_next = False
        if kept:
            out += [block[0], *kept]
    return "\n".join(out) + "\n" if out else ""


def ip(ctx: Context, args: list[str]) -> Result:
    """ip [-4|-6] addr|a [show [dev] NAME] | ip [-4|-6] route|r (a host-network pod sees its node's, see
    node.py); an interface that does not exist answers as iproute2 does."""
    family, obj, device = _ip_args(args)
    if obj is None:
        return Result("", IP_USAGE, 1)
    if ctx.host_network:
        from .node import node_ip_command
        listed = node_ip_command(ctx, [obj])
        addr_text, route_text = (listed.stdout, "") if obj == "addr" else ("", listed.stdout)
    else:
        addr, routes = _pod_links(ctx)
        addr_text, route_text = "\n".join(addr) + "\n", "\n".join(routes) + "\n"
    if obj == "addr":
        names = [b[0].split(":")[1].strip().split("@")[0] for b in _addr_blocks(addr_text)]
        if device is not None and device not in names:
            return Result("", f'Device "{device}" does not exist.\n', 1)
        return Result(_filter_addr(addr_text, family, device), "", 0)
    lines = [line for line in route_text.splitlines() if line]
    if family is not None:
        lines = [line for line in lines if (":" in line.split(" ")[0]) == (family == "6")]
    if device is not None:   # iproute2 leaves out the device it was asked to filter by
        lines = [f" {line} ".replace(f" dev {device} ", " ").strip() for line in lines
                 if f" dev {device} " in f" {line} "]
    return Result("".join(f"{line}\n" for line in lines), "", 0)
