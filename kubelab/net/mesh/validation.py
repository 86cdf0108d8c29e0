"""Istio's validating webhook (pkg/config/validation/validation.go and agent/validation), rule by rule, for the
kinds kubelab serves; Linkerd's policy CRDs by their OpenAPI schemas. Each error names the field path."""
from __future__ import annotations

import re

from ...errors import ValidationError
from ..objects import is_ip
from .values import duration_ms

__all__ = ["VALIDATORS", "validate"]

PA_MODES = ("UNSET", "DISABLE", "PERMISSIVE", "STRICT")
TLS_MODES = ("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL")
AUTHZ_ACTIONS = ("ALLOW", "DENY", "AUDIT", "CUSTOM")
GATEWAY_PROTOCOLS = ("HTTP", "HTTPS", "GRPC", "GRPC-WEB", "HTTP2", "MONGO", "TCP", "TLS")
LB_SIMPLE = ("UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST")
SE_RESOLUTIONS = ("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN")
RETRY_ON_POLICIES = {"5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "envoy-ratelimited",
                     "retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers",
                     "http3-post-connect-failure", "cancelled", "deadline-exceeded", "internal",
                     "resource-exhausted", "unavailable"}
WHEN_KEYS = ("request.headers", "source.ip", "remote.ip", "source.namespace", "source.principal",
             "request.auth.principal", "request.auth.audiences", "request.auth.presenter", "request.auth.claims",
             "destination.ip", "destination.port", "connection.sni", "experimental.envoy.filters")


def _fail(ref: str, field: str, problem: str, fix: str | None = None):
    raise ValidationError(ref, field, problem, fix)


def _ref(doc: dict) -> str:
    meta = doc.get("metadata") or {}
    return f"{doc.get('kind')} {meta.get('namespace', 'default')}/{meta.get('name')}"


def _check_duration(ref: str, field: str, value, minimum_ms: float = 1.0) -> float:
    """ValidateDuration: a duration string of at least 1ms (validateDuration / ValidateDurationRange)."""
    ms = duration_ms(value)
    if ms is None:
        _fail(ref, field, f"Invalid value: {value!r} is not a duration", 'write it like "2s" or "500ms"')
    if ms < minimum_ms:
        _fail(ref, field, f"Invalid value: {value!r}: duration must be greater than 1ms")
    return ms


def _check_percentage(ref: str, field: str, value) -> None:
    """validatePercentage: percentage.value within [0.0, 100.0]."""
    if not isinstance(value, dict):
        _fail(ref, field, f"Invalid value: {value!r}", "write percentage: {value: 10}")
    v = value.get("value", 0)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 100:
        _fail(ref, f"{field}.value", f"Invalid value: {v!r}: percentage must be in range [0.0, 100.0]")


def _check_string_match(ref: str, field: str, match, allow_prefix: bool = True) -> None:
    """StringMatch: exactly one of exact / prefix / regex; a regex must compile (RE2, full match)."""
    if not isinstance(match, dict):
        _fail(ref, field, f"Invalid value: {match!r}", "use {exact: ...}, {prefix: ...} or {regex: ...}")
    kinds = [k for k in ("exact", "prefix", "regex") if k in match]
    if len(kinds) > 1:
        _fail(ref, field, f"Invalid value: only one of exact, prefix, regex may be set (got {', '.join(kinds)})")
    if "prefix" in kinds and not allow_prefix:
        _fail(ref, f"{field}.prefix", "Invalid value: prefix matching is not supported here", "use exact or regex")
    if "regex" in match:
        try:
            re.compile(str(match["regex"]))
        except re.error as exc:
            _fail(ref, f"{field}.regex", f"Invalid value: {match['regex']!r}: {exc}")


# ---------------------------------------------------------------------------- networking.istio.io
def validate_virtual_service(doc: dict) -> None:
    """ValidateVirtualService: hosts required; each http route has route destinations (or a redirect /
    directResponse, not both); destination.host required; weights >= 0 and not all 0; match blocks well formed;
    retries/timeout/fault/mirror fields valid."""
    ref = _ref(doc)
    spec = doc.get("spec") or {}
    hosts = spec.get("hosts")
    if not hosts:
        _fail(ref, "spec.hosts", "Required value: virtual service must have at least one host",
              "name the Service this routing applies to, e.g. hosts: [reviews]")
    for i, h in enumerate(hosts):
        if not isinstance(h, str) or not h:
            _fail(ref, f"spec.hosts[{i}]", f"Invalid value: {h!r}")
        if h == "*" and not spec.get("gateways"):
            _fail(ref, f"spec.hosts[{i}]", "Invalid value: '*' is only allowed for a VirtualService bound to a "
                  "gateway", "name the Service, or bind the VirtualService to a gateway")
    if not spec.get("http") and not spec.get("tcp") and not spec.get("tls"):
        _fail(ref, "spec.http", "Required value: http, tcp or tls must be provided in virtual service")
    for i, route in enumerate(spec.get("http") or []):
        base = f"spec.http[{i}]"
        if not isinstance(route, dict):
            _fail(ref, base, f"Invalid value: {route!r}")
        has_route = bool(route.get("route"))
        if route.get("redirect") and has_route:
            _fail(ref, f"{base}.redirect", "Invalid value: HTTP route cannot contain both route and redirect")
        if route.get("directResponse") and has_route:
            _fail(ref, f"{base}.directResponse", "Invalid value: HTTP route cannot contain both route and "
                  "directResponse")
        if not has_route and not route.get("redirect") and not route.get("directResponse") \
                and not route.get("delegate"):
            _fail(ref, f"{base}.route", "Required value: HTTP route, redirect or directResponse is required")
        for j, match in enumerate(route.get("match") or []):
            m = f"{base}.match[{j}]"
            for key in ("uri", "scheme", "method", "authority"):
                if key in match:
                    _check_string_match(ref, f"{m}.{key}", match[key])
            for key in ("headers", "withoutHeaders"):
                for name, sm in (match.get(key) or {}).items():
                    if name != name.lower():
                        _fail(ref, f"{m}.{key}.{name}", "Invalid value: header names must be lower case")
                    if sm:
                        _check_string_match(ref, f"{m}.{key}.{name}", sm)
            for name, sm in (match.get("queryParams") or {}).items():
                if sm:
                    _check_string_match(ref, f"{m}.queryParams.{name}", sm, allow_prefix=False)
            if "port" in match and not (isinstance(match["port"], int) and 1 <= match["port"] <= 65535):
                _fail(ref, f"{m}.port", f"Invalid value: {match['port']!r}: port number must be in 1-65535")
        destinations = route.get("route") or []
        weights = []
        for j, dest in enumerate(destinations):
            d = f"{base}.route[{j}]"
            if not isinstance(dest, dict) or not isinstance(dest.get("destination"), dict):
                _fail(ref, f"{d}.destination", "Required value: destination is required")
            if not dest["destination"].get("host"):
                _fail(ref, f"{d}.destination.host", "Required value: destination must have a host")
            port = (dest["destination"].get("port") or {}).get("number")
            if port is not None and not (isinstance(port, int) and 1 <= port <= 65535):
                _fail(ref, f"{d}.destination.port.number", f"Invalid value: {port!r}")
            weight = dest.get("weight", 0)
            if not isinstance(weight, int) or isinstance(weight, bool):
                _fail(ref, f"{d}.weight", f"Invalid value: {weight!r}: weight must be a whole number")
            if weight < 0:
                _fail(ref, f"{d}.weight", f"Invalid value: weight {weight} < 0", "weights are relative and >= 0")
            weights.append(weight)
        if len(weights) > 1 and sum(weights) == 0:
            _fail(ref, f"{base}.route", "Invalid value: total destination weight = 0",
                  "give at least one destination a weight above 0")
        if "timeout" in route:
            _check_duration(ref, f"{base}.timeout", route["timeout"])
        retries = route.get("retries")
        if retries is not None:
            attempts = retries.get("attempts", 0)
            if not isinstance(attempts, int) or attempts < 0:
                _fail(ref, f"{base}.retries.attempts", f"Invalid value: {attempts!r}: attempts cannot be negative")
            if "perTryTimeout" in retries:
                _check_duration(ref, f"{base}.retries.perTryTimeout", retries["perTryTimeout"])
            for policy in str(retries.get("retryOn") or "").split(","):
                policy = policy.strip()
                if policy and policy not in RETRY_ON_POLICIES and not policy.isdigit():
                    _fail(ref, f"{base}.retries.retryOn", f"Invalid value: {policy!r} is not a valid retryOn policy",
                          "use 5xx, gateway-error, connect-failure, retriable-4xx, ... or an HTTP status code")
                if policy.isdigit() and not 100 <= int(policy) <= 599:
                    _fail(ref, f"{base}.retries.retryOn", f"Invalid value: {policy} is not a valid HTTP status code")
        fault = route.get("fault")
        if fault is not None:
            if not fault.get("abort") and not fault.get("delay"):
                _fail(ref, f"{base}.fault", "Invalid value: HTTP fault injection must have an abort and/or a delay")
            abort = fault.get("abort")
            if abort is not None:
                status = abort.get("httpStatus")
                if "grpcStatus" not in abort and "http2Error" not in abort:
                    if not isinstance(status, int) or not 200 <= status <= 599:
                        _fail(ref, f"{base}.fault.abort.httpStatus",
                              f"Invalid value: {status!r}: invalid abort http status", "use a status in 200-599")
                if "percentage" in abort:
                    _check_percentage(ref, f"{base}.fault.abort.percentage", abort["percentage"])
            delay = fault.get("delay")
            if delay is not None:
                if "fixedDelay" not in delay and "exponentialDelay" not in delay:
                    _fail(ref, f"{base}.fault.delay.fixedDelay", "Required value: a delay needs fixedDelay")
                if "fixedDelay" in delay:
                    _check_duration(ref, f"{base}.fault.delay.fixedDelay", delay["fixedDelay"])
                if "percentage" in delay:
                    _check_percentage(ref, f"{base}.fault.delay.percentage", delay["percentage"])
        if route.get("mirror") is not None and not (route["mirror"] or {}).get("host"):
            _fail(ref, f"{base}.mirror.host", "Required value: mirror destination must have a host")
        redirect = route.get("redirect")
        if redirect is not None:
            code = redirect.get("redirectCode", 301)
            if code not in (301, 302, 303, 307, 308):
                _fail(ref, f"{base}.redirect.redirectCode", f"Invalid value: {code}: must be 301, 302, 303, 307 or 308")


def validate_destination_rule(doc: dict) -> None:
    """ValidateDestinationRule: host required; subsets named, names unique; traffic policy enums valid."""
    ref = _ref(doc)
    spec = doc.get("spec") or {}
    if not spec.get("host"):
        _fail(ref, "spec.host", "Required value: destination rule must have a host",
              "name the Service, e.g. host: reviews")
    seen = set()
    for i, subset in enumerate(spec.get("subsets") or []):
        name = subset.get("name")
        if not name:
            _fail(ref, f"spec.subsets[{i}].name", "Required value: subset must have a name")
        if name in seen:
            _fail(ref, f"spec.subsets[{i}].name", f"Duplicate value: {name!r}: duplicate subset names")
        seen.add(name)
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", str(name)):
            _fail(ref, f"spec.subsets[{i}].name", f"Invalid value: {name!r}: subset name must be a DNS-1123 label")
        _check_traffic_policy(ref, f"spec.subsets[{i}].trafficPolicy", subset.get("trafficPolicy"))
    _check_traffic_policy(ref, "spec.trafficPolicy", spec.get("trafficPolicy"))


def _check_traffic_policy(ref: str, base: str, policy) -> None:
    if not policy:
        return
    tls = policy.get("tls") or {}
    if "mode" in tls and tls["mode"] not in TLS_MODES:
        _fail(ref, f"{base}.tls.mode", f"Unsupported value: {tls['mode']!r}", f"use one of {', '.join(TLS_MODES)}")
    lb = policy.get("loadBalancer") or {}
    if "simple" in lb and lb["simple"] not in LB_SIMPLE:
        _fail(ref, f"{base}.loadBalancer.simple", f"Unsupported value: {lb['simple']!r}",
              f"use one of {', '.join(LB_SIMPLE)}")
    if "simple" in lb and "consistentHash" in lb:
        _fail(ref, f"{base}.loadBalancer", "Invalid value: only one of simple or consistentHash may be set")
    pool = policy.get("connectionPool") or {}
    for block, names in (("tcp", ("maxConnections",)), ("http", ("http1MaxPendingRequests", "http2MaxRequests",
                                                                  "maxRequestsPerConnection", "maxRetries"))):
        for name in names:
            value = (pool.get(block) or {}).get(name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                _fail(ref, f"{base}.connectionPool.{block}.{name}", f"Invalid value: {value!r}: must be a whole "
                      f"number of 0 or more", f"write e.g. {name}: 1")
    for i, level in enumerate(policy.get("portLevelSettings") or []):
        number = (level.get("port") or {}).get("number")
        if not isinstance(number, int) or not 1 <= number <= 65535:
            _fail(ref, f"{base}.portLevelSettings[{i}].port.number", f"Invalid value: {number!r}: port number must "
                  f"be in 1-65535", "write port: {number: 80}")
        _check_traffic_policy(ref, f"{base}.portLevelSettings[{i}]", {k: v for k, v in level.items() if k != "port"})


def validate_gateway(doc: dict) -> None:
    """ValidateGateway: at least one server; each with a port (number, protocol, name) and at least one host;
    HTTPS needs tls."""
    ref = _ref(doc)
    servers = (doc.get("spec") or {}).get("servers")
    if not servers:
        _fail(ref, "spec.servers", "Required value: gateway must have at least one server")
    for i, server in enumerate(servers):
        base = f"spec.servers[{i}]"
        port = server.get("port") or {}
        if not isinstance(port.get("number"), int) or not 1 <= port["number"] <= 65535:
            _fail(ref, f"{base}.port.number", f"Invalid value: {port.get('number')!r}: port number must be in 1-65535")
        protocol = str(port.get("protocol", "")).upper()
        if protocol not in GATEWAY_PROTOCOLS:
            _fail(ref, f"{base}.port.protocol", f"Unsupported value: {port.get('protocol')!r}",
                  f"use one of {', '.join(GATEWAY_PROTOCOLS)}")
        if not server.get("hosts"):
            _fail(ref, f"{base}.hosts", "Required value: server config must contain at least one host")
        if protocol == "HTTPS" and not server.get("tls"):
            _fail(ref, f"{base}.tls", "Required value: server must have TLS settings for HTTPS/TLS protocols")


def validate_service_entry(doc: dict) -> None:
    """ValidateServiceEntry: hosts required; ports with number and protocol; a known resolution."""
    ref = _ref(doc)
    spec = doc.get("spec") or {}
    if not spec.get("hosts"):
        _fail(ref, "spec.hosts", "Required value: service entry must have at least one host")
    if "resolution" in spec and spec["resolution"] not in SE_RESOLUTIONS:
        _fail(ref, "spec.resolution", f"Unsupported value: {spec['resolution']!r}", f"use {', '.join(SE_RESOLUTIONS)}")
    for i, port in enumerate(spec.get("ports") or []):
        if not isinstance(port.get("number"), int) or not 1 <= port["number"] <= 65535:
            _fail(ref, f"spec.ports[{i}].number", f"Invalid value: {port.get('number')!r}")
        target = port.get("targetPort")
        if target is not None and (not isinstance(target, int) or not 1 <= target <= 65535):
            _fail(ref, f"spec.ports[{i}].targetPort", f"Invalid value: {target!r}: must be a port number 1-65535")
    if spec.get("resolution") == "STATIC" and not spec.get("endpoints") and not spec.get("workloadSelector"):
        _fail(ref, "spec.endpoints", "Required value: endpoints must be provided for resolution STATIC",
              "list endpoints with IP addresses, or use resolution DNS")
    for i, endpoint in enumerate(spec.get("endpoints") or []):
        if not endpoint.get("address"):
            _fail(ref, f"spec.endpoints[{i}].address", "Required value: an endpoint needs an address")
        if spec.get("resolution") == "STATIC" and not is_ip(str(endpoint["address"])):
            _fail(ref, f"spec.endpoints[{i}].address", f"Invalid value: {endpoint['address']!r}: resolution STATIC "
                  f"needs IP addresses", "write an IP address, or use resolution DNS")
    export = spec.get("exportTo")
    if export is not None and (not isinstance(export, list) or not all(isinstance(e, str) and e for e in export)):
        _fail(ref, "spec.exportTo", f"Invalid value: {export!r}", 'list namespaces, "." (this one) or "*" (all)')


def validate_service_profile(doc: dict) -> None:
    """ServiceProfile (linkerd.io/v1alpha2): routes named with a condition; retryBudget retryRatio a number >= 0,
    minRetriesPerSecond a whole number >= 0, ttl a duration."""
    ref = _ref(doc)
    spec = doc.get("spec") or {}
    for i, route in enumerate(spec.get("routes") or []):
        if not route.get("name"):
            _fail(ref, f"spec.routes[{i}].name", "Required value: a route needs a name")
        if not route.get("condition"):
            _fail(ref, f"spec.routes[{i}].condition", "Required value: a route needs a condition",
                  "match with method and/or pathRegex")
        if route.get("timeout"):
            _check_duration(ref, f"spec.routes[{i}].timeout", route["timeout"])
    budget = spec.get("retryBudget")
    if budget is None:
        return
    ratio = budget.get("retryRatio", 0.2)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or ratio < 0:
        _fail(ref, "spec.retryBudget.retryRatio", f"Invalid value: {ratio!r}: must be a number of 0 or more",
              "write e.g. retryRatio: 0.2")
    per_second = budget.get("minRetriesPerSecond", 10)
    if isinstance(per_second, bool) or not isinstance(per_second, int) or per_second < 0:
        _fail(ref, "spec.retryBudget.minRetriesPerSecond", f"Invalid value: {per_second!r}: must be a whole number "
              "of 0 or more", "write e.g. minRetriesPerSecond: 10")
    if "ttl" in budget:
        _check_duration(ref, "spec.retryBudget.ttl", budget["ttl"])


# ---------------------------------------------------------------------------- security.istio.io
def validate_peer_authentication(doc: dict) -> None:
    """ValidatePeerAuthentication: mtls.mode in UNSET/DISABLE/PERMISSIVE/STRICT; portLevelMtls only with a
    workload selector, port keys 1-65535."""
    ref = _ref(doc)
    spec = doc.get("spec") or {}
    mode = (spec.get("mtls") or {}).get("mode")
    if mode is not None and mode not in PA_MODES:
        _fail(ref, "spec.mtls.mode", f"Unsupported value: {mode!r}", f"use one of {', '.join(PA_MODES)}")
    levels = spec.get("portLevelMtls") or {}
    if levels and not ((spec.get("selector") or {}).get("matchLabels")):
        _fail(ref, "spec.portLevelMtls", "Invalid value: portLevelMtls requires selector",
              "add selector.matchLabels naming the workload whose ports these are")
    for key, value in levels.items():
        if not str(key).isdigit() or not 1 <= int(key) <= 65535:
            _fail(ref, f"spec.portLevelMtls[{key}]", "Invalid value: port must be in range 1..65535")
        pmode = (value or {}).get("mode")
        if pmode is not None and pmode not in PA_MODES:
            _fail(ref, f"spec.portLevelMtls[{key}].mode", f"Unsupported value: {pmode!r}")


def validate_authorization_policy(doc: dict) -> None:
    """ValidateAuthorizationPolicy: action enum; CUSTOM needs a provider and only CUSTOM may have one; a from /
    to entry must not be empty; a when condition names a supported key and has values or notValues."""
    ref = _ref(doc)
    spec = doc.get("spec") or {}
    action = spec.get("action", "ALLOW")
    if action not in AUTHZ_ACTIONS:
        _fail(ref, "spec.action", f"Unsupported value: {action!r}", f"use one of {', '.join(AUTHZ_ACTIONS)}")
    if action == "CUSTOM" and not (spec.get("provider") or {}).get("name"):
        _fail(ref, "spec.provider", "Required value: CUSTOM action requires a provider name")
    if action != "CUSTOM" and spec.get("provider"):
        _fail(ref, "spec.provider", "Invalid value: provider can only be used with the CUSTOM action")
    if spec.get("selector") and spec.get("targetRef"):
        _fail(ref, "spec.targetRef", "Invalid value: only one of targetRef or selector may be set")
    for i, rule in enumerate(spec.get("rules") or []):
        if not isinstance(rule, dict):
            _fail(ref, f"spec.rules[{i}]", f"Invalid value: {rule!r}")
        for j, item in enumerate(rule.get("from") or []):
            if not (item or {}).get("source"):
                _fail(ref, f"spec.rules[{i}].from[{j}].source", "Required value: `from.source` must not be empty")
        for j, item in enumerate(rule.get("to") or []):
            if not (item or {}).get("operation"):
                _fail(ref, f"spec.rules[{i}].to[{j}].operation", "Required value: `to.operation` must not be empty")
        for j, cond in enumerate(rule.get("when") or []):
            key = str((cond or {}).get("key", ""))
            if not any(key == k or key.startswith(k + "[") for k in WHEN_KEYS):
                _fail(ref, f"spec.rules[{i}].when[{j}].key", f"Unsupported value: {key!r}: unknown attribute",
                      "see the Authorization Policy Conditions reference for supported keys")
            if not cond.get("values") and not cond.get("notValues"):
                _fail(ref, f"spec.rules[{i}].when[{j}]", "Required value: at least one of values or notValues must "
                      "be set")


def validate_request_authentication(doc: dict) -> None:
    """ValidateRequestAuthentication: every jwtRule has an issuer; jwks and jwksUri are not both set."""
    ref = _ref(doc)
    for i, rule in enumerate((doc.get("spec") or {}).get("jwtRules") or []):
        if not rule.get("issuer"):
            _fail(ref, f"spec.jwtRules[{i}].issuer", "Required value: issuer must be set")
        if rule.get("jwks") and rule.get("jwksUri"):
            _fail(ref, f"spec.jwtRules[{i}].jwks", "Invalid value: only one of jwks or jwksUri may be set")


# ---------------------------------------------------------------------------- policy.linkerd.io
def validate_linkerd_server(doc: dict) -> None:
    """Server (policy.linkerd.io/v1beta3): port required (number or name); podSelector or externalWorkload."""
    ref = _ref(doc)
    spec = doc.get("spec") or {}
    if spec.get("port") in (None, ""):
        _fail(ref, "spec.port", "Required value: a Server selects one port (number or name)")
    if "podSelector" not in spec and "externalWorkloadSelector" not in spec:
        _fail(ref, "spec.podSelector", "Required value: a Server selects pods with podSelector")
    proto = spec.get("proxyProtocol", "unknown")
    if proto not in ("unknown", "HTTP/1", "HTTP/2", "gRPC", "opaque", "TLS"):
        _fail(ref, "spec.proxyProtocol", f"Unsupported value: {proto!r}")


def validate_linkerd_authorization_policy(doc: dict) -> None:
    """AuthorizationPolicy (policy.linkerd.io/v1alpha1): targetRef and requiredAuthenticationRefs are required."""
    ref = _ref(doc)
    spec = doc.get("spec") or {}
    if not (spec.get("targetRef") or {}).get("kind"):
        _fail(ref, "spec.targetRef", "Required value: targetRef names the Server, HTTPRoute or Namespace")
    if "requiredAuthenticationRefs" not in spec:
        _fail(ref, "spec.requiredAuthenticationRefs", "Required value: list the authentications a client needs "
              "(MeshTLSAuthentication, NetworkAuthentication)")


def validate_mesh_tls_authentication(doc: dict) -> None:
    """MeshTLSAuthentication: exactly one of identities / identityRefs."""
    ref = _ref(doc)
    spec = doc.get("spec") or {}
    if bool(spec.get("identities")) == bool(spec.get("identityRefs")):
        _fail(ref, "spec.identities", "Invalid value: exactly one of identities or identityRefs must be set")


VALIDATORS = {
    ("networking.istio.io", "VirtualService"): validate_virtual_service,
    ("networking.istio.io", "DestinationRule"): validate_destination_rule,
    ("networking.istio.io", "Gateway"): validate_gateway,
    ("networking.istio.io", "ServiceEntry"): validate_service_entry,
    ("linkerd.io", "ServiceProfile"): validate_service_profile,
    ("security.istio.io", "PeerAuthentication"): validate_peer_authentication,
    ("security.istio.io", "AuthorizationPolicy"): validate_authorization_policy,
    ("security.istio.io", "RequestAuthentication"): validate_request_authentication,
    ("policy.linkerd.io", "Server"): validate_linkerd_server,
    ("policy.linkerd.io", "AuthorizationPolicy"): validate_linkerd_authorization_policy,
    ("policy.linkerd.io", "MeshTLSAuthentication"): validate_mesh_tls_authentication,
}


def validate(doc: dict) -> None:
    """Run the webhook's validation for this object's group and kind (no-op for kinds it does not cover)."""
    group = str(doc.get("apiVersion", "")).split("/")[0]
    check = VALIDATORS.get((group, doc.get("kind")))
    if check is not None:
        check(doc)
