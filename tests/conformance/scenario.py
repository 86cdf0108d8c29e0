"""Build a Lab from a conformance case's compact `cluster:` block, through the public API only,
exactly as ../shared/conformance-sample/README.md says the held-out checks drive kubelab."""
from __future__ import annotations

import ipaddress
from pathlib import Path

import yaml

import kubelab

SAMPLES = Path(__file__).parent / "samples"


def load_cases(area: str) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((SAMPLES / area).glob("*.yaml"))]


def _resolv_conf_text(spec: dict | None) -> str | None:
    if not spec:
        return None
    lines = [f"nameserver {n}" for n in spec.get("nameservers", [])]
    if spec.get("search"):
        lines.append("search " + " ".join(spec["search"]))
    if spec.get("options"):
        lines.append("options " + " ".join(spec["options"]))
    return "\n".join(lines) + "\n"


def connect_options(cluster: dict) -> dict:
    options = {"nodes": 0, "seed": 0}
    if cluster.get("domain"):
        options["cluster_domain"] = cluster["domain"]
    if cluster.get("service_cidrs"):
        cidrs = cluster["service_cidrs"]
        options["service_cidr"] = cidrs[0] if len(cidrs) == 1 else tuple(cidrs)
    if cluster.get("dns_service_ip"):
        options["dns_service_ip"] = cluster["dns_service_ip"]
    if cluster.get("node_port_range"):
        options["node_port_range"] = cluster["node_port_range"]
    if cluster.get("max_endpoints_per_slice"):
        options["max_endpoints_per_slice"] = cluster["max_endpoints_per_slice"]
    for node in cluster.get("nodes") or []:
        text = _resolv_conf_text(node.get("resolv_conf"))
        if text:
            options["node_resolv_conf"] = text
            break
    upstream: dict = {}
    for rec in cluster.get("upstream_records") or []:
        upstream.setdefault(rec["name"].rstrip("."), {}).setdefault(rec["type"], []).append(rec["value"])
    if upstream:
        options["external_dns"] = upstream
    return options


def corefile(dns_server: dict | None, zone: str) -> str | None:
    if not dns_server:
        return None
    pods = dns_server.get("pods", "insecure")
    extra = "\n       endpoint_pod_names" if dns_server.get("endpoint_pod_names") else ""
    return (".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n"
            f"    kubernetes {zone} in-addr.arpa ip6.arpa {{\n       pods {pods}{extra}\n"
            "       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n"
            "    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n"
            "    cache 30\n    loop\n    reload\n    loadbalance\n}\n")


def pod_manifest(p: dict) -> dict:
    meta = {"name": p["name"], "namespace": p.get("namespace", "default"), "labels": p.get("labels") or {}}
    if p.get("terminating"):
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    containers = p.get("containers") or [{"name": "app", "image": "registry.k8s.io/e2e-test-images/agnhost:2.52"}]
    containers = [dict({"image": "registry.k8s.io/e2e-test-images/agnhost:2.52"}, **c) for c in containers]
    spec = {"containers": containers}
    for src, dst in (("node", "nodeName"), ("hostname", "hostname"), ("subdomain", "subdomain"),
                     ("hostNetwork", "hostNetwork"), ("dnsPolicy", "dnsPolicy"), ("dnsConfig", "dnsConfig"),
                     ("setHostnameAsFQDN", "setHostnameAsFQDN"), ("hostAliases", "hostAliases")):
        if p.get(src) is not None:
            spec[dst] = p[src]
    ready = p.get("ready", True)
    phase = p.get("phase", "Running")
    ips = p.get("ips", [])
    status = {"phase": phase, "podIPs": [{"ip": ip} for ip in ips],
              "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if ips:
        status["podIP"] = ips[0]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def expand_pod_sets(cluster: dict) -> list[dict]:
    pods = list(cluster.get("pods") or [])
    for s in cluster.get("pod_sets") or []:
        for i in range(s["count"]):
            p = {k: v for k, v in s.items() if k not in ("name_prefix", "count", "ipv4_start", "ipv6_start")}
            p["name"] = f"{s['name_prefix']}{i}"
            ips = []
            if s.get("ipv4_start"):
                ips.append(str(ipaddress.ip_address(s["ipv4_start"]) + i))
            if s.get("ipv6_start"):
                ips.append(str(ipaddress.ip_address(s["ipv6_start"]) + i))
            p["ips"] = ips
            pods.append(p)
    return pods


def service_manifest(s: dict) -> dict:
    meta = {"name": s["name"], "namespace": s.get("namespace", "default")}
    spec = {k: v for k, v in s.items() if k not in ("name", "namespace")}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def expand_service_sets(cluster: dict) -> list[dict]:
    out = []
    for s in cluster.get("service_sets") or []:
        for i in range(s["count"]):
            svc = {k: v for k, v in s.items() if k not in ("name_prefix", "count")}
            svc["name"] = f"{s['name_prefix']}{i}"
            out.append(svc)
    return out + list(cluster.get("services") or [])


def build_lab(cluster: dict, *, services: bool = True, **overrides):
    """A fresh Lab holding the case's cluster (services created one by one, in list order)."""
    options = connect_options(cluster)
    options.update(overrides)
    lab = kubelab.connect("simulated", **options)
    docs = []
    for node in cluster.get("nodes") or []:
        addresses = [{"type": "InternalIP", "address": ip} for ip in ([node["ip"]] if node.get("ip") else [])
                     + list(node.get("ips") or [])]
        docs.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node["name"]},
                     "status": {"addresses": addresses}})
    namespaces = set(cluster.get("namespaces") or [])
    pods = expand_pod_sets(cluster)
    namespaces |= {p.get("namespace", "default") for p in pods}
    namespaces |= {s.get("namespace", "default") for s in expand_service_sets(cluster)}
    for ns in sorted(namespaces - {"default", "kube-system", "kube-public", "kube-node-lease"}):
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    core = corefile(cluster.get("dns_server"), cluster.get("domain", "cluster.local"))
    if core:
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
                     "data": {"Corefile": core}})
    docs += [pod_manifest(p) for p in pods]
    lab.apply(docs)
    if services:
        for s in expand_service_sets(cluster):
            lab.apply(service_manifest(s))
        for eps in cluster.get("endpointslices") or []:
            lab.apply(eps)
    return lab
