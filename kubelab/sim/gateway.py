"""The Gateway API controller in the simulated cluster (connect(gateway_controller="envoy-gateway")): installs
Envoy Gateway, keeps each managed Gateway's Envoy Deployment and LoadBalancer Service, writes GatewayClass,
Gateway and HTTPRoute status after every change, and offers each Gateway to lab.http as an edge.

The decisions are kubelab.net.http.gateway_status's and kubelab.net.http.gateway's; this module only reads the
store and writes back. Importing it plugs the Gateway API kinds' admission and the controller into
kubelab.sim.cluster (ADMITTERS, CONTROLLERS) and the edges into lab.http.
"""
from __future__ import annotations

import copy
import datetime
import random

from ..net.http import envoy_gateway
from ..net.http.gateway import GatewayEdge
from ..net.http.gateway_status import ControllerView, compute
from ..net.objects import labels_of, name_of, namespace_of, pod_ready
from . import cluster as _cluster
from .http import register_edge_provider
from .store import Store

__all__ = ["CONTROLLERS", "install", "run_controller", "reconcile_infra", "reconcile_status", "gateway_edges"]

CONTROLLERS = ("envoy-gateway",)


def _enabled(cluster) -> bool:
    return getattr(cluster.config, "gateway_controller", None) == "envoy-gateway"


def install(lab) -> None:
    """What `helm install eg oci://docker.io/envoyproxy/gateway-helm` and the quickstart's GatewayClass leave."""
    if _enabled(lab.cluster):
        lab.cluster.apply(envoy_gateway.install_manifests())


def _managed_gateways(cluster) -> list[dict]:
    classes = {name_of(gc) for gc in cluster.items("GatewayClass")
               if (gc.get("spec") or {}).get("controllerName") == envoy_gateway.CONTROLLER_NAME}
    return [gw for gw in cluster.items("Gateway") if (gw.get("spec") or {}).get("gatewayClassName") in classes]


def _admit(cluster, doc: dict, old: dict | None, ref: str) -> dict:
    from ..api.gateway import admit
    return admit(doc, old, ref)


def reconcile_infra(cluster) -> bool:
    """Each managed Gateway gets its Envoy Deployment and Service in envoy-gateway-system; they go with it."""
    if not _enabled(cluster):
        return False
    from ..api import kinds

    wanted, changed = {}, False
    for gw in _managed_gateways(cluster):
        for doc in envoy_gateway.infra_manifests(gw):
            wanted[(doc["kind"], name_of(doc))] = doc
    for kind in ("Deployment", "Service"):
        for obj in cluster.items(kind, envoy_gateway.NAMESPACE):
            if envoy_gateway.OWNING_NAME in labels_of(obj) and (kind, name_of(obj)) not in wanted:
                cluster._delete_object(kind, obj)
                changed = True
    for _, doc in sorted(wanted.items()):
        # applied as `kubectl apply` would: allocated values (ClusterIP, NodePorts) are kept, an equal object is
        # left "unchanged"
        verb = cluster._admit(kinds.lookup(doc["kind"]), copy.deepcopy(doc))[2]
        changed = changed or verb != "unchanged"
    return changed


def run_controller(cluster) -> None:
    """One pass of Envoy Gateway after the built-in controllers: proxy infrastructure (then the built-in
    controllers again, so its pods, endpoints and load-balancer address exist), then every status."""
    if reconcile_infra(cluster):
        cluster._run_workload_controllers()
        cluster._schedule_and_address_pods()
        cluster._run_endpointslice_controller()
        cluster._run_cloud_controller()
    reconcile_status(cluster)


def _when(cluster) -> str:
    """Condition times on the cluster's logical clock (deterministic, like creationTimestamp)."""
    t = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=cluster.clock)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _addresses_and_replicas(cluster) -> tuple[dict, dict]:
    addresses, available = {}, {}
    for gw in _managed_gateways(cluster):
        key = f"{namespace_of(gw)}/{name_of(gw)}"
        name = envoy_gateway.infra_name(namespace_of(gw), name_of(gw))
        svc = cluster.find("Service", Store.key(envoy_gateway.NAMESPACE, name))
        ingress = (((svc or {}).get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        if (gw.get("spec") or {}).get("addresses"):
            # addresses the user asked for are published as the Service has them (UpdateGatewayStatusProgrammedCondition)
            spec = (svc or {}).get("spec", {})
            addresses[key] = list(spec.get("externalIPs") or [ip for ip in spec.get("clusterIPs") or [] if ip != "None"])
        else:
            addresses[key] = [i["ip"] for i in ingress if i.get("ip")]
        labels = envoy_gateway.infra_labels(namespace_of(gw), name_of(gw))
        pods = [p for p in cluster.items("Pod", envoy_gateway.NAMESPACE)
                if all(labels_of(p).get(k) == v for k, v in labels.items())]
        available[key] = (sum(1 for p in pods if pod_ready(p)), len(pods))
    return addresses, available


def _merge_conditions(old: list, new: list) -> list:
    """metav1 condition semantics: lastTransitionTime moves only when status changes."""
    before = {c.get("type"): c for c in old or []}
    out = []
    for c in new:
        prev = before.get(c["type"])
        if prev is not None and prev.get("status") == c["status"] and prev.get("lastTransitionTime"):
            c = {**c, "lastTransitionTime": prev["lastTransitionTime"]}
        out.append(c)
    return out


def _with_times(old_status: dict, new_status: dict) -> dict:
    status = copy.deepcopy(new_status)
    if "conditions" in status:
        status["conditions"] = _merge_conditions((old_status or {}).get("conditions"), status["conditions"])
    old_listeners = {l.get("name"): l for l in (old_status or {}).get("listeners") or []}
    for l in status.get("listeners") or []:
        l["conditions"] = _merge_conditions((old_listeners.get(l["name"]) or {}).get("conditions"), l["conditions"])
    return status


def _put_status(cluster, kind: str, key: str, obj: dict, status: dict) -> None:
    if obj.get("status") == status:
        return
    cluster.store.put(kind, key, {**obj, "status": status})


def reconcile_status(cluster) -> None:
    """Recompute everything the controller reports, write what changed, keep the view for the edges."""
    if not _enabled(cluster):
        cluster.gateway_view = None
        return
    addresses, available = _addresses_and_replicas(cluster)
    view = compute(envoy_gateway.CONTROLLER_NAME, cluster.items("GatewayClass"), cluster.items("Gateway"),
                   cluster.items("HTTPRoute"), cluster.items("ReferenceGrant"), cluster.items("Service"),
                   cluster.items("Secret"), cluster.items("Namespace"), addresses, available, _when(cluster),
                   unusable={f"{namespace_of(g)}/{name_of(g)}" for g in _managed_gateways(cluster)
                             if envoy_gateway.requests_hostname_address(g)})
    for gc in cluster.items("GatewayClass"):
        status = view.class_status.get(name_of(gc))
        if status is not None:
            _put_status(cluster, "GatewayClass", name_of(gc), gc, _with_times(gc.get("status"), status))
    for gw in cluster.items("Gateway"):
        key = f"{namespace_of(gw)}/{name_of(gw)}"
        status = view.gateway_status.get(key)
        if status is not None:
            _put_status(cluster, "Gateway", key, gw, _with_times(gw.get("status"), status))
    for route in cluster.items("HTTPRoute"):
        key = f"{namespace_of(route)}/{name_of(route)}"
        old = (route.get("status") or {}).get("parents") or []
        others = [p for p in old if p.get("controllerName") != envoy_gateway.CONTROLLER_NAME]
        ours_old = {_parent_key(p): p for p in old if p.get("controllerName") == envoy_gateway.CONTROLLER_NAME}
        ours = []
        for p in view.route_parents.get(key, []):
            prev = ours_old.get(_parent_key(p)) or {}
            ours.append({**p, "conditions": _merge_conditions(prev.get("conditions"), p["conditions"])})
        _put_status(cluster, "HTTPRoute", key, route, {"parents": others + ours})
    cluster.gateway_view = view


def _parent_key(parent: dict) -> str:
    ref = parent.get("parentRef") or {}
    return "|".join(str(ref.get(k, "")) for k in ("group", "kind", "namespace", "name", "sectionName", "port"))


@register_edge_provider
def gateway_edges(lab) -> dict:
    """Each managed Gateway's edge, fronted by its Envoy Service (the Service lab.http lands on)."""
    cluster = lab.cluster
    view: ControllerView | None = getattr(cluster, "gateway_view", None)
    if view is None:
        return {}
    rng = lab.__dict__.setdefault("_gateway_rng", random.Random(lab.config.seed))
    out = {}
    for key, states in view.listeners.items():
        ns, name = key.split("/", 1)
        service_key = f"{envoy_gateway.NAMESPACE}/{envoy_gateway.infra_name(ns, name)}"
        out[service_key] = GatewayEdge(key, states, view.attachments.get(key, []), view.backend_problems, rng)
    return out


_cluster.ADMITTERS.update({kind: _admit for kind in ("GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant")})
_cluster.CONTROLLERS.append(run_controller)
