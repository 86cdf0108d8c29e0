"""The knobs a cluster is built with: the API server's, controller manager's, kubelet's and CNI's flags."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..errors import BackendError

__all__ = ["ClusterConfig", "CNIS", "PROXY_MODES"]

CNIS = ("calico", "flannel", "weave", "cilium")
PROXY_MODES = ("iptables", "ipvs", "nftables", "ebpf")
_FAMILIES = ("IPv4", "IPv6")
MESHES = (None, "istio", "linkerd")


@dataclass(frozen=True)
class ClusterConfig:
    """Everything connect() accepts for the simulated backend, validated once."""

    nodes: int = 3
    cni: str = "calico"
    proxy_mode: str = "iptables"
    ip_families: tuple = ("IPv4",)
    pod_cidr: tuple = ("10.244.0.0/16",)               # --cluster-cidr, one per family
    service_cidr: tuple = ("10.96.0.0/12",)            # --service-cluster-ip-range, one per family
    node_cidr: str = "192.168.0.0/24"                  # where node InternalIPs come from
    node_cidr_v6: str = "fd00:192:168::/64"
    cluster_domain: str = "cluster.local"
    dns_service_ip: str | None = None                  # kubelet --cluster-dns; default: .10 of the range
    node_port_range: str = "30000-32767"
    max_endpoints_per_slice: int = 100
    node_resolv_conf: str = "nameserver 192.168.0.2\nsearch localdomain\n"
    mesh: str | None = None                            # "istio" | "linkerd": the mesh installed at connect()
    external_dns: tuple = ()                           # ((name, ((type, (values…)),…)),…) frozen form
    dns_servers: tuple = ()                            # ((ip, <external_dns form>),…): private nameservers
    load_balancer_pool: str = "172.18.255.200/29"      # the simulated cloud's external IPs
    calico_mode: str = "bgp"                           # bgp | ipip | vxlan
    pods_routable_from_outside: bool | None = None     # None: only a routed CNI (Calico BGP peering the network)
    ingress_controller: str | None = None              # "ingress-nginx" | "traefik": installed at connect()
    seed: int = 0
    gateway_controller: str | None = None              # "envoy-gateway": Envoy Gateway v1.9.0 and GatewayClass eg

    @classmethod
    def build(cls, **options) -> "ClusterConfig":
        """Normalise connect()'s keyword arguments (strings or tuples for CIDRs, dicts for DNS)."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(options) - known)
        if unknown:
            raise BackendError(f"connect(): unknown option {unknown[0]!r}; simulated options are: "
                               f"{', '.join(sorted(known))}")
        for key in ("ip_families", "pod_cidr", "service_cidr"):
            value = options.get(key)
            if isinstance(value, str):
                options[key] = (value,)
            elif value is not None:
                options[key] = tuple(value)
        families = options.get("ip_families")
        cidrs = options.get("service_cidr")
        if families is None and cidrs is not None:
            try:
                options["ip_families"] = tuple(_family(c) for c in cidrs)
            except (ValueError, TypeError) as exc:
                raise BackendError(f"connect(): service_cidr={cidrs!r}: {exc} "
                                   "(write a CIDR such as '10.96.0.0/12')") from None
        families = options.get("ip_families", cls.ip_families)
        if "pod_cidr" not in options:
            options["pod_cidr"] = tuple({"IPv4": "10.244.0.0/16", "IPv6": "fd00:10:244::/56"}[f] for f in families)
        if "service_cidr" not in options:
            options["service_cidr"] = tuple({"IPv4": "10.96.0.0/12", "IPv6": "fd00:10:96::/112"}[f] for f in families)
        external = options.get("external_dns")
        if isinstance(external, dict):
            options["external_dns"] = _frozen_records(external)
        if "dns_servers" in options:
            options["dns_servers"] = _frozen_servers(options["dns_servers"])
        config = cls(**options)
        config._check()
        return config

    def _check(self) -> None:
        if self.mesh not in MESHES:
            raise BackendError(f"connect(): mesh={self.mesh!r}; choose 'istio' or 'linkerd' (or leave it out for none)")
        if self.cni not in CNIS:
            raise BackendError(f"connect(): cni={self.cni!r} is not simulated; choose one of {', '.join(CNIS)}")
        if self.proxy_mode not in PROXY_MODES:
            raise BackendError(f"connect(): proxy_mode={self.proxy_mode!r}; choose one of {', '.join(PROXY_MODES)}")
        if not self.ip_families or any(f not in _FAMILIES for f in self.ip_families) or \
                len(set(self.ip_families)) != len(self.ip_families):
            raise BackendError(f"connect(): ip_families={self.ip_families!r}; use ('IPv4',), ('IPv6',), "
                               "('IPv4', 'IPv6') or ('IPv6', 'IPv4')")
        for name in ("pod_cidr", "service_cidr"):
            cidrs = getattr(self, name)
            try:
                fams = tuple(_family(c) for c in cidrs)
            except (ValueError, TypeError) as exc:
                raise BackendError(f"connect(): {name}={cidrs!r}: {exc}") from None
            if fams != tuple(self.ip_families):
                raise BackendError(f"connect(): {name}={cidrs!r} must give one CIDR per IP family "
                                   f"{self.ip_families!r}, in the same order")
        if not isinstance(self.nodes, int) or self.nodes < 0:
            raise BackendError(f"connect(): nodes={self.nodes!r} must be a whole number >= 0")
        if self.gateway_controller not in (None, "envoy-gateway"):
            raise BackendError(f"connect(): gateway_controller={self.gateway_controller!r}; the simulated Gateway "
                               "API controller is 'envoy-gateway' (or None for no controller)")
        if self.ingress_controller not in (None, "ingress-nginx", "traefik"):
            raise BackendError(f"connect(): ingress_controller={self.ingress_controller!r}; choose "
                               "'ingress-nginx' or 'traefik' (or leave it out for none)")
        if self.calico_mode not in ("bgp", "ipip", "vxlan"):
            raise BackendError(f"connect(): calico_mode={self.calico_mode!r}; choose bgp, ipip or vxlan")

    @property
    def primary_family(self) -> str:
        return self.ip_families[0]

    @property
    def cluster_dns(self) -> str:
        """kubelet's clusterDNS: by convention the tenth address of the service range (kubeadm)."""
        if self.dns_service_ip:
            return self.dns_service_ip
        return str(ipaddress.ip_network(self.service_cidr[0], strict=False).network_address + 10)

    @property
    def kubernetes_service_ip(self) -> str:
        """The `kubernetes` Service takes the first usable address of the primary service range."""
        return str(ipaddress.ip_network(self.service_cidr[0], strict=False).network_address + 1)

    def external_records(self) -> dict:
        return _thawed(self.external_dns)

    def private_dns_records(self) -> dict:
        """{nameserver ip: {name: {TYPE: [values]}}} of the private nameservers (connect(dns_servers=...))."""
        return {ip: _thawed(records) for ip, records in self.dns_servers}


def _frozen_records(records: dict) -> tuple:
    return tuple(sorted(
        (name.rstrip(".").lower(), tuple(sorted((t.upper(), tuple(v if isinstance(v, (list, tuple)) else [v]))
                                                for t, v in types.items())))
        for name, types in records.items()))


def _thawed(frozen: tuple) -> dict:
    return {name: {t: list(v) for t, v in recs} for name, recs in frozen}


_DNS_SERVERS_EXAMPLE = "dns_servers={'10.0.0.53': {'ledger.corp.example.internal': {'A': ['10.0.5.20']}}}"


def _frozen_servers(servers) -> tuple:
    """connect(dns_servers={ip: {name: {TYPE: [values]}}}): nameservers that answer only from their own records."""
    if isinstance(servers, tuple):
        return servers
    if not isinstance(servers, dict):
        raise BackendError(f"connect(): dns_servers={servers!r} must be a dict of nameserver IP -> records; "
                           f"write {_DNS_SERVERS_EXAMPLE}")
    out = []
    for ip, records in servers.items():
        try:
            address = str(ipaddress.ip_address(str(ip)))
        except ValueError:
            raise BackendError(f"connect(): dns_servers[{ip!r}]: {ip!r} is not an IP address; key each "
                               f"nameserver by its address, e.g. {_DNS_SERVERS_EXAMPLE}") from None
        if not isinstance(records, dict) or not all(
                isinstance(name, str) and name.strip(".") and isinstance(types, dict) and types and
                all(isinstance(t, str) for t in types) for name, types in records.items()):
            raise BackendError(f"connect(): dns_servers[{ip!r}]={records!r} must map each name to its records by "
                               f"type, the external_dns format, e.g. {_DNS_SERVERS_EXAMPLE}")
        out.append((address, _frozen_records(records)))
    return tuple(sorted(out))


def _family(cidr: str) -> str:
    return "IPv6" if ipaddress.ip_network(cidr, strict=False).version == 6 else "IPv4"
