"""Linkerd 2.19: proxy identities, the client-side retry and timeout annotations, and inbound authorization
(default inbound policy, Server + AuthorizationPolicy / MeshTLSAuthentication / NetworkAuthentication).

Sources: linkerd.io/2.19/reference/retries, /reference/timeouts, /reference/authorization-policy and
/features/server-policy.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ..objects import labels_of, name_of, namespace_of
from ..shares import even_draw
from .budget import RetryBudget, retry_budget
from .resilience import RetryPolicy
from .values import duration_ms

__all__ = ["identity", "client_policy", "authorize", "default_inbound_policy", "DEFAULT_POLICIES",
           "LinkerdDecision", "service_profile_for", "profile_policy", "profile_budget", "BUDGETED_RETRIES",
           "route_for_service", "RETRY_ANNOTATIONS", "TIMEOUT_ANNOTATIONS"]

DEFAULT_POLICIES = ("all-unauthenticated", "all-authenticated", "cluster-unauthenticated", "cluster-authenticated",
                    "deny", "audit")
CLUSTER_DEFAULT_POLICY = "all-unauthenticated"
BUDGETED_RETRIES = 10000       # isRetryable routes have no retry count: the budget (and the timeout) end them


def identity(namespace: str, service_account: str) -> str:
    """A meshed pod's TLS identity: <sa>.<ns>.serviceaccount.identity.linkerd.cluster.local (sent to servers as
    l5d-client-id)."""
    return f"{service_account or 'default'}.{namespace}.serviceaccount.identity.linkerd.cluster.local"


def _retry_codes(text: str) -> tuple[tuple, tuple]:
    """retry.linkerd.io/http: "5xx", "gateway-error" (502-504), single codes ("504") or ranges ("500-504")."""
    on, codes = [], []
    for part in text.split(","):
        part = part.strip()
        if part in ("5xx", "gateway-error"):
            on.append(part)
        elif "-" in part and all(x.strip().isdigit() for x in part.split("-", 1)):
            low, high = (int(x) for x in part.split("-", 1))
            codes += list(range(low, high + 1))
        elif part.isdigit():
            codes.append(int(part))
    if codes:
        on.append("retriable-status-codes")
    return tuple(on), tuple(codes)


RETRY_ANNOTATIONS = ("retry.linkerd.io/http", "retry.linkerd.io/grpc", "retry.linkerd.io/limit",
                     "retry.linkerd.io/timeout")
TIMEOUT_ANNOTATIONS = ("timeout.linkerd.io/request", "timeout.linkerd.io/response", "timeout.linkerd.io/idle")


def client_policy(service: dict, route: dict | None = None, rule: dict | None = None
                  ) -> tuple[RetryPolicy, float | None, str]:
    """The retry.linkerd.io/* and timeout.linkerd.io/* annotations: retry.linkerd.io/http (conditions),
    retry.linkerd.io/limit (default 1), retry.linkerd.io/timeout (per try), timeout.linkerd.io/request (whole
    request; expiry answers 504). On an HTTPRoute whose parent is the Service (`route`, its matching `rule`): if the
    route carries any retry annotation, they replace all the Service's retry annotations, and likewise for
    timeouts; the rule's timeouts.request is the request timeout. No annotation: no retries, no timeout."""
    own = (service.get("metadata") or {}).get("annotations") or {}
    on_route = ((route or {}).get("metadata") or {}).get("annotations") or {}
    route_ref = f"HTTPRoute {namespace_of(route)}/{name_of(route)}" if route else ""
    retry_notes, retry_from = own, "Service"
    if route and any(k in on_route for k in RETRY_ANNOTATIONS):
        retry_notes, retry_from = on_route, route_ref
    timeout_notes, timeout_from = own, "Service"
    if route and any(k in on_route for k in TIMEOUT_ANNOTATIONS):
        timeout_notes, timeout_from = on_route, route_ref
    policy = RetryPolicy(0, (), source="no retry.linkerd.io annotations")
    if retry_notes.get("retry.linkerd.io/http") or retry_notes.get("retry.linkerd.io/timeout"):
        # retry.linkerd.io/timeout: "a request is cancelled and retried" when it passes, with or without http
        on, codes = _retry_codes(retry_notes.get("retry.linkerd.io/http") or "")
        limit = int(retry_notes.get("retry.linkerd.io/limit", "1") or 1)
        per_try = duration_ms(retry_notes["retry.linkerd.io/timeout"]) \
            if retry_notes.get("retry.linkerd.io/timeout") else None
        source = "retry.linkerd.io annotations" + (f" of {retry_from}" if route else "")
        policy = RetryPolicy(limit, on, codes, per_try, source=source, retry_timeouts=per_try is not None)
    timeout = duration_ms(timeout_notes["timeout.linkerd.io/request"]) \
        if timeout_notes.get("timeout.linkerd.io/request") else None
    what = "timeout.linkerd.io/request" + (f" of {timeout_from}" if route else "")
    rule_timeout = ((rule or {}).get("timeouts") or {}).get("request")
    if rule_timeout:
        timeout, what = duration_ms(rule_timeout), f"{route_ref} timeouts.request"
    return policy, timeout, policy.describe() + (f"; {what} {timeout:g} ms" if timeout else "")


def _path_matches(spec: dict, path: str) -> bool:
    """Gateway API path match: PathPrefix (element-wise, the default "/"), Exact, RegularExpression."""
    kind, value = spec.get("type", "PathPrefix"), spec.get("value", "/")
    if kind == "Exact":
        return path == value
    if kind == "RegularExpression":
        return re.fullmatch(value, path) is not None
    prefix = value.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


def route_for_service(service: dict, routes: list[dict], method: str, path: str,
                      headers: dict | None = None) -> tuple[dict, dict] | None:
    """The HTTPRoute (oldest first) that has the Service as a parent (GAMMA) and a rule matching the request by
    path, method and headers: (route, rule), or None."""
    only = path.split("?", 1)[0] or "/"

    def age(r):
        return (r["metadata"].get("creationTimestamp") or "", r["metadata"]["name"])
    for route in sorted(routes, key=age):
        parents = ((route.get("spec") or {}).get("parentRefs")) or []
        if not any(p.get("kind") == "Service" and p.get("group", "core") in ("", "core") and p.get("name") ==
                   name_of(service) and (p.get("namespace") or namespace_of(route)) == namespace_of(service)
                   for p in parents):
            continue
        for rule in (route.get("spec") or {}).get("rules") or [{}]:
            for match in rule.get("matches") or [{}]:
                if (not match.get("method") or match["method"] == method) and \
                        _path_matches(match.get("path") or {}, only) and \
                        _headers_match(match.get("headers") or [], headers or {}):
                    return route, rule
    return None


def pick_backend(rule: dict, rng) -> dict | None:
    """A rule's backendRefs split the traffic by weight (default 1; weight 0 gets none): the backendRef this
    request goes to, or None when the rule names no backend (the parent Service itself); draws kept evenly
    spread per rule (kubelab.net.shares)."""
    refs = [r for r in rule.get("backendRefs") or [] if int(r.get("weight", 1)) > 0]
    if not refs:
        return None
    point = even_draw(rng, ("backendRefs", repr(refs)), rng.random()) * sum(int(r.get("weight", 1)) for r in refs)
    for ref in refs:
        point -= int(ref.get("weight", 1))
        if point < 0:
            return ref
    return refs[-1]


SERVER_ROUTE_KINDS = ("HTTPRoute.policy.linkerd.io", "HTTPRoute")     # Linkerd's own HTTPRoute, and Gateway API's


def server_routes(cluster, server: dict) -> list[dict]:
    """The HTTPRoutes (policy.linkerd.io or gateway.networking.k8s.io) with the Server as a parent."""
    namespace = namespace_of(server)
    return [r for kind in SERVER_ROUTE_KINDS for r in cluster.items(kind, namespace)
            if any(p.get("kind") == "Server" and p.get("name") == name_of(server)
                   and (p.get("namespace") or namespace) == namespace
                   for p in (r.get("spec") or {}).get("parentRefs") or [])]


def _headers_match(wanted: list, headers: dict) -> bool:
    seen = {k.lower(): v for k, v in headers.items()}
    for h in wanted:
        value = seen.get(str(h.get("name", "")).lower())
        if h.get("type") == "RegularExpression":
            if value is None or re.fullmatch(h.get("value", ""), value) is None:
                return False
        elif value != h.get("value"):
            return False
    return True


def inbound_route(routes: list[dict], method: str, path: str, headers: dict) -> dict | None:
    """The one HTTPRoute a request matches, by the Gateway API precedence Linkerd uses ("A given HTTP request can
    only match one HTTPRoute"): Exact path, then the longest prefix, method, more header matches, oldest, name."""
    only = path.split("?", 1)[0] or "/"
    candidates = []
    for route in routes:
        for rule in (route.get("spec") or {}).get("rules") or [{}]:
            for match in rule.get("matches") or [{}]:
                spec = match.get("path") or {}
                if match.get("method") and match["method"] != method:
                    continue
                if not _path_matches(spec, only) or not _headers_match(match.get("headers") or [], headers):
                    continue
                candidates.append(((spec.get("type") != "Exact", -len(spec.get("value", "/")),
                                    not match.get("method"), -len(match.get("headers") or []),
                                    route["metadata"].get("creationTimestamp") or "", name_of(route)), route))
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def service_profile_for(service: dict, client_namespace: str, profiles: list[dict],
                        domain: str = "cluster.local") -> dict | None:
    """The ServiceProfile named after the Service's FQDN: the client's namespace's first (a client-side
    override), then the Service's own namespace."""
    name = f"{service['metadata']['name']}.{namespace_of(service)}.svc.{domain}"
    for ns in (client_namespace, namespace_of(service)):
        for p in profiles:
            if p["metadata"]["name"] == name and namespace_of(p) == ns:
                return p
    return None


def _condition(cond: dict, method: str, path: str) -> bool:
    """A ServiceProfile request match: method, pathRegex (whole path), and all / any / not of matches."""
    import re
    if "method" in cond and cond["method"] != method:
        return False
    if "pathRegex" in cond and re.fullmatch(cond["pathRegex"], path) is None:
        return False
    if "all" in cond and not all(_condition(c, method, path) for c in cond["all"]):
        return False
    if "any" in cond and not any(_condition(c, method, path) for c in cond["any"]):
        return False
    if "not" in cond and _condition(cond["not"], method, path):
        return False
    return True


def profile_policy(profile: dict, method: str, path: str) -> tuple[RetryPolicy, float | None, str]:
    """With a ServiceProfile the Service's retry/timeout annotations are ignored; the first route whose condition
    matches gives the timeout (504 when it passes; 10 s when the route sets none). isRetryable routes retry failed
    (5xx) requests for as long as the profile's retry budget allows (profile_budget), not a fixed count."""
    where = f"ServiceProfile {namespace_of(profile)}/{profile['metadata']['name']}"
    for route in (profile.get("spec") or {}).get("routes") or []:
        if _condition(route.get("condition") or {}, method, path.split("?", 1)[0]):
            timeout = duration_ms(route["timeout"]) if route.get("timeout") else 10000.0
            name = route.get("name", "?")
            if route.get("isRetryable"):
                budget = profile_budget(profile)
                return (RetryPolicy(BUDGETED_RETRIES, ("5xx",), source=f"{where} route {name} (isRetryable, "
                                                                       f"{budget.describe()})", budgeted=True),
                        timeout,
                        f"{where} route {name!r}: timeout {timeout:g} ms, isRetryable within its {budget.describe()}; "
                        f"Service annotations ignored")
            return (RetryPolicy(0, (), source=f"{where} route {name}"), timeout,
                    f"{where} route {name!r}: timeout {timeout:g} ms; Service annotations ignored")
    return (RetryPolicy(0, (), source=where), None,
            f"{where}: no route matches, no timeout or retries; Service annotations ignored")


def profile_budget(profile: dict) -> RetryBudget:
    """The ServiceProfile's spec.retryBudget, with Linkerd's defaults (0.2, 10 per second, 10s)."""
    return retry_budget((profile.get("spec") or {}).get("retryBudget"))


PROXY_POLICY_ENV = "LINKERD2_PROXY_INBOUND_DEFAULT_POLICY"


def default_inbound_policy(pod: dict, namespace: dict | None) -> tuple[str, str]:
    """The policy the proxy was started with: "the default policy is fixed at proxy initialization time" (the
    injector writes it into the proxy's environment); a pod without it falls back to the annotations now."""
    for container in (pod.get("spec") or {}).get("containers") or []:
        for env in container.get("env") or []:
            if env.get("name") == PROXY_POLICY_ENV and env.get("value"):
                return env["value"], (f"the proxy's default inbound policy {env['value']} (fixed when the pod was "
                                      f"created; changing the annotation later does not change it)")
    return annotated_inbound_policy(pod, namespace)


def annotated_inbound_policy(pod: dict, namespace: dict | None) -> tuple[str, str]:
    """config.linkerd.io/default-inbound-policy on the pod, else on its namespace, else the cluster default
    all-unauthenticated."""
    for where, obj in (("pod", pod), ("namespace", namespace)):
        value = (((obj or {}).get("metadata") or {}).get("annotations") or {}).get(
            "config.linkerd.io/default-inbound-policy")
        if value:
            return value, f"{where} annotation config.linkerd.io/default-inbound-policy={value}"
    return CLUSTER_DEFAULT_POLICY, f"the cluster default inbound policy {CLUSTER_DEFAULT_POLICY}"


@dataclass(frozen=True)
class LinkerdDecision:
    allowed: bool
    why: str
    status: int = 403        # what the proxy answers an HTTP request it refuses


def _in_cluster(ip: str, cluster_networks) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in cluster_networks)


def _server_port_matches(server: dict, pod: dict, port: int) -> bool:
    want = (server.get("spec") or {}).get("port")
    if isinstance(want, int):
        return want == port
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == want and p.get("containerPort") == port:
                return True
    return False


def _selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()) and \
        all(_expression(e, labels) for e in selector.get("matchExpressions") or [])


def _expression(expr: dict, labels: dict) -> bool:
    op, key, values = expr.get("operator"), expr.get("key"), expr.get("values") or []
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    return key not in labels


def _authn_allows(auth: dict, client_id: str | None, source_ip: str) -> bool:
    """MeshTLSAuthentication: the client's identity is listed ("*" = any authenticated client) or its
    ServiceAccount is referenced; NetworkAuthentication: the source address is in one of the networks."""
    spec = auth.get("spec") or {}
    if auth.get("kind") == "ServiceAccount":
        # a ServiceAccount named directly in requiredAuthenticationRefs: the reference's "authors-policy" example
        return client_id is not None and client_id == identity(namespace_of(auth), name_of(auth))
    if auth.get("kind") == "MeshTLSAuthentication":
        if client_id is None:
            return False
        for ident in spec.get("identities") or []:
            if ident == "*" or ident == client_id or (ident.startswith("*.") and client_id.endswith(ident[1:])):
                return True
        for ref in spec.get("identityRefs") or []:
            ns = ref.get("namespace") or namespace_of(auth)
            if ref.get("kind") == "ServiceAccount" and identity(ns, ref.get("name", "")) == client_id:
                return True
            if ref.get("kind") == "Namespace" and client_id.split(".")[1] == ref.get("name"):
                return True
        return False
    if auth.get("kind") == "NetworkAuthentication":
        nets = [n.get("cidr") for n in spec.get("networks") or [] if n.get("cidr")]
        excepts = [e for n in spec.get("networks") or [] for e in n.get("except") or []]
        return _in_cluster(source_ip, nets) and not _in_cluster(source_ip, excepts)
    return False


def authorize(lab, pod: dict, port: int, client_id: str | None, source_ip: str, method: str = "GET",
              path: str = "/", headers: dict | None = None) -> LinkerdDecision:
    """Inbound: a Server selecting this pod and port makes its traffic deny-by-default except what an
    AuthorizationPolicy targeting the Server (or the namespace) authorizes with all its required
    authentications; with HTTPRoutes on the Server, a request no route matches is refused with 404 and a
    route's own policies authorize it too; without a Server the default inbound policy decides (deny -> 403)."""
    cluster = lab.cluster
    namespace = namespace_of(pod)
    servers = [s for s in cluster.items("Server", namespace)
               if _selects((s.get("spec") or {}).get("podSelector") or {}, labels_of(pod))
               and _server_port_matches(s, pod, port)]
    if not servers:
        policy, why = default_inbound_policy(pod, cluster.find("Namespace", namespace))
        return _default(policy, client_id, source_ip, lab, why)
    server = sorted(servers, key=name_of)[0]
    where = f"Server {namespace}/{name_of(server)}"
    targets = {("Server", name_of(server)), ("Namespace", namespace)}
    routes = server_routes(cluster, server)
    if routes:
        route = inbound_route(routes, method, path, headers or {})
        if route is None:
            return LinkerdDecision(False, f"{where} has HTTPRoutes and none matches {method} {path}: 404", 404)
        targets.add(("HTTPRoute", name_of(route)))
        where += f" route {name_of(route)}"
    policies = [p for p in cluster.items("AuthorizationPolicy.policy.linkerd.io", namespace)
                if (((p.get("spec") or {}).get("targetRef") or {}).get("kind"),
                    p["spec"]["targetRef"].get("name")) in targets]
    for p in sorted(policies, key=name_of):
        refs = (p.get("spec") or {}).get("requiredAuthenticationRefs") or []
        auths = [cluster.find(ref.get("kind", ""), f"{ref.get('namespace') or namespace}/{ref.get('name')}")
                 for ref in refs]
        if all(a is not None and _authn_allows(a, client_id, source_ip) for a in auths):
            return LinkerdDecision(True, f"{where}: AuthorizationPolicy {namespace}/{name_of(p)} authorizes the client")
    # accessPolicy: "the policy applied to traffic not matching any associated authorization policies"
    access = (server.get("spec") or {}).get("accessPolicy", "deny")
    if access != "deny":
        return _default(access, client_id, source_ip, lab, f"{where} accessPolicy {access}")
    return LinkerdDecision(False, f"{where} selects port {port} and no AuthorizationPolicy authorizes this client: 403")


def _default(policy: str, client_id, source_ip, lab, why) -> LinkerdDecision:
    networks = list(lab.config.pod_cidr) + [lab.config.node_cidr]
    if policy in ("all-unauthenticated", "audit"):
        return LinkerdDecision(True, f"{why}: every client is allowed")
    if policy == "all-authenticated":
        ok = client_id is not None
        return LinkerdDecision(ok, f"{why}: {'the client is meshed' if ok else 'the client has no mesh identity'}")
    if policy == "cluster-unauthenticated":
        ok = _in_cluster(source_ip, networks)
        return LinkerdDecision(ok, f"{why}: source {source_ip} {'is' if ok else 'is not'} in the cluster networks")
    if policy == "cluster-authenticated":
        ok = client_id is not None and _in_cluster(source_ip, networks)
        return LinkerdDecision(ok, f"{why}: {'allowed' if ok else 'needs a meshed client inside the cluster'}")
    return LinkerdDecision(False, f"{why}: every request is refused (HTTP 403)")
