"""The cluster as a picture: nodes, pods, the CNI's wiring and Services, built in two steps.

`cluster_graph()` turns the lab's objects into a networkx graph whose vertices carry a fixed geometry (no
layout randomness, so every run draws the same figure); `draw_cluster()` renders that graph with matplotlib.
"""
from __future__ import annotations

import math

from .colours import LINE_COLOURS, pod_role, role_colours, role_handles
from .figures import (BAR_H, BUS_DX, DARK, DEV_GAP, DEV_H, FONT, GREY, HEADER_H, LANE_STEP, MARGIN, NODE_GAP,
                      INCH, POD_GAP, POD_H, POD_LEFT, POD_W, SVC_GAP, SVC_LINE, SVC_W, SYSTEM, TRACE, Box, _polyline_arrow,
                      _rect, _scene_axes, _text)

__all__ = ["cluster_graph", "draw_cluster", "underlay_label"]


def _profile(lab):
    from ..net.cni import cni_profile

    config = getattr(lab, "config", None)
    return cni_profile(getattr(config, "cni", "calico"), getattr(config, "calico_mode", "bgp"))


def underlay_label(profile) -> str:
    """How pod traffic crosses between nodes, in one line ("VXLAN VNI 1 UDP 8472, MTU 1450")."""
    if profile.encapsulation:
        how = profile.encapsulation
        if profile.vni is not None:
            how += f" VNI {profile.vni}"
        if profile.udp_port:
            how += f" UDP {profile.udp_port}"
        how += f" over {profile.tunnel_device}"
    else:
        how = "BGP routes, no encapsulation"
    return f"{profile.name}: {how}, MTU {profile.pod_mtu}"


def _node_ip(node: dict) -> str:
    ips = [a["address"] for a in (node.get("status") or {}).get("addresses", []) if a.get("type") == "InternalIP"]
    return ", ".join(ips) or "no InternalIP"


def _service_lines(svc: dict) -> list[str]:
    """What `kubectl get svc` would say: the virtual IP(s), then TYPE PORT(S), then any external address."""
    spec = svc.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    if kind == "ExternalName":
        return [f"ExternalName → {spec.get('externalName', '?')}", "DNS CNAME only, no proxying"]
    ips = spec.get("clusterIPs") or [spec.get("clusterIP") or "None"]
    lines = ["headless (clusterIP None)" if ips[0] == "None" else f"ClusterIP {ips[0]}"]
    lines += [f"ClusterIP {ip}" for ip in ips[1:]]      # dual-stack: one line per family
    ports = []
    for p in spec.get("ports") or []:
        node_port = f":{p['nodePort']}" if p.get("nodePort") else ""
        ports.append(f"{p.get('port')}{node_port}→{p.get('targetPort', p.get('port'))}/{p.get('protocol', 'TCP')}")
    port_text = ", ".join(ports[:2]) + (f" +{len(ports) - 2}" if len(ports) > 2 else "")
    line = (f"{kind} " if kind != "ClusterIP" else "") + (port_text or "no ports")
    if len(line) > _SVC_CHARS and len(ports) > 1:
        # one port per line: a long line would run out of the box (two ports with node ports, say)
        lines += [f"{kind} {ports[0]}" if kind != "ClusterIP" else ports[0], *ports[1:2]]
        lines += [f"+{len(ports) - 2} more ports"] if len(ports) > 2 else []
    else:
        lines.append(line)
    external = [i.get("ip") or i.get("hostname") for i in ((svc.get("status") or {}).get("loadBalancer") or {})
                .get("ingress") or []]
    if external:
        lines.append(f"load balancer {', '.join(external)}")
    if spec.get("externalIPs"):
        lines.append(f"externalIPs {', '.join(spec['externalIPs'])}")
    return lines


_SVC_CHARS = 36           # characters of a detail line that fit in a Service box


def _service_title(key: str) -> str:
    """"svc ns/name" in bold, shortened further when it is long: bold text is wider than the detail lines."""
    return f"svc {_shorten(key, 30 if len(key) <= 30 else 24)}"


def _fit(text: str, limit: int) -> str:
    """Break a device label onto two lines at its space when one line would overflow the box."""
    return text if len(text) <= limit else text.replace(" ", "\n", 1)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 8] + "…" + text[-7:]


def _text_width_pt(text: str, size: int, weight: str = "normal") -> float:
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    return TextToPath().get_text_width_height_descent(text, FontProperties(size=size, weight=weight), ismath=False)[0]


# room for a pod's bold name inside its box, in points (with 5 % to spare: Agg draws text a little wider
# than its outline measures)
_POD_NAME_PT = (POD_W - 0.14 - 0.1) * INCH * 72 * 0.95


def _pod_title(namespace: str | None, name: str) -> str:
    """"namespace/name" (or the name alone) as it fits the pod's box in bold. Too wide: the name is cut in its
    middle, keeping the random suffix that tells replicas apart and at least 8 characters of its start;
    then the namespace is cut as well."""
    def fits(*parts) -> bool:
        return _text_width_pt("".join(parts), FONT["text"], "bold") <= _POD_NAME_PT

    prefix = f"{namespace}/" if namespace else ""
    if fits(prefix, name):
        return prefix + name
    cut = name.rfind("-")
    cut = cut if 0 < cut and len(name) - cut <= 8 else len(name) - 7
    head, tail = name[:cut], "…" + name[cut:]
    while len(head) > 8 and not fits(prefix, head, tail):
        head = head[:-1]
    keep = len(namespace or "")
    while keep > 4 and not fits(prefix, head, tail):
        keep -= 1
        prefix = f"{namespace[:keep]}…/"
    while head and not fits(prefix, head, tail):
        head = head[:-1]
    return prefix + head + tail


def cluster_graph(lab, namespaces=None, show_system: bool = False, include=(), outside=None, notes: int = 0):
    """The cluster as a networkx DiGraph with a fixed geometry on every vertex.

    Vertices: ``node:<name>``, ``pod:<ns>/<name>``, ``veth:<ns>/<name>``, ``svc:<ns>/<name>``,
    ``dev:<node>:<kube-proxy|route|tunnel|eth0>``, ``underlay``, ``outside:<src|dst>``; each has
    ``kind`` and ``box`` (a Box) or ``point``. Edges: ``endpoint`` (Service → pod, with ``ready``),
    ``veth``, ``wire``. `include` names pods/Services ("pod:ns/name", "svc:ns/name") to draw even
    when filtered out; `outside` adds boxes for a client or server outside the cluster. Pods carry their
    ``role`` and its ``colours`` (kubelab.show.colours, the course's one rule).
    """
    import networkx as nx

    from ..net.objects import name_of

    profile = _profile(lab)
    visible = _visibility(namespaces, show_system, set(include))
    nodes = sorted(lab.list("Node"), key=name_of)
    node_names = [name_of(n) for n in nodes]
    pods = sorted((p for p in lab.list("Pod") if visible(p, "pod")), key=_key)
    services = sorted((s for s in lab.list("Service") if visible(s, "svc")), key=_key)
    placed = [p for p in pods if (p.get("spec") or {}).get("nodeName") in node_names]
    by_node = {n: [p for p in placed if p["spec"]["nodeName"] == n] for n in node_names}
    roles = {pod_role(p) for p in placed} | ({"outside"} if outside else set())
    endpoints = _service_endpoints(lab, placed)

    # horizontal geometry
    n_svc = len(services)
    right_w = 0.3 + LANE_STEP * max(n_svc, 1)
    node_w = POD_W + POD_LEFT + right_w
    width = 2 * MARGIN + max(len(nodes), 1) * node_w + max(len(nodes) - 1, 0) * NODE_GAP

    # vertical geometry, bottom to top
    g = nx.DiGraph(width=width, profile=profile, roles=roles, underlay_label=underlay_label(profile),
                   unscheduled=len(pods) - len(placed))
    y_nb = _add_ground(g, width, len(roles), outside or {}, notes)
    n_max = max([len(v) for v in by_node.values()] + [1])
    pods_h = n_max * (POD_H + POD_GAP) - POD_GAP
    dev_top = y_nb + 0.2 + 3 * DEV_H + 2 * DEV_GAP
    y_nt = y_nb + (dev_top - y_nb) + 0.35 + pods_h + 0.25 + HEADER_H
    proxy = getattr(getattr(lab, "config", None), "proxy_mode", "iptables")
    # pods are named ns/name once the picture holds more than one namespace
    qualified = len({_key(p).split("/")[0] for p in placed}) > 1
    for i, node in enumerate(nodes):
        x0 = MARGIN + i * (node_w + NODE_GAP)
        inner = _add_node(g, node, Box(x0, y_nb, x0 + node_w, y_nt), right_w, proxy)
        _add_pods(g, name_of(node), inner, by_node[name_of(node)], qualified)

    levels_top = y_nt + 0.3 + LANE_STEP * n_svc + 0.15
    rows_used, svc_h = _add_services(g, services, endpoints, y_nt, levels_top)
    g.graph["extent"] = (0.0, width, 0.0, levels_top + rows_used * (svc_h + 0.4) + MARGIN - (0.4 if rows_used else 0))
    g.graph["right_w"] = right_w
    return g


def _key(obj) -> str:
    from ..net.objects import key_of
    return key_of(obj)


def _visibility(namespaces, show_system: bool, include: set):
    """Which pods and Services the picture shows: `include` always; kube-system only with show_system."""
    from ..net.objects import namespace_of

    def visible(obj, prefix):
        ns = namespace_of(obj)
        if f"{prefix}:{_key(obj)}" in include:
            return True
        if namespaces is not None and ns not in namespaces:
            return False
        system = ns in SYSTEM or (prefix == "svc" and _key(obj) == "default/kubernetes")
        return show_system or not system
    return visible


def _service_endpoints(lab, placed) -> dict[str, list[tuple[str, bool]]]:
    """Each Service's endpoint pods (key, ready), from its EndpointSlices (the data kube-proxy programs)."""
    from ..net.objects import labels_of, namespace_of, pod_host_network, pod_ips

    pod_by_ip = {ip: p for p in placed if not pod_host_network(p) for ip in pod_ips(p)}
    endpoints: dict[str, list[tuple[str, bool]]] = {}
    for s in lab.list("EndpointSlice"):
        svc_key = f"{namespace_of(s)}/{labels_of(s).get('kubernetes.io/service-name', '')}"
        for e in s.get("endpoints") or []:
            ready = (e.get("conditions") or {}).get("ready") is not False
            for addr in e.get("addresses") or []:
                if addr in pod_by_ip:
                    endpoints.setdefault(svc_key, []).append((_key(pod_by_ip[addr]), ready))
    return endpoints


def _add_ground(g, width: float, n_groups: int, outside: dict, notes: int) -> float:
    """The legend's room, note lines, outside boxes and the underlay bar; returns where node boxes start."""
    legend_rows = math.ceil((n_groups + 4) / 4)
    y = MARGIN + legend_rows * 0.4
    g.graph["notes_y"] = y + notes * 0.36 - 0.25
    y += notes * 0.36
    if outside:
        for side in outside:
            x0 = MARGIN if side == "src" else width - MARGIN - SVC_W
            g.add_node(f"outside:{side}", kind="outside", box=Box(x0, y + 0.05, x0 + SVC_W, y + 0.75),
                       text=outside[side])
        y += 1.05
    g.graph["underlay_text_y"] = y + 0.05
    y_bar = y + 0.5
    g.add_node("underlay", kind="underlay", box=Box(MARGIN, y_bar, width - MARGIN, y_bar + BAR_H))
    return y_bar + 0.55


def _add_node(g, node: dict, box: Box, right_w: float, proxy: str) -> Box:
    """A node box with its devices: kube-proxy, the bridge or routing table, the tunnel and eth0.
    Returns the inner column where its devices and pods sit."""
    from ..net.objects import name_of

    n, profile = name_of(node), g.graph["profile"]
    spec = node.get("spec") or {}
    g.add_node(f"node:{n}", kind="node", box=box, name=n, ip=_node_ip(node),
               cidr=", ".join(spec.get("podCIDRs") or [spec.get("podCIDR") or "no podCIDR"]))
    inner = Box(box.x0 + POD_LEFT, box.y0, box.x1 - right_w, box.y1)
    rows = [box.y0 + 0.2 + i * (DEV_H + DEV_GAP) for i in range(3)]  # eth0 row, route row, kube-proxy row
    g.add_node(f"dev:{n}:kube-proxy", kind="device", node=n, box=Box(inner.x0, rows[2], inner.x1, rows[2] + DEV_H),
               text=f"kube-proxy · {proxy} (NAT, conntrack)")
    route_text = (f"{profile.bridge} bridge" if profile.bridge
                  else "routing table · one /32 route per pod veth")
    g.add_node(f"dev:{n}:route", kind="device", node=n, box=Box(inner.x0, rows[1], inner.x1, rows[1] + DEV_H),
               text=route_text)
    if profile.tunnel_device:
        mid = inner.x0 + (inner.x1 - inner.x0) * 0.5
        g.add_node(f"dev:{n}:tunnel", kind="device", node=n, box=Box(inner.x0, rows[0], mid - 0.1, rows[0] + DEV_H),
                   text=_fit(f"{profile.tunnel_device} ({profile.encapsulation})", 17))
        eth0 = Box(mid + 0.1, rows[0], inner.x1, rows[0] + DEV_H)
        g.add_edge(f"dev:{n}:tunnel", f"dev:{n}:eth0", kind="wire")
    else:
        eth0 = Box(inner.x0, rows[0], inner.x1, rows[0] + DEV_H)
    g.add_node(f"dev:{n}:eth0", kind="device", node=n, box=eth0, text=f"eth0 {_node_ip(node).split(', ')[0]}",
               ips=_node_ip(node).split(", "))
    g.add_edge(f"dev:{n}:route", f"dev:{n}:eth0", kind="wire")
    g.add_edge(f"dev:{n}:eth0", "underlay", kind="wire")
    return inner


def _add_pods(g, n: str, inner: Box, pods: list, qualified: bool) -> None:
    """The node's pods stacked under its header, each with its veth on the node's bus, coloured by role."""
    from ..net.datapath import veth_name
    from ..net.objects import name_of, pod_host_network, pod_ips, pod_ready

    box = g.nodes[f"node:{n}"]["box"]
    top = box.y1 - HEADER_H - 0.25
    for i, pod in enumerate(pods):
        key = _key(pod)
        pbox = Box(inner.x0, top - (i + 1) * POD_H - i * POD_GAP, inner.x1, top - i * (POD_H + POD_GAP))
        host = pod_host_network(pod)
        ips = ", ".join(pod_ips(pod)) or "no IP"
        veth = None if host else veth_name(g.graph["profile"], key)
        if host:
            line2 = f"hostNetwork · node IP {pod_ips(pod)[0] if pod_ips(pod) else '?'}"
        elif len(pod_ips(pod)) == 1:
            line2 = f"{ips} · {veth}"
        else:
            line2 = ips
        if not pod_ready(pod):
            line2 += " · not ready"
        role = pod_role(pod)
        g.add_node(f"pod:{key}", kind="pod", box=pbox, node=n, key=key, host=host, veth=veth, ips=pod_ips(pod),
                   lines=(_pod_title(_key(pod).split("/")[0] if qualified else None, name_of(pod)), line2), role=role,
                   colours=role_colours(role))
        if not host:
            g.add_node(f"veth:{key}", kind="veth", node=n, point=(box.x0 + BUS_DX, pbox.yc), name=veth)
            g.add_edge(f"pod:{key}", f"veth:{key}", kind="veth")
            g.add_edge(f"veth:{key}", f"dev:{n}:route", kind="wire")


def _add_services(g, services: list, endpoints: dict, y_nt: float, levels_top: float) -> tuple[int, float]:
    """Services in rows above the nodes; odd rows sit over the gaps of the row below so drop lines clear
    it. Returns (rows used, row height)."""
    width, n_svc = g.graph["width"], len(services)
    order = sorted(services, key=lambda s: (_mean_x(g, endpoints.get(_key(s), [])), _key(s)))
    per_row = max(1, int((width - 2 * MARGIN + SVC_GAP) // (SVC_W + SVC_GAP)))
    used = min(per_row, n_svc) if n_svc else 0
    row_x0 = (width - (used * SVC_W + max(used - 1, 0) * SVC_GAP)) / 2
    slots = _service_slots(n_svc, per_row)
    svc_h = 0.47 + SVC_LINE * max([len(_service_lines(s)) for s in services] + [2])
    taken: set = set()
    for i, svc in enumerate(order):
        row, col = slots[i]
        shift = (SVC_W + SVC_GAP) / 2 if row % 2 else 0
        if row:   # upper rows: the free slot nearest the Service's endpoints
            capacity = per_row if row % 2 == 0 else max(per_row - 1, 1)
            want = _mean_x(g, endpoints.get(_key(svc), []))
            want = width / 2 if want == math.inf else want
            col = min((c for c in range(capacity) if (row, c) not in taken),
                      key=lambda c: (abs(row_x0 + shift + c * (SVC_W + SVC_GAP) + SVC_W / 2 - want), c))
        taken.add((row, col))
        x = row_x0 + shift + col * (SVC_W + SVC_GAP)
        yb = levels_top + row * (svc_h + 0.4)
        key = _key(svc)
        eps = sorted(set(endpoints.get(key, [])))
        colour = LINE_COLOURS[i % len(LINE_COLOURS)] if eps else DARK   # its own colour, to follow its arrows
        g.add_node(f"svc:{key}", kind="service", box=Box(x, yb, x + SVC_W, yb + svc_h), key=key, index=i,
                   level=y_nt + 0.3 + LANE_STEP * i, colour=colour,
                   lines=(_service_title(key), *_service_lines(svc)),
                   vips=tuple(svc["spec"].get("clusterIPs") or [svc["spec"].get("clusterIP")]))
        for pod_key, ready in eps:
            g.add_edge(f"svc:{key}", f"pod:{pod_key}", kind="endpoint", ready=ready)
    return (slots[-1][0] + 1 if slots else 0), svc_h


def _service_slots(n: int, per_row: int) -> list[tuple[int, int]]:
    """(row, column) of each Service box: a full first row, then rows of one fewer, staggered."""
    slots, row, col = [], 0, 0
    for _ in range(n):
        width = per_row if row % 2 == 0 else max(per_row - 1, 1)
        if col >= width:
            row, col = row + 1, 0
        slots.append((row, col))
        col += 1
    return slots


def _mean_x(g, eps) -> float:
    xs = [g.nodes[f"pod:{k}"]["box"].xc for k, _ in eps if f"pod:{k}" in g]
    return sum(xs) / len(xs) if xs else math.inf


def _render(g, ax, *, highlight=()):
    """Draw the scene: node boxes, devices, pods with their veth bus, the underlay, Services and arrows."""
    for v, d in sorted(g.nodes(data=True)):
        _render_box(g, ax, v, d, highlight)
    _render_wiring(g, ax)
    _render_endpoints(g, ax)


def _render_box(g, ax, v: str, d: dict, highlight) -> None:
    """One vertex of the scene as its box and label lines."""
    kind = d["kind"]
    if kind == "node":
        b = d["box"]
        _rect(ax, b, v, face="#f8f9fa", edge="#495057", lw=1.4, z=0, rounding=0.15)
        _text(ax, b.x0 + 0.2, b.y1 - 0.27, d["name"], gid=f"label:{v}", size="node", weight="bold")
        _text(ax, b.x0 + 0.2, b.y1 - 0.58, f"InternalIP {d['ip']}", size="small")
        _text(ax, b.x0 + 0.2, b.y1 - 0.84, f"podCIDR {d['cidr']}", size="small")
    elif kind == "device":
        b = d["box"]
        _rect(ax, b, v, face="#eef1f4" if not v.endswith("eth0") else "#e7e2f7",
              edge=TRACE if v in highlight else "#868e96", lw=1.6 if v in highlight else 1.0, z=1,
              rounding=0.05)
        _text(ax, b.xc, b.yc, d["text"], gid=f"label:{v}", size="small", ha="center")
    elif kind == "pod":
        b = d["box"]
        fill, edge = d["colours"]
        _rect(ax, b, v, face=fill, edge=edge, lw=2.6 if v in highlight else 1.2, ls="--" if d["host"] else "-",
              z=3)
        _text(ax, b.x0 + 0.14, b.yc + 0.14, d["lines"][0], gid=f"label:{v}", weight="bold", zorder=4)
        _text(ax, b.x0 + 0.14, b.yc - 0.16, d["lines"][1], size="small", color="#495057", zorder=4)
    elif kind == "underlay":
        b = d["box"]
        _rect(ax, b, v, face="#868e96", edge="#868e96", z=1, rounding=0.03)
        _text(ax, b.xc, g.graph["underlay_text_y"], f"underlay network · {g.graph['underlay_label']}",
              gid="label:underlay", ha="center", style="italic")
    elif kind == "outside":
        b = d["box"]
        fill, edge = role_colours("outside")
        _rect(ax, b, v, face=fill, edge=edge, lw=1.0, ls="--", z=1)
        _text(ax, b.x0 + 0.14, b.y1 - 0.22, "outside the cluster", gid=f"label:{v}", weight="bold", zorder=4)
        _text(ax, b.x0 + 0.14, b.y1 - 0.48, d["text"], size="small", zorder=4)
    elif kind == "service":
        b = d["box"]
        _rect(ax, b, v, face="white", edge=d["colour"], lw=2.2 if v in highlight else 1.4, z=3)
        _text(ax, b.x0 + 0.14, b.y1 - 0.2, d["lines"][0], gid=f"label:{v}", weight="bold", zorder=4)
        for i, line in enumerate(d["lines"][1:]):
            _text(ax, b.x0 + 0.14, b.y1 - 0.46 - SVC_LINE * i, line, size="small", zorder=4)


def _render_wiring(g, ax) -> None:
    """The veth bus down the left of each node into the bridge / routing table, and the node NICs."""
    profile = g.graph["profile"]
    for n, d in sorted(g.nodes(data=True)):
        if d["kind"] != "node":
            continue
        name = d["name"]
        route = g.nodes[f"dev:{name}:route"]["box"]
        veths = [g.nodes[v]["point"] for v in g.predecessors(f"dev:{name}:route") if v.startswith("veth:")]
        bus_x = d["box"].x0 + BUS_DX
        if veths:
            ax.plot([bus_x, bus_x], [max(p[1] for p in veths), route.yc], color=GREY, lw=1.3, zorder=1,
                    gid=f"bus:{name}")
            ax.plot([bus_x, route.x0], [route.yc, route.yc], color=GREY, lw=1.3, zorder=1)
            for v in sorted(g.predecessors(f"dev:{name}:route")):
                if v.startswith("veth:"):
                    pod = g.nodes[f"pod:{v[5:]}"]["box"]
                    ax.plot([bus_x, pod.x0], [pod.yc, pod.yc], color=GREY, lw=1.3, zorder=1)
        eth0 = g.nodes[f"dev:{name}:eth0"]["box"]
        under = g.nodes["underlay"]["box"]
        ax.plot([route.xc if not profile.tunnel_device else eth0.xc] * 2,
                [route.y0, eth0.y1], color=GREY, lw=1.3, zorder=0)
        ax.plot([eth0.xc, eth0.xc], [eth0.y0, under.y1], color=GREY, lw=2.0, zorder=0)
        if profile.tunnel_device:
            tun = g.nodes[f"dev:{name}:tunnel"]["box"]
            ax.plot([tun.x1, eth0.x0], [tun.yc, tun.yc], color=GREY, lw=1.3, zorder=0)
            ax.plot([tun.xc, tun.xc], [route.y0, tun.y1], color=GREY, lw=1.3, zorder=0)


def _render_endpoints(g, ax):
    """Each Service's arrows to its endpoint pods, routed orthogonally: down to the Service's own level,
    across, down its own lane on the right of each node, then left into the pod."""
    for v, d in sorted(g.nodes(data=True)):
        if d["kind"] != "service":
            continue
        b, level = d["box"], d["level"]
        for _, pod_v, e in sorted(g.out_edges(v, data=True)):
            pod = g.nodes[pod_v]
            node_box = g.nodes[f"node:{pod['node']}"]["box"]
            lane = node_box.x1 - 0.22 - LANE_STEP * d["index"]
            pb = pod["box"]
            points = [(b.xc, b.y0), (b.xc, level), (lane, level), (lane, pb.yc), (pb.x1, pb.yc)]
            _polyline_arrow(ax, points, d["colour"], gid=f"endpoint:{v[4:]}->{pod_v[4:]}",
                            ls="-" if e["ready"] else ":", z=2, alpha=0.9)


def _legend(g, ax, extra=()):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = role_handles(g.graph["roles"])
    if any(d["kind"] == "service" for _, d in g.nodes(data=True)):
        handles.append(Line2D([], [], color=DARK, lw=1.2, label="Service → endpoint (one colour per Service)"))
    handles.append(Line2D([], [], color=GREY, lw=1.3, label="veth pairs (to the bridge, or per-pod routes)"))
    handles.extend(extra)
    if g.graph["unscheduled"]:
        handles.append(Patch(facecolor="white", edgecolor="white",
                             label=f"{g.graph['unscheduled']} pod(s) not scheduled (not shown)"))
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=min(4, len(handles)),
              fontsize=FONT["small"], frameon=False, handlelength=1.8, columnspacing=1.6)


def draw_cluster(lab, ax=None, namespaces=None, show_system: bool = False):
    """Nodes (name, InternalIP, podCIDR) with their pods, bridge or routes, tunnel and NIC; the
    underlay labelled with the CNI's mode; Services as VIP boxes with arrows to their endpoints.

    `namespaces` limits the pods and Services drawn; kube-system (and the `kubernetes` Service)
    appear with `show_system=True`. Pods are coloured by role, the same in every figure of the course
    (kubelab.show.colours): client, server, proxy, system; named ns/name when several namespaces show.
    """
    g = cluster_graph(lab, namespaces, show_system)
    config = getattr(lab, "config", None)
    title = (f"Cluster: {sum(1 for _, d in g.nodes(data=True) if d['kind'] == 'node')} nodes, "
             f"{g.graph['profile'].name} ({g.graph['profile'].mode}), "
             f"kube-proxy {getattr(config, 'proxy_mode', '?')}")
    ax = _scene_axes(g, ax, 1)
    if not any(d["kind"] == "node" for _, d in g.nodes(data=True)):
        _text(ax, g.graph["width"] / 2, sum(g.graph["extent"][2:]) / 2, "no nodes: apply Node objects first",
              ha="center")
    _render(g, ax)
    _legend(g, ax)
    ax.set_title(title, fontsize=FONT["title"], loc="center")
    return ax.figure
