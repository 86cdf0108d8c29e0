"""A packet's path drawn over the cluster picture: numbered hops, NAT notes, the failure point."""
from __future__ import annotations

import math
import re
import textwrap

from .cluster import _legend, _render, _shorten, cluster_graph
from .figures import (DARK, DEV_GAP, DEV_H, FONT, GREEN, INCH, MARGIN, RED, TRACE, Box, _polyline_arrow, _rect,
                      _scene_axes, _text)

__all__ = ["draw_trace"]


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
            elif "nat" in dev or "conntrack" in dev or "ipvs" in dev or "filter" in dev:
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


def draw_trace(lab, trace, ax=None, namespaces=None):
    """The cluster with the packet's path over it: numbered arrows hop by hop, NAT steps annotated,
    a failing hop in red; the title is the verdict and its reason. `namespaces` limits the other pods and
    Services drawn to those namespaces (what the trace touches is always drawn): a smaller picture of a
    big cluster."""
    from matplotlib.lines import Line2D

    verdict = trace.verdict
    include, outside = _involved(trace)
    notes = [(i, h) for i, h in enumerate(trace.hops, 1)
             if h.action.startswith(("DNAT", "SNAT")) or "encapsulates" in h.action]
    failed_hop = bool(trace.hops) and not verdict.allowed
    g = cluster_graph(lab, namespaces=namespaces, include=include, outside=outside, notes=len(notes) + failed_hop)
    head = (f"{'ALLOWED' if verdict.allowed else 'BLOCKED'} {verdict.src} → "
            f"{verdict.dst}:{verdict.port}/{verdict.protocol}")
    reason = textwrap.wrap(verdict.reason, width=max(60, int(g.graph["width"] * INCH * 11)))
    anchors = _trace_anchors(g, trace)
    ends = {e for e in (_find_end(g, verdict.src), anchors[-1] if anchors else _find_end(g, verdict.dst)) if e}
    highlight = set(anchors) | {v for v in include if v.startswith("svc:")} | ends
    ax = _scene_axes(g, ax, 1 + len(reason))
    _render(g, ax, highlight=highlight)
    _draw_path(g, ax, anchors, verdict.allowed)
    if not verdict.allowed:
        _mark_failure(g, ax, trace, anchors)
    _draw_nat_tags(g, ax, trace, anchors)
    _draw_notes(g, ax, trace, notes, failed_hop)
    extra = [Line2D([], [], color=TRACE, lw=2.4, label="packet path (badge n: the leg into hop n)")]
    if not verdict.allowed:
        extra.append(Line2D([], [], color=RED, lw=2.4, label="where it is blocked"))
    _legend(g, ax, extra)
    ax.set_title(head + "\n" + "\n".join(reason), fontsize=FONT["title"] - 1, color=GREEN if verdict.allowed else RED)
    return ax.figure


def _draw_path(g, ax, anchors: list, allowed: bool) -> None:
    """Numbered arrows between consecutive distinct anchors; the last one red when the packet is refused."""
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
        colour = RED if (i == len(anchors) - 1 and not allowed) else TRACE
        points = router.route(a, b, prev)
        _polyline_arrow(ax, points, colour, gid=f"trace:{i + 1}", lw=2.4, z=6)
        x, y = _label_point(points, taken)
        _badge(ax, x, y, str(i + 1), colour, f"step:{i + 1}")
        taken.append((x, y))
        prev = a


def _draw_nat_tags(g, ax, trace, anchors: list) -> None:
    """A tag over each box where NAT happened, naming the hop numbers and the NAT kind."""
    tags: dict[str, list[str]] = {}
    for (i, h), anchor in zip(enumerate(trace.hops, 1), anchors):
        if h.action.startswith(("DNAT", "SNAT")) and "box" in g.nodes[anchor]:
            tags.setdefault(anchor, []).append(f"{_num(i)} {h.action.split()[0]}")
    for anchor, words in sorted(tags.items()):
        b = g.nodes[anchor]["box"]
        _text(ax, b.x1 - 0.05, b.y1 + 0.05, "  ".join(words), gid=f"nat-tag:{anchor}", size="small",
              ha="right", va="bottom", color="#862e9c", weight="bold", zorder=7,
              bbox=dict(boxstyle="round,pad=0.15", facecolor="#fff3bf", edgecolor="#f59f00", linewidth=0.8))


def _draw_notes(g, ax, trace, notes: list, failed_hop: bool) -> None:
    """The notes band: what NAT and encapsulation did at each step, and where the packet was blocked."""
    y = g.graph["notes_y"]
    for i, h in notes:
        _text(ax, MARGIN + 0.1, y, _nat_note(i, h), gid=f"note:{i}", size="small",
              color="#862e9c" if "NAT" in h.action else DARK,
              bbox=dict(boxstyle="round,pad=0.25", facecolor="#fff3bf", edgecolor="#f59f00"))
        y -= 0.36
    if failed_hop:
        last = trace.hops[-1]
        _text(ax, MARGIN + 0.1, y, _shorten(f"✗ blocked at step {len(trace.hops)} ({last.where}): "
                                            f"{trace.verdict.reason}", 160),
              gid="note:failure", size="small", color=RED, weight="bold")


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
