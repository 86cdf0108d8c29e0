"""Cluster DNS: the records CoreDNS serves, the pod's stub resolver, and the kubelet's DNS files."""
from __future__ import annotations

from .answer import DnsAnswer, Record
from .corefile import DEFAULT_COREFILE, CorefileOptions, HostsEntry, RewriteRule, default_corefile, parse_corefile
from .podfiles import hostname, hosts_file, resolv_conf, validate_pod_dns
from .records import ClusterDNS
from .resolver import ResolvConf, parse_resolv_conf, resolve
from .upstream import ForwardOutcome, RecordServer, Upstreams

__all__ = [
    "Record", "DnsAnswer",
    "CorefileOptions", "HostsEntry", "RewriteRule", "parse_corefile", "DEFAULT_COREFILE", "default_corefile",
    "ClusterDNS", "Upstreams", "RecordServer", "ForwardOutcome",
    "resolve", "ResolvConf", "parse_resolv_conf",
    "resolv_conf", "hosts_file", "hostname", "validate_pod_dns",
]
