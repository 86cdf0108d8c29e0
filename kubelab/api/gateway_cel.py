"""The CEL rules (x-kubernetes-validations) of the Gateway API v1.6.1 experimental CRDs, one Python predicate
per rule, keyed by the rule's message exactly as the CRD writes it. Each predicate gets (self, oldSelf)
and says whether the rule holds; kubelab.api.crd runs them where the CRD places them.

The CEL text each one transcribes is in kubelab/api/crds/*.json beside the message.
"""
from __future__ import annotations

import re

__all__ = ["RULES", "parse_duration_ms"]

_HOSTNAME = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$")
_PATH_CHARS = re.compile(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$")
_DURATION = re.compile(r"([0-9]{1,5})(h|ms|m|s)")
_UNIT_MS = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}


def parse_duration_ms(text: str) -> int:
    """A Gateway API Duration (GEP-2257: up to four `<1-5 digits><h|m|s|ms>` parts) in milliseconds."""
    return sum(int(n) * _UNIT_MS[u] for n, u in _DURATION.findall(text or ""))


def _has(obj, key) -> bool:
    return isinstance(obj, dict) and obj.get(key) not in (None,)


def _empty(obj, key) -> bool:
    """CEL's `!has(x.f) || x.f == ''` (or `== 0` for numbers)."""
    return not _has(obj, key) or obj[key] in ("", 0)


def _exists_one(items, pred) -> bool:
    return sum(1 for x in items if pred(x)) == 1


# ---------------------------------------------------------------- Gateway
def _unique_address(kind: str):
    def rule(addresses, _old):
        return all(_exists_one(addresses, lambda a2: a2.get("type") == a1.get("type") and _has(a2, "value")
                               and a2["value"] == a1["value"])
                   for a1 in addresses if a1.get("type") == kind and _has(a1, "value"))
    return rule


def _listener_key_unique(listeners, _old) -> bool:
    def same(l1, l2):
        if l1.get("port") != l2.get("port") or l1.get("protocol") != l2.get("protocol"):
            return False
        if _has(l1, "hostname") and _has(l2, "hostname"):
            return l1["hostname"] == l2["hostname"]
        return not _has(l1, "hostname") and not _has(l2, "hostname")
    return all(_exists_one(listeners, lambda l2: same(l1, l2)) for l1 in listeners)


# ---------------------------------------------------------------- HTTPRoute parentRefs
def _same_parent(p1, p2) -> bool:
    if (p1.get("group"), p1.get("kind"), p1.get("name")) != (p2.get("group"), p2.get("kind"), p2.get("name")):
        return False
    return (_empty(p1, "namespace") and _empty(p2, "namespace")) or \
        (_has(p1, "namespace") and _has(p2, "namespace") and p1["namespace"] == p2["namespace"])


def _parents_need_section(refs, _old) -> bool:
    return all(_empty(p1, "sectionName") == _empty(p2, "sectionName") and _empty(p1, "port") == _empty(p2, "port")
               for p1 in refs for p2 in refs if _same_parent(p1, p2))


def _parents_unique_section(refs, _old) -> bool:
    def same(p1, p2):
        section = (_empty(p1, "sectionName") and _empty(p2, "sectionName")) or \
            (_has(p1, "sectionName") and _has(p2, "sectionName") and p1["sectionName"] == p2["sectionName"])
        port = (_empty(p1, "port") and _empty(p2, "port")) or \
            (_has(p1, "port") and _has(p2, "port") and p1["port"] == p2["port"])
        return _same_parent(p1, p2) and section and port
    return all(_exists_one(refs, lambda p2: same(p1, p2)) for p1 in refs)


# ---------------------------------------------------------------- HTTPRoute rules
def _one_prefix_match(rule: dict) -> bool:
    matches = rule.get("matches") or []
    return len(matches) == 1 and _has(matches[0], "path") and matches[0]["path"].get("type") == "PathPrefix"


def _uses_prefix_replace(filters, field: str) -> bool:
    return _exists_one(filters or [], lambda f: _has(f, field) and _has(f[field], "path")
                       and f[field]["path"].get("type") == "ReplacePrefixMatch"
                       and _has(f[field]["path"], "replacePrefixMatch"))


def _rule_prefix_replace(field: str):
    def rule(r, _old):
        return _one_prefix_match(r) if _uses_prefix_replace(r.get("filters"), field) else True
    return rule


def _backend_prefix_replace(field: str):
    def rule(r, _old):
        used = _exists_one(r.get("backendRefs") or [], lambda b: _uses_prefix_replace(b.get("filters"), field))
        return _one_prefix_match(r) if used else True
    return rule


def _redirect_without_backends(r, _old) -> bool:
    if r.get("backendRefs"):
        return all(not _has(f, "requestRedirect") for f in r.get("filters") or [])
    return True


def _total_matches(rules, _old) -> bool:
    return sum(len(r.get("matches") or []) for r in rules[:16]) <= 128


def _unique_rule_names(rules, _old) -> bool:
    return all(not _has(r1, "name") or _exists_one(rules, lambda r2: _has(r2, "name") and r2["name"] == r1["name"])
               for r1 in rules)


def _service_port(ref, _old) -> bool:
    return _has(ref, "port") if (not ref.get("group") and ref.get("kind") == "Service") else True


def _not_repeated(kind: str):
    return lambda filters, _old: sum(1 for f in filters if f.get("type") == kind) <= 1


def _field_for_type(field: str, kind: str, must_be_set: bool):
    if must_be_set:
        return lambda f, _old: not (not _has(f, field) and f.get("type") == kind)
    return lambda f, _old: not (_has(f, field) and f.get("type") != kind)


def _path_type_needs(field: str, kind: str):
    return lambda p, _old: _has(p, field) if p.get("type") == kind else True


def _path_field_needs_type(field: str, kind: str):
    return lambda p, _old: p.get("type") == kind if _has(p, field) else True


def _exact_or_prefix(test):
    return lambda p, _old: test(p.get("value", "")) if p.get("type") in ("Exact", "PathPrefix") else True


def _no_star_with_others(values, _old) -> bool:
    return not ("*" in values and len(values) > 1)


def _timeouts(t, _old) -> bool:
    if not (_has(t, "request") and _has(t, "backendRequest")):
        return True
    request = parse_duration_ms(t["request"])
    return not (request != 0 and parse_duration_ms(t["backendRequest"]) > request)


_FILTER_FIELDS = (("cors", "CORS"), ("requestHeaderModifier", "RequestHeaderModifier"),
                  ("responseHeaderModifier", "ResponseHeaderModifier"), ("requestMirror", "RequestMirror"),
                  ("requestRedirect", "RequestRedirect"), ("urlRewrite", "URLRewrite"),
                  ("extensionRef", "ExtensionRef"), ("externalAuth", "ExternalAuth"))

RULES = {
    # GatewayClass
    "Value is immutable": lambda v, old: v == old,
    # Gateway
    "IPAddress values must be unique": _unique_address("IPAddress"),
    "Hostname values must be unique": _unique_address("Hostname"),
    "Hostname value must be empty or contain only valid characters (matching "
    r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)":
        lambda a, _old: (not _has(a, "value") or bool(_HOSTNAME.match(a["value"]))) if a.get("type") == "Hostname"
        else True,
    "Annotation keys must be in the form of an optional DNS subdomain prefix followed by a required name "
    "segment of up to 63 characters.": lambda m, _old: all(_LABEL_KEY.match(k) for k in m),
    "If specified, the annotation key's prefix must be a DNS subdomain not longer than 253 characters in total.":
        lambda m, _old: all(len(k.split("/")[0]) < 253 for k in m),
    "Label keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of "
    "up to 63 characters.": lambda m, _old: all(_LABEL_KEY.match(k) for k in m),
    "If specified, the label key's prefix must be a DNS subdomain not longer than 253 characters in total.":
        lambda m, _old: all(len(k.split("/")[0]) < 253 for k in m),
    "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']":
        lambda ls, _old: all(not _has(l, "tls") for l in ls if l.get("protocol") in ("HTTP", "TCP", "UDP")),
    "tls mode must be Terminate for protocol HTTPS":
        lambda ls, _old: all(l["tls"].get("mode") in ("", "Terminate") for l in ls
                             if l.get("protocol") == "HTTPS" and _has(l, "tls")),
    "tls mode must be set for protocol TLS":
        lambda ls, _old: all(_has(l, "tls") and not _empty(l["tls"], "mode") for l in ls if l.get("protocol") == "TLS"),
    "hostname must not be specified for protocols ['TCP', 'UDP']":
        lambda ls, _old: all(_empty(l, "hostname") for l in ls if l.get("protocol") in ("TCP", "UDP")),
    "Listener name must be unique within the Gateway":
        lambda ls, _old: all(_exists_one(ls, lambda l2: l2.get("name") == l1.get("name")) for l1 in ls),
    "Combination of port, protocol and hostname must be unique for each listener": _listener_key_unique,
    "certificateRefs or options must be specified when mode is Terminate":
        lambda tls, _old: bool(tls.get("certificateRefs") or tls.get("options")) if tls.get("mode") == "Terminate"
        else True,
    "Port for TLS configuration must be unique within the Gateway":
        lambda per, _old: all(_exists_one(per, lambda t2: t2.get("port") == t1.get("port")) for t1 in per),
    # HTTPRoute
    "sectionName or port must be specified when parentRefs includes 2 or more references to the same parent":
        _parents_need_section,
    "sectionName or port must be unique when parentRefs includes 2 or more references to the same parent":
        _parents_unique_section,
    "While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route "
    "must be less than 128": _total_matches,
    "Rule name must be unique within the route": _unique_rule_names,
    "RequestRedirect filter must not be used together with backendRefs": _redirect_without_backends,
    "When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be "
    "specified": _rule_prefix_replace("requestRedirect"),
    "When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified":
        _rule_prefix_replace("urlRewrite"),
    "Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix "
    "match must be specified": _backend_prefix_replace("requestRedirect"),
    "Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match "
    "must be specified": _backend_prefix_replace("urlRewrite"),
    "Must have port for Service reference": _service_port,
    "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both":
        lambda fs, _old: not (any(f.get("type") == "RequestRedirect" for f in fs)
                              and any(f.get("type") == "URLRewrite" for f in fs)),
    "Only one of percent or fraction may be specified in HTTPRequestMirrorFilter":
        lambda m, _old: not (_has(m, "percent") and _has(m, "fraction")),
    "numerator must be less than or equal to denominator":
        lambda f, _old: f.get("numerator", 0) <= f.get("denominator", 100),
    "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']":
        _exact_or_prefix(lambda v: v.startswith("/")),
    "must not contain '//' when type one of ['Exact', 'PathPrefix']": _exact_or_prefix(lambda v: "//" not in v),
    "must not contain '/./' when type one of ['Exact', 'PathPrefix']": _exact_or_prefix(lambda v: "/./" not in v),
    "must not contain '/../' when type one of ['Exact', 'PathPrefix']": _exact_or_prefix(lambda v: "/../" not in v),
    "must not contain '%2f' when type one of ['Exact', 'PathPrefix']": _exact_or_prefix(lambda v: "%2f" not in v),
    "must not contain '%2F' when type one of ['Exact', 'PathPrefix']": _exact_or_prefix(lambda v: "%2F" not in v),
    "must not contain '#' when type one of ['Exact', 'PathPrefix']": _exact_or_prefix(lambda v: "#" not in v),
    "must not end with '/..' when type one of ['Exact', 'PathPrefix']":
        _exact_or_prefix(lambda v: not v.endswith("/..")),
    "must not end with '/.' when type one of ['Exact', 'PathPrefix']": _exact_or_prefix(lambda v: not v.endswith("/.")),
    "type must be one of ['Exact', 'PathPrefix', 'RegularExpression']":
        lambda p, _old: p.get("type") in ("Exact", "PathPrefix", "RegularExpression"),
    "must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for "
    "types ['Exact', 'PathPrefix']": _exact_or_prefix(lambda v: bool(_PATH_CHARS.match(v))),
    "AllowHeaders cannot contain '*' alongside other methods": _no_star_with_others,
    "AllowMethods cannot contain '*' alongside other methods": _no_star_with_others,
    "AllowOrigins cannot contain '*' alongside other origins": _no_star_with_others,
    "grpc must be specified when protocol is set to 'GRPC'":
        lambda a, _old: _has(a, "grpc") if a.get("protocol") == "GRPC" else True,
    "protocol must be 'GRPC' when grpc is set": lambda a, _old: a.get("protocol") == "GRPC" if _has(a, "grpc") else True,
    "http must be specified when protocol is set to 'HTTP'":
        lambda a, _old: _has(a, "http") if a.get("protocol") == "HTTP" else True,
    "protocol must be 'HTTP' when http is set": lambda a, _old: a.get("protocol") == "HTTP" if _has(a, "http") else True,
    "AbsoluteTimeout must be specified when cookie lifetimeType is Permanent":
        lambda s, _old: not _has(s, "cookieConfig") or (s["cookieConfig"] or {}).get("lifetimeType") != "Permanent"
        or _has(s, "absoluteTimeout"),
    "cookieConfig can only be set with type Cookie": lambda s, _old: not _has(s, "cookieConfig") or s.get("type") == "Cookie",
    "backendRequest timeout cannot be longer than request timeout": _timeouts,
}

for _field, _kind in _FILTER_FIELDS:
    RULES[f"filter.{_field} must be nil if the filter.type is not {_kind}"] = _field_for_type(_field, _kind, False)
    RULES[f"filter.{_field} must be specified for {_kind} filter.type"] = _field_for_type(_field, _kind, True)
    RULES[f"{_kind} filter cannot be repeated"] = _not_repeated(_kind)
for _path_type, _field in (("ReplaceFullPath", "replaceFullPath"), ("ReplacePrefixMatch", "replacePrefixMatch")):
    RULES[f"{_field} must be specified when type is set to '{_path_type}'"] = _path_type_needs(_field, _path_type)
    RULES[f"type must be '{_path_type}' when {_field} is set"] = _path_field_needs_type(_field, _path_type)
