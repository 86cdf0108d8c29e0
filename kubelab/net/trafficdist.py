"""Traffic distribution hints the EndpointSlice controller writes (spec.trafficDistribution).

Upstream: staging/src/k8s.io/endpointslice/trafficdist/trafficdist.go (ReconcileHints). With PreferClose,
PreferSameZone or PreferSameNode every READY endpoint gets `hints.forZones: [its zone]` (when it has one) and,
for PreferSameNode only, `hints.forNodes: [its nodeName]`; without a close distribution every hint is removed.
kube-proxy then prefers the hinted endpoints (kubeproxy.categorize_endpoints).
"""
from __future__ import annotations

__all__ = ["CLOSE_DISTRIBUTIONS", "reconcile_hints"]

CLOSE_DISTRIBUTIONS = frozenset({"PreferClose", "PreferSameZone", "PreferSameNode"})


def _hints(endpoint: dict, same_node: bool) -> dict | None:
    """preferCloseHeuristic.update: a zone hint from endpoint.zone, a node hint from nodeName (PreferSameNode)."""
    hints = {}
    if endpoint.get("zone"):
        hints["forZones"] = [{"name": endpoint["zone"]}]
    if same_node and endpoint.get("nodeName"):
        hints["forNodes"] = [{"name": endpoint["nodeName"]}]
    return hints or None


def _with_hints(endpoint: dict, hints: dict | None) -> dict:
    if endpoint.get("hints") == hints:
        return endpoint
    out = {k: v for k, v in endpoint.items() if k != "hints"}
    if hints:
        out["hints"] = hints
    return out


def reconcile_hints(traffic_distribution: str | None, slices: list[dict]) -> list[dict]:
    """ReconcileHints: hints on the ready endpoints of a close distribution, none otherwise (never mutates
    its input; a slice that needs no change is returned as it is)."""
    close = traffic_distribution in CLOSE_DISTRIBUTIONS
    same_node = traffic_distribution == "PreferSameNode"
    out = []
    for s in slices:
        endpoints = s.get("endpoints") or []
        if close:
            # Only ready endpoints are hinted; others keep what they have (endpointReady in upstream).
            new = [_with_hints(e, _hints(e, same_node)) if (e.get("conditions") or {}).get("ready") is True else e
                   for e in endpoints]
        else:
            new = [_with_hints(e, None) if "hints" in e else e for e in endpoints]
        changed = any(a is not b for a, b in zip(new, endpoints))
        out.append({**s, "endpoints": new} if changed else s)
    return out
