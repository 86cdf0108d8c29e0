"""The classic service-mesh mistakes in what is applied: valid objects that do not do what their author meant.
Each finding names the object, the field and the fix (the same Finding shape as NetworkPolicy's lint)."""
from __future__ import annotations

from ..netpol_explain import Finding
from ..objects import labels_of, namespace_of
from .injection import sidecar_of
from .routing import compile_virtual_service, destination_rule_for, subset_labels
from .security import effective_mtls, selects
from .values import fqdn

__all__ = ["lint", "MESH_LINT_CODES"]

MESH_LINT_CODES = {
    "subset-not-defined": "a route names a subset no DestinationRule defines (the proxy answers 503)",
    "route-unreachable": "a route after a catch-all route can never match (routes are tried in order)",
    "weights-relative": "weights do not add up to 100: each destination gets weight / sum of weights",
    "retries-non-idempotent": "retries on a route that also carries non-idempotent methods (POST, PATCH, ...)",
    "host-not-a-service": "a VirtualService or DestinationRule host names no Service of the cluster",
    "peer-authentication-selects-nothing": "a PeerAuthentication that applies to no workload (wrong namespace or "
                                           "selector)",
    "principal-without-mtls": "an AuthorizationPolicy matching on principals or namespaces for a workload that "
                              "does not get mTLS (no sidecar, or PeerAuthentication DISABLE)",
}


def _ref(obj: dict) -> str:
    return f"{obj['kind']} {namespace_of(obj)}/{obj['metadata']['name']}"


def _service_hosts(services: list[dict], domain: str) -> set:
    return {f"{s['metadata']['name']}.{namespace_of(s)}.svc.{domain}" for s in services}


def lint(objects: dict, domain: str = "cluster.local", root: str = "istio-system") -> list[Finding]:
    """objects: {"VirtualService": [...], "DestinationRule": [...], "PeerAuthentication": [...],
    "AuthorizationPolicy": [...], "Service": [...], "Pod": [...]}; findings sorted."""
    vss, drs = objects.get("VirtualService", []), objects.get("DestinationRule", [])
    services, pods = objects.get("Service", []), objects.get("Pod", [])
    hosts = _service_hosts(services, domain)
    out: list[Finding] = []
    for vs in vss:
        ns = namespace_of(vs)
        spec = vs.get("spec") or {}
        bound_to_gateway = bool(spec.get("gateways")) and "mesh" not in spec["gateways"]
        for i, h in enumerate(spec.get("hosts") or []):
            full = fqdn(h, ns, domain)
            if not bound_to_gateway and full.endswith(f".svc.{domain}") and full not in hosts:
                out.append(Finding(_ref(vs), "host-not-a-service", f"spec.hosts[{i}]",
                                   f"{h} is {full}, which is no Service; name the Service (short names are "
                                   f"relative to namespace {ns})"))
        catch_all_at = None
        for route in compile_virtual_service(vs, domain):
            base = f"spec.http[{route.index}]"
            if catch_all_at is not None:
                out.append(Finding(_ref(vs), "route-unreachable", base,
                                   f"http[{catch_all_at}] matches every request first, so this route never "
                                   f"matches; put the catch-all route last"))
            elif not route.matches or any(not block or set(block) <= {"name"} for block in route.matches):
                catch_all_at = route.index
            for j, dest in enumerate(route.destinations):
                if dest.subset:
                    dr = destination_rule_for(dest.host, ns, drs, root, domain)
                    if subset_labels(dr, dest.subset) is None:
                        where = f"DestinationRule {_ref(dr).split(' ', 1)[1]} has no such subset" if dr \
                            else "no DestinationRule applies to this host"
                        out.append(Finding(_ref(vs), "subset-not-defined", f"{base}.route[{j}].destination.subset",
                                           f"subset {dest.subset!r} of {dest.written}: {where}; add it to a "
                                           f"DestinationRule for {dest.written}"))
            weights = [d.weight for d in route.destinations]
            if len(weights) > 1 and sum(weights) != 100:
                total = sum(weights)
                shares = ", ".join(f"{d} {100 * d.weight / total:.1f}%" for d in route.destinations) if total else ""
                out.append(Finding(_ref(vs), "weights-relative", f"{base}.route",
                                   f"weights add up to {total}, not 100: they are relative ({shares})"))
            if route.retries and int(route.retries.get("attempts", 0) or 0) > 0:
                methods = [((b.get("method") or {}).get("exact")) for b in route.matches]
                if not route.matches or any(m not in ("GET", "HEAD", "OPTIONS") for m in methods):
                    out.append(Finding(_ref(vs), "retries-non-idempotent", f"{base}.retries",
                                       "retries also apply to POST/PUT/PATCH/DELETE requests this route carries; a "
                                       "retried non-idempotent call can run twice: match the idempotent methods only"))
    for dr in drs:
        full = fqdn((dr.get("spec") or {}).get("host", ""), namespace_of(dr), domain)
        if full.endswith(f".svc.{domain}") and "*" not in full and full not in hosts:
            out.append(Finding(_ref(dr), "host-not-a-service", "spec.host",
                               f"{full} is no Service; short names are relative to namespace {namespace_of(dr)}"))
    meshed = [p for p in pods if sidecar_of(p) == "istio"]
    for pa in objects.get("PeerAuthentication", []):
        ns = namespace_of(pa)
        if ns == root and not (pa.get("spec") or {}).get("selector"):
            continue
        applies = [p for p in meshed if namespace_of(p) == ns and selects(pa, p)]
        if not applies:
            out.append(Finding(_ref(pa), "peer-authentication-selects-nothing",
                               "spec.selector" if (pa.get("spec") or {}).get("selector") else "metadata.namespace",
                               f"no workload with a sidecar in namespace {ns} is selected; put the policy in the "
                               f"workload's namespace (or in {root} for the whole mesh)"))
    policies = objects.get("PeerAuthentication", [])
    for ap in objects.get("AuthorizationPolicy", []):
        rules = (ap.get("spec") or {}).get("rules") or []
        keys = {k for r in rules for f in (r or {}).get("from") or [] for k in ((f or {}).get("source") or {})}
        if not keys & {"principals", "notPrincipals", "namespaces", "notNamespaces"}:
            continue
        ns = namespace_of(ap)
        targets = [p for p in pods if (ns == root or namespace_of(p) == ns) and selects(ap, p)
                   and labels_of(p).get("istio") != "ingressgateway"]
        for pod in targets:
            port = next((pt.get("containerPort") for c in (pod.get("spec") or {}).get("containers") or []
                         for pt in c.get("ports") or []), 0)
            if sidecar_of(pod) != "istio" or effective_mtls(pod, port, policies, root)[0] == "DISABLE":
                out.append(Finding(_ref(ap), "principal-without-mtls", "spec.rules",
                                   f"pod {namespace_of(pod)}/{pod['metadata']['name']} gets no mTLS, so its callers "
                                   f"have no principal or namespace and these rules never match"))
                break
    return sorted(set(out))
