"""Pictures of the cluster: nodes, pods, the CNI's wiring, Services, and a packet's path over them.

    from kubelab import viz
    viz.draw_cluster(lab)                     # nodes, pods, bridge/routes, tunnel, Services
    viz.draw_trace(lab, lab.trace("default/client", "web", 80))
    viz.plot_distribution({"10.244.0.3:8080": 34, ...})

The picture is built in two steps: `cluster_graph()` turns the lab's objects into a networkx graph
whose vertices carry a fixed geometry (no layout randomness, so every run draws the same figure),
and the drawing functions render that graph with matplotlib. Figures are created without pyplot, so
a notebook shows each exactly once and nothing accumulates in pyplot's global figure list.
"""
from __future__ import annotations

import functools
import io
import math
import re
import textwrap
from dataclasses import dataclass

__all__ = ["cluster_graph", "draw_cluster", "draw_trace", "plot_distribution", "plot_series", "save_png",
           "figure_png", "underlay_label"]

# ---------------------------------------------------------------- geometry (data units)
INCH = 0.62              # inches per data unit in figures viz creates
MARGIN = 0.35
NODE_GAP = 0.9
POD_LEFT = 0.6           # pods start this far inside the node box; the veth bus runs in the gap
BUS_DX = 0.3
POD_H, POD_GAP = 0.66, 0.16
HEADER_H = 1.0
DEV_H, DEV_GAP = 0.46, 0.22
LANE_STEP = 0.16         # spacing of the Service arrow lanes on the right of each node
SVC_W, SVC_GAP = 3.3, 0.45
SVC_LINE = 0.24         # height of one detail line in a Service box
BAR_H = 0.1

FONT = {"title": 12, "node": 11, "text": 9, "small": 8}
GREY, DARK, RED, GREEN, TRACE = "#adb5bd", "#343a40", "#c92a2a", "#2b8a3e", "#e8590c"
# pod groups: (fill, edge); the edge colour also colours the Services that select the group
PALETTE = [("#d0e3ff", "#1c64c8"), ("#d3f0da", "#2b8a3e"), ("#ffe3bf", "#d9480f"), ("#f3d9fa", "#9c36b5"),
           ("#c5f0f0", "#0c8599"), ("#fff0b3", "#b08900"), ("#ffd6d9", "#c2255c"), ("#e2e6ea", "#495057")]
SYSTEM = ("kube-system",)


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in data units."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2

    def left(self):
        return (self.x0, self.yc)

    def right(self):
        return (self.x1, self.yc)

    def top(self):
        return (self.xc, self.y1)

    def bottom(self):
        return (self.xc, self.y0)

    def toward(self, x: float, y: float):
        """Where the line from the centre to (x, y) leaves the box."""
        dx, dy = x - self.xc, y - self.yc
        if dx == 0 and dy == 0:
            return (self.xc, self.yc)
        sx = (self.x1 - self.x0) / 2 / abs(dx) if dx else math.inf
        sy = (self.y1 - self.y0) / 2 / abs(dy) if dy else math.inf
        s = min(sx, sy)
        return (self.xc + dx * s, self.yc + dy * s)


# ---------------------------------------------------------------- the cluster as a graph
def _profile(lab):
    from .net.cni import cni_profile

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


def _group(pod: dict, color_by: str) -> str:
    from .net.objects import labels_of, namespace_of

    if color_by == "app":
        labels = labels_of(pod)
        for key in ("app", "app.kubernetes.io/name", "k8s-app"):
            if key in labels:
                return f"{key}={labels[key]}"
    return f"namespace {namespace_of(pod)}"


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
    lines.append((f"{kind} " if kind != "ClusterIP" else "") + (port_text or "no ports"))
    external = [i.get("ip") or i.get("hostname") for i in ((svc.get("status") or {}).get("loadBalancer") or {})
                .get("ingress") or []]
    if external:
        lines.append(f"load balancer {', '.join(external)}")
    if spec.get("externalIPs"):
        lines.append(f"externalIPs {', '.join(spec['externalIPs'])}")
    return lines


def _fit(text: str, limit: int) -> str:
    """Break a device label onto two lines at its space when one line would overflow the box."""
    return text if len(text) <= limit else text.replace(" ", "\n", 1)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 8] + "…" + text[-7:]


def cluster_graph(lab, namespaces=None, show_system: bool = False, color_by: str = "app",
                  include=(), outside=None, notes: int = 0):
    """The cluster as a networkx DiGraph with a fixed geometry on every vertex.

    Vertices: ``node:<name>``, ``pod:<ns>/<name>``, ``veth:<ns>/<name>``, ``svc:<ns>/<name>``,
    ``dev:<node>:<kube-proxy|route|tunnel|eth0>``, ``underlay``, ``outside:<src|dst>``; each has
    ``kind`` and ``box`` (a Box) or ``point``. Edges: ``endpoint`` (Service → pod, with ``ready``),
    ``veth``, ``wire``. `include` names pods/Services ("pod:ns/name", "svc:ns/name") to draw even
    when filtered out; `outside` adds boxes for a client or server outside the cluster.
    """
    import networkx as nx

    from .net.datapath import veth_name
    from .net.objects import key_of, labels_of, name_of, namespace_of, pod_host_network, pod_ips, pod_ready

    profile = _profile(lab)
    include = set(include)
    outside = outside or {}

    def visible(obj, prefix):
        ns = namespace_of(obj)
        if f"{prefix}:{key_of(obj)}" in include:
            return True
        if namespaces is not None and ns not in namespaces:
            return False
        system = ns in SYSTEM or (prefix == "svc" and key_of(obj) == "default/kubernetes")
        return show_system or not system

    nodes = sorted(lab.list("Node"), key=name_of)
    node_names = [name_of(n) for n in nodes]
    pods = sorted((p for p in lab.list("Pod") if visible(p, "pod")), key=key_of)
    services = sorted((s for s in lab.list("Service") if visible(s, "svc")), key=key_of)
    placed = [p for p in pods if (p.get("spec") or {}).get("nodeName") in node_names]
    unscheduled = len(pods) - len(placed)
    by_node = {n: [p for p in placed if p["spec"]["nodeName"] == n] for n in node_names}
    groups = sorted({_group(p, color_by) for p in placed})
    colours = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    pod_by_ip = {ip: p for p in placed if not pod_host_network(p) for ip in pod_ips(p)}

    # endpoints of each Service, from its EndpointSlices (the data kube-proxy programs)
    endpoints: dict[str, list[tuple[str, bool]]] = {}
    for s in lab.list("EndpointSlice"):
        svc_key = f"{namespace_of(s)}/{labels_of(s).get('kubernetes.io/service-name', '')}"
        for e in s.get("endpoints") or []:
            ready = (e.get("conditions") or {}).get("ready") is not False
            for addr in e.get("addresses") or []:
                if addr in pod_by_ip:
                    endpoints.setdefault(svc_key, []).append((key_of(pod_by_ip[addr]), ready))

    # horizontal geometry
    n_svc = len(services)
    right_w = 0.3 + LANE_STEP * max(n_svc, 1)
    node_w = 4.0 + POD_LEFT + right_w
    width = 2 * MARGIN + max(len(nodes), 1) * node_w + max(len(nodes) - 1, 0) * NODE_GAP
    node_x0 = {n: MARGIN + i * (node_w + NODE_GAP) for i, n in enumerate(node_names)}

    # vertical geometry, bottom to top
    g = nx.DiGraph(width=width, profile=profile, groups=[(grp, colours[grp]) for grp in groups],
                   underlay_label=underlay_label(profile), unscheduled=unscheduled)
    legend_rows = math.ceil((len(groups) + 4) / 4)
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
    y_nb = y_bar + 0.55
    n_max = max([len(v) for v in by_node.values()] + [1])
    pods_h = n_max * (POD_H + POD_GAP) - POD_GAP
    dev_top = y_nb + 0.2 + 3 * DEV_H + 2 * DEV_GAP
    node_h = (dev_top - y_nb) + 0.35 + pods_h + 0.25 + HEADER_H
    y_nt = y_nb + node_h
    levels_top = y_nt + 0.3 + LANE_STEP * n_svc + 0.15

    for node in nodes:
        n = name_of(node)
        x0 = node_x0[n]
        box = Box(x0, y_nb, x0 + node_w, y_nt)
        g.add_node(f"node:{n}", kind="node", box=box, name=n, ip=_node_ip(node),
                   cidr=", ".join((node.get("spec") or {}).get("podCIDRs") or
                                  [(node.get("spec") or {}).get("podCIDR") or "no podCIDR"]))
        inner = Box(x0 + POD_LEFT, y_nb, x0 + node_w - right_w, y_nt)
        rows = [y_nb + 0.2 + i * (DEV_H + DEV_GAP) for i in range(3)]  # eth0 row, route row, kube-proxy row
        proxy = getattr(getattr(lab, "config", None), "proxy_mode", "iptables")
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
        top = y_nt - HEADER_H - 0.25
        for i, pod in enumerate(by_node[n]):
            key = key_of(pod)
            pbox = Box(inner.x0, top - (i + 1) * POD_H - i * POD_GAP, inner.x1, top - i * (POD_H + POD_GAP))
            host = pod_host_network(pod)
            ips = ", ".join(pod_ips(pod)) or "no IP"
            veth = None if host else veth_name(profile, key)
            if host:
                line2 = f"hostNetwork · node IP {pod_ips(pod)[0] if pod_ips(pod) else '?'}"
            elif len(pod_ips(pod)) == 1:
                line2 = f"{ips} · {veth}"
            else:
                line2 = ips
            if not pod_ready(pod):
                line2 += " · not ready"
            g.add_node(f"pod:{key}", kind="pod", box=pbox, node=n, key=key, host=host, veth=veth, ips=pod_ips(pod),
                       lines=(_shorten(name_of(pod), 34), line2), colours=colours[_group(pod, color_by)])
            if not host:
                g.add_node(f"veth:{key}", kind="veth", node=n, point=(x0 + BUS_DX, pbox.yc), name=veth)
                g.add_edge(f"pod:{key}", f"veth:{key}", kind="veth")
                g.add_edge(f"veth:{key}", f"dev:{n}:route", kind="wire")

    # Services: rows above the nodes; odd rows sit over the gaps of the row below so drop lines clear it
    order = sorted(services, key=lambda s: (_mean_x(g, endpoints.get(key_of(s), [])), key_of(s)))
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
            want = _mean_x(g, endpoints.get(key_of(svc), []))
            want = width / 2 if want == math.inf else want
            col = min((c for c in range(capacity) if (row, c) not in taken),
                      key=lambda c: (abs(row_x0 + shift + c * (SVC_W + SVC_GAP) + SVC_W / 2 - want), c))
        taken.add((row, col))
        x = row_x0 + shift + col * (SVC_W + SVC_GAP)
        yb = levels_top + row * (svc_h + 0.4)
        key = key_of(svc)
        eps = sorted(set(endpoints.get(key, [])))
        colour = g.nodes[f"pod:{eps[0][0]}"]["colours"][1] if eps else DARK
        g.add_node(f"svc:{key}", kind="service", box=Box(x, yb, x + SVC_W, yb + svc_h), key=key, index=i,
                   level=y_nt + 0.3 + LANE_STEP * i, colour=colour,
                   lines=(f"svc {_shorten(key, 30)}", *_service_lines(svc)),
                   vips=tuple(svc["spec"].get("clusterIPs") or [svc["spec"].get("clusterIP")]))
        for pod_key, ready in eps:
            g.add_edge(f"svc:{key}", f"pod:{pod_key}", kind="endpoint", ready=ready)
    rows_used = slots[-1][0] + 1 if slots else 0
    g.graph["extent"] = (0.0, width, 0.0, levels_top + rows_used * (svc_h + 0.4) + MARGIN - (0.4 if rows_used else 0))
    g.graph["right_w"] = right_w
    return g


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


# ---------------------------------------------------------------- figures
@functools.lru_cache(maxsize=None)
def _figure_class():
    from matplotlib.figure import Figure

    class KubelabFigure(Figure):
        """A pyplot-free Figure that a notebook shows once, as a deterministic PNG."""

        def _repr_png_(self):
            return figure_png(self)

    return KubelabFigure


def new_figure(width_in: float, height_in: float):
    """A Figure outside pyplot's registry: a notebook cell ending with it shows it exactly once."""
    return _new_figure(width_in, height_in)


def _new_figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure_class()(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig, dpi: int = 110) -> bytes:
    """The figure as PNG bytes, identical run to run (no software/date metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


def save_png(fig, path, dpi: int = 110) -> str:
    """Write the figure to `path` as a deterministic PNG; returns the path."""
    with open(path, "wb") as fh:
        fh.write(figure_png(fig, dpi))
    return str(path)


def _scene_axes(g, ax, title_lines: int):
    """Axes sized to the scene: a new figure whose data units are INCH inches, or the caller's axes."""
    x0, x1, y0, y1 = g.graph["extent"]
    if ax is None:
        title_in = 0.25 + 0.24 * title_lines
        w_in, h_in = (x1 - x0) * INCH, (y1 - y0) * INCH
        fig = _new_figure(w_in, h_in + title_in)
        ax = fig.add_axes((0, 0, 1, h_in / (h_in + title_in)))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def _rect(ax, box: Box, gid: str, face="white", edge=DARK, lw=1.0, ls="-", z=1, rounding=0.08):
    from matplotlib.patches import FancyBboxPatch

    patch = FancyBboxPatch((box.x0, box.y0), box.x1 - box.x0, box.y1 - box.y0,
                           boxstyle=f"round,pad=0,rounding_size={rounding}", facecolor=face, edgecolor=edge,
                           linewidth=lw, linestyle=ls, zorder=z, gid=gid)
    ax.add_patch(patch)
    return patch


def _text(ax, x, y, s, gid=None, size="text", **kw):
    kw.setdefault("ha", "left")
    kw.setdefault("va", "center")
    kw.setdefault("color", DARK)
    return ax.text(x, y, s, fontsize=FONT[size], gid=gid, **kw)


def _polyline_arrow(ax, points, colour, gid, lw=1.2, ls="-", z=2, alpha=1.0):
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    path = Path(points, [Path.MOVETO] + [Path.LINETO] * (len(points) - 1))
    arrow = FancyArrowPatch(path=path, arrowstyle="-|>,head_length=5,head_width=3",
                            color=colour, linewidth=lw, linestyle=ls, zorder=z, gid=gid, alpha=alpha,
                            shrinkA=0, shrinkB=0, joinstyle="miter", capstyle="butt")
    ax.add_patch(arrow)
    return arrow


def _render(g, ax, *, highlight=()):
    """Draw the scene: node boxes, devices, pods with their veth bus, the underlay, Services and arrows."""
    profile = g.graph["profile"]
    for v, d in sorted(g.nodes(data=True)):
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
            _rect(ax, b, v, face="#fff9db", edge="#868e96", lw=1.0, ls="--", z=1)
            _text(ax, b.x0 + 0.14, b.y1 - 0.22, "outside the cluster", gid=f"label:{v}", weight="bold", zorder=4)
            _text(ax, b.x0 + 0.14, b.y1 - 0.48, d["text"], size="small", zorder=4)
        elif kind == "service":
            b = d["box"]
            _rect(ax, b, v, face="white", edge=d["colour"], lw=2.2 if v in highlight else 1.4, z=3)
            _text(ax, b.x0 + 0.14, b.y1 - 0.2, d["lines"][0], gid=f"label:{v}", weight="bold", zorder=4)
            for i, line in enumerate(d["lines"][1:]):
                _text(ax, b.x0 + 0.14, b.y1 - 0.46 - SVC_LINE * i, line, size="small", zorder=4)
    # wiring: the veth bus down the left of each node into the bridge / routing table, and node NICs
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
    _render_endpoints(g, ax)


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

    handles = [Patch(facecolor=fill, edgecolor=edge, label=grp) for grp, (fill, edge) in g.graph["groups"]]
    if any(d["kind"] == "service" for _, d in g.nodes(data=True)):
        handles.append(Line2D([], [], color=DARK, lw=1.2, label="Service → endpoint (from EndpointSlices)"))
    handles.append(Line2D([], [], color=GREY, lw=1.3, label="veth pairs (to the bridge, or per-pod routes)"))
    handles.extend(extra)
    if g.graph["unscheduled"]:
        handles.append(Patch(facecolor="white", edgecolor="white",
                             label=f"{g.graph['unscheduled']} pod(s) not scheduled (not shown)"))
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=min(4, len(handles)),
              fontsize=FONT["small"], frameon=False, handlelength=1.8, columnspacing=1.6)


def draw_cluster(lab, ax=None, namespaces=None, show_system: bool = False, color_by: str = "app"):
    """Nodes (name, InternalIP, podCIDR) with their pods, bridge or routes, tunnel and NIC; the
    underlay labelled with the CNI's mode; Services as VIP boxes with arrows to their endpoints.

    `namespaces` limits the pods and Services drawn; kube-system (and the `kubernetes` Service)
    appear with `show_system=True`; pods are coloured by app label (`color_by="namespace"` to change).
    """
    g = cluster_graph(lab, namespaces, show_system, color_by)
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


# ---------------------------------------------------------------- a packet's path
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _num(i: int) -> str:
    return _CIRCLED[i - 1] if 1 <= i <= len(_CIRCLED) else f"({i})"


def _where_pod(where: str) -> str | None:
    return where[4:] if where.startswith("pod ") else None


def _trace_anchors(g, trace) -> list[str]:
    """The graph vertex each hop happens at (pods, veths, node devices, the underlay, the outside)."""
    profile = g.graph["profile"]
    veths = {d["name"]: v for v, d in g.nodes(data=True) if d["kind"] == "veth"}
    anchors = []
    for i, hop in enumerate(trace.hops):
        pod = _where_pod(hop.where)
        if pod is not None and f"pod:{pod}" in g:
            anchors.append(f"pod:{pod}")
        elif hop.where.startswith("node "):
            node = hop.where[5:]
            dev = hop.device
            if dev in veths:
                anchors.append(veths[dev])
            elif "nat" in dev or "conntrack" in dev or "ipvs" in dev:
                anchors.append(f"dev:{node}:kube-proxy")
            elif dev in ("routing table", profile.bridge):
                anchors.append(f"dev:{node}:route")
            elif profile.tunnel_device and dev == profile.tunnel_device:
                anchors.append(f"dev:{node}:tunnel")
            else:
                anchors.append(f"dev:{node}:eth0")
        elif hop.where == "underlay":
            anchors.append("underlay")
        else:
            anchors.append("outside:src" if i == 0 else "outside:dst")
    return anchors


def _involved(trace) -> tuple[set, dict]:
    """Pods and Services the trace touches (drawn even if filtered out) and the outside ends it needs."""
    include = {f"pod:{p}" for h in trace.hops if (p := _where_pod(h.where))}
    for h in trace.hops:
        m = re.search(r"Service (\S+/\S+)", h.detail)
        if m:
            include.add(f"svc:{m.group(1)}")
    for end in (trace.verdict.src, trace.verdict.dst):
        if end.count("/") == 1 and not end.startswith("node/"):
            include.add(f"pod:{end}")
    outside = {}
    hops = trace.hops
    if hops and not hops[0].where.startswith(("pod ", "node ")):
        outside["src"] = f"client {hops[0].src}"
    if hops and not hops[-1].where.startswith(("pod ", "node ")):
        outside["dst"] = f"{hops[-1].where.split(' (')[0]} (server)"
    if not hops and trace.verdict.src == "outside":
        outside["src"] = "client"
    return include, outside


class _Router:
    """Polylines between the anchors of consecutive hops, kept apart where they would overlap:
    sending runs down the veth bus, receiving runs beside it; device hops skip over boxes on the
    right; each run along the underlay bar gets its own track."""

    def __init__(self, g):
        self.g = g
        self.bar = g.nodes["underlay"]["box"]
        self.bar_runs = 0

    def _bar_y(self) -> float:
        y = self.bar.yc - 0.2 * self.bar_runs
        self.bar_runs += 1
        return y

    def route(self, a: str, b: str, prev: str | None) -> list:
        g, bar = self.g, self.bar
        da, db = g.nodes[a], g.nodes[b]
        ka, kb = da["kind"], db["kind"]
        if ka == "pod" and kb == "veth":
            return [da["box"].left(), db["point"]]
        if ka == "veth" and kb == "pod":
            return [da["point"], db["box"].left()]
        if ka == "veth" and kb == "device":
            return [da["point"], (da["point"][0], db["box"].yc), db["box"].left()]
        if ka == "device" and kb == "veth":
            x = db["point"][0] - 0.13
            return [da["box"].left(), (x, da["box"].yc), (x, db["point"][1]), db["point"]]
        if ka == "device" and kb == "device" and da["node"] == db["node"]:
            return self._between_devices(da["box"], db["box"])
        if kb == "underlay":
            if ka == "outside":
                return [da["box"].top(), (da["box"].xc, bar.y0)]
            return [da["box"].bottom(), (da["box"].xc, bar.y1)]
        if ka == "underlay":
            x_from = _centre(g.nodes[prev])[0] if prev else bar.xc
            y = self._bar_y()
            if kb == "outside":
                return [(x_from, y), (db["box"].xc, y), db["box"].top()]
            if kb == "device" and db["box"].y0 > g.nodes[f"dev:{db['node']}:eth0"]["box"].y1:
                # up through the node's eth0 (beside its label) to the routing table or bridge
                x = db["box"].x1 - 0.35
                return [(x_from, y), (x, y), (x, db["box"].y0)]
            return [(x_from, y), (db["box"].xc, y), db["box"].bottom()]
        if kb == "outside" and ka == "device":
            y = self._bar_y()
            return [da["box"].bottom(), (da["box"].xc, y), (db["box"].xc, y), db["box"].top()]
        if ka == "outside" and kb == "device":
            y = self._bar_y()
            return [da["box"].top(), (da["box"].xc, y), (db["box"].xc, y), db["box"].bottom()]
        pa = da["point"] if "point" in da else da["box"].toward(*_centre(db))
        pb = db["point"] if "point" in db else db["box"].toward(*_centre(da))
        return [pa, pb]

    @staticmethod
    def _between_devices(a: Box, b: Box) -> list:
        """Adjacent rows: straight; farther apart: around the right-hand side (up and down on two tracks)."""
        if abs(a.yc - b.yc) < 1e-6:
            return [a.right(), b.left()] if a.x1 <= b.x0 else [a.left(), b.right()]
        if abs(a.yc - b.yc) <= DEV_H + DEV_GAP + 1e-6:
            x = max(a.x0, b.x0) + (min(a.x1, b.x1) - max(a.x0, b.x0)) / 2
            return [(x, a.y0 if b.yc < a.yc else a.y1), (x, b.y1 if b.yc < a.yc else b.y0)]
        track = 0.14 if b.yc > a.yc else 0.28
        if abs(a.x1 - b.x1) < 1e-6 or (b.x1 > a.x1):
            x = max(a.x1, b.x1) + track
            return [a.right(), (x, a.yc), (x, b.yc), b.right()]
        x = min(a.x0, b.x0) - track / 2         # a half-width box (the tunnel) is reached from the left
        return [a.left(), (x, a.yc), (x, b.yc), b.left()]


def _centre(d):
    return d["point"] if "point" in d else (d["box"].xc, d["box"].yc)


def _label_point(points, taken: list, min_gap: float = 0.34):
    """A spot on the polyline for the step number: its middle if free, else the free spot nearest it."""
    lengths = [math.dist(p, q) for p, q in zip(points, points[1:])]
    total = sum(lengths) or 1.0

    def at(fraction):
        target, run = fraction * total, 0.0
        for (p, q), length in zip(zip(points, points[1:]), lengths):
            if run + length >= target and length:
                t = (target - run) / length
                return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)
            run += length
        return points[-1]

    candidates = [at(f) for f in (0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9)]
    for c in candidates:
        if all(math.dist(c, t) >= min_gap for t in taken):
            return c
    return max(candidates, key=lambda c: min(math.dist(c, t) for t in taken))


def _badge(ax, x, y, text, colour, gid):
    return _text(ax, x, y, text, gid=gid, size="small", ha="center", color="white", weight="bold", zorder=8,
                 bbox=dict(boxstyle="circle,pad=0.2", facecolor=colour, edgecolor="white", linewidth=0.8))


def _find_end(g, end: str):
    """The vertex for a verdict's src/dst text (ns/pod, node/<name>, an IP, a Service name), or None."""
    if end == "outside":
        return "outside:src" if "outside:src" in g else None
    if end.startswith("node/"):
        v = f"dev:{end[5:]}:eth0"
        return v if v in g else None
    if f"pod:{end}" in g:
        return f"pod:{end}"
    for v, d in sorted(g.nodes(data=True)):
        if d["kind"] == "service":
            ns, name = d["key"].split("/")
            if end in (name, f"{name}.{ns}", f"{name}.{ns}.svc") or end.startswith(f"{name}.{ns}.svc.") \
                    or end in d["vips"]:
                return v
        elif d["kind"] in ("pod", "device") and end in d.get("ips", ()):
            return v
    return None


def _nat_note(i: int, hop) -> str:
    node = hop.where[5:] if hop.where.startswith("node ") else hop.where
    action = hop.action.replace("->", "→")
    text = f"{_num(i)} {action}  [on {node}]"
    if "encapsulates" in hop.action and hop.detail:
        text = f"{_num(i)} {hop.detail.replace('->', '→')}  [{hop.device} on {node}]"
    return text


def draw_trace(lab, trace, ax=None):
    """The cluster with the packet's path over it: numbered arrows hop by hop, NAT steps annotated,
    a failing hop in red; the title is the verdict and its reason."""
    from matplotlib.lines import Line2D

    verdict = trace.verdict
    include, outside = _involved(trace)
    notes = [(i, h) for i, h in enumerate(trace.hops, 1)
             if h.action.startswith(("DNAT", "SNAT")) or "encapsulates" in h.action]
    failed_hop = bool(trace.hops) and not verdict.allowed
    g = cluster_graph(lab, include=include, outside=outside, notes=len(notes) + failed_hop)
    head = (f"{'ALLOWED' if verdict.allowed else 'BLOCKED'} {verdict.src} → "
            f"{verdict.dst}:{verdict.port}/{verdict.protocol}")
    reason = textwrap.wrap(verdict.reason, width=max(60, int(g.graph["width"] * INCH * 11)))
    anchors = _trace_anchors(g, trace)
    ends = {e for e in (_find_end(g, verdict.src), anchors[-1] if anchors else _find_end(g, verdict.dst)) if e}
    highlight = set(anchors) | {v for v in include if v.startswith("svc:")} | ends
    ax = _scene_axes(g, ax, 1 + len(reason))
    _render(g, ax, highlight=highlight)

    # numbered arrows between consecutive distinct anchors; the last one red when the packet is refused
    router, taken, prev = _Router(g), [], None
    if anchors:
        first = g.nodes[anchors[0]]
        x, y = (first["box"].x1, first["box"].y1) if "box" in first else first["point"]   # on the corner
        _badge(ax, x, y, "1", TRACE, "step:1")
        taken.append((x, y))
    for i in range(1, len(anchors)):
        a, b = anchors[i - 1], anchors[i]
        if a == b:
            continue
        colour = RED if (i == len(anchors) - 1 and not verdict.allowed) else TRACE
        points = router.route(a, b, prev)
        _polyline_arrow(ax, points, colour, gid=f"trace:{i + 1}", lw=2.4, z=6)
        x, y = _label_point(points, taken)
        _badge(ax, x, y, str(i + 1), colour, f"step:{i + 1}")
        taken.append((x, y))
        prev = a
    if not verdict.allowed:
        _mark_failure(g, ax, trace, anchors)

    # NAT tags over the box where it happened, then the notes band: what NAT and encapsulation did
    tags: dict[str, list[str]] = {}
    for (i, h), anchor in zip(enumerate(trace.hops, 1), anchors):
        if h.action.startswith(("DNAT", "SNAT")) and "box" in g.nodes[anchor]:
            tags.setdefault(anchor, []).append(f"{_num(i)} {h.action.split()[0]}")
    for anchor, words in sorted(tags.items()):
        b = g.nodes[anchor]["box"]
        _text(ax, b.x1 - 0.05, b.y1 + 0.05, "  ".join(words), gid=f"nat-tag:{anchor}", size="small",
              ha="right", va="bottom", color="#862e9c", weight="bold", zorder=7,
              bbox=dict(boxstyle="round,pad=0.15", facecolor="#fff3bf", edgecolor="#f59f00", linewidth=0.8))
    y = g.graph["notes_y"]
    for i, h in notes:
        _text(ax, MARGIN + 0.1, y, _nat_note(i, h), gid=f"note:{i}", size="small",
              color="#862e9c" if "NAT" in h.action else DARK,
              bbox=dict(boxstyle="round,pad=0.25", facecolor="#fff3bf", edgecolor="#f59f00"))
        y -= 0.36
    if failed_hop:
        last = trace.hops[-1]
        _text(ax, MARGIN + 0.1, y, _shorten(f"✗ blocked at step {len(trace.hops)} ({last.where}): {verdict.reason}", 160),
              gid="note:failure", size="small", color=RED, weight="bold")
    extra = [Line2D([], [], color=TRACE, lw=2.4, label="packet path (badge n: the leg into hop n)")]
    if not verdict.allowed:
        extra.append(Line2D([], [], color=RED, lw=2.4, label="where it is blocked"))
    _legend(g, ax, extra)
    ax.set_title(head + "\n" + "\n".join(reason), fontsize=FONT["title"] - 1, color=GREEN if verdict.allowed else RED)
    return ax.figure


def _mark_failure(g, ax, trace, anchors):
    """A red ✗ on the last box the packet reached; when no hop was taken, a dashed red arrow from the
    source to where it was going, and the ✗ there."""
    if anchors:
        target = anchors[-1]
    else:
        target = _find_end(g, trace.verdict.src)
        dst = _find_end(g, trace.verdict.dst)
        if target and dst and target != dst:
            ca, cb = _centre(g.nodes[target]), _centre(g.nodes[dst])
            points = [g.nodes[target]["box"].toward(*cb) if "box" in g.nodes[target] else ca,
                      g.nodes[dst]["box"].toward(*ca) if "box" in g.nodes[dst] else cb]
            _polyline_arrow(ax, points, RED, gid="trace:blocked", lw=2.0, ls="--", z=6)
            target = dst
    if target is None:
        return
    d = g.nodes[target]
    if "box" in d:
        b = d["box"]
        _rect(ax, Box(b.x0 - 0.06, b.y0 - 0.06, b.x1 + 0.06, b.y1 + 0.06), "failure", face="none", edge=RED,
              lw=2.4, z=7)
        x, y = b.x1 - 0.05, b.y1
    else:
        x, y = d["point"]
    _text(ax, x, y, "✗", gid="failure-mark", size="node", ha="center", color="white", weight="bold", zorder=9,
          bbox=dict(boxstyle="circle,pad=0.15", facecolor=RED, edgecolor="white"))


# ---------------------------------------------------------------- charts
def _chart(ax, size=(7.5, 4.2)):
    if ax is None:
        fig = _new_figure(*size)
        ax = fig.add_subplot(1, 1, 1)
    return ax


def plot_distribution(counts: dict, ax=None, title: str = "Connections per endpoint"):
    """Bars: how many connections each endpoint received, with the even share (total / n) dashed."""
    ax = _chart(ax)
    keys = sorted(counts)
    values = [counts[k] for k in keys]
    total = sum(values)
    ax.bar(range(len(keys)), values, color=PALETTE[0][1], alpha=0.85, width=0.6, gid="bars")
    if keys:
        ideal = total / len(keys)
        ax.axhline(ideal, color=RED, ls="--", lw=1.5, label=f"even share 1/{len(keys)} = {ideal:.1f}", gid="ideal")
        top = max(values + [ideal])
        ax.legend(fontsize=FONT["small"], loc="upper right", framealpha=0.95)
        ax.set_ylim(0, top * 1.25 + 1)
    ax.set_xticks(range(len(keys)))
    # counts go under each endpoint's name: they never collide with the bars or the dashed line
    ax.set_xticklabels([f"{k}\n{v} ({100 * v / total if total else 0:.0f}%)" for k, v in zip(keys, values)],
                       fontsize=FONT["small"], rotation=20 if len(keys) > 4 else 0,
                       ha="right" if len(keys) > 4 else "center")
    ax.set_ylabel("connections", fontsize=FONT["text"])
    ax.set_xlabel("endpoint", fontsize=FONT["text"])
    ax.set_title(f"{title} ({total} total)", fontsize=FONT["title"])
    ax.spines[["top", "right"]].set_visible(False)
    ax.figure.tight_layout()
    return ax.figure


def plot_series(x, ys: dict, xlabel: str, ylabel: str, title: str, logx: bool = False, logy: bool = False,
                ax=None):
    """Lines: one series per key of `ys` (sorted), sharing `x`; log axes on request."""
    ax = _chart(ax)
    markers = "osD^v<>p"
    for i, name in enumerate(sorted(ys)):
        fill, edge = PALETTE[i % len(PALETTE)]
        ax.plot(list(x), list(ys[name]), marker=markers[i % len(markers)], color=edge, lw=1.8, ms=5,
                label=name, gid=f"series:{name}")
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel, fontsize=FONT["text"])
    ax.set_ylabel(ylabel, fontsize=FONT["text"])
    ax.set_title(title, fontsize=FONT["title"])
    ax.grid(True, which="major", color="#dee2e6", lw=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    if ys:
        ax.legend(fontsize=FONT["small"], frameon=False)
    ax.figure.tight_layout()
    return ax.figure
