"""The API resources served: one per kind in the kinds registry (so a kind registered later is served
with no extra work), plus core/v1 Events, with the subresources kubectl uses."""
from __future__ import annotations

from dataclasses import dataclass

from ...api import kinds
from ...net.endpoints import DEPRECATION_WARNING

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
        return SUBRESOURCES.get(self.kind, ())

    @property
    def categories(self) -> list[str]:
        return ["all"] if self.kind in ALL_CATEGORY else []


def _split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


# Read-only resources the server derives from the simulated state (nothing applies them): Events, and
# the node Leases kubectl describe node reads (a kubelet renews its Lease every 10 s)
EVENTS = Resource("Event", "", "v1", "events", True, ("ev",), readonly=True)
LEASES = Resource("Lease", "coordination.k8s.io", "v1", "leases", True, readonly=True)
DERIVED = (EVENTS, LEASES)


def served_resources() -> list[Resource]:
    """Every resource, sorted by group, version and plural (discovery's stable order)."""
    out = list(DERIVED)
    for kind in kinds.all_kinds():
        for api_version in kind.api_versions:
            group, version = _split_api_version(api_version)
            out.append(Resource(kind.kind, group, version, kind.plural, kind.namespaced, tuple(kind.short_names)))
    return sorted(out, key=lambda r: (r.group, r.version, r.plural))


def find_resource(group: str, version: str, plural: str) -> Resource | None:
    for r in served_resources():
        if (r.group, r.version, r.plural) == (group, version, plural):
            return r
    return None


def api_warnings(kind: str) -> tuple[str, ...]:
    """The warnings kube-apiserver v1.35 sends with every request on a resource: v1 Endpoints is
    deprecated since v1.33 (KEP-4974), and kubectl prints the warning on stderr."""
    return (DEPRECATION_WARNING,) if kind == "Endpoints" else ()


def group_versions() -> dict[str, list[str]]:
    """group -> versions it serves ("" is the core group)."""
    out: dict[str, list[str]] = {}
    for r in served_resources():
        versions = out.setdefault(r.group, [])
        if r.version not in versions:
            versions.append(r.version)
    return out
