"""A pod's lookups reuse its parsed resolv.conf and the answers while the cluster is unchanged, and
see every change."""
from __future__ import annotations

import kubelab
from kubelab.net.dns.resolver import parse_resolv_conf, resolve

CLIENT = """
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {containers: [{name: c, image: x}]}
"""
WEB = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
"""


def test_a_parsed_resolv_conf_resolves_like_its_text():
    """Does resolve() give the same answer for a ResolvConf as for the text it was parsed from?"""
    text = "search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
    lookup = lambda _server, name, _t: ("NOERROR", []) if name.count(".") > 3 else ("NXDOMAIN", [])
    assert resolve("web", "A", text, lookup) == resolve("web", "A", parse_resolv_conf(text), lookup)


def test_lookups_from_a_pod_follow_the_cluster():
    """After a Service is created, deleted, or the pod's dnsConfig changes, does the next lookup see it?"""
    lab = kubelab.connect(seed=0)
    lab.apply(CLIENT)
    assert lab.resolve("web", src="default/client").rcode == "NXDOMAIN"
    lab.apply(WEB)
    answer = lab.resolve("web", src="default/client")
    assert answer.rcode == "NOERROR" and answer.records and answer.name == "web.default.svc.cluster.local"
    assert lab.resolve("web", src="default/client") == answer
    lab.delete("Service", "web")
    assert lab.resolve("web", src="default/client").rcode == "NXDOMAIN"
    lab.delete("Pod", "client", grace_period=0)
    lab.apply(CLIENT.replace("spec: {", "spec: {dnsPolicy: None, dnsConfig: {nameservers: [10.96.0.10], "
                                        "searches: [other.svc.cluster.local]}, "))
    assert lab.resolve("web", src="default/client").queries[0] == "web.other.svc.cluster.local"
