"""The API resources served: one per kind in the kinds registry (so a kind registered later is served
with no extra work), plus core/v1 Events, with the subresources kubectl uses."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...api import kinds
from ...net.endpoints import DEPRECATION_WARNING
from .customresources import CRD_KIND, custom_resource

__all__ = ["Resource", "served_resources", "find_resource", "group_versions", "api_warnings"]

VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")
# the subresources kube-apiserver serves for these kinds and that this server answers
SUBRESOURCES = {"Pod": ("attach", "exec", "log", "status"), "Deployment": ("scale", "status"),
                "StatefulSet": ("scale", "status"), "Service": ("status",), "Node": ("status",),
                "Namespace": ("status",)}
# `kubectl get all` lists the kinds in the "all" category
ALL_CATEGORY = {"Pod", "Service", "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job", "CronJob"}


@dataclass(frozen=True)
class Resource:
    """One REST resource: /api[s/<group>]/<version>[/namespaces/<ns>]/<plural>."""

    kind: str
    group: str
    version: str
    plural: str
    namespaced: bool
    short_names: tuple = ()
    readonly: bool = False
    registered: str = ""          # the kinds registry's name when it differs ("Gateway.networking.istio.io")
    categories: tuple = ()
    custom: bool = False          # served from a CustomResourceDefinition

    @property
    def read_only_reason(self) -> str:
        if self.kind == CRD_KIND:
            return ("the simulated cluster installs its CustomResourceDefinitions itself (kubectl get crd lists "
                    "them) and cannot install others; apply the custom resources they define")
        return f"{self.plural} are read-only here"

    @property
    def store_kind(self) -> str:
        """The kind the simulator stores these objects under."""
        return self.registered or self.kind

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def verbs(self) -> list[str]:
        return ["get", "list", "watch"] if self.readonly else list(VERBS)

    @property
    def subresources(self) -> tuple:
        if self.custom:
            return ("status",) if custom_resource(self.store_kind).status else ()
        return SUBRESOURCES.get(self.kind, ())


def _split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


# Read-only resources the server derives from the simulated state (nothing applies them): Events, and
# the node Leases kubectl describe node reads (a kubelet renews its Lease every 10 s)
EVENTS = Resource("Event", "", "v1", "events", True, ("ev",), readonly=True)
LEASES = Resource("Lease", "coordination.k8s.io", "v1", "leases", True, readonly=True)
# the CustomResourceDefinitions of the custom kinds (the simulator installs them with the cluster)
CRDS = Resource(CRD_KIND, "apiextensions.k8s.io", "v1", "customresourcedefinitions", False, ("crd", "crds"),
                readonly=True, categories=("api-extensions",))
DERIVED = (EVENTS, LEASES, CRDS)


def _resource(kind: kinds.Kind, api_version: str) -> Resource:
    """A registered kind at one apiVersion; a custom kind with the names and categories its CRD declares and
    the API's kind and plural (a group-qualified registered name is stored under, never shown)."""
    group, version = _split_api_version(api_version)
    if kind.openapi_schema:
        return Resource(kind.kind, group, version, kind.plural, kind.namespaced, tuple(kind.short_names),
                        categories=("all",) if kind.kind in ALL_CATEGORY else ())
    info = custom_resource(kind.kind)
    api_kind = kind.kind.split(".")[0]
    return Resource(api_kind, group, version, kind.plural.split(".")[0], kind.namespaced, info.short_names,
                    registered=kind.kind if api_kind != kind.kind else "", categories=info.categories, custom=True)


def served_resources() -> list[Resource]:
    """Every resource, sorted by group, version and plural (discovery's stable order)."""
    out = list(DERIVED)
    for kind in kinds.all_kinds():
        out += [_resource(kind, api_version) for api_version in kind.api_versions]
    return sorted(out, key=lambda r: (r.group, r.version, r.plural))


def find_resource(group: str, version: str, plural: str) -> Resource | None:
    for r in served_resources():
        if (r.group, r.version, r.plural) == (group, version, plural):
            return r
    return None


_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple:
    """Kubernetes' version order (apimachinery's CompareKubeAwareVersionStrings): GA before beta before alpha,
    higher numbers first, anything else last in lexical order; the first is a group's preferred version."""
    m = _VERSION.match(version)
    if m is None:
        return (3, 0, 0, version)
    major, stage, minor = m.groups()
    return ({None: 0, "beta": 1, "alpha": 2}[stage], -int(major), -int(minor or 0), version)


def api_warnings(kind: str) -> tuple[str, ...]:
    """The warnings kube-apiserver v1.35 sends with every request on a resource: v1 Endpoints is
    deprecated since v1.33 (KEP-4974), and kubectl prints the warning on stderr."""
    return (DEPRECATION_WARNING,) if kind == "Endpoints" else ()


def group_versions() -> dict[str, list[str]]:
    """group -> versions it serves, preferred first ("" is the core group)."""
    out: dict[str, list[str]] = {}
    for r in served_resources():
        versions = out.setdefault(r.group, [])
        if r.version not in versions:
            versions.append(r.version)
    return {group: sorted(versions, key=version_priority) for group, versions in out.items()}
