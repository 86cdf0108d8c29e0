"""Why a Service has no endpoints, in the learner's terms: the selector matches no pod, no selected
pod declares the named targetPort, or no selected pod is ready. Used for apply() warnings (the API
server accepts such Services) and for the reason of a rejected connection."""
from __future__ import annotations

from .labels import selector_from_map
from .objects import container_ports, key_of, labels_of, namespace_of, pod_ips, pod_ready, pod_terminating

__all__ = ["PodIndex", "service_port_problem", "service_warnings"]


class PodIndex:
    """Pods indexed once by (namespace, label, value), in the order given.

    apply() warns about every Service it touched: with the index, finding a Service's pods costs the
    size of its smallest label group instead of a scan of the namespace (which made apply quadratic).
    `by_label`: such an index a caller already has ((namespace, key, value) -> pods in order), used as is."""

    def __init__(self, pods=(), by_label: dict | None = None):
        if by_label is None:
            by_label = {}
            for pod in pods:
                ns = namespace_of(pod)
                for k, v in labels_of(pod).items():
                    by_label.setdefault((ns, k, v), []).append(pod)
        self._by_label = by_label
        self._hints: dict[str, str] = {}

    def _smallest(self, service: dict):
        """The Service's selector (None without one) and its smallest label group."""
        labels = (service.get("spec") or {}).get("selector")
        if not labels:
            return None, ()
        ns = namespace_of(service)
        return selector_from_map(labels), min((self._by_label.get((ns, k, v), ()) for k, v in labels.items()), key=len)

    def selected(self, service: dict) -> list[dict]:
        """The pods of the Service's namespace its map selector matches (all pairs), in the given order."""
        selector, smallest = self._smallest(service)
        return [p for p in smallest if selector.matches(labels_of(p))] if selector is not None else []

    def selects_any(self, service: dict) -> bool:
        """selected(service) is not empty (found without listing them all)."""
        selector, smallest = self._smallest(service)
        return selector is not None and any(selector.matches(labels_of(p)) for p in smallest)

    def label_hint(self, ns: str) -> str:
        """The labels the namespace's pods carry, to show next to a selector that matches none."""
        if ns not in self._hints:
            seen = sorted({f"{k}={v}" for n, k, v in self._by_label if n == ns and k != "pod-template-hash"})
            self._hints[ns] = (f"pods in {ns} carry: {', '.join(seen[:8])}" if seen
                               else f"there are no pods in namespace {ns}")
        return self._hints[ns]


def _indexed(pods) -> PodIndex:
    return pods if isinstance(pods, PodIndex) else PodIndex(pods)


def service_port_problem(service: dict, service_port: dict, pods) -> str | None:
    """The first reason, in documented order, that this Service port has no ready endpoint (None if it has one).

    Endpoints come from pods selected by spec.selector, in the Service's namespace, with an IP, whose
    named targetPort resolves (same name and protocol) and whose Ready condition is true.
    `pods`: a list of pods or a PodIndex of them."""
    spec = service.get("spec") or {}
    if not spec.get("selector"):
        return "the Service has no selector: its endpoints come from EndpointSlices you write yourself"
    pods = _indexed(pods)
    selected = pods.selected(service)
    if not selected:
        selector = ",".join(f"{k}={v}" for k, v in sorted(spec["selector"].items()))
        return f"its selector {selector} matches no pod ({pods.label_hint(namespace_of(service))})"
    target = service_port.get("targetPort", service_port.get("port"))
    protocol = service_port.get("protocol", "TCP")
    if isinstance(target, str):
        having = [p for p in selected if any(cp["name"] == target and cp["protocol"] == protocol
                                             for cp in container_ports(p))]
        if not having:
            declared = sorted({cp["name"] for p in selected for cp in container_ports(p) if cp["name"]})
            return (f"targetPort {target!r} names no {protocol} container port of the {len(selected)} selected "
                    f"pod(s) (their port names: {', '.join(declared) or 'none'})")
        selected = having
    with_ip = [p for p in selected if pod_ips(p)]
    if not with_ip:
        return f"none of the {len(selected)} selected pod(s) has an IP yet (are they scheduled?)"
    if not any(pod_ready(p) and not pod_terminating(p) for p in with_ip):
        return f"none of the {len(with_ip)} selected pod(s) is Ready ({', '.join(key_of(p) for p in with_ip[:3])})"
    return None


def service_warnings(service: dict, pods) -> list[str]:
    """What kubectl-style warnings to print after applying a Service that the API server accepts as is.
    `pods`: a list of pods or a PodIndex of them (build one index for many Services)."""
    spec = service.get("spec") or {}
    if spec.get("type") == "ExternalName" or not spec.get("selector"):
        return []
    pods = _indexed(pods)
    out = []
    if not pods.selects_any(service):
        return [f"Service {key_of(service)}: spec.selector: "
                f"{service_port_problem(service, (spec.get('ports') or [{}])[0], pods)}"]
    for i, port in enumerate(spec.get("ports") or []):
        target = port.get("targetPort")
        if isinstance(target, str):
            problem = service_port_problem(service, port, pods)
            if problem and problem.startswith("targetPort"):
                out.append(f"Service {key_of(service)}: spec.ports[{i}].targetPort: {problem}")
    return out
