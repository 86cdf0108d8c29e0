"""The cluster DNS server: Kubernetes DNS-Based Service Discovery, answered the way CoreDNS does.

Spec: https://github.com/kubernetes/dns/blob/master/docs/specification.md (section numbers below).
Reference implementation: CoreDNS's kubernetes plugin (plugin/kubernetes/{parse,kubernetes,
reverse,handler}.go and plugin/backend_lookup.go). Where CoreDNS goes beyond the spec the
comment says "CoreDNS:". Behind the kubernetes plugin sit the plugins a kubeadm Corefile
chains to: hosts and rewrite before it, forward after it (to the upstreams of kubelab.net.dns.upstream;
a stub domain's server block forwards to its own).

Names are compared lower-case and without the trailing dot (spec 2.1: case-insensitive); answer
records carry the canonical lower-case owner name.
"""
from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, replace
from typing import Iterable, Mapping

from ..objects import labels_of, name_of, namespace_of, pod_ips, pod_terminating
from .answer import Record, srv_record
from .corefile import CorefileOptions, in_zone
from .upstream import _MAX_CNAME_DEPTH, RecordServer, Upstreams

__all__ = ["ClusterDNS", "DNS_SCHEMA_VERSION", "reverse_name", "address_from_reverse"]

# CoreDNS serves 1.1.0 (kubernetes.go DNSSchemaVersion); the spec text says 1.0.1.
DNS_SCHEMA_VERSION = "1.1.0"
_TXT_TTL = 28800            # CoreDNS: the dns-version record's TTL
_SERVICE_NAME_LABEL = "kubernetes.io/service-name"

NOERROR, NXDOMAIN, SERVFAIL = "NOERROR", "NXDOMAIN", "SERVFAIL"


@dataclass(frozen=True)
class _Endpoint:
    """A ready endpoint address with its DNS label and the ports of its EndpointSlice."""

    ip: str
    label: str
    ports: tuple          # ((name, protocol, port), ...); CoreDNS's (-1) sentinel when the slice has none


@dataclass(frozen=True)
class _Service:
    namespace: str
    name: str
    fqdn: str
    kind: str             # ClusterIP | Headless | ExternalName
    cluster_ips: tuple
    ports: tuple          # ((name, protocol, port), ...), lower-case names and protocols
    external_name: str | None
    endpoints: tuple


_NO_PORTS = (("", "", -1),)


def reverse_name(ip: str) -> str:
    """in-addr.arpa / ip6.arpa owner name of an address (no trailing dot)."""
    return ipaddress.ip_address(ip).reverse_pointer


def address_from_reverse(name: str) -> str | None:
    """The address a full reverse name stands for, or None (dnsutil.ExtractAddressFromReverse)."""
    if name.endswith(".in-addr.arpa"):
        parts = name[:-len(".in-addr.arpa")].split(".")
        if len(parts) != 4:
            return None
        text = ".".join(reversed(parts))
    elif name.endswith(".ip6.arpa"):
        parts = name[:-len(".ip6.arpa")].split(".")
        if len(parts) != 32 or any(len(p) != 1 for p in parts):
            return None
        nibbles = "".join(reversed(parts))
        text = ":".join(nibbles[i:i + 4] for i in range(0, 32, 4))
    else:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _family(ip: str) -> str:
    return "AAAA" if ":" in ip else "A"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _norm(name: str) -> str:
    return name.lower().rstrip(".")


class ClusterDNS:
    """An immutable snapshot of the cluster as the DNS server sees it, indexed once for O(1) lookups."""

    def __init__(self, zone: str, options: CorefileOptions, namespaces: Iterable, services: Iterable[dict],
                 endpointslices: Iterable[dict], pods: Iterable[dict],
                 upstream: Mapping[str, Mapping[str, list]] | None = None, upstreams: Upstreams | None = None):
        """``upstream``: the world's records; ``upstreams``: who the forward plugin reaches, and how (None:
        every forward reaches the world)."""
        self.zone = _norm(zone)
        self.options = options
        self.ttl = options.ttl
        zones = [_norm(z) for z in options.zones] or [self.zone, "in-addr.arpa", "ip6.arpa"]
        # plugin.Zones.Matches picks the longest zone that contains the name
        self._zones = sorted(set(zones), key=len, reverse=True)
        self._namespaces = {(n if isinstance(n, str) else name_of(n)).lower() for n in namespaces}
        self._world = upstreams.world if upstreams is not None else RecordServer(upstream)
        self._upstreams = upstreams
        self._hosts = {}
        for entry in options.hosts:
            for name in entry.names:
                self._hosts.setdefault(name, []).append(entry.ip)
        pods = list(pods)
        self._services = self._index_services(services, endpointslices)
        self._svc_ptr, self._ep_ptr = self._index_reverse()
        self._pod_ips = self._index_pods(pods)
        kube_dns = self._services.get(("kube-system", "kube-dns"))
        self._ns_ips = kube_dns.cluster_ips if kube_dns else ()

    # -- indexes --------------------------------------------------------------------------------

    def _index_services(self, services, endpointslices) -> dict:
        """Services keyed (namespace, name), each with its ready endpoint addresses from the slices."""
        slices: dict = {}
        for s in endpointslices:
            owner = labels_of(s).get(_SERVICE_NAME_LABEL)
            if owner:
                slices.setdefault((namespace_of(s).lower(), owner.lower()), []).append(s)
        out = {}
        for svc in services:
            ns, name = namespace_of(svc).lower(), name_of(svc).lower()
            spec = svc.get("spec") or {}
            fqdn = f"{name}.{ns}.svc.{self.zone}"
            kind = "ClusterIP"
            if spec.get("type") == "ExternalName":
                kind = "ExternalName"
            elif spec.get("clusterIP") == "None":
                kind = "Headless"
            ips = tuple(ip for ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]) if ip and ip != "None")
            ports = tuple(((p.get("name") or "").lower(), (p.get("protocol") or "TCP").lower(), int(p["port"]))
                          for p in spec.get("ports") or [])
            external = _norm(spec["externalName"]) if spec.get("externalName") else None
            if external and _is_ip(external):
                external = None       # CoreDNS: an IP in externalName yields no record at all
            endpoints = () if self.options.noendpoints else tuple(
                self._endpoints(slices.get((ns, name), [])))
            out[(ns, name)] = _Service(ns, name, fqdn, kind, ips if kind == "ClusterIP" else (), ports,
                                       external, endpoints)
        return out

    def _endpoints(self, slices: list) -> list:
        """Ready addresses only; a missing ready condition counts as ready (CoreDNS endpointsliceReady)."""
        eps = []
        for s in slices:
            ports = tuple(((p.get("name") or "").lower(), (p.get("protocol") or "TCP").lower(),
                           int(p["port"]) if p.get("port") is not None else -1)
                          for p in s.get("ports") or []) or _NO_PORTS
            for ep in s.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready") is False:
                    continue
                for ip in ep.get("addresses") or []:
                    eps.append(_Endpoint(ip, self._endpoint_label(ep, ip), ports))
        eps.sort(key=lambda e: (ipaddress.ip_address(e.ip).version, ipaddress.ip_address(e.ip), e.ports))
        return eps

    def _endpoint_label(self, ep: dict, ip: str) -> str:
        """Spec 2.1 hostname: the endpoint's hostname, else a system-assigned label.
        CoreDNS: the pod name with endpoint_pod_names (if < 64 chars), else the IP with dashes."""
        if ep.get("hostname"):
            return ep["hostname"].lower()
        ref = ep.get("targetRef") or {}
        if self.options.endpoint_pod_names and ref.get("name") and len(ref["name"]) < 64:
            return ref["name"].lower()
        return ip.replace(".", "-").replace(":", "-")

    def _index_reverse(self) -> tuple[dict, dict]:
        """Spec 2.3.3 PTR for ClusterIPs, 2.4.3 for headless endpoints.
        CoreDNS: endpoints of non-headless Services get PTRs too, and ip6.arpa is served alike."""
        svc_ptr: dict = {}
        ep_ptr: dict = {}
        for key in sorted(self._services):
            svc = self._services[key]
            for ip in svc.cluster_ips:
                svc_ptr.setdefault(str(ipaddress.ip_address(ip)), svc.fqdn)
            for ep in svc.endpoints:
                names = ep_ptr.setdefault(str(ipaddress.ip_address(ep.ip)), [])
                target = f"{ep.label}.{svc.fqdn}"
                if target not in names:
                    names.append(target)
        return svc_ptr, ep_ptr

    @staticmethod
    def _index_pods(pods: list) -> dict:
        """CoreDNS (pods verified): pods indexed by status.podIP; terminating pods are dropped."""
        index: dict = {}
        for p in pods:
            ips = pod_ips(p)
            if ips and not pod_terminating(p):
                index.setdefault(str(ipaddress.ip_address(ips[0])), set()).add(namespace_of(p).lower())
        return index

    # -- the server -----------------------------------------------------------------------------

    def query(self, qname: str, qtype: str) -> tuple[str, list[Record]]:
        """One query to the cluster DNS: (rcode, answer records with any CNAMEs first)."""
        rcode, records, _forwards = self.query_traced(qname, qtype)
        return rcode, records

    def query_traced(self, qname: str, qtype: str) -> tuple[str, list[Record], tuple]:
        """query() plus the ForwardOutcome of every forward the answer took (their errors are CoreDNS's log)."""
        name, qtype = _norm(qname), qtype.upper()
        rewritten = self.options.rewrite(name) if self.options.rewrites else name
        forwards: list = []
        rcode, records = self._serve(rewritten, qtype, 0, forwards)
        if rewritten != name:
            # rewrite ... answer auto: the client sees answers for the name it asked
            records = [Record(name, r.type, r.ttl, r.value, r.priority, r.weight, r.port, r.target)
                       if r.name == rewritten else r for r in records]
        return rcode, records, tuple(forwards)

    def _serve(self, name: str, qtype: str, depth: int, forwards: list | None = None) -> tuple[str, list[Record]]:
        """The plugin chain: the server block of the longest zone holding the name wins (a stub domain's
        block forwards to its own upstreams); then hosts, kubernetes, forward (plugin.cfg order)."""
        stubs = [(zone, to) for zone, to in self.options.stub_domains if in_zone(name, zone)]
        if stubs:
            zone, to = max(stubs, key=lambda s: len(s[0]))
            return self._forward(name, qtype, to, forwards, logged=zone not in self.options.quiet_zones)
        if self._hosts:
            answered = self._hosts_plugin(name, qtype)
            if answered is not None:
                return answered
        zone = next((z for z in self._zones if in_zone(name, z)), None)
        if zone is not None:
            rcode, records = self._kubernetes(name, qtype, zone, depth, forwards)
            if not (rcode == NXDOMAIN and self.options.falls_through(name)):
                return rcode, records
        if self.options.forwards(name):
            return self._forward(name, qtype, self.options.forward, forwards, logged=self.options.errors)
        return SERVFAIL, []     # plugin.NextOrFailure with no next plugin

    def _hosts_plugin(self, name: str, qtype: str) -> tuple[str, list[Record]] | None:
        """CoreDNS hosts: answer names it lists; otherwise fall through (or SERVFAIL without fallthrough)."""
        if qtype == "PTR":
            ip = address_from_reverse(name)
            names = sorted(n for n, ips in self._hosts.items() if ip and ip in
                           {str(ipaddress.ip_address(i)) for i in ips})
            if names:
                return NOERROR, [Record(name, "PTR", self.options.hosts_ttl, n) for n in names]
            return None
        ips = self._hosts.get(name)
        if ips:
            family = qtype if qtype in ("A", "AAAA") else None
            return NOERROR, [Record(name, family, self.options.hosts_ttl, ip) for ip in ips
                             if _family(ip) == family]
        if self.options.hosts_falls_through(name):
            return None
        return SERVFAIL, []

    def authority(self, qname: str) -> Record | None:
        """The SOA CoreDNS puts in the authority section of a negative answer (NXDOMAIN or NODATA) for a name
        in one of its zones (RFC 2308 negative caching); None for names it does not serve."""
        name = _norm(qname)
        zone = next((z for z in self._zones if in_zone(name, z)), None)
        return self._soa(zone) if zone is not None else None

    def query_upstream(self, qname: str, qtype: str) -> tuple[str, list[Record]]:
        """What the world outside answers (the nameserver a dnsPolicy Default pod inherits from its node)."""
        return self._world.query(qname, qtype)

    def _forward(self, name: str, qtype: str, to: tuple | None, forwards: list | None,
                 logged: bool = True) -> tuple[str, list[Record]]:
        """The forward plugin asks its TO upstreams (stub domains their own); without an Upstreams, the world.
        ``logged``: the server block has the errors plugin, which logs a failed forward."""
        if self._upstreams is None or not to:
            return self._world.query(name, qtype)
        outcome = self._upstreams.forward(to, name, qtype)
        if forwards is not None:
            forwards.append(outcome if logged else replace(outcome, logged=False))
        return outcome.rcode, list(outcome.records)

    # -- the kubernetes plugin ------------------------------------------------------------------

    def _kubernetes(self, name: str, qtype: str, zone: str, depth: int,
                    forwards: list | None = None) -> tuple[str, list[Record]]:
        """handler.go ServeDNS: per qtype, NXDOMAIN when the name does not exist, else NODATA/records."""
        if qtype == "TXT":
            # CoreDNS: only dns-version.<zone> has a TXT record; every other TXT query is NODATA
            if name == "dns-version." + zone:
                return NOERROR, [Record(name, "TXT", _TXT_TTL, DNS_SCHEMA_VERSION)]
            return NOERROR, []
        if name == zone and qtype == "SOA":
            return NOERROR, [self._soa(zone)]
        if name == zone and qtype == "NS":
            return NOERROR, [Record(zone, "NS", self.ttl, f"ns.dns.{zone}")]
        if name == "ns.dns." + zone:
            # CoreDNS: the nameserver's own name resolves to the kube-dns Service addresses
            return NOERROR, [Record(name, qtype, self.ttl, ip) for ip in self._ns_ips if _family(ip) == qtype]
        if zone.endswith("arpa"):
            return self._reverse(name, qtype)
        found, items = self._lookup(name, zone)
        if not found:
            return NXDOMAIN, []
        if qtype in ("A", "AAAA"):
            return NOERROR, self._addresses(name, qtype, items, zone, depth, forwards)
        if qtype == "SRV":
            return NOERROR, self._srv(name, items)
        if qtype == "CNAME":
            # plugin.CNAME: the first match, if it is a name (only ExternalName Services are)
            if items and items[0][1] is None:
                return NOERROR, [Record(name, "CNAME", self.ttl, items[0][0])]
        return NOERROR, []

    def _soa(self, zone: str) -> Record:
        # CoreDNS backend_lookup SOA: ns.dns.<zone> hostmaster.<zone>, serial, 7200 1800 86400, minttl
        return Record(zone, "SOA", min(self.ttl, 300),
                      f"ns.dns.{zone} hostmaster.{zone} 1 7200 1800 86400 {self.ttl}")

    def _reverse(self, name: str, qtype: str) -> tuple[str, list[Record]]:
        """reverse.go: a ClusterIP first, else every ready endpoint with that address."""
        ip = address_from_reverse(name)
        if ip is None or qtype != "PTR":
            # not a full address: parseRequest rejects it (the zone apex itself exists)
            return (NOERROR, []) if name in self._zones else (NXDOMAIN, [])
        svc = self._svc_ptr.get(ip)
        targets = [svc] if svc else self._ep_ptr.get(ip, [])
        if self.options.namespaces:
            targets = [t for t in targets if t.split(".")[-3 - self.zone.count(".")] in self.options.namespaces]
        if not targets:
            return NXDOMAIN, []
        return NOERROR, [Record(name, "PTR", self.ttl, t) for t in targets]

    def _lookup(self, name: str, zone: str) -> tuple[bool, list]:
        """parse.go parseRequest then findServices/findPods: (name exists, [(host, port, owner)])."""
        base = name[:-len(zone) - 1] if name != zone else ""
        if base in ("", "svc", "pod"):
            return True, []                                   # apex names: NODATA
        segs = base.split(".")
        kind = segs[-1]
        if kind not in ("svc", "pod"):
            return False, []
        ns = segs[-2]
        service = segs[-3] if len(segs) >= 3 else ""
        rest = segs[:-3]
        port = proto = endpoint = ""
        if len(rest) == 1:
            endpoint = rest[0]
        elif len(rest) == 2:
            # CoreDNS: the two leading labels are port and protocol, underscores optional
            port, proto = rest[0].removeprefix("_"), rest[1].removeprefix("_")
        elif len(rest) > 2:
            return False, []
        if not self._namespace_exposed(ns):
            return False, []
        if kind == "pod":
            return self._find_pod(service, ns, name)
        if service == "":
            return True, []                                   # <ns>.svc.<zone>: NODATA (CoreDNS)
        return self._find_services(ns, service, port, proto, endpoint)

    def _namespace_exposed(self, ns: str) -> bool:
        """CoreDNS namespaceExposed: the namespace exists and is in the ``namespaces`` list, if any."""
        return ns in self._namespaces and (not self.options.namespaces or ns in self.options.namespaces)

    def _find_pod(self, label: str, ns: str, name: str) -> tuple[bool, list]:
        """Spec 2.6 (deprecated, still required): a-b-c-d.<ns>.pod.<zone> A a.b.c.d.
        CoreDNS: honoured only with ``pods insecure`` (any address) or ``pods verified``."""
        mode = self.options.pods
        if mode == "disabled":
            return False, []
        if label == "":
            return True, []
        if label.count("-") == 3 and "--" not in label:
            text = label.replace("-", ".")
        else:
            text = label.replace("-", ":")
        try:
            ip = str(ipaddress.ip_address(text))
        except ValueError:
            return False, []
        if mode == "verified" and ns not in self._pod_ips.get(ip, ()):
            return False, []
        return True, [(ip, 0, name)]

    def _find_services(self, ns: str, service: str, port: str, proto: str, endpoint: str) -> tuple[bool, list]:
        """kubernetes.go findServices: the items behind <svc>.<ns>.svc, filtered by port/protocol/endpoint."""
        svc = self._services.get((ns, service))
        if svc is None:
            return False, []
        if self.options.ignore_empty_service and svc.kind == "ClusterIP" and not svc.endpoints:
            return False, []
        if svc.kind == "ExternalName":
            # Spec 2.5: a CNAME; names below it (endpoint, _port._proto) do not exist
            if endpoint or port or proto or not svc.external_name:
                return False, []
            return True, [(svc.external_name, None, svc.fqdn)]   # port None: a name, not an address
        if svc.kind == "Headless" or endpoint:
            # Spec 2.4: one item per ready endpoint (and port). CoreDNS: <hostname>.<svc> also
            # resolves for endpoints of ClusterIP Services, and the SRV port is the EndpointSlice's
            # (the resolved targetPort) where the spec says the Service port.
            items = [(ep.ip, num, f"{ep.label}.{svc.fqdn}")
                     for ep in svc.endpoints if not endpoint or ep.label == endpoint
                     for (pname, pproto, num) in ep.ports
                     if (not port or port == pname) and (not proto or proto == pproto)]
            return bool(items), items
        matched = [num for (pname, pproto, num) in svc.ports
                   if (not port or port == pname) and (not proto or proto == pproto)]
        return bool(matched), [(ip, num, svc.fqdn) for num in matched for ip in svc.cluster_ips]

    def _addresses(self, name: str, qtype: str, items: list, zone: str, depth: int,
                   forwards: list | None = None) -> list[Record]:
        """plugin.A/AAAA: addresses of the queried family (deduplicated); CNAMEs are chased."""
        records, seen = [], set()
        for host, port, _owner in items:
            if port is not None:
                if _family(host) == qtype and host not in seen:
                    seen.add(host)
                    records.append(Record(name, qtype, self.ttl, host))
                continue
            if host == name or depth >= _MAX_CNAME_DEPTH:
                continue
            cname = Record(name, "CNAME", self.ttl, host)
            if in_zone(host, zone):
                rcode, rest = self._kubernetes(host, qtype, zone, depth + 1, forwards)
                if rest:
                    records += [cname] + rest
            else:
                # the Upstream lookup goes through this server again (and so to forward)
                _rcode, rest = self._serve(host, qtype, depth + 1, forwards)
                records += [cname] + rest
        return records

    def _srv(self, name: str, items: list) -> list[Record]:
        """plugin.SRV: target = the item's owner name; one record per (target, port); port -1 skipped.
        CoreDNS: priority 0 and weight 100/n (the spec does not prescribe them)."""
        items = [i for i in items if i[1] is not None]     # SRV for ExternalName is not implemented
        if not items:
            return []
        weight = max(1, math.floor(100.0 / len(items)))
        records, seen = [], set()
        for _host, port, owner in items:
            if port == -1 or (owner, port) in seen:
                continue
            seen.add((owner, port))
            records.append(srv_record(name, self.ttl, 0, weight, port, owner))
        return records
