"""Which Ingress rule wins for a URL, and why: a table of every path rule, the one the controller chose, and
a playground to type URLs into.

    from kubelab.show.http_widgets import explain_url, route_playground
    print(explain_url(lab, "http://shop.example.com/cart/items", address=controller_ip))
    route_playground(lab, "http://shop.example.com/cart", address=controller_ip)

The request itself goes through `lab.http` (the controller decides); each row's "host?" and "path?" columns
restate the documented matching rules (net/http/match.py) so the learner sees every candidate, not only the
winner. Only the Lab contract is used.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..net.http.match import exact_matches, host_matches, normalize_host, prefix_matches, string_prefix_matches
from . import widgets

__all__ = ["RouteRow", "RouteExplanation", "ingress_rows", "explain_url", "route_playground"]


@dataclass(frozen=True)
class RouteRow:
    """One path of one Ingress rule, and whether the request's host and path match it."""

    where: str               # "default/shop rules[0].paths[1]"
    host: str                # "" = every host
    path: str
    path_type: str
    backend: str
    host_ok: bool = False
    path_ok: bool = False
    wins: bool = False

    def cells(self) -> list[str]:
        yes = {True: "yes", False: "no"}
        return [self.where, self.host or "*", self.path, self.path_type, self.backend, yes[self.host_ok],
                yes[self.path_ok] if self.host_ok else "-", "<= wins" if self.wins else ""]


def _backend_text(backend: dict | None) -> str:
    service = (backend or {}).get("service") or {}
    port = service.get("port") or {}
    return f"{service.get('name', '?')}:{port.get('number', port.get('name', '?'))}" if service else "(resource)"


def _path_ok(path_type: str, rule_path: str, path: str) -> bool:
    """Exact and Prefix as the Ingress docs define them; ImplementationSpecific as ingress-nginx and Traefik
    treat it (a plain string prefix)."""
    if path_type == "Exact":
        return exact_matches(rule_path, path)
    if path_type == "Prefix":
        return prefix_matches(rule_path, path)
    return string_prefix_matches(rule_path or "/", path)


def ingress_rows(lab, namespace: str | None = None) -> list[RouteRow]:
    """Every path of every Ingress (sorted by namespace, name, rule, path), nothing matched yet."""
    rows = []
    ingresses = sorted(lab.list("Ingress", namespace), key=lambda i: (i["metadata"].get("namespace", ""),
                                                                       i["metadata"]["name"]))
    for ing in ingresses:
        key = f"{ing['metadata'].get('namespace', 'default')}/{ing['metadata']['name']}"
        for i, rule in enumerate((ing.get("spec") or {}).get("rules") or []):
            for j, p in enumerate((rule.get("http") or {}).get("paths") or []):
                rows.append(RouteRow(f"{key} rules[{i}].paths[{j}]", (rule.get("host") or "").lower(),
                                     p.get("path") or "/", p.get("pathType") or "?", _backend_text(p.get("backend"))))
    return rows


@dataclass(frozen=True)
class RouteExplanation:
    """A request, every candidate rule with what matched, and what the controller answered."""

    url: str
    host: str
    path: str
    rows: tuple
    status: int
    route: str

    def __str__(self) -> str:
        head = ["rule", "host", "path", "pathType", "backend", "host?", "path?", ""]
        table = [head] + [r.cells() for r in self.rows]
        widths = [max(len(row[c]) for row in table) for c in range(len(head))]
        lines = [f"{self.url}  (host {self.host}, path {self.path})"]
        lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
        lines.append(f"HTTP {self.status}: {self.route}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left;padding-right:1em'>{h}</th>"
                       for h in ("rule", "host", "path", "pathType", "backend", "host?", "path?", ""))
        body = ""
        for r in self.rows:
            style = " style='background:#d3f0da;font-weight:bold'" if r.wins else ""
            body += f"<tr{style}>" + "".join(f"<td style='text-align:left;padding-right:1em'>{html.escape(c)}</td>"
                                             for c in r.cells()) + "</tr>"
        colour = "#1a7f37" if 200 <= self.status < 400 else "#cf222e"
        return (f"<p><code>{html.escape(self.url)}</code> (host <b>{html.escape(self.host)}</b>, path "
                f"<b>{html.escape(self.path)}</b>)</p><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
                f"</table><p><b style='color:{colour}'>HTTP {self.status}</b>: {html.escape(self.route)}</p>")


def explain_url(lab, url: str, address: str | None = None, headers: dict | None = None) -> RouteExplanation:
    """Send `url` through lab.http (to `address`, the controller's, whatever the URL's host: curl --resolve)
    and set the Ingress path rules beside the answer (those for the request's host and those without host;
    every rule when no host rule names it): does its host match, does its path match, and which one won
    (the controller's own choice, read from Response.route)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    resolve = {parts.hostname: address} if address and parts.hostname else None
    response = lab.http(url, resolve=resolve, headers=headers)
    host_header = next((v for k, v in (headers or {}).items() if k.lower() == "host"), None)
    host = normalize_host(host_header or parts.hostname or "")
    path = parts.path or "/"
    route = response.route or response.reason
    rows = []
    candidates = ingress_rows(lab)
    # the rules for this host when there are any (a long table hides the answer), else every rule
    named = [r for r in candidates if r.host and host_matches(r.host, host)]
    if named:
        candidates = [r for r in candidates if not r.host or host_matches(r.host, host)]
    for row in candidates:
        host_ok = host_matches(row.host, host)
        path_ok = host_ok and _path_ok(row.path_type, row.path, path)
        ingress, _, rest = row.where.partition(" ")
        spec_path = "spec." + rest.replace("].paths[", "].http.paths[")
        wins = f"Ingress {ingress} {spec_path} " in (response.route or "")
        rows.append(RouteRow(row.where, row.host, row.path, row.path_type, row.backend, host_ok, path_ok, wins))
    return RouteExplanation(url, host, path, tuple(rows), response.status, route)


def route_playground(lab, url: str, address: str | None = None):
    """A URL box: on Enter (or the button) the table of rules shows which one wins for that URL and why.

    Children: [HBox (Text url, Button), HTML explanation]."""
    w, problem = widgets._ipywidgets()
    if w is None:
        return widgets.WidgetsUnavailable("route_playground", problem)
    box = w.Text(value=url, description="URL", layout=w.Layout(width="560px"))
    button = w.Button(description="Send", button_style="primary", icon="paper-plane")
    out = w.HTML()

    def update(_event=None):
        try:
            out.value = explain_url(lab, box.value.strip(), address=address)._repr_html_()
        except Exception as exc:   # shown in the widget: a callback's traceback would only reach the log
            out.value = widgets._error_html(exc)

    box.continuous_update = False
    box.observe(update, names="value")
    button.on_click(update)
    update()
    return w.VBox([w.HBox([box, button]), out])
