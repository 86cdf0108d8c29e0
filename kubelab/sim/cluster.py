"""The simulated cluster: an API server (admission + storage) and the controllers that act on it.

`apply` is all-or-nothing: every document is checked first, then admitted in order, and any
error restores the previous state, so a learner's half-broken file never leaves half a change.
"""
from __future__ import annotations

import calendar
import contextlib
import copy
import datetime
import gc
import ipaddress
import random
import time
import uuid
from collections import defaultdict

from ..api import kinds
from ..errors import ConflictError, NotFoundError, ValidationError, object_ref
from ..api.manifests import load_manifests, ref_of
from ..net import ipam, probes
from ..net.objects import json_copy, labels_of, name_of, namespace_of, pod_ips
from ..net.trafficdist import reconcile_hints
from ..results import ApplyResult
from ..api.schema import check_structure
from . import admission, generation, workloads
from .config import ClusterConfig
from .deployment_view import DeploymentViews
from .endpoints_views import EndpointsViews
from .slice_views import SliceViews
from .store import Store

__all__ = ["Cluster"]

MANAGED_BY = "endpointslice-controller.k8s.io"
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
API_SERVER_PORT = 6443

# Feature modules (kubelab.sim.ingress, ...) plug in here, so this file need not know every kind:
ADMITTERS: dict = {}       # kind -> fn(cluster, doc, old, ref) -> doc: defaulting and validation on create/update
EARLY_CHECKS: dict = {}    # kind -> fn(doc): semantic checks run before the schema's, so their field paths win
CONTROLLERS: list = []     # fn(cluster): run after the built-in controllers on every reconcile
POD_MUTATORS: list = []    # fn(cluster, pod, old) -> pod: mutating admission webhooks (mesh sidecar injection)


class Cluster:
    """State and controllers of one simulated cluster; the Lab facade sits on top of it."""

    def __init__(self, config: ClusterConfig):
        from ..net.services import ServiceAllocators

        self.config = config
        self.rng = random.Random(config.seed)
        self.store = Store()
        self._endpoint_memo: dict = {}     # the EndpointSlice controller's per-pod work, by object identity
        self._deployment_views = DeploymentViews(self.store)   # each Deployment's pods, kept from the change log
        self._slice_views = SliceViews(self.store)   # each Service's last EndpointSlice reconcile, carried on
        self._endpoints_memo: dict = {}    # the same for the endpoints controller (v1 Endpoints)
        self._settled_pods: dict = {}      # the scheduler's and kubelet's pass: pods it is done with
        self._settled_host_ports: dict = {}   # ... and the host ports of those that claim some
        self.clock = 0
        self.now = 0                              # simulated seconds, moved by advance()
        # a served lab's clock (kubelab.serve sets it): () -> datetime of new objects' creationTimestamp
        self.timestamp_source = None
        self.terminating: dict[str, int] = {}     # pod key -> second its grace period ends
        self.coredns_corefile: str | None = None  # the Corefile CoreDNS last loaded (serves it)
        self.coredns_log: list[str] = []          # what `kubectl logs` shows for a CoreDNS pod
        self._endpoints_seen: dict[str, str] = {}  # Endpoints key -> the resourceVersion of our last write
        self._endpoints_views = EndpointsViews(self.store)   # each Service's pod addresses, kept from the change log
        self._pod_index = None
        self.service_allocators = ServiceAllocators(
            cluster_ips={fam: ipam.ServiceIPAllocator(cidr)
                         for fam, cidr in zip(config.ip_families, config.service_cidr)},
            node_ports=ipam.PortAllocator(config.node_port_range))
        self.pod_cidrs = {fam: ipam.PodCIDRAllocator(cidr) for fam, cidr in zip(config.ip_families, config.pod_cidr)}
        self.node_ipam: dict[str, dict[str, ipam.NodeIPAM]] = {}
        self.lb_pool = ipam.LoadBalancerPool(config.load_balancer_pool)
        self.ip_owner: dict[str, str] = {}       # pod IP -> pod key
        self.pinned_ips: set[str] = set()        # IPs given in manifests (the auto allocator avoids them)
        self._bootstrap()

    # ---------------------------------------------------------------- bootstrap
    def _bootstrap(self) -> None:
        """What kubeadm leaves behind: system namespaces, nodes, the kubernetes and kube-dns Services, CoreDNS."""
        from ..net.dns import default_corefile

        docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in SYSTEM_NAMESPACES]
        docs += [self.default_node(i) for i in range(self.config.nodes)]
        docs.append({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "kubernetes", "namespace": "default",
                                  "labels": {"component": "apiserver", "provider": "kubernetes"}},
                     "spec": {"clusterIP": self.config.kubernetes_service_ip,
                              "ports": [{"name": "https", "port": 443, "targetPort": API_SERVER_PORT,
                                         "protocol": "TCP"}]}})
        docs.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                     "metadata": {"name": "kubernetes", "namespace": "default",
                                  "labels": {"kubernetes.io/service-name": "kubernetes"}},
                     "addressType": self.config.primary_family,
                     "endpoints": [{"addresses": [self.api_server_ip], "conditions": {"ready": True}}],
                     "ports": [{"name": "https", "port": API_SERVER_PORT, "protocol": "TCP"}]})
        labels = {"k8s-app": "kube-dns"}
        docs.append({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": "coredns", "namespace": "kube-system"},
                     "data": {"Corefile": default_corefile(self.config.cluster_domain)}})
        docs.append({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "kube-dns", "namespace": "kube-system",
                                  "labels": {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}},
                     "spec": {"clusterIP": self.config.cluster_dns, "selector": labels,
                              "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                                        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                                        {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}})
        docs.append({"apiVersion": "apps/v1", "kind": "Deployment",
                     "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
                     "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                              "template": {"metadata": {"labels": labels},
                                           "spec": {"dnsPolicy": "Default", "containers": [{
                                               "name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.12.0",
                                               "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                                         {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                                                         {"name": "metrics", "containerPort": 9153,
                                                          "protocol": "TCP"}]}]}}}})
        self.apply(docs)

    @property
    def api_server_ip(self) -> str:
        """The control plane's address (outside the worker nodes): the node network's .254, in the family of
        the primary service range, since the `kubernetes` Service is single-stack of that family and its
        endpoint is the API server's advertise address (kube-apiserver --advertise-address)."""
        cidr = self.config.node_cidr_v6 if self.config.primary_family == "IPv6" else self.config.node_cidr
        return str(ipaddress.ip_network(cidr).network_address + 254)

    def default_node(self, index: int) -> dict:
        """node-1, node-2, … at the node network's .11, .12, …"""
        name = f"node-{index + 1}"
        addresses = [{"type": "InternalIP",
                      "address": str(ipaddress.ip_network(self.config.node_cidr).network_address + 11 + index)}]
        if "IPv6" in self.config.ip_families:
            v6 = str(ipaddress.ip_network(self.config.node_cidr_v6).network_address + 11 + index)
            addresses.append({"type": "InternalIP", "address": v6})
            if self.config.primary_family == "IPv6":
                addresses.reverse()
        addresses.append({"type": "Hostname", "address": name})
        return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                "status": {"addresses": addresses}}

    # ---------------------------------------------------------------- helpers
    def _new_meta(self, obj: dict, kind: str | None = None) -> None:
        """Server metadata of a new object: uid, creationTimestamp and, for the kinds that keep one, generation."""
        meta = obj["metadata"]
        self.clock += 1
        meta.setdefault("uid", _uuid4(self.rng.getrandbits(128)))
        # a logical clock: one second per object, so creation order is the timestamps' order
        if self.timestamp_source is not None:
            created = self.timestamp_source().strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            created = _timestamp(self.clock)
        meta.setdefault("creationTimestamp", created)
        generation.on_create(kind or obj["kind"], obj)

    def key(self, kind: kinds.Kind, name: str, namespace: str | None) -> str:
        return Store.key(namespace if kind.namespaced else None, name)

    def get(self, kind: str, name: str, namespace: str | None = "default") -> dict:
        k = kinds.lookup(kind)
        _check_name_argument(k, name, namespace)
        obj = self.store.get(k.kind, self.key(k, name, namespace))
        if obj is None:
            where = f" in namespace {namespace!r}" if k.namespaced else ""
            raise NotFoundError(f'{k.plural} "{name}" not found{where}')
        return obj

    def find(self, kind: str, key: str) -> dict | None:
        return self.store.get(kind, key)

    def items(self, kind: str, namespace: str | None = None) -> list[dict]:
        return self.store.items(kind, namespace)

    # ---------------------------------------------------------------- apply / delete
    def apply(self, manifests) -> ApplyResult:
        docs = load_manifests(manifests)
        prepared = [self._prepare(doc) for doc in docs]
        snapshot = self._snapshot()
        with cyclic_gc_paused():
            try:
                changes = [self._admit(kind, doc) for kind, doc in prepared]
                self.reconcile()
            except Exception:
                self._restore(snapshot)
                raise
        return ApplyResult(tuple(changes), tuple(self._warnings(changes)))

    def _warnings(self, changes) -> list[str]:
        """Services the API server accepted that will have no endpoints (selector or named port mistakes)."""
        from ..net.diagnose import PodIndex, service_warnings

        from ..net.endpoints import DEPRECATION_WARNING

        out, pods = [], None
        for kind, key, verb in changes:
            if kind == "Endpoints" and DEPRECATION_WARNING not in out:   # the API server's warning header
                out.append(DEPRECATION_WARNING)
            if kind == "Service" and verb != "unchanged":
                pods = pods or PodIndex(by_label=self._current_pod_index().labels())   # linear, not pods x Services
                out += service_warnings(self.store.get("Service", key), pods)
        return out

    def _current_pod_index(self) -> _PodIndex:
        """The last reconcile's pod label index while no pod changed since, else a new one."""
        index = self._pod_index
        if index is None or self.store.changed_since("Pod", index.cursor) != []:
            pods = self.items("Pod")
            index = _PodIndex(lambda: pods, self.store.cursor("Pod"))
        return index

    def _prepare(self, doc: dict) -> tuple[kinds.Kind, dict]:
        """Checks that need no cluster state: kind, schema, names, labels."""
        from ..net.names import validate_object_meta

        from ..api.nulls import decode_nulls

        ref = ref_of(doc)
        kind = kinds.for_manifest(doc["apiVersion"], doc["kind"], ref)
        decode_nulls(doc)
        if kind.namespaced:
            doc["metadata"].setdefault("namespace", "default")
        elif "namespace" in doc["metadata"]:
            doc["metadata"].pop("namespace")
        if kind.kind in EARLY_CHECKS:
            EARLY_CHECKS[kind.kind](doc)
        check_structure(doc, ref_of(doc), schema_required=kind.openapi_schema)
        validate_object_meta(doc, kind.kind, kind.namespaced, kind.name_rule)
        return kind, doc

    def _admit(self, kind: kinds.Kind, doc: dict, from_template: bool = False) -> tuple[str, str, str]:
        """Admit and store one object; `from_template`: a pod a workload controller made (see admission.admit_pod)."""
        ref = ref_of(doc)
        namespace = doc["metadata"].get("namespace")
        if kind.namespaced and self.store.get("Namespace", namespace) is None:
            raise NotFoundError(f'{ref}: metadata.namespace: namespaces "{namespace}" not found '
                                f"(create the Namespace first, or put it earlier in the same apply)")
        key = self.key(kind, doc["metadata"]["name"], namespace)
        old = self.store.get(kind.kind, key)
        if from_template:
            new = self._admit_pod(doc, old, ref, from_template=True)
        else:
            admit = getattr(self, f"_admit_{kind.kind.lower()}", None) or \
                (lambda d, o, r: ADMITTERS[kind.kind](self, d, o, r))
            new = admit(doc, old, ref)
        if old is not None:
            for field in ("uid", "creationTimestamp"):
                new["metadata"][field] = old["metadata"].get(field)
            if _comparable(old) == _comparable(new):
                return kind.kind, key, "unchanged"
            generation.on_update(kind.kind, old, new)
        else:
            self._new_meta(new, kind.kind)
        self.store.put(kind.kind, key, new)
        return kind.kind, key, "configured" if old is not None else "created"

    # per-kind admission (defaulting, validation, allocation)
    def _admit_namespace(self, doc, old, ref):
        return admission.admit_namespace(doc, ref)

    def _admit_configmap(self, doc, old, ref):
        """The API server stores any ConfigMap; CoreDNS's reload plugin then loads kube-system/coredns's
        Corefile, and when it cannot, logs the error and keeps serving the last good configuration."""
        admission.admit_configmap(doc, ref)
        if ref == "ConfigMap kube-system/coredns":
            self._reload_coredns((doc.get("data") or {}).get("Corefile", ""))
        return doc

    def _reload_coredns(self, corefile: str) -> None:
        import hashlib

        from ..net.dns import parse_corefile

        if corefile == self.coredns_corefile:
            return
        first = self.coredns_corefile is None
        if not first:
            self.coredns_log.append("[INFO] Reloading")
        try:
            parse_corefile(corefile)
        except ValidationError as exc:
            if first:
                raise
            where, _, problem = exc.problem.partition(": ")
            self.coredns_log.append(f"[ERROR] Restart failed: Corefile:{where.replace('line ', '')} - "
                                    f"Error during parsing: {problem}")
            return
        self.coredns_corefile = corefile
        digest = hashlib.sha512(corefile.encode()).hexdigest()
        if first:
            self.coredns_log += [".:53", f"[INFO] plugin/reload: Running configuration SHA512 = {digest}",
                                 "CoreDNS-1.12.0", "linux/amd64, go1.23.3, 51e11f1"]
        else:
            self.coredns_log += [f"[INFO] plugin/reload: Running configuration SHA512 = {digest}",
                                 "[INFO] Reloading complete"]

    def _admit_networkpolicy(self, doc, old, ref):
        from ..net.netpol import validate_network_policy
        validate_network_policy(doc)
        return doc

    def _admit_endpointslice(self, doc, old, ref):
        if labels_of(doc).get("endpointslice.kubernetes.io/managed-by") == MANAGED_BY:
            raise ValidationError(ref, "metadata.labels.endpointslice.kubernetes.io/managed-by",
                                  f"{MANAGED_BY!r} is reserved for the EndpointSlice controller",
                                  "set your own manager name, or give the Service a selector instead")
        return admission.admit_endpointslice(doc, ref)

    def _admit_endpoints(self, doc, old, ref):
        from ..net.endpoints import validate_endpoints
        return validate_endpoints(doc, ref)

    def _admit_deployment(self, doc, old, ref):
        return admission.admit_deployment(doc, ref)

    def _admit_statefulset(self, doc, old, ref):
        return admission.admit_statefulset(doc, ref)

    def _admit_daemonset(self, doc, old, ref):
        return admission.admit_daemonset(doc, ref)

    def _admit_service(self, doc, old, ref):
        from ..net.services import ServiceAPIConfig, admit_service

        config = ServiceAPIConfig(service_cidrs=tuple(self.config.service_cidr),
                                  node_port_range=self.config.node_port_range,
                                  ip_families=tuple(self.config.ip_families))
        new = admit_service(doc, old, config, self.service_allocators, self.rng)
        if old is not None:
            new["status"] = old.get("status") or {}
        new.setdefault("status", {"loadBalancer": {}})
        return new

    def _admit_node(self, doc, old, ref):
        doc = admission.admit_node(doc, ref)
        name = doc["metadata"]["name"]
        labels = doc["metadata"].setdefault("labels", {})
        labels.setdefault("kubernetes.io/hostname", name)
        labels.setdefault("kubernetes.io/os", "linux")
        status = doc["status"]
        if not any(a.get("type") == "InternalIP" for a in status.get("addresses") or []):
            status["addresses"] = self.default_node(self.store.count("Node"))["status"]["addresses"]
            status["addresses"][-1]["address"] = name
        status.setdefault("conditions", [{"type": "Ready", "status": "True", "reason": "KubeletReady"}])
        spec = doc["spec"]
        if old is not None:
            spec["podCIDRs"] = old["spec"]["podCIDRs"]
        else:
            spec["podCIDRs"] = self._node_pod_cidrs(spec, ref)
        spec["podCIDR"] = spec["podCIDRs"][0]
        self.node_ipam[name] = self.node_ipam.get(name) or {
            fam: ipam.NodeIPAM(cidr) for fam, cidr in zip(self.config.ip_families, spec["podCIDRs"])}
        return doc

    def _node_pod_cidrs(self, spec: dict, ref: str) -> list[str]:
        """Pinned spec.podCIDRs are claimed; otherwise the node IPAM controller carves one per family."""
        pinned = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        cidrs = []
        for fam, allocator in self.pod_cidrs.items():
            mine = [c for c in pinned if _family(c) == fam]
            if mine:
                if allocator.contains(mine[0]):
                    allocator.allocate_specific(mine[0])
                cidrs.append(mine[0])
            else:
                cidrs.append(allocator.allocate())
        return cidrs

    def _admit_pod(self, doc, old, ref, from_template: bool = False):
        """Status in a manifest is pinned state the simulator honours; without it (as with kubectl apply,
        which never writes status) the server's status is kept."""
        for mutate in POD_MUTATORS:
            doc = mutate(self, doc, old)
        doc = admission.admit_pod(doc, ref, from_template)
        given = doc.get("status") or {}
        annotations = doc["metadata"].setdefault("annotations", {})
        if old is not None:
            _check_pod_update(old, doc, ref)
            for field in ("deletionTimestamp", "deletionGracePeriodSeconds"):   # an update cannot undelete
                if field in old["metadata"]:
                    doc["metadata"][field] = old["metadata"][field]
            doc["spec"]["nodeName"] = old["spec"].get("nodeName")
            old_annotations = old["metadata"].get("annotations") or {}
            for mark in ("kubelab.io/pinned-ip", "kubelab.io/pinned-status"):
                if mark in old_annotations:
                    annotations.setdefault(mark, "true")
            status = {**copy.deepcopy(old.get("status") or {}), **given}
        else:
            status = dict(given)
        doc["status"] = status
        if "phase" in given or "conditions" in given:
            annotations["kubelab.io/pinned-status"] = "true"
        if "podIPs" in given or "podIP" in given:
            annotations["kubelab.io/pinned-ip"] = "true"
            if "podIPs" not in given:
                status["podIPs"] = [{"ip": given["podIP"]}]
            ips = [e["ip"] for e in status["podIPs"]]
            key = Store.key(doc["metadata"]["namespace"], doc["metadata"]["name"])
            if old is not None:
                for ip in pod_ips(old):
                    if ip not in ips and self.ip_owner.get(ip) == key:
                        del self.ip_owner[ip]
                        self.pinned_ips.discard(ip)
            # a hostNetwork pod shares its node's addresses: several may pin the same one, and no pod owns it
            for i, ip in enumerate([] if doc["spec"].get("hostNetwork") else ips):
                self._claim_pinned_ip(ip, key, ref, i)
            status["podIPs"] = [{"ip": ip} for ip in ips]
            if ips:
                status["podIP"] = ips[0]
            else:
                status.pop("podIP", None)
        if not annotations:
            del doc["metadata"]["annotations"]
        return doc

    def _claim_pinned_ip(self, ip: str, key: str, ref: str, index: int) -> None:
        owner = self.ip_owner.get(ip)
        if owner and owner != key:
            other = self.store.get("Pod", owner)
            if other is not None and "kubelab.io/pinned-ip" in (other["metadata"].get("annotations") or {}):
                raise ConflictError(ref, f"status.podIPs[{index}].ip", f"{ip} is already the IP of pod {owner}",
                                    "pin a different address, or leave status out to have one assigned")
            if other is not None:   # an automatically addressed pod: it gets a new address instead
                self._release_pod_ips(other)
                readdressed = copy.deepcopy(other)
                for f in ("podIP", "podIPs"):
                    readdressed["status"].pop(f, None)
                self.store.put("Pod", owner, readdressed)
        self.ip_owner[ip] = key
        self.pinned_ips.add(ip)

    def delete(self, kind: str, name: str, namespace: str | None = "default",
               grace_period: int | None = None) -> str:
        """Delete an object; a pod terminates gracefully (see terminate_pod), and so do the pods of a deleted
        workload (background cascading deletion)."""
        k = kinds.lookup(kind)
        obj = self.get(k.kind, name, namespace)
        if grace_period is not None and (not isinstance(grace_period, int) or grace_period < 0):
            raise ValidationError(object_key_ref(k.kind, obj), "gracePeriodSeconds",
                                  f"Invalid value: {grace_period!r}: must be a whole number >= 0",
                                  "use 0 to delete at once, or leave it out for the pod's own grace period")
        snapshot = self._snapshot()
        with cyclic_gc_paused():
            try:
                if k.kind == "Pod":
                    self.terminate_pod(obj, grace_period)
                else:
                    self._delete_object(k.kind, obj)
                self.reconcile()
            except Exception:
                self._restore(snapshot)
                raise
        return f'{k.kind.lower()} "{name}" deleted'

    def terminate_pod(self, pod: dict, grace_period: int | None = None) -> None:
        """Graceful pod deletion: the API server sets metadata.deletionTimestamp and deletionGracePeriodSeconds
        (spec.terminationGracePeriodSeconds, default 30); the pod keeps running (SIGTERM sent) until the grace
        period has passed in simulated time, then it is removed. A grace period of 0 removes it at once."""
        key = key_of_pod(pod)
        if grace_period is None:
            grace_period = pod["spec"].get("terminationGracePeriodSeconds", 30)
        phase = (pod.get("status") or {}).get("phase")
        if grace_period <= 0 or not pod["spec"].get("nodeName") or phase in ("Succeeded", "Failed"):
            self.terminating.pop(key, None)
            self._delete_object("Pod", pod)   # nothing runs it (or it is done): no kubelet to wait for
            return
        deadline = self.now + grace_period
        if key in self.terminating and self.terminating[key] <= deadline:
            return   # already terminating, sooner: a second delete can only shorten it
        self.terminating[key] = deadline
        meta = dict(pod["metadata"])
        generation.on_graceful_delete(meta)
        meta["deletionTimestamp"] = _timestamp(self.clock + deadline) if self.timestamp_source is None else \
            (self.timestamp_source() + datetime.timedelta(seconds=grace_period)).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta["deletionGracePeriodSeconds"] = grace_period
        self.store.put("Pod", key, {**pod, "metadata": meta})

    def present(self) -> datetime.datetime:
        """The cluster's clock: a served lab's (timestamp_source), else the logical clock (one second per
        object made) plus the seconds advance() let pass; log lines are stamped with it."""
        if self.timestamp_source is not None:
            return self.timestamp_source()
        return datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc) + \
            datetime.timedelta(seconds=self.clock + self.now)

    def advance(self, seconds: int) -> list[str]:
        """Let simulated time pass: pods whose grace period has ended are removed; returns their keys."""
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValidationError("advance()", "seconds", f"Invalid value: {seconds!r}: must be >= 0",
                                  "pass how many seconds of simulated time should pass")
        self.now += seconds
        gone = sorted(k for k, deadline in self.terminating.items() if deadline <= self.now)
        if gone:
            snapshot = self._snapshot()
            with cyclic_gc_paused():
                try:
                    for key in gone:
                        del self.terminating[key]
                        pod = self.store.get("Pod", key)
                        if pod is not None:
                            self._delete_object("Pod", pod)
                    self.reconcile()
                except Exception:
                    self._restore(snapshot)
                    raise
        return gone

    def _delete_object(self, kind: str, obj: dict) -> None:
        key = self.key(kinds.lookup(kind), name_of(obj), namespace_of(obj) or None)
        self.store.remove(kind, key)
        if kind == "Service":
            from ..net.services import release_service
            release_service(obj, self.service_allocators)
            for ip in _lb_ips(obj):
                self.lb_pool.release(ip)
            for s in self._slices_of(obj):
                self.store.remove("EndpointSlice", Store.key(namespace_of(s), name_of(s)))
            # the endpoints controller deletes a deleted Service's Endpoints
            self.store.remove("Endpoints", Store.key(namespace_of(obj), name_of(obj)))
        elif kind == "Pod":
            self.terminating.pop(key, None)
            self._release_pod_ips(obj)
        elif kind in ("Deployment", "StatefulSet", "DaemonSet"):
            for pod in self.items("Pod", namespace_of(obj)):
                if workloads.owner_of(pod) == (kind, name_of(obj)):
                    self.terminate_pod(pod)
        elif kind == "Node":
            for pod in self.items("Pod"):
                if pod["spec"].get("nodeName") == name_of(obj):
                    self._delete_object("Pod", pod)
            for fam, cidr in zip(self.config.ip_families, obj["spec"].get("podCIDRs") or []):
                if fam in self.pod_cidrs and self.pod_cidrs[fam].contains(cidr):
                    self.pod_cidrs[fam].release(cidr)
            self.node_ipam.pop(name_of(obj), None)
        elif kind == "Namespace":
            if name_of(obj) in SYSTEM_NAMESPACES:
                raise ValidationError(f"Namespace {name_of(obj)}", "metadata.name",
                                      "Forbidden: this namespace may not be deleted")
            for k in kinds.all_kinds():
                if k.namespaced:
                    for item in self.items(k.kind, name_of(obj)):
                        if self.store.get(k.kind, Store.key(name_of(obj), name_of(item))) is not None:
                            self._delete_object(k.kind, item)

    def _release_pod_ips(self, pod: dict) -> None:
        key = Store.key(namespace_of(pod), name_of(pod))
        node = pod["spec"].get("nodeName")
        for ip in pod_ips(pod):
            if self.ip_owner.get(ip) == key:
                del self.ip_owner[ip]
                self.pinned_ips.discard(ip)
                for allocator in (self.node_ipam.get(node) or {}).values():
                    if allocator.contains(ip):
                        allocator.release(ip)

    def _snapshot(self):
        # the allocators deep (each copies its own set); the flat maps of strings and numbers shallow
        return (self.store.snapshot(), (*copy.deepcopy((self.service_allocators, self.pod_cidrs, self.node_ipam,
                                                        self.lb_pool)),
                                        dict(self.ip_owner), set(self.pinned_ips), dict(self.terminating),
                                        self.now, self.coredns_corefile, list(self.coredns_log)),
                self.rng.getstate(), self.clock)

    def _restore(self, snap) -> None:
        store, allocs, rng_state, clock = snap
        self.store.restore(store)
        (self.service_allocators, self.pod_cidrs, self.node_ipam, self.lb_pool,
         self.ip_owner, self.pinned_ips, self.terminating, self.now, self.coredns_corefile,
         self.coredns_log) = allocs
        self.rng.setstate(rng_state)
        self.clock = clock

    # ---------------------------------------------------------------- controllers
    def reconcile(self) -> None:
        """Run every controller once, in dependency order, until nothing changes."""
        self._run_workload_controllers()
        self._schedule_and_address_pods()
        self._run_endpointslice_controller()
        self._run_endpoints_controllers()
        self._run_cloud_controller()
        for controller in CONTROLLERS:
            controller(self)

    def _run_workload_controllers(self) -> None:
        for kind in ("Deployment", "StatefulSet"):
            for owner in self.items(kind):
                missing = self._deployment_views.missing_replicas(owner) if kind == "Deployment" else None
                if missing is not None:   # only replicas to add: no need to read every pod
                    create, delete = self._new_replicas(owner, missing), []
                elif kind == "Deployment":
                    existing = self.items("Pod", namespace_of(owner))
                    for orphan in workloads.orphans_to_adopt(owner, existing):
                        adopted = {**orphan, "metadata": {**orphan["metadata"],
                                                          "ownerReferences": [workloads.controller_ref(owner, kind)]}}
                        self.store.put("Pod", key_of_pod(orphan), adopted)
                    existing = self.items("Pod", namespace_of(owner))
                    self._deployment_views.record(owner, existing, self.store.cursor("Pod"))
                    create, delete = workloads.desired_deployment_pods(owner, existing, self.rng)
                else:
                    create, delete = workloads.desired_statefulset_pods(owner, self.items("Pod", namespace_of(owner)))
                for pod in delete:
                    self.terminate_pod(pod)
                for pod in create:   # a StatefulSet's pods add a label of their own name: checked again
                    self._admit(kinds.lookup("Pod"), pod, from_template=kind == "Deployment")
        nodes = self.items("Node")
        for ds in self.items("DaemonSet"):
            create, delete = workloads.desired_daemonset_pods(ds, self.items("Pod", namespace_of(ds)), nodes,
                                                              _daemon_eligible, self.rng)
            for pod in delete:
                self.terminate_pod(pod)
            for pod in create:
                self._admit(kinds.lookup("Pod"), pod, from_template=True)

    def daemon_nodes(self, ds: dict) -> list[str]:
        """The nodes a DaemonSet's pod belongs on (those desired_daemonset_pods places one on)."""
        spec = workloads.daemon_pod_spec(ds)
        return [name_of(n) for n in self.items("Node") if _daemon_eligible(spec, n)]

    def _new_replicas(self, deployment: dict, count: int) -> list[dict]:
        """The pods a Deployment lacks, named as desired_deployment_pods names them (names of the namespace's
        pods looked up in the store rather than collected from all of them)."""
        namespace = namespace_of(deployment)
        template_hash = workloads.pod_template_hash(deployment["spec"].get("template") or {})
        return workloads.new_deployment_pods(
            deployment, template_hash, count,
            lambda name: self.store.get("Pod", Store.key(namespace, name)) is not None, self.rng)

    def _schedule_and_address_pods(self) -> None:
        """Scheduler: nodes that match the pod's nodeSelector and have its hostPorts free, fewest pods first,
        ties by name. Kubelet+CNI: IPs from the node's podCIDR, hostNetwork pods share the node's. Pods report
        Running and Ready unless their status is pinned."""
        nodes = {name_of(n): n for n in self.items("Node")}
        capacity = {name: _max_pods(n) for name, n in nodes.items()}   # read once a pass, not once a pod
        node_ips: dict[str, list[str]] = {}
        host_ips: dict[str, list[dict]] = {}   # node -> the status.hostIPs its pods share (see _running_conditions)
        shared_conditions: dict = {}
        filtered: dict = {}   # see _node_filters
        load = defaultdict(int)
        used_ports = defaultdict(set)
        pods = self.items("Pod")
        # started pods this pass left as they were, by identity (stored objects are replaced, never mutated):
        # id -> pod; nothing below changes them while their node exists. Their host ports are remembered
        # only when they have some (most have none)
        settled, settled_ports = self._settled_pods, self._settled_host_ports
        if len(settled) > 200_000:
            settled.clear()
            settled_ports.clear()
        for pod in pods:
            node_name = pod["spec"].get("nodeName")
            if not node_name:
                continue
            phase = (pod.get("status") or {}).get("phase")
            if phase == "Running":
                load[node_name] += 1
                if settled.get(id(pod)) is not pod:
                    used_ports[node_name] |= admission.host_ports(pod)
                elif id(pod) in settled_ports:
                    used_ports[node_name] |= settled_ports[id(pod)]
            elif phase == "Pending":
                load[node_name] += 1
        # only the pods this pass still has work for, oldest first (sorting all of them would cost every reconcile)
        unsettled = [p for p in pods if not (settled.get(id(p)) is p and p["spec"].get("nodeName") in nodes)]
        # by creation time; pods are listed by namespace and name, and the sort is stable: ties stay in that order
        unsettled.sort(key=_created)
        for pod in unsettled:
            spec, status = pod["spec"], pod.get("status") or {}
            annotations = pod["metadata"].get("annotations") or {}
            node_name = spec.get("nodeName")
            pinned = "kubelab.io/pinned-ip" in annotations
            pinned_status = bool(annotations.get("kubelab.io/pinned-status"))
            node = nodes.get(node_name)
            started = status.get("phase") in ("Running", "Failed", "Succeeded")
            unschedulable = None
            ports = admission.host_ports(pod)
            if not node_name:
                node_name, unschedulable = self._pick_node(pod, nodes, load, used_ports, capacity, ports, filtered)
                node = nodes.get(node_name)
            elif node is not None and not started and not pinned_status and ports & used_ports[node_name]:
                # pinned with nodeName, so the scheduler was bypassed: the kubelet's admission rejects it
                self._put_pod(pod, node_name, {**status, "phase": "Failed", "reason": "NodePorts",
                                               "message": "Pod was rejected: Predicate NodePorts failed: node(s) "
                                                          "didn't have free ports for the requested pod ports"})
                continue
            if node is not None and not started and not pinned_status:
                used_ports[node_name] |= ports
            needs_ip = node is not None and not pod_ips(pod) and not pinned and status.get("phase") != "Failed"
            if not (needs_ip or (node is not None and "hostIP" not in status) or "phase" not in status
                    or (node is not None and status.get("phase") == "Pending" and not pinned_status)):
                if started and node is not None:
                    self._settle(pod, ports)
                continue
            status = dict(status)
            if node is not None:
                if node_name not in node_ips:
                    node_ips[node_name] = _node_internal_ips(node)
                    host_ips[node_name] = [{"ip": ip} for ip in node_ips[node_name]]
                ips_of_node = node_ips[node_name]
                status["hostIP"] = ips_of_node[0] if ips_of_node else None
                status["hostIPs"] = host_ips[node_name]
                if needs_ip:
                    ips = list(ips_of_node) if spec.get("hostNetwork") else self._allocate_pod_ips(pod, node_name)
                    if not ips:   # the node's podCIDR is used up: the CNI cannot set up the sandbox
                        self._put_pod(pod, node_name, _sandbox_failed(status, self.pod_cidr_of_node(node_name)))
                        continue
                    status["podIP"] = ips[0]
                    status["podIPs"] = [{"ip": ip} for ip in ips]
                    if status.get("reason") == "ContainerCreating":   # an address came free: the sandbox starts
                        status.pop("reason")
                        status.pop("message", None)
                        status.pop("conditions", None)
                if not pinned_status:
                    status["phase"] = "Running"
                    status.pop("conditions", None)
                if not status.get("conditions"):
                    status["conditions"] = _running_conditions({**pod, "status": status}, shared_conditions)
            else:
                status.setdefault("phase", "Pending")
                if unschedulable or not node_name:
                    status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                             "message": unschedulable or "no nodes"}]
                else:   # bound by spec.nodeName to a node that does not exist: no kubelet will ever run it
                    status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "NodeNotFound",
                                             "message": f'spec.nodeName names node "{node_name}", which does not exist'}]
            written = self._put_pod(pod, node_name if node is not None or spec.get("nodeName") else None, status)
            if node is not None and _kubelet_done(written):
                self._settle(written, ports)   # the next pass would find nothing to do for it: it need not look

    def _pick_node(self, pod: dict, nodes: dict, load, used_ports, capacity: dict,
                   wanted: set, filtered: dict | None = None) -> tuple[str | None, str | None]:
        """The scheduler's filters (NodeAffinity for nodeSelector, TaintToleration, pod capacity, NodePorts) then
        the least-loaded node; `capacity`: each node's _max_pods, `wanted`: the pod's host ports, `filtered`: a
        dict for one pass (see _node_filters)."""
        if not nodes:
            return None, "0/0 nodes are available: no nodes in the cluster"
        fit, by_selector, by_ports, by_taint, full = [], 0, 0, {}, 0
        for name, refused in self._node_filters(pod, nodes, filtered):
            if refused == "selector":
                by_selector += 1
            elif refused is not None:
                by_taint[refused] = by_taint.get(refused, 0) + 1
            elif load[name] >= capacity[name]:
                full += 1
            elif wanted & used_ports[name]:
                by_ports += 1
            else:
                fit.append(name)
        if not fit:
            reasons = []
            if by_selector:
                reasons.append(f"{by_selector} node(s) didn't match Pod's node affinity/selector")
            for text, count in sorted(by_taint.items()):
                reasons.append(f"{count} node(s) had untolerated taint {{{text}}}")
            if full:
                reasons.append(f"{full} Too many pods")
            if by_ports:
                reasons.append(f"{by_ports} node(s) didn't have free ports for the requested pod ports")
            return None, f"0/{len(nodes)} nodes are available: {', '.join(reasons)}."
        chosen = min(fit, key=lambda n: (load[n], n))
        load[chosen] += 1
        used_ports[chosen] |= wanted
        return chosen, None

    @staticmethod
    def _node_filters(pod: dict, nodes: dict, filtered: dict | None) -> list[tuple[str, str | None]]:
        """(node, why the node's labels or taints refuse the pod: "selector", a taint's text, or None) for every
        node. They read only the pod's nodeSelector, affinity and tolerations, which the pods a controller
        stamped out share: `filtered` (a dict for one pass, the nodes unchanged) keeps the answer per those."""
        spec = pod["spec"]
        parts = (spec.get("nodeSelector"), spec.get("affinity"), spec.get("tolerations"))
        key = tuple(map(id, parts))
        hit = filtered.get(key) if filtered is not None else None
        if hit is not None and all(held is part for held, part in zip(hit[0], parts)):
            return hit[1]
        selector = parts[0] or {}
        verdicts = []
        for name, node in nodes.items():
            taint = workloads.untolerated_taint(spec, node)
            if any(labels_of(node).get(k) != v for k, v in selector.items()) or not _node_affinity_allows(pod, node):
                verdicts.append((name, "selector"))
            elif taint is not None:
                verdicts.append((name, f"{taint.get('key')}" + (f": {taint['value']}" if taint.get("value") else "")))
            else:
                verdicts.append((name, None))
        if filtered is not None:
            filtered[key] = (parts, verdicts)   # the parts are held: their ids are not reused in the pass
        return verdicts

    def _settle(self, pod: dict, ports: set | None = None) -> None:
        """Remember a started pod on an existing node as done (by identity), with its host ports if any (given
        when known: what admission.host_ports returns for it)."""
        self._settled_pods[id(pod)] = pod
        ports = admission.host_ports(pod) if ports is None else ports
        if ports:
            self._settled_host_ports[id(pod)] = ports
        else:
            self._settled_host_ports.pop(id(pod), None)

    def _put_pod(self, pod: dict, node_name: str | None, status: dict) -> dict:
        # copy only the parts this step writes: stored objects are never mutated
        updated = {**pod, "spec": {**pod["spec"]}, "status": status, "metadata": dict(pod["metadata"])}
        if node_name:
            updated["spec"]["nodeName"] = node_name
        self.store.put("Pod", Store.key(namespace_of(pod), name_of(pod)), updated)
        return updated

    def _allocate_pod_ips(self, pod: dict, node_name: str) -> list[str]:
        """host-local IPAM: one address per family from the node's podCIDR; [] when a range is used up."""
        key = Store.key(namespace_of(pod), name_of(pod))
        ips = []
        for fam in self.config.ip_families:
            allocator = self.node_ipam[node_name][fam]
            try:
                while True:
                    ip = allocator.allocate()
                    if ip not in self.ip_owner:
                        break
            except ConflictError:
                for taken in ips:
                    del self.ip_owner[taken]
                    for a in self.node_ipam[node_name].values():
                        if a.contains(taken):
                            a.release(taken)
                return []
            self.ip_owner[ip] = key
            ips.append(ip)
        return ips

    def pod_cidr_of_node(self, node_name: str) -> str:
        node = self.store.get("Node", node_name) or {}
        return ", ".join((node.get("spec") or {}).get("podCIDRs") or [])

    def _slices_of(self, service: dict) -> list[dict]:
        name = name_of(service)
        return [s for s in self.items("EndpointSlice", namespace_of(service))
                if labels_of(s).get("kubernetes.io/service-name") == name
                and labels_of(s).get("endpointslice.kubernetes.io/managed-by") == MANAGED_BY]

    def _run_endpointslice_controller(self) -> None:
        """One reconcile per Service with a selector; pods are looked up through a label index."""
        pods = self.items("Pod")   # pods do not change until the next reconcile
        cursor = self.store.cursor("Pod")
        index = self._pod_index = _PodIndex(lambda: pods, cursor)
        nodes = self.items("Node")
        managed = defaultdict(list)
        for s in self.items("EndpointSlice"):
            labels = labels_of(s)
            if labels.get("endpointslice.kubernetes.io/managed-by") == MANAGED_BY:
                managed[(namespace_of(s), labels.get("kubernetes.io/service-name"))].append(s)
        for service in self.items("Service"):
            selector = service["spec"].get("selector")
            existing = managed.get((namespace_of(service), name_of(service)), [])
            if not selector:
                desired = []   # selector-less Services use the slices their users apply
            else:
                # slices are copied before storing (what the memo needs)
                desired = self._slice_views.desired(
                    service, existing, nodes, lambda: index.candidates(namespace_of(service), selector),
                    self.config.max_endpoints_per_slice, self._endpoint_memo, cursor)
                desired = reconcile_hints(service["spec"].get("trafficDistribution"), desired)
            desired_by_name = {name_of(s): s for s in desired}
            for old in existing:
                if name_of(old) not in desired_by_name:
                    self.store.remove("EndpointSlice", Store.key(namespace_of(old), name_of(old)))
            for s in desired:
                key = Store.key(namespace_of(service), name_of(s))
                old = self.store.get("EndpointSlice", key)
                if old is not None and _comparable(old) == _comparable(s):
                    continue
                # only metadata is written below; the endpoints stay shared with the memo (neither is mutated)
                s = {**s, "metadata": json_copy(s["metadata"])}
                s["metadata"].setdefault("namespace", namespace_of(service))
                if old is not None:
                    for f in ("uid", "creationTimestamp"):
                        s["metadata"][f] = old["metadata"].get(f)
                    generation.on_update("EndpointSlice", old, s)
                else:
                    self._new_meta(s, "EndpointSlice")
                self.store.put("EndpointSlice", key, s)
            if selector:
                self._slice_views.stored(service)

    def _run_endpoints_controllers(self) -> None:
        """The endpoints controller (v1 Endpoints for Services with a selector) and the EndpointSlice mirroring
        controller (slices for hand-written Endpoints of selector-less Services)."""
        from ..net.endpoints import MIRROR_CONTROLLER, mirrored_slices, should_mirror

        index = self._pod_index
        cursor = self.store.cursor("Pod")
        for service in self.items("Service"):
            selector = service["spec"].get("selector")
            if not selector:
                continue
            key = Store.key(namespace_of(service), name_of(service))
            old = self.store.get("Endpoints", key)
            addresses, changed = self._endpoints_views.addresses(
                service, lambda: index.candidates(namespace_of(service), selector), self._endpoints_memo, cursor)
            # nothing the Endpoints derive from changed (the Service, its pods, our last write): skip the work
            if not changed and old is not None and self._endpoints_seen.get(key) == old["metadata"].get("resourceVersion"):
                continue
            desired = addresses.endpoints()
            if old is not None and old.get("subsets") == desired["subsets"] \
                    and old["metadata"].get("annotations") == desired["metadata"].get("annotations") \
                    and old["metadata"].get("labels") == desired["metadata"].get("labels"):
                self._endpoints_seen[key] = old["metadata"].get("resourceVersion")
                continue
            if old is not None:
                for f in ("uid", "creationTimestamp"):
                    desired["metadata"][f] = old["metadata"].get(f)
            else:
                _controller_meta(desired, service)
            self.store.put("Endpoints", key, desired)
            self._endpoints_seen[key] = desired["metadata"]["resourceVersion"]
        wanted: dict[str, dict] = {}
        for endpoints in self.items("Endpoints"):
            service = self.store.get("Service", Store.key(namespace_of(endpoints), name_of(endpoints)))
            if should_mirror(endpoints, service):
                for s in mirrored_slices(endpoints):
                    wanted[Store.key(namespace_of(s), name_of(s))] = s
        for s in self.items("EndpointSlice"):
            key = Store.key(namespace_of(s), name_of(s))
            if labels_of(s).get("endpointslice.kubernetes.io/managed-by") == MIRROR_CONTROLLER and key not in wanted:
                self.store.remove("EndpointSlice", key)
        for key, s in wanted.items():
            old = self.store.get("EndpointSlice", key)
            if old is not None and _comparable(old) == _comparable(s):
                continue
            if old is not None:
                for f in ("uid", "creationTimestamp"):
                    s["metadata"][f] = old["metadata"].get(f)
                generation.on_update("EndpointSlice", old, s)
            else:
                _controller_meta(s, self.store.get("Endpoints", Store.key(namespace_of(s),
                                                                          labels_of(s)["kubernetes.io/service-name"])))
            self.store.put("EndpointSlice", key, s)

    def _run_cloud_controller(self) -> None:
        """The simulated cloud gives each LoadBalancer Service an external IP from its pool."""
        for service in self.items("Service"):
            have = _lb_ips(service)
            if service["spec"].get("type") == "LoadBalancer":
                if have:
                    continue
                wanted = service["spec"].get("loadBalancerIP")
                try:
                    if wanted:
                        self.lb_pool.allocate_specific(wanted)
                        ip = wanted
                    else:
                        ip = self.lb_pool.allocate()
                except Exception:
                    continue   # pool exhausted: status stays empty (<pending>), as with a real cloud
                service = copy.deepcopy(service)
                service["status"] = {"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}}
            elif have:
                for ip in have:
                    self.lb_pool.release(ip)
                service = copy.deepcopy(service)
                service["status"] = {"loadBalancer": {}}
            else:
                continue
            self.store.put("Service", Store.key(namespace_of(service), name_of(service)), service)


class _PodIndex:
    """namespace -> label key=value -> pod list, so 2,000 selectors don't each scan 10,000 pods. Built from
    pods() on the first lookup: controllers that carry on from the change log may need none."""

    def __init__(self, pods, cursor: tuple):
        self._pods = pods
        self.cursor = cursor   # the pod log's, as of the pods
        self.by_label: dict[tuple, list[dict]] | None = None

    def labels(self) -> dict[tuple, list[dict]]:
        """(namespace, key, value) -> pods, in the store's order."""
        if self.by_label is None:
            self._build()
        return self.by_label

    def _build(self) -> None:
        self.by_label = defaultdict(list)
        for pod in self._pods():
            ns = namespace_of(pod)
            for k, v in labels_of(pod).items():
                self.by_label[(ns, k, v)].append(pod)

    def candidates(self, namespace: str, selector: dict) -> list[dict]:
        if self.by_label is None:
            self._build()
        best = None
        for k, v in selector.items():
            pods = self.by_label.get((namespace, k, v), [])
            if best is None or len(pods) < len(best):
                best = pods
        if len(selector) == 1:
            return list(best or [])   # every pod under the one key=value already matches
        return [p for p in (best or []) if all(labels_of(p).get(k) == v for k, v in selector.items())]


_SERVER_META = ("resourceVersion", "uid", "creationTimestamp", "generation")


def _created(obj: dict) -> str:
    return obj["metadata"].get("creationTimestamp", "")


def _kubelet_done(pod: dict) -> bool:
    """What the scheduler/kubelet pass leaves alone on a pod whose node exists: started, with its host IP and,
    unless it is pinned or failed, an address (the pass's own test for pods it need not rewrite)."""
    status = pod.get("status") or {}
    phase = status.get("phase")
    if phase not in ("Running", "Failed", "Succeeded") or "hostIP" not in status:
        return False
    pinned = "kubelab.io/pinned-ip" in (pod["metadata"].get("annotations") or {})
    return bool(pod_ips(pod)) or pinned or phase == "Failed"
_NO_PORTS: frozenset = frozenset()


def _node_affinity_allows(pod: dict, node: dict) -> bool:
    """requiredDuringSchedulingIgnoredDuringExecution: the terms are ORed, a term's matchExpressions
    (on node labels) and matchFields (metadata.name only) ANDed; no terms means no constraint."""
    required = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    from ..net.labels import Requirement

    def term_matches(term: dict) -> bool:
        for expr in term.get("matchExpressions") or []:
            op, values = expr.get("operator"), expr.get("values") or []
            value = labels_of(node).get(expr.get("key"))
            if op in ("Gt", "Lt"):
                try:
                    ok = value is not None and (int(value) > int(values[0]) if op == "Gt" else int(value) < int(values[0]))
                except (ValueError, IndexError):
                    ok = False
            else:
                ok = Requirement(expr.get("key"), op, frozenset(values)).matches(labels_of(node))
            if not ok:
                return False
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and not Requirement(
                    "name", field.get("operator"), frozenset(field.get("values") or [])).matches({"name": name_of(node)}):
                return False
        return bool(term.get("matchExpressions") or term.get("matchFields"))
    return any(term_matches(t) for t in terms)


def key_of_pod(pod: dict) -> str:
    return Store.key(namespace_of(pod), name_of(pod))


DEFAULT_MAX_PODS = 110   # kubelet --max-pods default


def _max_pods(node: dict) -> int:
    """The node's pod capacity: status.capacity.pods / allocatable.pods when given, else kubelet's 110."""
    status = node.get("status") or {}
    for field in ("allocatable", "capacity"):
        value = (status.get(field) or {}).get("pods")
        if value is not None:
            try:
                return int(value)
            except (TypeError, ValueError):
                pass
    return DEFAULT_MAX_PODS


def _daemon_eligible(spec: dict, node: dict) -> bool:
    """A daemon pod belongs on a node its nodeSelector, node affinity and tolerations accept."""
    pod = {"spec": spec}
    selector = spec.get("nodeSelector") or {}
    return all(labels_of(node).get(k) == v for k, v in selector.items()) and \
        _node_affinity_allows(pod, node) and workloads.untolerated_taint(spec, node) is None


def _running_conditions(pod: dict, shared: dict | None = None) -> list[dict]:
    """The kubelet's pod conditions: Ready only when Running and every container's readinessProbe passes.
    `shared`: a dict in which the conditions of pods with no failing probe are kept, to give the same list to
    all such pods (stored objects are never mutated, so pods may share parts; 10,000 pods make one)."""
    running = (pod.get("status") or {}).get("phase") == "Running"
    unready = probes.unready_containers(pod) if running else []
    if shared is not None and not unready:
        if running not in shared:
            shared[running] = _running_conditions(pod)
        return shared[running]
    ready = {"status": "True"} if running and not unready else {"status": "False"}
    if unready:
        names = " ".join(name for name, _ in unready)
        ready = {"status": "False", "reason": "ContainersNotReady", "message": f"containers with unready status: [{names}]"}
    return [{"type": "PodScheduled", "status": "True"}, {"type": "Initialized", "status": "True"},
            {"type": "ContainersReady", **ready}, {"type": "Ready", **ready}]


def _sandbox_failed(status: dict, pod_cidr: str) -> dict:
    """kubelet + CNI when IPAM has no address left: the pod stays Pending (ContainerCreating)."""
    status = dict(status)
    status["phase"] = "Pending"
    status["reason"] = "ContainerCreating"
    status["message"] = (f"Failed to create pod sandbox: plugin type=\"host-local\" failed (add): failed to allocate "
                         f"for range 0: no IP addresses available in range set: {pod_cidr}")
    status["conditions"] = [{"type": "PodScheduled", "status": "True"},
                            {"type": "PodReadyToStartContainers", "status": "False"},
                            {"type": "Initialized", "status": "True"},
                            {"type": "ContainersReady", "status": "False"},
                            {"type": "Ready", "status": "False"}]
    return status


def _controller_meta(obj: dict, owner: dict | None) -> None:
    """Server metadata for an object a later controller writes (Endpoints, mirrored slices): a uid derived
    from its identity and the owner's creation time, so adding these controllers draws nothing from the
    seeded generator and leaves every other object's names and timestamps as they were."""
    import hashlib

    meta = obj["metadata"]
    digest = hashlib.sha256(f"{obj.get('kind')}/{meta.get('namespace')}/{meta['name']}".encode()).digest()
    meta.setdefault("uid", str(uuid.UUID(bytes=digest[:16], version=4)))
    meta.setdefault("creationTimestamp", ((owner or {}).get("metadata") or {}).get("creationTimestamp")
                    or _timestamp(0))
    generation.on_create(obj["kind"], obj)


def _timestamp(seconds: int) -> str:
    """The simulated clock as an RFC 3339 time (the same epoch creationTimestamp uses); gmtime rather than
    datetime arithmetic, as every object created needs one."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(_EPOCH + seconds))


_EPOCH = calendar.timegm((2026, 1, 1, 0, 0, 0))   # the simulated clock's zero, 2026-01-01T00:00:00Z


def _uuid4(bits: int) -> str:
    """str(uuid.UUID(int=bits, version=4)) (variant and version bits set), without making the UUID object."""
    bits = (bits & ~(0xc000 << 48) | 0x8000 << 48) & ~(0xf000 << 64) | 4 << 76
    digits = f"{bits:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


@contextlib.contextmanager
def cyclic_gc_paused():
    """No cyclic garbage collection while the controllers run: they allocate hundreds of thousands of
    small acyclic dicts for a large apply, and each full collection would walk every live object (30%
    of a 10,000-pod apply). Whatever cycles were made are collected as usual afterwards."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_count()[0] > _LARGE_BATCH:
            # what a large apply built (a cluster's objects) lives long: promote it to the oldest generation
            # at once (freeze then unfreeze moves every tracked object there, without walking any), instead of
            # walking it through the young generations on the next collections. Cycles among what was
            # young are still found, by the next full collection.
            gc.freeze()
            gc.unfreeze()
        gc.enable()


_LARGE_BATCH = 10_000   # container objects allocated while paused (about 1,000 pods' worth)


def _comparable(obj: dict) -> dict:
    """The object minus server-assigned metadata, for "unchanged" checks (shallow: nothing is mutated)."""
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_META}
    return {**obj, "metadata": metadata}


def _family(cidr_or_ip: str) -> str:
    return "IPv6" if ":" in cidr_or_ip else "IPv4"


def _lb_ips(service: dict) -> list[str]:
    return [i["ip"] for i in ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
            if i.get("ip")]


def _node_internal_ips(node: dict) -> list[str]:
    return [a["address"] for a in (node.get("status") or {}).get("addresses") or [] if a.get("type") == "InternalIP"]


def _check_pod_update(old: dict, new: dict, ref: str) -> None:
    """ValidatePodUpdate: pod spec is immutable except images and a few fields."""
    def strip(spec):
        spec = copy.deepcopy(spec)
        for c in spec.get("containers") or []:
            c.pop("image", None)
        for f in ("nodeName", "activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
            spec.pop(f, None)
        return spec
    if strip(old["spec"]) != strip(new["spec"]):
        raise ValidationError(ref, "spec", "Forbidden: pod updates may not change fields other than "
                              "`spec.containers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` "
                              "(only additions) or `spec.terminationGracePeriodSeconds`",
                              "delete the pod and create it again (or let a Deployment replace it)")


def object_key_ref(kind: str, obj: dict) -> str:
    return object_ref(kind, name_of(obj), namespace_of(obj) or None)


def _check_name_argument(kind: kinds.Kind, name, namespace) -> None:
    """get/delete name an object by a non-empty name (and a namespace, for namespaced kinds)."""
    if not isinstance(name, str) or not name:
        raise NotFoundError(f"{kind.kind}: name: expected the object's name as text, got "
                            f"{type(name).__name__} {name!r} (e.g. lab.get({kind.kind!r}, 'web'))")
    if kind.namespaced and namespace is not None and (not isinstance(namespace, str) or not namespace):
        raise NotFoundError(f"{kind.kind} {name}: namespace: expected a namespace name as text, got "
                            f"{type(namespace).__name__} {namespace!r} (e.g. namespace='default')")
