"""Discovery documents: aggregated (apidiscovery.k8s.io/v2, what kubectl 1.35 asks for) and legacy
(APIVersions, APIGroupList, APIResourceList: what the Python DynamicClient reads)."""
from __future__ import annotations

from .resources import Resource, group_versions, served_resources

__all__ = ["AGGREGATED_CONTENT_TYPE", "wants_aggregated", "aggregated", "api_versions", "api_group_list",
           "api_resource_list", "api_group"]

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> bool:
    return "as=APIGroupDiscoveryList" in (accept or "") and "v=v2" in (accept or "")


def _aggregated_resource(r: Resource) -> dict:
    out = {"resource": r.plural, "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
           "scope": "Namespaced" if r.namespaced else "Cluster", "singularResource": r.singular,
           "verbs": r.verbs}
    if r.short_names:
        out["shortNames"] = list(r.short_names)
    if r.categories:
        out["categories"] = list(r.categories)
    subs = []
    for sub in r.subresources:
        kind = {"scale": ("autoscaling", "v1", "Scale"), "exec": ("", "v1", "PodExecOptions"),
                "attach": ("", "v1", "PodAttachOptions"),
                "log": ("", "v1", "Pod")}.get(sub, (r.group, r.version, r.kind))
        verbs = {"exec": ["create", "get"], "attach": ["create", "get"], "log": ["get"]}.get(sub, ["get", "patch", "update"])
        subs.append({"subresource": sub, "responseKind": {"group": kind[0], "version": kind[1], "kind": kind[2]},
                     "verbs": verbs})
    if subs:
        out["subresources"] = subs
    return out


def aggregated(core: bool) -> dict:
    """GET /api (core=True) or /apis as an APIGroupDiscoveryList."""
    items = []
    for group, versions in sorted(group_versions().items()):
        if (group == "") != core:
            continue
        items.append({"metadata": {"name": group, "creationTimestamp": None},
                      "versions": [{"version": v, "freshness": "Current",
                                    "resources": [_aggregated_resource(r) for r in served_resources()
                                                  if r.group == group and r.version == v]}
                                   for v in versions]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
            "items": items}


def api_versions() -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}


def api_group(group: str) -> dict | None:
    versions = group_versions().get(group)
    if not versions or not group:
        return None
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list() -> dict:
    groups = [api_group(g) for g in sorted(group_versions()) if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_resource_list(group: str, version: str) -> dict | None:
    resources = [r for r in served_resources() if r.group == group and r.version == version]
    if not resources:
        return None
    out = []
    for r in resources:
        entry = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                 "verbs": r.verbs}
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        out.append(entry)
        for sub in r.subresources:
            out.append({"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                        "kind": "Scale" if sub == "scale" else r.kind, "verbs": ["get", "patch", "update"]})
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}
