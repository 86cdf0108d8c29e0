"""Traffic from meshed pods to hosts outside the mesh's registry: meshConfig.outboundTrafficPolicy (ALLOW_ANY passes
unknown destinations through the PassthroughCluster, REGISTRY_ONLY sends them to the BlackHoleCluster), and
ServiceEntry, which adds a host to the registry so routing, timeouts, retries, faults and DestinationRules apply.

Sources: istio.io/latest/docs/tasks/traffic-management/egress/egress-control/ ("Accessing External Services"),
/egress-tls-origination/, the ServiceEntry reference and the MeshConfig reference (OutboundTrafficPolicy).
"""
from __future__ import annotations

from dataclasses import dataclass

import yaml

from .values import fqdn, host_matches

__all__ = ["ALLOW_ANY", "REGISTRY_ONLY", "outbound_traffic_policy", "ServiceEntryTable", "EntryPort",
           "entry_targets", "outside_answer", "PLAIN_HTTP_TO_TLS_PORT", "HTTPS_ONLY_HOSTS"]

ALLOW_ANY = "ALLOW_ANY"
REGISTRY_ONLY = "REGISTRY_ONLY"
# what a web server that speaks TLS on 443 (nginx's wording) answers a plain-HTTP request
PLAIN_HTTP_TO_TLS_PORT = ("<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n"
                          "<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request was "
                          "sent to HTTPS port</center>\r\n</body>\r\n</html>\r\n")


def outbound_traffic_policy(mesh_config_text: str | None) -> tuple[str, str]:
    """meshConfig.outboundTrafficPolicy.mode from the `mesh` key of ConfigMap istio-system/istio (YAML text):
    ALLOW_ANY when unset (the default) or unreadable; the second value says where the mode came from."""
    if not mesh_config_text:
        return ALLOW_ANY, "meshConfig sets no outboundTrafficPolicy: ALLOW_ANY (the default)"
    try:
        config = yaml.safe_load(mesh_config_text) or {}
    except yaml.YAMLError:
        return ALLOW_ANY, "meshConfig is not valid YAML: istiod keeps the default ALLOW_ANY"
    mode = ((config.get("outboundTrafficPolicy") or {}) if isinstance(config, dict) else {}).get("mode")
    if mode == REGISTRY_ONLY:
        return REGISTRY_ONLY, "meshConfig outboundTrafficPolicy.mode REGISTRY_ONLY"
    return ALLOW_ANY, f"meshConfig outboundTrafficPolicy.mode {mode or 'unset'}: ALLOW_ANY"


@dataclass(frozen=True)
class EntryPort:
    """One port of a ServiceEntry host, as the client proxy has it."""

    entry: dict
    host: str                 # the host as the entry writes it ("httpbin.org")
    key: str                  # the same host as routing keys hosts (kubelab.net.mesh.values.fqdn)
    number: int
    name: str
    protocol: str
    target_port: int | None

    @property
    def ref(self) -> str:
        meta = self.entry["metadata"]
        return f"ServiceEntry {meta.get('namespace', 'default')}/{meta['name']}"

    @property
    def cluster(self) -> str:
        """Envoy's cluster name for it."""
        return f"outbound|{self.number}||{self.host}"

    @property
    def resolution(self) -> str:
        return (self.entry.get("spec") or {}).get("resolution") or "NONE"

    @property
    def location(self) -> str:
        return (self.entry.get("spec") or {}).get("location") or "MESH_EXTERNAL"


def _visible(entry: dict, client_namespace: str) -> bool:
    """exportTo: "." is the entry's own namespace, "*" every namespace, names list namespaces; unset: all."""
    export = (entry.get("spec") or {}).get("exportTo")
    if not export:
        return True
    own = entry["metadata"].get("namespace", "default")
    return any(e == "*" or (e == "." and client_namespace == own) or e == client_namespace for e in export)


class ServiceEntryTable:
    """The ServiceEntry hosts of the mesh, looked up by host (exact before wildcard, oldest entry first), port and
    the client's namespace (exportTo)."""

    def __init__(self, entries: list[dict], domain: str = "cluster.local"):
        def age(e):
            m = e["metadata"]
            return (m.get("creationTimestamp") or "", m.get("namespace", ""), m["name"])
        self.ports: list[EntryPort] = []
        for entry in sorted(entries, key=age):
            spec = entry.get("spec") or {}
            ns = entry["metadata"].get("namespace", "default")
            for host in spec.get("hosts") or []:
                for port in spec.get("ports") or []:
                    self.ports.append(EntryPort(entry, str(host).lower(), fqdn(host, ns, domain), int(port["number"]),
                                                str(port.get("name", "")), str(port.get("protocol", "TCP")).upper(),
                                                port.get("targetPort")))

    def lookup(self, key: str, port: int, client_namespace: str) -> EntryPort | None:
        """The entry port serving `key` (a host as routing keys it) on `port` for a client in the namespace."""
        for exact in (True, False):
            for p in self.ports:
                if p.number == port and (p.key == key if exact else host_matches(p.key, key)) \
                        and _visible(p.entry, client_namespace):
                    return p
        return None

    def hosts(self, key: str, client_namespace: str) -> list[EntryPort]:
        """Every visible port of the host (a route's destination may name the port or leave it to the client)."""
        return [p for p in self.ports if (p.key == key or host_matches(p.key, key))
                and _visible(p.entry, client_namespace)]


def entry_targets(port: EntryPort, resolve, original_ip: str | None) -> tuple[list[tuple[str, int]], str]:
    """The addresses the proxy sends to, by resolution: STATIC the endpoints' addresses, DNS the endpoints' names
    (or the host itself) resolved, NONE the address the application connected to. An endpoint's port is its
    ports[<port name>], else the port's targetPort, else the port number. Returns ([(ip, port)], why)."""
    spec = port.entry.get("spec") or {}
    endpoints = spec.get("endpoints") or []
    default_port = int(port.target_port or port.number)

    def endpoint_port(ep: dict) -> int:
        return int((ep.get("ports") or {}).get(port.name) or default_port)
    resolution = port.resolution
    if resolution == "STATIC":
        return ([(ep["address"], endpoint_port(ep)) for ep in endpoints if ep.get("address")],
                f"{port.ref}: resolution STATIC, the entry's endpoints")
    if resolution in ("DNS", "DNS_ROUND_ROBIN"):
        names = [(ep.get("address"), endpoint_port(ep)) for ep in endpoints if ep.get("address")] or \
            [(port.host, default_port)]
        out = []
        for name, number in names:
            ip = resolve(name)
            if ip:
                out.append((ip, number))
        return out, f"{port.ref}: resolution {resolution}, {', '.join(n for n, _ in names)} resolved by DNS"
    if original_ip:
        return [(original_ip, default_port)], f"{port.ref}: resolution NONE, the address the app connected to"
    return [], f"{port.ref}: resolution NONE and no address to pass the connection on to"


# sites of Istio's egress tasks that send plain HTTP to HTTPS (the TLS origination task's 301 from edition.cnn.com)
HTTPS_ONLY_HOSTS = ("edition.cnn.com",)


def outside_answer(host: str, port: int, tls: bool, method: str, path: str, headers: tuple, body: str = ""):
    """What a server outside the cluster answers (apps.AppAnswer): a plain-HTTP request to a TLS port (443) gets
    the web server's 400; an HTTPS-only site redirects plain HTTP (301 to https://); httpbin.org answers as
    httpbin; any other host answers 200 with an empty page, as an address outside the cluster does for lab.http."""
    from .. import apps
    if port == 443 and not tls:
        return apps.AppAnswer(400, PLAIN_HTTP_TO_TLS_PORT, (("Content-Type", "text/html"), ("Server", "nginx")),
                              app=f"{host}:{port}")
    if host in HTTPS_ONLY_HOSTS and not tls:
        return apps.AppAnswer(301, "", (("Location", f"https://{host}{path}"), ("Content-Length", "0")),
                              app=f"{host}:{port}")
    if host == "httpbin.org":
        server = {"metadata": {"name": "httpbin.org", "namespace": ""},
                  "spec": {"containers": [{"name": "httpbin", "image": "kennethreitz/httpbin"}]}}
        app, container = apps.app_for(server, port)
        answer = app.serve(server, container, apps.AppRequest(method, host, path, headers, body, "", port))
        return apps.AppAnswer(answer.status, answer.text, answer.headers, answer.delay_ms, app=f"{host}:{port}")
    return apps.AppAnswer(200, "", (), app=f"{host}:{port}")
