"""Istio's GAMMA support: an HTTPRoute (gateway.networking.k8s.io) whose parentRef is a Service is turned into the
VirtualService istiod builds from it (pilot/pkg/config/kube/gateway conversion), so the sidecars route it as they
route any VirtualService: matches ordered by the Gateway API's precedence, backendRefs as weighted destinations,
header modifiers, redirect, rewrite and the request timeout."""
from __future__ import annotations

import re

from ..objects import name_of, namespace_of

__all__ = ["virtual_services_from_routes"]


def _service_parents(route: dict) -> list[tuple[str, int | None]]:
    """(Service name, port) of each parentRef that names a Service in the route's namespace."""
    ns = namespace_of(route)
    return [(p["name"], p.get("port")) for p in (route.get("spec") or {}).get("parentRefs") or []
            if p.get("kind") == "Service" and p.get("group", "") in ("", "core") and (p.get("namespace") or ns) == ns]


def _uri(path: dict | None) -> dict | None:
    """Exact and RegularExpression as they are; PathPrefix matches element-wise ("/foo" holds /foo and /foo/x,
    not /foobar); "/" matches everything."""
    path = path or {}
    kind, value = path.get("type", "PathPrefix"), path.get("value", "/")
    if kind == "Exact":
        return {"exact": value}
    if kind == "RegularExpression":
        return {"regex": value}
    prefix = value.rstrip("/")
    return {"regex": re.escape(prefix) + "(/.*)?"} if prefix else None


def _string(item: dict) -> dict:
    return {"regex": item["value"]} if item.get("type") == "RegularExpression" else {"exact": item["value"]}


def _match(m: dict) -> dict:
    out: dict = {}
    uri = _uri(m.get("path"))
    if uri:
        out["uri"] = uri
    if m.get("method"):
        out["method"] = {"exact": m["method"]}
    if m.get("headers"):
        out["headers"] = {h["name"].lower(): _string(h) for h in m["headers"]}
    if m.get("queryParams"):
        out["queryParams"] = {q["name"]: _string(q) for q in m["queryParams"]}
    return out


def _precedence(m: dict) -> tuple:
    """HTTPRouteRule precedence: an Exact path, the longest path, a method, the most headers, the most query
    params (smaller sorts first)."""
    path = m.get("path") or {}
    return (path.get("type", "PathPrefix") != "Exact", -len(path.get("value", "/")), not m.get("method"),
            -len(m.get("headers") or []), -len(m.get("queryParams") or []))


def _destinations(rule: dict, ns: str, domain: str, parent_port) -> list[dict]:
    out = []
    for ref in rule.get("backendRefs") or []:
        if ref.get("kind", "Service") != "Service":
            continue
        dest: dict = {"host": f"{ref['name']}.{ref.get('namespace') or ns}.svc.{domain}"}
        port = ref.get("port", parent_port)
        if port is not None:
            dest["port"] = {"number": int(port)}
        out.append({"destination": dest, "weight": int(ref.get("weight", 1))})
    return out


def _header_ops(spec: dict) -> dict:
    ops: dict = {}
    if spec.get("set"):
        ops["set"] = {h["name"]: h["value"] for h in spec["set"]}
    if spec.get("add"):
        ops["add"] = {h["name"]: h["value"] for h in spec["add"]}
    if spec.get("remove"):
        ops["remove"] = list(spec["remove"])
    return ops


def _prefix_rewrite(prefix: str, replacement: str) -> dict:
    """replacePrefixMatch: the matched prefix is replaced (/foo/x with /foo -> /bar is /bar/x; with "/" it is /x)."""
    if replacement.rstrip("/") == "":
        return {"uriRegexRewrite": {"match": "^" + re.escape(prefix.rstrip("/")) + "/?", "rewrite": "/"}}
    return {"uriRegexRewrite": {"match": "^" + re.escape(prefix.rstrip("/")), "rewrite": replacement.rstrip("/")}}


def _apply_filters(http: dict, rule: dict, match: dict) -> None:
    """RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect (302 unless statusCode), URLRewrite."""
    headers: dict = {}
    for f in rule.get("filters") or []:
        kind = f.get("type")
        if kind == "RequestHeaderModifier":
            headers["request"] = _header_ops(f.get("requestHeaderModifier") or {})
        elif kind == "ResponseHeaderModifier":
            headers["response"] = _header_ops(f.get("responseHeaderModifier") or {})
        elif kind == "RequestRedirect":
            spec = f.get("requestRedirect") or {}
            redirect: dict = {"redirectCode": int(spec.get("statusCode", 302))}
            if spec.get("scheme"):
                redirect["scheme"] = spec["scheme"]
            if spec.get("hostname"):
                redirect["authority"] = spec["hostname"]
            if spec.get("port"):
                redirect["port"] = int(spec["port"])
            if (spec.get("path") or {}).get("replaceFullPath"):
                redirect["uri"] = spec["path"]["replaceFullPath"]
            http["redirect"] = redirect
            http.pop("route", None)
        elif kind == "URLRewrite":
            spec = f.get("urlRewrite") or {}
            rewrite: dict = {}
            path = spec.get("path") or {}
            if path.get("replaceFullPath") is not None:
                rewrite["uri"] = path["replaceFullPath"]
            elif path.get("replacePrefixMatch") is not None:
                rewrite = _prefix_rewrite((match.get("path") or {}).get("value", "/"), path["replacePrefixMatch"])
            if spec.get("hostname"):
                rewrite["authority"] = spec["hostname"]
            http["rewrite"] = rewrite
    if headers:
        http["headers"] = headers


def virtual_services_from_routes(routes: list[dict], domain: str = "cluster.local") -> list[dict]:
    """One VirtualService per HTTPRoute and parent Service, as istiod converts mesh (GAMMA) HTTPRoutes; a rule
    with no usable backendRef answers 500 (Gateway API: "requests ... MUST receive a 500")."""
    out = []
    for route in routes:
        ns = namespace_of(route)
        for service, port in _service_parents(route):
            entries = []
            for i, rule in enumerate((route.get("spec") or {}).get("rules") or []):
                for m in rule.get("matches") or [{}]:
                    http: dict = {"name": f"{name_of(route)}.{i}"}
                    match = _match(m)
                    if match:
                        http["match"] = [match]
                    destinations = _destinations(rule, ns, domain, port)
                    if destinations and any(d["weight"] > 0 for d in destinations):
                        http["route"] = destinations
                    else:
                        http["directResponse"] = {"status": 500}
                    if (rule.get("timeouts") or {}).get("request"):
                        http["timeout"] = rule["timeouts"]["request"]
                    _apply_filters(http, rule, m)
                    if "redirect" in http:
                        http.pop("directResponse", None)
                    entries.append((_precedence(m), len(entries), http))
            entries.sort(key=lambda e: e[:2])
            meta = dict(route.get("metadata") or {})
            out.append({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                        "metadata": {"name": f"{name_of(route)}-{service}", "namespace": ns,
                                     "creationTimestamp": meta.get("creationTimestamp", "")},
                        "spec": {"hosts": [f"{service}.{ns}.svc.{domain}"], "http": [e[2] for e in entries]}})
    return out
