"""Why a Service has no endpoints, in the learner's terms: the selector matches no pod, no selected
pod declares the named targetPort, or no selected pod is ready. Used for apply() warnings (the API
server accepts such Services) and for the reason of a rejected connection."""
from __future__ import annotations

from .labels import selector_from_map
from .objects import container_ports, key_of, labels_of, namespace_of, pod_ips, pod_ready, pod_terminating

__all__ = ["service_port_problem", "service_warnings"]


def _selected(service: dict, pods: list[dict]) -> list[dict]:
    selector = selector_from_map((service.get("spec") or {}).get("selector"))
    ns = namespace_of(service)
    return [p for p in pods if namespace_of(p) == ns and selector.matches(labels_of(p))]


def _label_hint(service: dict, pods: list[dict]) -> str:
    ns = namespace_of(service)
    seen = sorted({f"{k}={v}" for p in pods if namespace_of(p) == ns for k, v in labels_of(p).items()
                   if k != "pod-template-hash"})
    return f"pods in {ns} carry: {', '.join(seen[:8])}" if seen else f"there are no pods in namespace {ns}"


def service_port_problem(service: dict, service_port: dict, pods: list[dict]) -> str | None:
    """The first reason, in documented order, that this Service port has no ready endpoint (None if it has one).

    Endpoints come from pods selected by spec.selector, in the Service's namespace, with an IP, whose
    named targetPort resolves (same name and protocol) and whose Ready condition is true."""
    spec = service.get("spec") or {}
    if not spec.get("selector"):
        return "the Service has no selector: its endpoints come from EndpointSlices you write yourself"
    selected = _selected(service, pods)
    if not selected:
        selector = ",".join(f"{k}={v}" for k, v in sorted(spec["selector"].items()))
        return f"its selector {selector} matches no pod ({_label_hint(service, pods)})"
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


def service_warnings(service: dict, pods: list[dict]) -> list[str]:
    """What kubectl-style warnings to print after applying a Service that the API server accepts as is."""
    spec = service.get("spec") or {}
    if spec.get("type") == "ExternalName" or not spec.get("selector"):
        return []
    out = []
    if not _selected(service, pods):
        return [f"Service {key_of(service)}: spec.selector: "
                f"{service_port_problem(service, (spec.get('ports') or [{}])[0], pods)}"]
    for i, port in enumerate(spec.get("ports") or []):
        target = port.get("targetPort")
        if isinstance(target, str):
            problem = service_port_problem(service, port, pods)
            if problem and problem.startswith("targetPort"):
                out.append(f"Service {key_of(service)}: spec.ports[{i}].targetPort: {problem}")
    return out
