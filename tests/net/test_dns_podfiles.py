"""The kubelet's DNS files for a pod: resolv.conf per dnsPolicy, /etc/hosts, hostname, validation."""
from __future__ import annotations

import pytest

from kubelab.errors import ValidationError
from kubelab.net.dns import hostname, hosts_file, resolv_conf, validate_pod_dns

NODE = "nameserver 192.168.0.2\nsearch corp.example.com\noptions timeout:2 attempts:3\n"
ZONE = "cluster.local"


def pod(name="app", ns="default", ips=("10.244.1.5",), **spec):
    return {"metadata": {"name": name, "namespace": ns},
            "spec": {"nodeName": "node-a", "containers": [{"name": "c"}], **spec},
            "status": {"podIPs": [{"ip": ip} for ip in ips]}}


def lines(text):
    return {f[0]: f[1:] for f in (line.split() for line in text.splitlines()) if f[0] != "nameserver"} | {
        "nameserver": [f[1] for f in (line.split() for line in text.splitlines()) if f[0] == "nameserver"]}


def test_cluster_first_is_the_default():
    """Does a pod without dnsPolicy get only the cluster DNS, the namespace search list + node's, ndots:5?"""
    text = resolv_conf(pod(), ["10.96.0.10"], ZONE, NODE)
    assert text == ("search default.svc.cluster.local svc.cluster.local cluster.local corp.example.com\n"
                    "nameserver 10.96.0.10\noptions ndots:5\n")


def test_default_policy_inherits_the_node():
    """Does dnsPolicy Default copy the node's resolv.conf (nameservers, search, options)?"""
    got = lines(resolv_conf(pod(dnsPolicy="Default"), ["10.96.0.10"], ZONE, NODE))
    assert got == {"search": ["corp.example.com"], "nameserver": ["192.168.0.2"], "options": ["timeout:2", "attempts:3"]}


def test_host_network_cluster_first_falls_back_to_default():
    """Does a hostNetwork pod with ClusterFirst get the node's DNS, and ClusterFirstWithHostNet the cluster's?"""
    plain = lines(resolv_conf(pod(hostNetwork=True, dnsPolicy="ClusterFirst"), ["10.96.0.10"], ZONE, NODE))
    assert plain["nameserver"] == ["192.168.0.2"]
    withnet = lines(resolv_conf(pod(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet"), ["10.96.0.10"], ZONE, NODE))
    assert withnet["nameserver"] == ["10.96.0.10"] and withnet["options"] == ["ndots:5"]


def test_none_policy_uses_only_dns_config():
    """Does dnsPolicy None start empty and take dnsConfig's nameservers, searches and options?"""
    cfg = {"nameservers": ["1.2.3.4"], "searches": ["ns1.svc.cluster-domain.example", "my.dns.search.suffix"],
           "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}
    text = resolv_conf(pod(dnsPolicy="None", dnsConfig=cfg), ["10.96.0.10"], ZONE, NODE)
    assert text == ("search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 1.2.3.4\n"
                    "options ndots:2 edns0\n")


def test_dns_config_merges_and_limits():
    """Are dnsConfig entries appended without duplicates, options overridden by name, nameservers cut to 3?"""
    cfg = {"nameservers": ["10.96.0.10", "1.1.1.1", "8.8.8.8", "9.9.9.9"], "searches": ["svc.cluster.local", "x.example"],
           "options": [{"name": "ndots", "value": "1"}]}
    got = lines(resolv_conf(pod(dnsConfig=cfg), ["10.96.0.10"], ZONE, ""))
    assert got["nameserver"] == ["10.96.0.10", "1.1.1.1", "8.8.8.8"]
    assert got["search"] == ["default.svc.cluster.local", "svc.cluster.local", "cluster.local", "x.example"]
    assert got["options"] == ["ndots:1"]


def test_search_list_capped_at_32():
    """Does the kubelet keep at most 32 search domains?"""
    cfg = {"searches": [f"s{i}.example" for i in range(40)]}
    got = lines(resolv_conf(pod(dnsConfig=cfg), ["10.96.0.10"], ZONE, ""))
    assert len(got["search"]) == 32


def test_no_cluster_dns_falls_back_to_node():
    """Without a cluster DNS IP, does a ClusterFirst pod get the node's resolv.conf?"""
    assert lines(resolv_conf(pod(), [], ZONE, NODE))["nameserver"] == ["192.168.0.2"]


def test_hostname_and_fqdn():
    """Is the hostname spec.hostname (else the pod name) and the FQDN <host>.<subdomain>.<ns>.svc.<zone>?"""
    p = pod("busybox1", "my-namespace", hostname="busybox-1", subdomain="busybox-subdomain")
    assert hostname(p, ZONE) == "busybox-1"
    assert hostname(p, ZONE, fqdn=True) == "busybox-1.busybox-subdomain.my-namespace.svc.cluster.local"
    assert hostname(pod("plain"), ZONE) == "plain" and hostname(pod("plain"), ZONE, fqdn=True) is None


def test_long_pod_name_is_truncated_to_63():
    """Is a long pod name cut to 63 characters without a trailing dash?"""
    name = "a" * 62 + "-bcdef"
    assert hostname(pod(name), ZONE) == "a" * 62


def test_set_hostname_as_fqdn():
    """With setHostnameAsFQDN, does `hostname` print the FQDN, and is an FQDN over 64 chars an error?"""
    p = pod("web-0", hostname="web-0", subdomain="web", setHostnameAsFQDN=True)
    assert hostname(p, ZONE) == "web-0.web.default.svc.cluster.local"
    long = pod("x", hostname="h" * 40, subdomain="s" * 20, setHostnameAsFQDN=True)
    with pytest.raises(ValidationError, match="spec.setHostnameAsFQDN"):
        hostname(long, ZONE)


def test_host_network_pod_has_the_node_hostname():
    """Does a hostNetwork pod see the node's hostname?"""
    assert hostname(pod(hostNetwork=True), ZONE) == "node-a"


def test_hosts_file_with_subdomain_and_aliases():
    """Does /etc/hosts hold localhost lines, each pod IP with FQDN and hostname, then the HostAliases?"""
    p = pod("web-0", ips=("10.244.1.5", "fd00::5"), hostname="web-0", subdomain="web",
            hostAliases=[{"ip": "127.0.0.1", "hostnames": ["foo.local", "bar.local"]}])
    text = hosts_file(p, ZONE)
    assert text.startswith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n")
    assert "10.244.1.5\tweb-0.web.default.svc.cluster.local\tweb-0\n" in text
    assert "fd00::5\tweb-0.web.default.svc.cluster.local\tweb-0\n" in text
    assert text.endswith("\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n")


def test_hosts_file_host_network():
    """Does a hostNetwork pod get the node's hosts file under the host-network header?"""
    text = hosts_file(pod(hostNetwork=True), ZONE, node_hosts="127.0.0.1\tlocalhost\n")
    assert text == "# Kubernetes-managed hosts file (host network).\n127.0.0.1\tlocalhost\n"


@pytest.mark.parametrize("spec,field", [
    ({"dnsPolicy": "ClusterFirstt"}, "spec.dnsPolicy"),
    ({"dnsPolicy": "None"}, "spec.dnsConfig"),
    ({"dnsPolicy": "None", "dnsConfig": {"searches": ["a.example"]}}, "spec.dnsConfig.nameservers"),
    ({"dnsConfig": {"nameservers": ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"]}}, "spec.dnsConfig.nameservers"),
    ({"dnsConfig": {"nameservers": ["dns.example"]}}, "spec.dnsConfig.nameservers[0]"),
    ({"dnsConfig": {"searches": ["Bad_Domain"]}}, "spec.dnsConfig.searches[0]"),
    ({"dnsConfig": {"options": [{"value": "2"}]}}, "spec.dnsConfig.options[0]"),
    ({"hostAliases": [{"ip": "10.0.0.300", "hostnames": ["a"]}]}, "spec.hostAliases[0].ip"),
    ({"hostAliases": [{"ip": "10.0.0.3", "hostnames": []}]}, "spec.hostAliases[0].hostnames"),
    ({"hostname": "Not_A_Label"}, "spec.hostname"),
])
def test_validation_names_the_field(spec, field):
    """Is each invalid DNS setting rejected with an error naming its field path?"""
    with pytest.raises(ValidationError) as info:
        validate_pod_dns(pod(**spec), "Pod default/app")
    assert info.value.field == field and "Pod default/app" in str(info.value)


def test_valid_dns_settings_pass():
    """Are valid settings (trailing-dot search, dual IP aliases) accepted?"""
    validate_pod_dns(pod(dnsPolicy="None", dnsConfig={"nameservers": ["1.1.1.1"], "searches": ["a.example."]},
                         hostAliases=[{"ip": "2001:db8::1", "hostnames": ["v6.local"]}]), "Pod default/app")
