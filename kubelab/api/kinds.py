"""The registry of object kinds the Lab knows: API group/version, scope, name rule and short names.

Later features add their kinds here (one `register` call each); nothing else needs to change to
make `apply`, `get`, `list` and `delete` accept them.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..errors import UnknownKindError

__all__ = ["Kind", "register", "register_grouped", "lookup", "for_manifest", "all_kinds"]


@dataclass(frozen=True)
class Kind:
    """One API kind: `kind`, the apiVersions it is served at, and how its objects are named."""

    kind: str
    api_versions: tuple
    plural: str
    namespaced: bool
    name_rule: str = "dns1123-subdomain"   # or dns1123-label / dns1035-label (Services)
    short_names: tuple = ()
    openapi_schema: bool = True            # False: no Kubernetes OpenAPI schema (custom resources)

    @property
    def api_version(self) -> str:
        return self.api_versions[0]


_KINDS: dict[str, Kind] = {}
_ALIASES: dict[str, str] = {}


def register(kind: Kind) -> Kind:
    _KINDS[kind.kind] = kind
    for alias in (kind.kind, kind.plural, *kind.short_names):
        _ALIASES[alias.lower()] = kind.kind
    return kind


_GROUPED: dict[tuple[str, str], str] = {}    # (api group, kind) -> registered kind, where groups share a kind name


def register_grouped(group: str, kind: Kind) -> Kind:
    """Register a kind whose name another API group also uses (Istio's Gateway beside Gateway API's): stored
    as `kind.kind` ("Gateway.networking.istio.io"), applied from manifests that say `kind: Gateway`."""
    register(kind)
    _GROUPED[(group, kind.kind.split(".")[0])] = kind.kind
    return kind


def all_kinds() -> list[Kind]:
    return [_KINDS[k] for k in sorted(_KINDS)]


def lookup(name: str) -> Kind:
    """Find a kind by its name, plural or short name, case-insensitively, as kubectl does."""
    if not isinstance(name, str) or not name.strip():
        raise UnknownKindError(f"kind {name!r}", "kind", f"expected a kind such as 'Pod', 'svc' or "
                               f"'networkpolicies', got {type(name).__name__} {name!r}",
                               f"known kinds: {', '.join(sorted(_KINDS))}")
    key = name.lower()
    if key in _ALIASES:           # a group-qualified registered name ("gateway.networking.istio.io")
        return _KINDS[_ALIASES[key]]
    if "/" in key or "." in key:  # "networkpolicies.networking.k8s.io"
        key = key.split(".")[0]
    if key in _ALIASES:
        return _KINDS[_ALIASES[key]]
    hint = difflib.get_close_matches(key, list(_ALIASES), n=1)
    fix = f"did you mean {_KINDS[_ALIASES[hint[0]]].kind}?" if hint else \
        f"known kinds: {', '.join(sorted(_KINDS))}"
    raise UnknownKindError(f"kind {name!r}", "kind", "no such kind", fix)


# The one table of apiVersions Kubernetes has removed: (apiVersion, kind) -> (the apiVersion to use instead,
# the release that removed it), from https://kubernetes.io/docs/reference/using-api/deprecation-guide/.
REMOVED_API_VERSIONS = {
    ("extensions/v1beta1", "NetworkPolicy"): ("networking.k8s.io/v1", "v1.16"),
    **{(version, kind): ("apps/v1", "v1.16")
       for version in ("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2")
       for kind in ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet")
       if not (version == "extensions/v1beta1" and kind == "StatefulSet")},
    ("extensions/v1beta1", "Ingress"): ("networking.k8s.io/v1", "v1.22"),
    ("networking.k8s.io/v1beta1", "Ingress"): ("networking.k8s.io/v1", "v1.22"),
    ("networking.k8s.io/v1beta1", "IngressClass"): ("networking.k8s.io/v1", "v1.22"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): ("discovery.k8s.io/v1", "v1.25"),
}


def for_manifest(api_version, kind, obj_ref: str) -> Kind:
    """The Kind an object's apiVersion/kind pair names; unknown pairs get the fix spelled out."""
    strings = isinstance(api_version, str) and isinstance(kind, str)
    removed = REMOVED_API_VERSIONS.get((api_version, kind)) if strings else None
    if removed is not None:
        replacement, release = removed
        raise UnknownKindError(obj_ref, "apiVersion",
                               f"{kind} {api_version} was removed in Kubernetes {release} and is no longer served",
                               f"use apiVersion: {replacement} (see the deprecated API migration guide); "
                               f"`kubectl explain {kind.lower()}` shows the fields it has now")
    grouped = _GROUPED.get((str(api_version).split("/")[0], kind)) if isinstance(kind, str) else None
    known = _KINDS.get(grouped or kind) if isinstance(kind, str) else None
    if known is None:
        hint = difflib.get_close_matches(str(kind), list(_KINDS), n=1)
        fix = f"did you mean {hint[0]}?" if hint else f"known kinds: {', '.join(sorted(_KINDS))}"
        raise UnknownKindError(obj_ref, "kind", f"no kind {kind!r} is served", fix)
    if api_version not in known.api_versions:
        raise UnknownKindError(obj_ref, "apiVersion",
                               f"no kind {kind!r} is served at apiVersion {api_version!r}",
                               f"use apiVersion: {known.api_version}")
    return known


for _kind in (
    Kind("Namespace", ("v1",), "namespaces", False, "dns1123-label", ("ns",)),
    Kind("Node", ("v1",), "nodes", False, "dns1123-subdomain", ("no",)),
    Kind("Pod", ("v1",), "pods", True, "dns1123-subdomain", ("po",)),
    Kind("Service", ("v1",), "services", True, "dns1035-label", ("svc",)),
    Kind("ConfigMap", ("v1",), "configmaps", True, "dns1123-subdomain", ("cm",)),
    Kind("Deployment", ("apps/v1",), "deployments", True, "dns1123-subdomain", ("deploy",)),
    Kind("StatefulSet", ("apps/v1",), "statefulsets", True, "dns1123-label", ("sts",)),
    Kind("DaemonSet", ("apps/v1",), "daemonsets", True, "dns1123-subdomain", ("ds",)),
    Kind("Endpoints", ("v1",), "endpoints", True, "dns1123-subdomain", ("ep",)),
    Kind("EndpointSlice", ("discovery.k8s.io/v1",), "endpointslices", True, "dns1123-subdomain"),
    Kind("NetworkPolicy", ("networking.k8s.io/v1",), "networkpolicies", True, "dns1123-subdomain",
         ("netpol",)),
    # Gateway API v1.6.1 (CRDs, experimental channel): admitted by kubelab.api.gateway
    Kind("GatewayClass", ("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"), "gatewayclasses",
         False, "dns1123-subdomain", ("gc",), openapi_schema=False),
    Kind("Gateway", ("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"), "gateways", True,
         "dns1123-subdomain", ("gtw",), openapi_schema=False),
    Kind("HTTPRoute", ("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"), "httproutes", True,
         "dns1123-subdomain", openapi_schema=False),
    Kind("ReferenceGrant", ("gateway.networking.k8s.io/v1beta1", "gateway.networking.k8s.io/v1"), "referencegrants",
         True, "dns1123-subdomain", ("refgrant",), openapi_schema=False),
    Kind("Secret", ("v1",), "secrets", True, "dns1123-subdomain"),
    Kind("Ingress", ("networking.k8s.io/v1",), "ingresses", True, "dns1123-subdomain", ("ing",)),
    Kind("IngressClass", ("networking.k8s.io/v1",), "ingressclasses", False, "dns1123-subdomain"),
):
    register(_kind)
