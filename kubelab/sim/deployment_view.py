"""What the Deployment controller knows of its pods between reconciles, kept up to date from the store's change
log: after one pod of a 10,000-replica Deployment changed, a reconcile looks at that pod, not at all of them."""
from __future__ import annotations

from collections import Counter

from ..net.labels import parse_label_selector
from ..net.objects import labels_of, name_of, namespace_of
from .store import Store
from .workloads import controller_of, pod_template_hash

__all__ = ["DeploymentViews", "deployment_role"]


def deployment_role(pod: dict, selector, me: tuple, template_hash: str) -> str | None:
    """How the controller sees a pod of the Deployment's namespace, as desired_deployment_pods and
    orphans_to_adopt do: "orphan" (its template's, with no controller: to adopt), else, unless terminating,
    "current" or "stale" (its replica of this template or an older one); None for any other pod."""
    meta = pod.get("metadata") or {}
    role = _role_by_parts(labels_of(pod), meta.get("ownerReferences"), selector, me, template_hash)
    return None if role in ("current", "stale") and meta.get("deletionTimestamp") else role


def _role_by_parts(labels: dict | None, refs: list | None, selector, me: tuple, template_hash: str) -> str | None:
    """deployment_role of a pod with these labels and ownerReferences that is not being deleted."""
    labels = labels or {}
    if not selector.matches(labels):
        return None
    owner, current_template = controller_of(refs), labels.get("pod-template-hash") == template_hash
    if owner is None and current_template:
        return "orphan"
    if owner != me:
        return None
    return "current" if current_template else "stale"


class _View:
    def __init__(self, deployment: dict, cursor: tuple, pods: list[dict]):
        spec = deployment["spec"]
        self.deployment = deployment          # the object (by identity) the roles were worked out for
        self.cursor = cursor
        self.args = (parse_label_selector(spec["selector"]), ("Deployment", name_of(deployment)),
                     pod_template_hash(spec.get("template") or {}))
        self.roles: dict[str, str] = {}
        self.counts: Counter = Counter()
        # (id of labels, id of ownerReferences) -> (those objects, the role they give a pod not being deleted):
        # the pods a controller stamped out share both (stored objects are never changed in place)
        self._by_parts: dict[tuple, tuple] = {}
        for pod in pods:
            self.update(Store.key(namespace_of(pod), name_of(pod)), pod)

    def update(self, key: str, pod: dict | None) -> None:
        old = self.roles.pop(key, None)
        if old is not None:
            self.counts[old] -= 1
        role = self._role(pod) if pod is not None else None
        if role is not None:
            self.roles[key] = role
            self.counts[role] += 1

    def _role(self, pod: dict) -> str | None:
        """deployment_role(pod, ...), worked out once for each labels and ownerReferences the pods share."""
        meta = pod.get("metadata") or {}
        labels, refs = meta.get("labels"), meta.get("ownerReferences")
        parts = (id(labels), id(refs))
        hit = self._by_parts.get(parts)
        if hit is None or hit[0] is not labels or hit[1] is not refs:
            if len(self._by_parts) >= 200_000:
                self._by_parts.clear()
            hit = (labels, refs, _role_by_parts(labels, refs, *self.args))
            self._by_parts[parts] = hit
        role = hit[2]
        return None if role in ("current", "stale") and meta.get("deletionTimestamp") else role


class DeploymentViews:
    """Per Deployment, the role of each pod of its namespace as of a point in the store's change log."""

    def __init__(self, store: Store):
        self.store = store
        self._views: dict[tuple, _View] = {}

    def record(self, deployment: dict, pods: list[dict], cursor: tuple) -> None:
        """The controller read `pods` (its namespace's) at `cursor` and worked on them the full way."""
        self._views[(namespace_of(deployment), name_of(deployment))] = _View(deployment, cursor, pods)

    def missing_replicas(self, deployment: dict) -> int | None:
        """How many pods to create when that is all the controller has to do (nothing to adopt, nothing stale or
        extra to delete); None when it must read every pod: a Deployment first seen or changed, or a change
        log that no longer reaches back to the last look (a restore)."""
        namespace = namespace_of(deployment)
        view = self._views.get((namespace, name_of(deployment)))
        if view is None or view.deployment is not deployment:
            return None
        changed = self.store.changed_since("Pod", view.cursor)
        if changed is None:
            return None
        prefix = f"{namespace}/"
        for key in set(changed):
            if key.startswith(prefix):
                view.update(key, self.store.get("Pod", key))
        view.cursor = self.store.cursor("Pod")
        replicas = deployment["spec"].get("replicas", 1)
        if view.counts["orphan"] or view.counts["stale"] or view.counts["current"] > replicas:
            return None
        return replicas - view.counts["current"]
