"""Pictures of L7 traffic: one request's path (client -> load balancer -> proxy pod -> Service -> pod), drawn
from `Response.hops`, and how a burst of requests split over backends.

    from kubelab.show.http import draw_request_path, plot_split
    draw_request_path(lab.http("http://shop.example.com/cart", resolve={...}))
    plot_split({"default/web-v1:80": 452, "default/web-v2:80": 48}, weights={"default/web-v1:80": 90, ...})

Only the Response is read: no cluster access at all.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from .colours import LINE_COLOURS, role_colours, role_handles
from .figures import DARK, FONT, GREEN, GREY, RED, Box, _new_figure, _polyline_arrow, _rect, _text

__all__ = ["Station", "request_stations", "draw_request_path", "plot_split", "describe_status"]

_DNAT = re.compile(r"DNAT (\S+) -> (\S+)")
_SERVICE = re.compile(r"Service (\S+/\S+)")
# stations that are no pod: a Service, an answer no pod gave (a proxy's own 404, none at all), a node
_NOT_A_POD = {"service": ("white", LINE_COLOURS[0]), "answer": ("#ffe3e3", RED), "client": ("#f1f3f5", GREY)}


def _station_role(station) -> str | None:
    """The course's pod role of a station, read from the traffic (kubelab.show.colours): the pod that sent
    the request is a client, one outside the cluster is outside, a proxy is a proxy, the pod that answered
    a server (it answered on a port it declares); Services and answers are no pod."""
    if station.kind == "client":
        return "client" if station.title.startswith("pod ") else None if station.title.startswith("node ") \
            else "outside"
    return {"proxy": "proxy", "pod": "server"}.get(station.kind)


def _station_colours(station) -> tuple[str, str]:
    role = _station_role(station)
    return role_colours(role) if role is not None else _NOT_A_POD[station.kind]


@dataclass(frozen=True)
class Station:
    """One box of the picture: what it is ("client", "service", "proxy", "pod", "answer") and its lines."""

    kind: str
    title: str
    lines: tuple = ()


def _legs(hops) -> list[list]:
    """The hops cut into legs: a proxy's "L7 route" hop ends one leg and starts the next."""
    legs, current = [], []
    for hop in hops:
        current.append(hop)
        if hop.action.startswith("L7 route:"):
            legs.append(current)
            current = []
    return legs + [current]


def _service_station(leg, backend: str | None, proxy: str | None) -> Station | None:
    """The Service a leg went through: the DNAT hop kube-proxy made, or (no DNAT) the endpoints the proxy
    chose itself for the route's backend."""
    for hop in leg:
        m = _DNAT.search(hop.action)
        if m:
            svc = _SERVICE.search(hop.detail)
            node = hop.where.replace("node ", "")
            return Station("service", f"Service {svc.group(1)}" if svc else "Service",
                           (f"{m.group(1)} -> {m.group(2)}", f"kube-proxy DNAT on {node}"))
    if backend and proxy:
        return Station("service", f"Service {backend}", ("endpoints picked", f"by {proxy} itself"))
    return None


def _end_station(leg) -> Station | None:
    last = next((h for h in reversed(leg) if h.where.startswith("pod ")), None)
    if last is None:
        return None
    return Station("pod", last.where, (f"{last.dst}",) if last.dst else ())


def request_stations(response) -> list[Station]:
    """The boxes of a request's path, in order, read from response.hops (and .backend for the last Service)."""
    hops = list(response.hops)
    if not hops:
        return []
    first = hops[0]
    stations = [Station("client", first.where, (f"to {first.dst}",) if first.dst else ())]
    legs = _legs(hops)
    for i, leg in enumerate(legs):
        proxy_hop = leg[-1] if leg and leg[-1].action.startswith("L7 route:") else None
        previous_proxy = legs[i - 1][-1].device if i else None
        backend = response.backend if i == len(legs) - 1 else None
        service = _service_station(leg, backend, previous_proxy)
        if service is not None:
            stations.append(service)
        if proxy_hop is not None:
            target = proxy_hop.action.rsplit(" -> ", 1)[-1] if " -> " in proxy_hop.action else ""
            stations.append(Station("proxy", proxy_hop.where, (proxy_hop.device, f"route -> {target}" if target
                                                               else "answers itself")))
        elif (end := _end_station(leg)) is not None:
            stations.append(end)
    if response.status and not response.pod:
        stations.append(Station("answer", f"HTTP {response.status}", ("from the proxy",)))
    elif not response.status:
        stations.append(Station("answer", "no answer", ("status 0",)))
    return stations


def _title_lines(title: str) -> list[str]:
    """"pod ns/long-name-abc" as "pod ns/" over the name, which wraps at its hyphens: names stay readable."""
    head, slash, name = title.rpartition("/")
    if not slash:
        return textwrap.wrap(title, 26)[:3]
    return [head + "/", *textwrap.wrap(name, 26, break_on_hyphens=True)[:3]]


def _box(ax, x: float, station: Station, width: float, height: float) -> Box:
    face, edge = _station_colours(station)
    box = Box(x, 0, x + width, height)
    _rect(ax, box, f"station:{station.kind}:{station.title}", face=face, edge=edge, lw=1.4,
          ls="--" if _station_role(station) == "outside" else "-")
    title = "\n".join(_title_lines(station.title))
    _text(ax, box.xc, height - 0.32, title, size="text", ha="center", va="top", weight="bold")
    detail = "\n".join(line for text in station.lines for line in textwrap.wrap(str(text), 28)[:2])
    _text(ax, box.xc, 0.28, detail, size="small", ha="center", va="bottom", color=DARK)
    return box


def draw_request_path(response, title: str | None = None):
    """Boxes left to right for each station of the request (client, load balancer Service, proxy pod, backend
    Service, pod), arrows between them; the route that decided is written under the picture."""
    stations = request_stations(response)
    width, height, gap = 2.6, 1.9, 0.7
    total = max(1, len(stations)) * (width + gap) - gap
    fig = _new_figure(total * 0.95 + 0.4, height * 0.95 + 1.5)
    ax = fig.add_axes((0.01, 0.22, 0.98, 0.62))
    ax.set_xlim(-0.1, total + 0.1)
    ax.set_ylim(-0.1, height + 0.1)
    ax.set_axis_off()
    boxes = [_box(ax, i * (width + gap), s, width, height) for i, s in enumerate(stations)]
    colour = GREEN if 200 <= response.status < 400 else RED
    for a, b in zip(boxes, boxes[1:]):
        _polyline_arrow(ax, [a.right(), b.left()], colour, "arrow", lw=2.0)
    heading = title or f"HTTP {response.status} {response.url}"
    fig.text(0.5, 0.94, heading, ha="center", va="center", fontsize=FONT["title"], color=DARK)
    route = "route: " + (response.route or response.reason or "none")
    fig.text(0.01, 0.1, "\n".join(textwrap.wrap(route, int(total * 15))[:3]), ha="left", va="center",
             fontsize=FONT["small"], color=DARK)
    roles = {_station_role(s) for s in stations} - {None}
    if roles:
        fig.legend(handles=role_handles(roles), loc="center", bbox_to_anchor=(0.5, 0.875),
                   fontsize=FONT["small"], frameon=False, ncol=len(roles))
    return fig


def plot_split(counts: dict, weights: dict | None = None, title: str = "Requests per backend"):
    """Bars: requests each backend received; with `weights`, each backend's expected share as a dashed mark."""
    fig = _new_figure(7.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    # the weights' order when given (the order the route lists its backends), else sorted
    keys = list(weights or {}) + sorted(set(counts) - set(weights or {}))
    values = [counts.get(k, 0) for k in keys]
    total = sum(values)
    bars = ax.bar(range(len(keys)), values, width=0.55, gid="bars",
                  color=[LINE_COLOURS[i % len(LINE_COLOURS)] for i in range(len(keys))], alpha=0.85)
    weight_sum = sum((weights or {}).values()) or 1
    expected = [total * (weights or {}).get(k, 0) / weight_sum for k in keys]
    if weights:
        for i, k in enumerate(keys):
            ax.hlines(expected[i], i - 0.38, i + 0.38, colors=RED, linestyles="--", lw=1.6, gid=f"expected:{k}",
                      label="expected from the weights" if i == 0 else None)
        ax.legend(fontsize=FONT["small"], loc="upper right", framealpha=0.95)
    top = max(values + expected + [1])
    for bar, v, e in zip(bars, values, expected):
        # the count sits above both the bar and its expected mark, so neither hides it
        ax.text(bar.get_x() + bar.get_width() / 2, max(v, e) + top * 0.02, f"{v} ({100 * v / total if total else 0:.1f}%)",
                ha="center", va="bottom", fontsize=FONT["small"])
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels(keys, fontsize=FONT["small"])
    ax.set_ylim(0, top * 1.2)
    ax.set_ylabel("requests", fontsize=FONT["text"])
    ax.set_title(f"{title} ({total} total)", fontsize=FONT["title"])
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def _condition_lines(conditions, indent: str) -> list[str]:
    """type, status, reason and message of each condition, aligned; the timestamps left out (they only say when)."""
    return [f"{indent}{c.get('type', ''):<13} {c.get('status', ''):<8} {c.get('reason', ''):<27} {c.get('message', '')}"
            for c in conditions or []]


def describe_status(obj: dict) -> str:
    """The status of a Gateway API object as `kubectl describe` puts it, timestamps left out: a Gateway's
    addresses, conditions and listeners (attachedRoutes, supportedKinds); a route's conditions per parent;
    any other object's conditions."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    name = f"{meta.get('namespace')}/{meta.get('name')}" if meta.get("namespace") else meta.get("name")
    lines = [f"{obj.get('kind')} {name}"]
    if obj.get("kind") == "Gateway":
        addresses = ", ".join(a.get("value", "") for a in status.get("addresses") or []) or "none"
        lines.append(f"  addresses: {addresses}")
    lines += _condition_lines(status.get("conditions"), "  ")
    for listener in status.get("listeners") or []:
        kinds = ", ".join(k.get("kind", "") for k in listener.get("supportedKinds") or []) or "none"
        lines.append(f"  listener {listener.get('name')}: attachedRoutes {listener.get('attachedRoutes')}, "
                     f"supportedKinds {kinds}")
        lines += _condition_lines(listener.get("conditions"), "    ")
    for parent in status.get("parents") or []:
        ref = parent.get("parentRef") or {}
        where = f"{ref.get('namespace')}/{ref.get('name')}" if ref.get("namespace") else ref.get("name")
        section = f" section {ref['sectionName']}" if ref.get("sectionName") else ""
        lines.append(f"  parent {ref.get('kind', 'Gateway')} {where}{section} ({parent.get('controllerName')})")
        lines += _condition_lines(parent.get("conditions"), "    ")
    if len(lines) == 1 + (obj.get("kind") == "Gateway"):
        lines.append("  no status yet: no controller has written one")
    return "\n".join(lines)
