"""Builders for the Istio manifests lesson 10's exercise tests hand in as answers: each test states the answer it
means (a canary split, a header route, a fault, a PeerAuthentication, an AuthorizationPolicy) by its parameters,
and gets the YAML text a learner would write."""
from __future__ import annotations

import yaml

NETWORKING = "networking.istio.io/v1"
SECURITY = "security.istio.io/v1"


def yaml_text(*docs: dict) -> str:
    """The documents as one multi-document YAML answer, keys in the order written."""
    return yaml.safe_dump_all(list(docs), sort_keys=False)


def _meta(name: str, namespace: str | None) -> dict:
    return {"name": name, **({"namespace": namespace} if namespace else {})}


def subsets(host: str, *versions: str) -> dict:
    """A DestinationRule defining one subset per version label."""
    return {"apiVersion": NETWORKING, "kind": "DestinationRule", "metadata": _meta(host, None),
            "spec": {"host": host, "subsets": [{"name": v, "labels": {"version": v}} for v in versions]}}


def to(host: str, subset: str, weight: int | None = None) -> dict:
    """One route destination."""
    out = {"destination": {"host": host, "subset": subset}}
    if weight is not None:
        out["weight"] = weight
    return out


def user(name: str, how: str = "exact") -> list:
    """A match block on the end-user header (how: exact, prefix, regex)."""
    return [{"headers": {"end-user": {how: name}}}]


def virtual_service(host: str, *http: dict, name: str | None = None, hosts: list | None = None) -> dict:
    return {"apiVersion": NETWORKING, "kind": "VirtualService", "metadata": _meta(name or host, None),
            "spec": {"hosts": hosts or [host], "http": list(http)}}


def header_route(host: str, name: str, matched: str, others: str | None, how: str = "exact", **matched_extra) -> dict:
    """The user's requests to subset `matched` (with any fault/retries given), everyone else's to `others` (None:
    no route for them)."""
    http = [{"match": user(name, how), **matched_extra, "route": [to(host, matched)]}]
    if others:
        http.append({"route": [to(host, others)]})
    return virtual_service(host, *http)


def delay(seconds: str = "7s", percent: float | None = 100.0) -> dict:
    """A fault delaying `percent` of requests (None: no percentage written)."""
    spec = {"fixedDelay": seconds}
    if percent is not None:
        spec = {"percentage": {"value": percent}, **spec}
    return {"delay": spec}


def peer_authentication(name: str, namespace: str, mode: str | None, app: str | None = None,
                        port_modes: dict | None = None) -> dict:
    spec: dict = {}
    if app:
        spec["selector"] = {"matchLabels": {"app": app}}
    if mode:
        spec["mtls"] = {"mode": mode}
    if port_modes:
        spec["portLevelMtls"] = {port: {"mode": m} for port, m in port_modes.items()}
    return {"apiVersion": SECURITY, "kind": "PeerAuthentication", "metadata": _meta(name, namespace), "spec": spec}


def authorization_policy(name: str, namespace: str, app: str | None = "httpbin", rules: list | None = None,
                         action: str | None = None) -> dict:
    spec: dict = {}
    if app:
        spec["selector"] = {"matchLabels": {"app": app}}
    if action:
        spec["action"] = action
    if rules is not None:
        spec["rules"] = rules
    return {"apiVersion": SECURITY, "kind": "AuthorizationPolicy", "metadata": _meta(name, namespace), "spec": spec}


def allow_rule(source: dict, operation: dict) -> dict:
    return {"from": [{"source": source}], "to": [{"operation": operation}]}
