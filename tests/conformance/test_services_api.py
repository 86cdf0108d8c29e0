"""Conformance: the services cases' API-server expectations (create_result, service_fields) against admit_service.

Services of a case are created in list order (service_sets first) on an empty cluster with the
case's --service-cluster-ip-range and --service-node-port-range; see samples/services/FORMAT.md.
The sample files are run as they are; the inline cases below use the same format for API facts the
sample does not cover (from the Service concept, cluster-ip-allocation and dual-stack docs).
"""
from __future__ import annotations

import ipaddress
import random
from pathlib import Path

import pytest
import yaml

from kubelab.errors import ValidationError
from kubelab.net.services import ServiceAllocators, ServiceAPIConfig, admit_service

SAMPLES = Path(__file__).parent / "samples" / "services"
API_KINDS = {"create_result", "service_fields"}
META_KEYS = ("name", "namespace", "labels", "annotations")

INLINE_CASES = """
- id: api-nodeport-allocation-and-conflict
  source: [https://kubernetes.io/docs/concepts/services-networking/service/#type-nodeport]
  cluster:
    services:
      - {name: a, namespace: default, type: NodePort, selector: {app: a}, ports: [{name: http, port: 80, nodePort: 30080}]}
      - {name: b, namespace: default, type: NodePort, selector: {app: b}, ports: [{name: http, port: 80, nodePort: 30080}]}
      - {name: c, namespace: default, type: NodePort, selector: {app: c}, ports: [{name: http, port: 80}]}
      - {name: d, namespace: default, type: NodePort, selector: {app: d}, ports: [{port: 80, nodePort: 80}]}
  expect:
    - {kind: create_result, object: default/a, result: accepted}
    - {kind: create_result, object: default/b, result: rejected, error_field: "spec.ports[0].nodePort"}
    - {kind: create_result, object: default/d, result: rejected, error_field: "spec.ports[0].nodePort"}
    - kind: service_fields
      service: default/c
      fields: {type: NodePort, externalTrafficPolicy: Cluster, ports: [{name: http, protocol: TCP, targetPort: 80}]}
      node_port_in_range: {http: [30000, 32767]}
- id: api-custom-ranges-and-sets
  source: [https://kubernetes.io/docs/concepts/services-networking/cluster-ip-allocation/]
  cluster:
    service_cidrs: [10.100.0.0/24]
    node_port_range: 31000-31999
    service_sets:
      - {name_prefix: svc-, namespace: default, count: 30, selector: {app: web}, ports: [{port: 80}]}
    services:
      - {name: np, namespace: default, type: NodePort, selector: {app: web}, ports: [{port: 80}]}
      - {name: pinned, namespace: default, clusterIP: 10.100.1.5, selector: {app: web}, ports: [{port: 80}]}
  expect:
    - {kind: service_fields, service_set: svc-, distinct_cluster_ips: true, cluster_ip_in_range: [10.100.0.1, 10.100.0.254]}
    - {kind: service_fields, service: default/np, node_port_in_range: {"": [31000, 31999]}}
    - {kind: create_result, object: default/pinned, result: rejected, error_field: spec.clusterIP}
- id: api-dual-stack-and-headless
  source: [https://kubernetes.io/docs/concepts/services-networking/dual-stack/]
  cluster:
    service_cidrs: [10.96.0.0/16, "fd00:10:96::/112"]
    services:
      - {name: single, namespace: default, selector: {app: web}, ports: [{port: 80}]}
      - {name: prefer, namespace: default, ipFamilyPolicy: PreferDualStack, selector: {app: web}, ports: [{port: 80}]}
      - {name: v6first, namespace: default, ipFamilyPolicy: RequireDualStack, ipFamilies: [IPv6, IPv4], selector: {app: web}, ports: [{port: 80}]}
      - {name: headless, namespace: default, clusterIP: None, selector: {app: web}, ports: [{port: 80}]}
  expect:
    - {kind: service_fields, service: default/single, fields: {ipFamilyPolicy: SingleStack, ipFamilies: [IPv4]}, cluster_ips_in: [10.96.0.0/16]}
    - {kind: service_fields, service: default/prefer, fields: {ipFamilies: [IPv4, IPv6]}, cluster_ips_in: [10.96.0.0/16, "fd00:10:96::/112"]}
    - {kind: service_fields, service: default/v6first, cluster_ips_in: ["fd00:10:96::/112", 10.96.0.0/16]}
    - {kind: service_fields, service: default/headless, fields: {clusterIP: None, clusterIPs: [None], ipFamilies: [IPv4], externalTrafficPolicy: null}}
- id: api-single-stack-headless-selectorless-and-lb
  source: [https://kubernetes.io/docs/concepts/services-networking/dual-stack/, https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#preserving-the-client-source-ip]
  cluster:
    service_cidrs: [10.96.0.0/16]
    services:
      - {name: noselector, namespace: default, clusterIP: None, ports: [{port: 80}]}
      - {name: lb, namespace: default, type: LoadBalancer, externalTrafficPolicy: Local, selector: {app: web}, ports: [{name: http, port: 80}]}
      - {name: sticky, namespace: default, sessionAffinity: ClientIP, selector: {app: web}, ports: [{port: 80}]}
      - {name: dual, namespace: default, ipFamilyPolicy: RequireDualStack, selector: {app: web}, ports: [{port: 80}]}
      - {name: Web, namespace: default, selector: {app: web}, ports: [{port: 80}]}
  expect:
    - {kind: service_fields, service: default/noselector, fields: {ipFamilyPolicy: RequireDualStack, ipFamilies: [IPv4, IPv6]}}
    - {kind: service_fields, service: default/lb, health_check_node_port: [30000, 32767], node_port_in_range: {http: [30000, 32767], healthCheckNodePort: [30000, 32767]}}
    - {kind: service_fields, service: default/sticky, fields: {sessionAffinityConfig: {clientIP: {timeoutSeconds: 10800}}}}
    - {kind: create_result, object: default/dual, result: rejected, error_field: spec.ipFamilyPolicy}
    - {kind: create_result, object: default/Web, result: rejected, error_field: metadata.name}
"""


def _cases() -> list[dict]:
    cases = [yaml.safe_load(p.read_text()) for p in sorted(SAMPLES.glob("*.yaml"))]
    cases += yaml.safe_load(INLINE_CASES)
    return [c for c in cases if any(e.get("kind") in API_KINDS for e in c.get("expect") or [])]


def _manifest(compact: dict) -> dict:
    meta = {k: compact[k] for k in META_KEYS if k in compact}
    meta.setdefault("namespace", "default")
    spec = {k: v for k, v in compact.items() if k not in META_KEYS}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def _expand_sets(cluster: dict) -> tuple[list[dict], dict[str, list[str]]]:
    """service_sets first (<name_prefix>0 ..), then services, each as a manifest, plus set membership."""
    manifests, members = [], {}
    for s in cluster.get("service_sets") or []:
        rest = {k: v for k, v in s.items() if k not in ("name_prefix", "count")}
        names = []
        for i in range(s["count"]):
            m = _manifest({**rest, "name": f"{s['name_prefix']}{i}"})
            manifests.append(m)
            names.append(f"{m['metadata']['namespace']}/{m['metadata']['name']}")
        members[s["name_prefix"]] = names
    manifests += [_manifest(dict(s)) for s in cluster.get("services") or []]
    return manifests, members


def _run(case: dict) -> tuple[dict, dict]:
    """Create every Service in order; returns key -> stored object or the error it raised."""
    cluster = case.get("cluster") or {}
    config = ServiceAPIConfig(tuple(cluster.get("service_cidrs") or ["10.96.0.0/16"]),
                              node_port_range=str(cluster.get("node_port_range") or "30000-32767"))
    allocators, rng = ServiceAllocators.for_config(config), random.Random(0)
    manifests, members = _expand_sets(cluster)
    results = {}
    for m in manifests:
        key = f"{m['metadata']['namespace']}/{m['metadata']['name']}"
        try:
            results[key] = admit_service(m, None, config, allocators, rng)
        except ValidationError as err:
            results[key] = err
    return results, members


def _key(ref: str) -> str:
    return ref if "/" in ref else f"default/{ref}"


def _empty(v) -> bool:
    return v is None or v == "" or v == [] or v == {} or v == 0


def _matches(expected, actual, path: str) -> list[str]:
    """Partial match: mappings by key, lists element-wise, null = unset/empty."""
    if expected is None:
        return [] if _empty(actual) else [f"{path}: expected unset, got {actual!r}"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {actual!r}"]
        return [m for k, v in expected.items() for m in _matches(v, actual.get(k), f"{path}.{k}")]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        return [m for i, (e, a) in enumerate(zip(expected, actual)) for m in _matches(e, a, f"{path}[{i}]")]
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


def _in_range(value, bounds) -> bool:
    lo, hi = bounds
    if isinstance(lo, str):
        value, lo, hi = (int(ipaddress.ip_address(x)) for x in (value, lo, hi))
    return lo <= value <= hi


def _check_fields(exp: dict, svc: dict, where: str) -> list[str]:
    spec, problems = svc["spec"], []
    if "fields" in exp:
        for k, v in exp["fields"].items():
            problems += _matches(v, spec.get(k, svc.get(k)), f"{where}.spec.{k}")
    for name, bounds in (exp.get("node_port_in_range") or {}).items():
        if name == "healthCheckNodePort":
            value = spec.get("healthCheckNodePort")
        else:
            port = next((p for p in spec.get("ports") or [] if (p.get("name") or "") == name), None)
            value = port and port.get("nodePort")
        if value is None or not _in_range(value, bounds):
            problems.append(f"{where}: nodePort of {name!r} = {value!r}, not in {bounds}")
    if "cluster_ip_in_range" in exp and not _in_range(spec.get("clusterIP"), exp["cluster_ip_in_range"]):
        problems.append(f"{where}: clusterIP {spec.get('clusterIP')} not in {exp['cluster_ip_in_range']}")
    if "cluster_ips_in" in exp:
        ips = spec.get("clusterIPs") or []
        cidrs = exp["cluster_ips_in"]
        if len(ips) != len(cidrs) or any(ipaddress.ip_address(ip) not in ipaddress.ip_network(c)
                                         for ip, c in zip(ips, cidrs)):
            problems.append(f"{where}: clusterIPs {ips} not in {cidrs}")
    if "health_check_node_port" in exp:
        want, got = exp["health_check_node_port"], spec.get("healthCheckNodePort")
        ok = (bool(got) == want if isinstance(want, bool) else _empty(got) if want is None
              else _in_range(got, want) if isinstance(want, list) else got == want)
        if not ok:
            problems.append(f"{where}: healthCheckNodePort {got!r}, expected {want!r}")
    return problems


def _check(exp: dict, results: dict, members: dict) -> list[str]:
    if exp["kind"] == "create_result":
        key = _key(exp["object"])
        got = results.get(key)
        if got is None:
            return [f"{key}: no such Service in the case"]
        if exp["result"] == "accepted":
            return [f"{key}: rejected: {got}"] if isinstance(got, Exception) else []
        if not isinstance(got, Exception):
            return [f"{key}: accepted, expected a rejection"]
        hint = exp.get("error_field")
        if hint and not (got.field.startswith(hint) or hint in str(got)):
            return [f"{key}: rejected at {got.field}, expected {hint}: {got}"]
        return []
    if "service_set" in exp:
        prefix = exp["service_set"]["name_prefix"] if isinstance(exp["service_set"], dict) else exp["service_set"]
        keys = members[prefix]
    else:
        keys = [_key(exp["service"])]
    problems, stored = [], []
    for key in keys:
        svc = results.get(key)
        if not isinstance(svc, dict):
            problems.append(f"{key}: not created ({svc})")
            continue
        stored.append(svc)
        problems += _check_fields(exp, svc, key)
    if exp.get("distinct_cluster_ips"):
        ips = [s["spec"].get("clusterIP") for s in stored]
        if len(set(ips)) != len(ips):
            problems.append(f"clusterIPs are not distinct: {sorted(ips)}")
    return problems


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_service_api_expectations(case):
    """Does admit_service store and reject Services as the case's API server did?"""
    results, members = _run(case)
    problems = [p for e in case["expect"] if e.get("kind") in API_KINDS for p in _check(e, results, members)]
    assert not problems, "\n".join(problems)


def test_the_sample_has_api_cases():
    """Does at least one vendored sample file carry API-server expectations (so this runner is exercised)?"""
    assert any(not c["id"].startswith("api-") for c in CASES)
