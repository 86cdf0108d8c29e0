"""Istio security: which mTLS mode a server's sidecar enforces (PeerAuthentication), what a client's sidecar
sends (auto mTLS, DestinationRule tls), identities (SPIFFE), and AuthorizationPolicy evaluation.

Sources: the PeerAuthentication and AuthorizationPolicy references (istio.io/latest/docs/reference/config/
security/), the security concepts page (auto mutual TLS, policy precedence), Envoy's XFCC header docs.
"""
from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from ..objects import labels_of

__all__ = ["spiffe_id", "effective_mtls", "client_tls", "xfcc", "Peer", "authorize", "AuthzDecision",
           "ROOT_NAMESPACE", "selects"]

ROOT_NAMESPACE = "istio-system"


def spiffe_id(namespace: str, service_account: str, trust_domain: str = "cluster.local") -> str:
    """A workload's identity: spiffe://<trust domain>/ns/<namespace>/sa/<service account>."""
    return f"spiffe://{trust_domain}/ns/{namespace}/sa/{service_account or 'default'}"


def selects(policy: dict, pod: dict) -> bool:
    """A policy's selector.matchLabels picks workloads in its own namespace; no selector picks all of them."""
    wanted = ((policy.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    labels = labels_of(pod)
    return all(labels.get(k) == v for k, v in wanted.items())


def _age(obj: dict):
    m = obj["metadata"]
    return (m.get("creationTimestamp") or "", m["name"])


def effective_mtls(pod: dict, port: int, policies: list[dict], root: str = ROOT_NAMESPACE) -> tuple[str, str]:
    """PeerAuthentication precedence: workload (selector) > namespace > mesh (root namespace, no selector);
    port-level mTLS of the workload policy beats its own mode; UNSET inherits from the level above; nothing set ->
    PERMISSIVE. The oldest policy wins a tie at one level."""
    namespace = pod["metadata"].get("namespace", "default")
    mesh = sorted((p for p in policies if p["metadata"].get("namespace") == root
                   and not (p.get("spec") or {}).get("selector")), key=_age)
    ns = sorted((p for p in policies if p["metadata"].get("namespace") == namespace and namespace != root
                 and not (p.get("spec") or {}).get("selector")), key=_age)
    workload = sorted((p for p in policies if p["metadata"].get("namespace") == namespace
                       and ((p.get("spec") or {}).get("selector") or {}).get("matchLabels") and selects(p, pod)),
                      key=_age)
    mode, why = "PERMISSIVE", "no PeerAuthentication: PERMISSIVE by default"
    for level, chosen in (("mesh-wide", mesh[:1]), ("namespace", ns[:1]), ("workload", workload[:1])):
        for p in chosen:
            spec = p.get("spec") or {}
            m = (spec.get("mtls") or {}).get("mode", "UNSET")
            where = f"PeerAuthentication {p['metadata'].get('namespace')}/{p['metadata']['name']} ({level})"
            if m != "UNSET":
                mode, why = m, f"{where}: {m}"
            port_level = (spec.get("portLevelMtls") or {}).get(str(port)) or (spec.get("portLevelMtls") or {}).get(port)
            if level == "workload" and port_level and port_level.get("mode", "UNSET") != "UNSET":
                mode, why = port_level["mode"], f"{where} portLevelMtls {port}: {port_level['mode']}"
    return mode, why


def client_tls(server_has_sidecar: bool, server_mode: str, dr_tls_mode: str | None) -> tuple[bool, str]:
    """What the client's sidecar sends: a DestinationRule tls.mode decides when set (ISTIO_MUTUAL -> mTLS,
    DISABLE -> plaintext); otherwise auto mTLS sends mTLS to workloads with a sidecar unless their
    PeerAuthentication is DISABLE, and plaintext to workloads without one."""
    if dr_tls_mode == "ISTIO_MUTUAL":
        return True, "DestinationRule tls.mode ISTIO_MUTUAL"
    if dr_tls_mode in ("DISABLE", "SIMPLE", "MUTUAL"):
        return False, f"DestinationRule tls.mode {dr_tls_mode}"
    if not server_has_sidecar:
        return False, "auto mTLS: the server has no sidecar, so plaintext"
    if server_mode == "DISABLE":
        return False, "auto mTLS: the server's PeerAuthentication is DISABLE, so plaintext"
    return True, "auto mTLS: the server has a sidecar"


def xfcc(server_id: str, client_id: str, client_cert_der: bytes) -> str:
    """X-Forwarded-Client-Cert as Istio's server sidecar sets it (forward_client_cert_details
    APPEND_FORWARD, SANITIZE_SET details): By=<server id>;Hash=<sha256 of the client certificate's
    DER>;Subject="";URI=<client id>."""
    digest = hashlib.sha256(client_cert_der).hexdigest()
    return f'By={server_id};Hash={digest};Subject="";URI={client_id}'


@dataclass(frozen=True)
class Peer:
    """Who is calling, as the server's sidecar knows it."""

    principal: str | None          # "cluster.local/ns/foo/sa/curl" under mTLS, else None
    namespace: str | None          # from the principal (mTLS only)
    ip: str = ""
    request_principal: str | None = None     # "<iss>/<sub>" of a validated JWT
    claims: tuple = ()                       # the validated JWT's claims, as sorted (name, value) pairs


@dataclass(frozen=True)
class AuthzDecision:
    allowed: bool
    why: str


def _values_match(patterns, value) -> bool:
    """Authorization values: exact, prefix ("abc*"), suffix ("*abc") or presence ("*")."""
    if value is None:
        return False
    return any(p == "*" or p == value or (p.endswith("*") and value.startswith(p[:-1]))
               or (p.startswith("*") and value.endswith(p[1:])) for p in patterns)


def _ip_in(blocks, ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(b, strict=False) for b in blocks)


def _source_matches(src: dict, peer: Peer) -> bool:
    """A Source: every field set must match (AND); each field matches any of its values (OR)."""
    checks = [
        ("principals", lambda v: _values_match(v, peer.principal), False),
        ("notPrincipals", lambda v: _values_match(v, peer.principal), True),
        ("namespaces", lambda v: _values_match(v, peer.namespace), False),
        ("notNamespaces", lambda v: _values_match(v, peer.namespace), True),
        ("requestPrincipals", lambda v: _values_match(v, peer.request_principal), False),
        ("notRequestPrincipals", lambda v: _values_match(v, peer.request_principal), True),
        ("ipBlocks", lambda v: _ip_in(v, peer.ip), False),
        ("notIpBlocks", lambda v: _ip_in(v, peer.ip), True),
        ("remoteIpBlocks", lambda v: _ip_in(v, peer.ip), False),
        ("notRemoteIpBlocks", lambda v: _ip_in(v, peer.ip), True),
    ]
    for key, test, negate in checks:
        if key in src and test(src[key]) != (not negate):
            return False
    return True


def _operation_matches(op: dict, method: str, path: str, host: str, port: int) -> bool:
    checks = [
        ("methods", lambda v: _values_match(v, method), False),
        ("notMethods", lambda v: _values_match(v, method), True),
        ("paths", lambda v: _values_match(v, path), False),
        ("notPaths", lambda v: _values_match(v, path), True),
        ("hosts", lambda v: _values_match([x.lower() for x in v], host.lower()), False),
        ("notHosts", lambda v: _values_match([x.lower() for x in v], host.lower()), True),
        ("ports", lambda v: str(port) in [str(x) for x in v], False),
        ("notPorts", lambda v: str(port) in [str(x) for x in v], True),
    ]
    for key, test, negate in checks:
        if key in op and test(op[key]) != (not negate):
            return False
    return True


def _condition_holds(cond: dict, peer: Peer, headers: dict, port: int) -> bool:
    key = cond["key"]
    if key.startswith("request.headers["):
        value = headers.get(key[len("request.headers["):-1].lower())
    elif key in ("source.ip", "remote.ip"):
        ip = peer.ip
        in_values = _ip_in(cond.get("values") or [], ip) if cond.get("values") else True
        in_not = _ip_in(cond.get("notValues") or [], ip) if cond.get("notValues") else False
        return in_values and not in_not
    elif key == "source.namespace":
        value = peer.namespace
    elif key == "source.principal":
        value = peer.principal
    elif key == "request.auth.principal":
        value = peer.request_principal
    elif key.startswith("request.auth.claims["):
        # a claim's value, or any element of a list claim; nested claims are written [a][b]
        claims = dict(peer.claims)
        names = key[len("request.auth.claims["):-1].split("][")
        found = claims.get(names[0])
        for name in names[1:]:
            found = found.get(name) if isinstance(found, dict) else None
        values = found if isinstance(found, list) else ([found] if found is not None else [])
        ok = any(_values_match(cond["values"], str(v)) for v in values) if cond.get("values") else True
        if cond.get("notValues") and any(_values_match(cond["notValues"], str(v)) for v in values):
            ok = False
        return ok
    elif key == "request.auth.audiences":
        aud = dict(peer.claims).get("aud")
        values = aud if isinstance(aud, list) else ([aud] if aud else [])
        return any(_values_match(cond.get("values") or [], str(v)) for v in values)
    elif key == "destination.port":
        value = str(port)
    else:
        value = None
    ok = _values_match(cond["values"], value) if cond.get("values") else True
    if cond.get("notValues") and _values_match(cond["notValues"], value):
        ok = False
    return ok


def _rule_matches(rule: dict, peer: Peer, method: str, path: str, host: str, port: int, headers: dict) -> bool:
    """A rule matches when one of its `from` sources (if any) AND one of its `to` operations (if any) AND all of
    its `when` conditions hold; an empty rule always matches."""
    froms = rule.get("from") or []
    if froms and not any(_source_matches((f or {}).get("source") or {}, peer) for f in froms):
        return False
    tos = rule.get("to") or []
    if tos and not any(_operation_matches((t or {}).get("operation") or {}, method, path, host, port) for t in tos):
        return False
    return all(_condition_holds(c, peer, headers, port) for c in rule.get("when") or [])


def authorize(pod: dict, policies: list[dict], peer: Peer, method: str, path: str, host: str, port: int,
              headers: dict, root: str = ROOT_NAMESPACE) -> AuthzDecision:
    """AuthorizationPolicy evaluation: (1) CUSTOM, (2) a matching DENY denies, (3) no ALLOW policy for the workload
    allows, (4) a matching ALLOW allows, (5) otherwise deny. Policies in the root namespace apply to every
    workload; others to the workloads their selector picks in their own namespace."""
    namespace = pod["metadata"].get("namespace", "default")
    applicable = sorted((p for p in policies
                         if (p["metadata"].get("namespace") in (namespace, root)) and selects(p, pod)),
                        key=lambda p: (p["metadata"].get("namespace"), p["metadata"]["name"]))
    lowered = {k.lower(): v for k, v in headers.items()}
    path_only = path.split("?", 1)[0]

    def matching(action):
        for p in applicable:
            spec = p.get("spec") or {}
            if spec.get("action", "ALLOW") != action:
                continue
            if any(_rule_matches(r or {}, peer, method, path_only, host, port, lowered) for r in spec.get("rules") or []):
                yield p

    def name(p):
        return f"AuthorizationPolicy {p['metadata'].get('namespace')}/{p['metadata']['name']}"
    # 1. CUSTOM: no external authorizer is simulated, so a matching CUSTOM policy is reported and not enforced
    custom = next(matching("CUSTOM"), None)
    # 2. DENY
    deny = next(matching("DENY"), None)
    if deny is not None:
        return AuthzDecision(False, f"{name(deny)} (DENY) matches")
    # 3. no ALLOW policy
    allows = [p for p in applicable if (p.get("spec") or {}).get("action", "ALLOW") == "ALLOW"]
    if not allows:
        extra = f"; {name(custom)} (CUSTOM) matched but no ext-authz provider is simulated" if custom else ""
        return AuthzDecision(True, "no ALLOW policy applies to the workload, so the request is allowed" + extra)
    # 4. a matching ALLOW
    allow = next(matching("ALLOW"), None)
    if allow is not None:
        return AuthzDecision(True, f"{name(allow)} (ALLOW) matches")
    # 5. deny
    return AuthzDecision(False, "ALLOW policies apply (" + ", ".join(name(p) for p in allows)
                         + ") and none matches, so the request is denied")


