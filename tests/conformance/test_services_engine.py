"""The services conformance sample, checked at engine level (EndpointSlice controller + kube-proxy model).

Each case's compact cluster is expanded into Kubernetes-shaped dicts (Services defaulted as the API server
would), the controller computes the slices, and every expectation of the kinds this engine owns is checked.
create_result / service_fields belong to the API-server step and are not collected here.
"""
from __future__ import annotations

import ipaddress
import random
from pathlib import Path

import pytest
import yaml

from kubelab.net.endpointslices import CONTROLLER_NAME, reconcile_endpointslices, slice_endpoints_for_port
from kubelab.net.iptables import chain_name, iptables_save, parse_iptables_save
from kubelab.net.kubeproxy import (EndpointPicker, affinity_timeout, health_check, service_port_name, steer)

SAMPLES = Path(__file__).parent / "samples" / "services"
ENGINE_KINDS = {"endpointslices", "endpoints", "traffic", "kube_proxy_iptables", "probability_sequence",
                "health_check", "session_affinity"}
OTHER_KINDS = {"create_result", "service_fields"}
CLUSTER_CIDR = "10.244.0.0/16"


# --- building the cluster ---------------------------------------------------------------------------------

def _family(ip: str) -> str:
    return "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"


def make_pod(p: dict) -> dict:
    ips = list(p.get("ips") or [])
    meta = {"name": p["name"], "namespace": p.get("namespace", "default"), "labels": dict(p.get("labels") or {}),
            "uid": f"uid-pod-{p.get('namespace', 'default')}-{p['name']}"}
    if p.get("terminating"):
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    spec = {"nodeName": p.get("node"), "containers": p.get("containers") or [{"name": "app"}]}
    for key in ("hostname", "subdomain", "hostNetwork"):
        if key in p:
            spec[key] = p[key]
    ready = p.get("ready", True)
    status = {"phase": p.get("phase", "Running"), "podIPs": [{"ip": ip} for ip in ips],
              "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if ips:
        status["podIP"] = ips[0]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def expand_pod_sets(cluster: dict) -> list[dict]:
    pods = list(cluster.get("pods") or [])
    for ps in cluster.get("pod_sets") or []:
        extra = {k: v for k, v in ps.items() if k not in ("name_prefix", "count", "ipv4_start", "ipv6_start")}
        for i in range(ps["count"]):
            ips = [str(ipaddress.ip_address(ps[k]) + i) for k in ("ipv4_start", "ipv6_start") if ps.get(k)]
            pods.append({**extra, "name": f"{ps['name_prefix']}{i}", "ips": ips})
    return pods


class Allocator:
    """Hands out unpinned cluster IPs and node ports deterministically; tests only assert value-free facts."""

    def __init__(self, cluster: dict):
        self.cidrs = [ipaddress.ip_network(c) for c in cluster.get("service_cidrs") or ["10.96.0.0/16"]]
        lo, hi = (int(x) for x in str(cluster.get("node_port_range", "30000-32767")).split("-"))
        self.next_port, self.hi = lo, hi
        self.next_ip = {c.version: 100 for c in self.cidrs}
        self.used_ports: set[int] = set()

    def ip(self, family: str) -> str:
        cidr = next(c for c in self.cidrs if (c.version == 6) == (family == "IPv6"))
        self.next_ip[cidr.version] += 1
        return str(cidr.network_address + self.next_ip[cidr.version])

    def port(self) -> int:
        while self.next_port in self.used_ports:
            self.next_port += 1
        self.used_ports.add(self.next_port)
        return self.next_port


def make_service(s: dict, cluster: dict, alloc: Allocator) -> dict:
    """The compact Service defaulted as the API server would (type, protocol, targetPort, families, policies)."""
    kind = s.get("type", "ClusterIP")
    spec = {"type": kind}
    if s.get("selector") is not None:
        spec["selector"] = dict(s["selector"])
    ports = []
    for p in s.get("ports") or []:
        port = {"name": p.get("name", ""), "protocol": p.get("protocol", "TCP"), "port": p["port"],
                "targetPort": p.get("targetPort", p["port"])}
        if p.get("appProtocol"):
            port["appProtocol"] = p["appProtocol"]
        if p.get("nodePort"):
            port["nodePort"] = p["nodePort"]
            alloc.used_ports.add(p["nodePort"])
        ports.append(port)
    spec["ports"] = ports
    for key in ("publishNotReadyAddresses", "externalIPs", "loadBalancerSourceRanges", "sessionAffinityConfig",
                "allocateLoadBalancerNodePorts", "externalName", "healthCheckNodePort", "trafficDistribution"):
        if key in s:
            spec[key] = s[key]
    spec["sessionAffinity"] = s.get("sessionAffinity", "None")
    if kind != "ExternalName":
        families = _service_families(s, alloc)
        spec["ipFamilies"], spec["ipFamilyPolicy"] = families, s.get("ipFamilyPolicy", "SingleStack")
        pinned = s.get("clusterIPs") or ([s["clusterIP"]] if s.get("clusterIP") else [])
        if pinned == ["None"]:
            spec["clusterIP"], spec["clusterIPs"] = "None", ["None"]
        else:
            ips = list(pinned) + [alloc.ip(f) for f in families[len(pinned):]]
            spec["clusterIP"], spec["clusterIPs"] = ips[0], ips
        spec["internalTrafficPolicy"] = s.get("internalTrafficPolicy", "Cluster")
    if kind in ("NodePort", "LoadBalancer"):
        spec["externalTrafficPolicy"] = s.get("externalTrafficPolicy", "Cluster")
        if kind == "NodePort" or s.get("allocateLoadBalancerNodePorts", True):
            for port in ports:
                port.setdefault("nodePort", alloc.port())
        if kind == "LoadBalancer" and spec["externalTrafficPolicy"] == "Local":
            spec.setdefault("healthCheckNodePort", alloc.port())
    ns = s.get("namespace", "default")
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": s["name"], "namespace": ns, "labels": dict(s.get("labels") or {}),
                         "uid": f"uid-svc-{ns}-{s['name']}"},
            "spec": spec, "status": s.get("status") or {}}


def _service_families(s: dict, alloc: Allocator) -> list[str]:
    if s.get("ipFamilies"):
        fams = list(s["ipFamilies"])
    elif s.get("clusterIPs") or (s.get("clusterIP") and s["clusterIP"] != "None"):
        fams = [_family(ip) for ip in (s.get("clusterIPs") or [s["clusterIP"]])]
    else:
        fams = ["IPv6" if alloc.cidrs[0].version == 6 else "IPv4"]
    if s.get("ipFamilyPolicy") in ("PreferDualStack", "RequireDualStack") and len(alloc.cidrs) > 1 and len(fams) < 2:
        fams.append("IPv4" if fams[0] == "IPv6" else "IPv6")
    return fams


class Cluster:
    def __init__(self, case: dict):
        c = case.get("cluster") or {}
        self.max_eps = c.get("max_endpoints_per_slice", 100)
        self.nodes = [{"metadata": {"name": n["name"], "labels": dict(n.get("labels") or {})},
                       "status": {"addresses": [{"type": "InternalIP", "address": ip}
                                                for ip in ([n["ip"]] if n.get("ip") else []) + list(n.get("ips") or [])]}}
                      for n in c.get("nodes") or []]
        self.node_ip = {n["name"]: n.get("ip") for n in c.get("nodes") or []}
        self.pods = [make_pod(p) for p in expand_pod_sets(c)]
        alloc = Allocator(c)
        compact = []
        for ss in c.get("service_sets") or []:
            extra = {k: v for k, v in ss.items() if k not in ("name_prefix", "count")}
            compact += [{**extra, "name": f"{ss['name_prefix']}{i}"} for i in range(ss.get("count", 1))]
        compact += list(c.get("services") or [])
        self.services = {f"{s.get('namespace', 'default')}/{s['name']}": make_service(s, c, alloc) for s in compact}
        self.user_slices = list(c.get("endpointslices") or [])
        self.slices = {key: self.controller(key, self.max_eps) for key in self.services}

    def controller(self, key: str, max_eps: int) -> list[dict]:
        return reconcile_endpointslices(self.services[key], self.pods, [], max_endpoints_per_slice=max_eps,
                                        nodes=self.nodes)

    def all_slices(self) -> list[dict]:
        return [s for slices in self.slices.values() for s in slices] + self.user_slices

    def pod(self, ref: str) -> dict:
        ns, name = ref.split("/")
        return next(p for p in self.pods if p["metadata"]["namespace"] == ns and p["metadata"]["name"] == name)


# --- collecting the expectations -------------------------------------------------------------------------

def _cases():
    for path in sorted(SAMPLES.glob("*.yaml")):
        case = yaml.safe_load(path.read_text())
        for i, exp in enumerate(case.get("expect") or []):
            if exp["kind"] in OTHER_KINDS:
                continue
            yield pytest.param(case, exp, id=f"{case['id']}[{i}:{exp['kind']}]")


_CLUSTERS: dict[str, Cluster] = {}


def cluster_for(case: dict) -> Cluster:
    if case["id"] not in _CLUSTERS:
        _CLUSTERS[case["id"]] = Cluster(case)
    return _CLUSTERS[case["id"]]


@pytest.mark.parametrize("case,exp", list(_cases()))
def test_services_expectation(case, exp):
    """Does the engine give the answer real Kubernetes gives for this expectation of the sample case?"""
    assert exp["kind"] in ENGINE_KINDS, f"unknown expectation kind {exp['kind']!r}"
    CHECKS[exp["kind"]](cluster_for(case), exp)


def test_every_sample_case_is_loaded():
    """Is every services sample case found, and does each contribute at least one engine expectation or only
    API-server ones?"""
    files = sorted(SAMPLES.glob("*.yaml"))
    assert len(files) >= 5
    for path in files:
        kinds = {e["kind"] for e in yaml.safe_load(path.read_text())["expect"]}
        assert kinds <= ENGINE_KINDS | OTHER_KINDS, path.name


# --- the checks -------------------------------------------------------------------------------------------

def _pod_ref(ep: dict) -> str:
    ref = ep.get("targetRef") or {}
    return f"{ref.get('namespace')}/{ref.get('name')}"


def _ports(ports) -> frozenset:
    return frozenset((p.get("name") or "", p["port"], p.get("protocol", "TCP")) for p in ports or [])


def check_endpointslices(cl: Cluster, exp: dict) -> None:
    slices = cl.slices[exp["service"]]
    if exp.get("controller_override"):
        slices = cl.controller(exp["service"], exp["controller_override"].get("max_endpoints_per_slice", cl.max_eps))
    sizes = [len(s["endpoints"]) for s in slices]
    if "slices" in exp:
        assert len(slices) == exp["slices"], sizes
    if "slices_min" in exp:
        assert len(slices) >= exp["slices_min"], sizes
    if "controller_managed_slices" in exp:
        managed = [s for s in slices if s["metadata"]["labels"].get("endpointslice.kubernetes.io/managed-by")
                   == CONTROLLER_NAME]
        assert len(managed) == exp["controller_managed_slices"]
    if "endpoints_total" in exp:
        assert sum(sizes) == exp["endpoints_total"]
    if "slice_sizes" in exp:
        assert sorted(sizes) == sorted(exp["slice_sizes"])
    if "max_endpoints_in_any_slice" in exp:
        assert max(sizes) <= exp["max_endpoints_in_any_slice"]
    if "slices_by_address_type" in exp:
        counts: dict[str, int] = {}
        for s in slices:
            counts[s["addressType"]] = counts.get(s["addressType"], 0) + 1
        assert counts == exp["slices_by_address_type"]
    for key, value in (exp.get("labels") or {}).items():
        assert all(s["metadata"]["labels"].get(key) == value for s in slices), key
    if "ports" in exp:
        assert frozenset().union(*(_ports(s["ports"]) for s in slices)) == _ports(exp["ports"])
    if "pods_compared" in exp:
        homes = {ref: {i for i, s in enumerate(slices) for ep in s["endpoints"] if _pod_ref(ep) == ref}
                 for ref in exp["pods_compared"]}
        assert all(homes.values()), homes
        together = len(set.union(*homes.values())) == 1
        assert together == exp["same_slice"], homes
    if "slice_port_sets" in exp:
        actual = sorted((sorted(_ports(s["ports"])), sorted(_pod_ref(ep) for ep in s["endpoints"])) for s in slices)
        wanted = sorted((sorted(_ports(e["ports"])), sorted(e["pods"])) for e in exp["slice_port_sets"])
        assert actual == wanted


def check_endpoints(cl: Cluster, exp: dict) -> None:
    svc = cl.services[exp["service"]]
    port = next(p for p in svc["spec"]["ports"] if (p.get("name") or "") == (exp.get("port") or ""))
    got = {e.pod: e for e in slice_endpoints_for_port(cl.slices[exp["service"]], port.get("name") or "",
                                                      port.get("protocol", "TCP"))}
    assert sorted(got) == sorted(e["pod"].split("/")[-1] for e in exp.get("endpoints") or [])
    for want in exp.get("endpoints") or []:
        have = got[want["pod"].split("/")[-1]]
        for key, attr in (("ip", "ip"), ("port", "port"), ("ready", "ready"), ("serving", "serving"),
                          ("terminating", "terminating"), ("node", "node")):
            if key in want:
                assert getattr(have, attr) == want[key], (want["pod"], key)
    assert not set(exp.get("excluded_pods") or []) & {f"{e.namespace}/{e.pod}" for e in got.values()}


def _client(cl: Cluster, client: dict) -> tuple[str, str | None, str | None]:
    """(client kind, client node, client IP) of a compact client."""
    if client["type"] == "pod":
        pod = cl.pod(client["pod"])
        return "pod", pod["spec"].get("nodeName"), pod["status"].get("podIP")
    if client["type"] == "node":
        return "node", client["node"], cl.node_ip.get(client["node"])
    return "external", None, client.get("ip")


def _steer(cl: Cluster, exp: dict):
    svc = cl.services[exp["service"]]
    via = exp.get("via", "cluster_ip")
    number_key = "nodePort" if via == "node_port" else "port"
    ports = svc["spec"]["ports"]
    port = next((p for p in ports if p.get(number_key) == exp.get("port") or p.get("name") == exp.get("port")),
                ports[0])
    kind, client_node, client_ip = _client(cl, exp["client"])
    family = "IPv6" if ":" in str(exp.get("family", "")) or exp.get("family") == "IPv6" else "IPv4"
    return svc, port, steer(svc, port, cl.all_slices(), via=via, client=kind, client_node=client_node,
                            receiving_node=exp.get("node"), family=family, client_ip=client_ip, nodes=cl.nodes)


def check_traffic(cl: Cluster, exp: dict) -> None:
    _, _, s = _steer(cl, exp)
    if "expect_endpoints" in exp:
        assert s.action == "forward", s.reason
        assert sorted(s.endpoints) == sorted(exp["expect_endpoints"]), s.reason
    if exp.get("expect_dropped"):
        assert s.action == "drop", s.reason
    if exp.get("expect_rejected"):
        assert s.action == "reject", s.reason
    if "source_ip_preserved" in exp:
        assert all(s.masquerade_for(ep) != exp["source_ip_preserved"] for ep in s.endpoints), s.reason


def check_session_affinity(cl: Cluster, exp: dict) -> None:
    svc, port, s = _steer(cl, exp)
    picker = EndpointPicker("iptables", random.Random(0))
    n = exp.get("connections", 10)
    step = exp.get("within_seconds", 0) / max(n - 1, 1)
    _, _, client_ip = _client(cl, exp["client"])
    seen = []
    for _ in range(n):
        seen.append(picker.pick(service_port_name(svc, port), s.endpoints, client_ip=client_ip or "",
                                affinity_timeout=affinity_timeout(svc)))
        picker.advance(step)
    if "expect_same_endpoint" in exp:
        assert (len(set(seen)) == 1) == exp["expect_same_endpoint"], seen
    if "expect_endpoint_in" in exp:
        assert set(seen) <= set(exp["expect_endpoint_in"]), seen


def check_health_check(cl: Cluster, exp: dict) -> None:
    svc = cl.services[exp["service"]]
    per_node = exp.get("per_node") or {}
    for node, want in per_node.items():
        status, body = health_check(svc, cl.all_slices(), node)
        want = want if isinstance(want, dict) else {"healthy": want in (True, "healthy")}
        for key in ("local_endpoints", "http_status"):
            top = exp.get(key)
            if key not in want and top is not None:
                want[key] = top.get(node) if isinstance(top, dict) else top
        if want.get("healthy") is not None:
            assert (status == 200) == want["healthy"], body
        if want.get("http_status") is not None:
            assert status == want["http_status"]
        if want.get("local_endpoints") is not None:
            assert f'"localEndpoints": {want["local_endpoints"]},' in body


def check_probability_sequence(cl: Cluster, exp: dict) -> None:
    n = exp["n"]
    service = {"metadata": {"name": "p", "namespace": "default"},
               "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.99", "ipFamilies": ["IPv4"],
                        "ports": [{"name": "", "port": 80, "protocol": "TCP"}]}}
    slices = [{"metadata": {"name": "p-x", "namespace": "default", "labels": {"kubernetes.io/service-name": "p"}},
               "addressType": "IPv4", "ports": [{"name": "", "port": 80, "protocol": "TCP"}],
               "endpoints": [{"addresses": [f"10.244.9.{i + 1}"]} for i in range(n)]}]
    nat = parse_iptables_save(iptables_save("node-a", [service], slices, [], cluster_cidr=CLUSTER_CIDR))["nat"]
    rules = [r for r in nat[chain_name("KUBE-SVC", "default/p", "tcp")] if r.target.startswith("KUBE-SEP-")]
    assert len(rules) == n
    probs = [r.probability for r in rules]
    assert probs[:-1] == exp["probabilities"] and probs[-1] is None
    remaining, shares = 1.0, []
    for p in probs:
        shares.append(remaining * (float(p) if p else 1.0))
        remaining -= shares[-1]
    assert all(abs(x - exp["effective_share"]) < 1e-6 for x in shares)


def check_kube_proxy_iptables(cl: Cluster, exp: dict) -> None:
    """Rule-structure expectations: names are compared exactly, rule lists in order, each expected rule
    either a whole `-A` line, a chain/target name, or a mapping of Rule attributes."""
    text = iptables_save(exp["node"], list(cl.services.values()), cl.all_slices(), cl.nodes,
                         cluster_cidr=CLUSTER_CIDR)
    check_iptables_text(text, exp)


def check_iptables_text(text: str, exp: dict) -> None:
    """The kube_proxy_iptables expectation against one node's `iptables-save` text (shared with the Lab harness)."""
    spn, proto = exp["service_port"], exp.get("protocol", "TCP").lower()
    tables = parse_iptables_save(text)
    nat, flt = tables["nat"], tables["filter"]
    names = {"svc_chain": chain_name("KUBE-SVC", spn, proto), "svl_chain": chain_name("KUBE-SVL", spn, proto),
             "ext_chain": chain_name("KUBE-EXT", spn, proto)}
    for key, name in names.items():
        if key in exp:
            want = exp[key]
            if isinstance(want, bool) or want is None:
                assert (name in nat) == bool(want), key
            else:
                assert want == name and name in nat, key
    jumps = [r for r in nat["KUBE-SERVICES"] if (r.comment or "").startswith(f"{spn} ")]
    if "programmed" in exp:
        assert bool(jumps) == exp["programmed"]
    if "kube_services_jump" in exp:
        _match_rules(jumps[:1], [exp["kube_services_jump"]])
    if "nodeports_jump" in exp:
        _match_rules([r for r in nat["KUBE-NODEPORTS"] if r.comment == spn], [exp["nodeports_jump"]])
    for key, chain in (("ext_chain_rules", names["ext_chain"]), ("svc_chain_endpoint_rules", names["svc_chain"]),
                       ("svl_chain_endpoint_rules", names["svl_chain"]), ("affinity_rules", names["svc_chain"])):
        if key in exp:
            rules = nat.get(chain, [])
            if key.endswith("endpoint_rules"):
                rules = [r for r in rules if (r.target or "").startswith("KUBE-SEP-") and "--rcheck" not in r.args]
            elif key == "affinity_rules":
                rules = [r for r in rules if "--rcheck" in r.args]
            _match_rules(rules, exp[key])
    if "ext_chain_final_target" in exp:
        assert nat[names["ext_chain"]][-1].target == exp["ext_chain_final_target"]
    if "sep_chains" in exp:
        seps = sorted(c for c in nat if c.startswith("KUBE-SEP-") and any(r.comment == spn or (r.comment or "").startswith(
            f"{spn} ") for r in nat[c]))
        assert seps == sorted(exp["sep_chains"]) if isinstance(exp["sep_chains"], list) else len(seps) == exp["sep_chains"]
    if "sep_rules" in exp:
        for chain, rules in exp["sep_rules"].items():
            _match_rules(nat[chain], rules)
    if "filter_rule" in exp:
        _match_rules([r for t in flt.values() for r in t if (r.comment or "").startswith(spn)], [exp["filter_rule"]])
    for chain in exp.get("nat_chains_present") or []:
        assert chain in nat, chain
    if "kube_services_last_rule_target" in exp:
        assert nat["KUBE-SERVICES"][-1].target == exp["kube_services_last_rule_target"]


def _match_rules(rules, wanted) -> None:
    assert len(rules) == len(wanted), [str(r) for r in rules]
    for rule, want in zip(rules, wanted):
        if isinstance(want, str):
            assert str(rule) == want if want.startswith("-A ") else rule.target == want, str(rule)
        else:
            for key, value in want.items():
                assert getattr(rule, key) == value, (key, str(rule))


CHECKS = {"endpointslices": check_endpointslices, "endpoints": check_endpoints, "traffic": check_traffic,
          "session_affinity": check_session_affinity, "health_check": check_health_check,
          "probability_sequence": check_probability_sequence, "kube_proxy_iptables": check_kube_proxy_iptables}
