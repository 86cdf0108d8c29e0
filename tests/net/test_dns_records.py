"""Cluster DNS records: the conformance sample, then the spec's and CoreDNS's rules one by one."""
from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path

import pytest
import yaml

from kubelab.net.dns import (DEFAULT_COREFILE, ClusterDNS, CorefileOptions, hostname, parse_corefile,
                             resolv_conf, resolve)
from kubelab.net.labels import selector_from_map

SAMPLES = Path(__file__).resolve().parents[1] / "conformance" / "samples" / "dns"
KUBEADM = parse_corefile(DEFAULT_COREFILE)


# -- building Kubernetes-shaped objects from the compact case format ---------------------------

def make_pod(p: dict) -> dict:
    ips = p.get("ips", [])
    spec = {"nodeName": p.get("node"), "dnsPolicy": p.get("dnsPolicy", "ClusterFirst"),
            "hostNetwork": p.get("hostNetwork", False),
            "containers": [{"name": "c", "ports": [
                {"name": q.get("name"), "containerPort": q["port"], "protocol": q.get("protocol", "TCP")}
                for q in p.get("ports", [])]}]}
    for key in ("hostname", "subdomain", "dnsConfig", "setHostnameAsFQDN", "hostAliases"):
        if key in p:
            spec[key] = p[key]
    meta = {"name": p["name"], "namespace": p["namespace"], "labels": p.get("labels", {})}
    if p.get("terminating"):
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    status = {"phase": p.get("phase", "Running"), "podIPs": [{"ip": ip} for ip in ips],
              "conditions": [{"type": "Ready", "status": "True" if p.get("ready", True) else "False"}]}
    if ips:
        status["podIP"] = ips[0]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def make_service(s: dict, cidrs: list[str], index: int) -> dict:
    """API defaulting for the compact Service: type, protocol, targetPort, clusterIPs, ipFamilies."""
    spec = {"type": s.get("type", "ClusterIP"), "selector": s.get("selector"),
            "publishNotReadyAddresses": s.get("publishNotReadyAddresses", False),
            "ports": [{"name": p.get("name", ""), "port": p["port"], "protocol": p.get("protocol", "TCP"),
                       "targetPort": p.get("targetPort", p["port"])} for p in s.get("ports", [])]}
    if spec["type"] == "ExternalName":
        spec["externalName"] = s["externalName"]
    else:
        ip = s.get("clusterIP") or str(ipaddress.ip_network(cidrs[0])[100 + index])
        spec["clusterIP"] = ip
        spec["clusterIPs"] = s.get("clusterIPs") or [ip]
        fams = s.get("ipFamilies") or (
            ["IPv6" if ":" in c else "IPv4" for c in spec["clusterIPs"]] if ip != "None"
            else ["IPv6" if ":" in cidrs[0] else "IPv4"])
        spec["ipFamilies"] = fams
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": s["name"], "namespace": s["namespace"]}, "spec": spec}


def make_endpointslices(svc: dict, pods: list[dict]) -> list[dict]:
    """What the EndpointSlice controller publishes: ready = publishNotReadyAddresses or (Ready and not
    terminating); terminal pods and pods without IPs are left out; hostname when subdomain == svc name."""
    spec = svc["spec"]
    if spec["type"] == "ExternalName" or not spec.get("selector"):
        return []
    sel = selector_from_map(spec["selector"])
    ns = svc["metadata"]["namespace"]
    slices = []
    for family in spec["ipFamilies"]:
        groups: dict = {}
        for pod in pods:
            meta, pspec, status = pod["metadata"], pod["spec"], pod["status"]
            if meta["namespace"] != ns or not sel.matches(meta["labels"]):
                continue
            if status["phase"] in ("Succeeded", "Failed"):
                continue
            addrs = [e["ip"] for e in status["podIPs"] if ("IPv6" if ":" in e["ip"] else "IPv4") == family]
            if not addrs:
                continue
            ready_cond = status["conditions"][0]["status"] == "True"
            terminating = "deletionTimestamp" in meta
            ready = spec["publishNotReadyAddresses"] or (ready_cond and not terminating)
            ports = []
            for p in spec["ports"]:
                target = p["targetPort"]
                if isinstance(target, str):
                    named = [c["containerPort"] for c in pspec["containers"][0]["ports"]
                             if c.get("name") == target and c.get("protocol", "TCP") == p["protocol"]]
                    if not named:
                        continue
                    target = named[0]
                ports.append({"name": p["name"], "port": target, "protocol": p["protocol"]})
            ep = {"addresses": addrs[:1],
                  "conditions": {"ready": ready, "serving": ready_cond, "terminating": terminating},
                  "nodeName": pspec.get("nodeName"),
                  "targetRef": {"kind": "Pod", "name": meta["name"], "namespace": ns}}
            if pspec.get("hostname") and pspec.get("subdomain") == svc["metadata"]["name"]:
                ep["hostname"] = pspec["hostname"]
            groups.setdefault(tuple((q["name"], q["port"], q["protocol"]) for q in ports), []).append(ep)
        for i, (key, eps) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
            slices.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                           "metadata": {"name": f"{svc['metadata']['name']}-{family.lower()}-{i}", "namespace": ns,
                                        "labels": {"kubernetes.io/service-name": svc["metadata"]["name"]}},
                           "addressType": family, "endpoints": eps,
                           "ports": [{"name": n, "port": p, "protocol": pr} for n, p, pr in key]})
    return slices


def build_cluster(case: dict) -> tuple[ClusterDNS, dict, list[dict]]:
    c = case["cluster"]
    pods = [make_pod(p) for p in c.get("pods") or []]
    services = [make_service(s, c.get("service_cidrs", ["10.96.0.0/16"]), i)
                for i, s in enumerate(c.get("services") or [])]
    slices = [sl for svc in services for sl in make_endpointslices(svc, pods)]
    knobs = c.get("dns_server") or {}
    options = dataclasses.replace(KUBEADM, pods=knobs.get("pods", "insecure"),
                                  endpoint_pod_names=knobs.get("endpoint_pod_names", False))
    upstream: dict = {}
    for r in c.get("upstream_records") or []:
        upstream.setdefault(r["name"], {}).setdefault(r["type"], []).append(r["value"])
    dns = ClusterDNS(c["domain"], options, c.get("namespaces") or [], services, slices, pods, upstream)
    return dns, c, pods


def _expectations():
    for path in sorted(SAMPLES.glob("*.yaml")):
        case = yaml.safe_load(path.read_text())
        for i, exp in enumerate(case["expect"]):
            flagged = case.get("implementation_specific") or exp.get("implementation_specific")
            marks = [pytest.mark.xfail(reason=exp.get("note") or case.get("note") or "implementation specific",
                                       strict=False)] if flagged else []
            yield pytest.param(path, i, id=f"{path.stem}-{i}", marks=marks)


def _srv_matches(record, want: dict) -> bool:
    if record.port != want["port"]:
        return False
    if "target" in want:
        return record.target == want["target"].rstrip(".")
    return record.target.endswith(want["target_suffix"].rstrip("."))


@pytest.mark.parametrize("path,index", list(_expectations()))
def test_conformance_sample(path, index):
    """Does the engine give the answer real Kubernetes gives for this sample expectation?"""
    case = yaml.safe_load(path.read_text())
    exp = case["expect"][index]
    dns, cluster, pods = build_cluster(case)
    zone = cluster["domain"]
    if "resolv_conf_for" in exp:
        ns, name = exp["resolv_conf_for"].split("/")
        pod = next(p for p in pods if p["metadata"]["namespace"] == ns and p["metadata"]["name"] == name)
        node = next((n for n in cluster.get("nodes") or [] if n["name"] == pod["spec"]["nodeName"]), None)
        node_conf = ""
        if node:
            rc = node["resolv_conf"]
            node_conf = "".join(f"nameserver {s}\n" for s in rc.get("nameservers", []))
            node_conf += "search " + " ".join(rc["search"]) + "\n" if rc.get("search") else ""
            node_conf += "options " + " ".join(rc["options"]) + "\n" if rc.get("options") else ""
        text = resolv_conf(pod, [cluster["dns_service_ip"]], zone, node_conf)
        lines = [line.split() for line in text.splitlines()]
        assert [f[1] for f in lines if f[0] == "nameserver"] == exp["nameservers"]
        assert next((f[1:] for f in lines if f[0] == "search"), []) == exp["search"]
        assert set(next((f[1:] for f in lines if f[0] == "options"), [])) == set(exp["options"])
        return
    if "pod_hostname_for" in exp:
        ns, name = exp["pod_hostname_for"].split("/")
        pod = next(p for p in pods if p["metadata"]["namespace"] == ns and p["metadata"]["name"] == name)
        assert hostname(pod, zone) == exp["hostname"]
        assert hostname(pod, zone, fqdn=True) == exp.get("fqdn")
        return
    qtype = exp.get("type", "A")
    conf = None
    if exp.get("from_namespace"):
        client = make_pod({"name": "client", "namespace": exp["from_namespace"], "ips": ["10.244.99.99"]})
        conf = resolv_conf(client, [cluster["dns_service_ip"]], zone, "")
    answer = resolve(exp["query"], qtype, conf, lambda _server, n, t: dns.query(n, t),
                     server=cluster["dns_service_ip"])
    assert answer.rcode == exp.get("rcode", "NOERROR"), str(answer)
    typed = [r for r in answer.records if r.type == qtype]   # FORMAT.md: answers are records of the queried type
    if "answers" in exp:
        if qtype == "SRV":
            assert len(typed) == len(exp["answers"]), str(answer)
            for want in exp["answers"]:
                assert any(_srv_matches(r, want) for r in typed), (want, str(answer))
        else:
            assert {r.value for r in typed} == {str(a).rstrip(".") for a in exp["answers"]}, str(answer)
    if "cname_chain" in exp:
        assert list(answer.cname_chain) == [c.rstrip(".") for c in exp["cname_chain"]]
    if "resolved_name" in exp:
        assert answer.name == exp["resolved_name"].rstrip(".")
    if "answer_count" in exp:
        assert len(typed) == exp["answer_count"]
    for banned in exp.get("answers_exclude", []):
        assert str(banned) not in {r.value for r in answer.records}


# -- a small cluster for the rule-by-rule tests -------------------------------------------------

CASE = {
    "cluster": {
        "domain": "cluster.local", "dns_service_ip": "10.96.0.10",
        "service_cidrs": ["10.96.0.0/16", "fd00:10:96::/112"],
        "namespaces": ["default", "kube-system", "prod"],
        "pods": [
            {"name": "web-1", "namespace": "default", "ips": ["10.244.1.5", "fd00::5"], "labels": {"app": "web"}},
            {"name": "web-2", "namespace": "default", "ips": ["10.244.2.6", "fd00::6"], "labels": {"app": "web"},
             "ready": False},
            {"name": "db-0", "namespace": "default", "ips": ["10.244.1.10"], "labels": {"app": "db"},
             "hostname": "db-0", "subdomain": "db"},
            {"name": "db-1", "namespace": "default", "ips": ["10.244.2.11"], "labels": {"app": "db"},
             "hostname": "db-1", "subdomain": "db"},
            {"name": "cache-0", "namespace": "default", "ips": ["10.244.3.7"], "labels": {"app": "cache"}},
            {"name": "slow-0", "namespace": "default", "ips": ["10.244.3.9"], "labels": {"app": "slow"},
             "ready": False},
            {"name": "dying-0", "namespace": "prod", "ips": ["10.244.3.20"], "labels": {"app": "x"},
             "terminating": True},
        ],
        "services": [
            {"name": "kube-dns", "namespace": "kube-system", "clusterIP": "10.96.0.10", "selector": {"k8s-app": "dns"},
             "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]},
            {"name": "web", "namespace": "default", "clusterIP": "10.96.0.50",
             "clusterIPs": ["10.96.0.50", "fd00:10:96::50"], "ipFamilies": ["IPv4", "IPv6"],
             "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
            {"name": "db", "namespace": "default", "clusterIP": "None", "selector": {"app": "db"},
             "ports": [{"name": "pg", "port": 5432}]},
            {"name": "cache", "namespace": "default", "clusterIP": "None", "selector": {"app": "cache"}},
            {"name": "slow", "namespace": "default", "clusterIP": "None", "selector": {"app": "slow"},
             "ports": [{"name": "http", "port": 80}]},
            {"name": "slow-all", "namespace": "default", "clusterIP": "None", "selector": {"app": "slow"},
             "publishNotReadyAddresses": True, "ports": [{"name": "http", "port": 80}]},
            {"name": "ext", "namespace": "prod", "type": "ExternalName", "externalName": "my.database.example.com"},
            {"name": "alias", "namespace": "prod", "type": "ExternalName",
             "externalName": "web.default.svc.cluster.local"},
        ],
        "upstream_records": [{"name": "my.database.example.com", "type": "A", "value": "192.0.2.20"},
                             {"name": "example.org", "type": "AAAA", "value": "2001:db8::1"}],
    },
}


@pytest.fixture(scope="module")
def dns() -> ClusterDNS:
    return build_cluster(CASE)[0]


def values(result):
    return sorted(r.value for r in result[1])


def test_clusterip_a_and_aaaa_per_family(dns):
    """Does a dual-stack ClusterIP Service answer A with its IPv4 and AAAA with its IPv6 ClusterIP?"""
    assert values(dns.query("web.default.svc.cluster.local", "A")) == ["10.96.0.50"]
    assert values(dns.query("web.default.svc.cluster.local", "AAAA")) == ["fd00:10:96::50"]


def test_ttl_comes_from_the_corefile(dns):
    """Do answers carry the kubernetes plugin's ttl (30 in kubeadm's Corefile)?"""
    assert dns.query("web.default.svc.cluster.local", "A")[1][0].ttl == 30


def test_headless_lists_ready_endpoints_only(dns):
    """Does a headless Service answer with the addresses of its ready endpoints, one A record each?"""
    assert values(dns.query("db.default.svc.cluster.local", "A")) == ["10.244.1.10", "10.244.2.11"]


def test_headless_without_ready_endpoints_is_nxdomain(dns):
    """Spec 2.4.1: is a headless Service with no ready endpoints NXDOMAIN?"""
    assert dns.query("slow.default.svc.cluster.local", "A") == ("NXDOMAIN", [])


def test_publish_not_ready_addresses_publishes_all(dns):
    """Does publishNotReadyAddresses put not-ready pods into the headless answer?"""
    assert values(dns.query("slow-all.default.svc.cluster.local", "A")) == ["10.244.3.9"]


def test_headless_without_ports_still_has_a_records(dns):
    """Does a headless Service without ports still answer A (CoreDNS's port sentinel)?"""
    assert values(dns.query("cache.default.svc.cluster.local", "A")) == ["10.244.3.7"]
    assert dns.query("cache.default.svc.cluster.local", "SRV") == ("NOERROR", [])


def test_endpoint_hostname_record(dns):
    """Spec 2.4.1: does <hostname>.<svc>.<ns>.svc.<zone> answer the endpoint's own address?"""
    assert values(dns.query("db-0.db.default.svc.cluster.local", "A")) == ["10.244.1.10"]
    assert dns.query("db-9.db.default.svc.cluster.local", "A")[0] == "NXDOMAIN"


def test_endpoint_without_hostname_gets_dashed_ip_label(dns):
    """CoreDNS: is an endpoint without hostname reachable under its dashed IP label?"""
    assert values(dns.query("10-244-3-7.cache.default.svc.cluster.local", "A")) == ["10.244.3.7"]


def test_endpoint_pod_names_uses_pod_name():
    """With endpoint_pod_names, is the pod name the label of an endpoint without hostname?"""
    case = {"cluster": dict(CASE["cluster"], dns_server={"pods": "insecure", "endpoint_pod_names": True})}
    dns = build_cluster(case)[0]
    assert values(dns.query("cache-0.cache.default.svc.cluster.local", "A")) == ["10.244.3.7"]
    assert dns.query("10-244-3-7.cache.default.svc.cluster.local", "A")[0] == "NXDOMAIN"


def test_headless_srv_one_per_endpoint(dns):
    """Spec 2.4.2: does a headless named port give one SRV per ready endpoint, target <hostname>.<svc>...?"""
    rcode, recs = dns.query("_pg._tcp.db.default.svc.cluster.local", "SRV")
    assert rcode == "NOERROR"
    assert sorted((r.port, r.target) for r in recs) == [(5432, "db-0.db.default.svc.cluster.local"),
                                                         (5432, "db-1.db.default.svc.cluster.local")]


def test_srv_wrong_protocol_is_nxdomain(dns):
    """Is _http._udp for a TCP-only port NXDOMAIN?"""
    assert dns.query("_http._udp.web.default.svc.cluster.local", "SRV") == ("NXDOMAIN", [])


def test_srv_value_spells_out_fields(dns):
    """Is an SRV Record's value 'priority weight port target'?"""
    rec = dns.query("_http._tcp.web.default.svc.cluster.local", "SRV")[1][0]
    assert rec.value == f"{rec.priority} {rec.weight} 80 web.default.svc.cluster.local"


def test_existing_name_other_type_is_nodata(dns):
    """Is an existing name asked for a type it lacks NODATA (NOERROR, no records), not NXDOMAIN?"""
    assert dns.query("web.default.svc.cluster.local", "MX") == ("NOERROR", [])
    assert dns.query("db.default.svc.cluster.local", "AAAA") == ("NOERROR", [])


def test_missing_service_is_nxdomain(dns):
    """Is a Service that does not exist NXDOMAIN?"""
    assert dns.query("nope.default.svc.cluster.local", "A") == ("NXDOMAIN", [])


def test_namespace_name_is_nodata_only_if_namespace_exists(dns):
    """CoreDNS: is <ns>.svc.<zone> NODATA for an existing namespace and NXDOMAIN otherwise?"""
    assert dns.query("default.svc.cluster.local", "A") == ("NOERROR", [])
    assert dns.query("ghost.svc.cluster.local", "A") == ("NXDOMAIN", [])
    assert dns.query("web.ghost.svc.cluster.local", "A") == ("NXDOMAIN", [])


def test_names_that_are_neither_svc_nor_pod_are_nxdomain(dns):
    """Is <x>.<zone> (not svc, not pod) NXDOMAIN while the zone apex is NODATA?"""
    assert dns.query("web.default.cluster.local", "A") == ("NXDOMAIN", [])
    assert dns.query("cluster.local", "A") == ("NOERROR", [])


def test_too_many_labels_is_nxdomain(dns):
    """Is a name with three labels before <svc> NXDOMAIN?"""
    assert dns.query("a.b.c.web.default.svc.cluster.local", "A")[0] == "NXDOMAIN"


def test_externalname_cname_query_and_chase(dns):
    """Spec 2.5: is an ExternalName Service a CNAME, chased upstream for A?"""
    assert values(dns.query("ext.prod.svc.cluster.local", "CNAME")) == ["my.database.example.com"]
    rcode, recs = dns.query("ext.prod.svc.cluster.local", "A")
    assert rcode == "NOERROR"
    assert [(r.type, r.value) for r in recs] == [("CNAME", "my.database.example.com"), ("A", "192.0.2.20")]


def test_externalname_into_the_cluster_is_chased_internally(dns):
    """Is an ExternalName pointing at a cluster Service resolved to that Service's ClusterIP?"""
    recs = dns.query("alias.prod.svc.cluster.local", "A")[1]
    assert [(r.type, r.value) for r in recs] == [("CNAME", "web.default.svc.cluster.local"), ("A", "10.96.0.50")]


def test_ptr_for_cluster_ip_and_headless_endpoint(dns):
    """Spec 2.3.3/2.4.3: do ClusterIPs and headless endpoint IPs have PTR records?"""
    assert values(dns.query("50.0.96.10.in-addr.arpa", "PTR")) == ["web.default.svc.cluster.local"]
    assert values(dns.query("10.1.244.10.in-addr.arpa", "PTR")) == ["db-0.db.default.svc.cluster.local"]
    v6 = ipaddress.ip_address("fd00:10:96::50").reverse_pointer
    assert values(dns.query(v6, "PTR")) == ["web.default.svc.cluster.local"]


def test_unknown_ptr_falls_through_to_forward(dns):
    """With kubeadm's 'fallthrough in-addr.arpa', is an unknown PTR sent upstream (NXDOMAIN there)?"""
    assert dns.query("9.9.9.10.in-addr.arpa", "PTR") == ("NXDOMAIN", [])


def test_ptr_without_fallthrough_or_forward():
    """Without fallthrough, is an unknown reverse name answered NXDOMAIN by the kubernetes plugin itself?"""
    opts = dataclasses.replace(KUBEADM, fallthrough=None, forward=None)
    dns = ClusterDNS("cluster.local", opts, ["default"], [], [], [])
    assert dns.query("9.9.9.10.in-addr.arpa", "PTR") == ("NXDOMAIN", [])
    assert dns.query("example.org", "A") == ("SERVFAIL", [])


def test_pod_records_by_mode():
    """Are a-b-c-d.<ns>.pod records answered for any IP (insecure), only real pods (verified), never (disabled)?"""
    by_mode = {}
    for mode in ("insecure", "verified", "disabled"):
        case = {"cluster": dict(CASE["cluster"], dns_server={"pods": mode})}
        dns = build_cluster(case)[0]
        by_mode[mode] = (dns.query("10-244-1-5.default.pod.cluster.local", "A")[0],
                         dns.query("1-2-3-4.default.pod.cluster.local", "A")[0],
                         dns.query("10-244-1-5.ghost.pod.cluster.local", "A")[0])
    assert by_mode["insecure"] == ("NOERROR", "NOERROR", "NXDOMAIN")
    assert by_mode["verified"] == ("NOERROR", "NXDOMAIN", "NXDOMAIN")
    assert by_mode["disabled"] == ("NXDOMAIN", "NXDOMAIN", "NXDOMAIN")


def test_pod_record_value_and_ipv6(dns):
    """Does a pod name decode to its address, IPv6 with dashes for colons?"""
    assert values(dns.query("10-244-1-5.default.pod.cluster.local", "A")) == ["10.244.1.5"]
    assert values(dns.query("fd00--5.default.pod.cluster.local", "AAAA")) == ["fd00::5"]
    assert dns.query("not-an-ip.default.pod.cluster.local", "A")[0] == "NXDOMAIN"


def test_dns_version_txt(dns):
    """Spec 2.2: is there a dns-version TXT record (CoreDNS: 1.1.0)?"""
    assert values(dns.query("dns-version.cluster.local", "TXT")) == ["1.1.0"]


def test_case_insensitive(dns):
    """Spec 2.1: are names matched case-insensitively?"""
    assert values(dns.query("WEB.Default.SVC.cluster.LOCAL.", "A")) == ["10.96.0.50"]


def test_outside_names_are_forwarded(dns):
    """Are names outside the zone answered by the upstream world, NXDOMAIN when it does not know them?"""
    assert values(dns.query("example.org", "AAAA")) == ["2001:db8::1"]
    assert dns.query("example.org", "A") == ("NOERROR", [])
    assert dns.query("nowhere.example", "A") == ("NXDOMAIN", [])


def test_hosts_and_rewrite_plugins():
    """Do hosts entries answer before the kubernetes plugin, and does rewrite name map a name onto a Service?"""
    corefile = DEFAULT_COREFILE.replace(
        "    ready\n",
        "    ready\n    hosts {\n       192.0.2.7 legacy.corp\n       fallthrough\n    }\n"
        "    rewrite name suffix .corp.example .default.svc.cluster.local\n")
    opts = dataclasses.replace(parse_corefile(corefile), pods="insecure")
    base = build_cluster(CASE)[0]
    c = CASE["cluster"]
    services = [make_service(s, c["service_cidrs"], i) for i, s in enumerate(c["services"])]
    dns = ClusterDNS("cluster.local", opts, c["namespaces"], services, [], [])
    assert values(dns.query("legacy.corp", "A")) == ["192.0.2.7"]
    rcode, recs = dns.query("web.corp.example", "A")
    assert rcode == "NOERROR" and [(r.name, r.value) for r in recs] == [("web.corp.example", "10.96.0.50")]
    assert base.query("web.corp.example", "A")[0] == "NXDOMAIN"


def test_stub_domain_server_block():
    """Does a second server block with forward (a stub domain) take names under its zone?"""
    corefile = "consul.local:53 {\n    forward . 10.150.0.1\n}\n" + DEFAULT_COREFILE.replace(
        "    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n", "")
    opts = parse_corefile(corefile)
    assert opts.forward is None and opts.stub_domains == (("consul.local", ("10.150.0.1",)),)
    dns = ClusterDNS("cluster.local", opts, [], [], [], [], {"db.consul.local": {"A": ["10.150.0.9"]}})
    assert values(dns.query("db.consul.local", "A")) == ["10.150.0.9"]
    assert dns.query("example.org", "A") == ("SERVFAIL", [])


def test_resolve_from_pod_walks_search_list(dns):
    """Does a relative name from a pod try <ns>.svc, svc, zone suffixes then the name itself, in order?"""
    client = make_pod({"name": "c", "namespace": "prod", "ips": ["10.244.9.9"]})
    conf = resolv_conf(client, ["10.96.0.10"], "cluster.local", "")
    ans = resolve("web.default", "A", conf, lambda _s, n, t: dns.query(n, t))
    assert ans.queries == ("web.default.prod.svc.cluster.local", "web.default.svc.cluster.local")
    assert ans.name == "web.default.svc.cluster.local" and ans.server == "10.96.0.10"
    out = resolve("nothing", "A", conf, lambda _s, n, t: dns.query(n, t))
    assert out.rcode == "NXDOMAIN" and len(out.queries) == 4 and not out


def test_lookups_among_2000_services_answer_each_service():
    """With 2,000 Services, does every name answer its own ClusterIP? (Speed: benchmarks/bench_dns.py.)"""
    services = [{"metadata": {"name": f"svc-{i}", "namespace": "default"},
                 "spec": {"type": "ClusterIP", "clusterIP": str(ipaddress.ip_address("10.96.0.0") + i + 10),
                          "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}} for i in range(2000)]
    dns = ClusterDNS("cluster.local", KUBEADM, ["default"], services, [], [])
    for i in (0, 999, 1999):
        rcode, records = dns.query(f"svc-{i}.default.svc.cluster.local", "A")
        assert rcode == "NOERROR" and [r.value for r in records] == [str(ipaddress.ip_address("10.96.0.0") + i + 10)]


def test_defaults_are_coredns_defaults():
    """Are CorefileOptions' defaults those of a bare 'kubernetes' directive (pods disabled, ttl 5)?"""
    opts = CorefileOptions()
    assert (opts.pods, opts.ttl, opts.endpoint_pod_names, opts.forward) == ("disabled", 5, False, None)
