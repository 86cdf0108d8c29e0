"""The simulator's prediction for a live cluster: a SimulatedLab holding the cluster's nodes, the
kubelab namespaces and what is in them, with the cluster's addresses pinned (pod IPs, phases,
ClusterIPs, node podCIDRs), so the engine answers for exactly the state that was observed."""
from __future__ import annotations

import ipaddress

from .namespaces import MANAGED_BY_LABEL, MANAGED_BY_VALUE

__all__ = ["prediction_lab"]

_KEEP_META = ("name", "namespace", "labels", "annotations")


def _meta(obj: dict) -> dict:
    return {k: v for k, v in (obj.get("metadata") or {}).items() if k in _KEEP_META and v}


def _raw(lab, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
    resource, kind = lab._resource(kind)
    items = resource.get(namespace=namespace, label_selector=selector).to_dict()["items"]
    for o in items:
        o["kind"], o["apiVersion"] = kind, resource.group_version
    return items


def _supernet(address: str, prefix: int) -> str:
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def prediction_lab(lab, cni: str = "calico", proxy_mode: str = "iptables", **options):
    """Build the SimulatedLab for `lab` (a LiveLab); CNI and proxy mode are what the simulator is told
    the cluster runs (a live cluster does not say), other connect() options pass through."""
    from .. import connect

    nodes = _raw(lab, "Node")
    managed = _raw(lab, "Namespace", selector=f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}")
    services = {ns["metadata"]["name"]: _raw(lab, "Service", ns["metadata"]["name"]) for ns in managed}
    config = dict(options)
    kubernetes_svc = next(iter(_raw(lab, "Service", "default", "component=apiserver")), None)
    if kubernetes_svc and "service_cidr" not in config:
        config["service_cidr"] = _supernet(kubernetes_svc["spec"]["clusterIP"], 12)
    kube_dns = next(iter(_raw(lab, "Service", "kube-system", "k8s-app=kube-dns")), None)
    if kube_dns and "dns_service_ip" not in config:
        config["dns_service_ip"] = kube_dns["spec"]["clusterIP"]
    cidrs = [c for n in nodes for c in (n.get("spec") or {}).get("podCIDRs") or []]
    if cidrs and "pod_cidr" not in config:
        config["pod_cidr"] = _supernet(cidrs[0].split("/")[0], 16)
    sim = connect("simulated", nodes=0, cni=cni, proxy_mode=proxy_mode, **config)
    docs = [{"apiVersion": "v1", "kind": "Node", "metadata": _meta(n),
             "spec": {k: v for k, v in (n.get("spec") or {}).items() if k in ("podCIDR", "podCIDRs")},
             "status": {"addresses": (n.get("status") or {}).get("addresses") or [],
                        "conditions": [c for c in (n.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"]}}
            for n in nodes]
    docs += [{"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns)} for ns in managed]
    for ns in managed:
        name = ns["metadata"]["name"]
        for pod in _raw(lab, "Pod", name):
            status = pod.get("status") or {}
            docs.append({"apiVersion": "v1", "kind": "Pod", "metadata": _meta(pod),
                         "spec": {k: v for k, v in pod["spec"].items()
                                  if k in ("containers", "nodeName", "hostNetwork", "hostname", "subdomain",
                                           "dnsPolicy", "dnsConfig", "hostAliases", "setHostnameAsFQDN")},
                         "status": {k: v for k, v in status.items()
                                    if k in ("phase", "podIP", "podIPs", "conditions") and v}})
        for svc in services[name]:
            docs.append({"apiVersion": "v1", "kind": "Service", "metadata": _meta(svc),
                         "spec": {k: v for k, v in svc["spec"].items() if v is not None}})
        for policy in _raw(lab, "NetworkPolicy", name):
            docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(policy),
                         "spec": policy.get("spec") or {}})
        for s in _raw(lab, "EndpointSlice", name):
            if (s["metadata"].get("labels") or {}).get("endpointslice.kubernetes.io/managed-by") != \
                    "endpointslice-controller.k8s.io":
                docs.append({k: v for k, v in s.items() if k in ("apiVersion", "kind", "addressType", "endpoints",
                                                                "ports")} | {"metadata": _meta(s)})
    sim.apply(docs)
    return sim
