"""The DNS files the kubelet gives a pod: /etc/resolv.conf, /etc/hosts and its hostname.

Sources: pkg/kubelet/network/dns/dns.go (GetPodDNS and friends), pkg/kubelet/kubelet_pods.go
(managedHostsFileContent, GeneratePodHostNameAndDomain), pkg/kubelet/util (GetNodenameForKernel),
containerd's CRI sandbox code (the resolv.conf line order) and the Pod API validation
(pkg/apis/core/validation: validatePodDNSConfig, validateHostAliases).
"""
from __future__ import annotations

import ipaddress
import re

from ...errors import ValidationError
from ..objects import name_of, namespace_of, pod_host_network, pod_ips, pod_node

__all__ = ["resolv_conf", "hosts_file", "hostname", "validate_pod_dns", "DNS_POLICIES"]

DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
DEFAULT_DNS_OPTIONS = ("ndots:5",)      # dns.go defaultDNSOptions
MAX_NAMESERVERS = 3                     # validation.MaxDNSNameservers
MAX_SEARCH_PATHS = 32                   # MaxDNSSearchPaths (ExpandedDNSConfig, GA in 1.28)
MAX_SEARCH_CHARS = 2048                 # MaxDNSSearchListChars
MAX_SUBDOMAIN = 253                     # DNS1123SubdomainMaxLength
HOSTNAME_MAX = 63                       # truncatePodHostnameIfNeeded
FQDN_MAX = 64                           # GetNodenameForKernel: the kernel's nodename field

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

_HEADER = "# Kubernetes-managed hosts file.\n"
_HEADER_HOST_NETWORK = "# Kubernetes-managed hosts file (host network).\n"


def _spec(pod: dict) -> dict:
    return pod.get("spec") or {}


def _dedup(items) -> list:
    """dns.go omitDuplicates: keep the first of each, in order."""
    return list(dict.fromkeys(items))


def _parse_node_resolv_conf(text: str) -> tuple[list, list, list]:
    """dns.go parseResolvConf: nameservers accumulate, the last search and options lines win."""
    servers, searches, options = [], [], []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) >= 2:
            servers.append(fields[1])
        elif fields[0] == "search":
            searches = [s.removesuffix(".") for s in fields[1:]]
        elif fields[0] == "options":
            options = fields[1:]
    return servers, searches, options


def _dns_type(pod: dict) -> str:
    """getPodDNSType: ClusterFirst on the host network falls back to Default."""
    policy = _spec(pod).get("dnsPolicy") or "ClusterFirst"
    if policy == "None":
        return "none"
    if policy == "ClusterFirstWithHostNet":
        return "cluster"
    if policy == "ClusterFirst":
        return "host" if pod_host_network(pod) else "cluster"
    if policy == "Default":
        return "host"
    return "cluster"        # an invalid policy: the kubelet logs it and uses ClusterFirst


def _merge_options(existing: list, extra: list) -> list:
    """mergeDNSOptions: options by name, dnsConfig wins; kept in first-seen order (Go uses a map)."""
    merged: dict = {}
    for op in existing:
        name, _, value = op.partition(":")
        merged[name] = value
    for op in extra:
        merged[op.get("name", "")] = "" if op.get("value") is None else str(op["value"])
    return [f"{k}:{v}" if v else k for k, v in merged.items()]


def _fit_searches(searches: list) -> list:
    """formDNSSearchFitsLimits: at most 32 paths, none over 253 chars, at most 2048 chars in all."""
    searches = [s for s in searches[:MAX_SEARCH_PATHS] if len(s) <= MAX_SUBDOMAIN]
    while searches and len(" ".join(searches)) > MAX_SEARCH_CHARS:
        searches.pop()
    return searches


def resolv_conf(pod: dict, cluster_dns: list[str], zone: str, node_resolv_conf: str) -> str:
    """GetPodDNS for the pod's dnsPolicy and dnsConfig, written as containerd writes it
    (search, nameserver, options lines)."""
    servers, searches, options = _parse_node_resolv_conf(node_resolv_conf)
    kind = _dns_type(pod)
    if kind == "cluster" and not cluster_dns:
        kind = "host"       # kubelet without --cluster-dns: "Falling back to Default policy"
    if kind == "none":
        servers, searches, options = [], [], []
    elif kind == "cluster":
        # Only the cluster DNS; <ns>.svc.<zone> svc.<zone> <zone> before the node's search list.
        servers = list(cluster_dns)
        ns = namespace_of(pod) or "default"
        searches = _dedup([f"{ns}.svc.{zone}", f"svc.{zone}", zone] + searches)
        options = list(DEFAULT_DNS_OPTIONS)
    config = _spec(pod).get("dnsConfig")
    if config:
        servers = _dedup(servers + list(config.get("nameservers") or []))
        searches = _dedup(searches + list(config.get("searches") or []))
        options = _merge_options(options, config.get("options") or [])
    servers = servers[:MAX_NAMESERVERS]
    searches = _fit_searches(searches)
    lines = []
    if searches:
        lines.append("search " + " ".join(searches))
    lines += [f"nameserver {s}" for s in servers]
    if options:
        lines.append("options " + " ".join(options))
    return "\n".join(lines) + ("\n" if lines else "")


def _host_and_domain(pod: dict, zone: str) -> tuple[str, str]:
    """GeneratePodHostNameAndDomain: spec.hostname or the pod name (cut to 63 chars, no trailing
    '-' or '.'); the domain is <subdomain>.<ns>.svc.<zone> when spec.subdomain is set."""
    spec = _spec(pod)
    host = spec.get("hostname") or name_of(pod)
    if len(host) > HOSTNAME_MAX:
        host = host[:HOSTNAME_MAX].rstrip("-.")
    sub = spec.get("subdomain")
    domain = f"{sub}.{namespace_of(pod)}.svc.{zone}" if sub else ""
    return host, domain


def hostname(pod: dict, zone: str, fqdn: bool = False) -> str | None:
    """What ``hostname`` prints in the pod (fqdn=False) or ``hostname --fqdn`` (fqdn=True, None
    without a subdomain). setHostnameAsFQDN makes the kernel hostname the FQDN (GetNodenameForKernel);
    host-network pods share the node's UTS namespace, so they print the node's name."""
    if pod_host_network(pod) and not fqdn:
        return pod_node(pod)
    host, domain = _host_and_domain(pod, zone)
    full = f"{host}.{domain}" if domain else None
    if fqdn:
        return full
    if full and _spec(pod).get("setHostnameAsFQDN"):
        if len(full) > FQDN_MAX:
            raise ValidationError(_ref(pod), "spec.setHostnameAsFQDN",
                                  f"FQDN {full} is too long ({len(full)} characters, {FQDN_MAX} is the max)",
                                  "shorten spec.hostname or spec.subdomain, or unset setHostnameAsFQDN")
        return full
    return host


def hosts_file(pod: dict, zone: str, node_hosts: str | None = None) -> str:
    """managedHostsFileContent: localhost lines, each pod IP with its hostname (FQDN first when
    spec.subdomain is set), then one line per hostAlias. Host-network pods get the node's own
    /etc/hosts under a header instead (``node_hosts``; kubelab does not know it unless given)."""
    aliases = _spec(pod).get("hostAliases") or []
    alias_text = ""
    if aliases:
        alias_text = "\n# Entries added by HostAliases.\n" + "".join(
            f"{a.get('ip')}\t" + "\t".join(a.get("hostnames") or []) + "\n" for a in aliases)
    if pod_host_network(pod):
        body = node_hosts if node_hosts is not None else "# (the node's /etc/hosts, not modelled by kubelab)\n"
        return _HEADER_HOST_NETWORK + body + alias_text
    host, domain = _host_and_domain(pod, zone)
    lines = [_HEADER,
             "127.0.0.1\tlocalhost\n",
             "::1\tlocalhost ip6-localhost ip6-loopback\n",
             "fe00::0\tip6-localnet\n",
             "fe00::0\tip6-mcastprefix\n",
             "fe00::1\tip6-allnodes\n",
             "fe00::2\tip6-allrouters\n"]
    for ip in pod_ips(pod):
        lines.append(f"{ip}\t{host}.{domain}\t{host}\n" if domain else f"{ip}\t{host}\n")
    return "".join(lines) + alias_text


def _ref(pod: dict) -> str:
    return f"Pod {namespace_of(pod)}/{name_of(pod)}"


def _valid_ip(text) -> bool:
    try:
        ipaddress.ip_address(str(text))
    except ValueError:
        return False
    return True


def validate_pod_dns(pod: dict, obj_ref: str) -> None:
    """Pod API validation of the DNS fields: dnsPolicy values, dnsConfig limits (None needs a
    nameserver), hostname/subdomain labels, hostAliases IPs and hostnames."""
    spec = _spec(pod)
    policy = spec.get("dnsPolicy")
    if policy is not None and policy not in DNS_POLICIES:
        raise ValidationError(obj_ref, "spec.dnsPolicy", f"Unsupported value: {policy!r}",
                              "use one of " + ", ".join(DNS_POLICIES))
    for field in ("hostname", "subdomain"):
        value = spec.get(field)
        if value and (len(value) > 63 or not _LABEL.match(value)):
            raise ValidationError(obj_ref, f"spec.{field}", f"Invalid value: {value!r}: must be a DNS-1123 label",
                                  "lower-case letters, digits and '-', at most 63 characters")
    config = spec.get("dnsConfig")
    if policy == "None":
        if not config:
            raise ValidationError(obj_ref, "spec.dnsConfig", "Required value: must provide `dnsConfig` when `dnsPolicy` is None",
                                  "add spec.dnsConfig.nameservers")
        if not config.get("nameservers"):
            raise ValidationError(obj_ref, "spec.dnsConfig.nameservers",
                                  "Required value: must provide at least one DNS nameserver when `dnsPolicy` is None",
                                  "list up to 3 nameserver IPs")
    if config:
        _validate_dns_config(config, obj_ref)
    for i, alias in enumerate(spec.get("hostAliases") or []):
        where = f"spec.hostAliases[{i}]"
        if not _valid_ip(alias.get("ip")):
            raise ValidationError(obj_ref, f"{where}.ip", f"Invalid value: {alias.get('ip')!r}: must be a valid IP address",
                                  "e.g. 10.1.2.3 or 2001:db8::1")
        names = alias.get("hostnames") or []
        if not names:
            raise ValidationError(obj_ref, f"{where}.hostnames", "Required value: at least one hostname",
                                  "list the names this IP should answer to")
        for j, name in enumerate(names):
            if not name or len(name) > MAX_SUBDOMAIN or not _SUBDOMAIN.match(name):
                raise ValidationError(obj_ref, f"{where}.hostnames[{j}]",
                                      f"Invalid value: {name!r}: must be a DNS-1123 subdomain",
                                      "lower-case letters, digits, '-' and '.'")


def _validate_dns_config(config: dict, obj_ref: str) -> None:
    """validatePodDNSConfig: ≤3 IP nameservers, ≤32 searches of DNS subdomains in ≤2048 chars, named options."""
    servers = config.get("nameservers") or []
    if len(servers) > MAX_NAMESERVERS:
        raise ValidationError(obj_ref, "spec.dnsConfig.nameservers",
                              f"Invalid value: must not have more than {MAX_NAMESERVERS} nameservers",
                              "keep at most 3")
    for i, ns in enumerate(servers):
        if not _valid_ip(ns):
            raise ValidationError(obj_ref, f"spec.dnsConfig.nameservers[{i}]",
                                  f"Invalid value: {ns!r}: must be a valid IP address")
    searches = config.get("searches") or []
    if len(searches) > MAX_SEARCH_PATHS:
        raise ValidationError(obj_ref, "spec.dnsConfig.searches",
                              f"Invalid value: must not have more than {MAX_SEARCH_PATHS} search paths")
    if len(" ".join(searches)) > MAX_SEARCH_CHARS:
        raise ValidationError(obj_ref, "spec.dnsConfig.searches",
                              f"Invalid value: must not have more than {MAX_SEARCH_CHARS} characters "
                              "(including spaces) in the search list")
    for i, search in enumerate(searches):
        s = search.removesuffix(".")       # a trailing dot is fine
        if not s or len(s) > MAX_SUBDOMAIN or not _SUBDOMAIN.match(s):
            raise ValidationError(obj_ref, f"spec.dnsConfig.searches[{i}]",
                                  f"Invalid value: {search!r}: must be a DNS-1123 subdomain")
    for i, option in enumerate(config.get("options") or []):
        if not option.get("name"):
            raise ValidationError(obj_ref, f"spec.dnsConfig.options[{i}]", "Required value: must not be empty",
                                  "give the option a name, e.g. ndots")
