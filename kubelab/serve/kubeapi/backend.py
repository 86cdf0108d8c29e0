"""The API's storage: a SimulatedLab's cluster read and written the way kube-apiserver reads and
writes etcd. Every write goes through the simulator's own admission and controllers (cluster.apply /
cluster.delete), so what kubectl sees is exactly what the Lab's Python API sees."""
from __future__ import annotations

import copy
import datetime
import threading

from ...errors import KubelabError
from ...sim.store import Store
from ...sim.workloads import random_suffix
from . import views
from .clock import EPOCH, ServerClock
from .customresources import CRD_KIND, crd_objects
from .resources import Resource
from .status import ApiError, from_kubelab_error

__all__ = ["LabBackend", "EPOCH"]



class LabBackend:
    """CRUD over a SimulatedLab, serialised by one lock (the HTTP server runs a thread per request)."""

    def __init__(self, lab, clock: ServerClock | None = None):
        self.lab = lab
        self.cluster = lab.cluster
        self.clock = clock or ServerClock(lab.cluster)
        # the lab's own lock when it has one, so the notebook's lab.apply() and API writes take turns
        self.lock = getattr(lab, "lock", None) or threading.RLock()

    # ------------------------------------------------------------ reads
    @property
    def resource_version(self) -> str:
        return str(self.cluster.store.resource_version)

    @property
    def generation(self) -> int:
        return self.cluster.store.generation

    def now(self) -> datetime.datetime:
        """The server's present, AGE's reference (clock.ServerClock)."""
        return self.clock.now()

    def _shown(self, r: Resource, obj: dict) -> dict:
        """The object as the API returns it: apiVersion/kind set, controller status filled in."""
        out = {"apiVersion": r.api_version, "kind": r.kind, **obj}
        out["apiVersion"], out["kind"] = r.api_version, r.kind   # as asked for, whatever version it was written at
        if r.kind == "Node":
            out["status"] = views.node_status(obj)
        if r.kind == "Pod" and "containerStatuses" not in (obj.get("status") or {}) and obj.get("status"):
            out["status"] = {**obj["status"], "containerStatuses": views.container_statuses(obj)}
        if r.kind == "Pod" and obj.get("status"):
            out["status"] = views.observed_generation(obj, out["status"])
        if r.kind in ("Deployment", "StatefulSet"):
            pods = self.cluster.items("Pod", obj["metadata"].get("namespace"))
            out["status"] = {**views.workload_status(obj, r.kind, pods), **(obj.get("status") or {})}
        if r.kind == "DaemonSet":
            pods = self.cluster.items("Pod", obj["metadata"].get("namespace"))
            out["status"] = {**views.daemonset_status(obj, pods, self.cluster.daemon_nodes(obj)),
                             **(obj.get("status") or {})}
        return out

    def list(self, r: Resource, namespace: str | None) -> list[dict]:
        with self.lock:
            if r.readonly:
                return [copy.deepcopy(o) for o in self._derived(r, namespace)]
            return [self._shown(r, o) for o in self.cluster.items(r.store_kind, namespace if r.namespaced else None)]

    def _derived(self, r: Resource, namespace: str | None) -> list[dict]:
        if r.kind == CRD_KIND:
            return crd_objects()
        if r.kind == "Lease":
            if namespace not in (None, "kube-node-lease"):
                return []
            renew = self.now().strftime("%Y-%m-%dT%H:%M:%S.000000Z")
            return views.node_leases(self.cluster.items("Node"), renew)
        return self._events(namespace)

    def _events(self, namespace: str | None) -> list[dict]:
        """The events the simulator records when it records them (a list of core/v1 Event dicts on the
        cluster), else the ones its state implies (events.py)."""
        from .events import derived_events

        events = getattr(self.cluster, "events", None)
        if events is None:
            return derived_events(self.cluster, namespace)
        return [e for e in events if namespace is None or e.get("metadata", {}).get("namespace") == namespace]

    def find(self, r: Resource, namespace: str | None, name: str) -> dict | None:
        with self.lock:
            if r.readonly:
                return next((e for e in self._derived(r, namespace) if e["metadata"]["name"] == name), None)
            obj = self.cluster.find(r.store_kind, Store.key(namespace if r.namespaced else None, name))
            return None if obj is None else self._shown(r, obj)

    def get(self, r: Resource, namespace: str | None, name: str) -> dict:
        obj = self.find(r, namespace, name)
        if obj is None:
            raise ApiError.not_found(r.plural, name, r.group)
        return obj

    # ------------------------------------------------------------ writes
    def _write(self, r: Resource, obj: dict, dry_run: bool) -> dict:
        """Admit one object through the simulator (all-or-nothing); return it as stored."""
        name, namespace = obj["metadata"].get("name"), obj["metadata"].get("namespace")
        snapshot = self.cluster._snapshot() if dry_run else None
        try:
            self.cluster.apply([obj])
            stored = self.get(r, namespace, name)
        except KubelabError as exc:
            raise from_kubelab_error(exc, r.kind, name, r.group, r.version) from None
        finally:
            if snapshot is not None:
                self.cluster._restore(snapshot)
        return stored

    def create(self, r: Resource, namespace: str | None, obj: dict, dry_run: bool = False) -> dict:
        with self.lock:
            meta = obj.setdefault("metadata", {})
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + random_suffix(self.cluster.rng)
            if not meta.get("name"):
                raise ApiError(422, "Invalid", f"{r.kind} \"\" is invalid: metadata.name: Required value: name or "
                               "generateName is required", {"kind": r.kind, "causes": [
                                   {"reason": "FieldValueRequired", "field": "metadata.name",
                                    "message": "Required value: name or generateName is required"}]})
            if self.find(r, namespace, meta["name"]) is not None:
                raise ApiError.already_exists(r.plural, meta["name"], r.group)
            if not obj.get("status") or r.kind in ("Deployment", "StatefulSet") or "status" in r.subresources \
                    and r.custom:
                obj.pop("status", None)   # workload status is reported from the pods, never stored; a CRD
                #                           with a status subresource ignores .status on create
            for field in ("resourceVersion", "uid", "creationTimestamp"):
                meta.pop(field, None)
            return self._write(r, obj, dry_run)

    def update(self, r: Resource, namespace: str | None, name: str, obj: dict, dry_run: bool = False) -> dict:
        """PUT (and every patch once computed): a whole new object; status stays the server's."""
        with self.lock:
            old = self.get(r, namespace, name)
            given_rv = (obj.get("metadata") or {}).get("resourceVersion")
            if given_rv and given_rv != old["metadata"].get("resourceVersion"):
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {r.plural} "{name}": the object '
                               "has been modified; please apply your changes to the latest version and try again",
                               {"name": name, "group": r.group, "kind": r.plural})
            if (obj.get("metadata") or {}).get("name", name) != name:
                raise ApiError.bad_request(f"the name of the object ({obj['metadata']['name']}) does not match "
                                           f"the name on the URL ({name})")
            obj.setdefault("metadata", {})["name"] = name
            if r.custom and "status" not in r.subresources:
                pass                      # without a status subresource, .status is a field like any other
            elif r.kind == "Pod" or "status" not in old:
                obj.pop("status", None)   # the simulator keeps a pod's status unless a manifest pins it
            elif r.kind not in ("Deployment", "StatefulSet"):
                obj["status"] = copy.deepcopy(old["status"])
            else:
                obj.pop("status", None)   # reported from the pods, never stored
            return self._write(r, obj, dry_run)

    def update_status(self, r: Resource, namespace: str | None, name: str, status, dry_run: bool = False) -> dict:
        """A write to a custom resource's status subresource: the stored object with only .status replaced."""
        with self.lock:
            obj = copy.deepcopy(self.get(r, namespace, name))
            obj["metadata"].pop("resourceVersion", None)
            if status is None:
                obj.pop("status", None)
            else:
                obj["status"] = status
            return self._write(r, obj, dry_run)

    def delete(self, r: Resource, namespace: str | None, name: str, dry_run: bool = False,
               grace_period: int | None = None) -> dict:
        """DELETE: a pod terminates for grace_period (DeleteOptions.gracePeriodSeconds, else its own
        terminationGracePeriodSeconds) and is returned with its deletionTimestamp while it does."""
        with self.lock:
            obj = self.get(r, namespace, name)
            if r.readonly:
                raise ApiError.method_not_allowed(r.read_only_reason)
            if dry_run:
                return obj
            try:
                self.cluster.delete(r.store_kind, name, namespace, grace_period)
            except KubelabError as exc:
                error = from_kubelab_error(exc, r.kind, name, r.group)
                if "Forbidden" in str(exc):
                    error = ApiError(403, "Forbidden", f'{r.plural} "{name}" is forbidden: '
                                     f'{str(exc).split("Forbidden: ", 1)[-1]}', error.details)
                raise error from None
            return self.find(r, namespace, name) or obj   # still there while terminating
