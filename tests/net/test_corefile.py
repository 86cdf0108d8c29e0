"""Reading the Corefile of ConfigMap kube-system/coredns."""
from __future__ import annotations

import pytest

from kubelab.errors import ValidationError
from kubelab.net.dns import DEFAULT_COREFILE, default_corefile, parse_corefile


def test_kubeadm_default():
    """Does kubeadm's Corefile give pods insecure, reverse fallthrough, ttl 30 and forward to resolv.conf?"""
    o = parse_corefile(DEFAULT_COREFILE)
    assert o.zones == ("cluster.local", "in-addr.arpa", "ip6.arpa")
    assert (o.pods, o.ttl, o.endpoint_pod_names) == ("insecure", 30, False)
    assert o.fallthrough == ("in-addr.arpa", "ip6.arpa")
    assert o.forward == ("/etc/resolv.conf",) and o.forward_zone == "."
    assert o.falls_through("5.1.244.10.in-addr.arpa") and not o.falls_through("web.default.svc.cluster.local")


def test_other_zone():
    """Does default_corefile put another cluster domain into the kubernetes plugin?"""
    assert parse_corefile(default_corefile("corp.internal")).zones[0] == "corp.internal"


def test_cluster_installs_corefile_for_its_domain():
    """Does a cluster with another domain serve that zone (kubeadm writes networking.dnsDomain into the Corefile)?"""
    import kubelab

    lab = kubelab.connect("simulated", cluster_domain="corp.internal", nodes=0, seed=0)
    assert lab.resolve("kubernetes.default.svc.corp.internal", "A").rcode == "NOERROR"
    assert lab.resolve("kubernetes.default.svc.cluster.local", "A").rcode == "NXDOMAIN"


def test_minimal_block_uses_coredns_defaults():
    """Does a bare kubernetes directive mean pods disabled, ttl 5, no fallthrough, no forward?"""
    o = parse_corefile(".:53 {\n  kubernetes cluster.local\n}\n")
    assert (o.pods, o.ttl, o.fallthrough, o.forward) == ("disabled", 5, None, None)


def test_options_comments_and_quotes():
    """Are endpoint_pod_names, verified pods, comments and quoted args read?"""
    text = ('# cluster DNS\n.:53 {\n  kubernetes cluster.local {  # the plugin\n    pods verified\n'
            '    endpoint_pod_names\n    ttl 10\n    fallthrough\n  }\n  forward . "8.8.8.8" 1.1.1.1\n}\n')
    o = parse_corefile(text)
    assert (o.pods, o.endpoint_pod_names, o.ttl, o.fallthrough) == ("verified", True, 10, ())
    assert o.forward == ("8.8.8.8", "1.1.1.1") and o.falls_through("anything.example")


def test_hosts_and_rewrite():
    """Are inline hosts entries and name rewrite rules read?"""
    text = (".:53 {\n  rewrite name exact db.example.com. db.prod.svc.cluster.local.\n"
            "  rewrite continue name suffix .corp .default.svc.cluster.local\n"
            "  hosts {\n    192.0.2.7 legacy.corp old.corp\n    fallthrough\n  }\n  kubernetes cluster.local\n}\n")
    o = parse_corefile(text)
    assert [h.names for h in o.hosts] == [("legacy.corp", "old.corp")] and o.hosts_fallthrough == ()
    assert o.rewrite("db.example.com") == "db.prod.svc.cluster.local"
    assert o.rewrite("web.corp") == "web.default.svc.cluster.local"
    assert o.rewrite("other.example") == "other.example"


@pytest.mark.parametrize("text,line,words", [
    (".:53 {\n  kubernetes cluster.local {\n    pods sometimes\n  }\n}\n", 3, "pods"),
    (".:53 {\n  kubernetes cluster.local {\n    ttl 9999\n  }\n}\n", 3, "ttl"),
    (".:53 {\n  kubernetes cluster.local {\n    podz insecure\n  }\n}\n", 3, "unknown property"),
    (".:53 {\n  errors\n  kubernets cluster.local\n}\n", 3, "unknown directive"),
    (".:53 {\n  kubernetes cluster.local {\n    pods insecure\n}\n", 1, "never closed"),
    (".:53 {\n  kubernetes cluster.local\n  rewrite name regex (.*) x\n}\n", 3, "regex"),
    (".:53 {\n  forward\n  kubernetes cluster.local\n}\n", 2, "forward"),
    (".:53 {\n  errors\n}\n", 1, "kubernetes plugin"),
    ("kubernetes cluster.local\n", 1, "server block"),
])
def test_errors_name_configmap_field_and_line(text, line, words):
    """Does every unreadable Corefile raise a ValidationError naming the ConfigMap, data.Corefile and the line?"""
    with pytest.raises(ValidationError) as info:
        parse_corefile(text)
    err = info.value
    assert err.object == "ConfigMap kube-system/coredns" and err.field == "data.Corefile"
    assert f"line {line}:" in err.problem and words in str(err)
