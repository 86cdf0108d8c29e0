"""The Services / EndpointSlices / kube-proxy conformance sample, driven through the Lab only."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubelab import KubelabError

from .scenario import build_lab, expand_service_sets, load_cases, service_manifest

OWN = Path(__file__).parent / "own" / "services"     # kubelab's own cases, same format, ids svc-k-NNN
MANAGED = "kubernetes.io/service-name={},endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io"


def _expectations():
    own = [yaml.safe_load(p.read_text()) for p in sorted(OWN.glob("svc-k-*.yaml"))]
    for case in load_cases("services") + own:
        for i, exp in enumerate(case["expect"]):
            marks = []
            if exp.get("implementation_specific") or case.get("implementation_specific"):
                marks.append(pytest.mark.implementation_specific)
            yield pytest.param(case, exp, id=f"{case['id']}[{i}]", marks=marks)


def _split(ref: str) -> tuple[str, str]:
    ns, _, name = ref.rpartition("/")
    return ns or "default", name


def _slices(lab, service_ref):
    ns, name = _split(service_ref)
    return lab.list("EndpointSlice", ns, selector=MANAGED.format(name))


def _pod_key(endpoint, ns):
    ref = endpoint.get("targetRef") or {}
    return f"{ref.get('namespace', ns)}/{ref.get('name')}"


def _matches(want, got) -> bool:
    """`fields` partial match: lists element-wise, None = unset/empty."""
    if want is None:
        return got in (None, "", [], {})
    if isinstance(want, dict):
        return isinstance(got, dict) and all(_matches(v, got.get(k)) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(_matches(w, g) for w, g in zip(want, got))
    return want == got


def _create_result(case, exp):
    cluster = dict(case["cluster"])
    target = exp["object"]
    services = expand_service_sets(cluster)
    lab = build_lab(cluster, services=False)
    outcome, error = None, None
    for svc in services:
        ref = f"{svc.get('namespace', 'default')}/{svc['name']}"
        try:
            lab.apply(service_manifest(svc))
            result = "accepted"
        except KubelabError as exc:
            result, error = "rejected", str(exc)
        if ref == target or svc["name"] == target:
            outcome = result
            break
    assert outcome == exp["result"], error
    if exp["result"] == "rejected" and exp.get("error_field"):
        assert exp["error_field"] in error, error


def _client_src(lab, client):
    if client["type"] == "pod":
        return client["pod"]
    if client["type"] == "node":
        return f"node/{client['node']}"
    return client["ip"]


def _node_ip(lab, node):
    return next(a["address"] for a in lab.get("Node", node, None)["status"]["addresses"] if a["type"] == "InternalIP")


def _traffic_target(lab, exp):
    svc = lab.get("Service", *reversed(_split(exp["service"])))
    via = exp["via"]
    if via == "cluster_ip":
        return svc["spec"]["clusterIP"]
    if via == "node_port":
        return _node_ip(lab, exp["node"])
    if via == "load_balancer":
        return svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    return svc["spec"]["externalIPs"][0]


@pytest.mark.parametrize("case,exp", list(_expectations()))
def test_services_expectation(case, exp):
    """Does the simulated API server, EndpointSlice controller and kube-proxy do what Kubernetes does?"""
    kind = exp["kind"]
    if kind == "create_result":
        return _create_result(case, exp)
    if kind == "probability_sequence":
        from kubelab.net.iptables import parse_iptables_save
        n = exp["n"]
        cluster = {"service_cidrs": ["10.96.0.0/16"], "nodes": [{"name": "node-a", "ip": "192.168.0.10"}],
                   "pod_sets": [{"name_prefix": "p-", "namespace": "default", "count": n,
                                 "ipv4_start": "10.244.0.10", "labels": {"app": "p"}, "ready": True, "node": "node-a"}],
                   "services": [{"name": "p", "clusterIP": "10.96.0.50", "selector": {"app": "p"},
                                 "ports": [{"port": 80, "targetPort": 8080}]}]}
        lab = build_lab(cluster)
        nat = parse_iptables_save(lab.iptables_save("node-a"))["nat"]
        chain = next(r.target for r in nat["KUBE-SERVICES"] if "10.96.0.50" in r.args)
        sep_rules = [r for r in nat[chain] if (r.target or "").startswith("KUBE-SEP-")]
        probs = [r.probability for r in sep_rules if r.probability]
        assert probs == exp["probabilities"]
        assert len(sep_rules) == n
        return
    overrides = {}
    if exp.get("controller_override"):
        overrides = {k: v for k, v in exp["controller_override"].items()}
    lab = build_lab(case["cluster"], **overrides)
    if kind == "service_fields":
        refs = [exp["service"]] if "service" in exp else \
            [f"{s.get('namespace', 'default')}/{s['name']}" for s in expand_service_sets(case["cluster"])
             if s["name"].startswith(exp["service_set"])]
        ips = []
        for ref in refs:
            svc = lab.get("Service", *reversed(_split(ref)))
            spec = svc["spec"]
            if exp.get("fields"):
                for k, v in exp["fields"].items():
                    assert _matches(v, spec.get(k)), (k, spec.get(k))
            for port_name, (lo, hi) in (exp.get("node_port_in_range") or {}).items():
                if port_name == "healthCheckNodePort":
                    value = spec.get("healthCheckNodePort")
                else:
                    value = next(p.get("nodePort") for p in spec["ports"] if (p.get("name") or "") == port_name)
                assert value is not None and lo <= value <= hi
            if exp.get("cluster_ip_in_range"):
                import ipaddress
                lo, hi = (ipaddress.ip_address(x) for x in exp["cluster_ip_in_range"])
                assert lo <= ipaddress.ip_address(spec["clusterIP"]) <= hi
            if exp.get("cluster_ips_in"):
                import ipaddress
                for ip, cidr in zip(spec["clusterIPs"], exp["cluster_ips_in"]):
                    assert ipaddress.ip_address(ip) in ipaddress.ip_network(cidr)
            if exp.get("health_check_node_port") is not None:
                want = exp["health_check_node_port"]
                assert (spec.get("healthCheckNodePort") is not None) == bool(want) if isinstance(want, bool) \
                    else spec.get("healthCheckNodePort") == want
            ips.append(spec.get("clusterIP"))
        if exp.get("distinct_cluster_ips"):
            assert len(set(ips)) == len(ips)
        return
    if kind == "endpointslices":
        slices = _slices(lab, exp["service"])
        ns, _ = _split(exp["service"])
        sizes = sorted((len(s["endpoints"]) for s in slices), reverse=True)
        if "slices" in exp:
            assert len(slices) == exp["slices"], sizes
        if "slices_min" in exp:
            assert len(slices) >= exp["slices_min"]
        if "endpoints_total" in exp:
            assert sum(sizes) == exp["endpoints_total"]
        if "slice_sizes" in exp:
            assert sizes == sorted(exp["slice_sizes"], reverse=True)
        if "max_endpoints_in_any_slice" in exp:
            assert max(sizes) <= exp["max_endpoints_in_any_slice"]
        if "slices_by_address_type" in exp:
            by_type = {}
            for s in slices:
                by_type[s["addressType"]] = by_type.get(s["addressType"], 0) + 1
            assert by_type == exp["slices_by_address_type"]
        for k, v in (exp.get("labels") or {}).items():
            assert all(s["metadata"]["labels"].get(k) == v for s in slices)
        if "ports" in exp:
            for s in slices:
                got = [{k: p.get(k) for k in ("name", "port", "protocol")} for p in s["ports"]]
                assert sorted(got, key=str) == sorted(exp["ports"], key=str)
        if "same_slice" in exp:
            where = {}
            for i, s in enumerate(slices):
                for e in s["endpoints"]:
                    where[_pod_key(e, ns)] = i
            a, b = exp["pods_compared"]
            assert (where[a] == where[b]) == exp["same_slice"]
        if "slice_port_sets" in exp:
            got = sorted((sorted((p["name"], p["port"], p["protocol"]) for p in s["ports"]),
                          sorted(_pod_key(e, ns) for e in s["endpoints"])) for s in slices)
            want = sorted((sorted((p["name"], p["port"], p["protocol"]) for p in w["ports"]), sorted(w["pods"]))
                          for w in exp["slice_port_sets"])
            assert got == want
        return
    if kind == "endpoints":
        ns, _ = _split(exp["service"])
        got = {}
        for s in _slices(lab, exp["service"]):
            port = next((p["port"] for p in s["ports"] if (p.get("name") or "") == exp["port"]), None)
            if port is None:
                continue
            for e in s["endpoints"]:
                got[(e.get("targetRef") or {}).get("name")] = dict(ip=e["addresses"][0], port=port,
                                                                    node=e.get("nodeName"), **e["conditions"])
        assert sorted(got) == sorted(e["pod"] for e in exp["endpoints"])
        for want in exp["endpoints"]:
            have = got[want["pod"]]
            for k, v in want.items():
                if k != "pod":
                    assert have[k] == v, (want["pod"], k, have[k])
        for pod in exp.get("excluded_pods") or []:
            assert pod.split("/")[1] not in got
        return
    if kind == "traffic":
        verdict = lab.reach(_client_src(lab, exp["client"]), _traffic_target(lab, exp), port=exp["port"],
                            protocol=exp.get("protocol", "TCP"))
        if "expect_endpoints" in exp:
            assert sorted(verdict.candidates) == sorted(exp["expect_endpoints"]), str(verdict)
            assert verdict.endpoint in exp["expect_endpoints"], str(verdict)
        if exp.get("expect_dropped") or exp.get("expect_rejected"):
            assert not verdict, str(verdict)
            assert not verdict.candidates or verdict.endpoint is None
        if "source_ip_preserved" in exp:
            client = exp["client"]
            client_ip = client.get("ip") or (lab.get("Pod", *reversed(_split(client["pod"])))["status"]["podIP"]
                                             if client["type"] == "pod" else _node_ip(lab, client["node"]))
            assert (verdict.source_ip == client_ip) == exp["source_ip_preserved"], str(verdict)
        return
    if kind == "health_check":
        svc = lab.get("Service", *reversed(_split(exp["service"])))
        port = svc["spec"]["healthCheckNodePort"]
        for node, state in (exp.get("per_node") or {}).items():
            resp = lab.http(f"http://{_node_ip(lab, node)}:{port}/healthz")
            assert resp.status == (200 if state == "healthy" else 503), str(resp)
            want_local = (exp.get("local_endpoints") or {}).get(node)
            if want_local is not None:
                assert resp.json()["localEndpoints"] == want_local
        return
    if kind == "kube_proxy_iptables":
        from .test_services_engine import check_iptables_text
        return check_iptables_text(lab.iptables_save(exp["node"]), exp)
    if kind == "session_affinity":
        src, dst = _client_src(lab, exp["client"]), _traffic_target(lab, {"via": "cluster_ip", **exp})
        n = exp.get("connections", 10)
        step = exp.get("within_seconds", 0) / max(n - 1, 1)
        seen = []
        for _ in range(n):
            seen.append(lab.reach(src, dst, port=exp["port"], protocol=exp.get("protocol", "TCP")).endpoint)
            lab.advance_time(step)
        if "expect_same_endpoint" in exp:
            assert (len(set(seen)) == 1) == exp["expect_same_endpoint"], seen
        if "expect_endpoint_in" in exp:
            assert set(seen) <= set(exp["expect_endpoint_in"]), seen
        return
    pytest.fail(f"unknown expectation kind {kind!r}")
