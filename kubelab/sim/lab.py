"""SimulatedLab: the Lab contract answered by the engine in kubelab.net over a simulated cluster."""
from __future__ import annotations

import ipaddress
import threading

from ..api import kinds
from ..errors import ProbeError
from ..lab import Lab
from ..net.labels import parse_selector_string
from ..net.objects import json_copy, key_of, labels_of, name_of, namespace_of, pod_host_network, pod_ips
from ..results import Response
from . import gateway as _gateway   # plugs Gateway API admission, the controller and edges into the cluster
from . import ingress as _ingress   # plugs Ingress admission, controllers and edges into the cluster
from .cluster import Cluster, cyclic_gc_paused
from .config import ClusterConfig
from .probe import OUTSIDE_CLIENT_IP, Prober
from . import mesh as _mesh   # registers the mesh kinds, admission and data path

__all__ = ["SimulatedLab"]


class SimulatedLab(Lab):
    """A whole cluster in memory: deterministic for a given seed, instant, and inspectable."""

    backend = "simulated"

    def __init__(self, **options):
        self.config = ClusterConfig.build(**options)
        self.cluster = Cluster(self.config)
        self._views_generation = -1
        self._views: dict = {}
        self._picker = None
        self.mesh_clock_ms = 0.0        # simulated time the mesh's proxies see (requests' delays, lab.advance)
        self.prober = Prober(self)
        self.lock = threading.RLock()   # writes from the notebook and from a served API (lab.serve()) take turns
        _ingress.install(self)
        _gateway.install(self)
        if self.config.mesh:
            _mesh.install(self)

    def __getstate__(self) -> dict:
        """A copied lab (copy.deepcopy, pickle) is a fork of the cluster: its own lock, no running API server."""
        state = self.__dict__.copy()
        state.pop("lock", None)
        state.pop("api_server", None)
        state.pop("prober", None)       # it holds its lab weakly: the copy gets its own
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.lock = threading.RLock()
        self.prober = Prober(self)

    def __repr__(self) -> str:
        c = self.config
        system = len(self.cluster.items("Pod", "kube-system"))
        return (f"<kubelab simulated lab: {self.cluster.store.count('Node')} nodes, {c.cni}, kube-proxy "
                f"{c.proxy_mode}, {'/'.join(c.ip_families)}, {self.cluster.store.count('Pod') - system} pods "
                f"(+{system} in kube-system)>")

    # ------------------------------------------------------------ objects
    def apply(self, manifests):
        """Create or update objects from YAML text, dicts or lists; all-or-nothing."""
        from ..api.manifests import require_objects

        require_objects(manifests)
        with self.lock:
            return self.cluster.apply(manifests)

    def delete(self, kind: str, name: str, namespace: str = "default", grace_period: int | None = None) -> str:
        """Delete an object. A pod is terminating for its terminationGracePeriodSeconds (default 30) of
        simulated time (`lab.advance`), as `kubectl delete --wait=false`; grace_period=0 removes it at once."""
        with self.lock:
            return self.cluster.delete(kind, name, namespace, grace_period)

    def get(self, kind: str, name: str, namespace: str = "default") -> dict:
        """A deep copy of the object in Kubernetes JSON shape (edit it freely, then apply it)."""
        return json_copy(self.cluster.get(kind, name, namespace))

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        """Objects of a kind (all namespaces when namespace is None), filtered by a label selector string."""
        k = kinds.lookup(kind)
        sel = parse_selector_string(selector)
        with cyclic_gc_paused():    # copies of a large cluster's objects, made in one go
            return [json_copy(o) for o in self.cluster.items(k.kind, namespace if k.namespaced else None)
                    if sel.matches(labels_of(o))]

    # ------------------------------------------------------------ derived views (rebuilt when state changes)
    def _view(self, name: str, build):
        if self._views_generation != self.cluster.store.generation:
            self._views = {}
            self._views_generation = self.cluster.store.generation
        if name not in self._views:
            self._views[name] = build()
        return self._views[name]

    def _ip_index(self) -> dict:
        def build():
            pods, nodes, cluster_ips, lb_ips, ext_ips, node_ports = {}, {}, {}, {}, {}, {}
            for pod in self.cluster.items("Pod"):
                if not pod_host_network(pod):
                    for ip in pod_ips(pod):
                        pods[ip] = pod
            for node in self.cluster.items("Node"):
                for a in node["status"].get("addresses", []):
                    if a.get("type") in ("InternalIP", "ExternalIP"):
                        nodes[a["address"]] = node
            for svc in self.cluster.items("Service"):
                spec = svc["spec"]
                for ip in spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else []):
                    if ip and ip != "None":
                        cluster_ips[ip] = svc
                for ing in (svc.get("status", {}).get("loadBalancer") or {}).get("ingress") or []:
                    if ing.get("ip"):
                        lb_ips[ing["ip"]] = svc
                for ip in spec.get("externalIPs") or []:
                    for p in spec.get("ports", []):
                        ext_ips[(ip, p["port"], p["protocol"])] = svc
                for p in spec.get("ports", []):
                    if p.get("nodePort"):
                        node_ports[(p["nodePort"], p["protocol"])] = svc
            return {"pods": pods, "nodes": nodes, "cluster_ips": cluster_ips, "lb_ips": lb_ips,
                    "ext_ips": ext_ips, "node_ports": node_ports}
        return self._view("ips", build)

    def pod_by_ip(self, ip: str):
        return self._ip_index()["pods"].get(_norm_ip(ip))

    def node_by_ip(self, ip: str):
        return self._ip_index()["nodes"].get(_norm_ip(ip))

    def service_by_cluster_ip(self, ip: str):
        return self._ip_index()["cluster_ips"].get(_norm_ip(ip))

    def service_by_lb_ip(self, ip: str):
        return self._ip_index()["lb_ips"].get(_norm_ip(ip))

    def service_by_external_ip(self, ip: str, port: int, protocol: str):
        return self._ip_index()["ext_ips"].get((_norm_ip(ip), port, protocol))

    def service_by_node_port(self, port: int, protocol: str):
        return self._ip_index()["node_ports"].get((port, protocol))

    def slices_of(self, service: dict) -> list[dict]:
        name = name_of(service)
        return [s for s in self.cluster.items("EndpointSlice", namespace_of(service))
                if labels_of(s).get("kubernetes.io/service-name") == name]

    def pod_cidr_of(self, node_name: str | None, family: str = "IPv4") -> str | None:
        """The node's podCIDR of that IP family."""
        node = self.cluster.find("Node", node_name) if node_name else None
        if node is None:
            return None
        cidrs = node["spec"].get("podCIDRs") or [node["spec"].get("podCIDR")]
        return next((c for c in cidrs if c and (":" in c) == (family == "IPv6")), None)

    # ------------------------------------------------------------ kube-proxy
    def pick_endpoint(self, service: dict, service_port: dict, endpoints: tuple, client_ip: str) -> str:
        """One endpoint for a new connection, as the proxy mode picks it (seeded, so reproducible)."""
        import random

        from ..net import kubeproxy

        if self._picker is None:
            self._picker = kubeproxy.EndpointPicker(self.config.proxy_mode, random.Random(self.config.seed))
        key = kubeproxy.service_port_name(service, service_port)
        return self._picker.pick(key, tuple(endpoints), client_ip=client_ip,
                                 affinity_timeout=kubeproxy.affinity_timeout(service))

    def advance(self, seconds: int) -> list[str]:
        """Let simulated time pass: terminating pods whose grace period ends are removed (their keys are
        returned) and session-affinity entries idle longer than timeoutSeconds expire."""
        with self.lock:
            gone = self.cluster.advance(seconds)
        if self._picker is not None:
            self._picker.advance(seconds)
        # the mesh's proxies keep time too (outlier ejections expire)
        self.mesh_clock_ms += seconds * 1000
        return gone

    def advance_time(self, seconds: int) -> None:
        """Let simulated time pass (the older name of `advance`)."""
        self.advance(seconds)

    def load_balancer_nodes(self, service: dict) -> list[str]:
        """The nodes the cloud load balancer sends new connections to: with externalTrafficPolicy Local only
        those whose healthCheckNodePort answers 200 (local endpoints), else every node."""
        from ..net import kubeproxy

        nodes = [name_of(n) for n in self.cluster.items("Node")]
        if kubeproxy.external_policy_local(service):
            return [n for n in nodes if kubeproxy.health_check(service, self.slices_of(service), n)[0] == 200]
        return nodes

    def iptables_save(self, node: str) -> str:
        """`iptables-save` of kube-proxy's filter and nat tables on `node`, as the proxy mode programs them:
        the KUBE-SVC/KUBE-SEP chains in iptables mode, the ipset-matching rules in IPVS mode, and no
        kube-proxy chains at all in nftables mode (its rules live in `nft_list_ruleset`)."""
        from ..net.iptables import iptables_save
        from ..net.ipvs import ipvs_iptables_save

        self.prober.node(node)
        args = (node, self.cluster.items("Service"), self.cluster.items("EndpointSlice"), self.cluster.items("Node"))
        mode = self.config.proxy_mode
        if mode == "iptables":
            return iptables_save(*args, cluster_cidr=",".join(self.config.pod_cidr))
        if mode == "ipvs":
            return ipvs_iptables_save(*args, cluster_cidr=",".join(self.config.pod_cidr))
        return "*filter\nCOMMIT\n*nat\nCOMMIT\n"

    def ipvsadm(self, node: str) -> str:
        """`ipvsadm -Ln` on `node`: the virtual servers kube-proxy programs in IPVS mode (none in other modes)."""
        from ..net.ipvs import ipvsadm

        self.prober.node(node)
        services = self.cluster.items("Service") if self.config.proxy_mode == "ipvs" else []
        return ipvsadm(node, services, self.cluster.items("EndpointSlice"), self.cluster.items("Node"))

    def ipset_list(self, node: str) -> str:
        """`ipset list` on `node`: the sets kube-proxy's IPVS mode matches in iptables (empty in other modes)."""
        from ..net.ipvs import ipset_list

        self.prober.node(node)
        if self.config.proxy_mode != "ipvs":
            return ""
        return ipset_list(node, self.cluster.items("Service"), self.cluster.items("EndpointSlice"),
                          self.cluster.items("Node"))

    def nft_list_ruleset(self, node: str) -> str:
        """`nft list ruleset` on `node`: kube-proxy's `table ip kube-proxy` (and `ip6` when dual-stack) in
        nftables mode; kube-proxy writes no nftables table in the other modes, so the text is empty."""
        from ..net.nftables import nft_list_ruleset

        self.prober.node(node)
        if self.config.proxy_mode != "nftables":
            return ""
        return nft_list_ruleset(node, self.cluster.items("Service"), self.cluster.items("EndpointSlice"),
                                self.cluster.items("Node"), cluster_cidr=",".join(self.config.pod_cidr),
                                service_cidr=",".join(self.config.service_cidr), families=self.config.ip_families)

    # ------------------------------------------------------------ NetworkPolicy
    def policy_engine(self):
        from ..net.netpol import PolicyEngine
        return self._view("netpol", lambda: PolicyEngine(self.cluster.items("Namespace"),
                                                         self.cluster.items("NetworkPolicy"),
                                                         nodes=self.cluster.items("Node")))

    def reachability(self, pods=None, port: int = 80, protocol: str = "TCP", externals=()):
        """Who can connect to whom on port/protocol: a matrix over pods (all outside kube-system by default)
        and any external IPs given, printed as a truth table and drawn by `.heatmap()`.

        A cell is allowed when NetworkPolicy allows it and the destination pod listens on the port."""
        import numpy as np

        from ..results import Reachability
        from .probe import _listens

        from .probe_args import check_pod_list, check_port, check_protocol

        protocol, port, pods = check_protocol(protocol), check_port(port), check_pod_list(pods)
        if pods is None:
            chosen = [p for p in self.cluster.items("Pod") if namespace_of(p) != "kube-system" and pod_ips(p)]
        else:
            chosen = [self.prober.pod(ref, "pods") for ref in pods]
        names = [key_of(p) for p in chosen]
        enforced = cni_enforces(self.config) and self.cluster.items("NetworkPolicy")
        engine = self.policy_engine() if enforced else None
        n, externals = len(chosen), list(externals)
        listens = [_listens(p, port, protocol) for p in chosen]
        listening = np.array([ok and _phase(p) == "Running" for (ok, _), p in zip(listens, chosen)], bool)
        # kept as numpy bool matrices end to end: cells become Python objects only when read
        allowed = np.ones((n + len(externals), n + len(externals)), bool)
        if engine is not None:
            allowed[:n, :n] = engine.allowed_array(chosen, chosen, port, protocol)
        for k, ip in enumerate(externals, start=n):
            allowed[k, :n] = [engine is None or bool(engine.decide(ip, p, port, protocol)) for p in chosen]
            allowed[:n, k] = [engine is None or bool(engine.decide(p, ip, port, protocol)) for p in chosen]
        allowed[:, :n] &= listening
        cells = allowed
        if externals:
            cells = allowed.astype(object)
            cells[n:, n:] = None     # outside -> outside is not a connection the cluster has a say in: "-"
        by_name = dict(zip(names, chosen))
        column = {name: j for j, name in enumerate(names)}

        def reason(src: str, dst: str) -> str:
            """The hover text of one cell: the policy verdict's reason, then whether the destination listens."""
            if src not in by_name and dst not in by_name:
                return f"{src} -> {dst}: both outside the cluster, not a connection the cluster has a say in"
            s, d = by_name.get(src, src), by_name.get(dst, dst)
            if engine is not None:
                why = engine.decide(s, d, port, protocol).reason
            elif self.cluster.items("NetworkPolicy"):
                why = f"{src} -> {dst}: the CNI ({self.config.cni}) does not enforce NetworkPolicy"
            else:
                why = f"{src} -> {dst}: no NetworkPolicy in the cluster, every pod may connect"
            if dst in by_name:
                ok, listen_why = listens[column[dst]]
                phase = _phase(d)
                why += "; " + (listen_why if phase == "Running" or not ok else f"pod {dst} is {phase}, not Running")
            return why

        return Reachability(names + externals, names + externals, cells, port, protocol, reasons=reason)

    def explain(self, kind_or_policy="NetworkPolicy", name: str | None = None, namespace: str = "default") -> str:
        """A NetworkPolicy in plain English: what it selects and what it allows, per direction."""
        from ..net.netpol_explain import explain

        policy = kind_or_policy if isinstance(kind_or_policy, dict) else self.cluster.get(kind_or_policy, name, namespace)
        return explain(policy)

    def lint(self) -> list:
        """Classic NetworkPolicy mistakes in this cluster (selectors matching nothing, egress without DNS, ...), and
        with a mesh its classic mistakes (undefined subsets, unreachable routes, policies in the wrong namespace)."""
        from ..net.netpol_explain import lint

        kube_dns = self.cluster.find("Service", "kube-system/kube-dns") or {}
        dns_ips = tuple(ip for ip in (kube_dns.get("spec") or {}).get("clusterIPs") or [] if ip != "None")
        findings = lint(self.cluster.items("Namespace"), self.cluster.items("Pod"), self.cluster.items("NetworkPolicy"),
                        dns_service_ips=dns_ips)
        if self.config.mesh:
            findings += _mesh.lint(self)
        return findings

    def policy_decision(self, src_pod, src_loc, target, seen_src: str, dst_ip: str, port: int, protocol: str):
        """NetworkPolicy's say on the translated connection, or None when no policy exists."""
        policies = self.cluster.items("NetworkPolicy")
        if not policies:
            return None
        if not cni_enforces(self.config):
            return _Unenforced(f"{self.config.cni} does not enforce NetworkPolicy: {len(policies)} "
                               f"{'policy is' if len(policies) == 1 else 'policies are'} stored but ignored")
        src = src_pod if (src_pod is not None and not pod_host_network(src_pod) and seen_src in pod_ips(src_pod)) \
            else seen_src
        dst = target.pod if target.kind == "pod" and not pod_host_network(target.pod) else dst_ip
        return self.policy_engine().decide(src, dst, port, protocol)

    # ------------------------------------------------------------ probes
    def trace(self, src, dst, port: int = 80, protocol: str = "TCP"):
        """Every hop a packet from src to dst:port takes, and the verdict reach() gives."""
        return self.prober.trace(src, dst, port, protocol)

    def reach(self, src, dst, port: int = 80, protocol: str = "TCP"):
        """Can src open a connection to dst:port? A Verdict: bool, .reason, .endpoint, .candidates, .source_ip."""
        return self.prober.trace(src, dst, port, protocol).verdict

    def http(self, url: str, src: str | None = None, headers: dict | None = None, method: str = "GET",
             resolve: dict | None = None, body: str | None = None) -> Response:
        """An HTTP request from src (None: outside the cluster) as curl sends it (`resolve` is curl's --resolve,
        {host: ip}); through any Ingress controller or Gateway on the way, every leg an L4 connection.
        Health-check node ports answer as kube-proxy's health server does; pods answer as their images do."""
        from .http import send

        from .probe_args import parse_url

        parse_url(url)   # a malformed URL is a ProbeError naming the fix, before anything is sent
        return send(self, url, src=src, method=method, headers=headers, resolve=resolve, body=body)

    # ------------------------------------------------------------ service mesh
    def golden_metrics(self):
        """Request counts, success rates and latency percentiles of every request the mesh's proxies carried
        (.stat_table() as `linkerd viz stat`, .prometheus() as Istio's standard metrics, .edges())."""
        return _mesh_telemetry().golden_metrics(self)

    def reset_metrics(self) -> None:
        """Forget the requests counted so far, as a fresh Prometheus scrape window would."""
        _mesh_telemetry().reset(self)

    def http_load(self, url: str, src: str | None = None, connections: int = 1, requests: int = 1,
                  method: str = "GET", headers: dict | None = None):
        """fortio in simulated time: `requests` requests over `connections` concurrent clients, each sending its
        next request when the previous answer came back (kubelab.sim.mesh.load); a LoadResult (.codes, str())."""
        from .mesh.load import http_load
        return http_load(self, url, src=src, connections=connections, requests=requests, method=method,
                         headers=headers)

    def certificate(self, pod: str):
        """The workload certificate istiod issued to a meshed pod ("namespace/name"), as openssl summarises it."""
        return _mesh.certificate(self, pod)

    # ------------------------------------------------------------ DNS
    def _dns(self):
        def build():
            from ..net.dns import ClusterDNS, parse_corefile

            # CoreDNS serves the last Corefile it could load (a broken edit is logged, not applied)
            options = parse_corefile(self.cluster.coredns_corefile or "")
            return ClusterDNS(self.config.cluster_domain, options, self.cluster.items("Namespace"),
                              self.cluster.items("Service"), self.cluster.items("EndpointSlice"),
                              self.cluster.items("Pod"), upstream=self.config.external_records(),
                              upstreams=self._dns_upstreams())
        return self._view("dns", build)

    def _dns_upstreams(self):
        """Who CoreDNS's forward plugin reaches: the world at the node's nameservers, connect(dns_servers=...)
        at their addresses, nobody elsewhere; its packets judged like any pod's (kubelab.net.dns.upstream)."""
        import weakref

        from ..net.dns.resolver import parse_resolv_conf
        from ..net.dns.upstream import RecordServer, Upstreams

        # the view is kept on the lab: a weak reference back, so a dropped lab leaves no cycle to collect
        coredns_path = weakref.WeakMethod(self._coredns_path)
        return Upstreams(RecordServer(self.config.external_records()), self._private_nameservers(),
                         parse_resolv_conf(self.config.node_resolv_conf).nameservers,
                         path=lambda upstream: coredns_path()(upstream))

    def _coredns_path(self, upstream: str) -> tuple[str, str | None]:
        """(CoreDNS pod's IP, why its UDP/53 query to `upstream` is dropped, or None): traced from the first
        CoreDNS pod by name, so NetworkPolicy selecting the CoreDNS pods applies to their forwards."""
        from .logs import is_coredns

        pods = sorted((p for p in self.cluster.items("Pod", "kube-system") if is_coredns(p) and pod_ips(p)),
                      key=name_of)
        if not pods:
            return "", None
        source = pod_ips(pods[0])[0]
        if not self.cluster.items("NetworkPolicy") or not cni_enforces(self.config):
            return source, None
        verdict = self.prober.trace(key_of(pods[0]), upstream, 53, "UDP").verdict
        return source, None if verdict else verdict.reason

    def _dns_lookup(self, server: str, name: str, rtype: str):
        """A query to one nameserver: (rcode, records) (cluster DNS at the kube-dns Service's IPs, a private
        nameserver at its address, the outside world elsewhere)."""
        rcode, records, _ms = self._dns_query(server, name, rtype)
        return rcode, records

    def _dns_query(self, server: str, name: str, rtype: str):
        """_dns_lookup plus the milliseconds the server spent (CoreDNS sitting out a dead forward: 5000).
        A forward that failed puts CoreDNS's errors-plugin line in its log once per answer computed: a repeat
        in the unchanged cluster costs the same time (a learner's repeats come after the cache's 5 s SERVFAIL
        TTL) but is not logged again, so the log stays bounded."""
        from ..net.dns.upstream import forward_error_line
        from .logs import record_coredns_lines

        cluster = server in self._view("cluster-dns-ips", self._cluster_dns_ips)
        # answers are a function of the cluster's state: memoised until it changes (bounded)
        answers = self._view("dns-answers", dict)
        private = None if cluster else self._private_nameservers().get(server)
        key = (cluster, server if private is not None else "", name, rtype)
        if key not in answers:
            if len(answers) >= 4096:
                answers.clear()
            if cluster:
                rcode, records, forwards = self._dns().query_traced(name, rtype)
                record_coredns_lines(self.cluster, [forward_error_line(name, rtype, f.error)
                                                    for f in forwards if f.error and f.logged])
                answers[key] = (rcode, records, sum(f.elapsed_ms for f in forwards))
            elif private is not None:
                answers[key] = (*private.query(name, rtype), 0)
            else:
                answers[key] = (*self._dns().query_upstream(name, rtype), 0)
        return answers[key]

    def _private_nameservers(self) -> dict:
        """{ip: RecordServer} of connect(dns_servers=...): they answer pods and CoreDNS alike."""
        from ..net.dns.upstream import RecordServer

        servers = self.__dict__.get("_private_dns")
        if servers is None:
            servers = self._private_dns = {ip: RecordServer(records)
                                           for ip, records in self.config.private_dns_records().items()}
        return servers

    def _cluster_dns_ips(self) -> set:
        kube_dns = self.cluster.find("Service", "kube-system/kube-dns")
        return set((kube_dns or {}).get("spec", {}).get("clusterIPs") or []) | {self.config.cluster_dns}

    def _pod_resolv_conf(self, src):
        """The pod's resolv.conf, parsed once per pod while the cluster is unchanged (every lookup reads it)."""
        from ..net.dns.resolver import parse_resolv_conf

        if not isinstance(src, str):
            return parse_resolv_conf(self.resolv_conf(src))
        parsed = self._view("resolv-confs", dict)
        if src not in parsed:
            parsed[src] = parse_resolv_conf(self.resolv_conf(src))
        return parsed[src]

    def resolve(self, name: str, rtype: str = "A", src: str | None = None):
        """Resolve `name` as a pod's resolver would (search list, ndots), or send it as is (src=None)."""
        from ..net.dns import resolve
        from .probe_args import check_dns_name, check_rtype

        import dataclasses

        name, rtype = check_dns_name(name), check_rtype(rtype)
        if src is None:
            return resolve(name, rtype, None, self._dns_query, server=self.config.cluster_dns)
        conf = self._pod_resolv_conf(src)
        blocked = self._unreachable_nameservers(src, conf.nameservers)
        def lookup(server, qname, qtype, _ask=self._dns_query):
            return ("TIMEOUT", []) if server in blocked else _ask(server, qname, qtype)
        answer = resolve(name, rtype, conf, lookup if blocked else self._dns_query)
        if answer.rcode == "TIMEOUT":
            why = "; ".join(f"{server}:53/UDP: {reason}" for server, reason in sorted(blocked.items()))
            answer = dataclasses.replace(answer, reason=f"no nameserver answered, every query timed out: {why}")
        return answer

    def _unreachable_nameservers(self, src: str, nameservers) -> dict:
        """DNS is traffic: {nameserver: why} for each of the pod's nameservers its UDP/53 query cannot reach
        (NetworkPolicy on the pod's egress or CoreDNS's ingress, judged after kube-proxy's DNAT)."""
        if not self.cluster.items("NetworkPolicy") or not cni_enforces(self.config):
            return {}
        out = {}
        for server in nameservers:
            verdict = self.prober.trace(src, server, 53, "UDP").verdict
            if not verdict:
                out[server] = verdict.reason
        return out

    def serve_dns(self, port: int = 10053):
        """Serve this lab's cluster DNS on 127.0.0.1:port over UDP and TCP, live as the cluster changes,
        so `dig @127.0.0.1 -p 10053 web.default.svc.cluster.local` works. Returns the running server
        (`.port`, `.stop()`)."""
        from ..serve.dns import DnsServer

        return DnsServer(lambda name, rtype: self._dns().query(name, rtype), port=port,
                         version=lambda: self.cluster.store.generation,
                         authority=lambda name: self._dns().authority(name)).start()

    def logs(self, pod: str, container: str | None = None, tail: int | None = None,
             timestamps: bool = False) -> str:
        """`kubectl logs` of a pod's container: what its app printed for the requests the simulator routed
        to it (nginx's access log, agnhost netexec's and echo-basic's request lines...), and CoreDNS's startup
        and reload lines (a Corefile it could not load shows up as "[ERROR] Restart failed: ..."). Images
        that print nothing per request have an empty log. Without `container`, kubectl's choice: the
        kubectl.kubernetes.io/default-container annotation's, else the first. `tail` keeps the last lines; `timestamps` prefixes
        each with its time on the cluster's clock."""
        from .logs import container_log, container_name

        target = self.prober.pod(pod)
        lines = container_log(self.cluster, target, container_name(target, container, as_kubectl=True))
        if tail is not None and tail >= 0:
            lines = lines[len(lines) - tail:] if tail else []
        return "".join((line.stamped() if timestamps else line.text) + "\n" for line in lines)

    def serve(self, port: int = 0, tls: bool = False, kubeconfig=None, set_env: bool = True,
              clock: str = "pinned") -> str:
        """Serve this cluster as a Kubernetes API on 127.0.0.1 in a background thread, for the real
        kubectl and the official Python client. Returns the kubeconfig path and (set_env) exports it as
        KUBECONFIG, so `!kubectl get pods` cells and terminals started afterwards use it. Calling it again
        returns the running server's kubeconfig; `lab.api_server.stop()` ends it. clock="pinned" keeps
        kubectl's AGE on the simulated clock (deterministic notebook outputs); "wall" lets it move with real time."""
        import os

        from ..serve.kubeapi import KubeAPIServer

        if getattr(self, "api_server", None) is None:
            self.api_server = KubeAPIServer(self, port=port, tls=tls, kubeconfig=kubeconfig, clock=clock).start()
        if set_env:
            os.environ["KUBECONFIG"] = str(self.api_server.kubeconfig)
        return str(self.api_server.kubeconfig)

    def resolve_outside(self, name: str, rtype: str = "A"):
        """Resolve `name` as a machine outside the cluster does: the world's DNS only (external_dns)."""
        from ..net.dns import resolve
        from .probe_args import check_dns_name, check_rtype

        return resolve(check_dns_name(name), check_rtype(rtype), None, lambda _server, n, t: self._dns().query_upstream(n, t),
                       server="the outside world's DNS")

    def resolv_conf(self, pod: str) -> str:
        """/etc/resolv.conf as the kubelet writes it for the pod (dnsPolicy, dnsConfig, hostNetwork)."""
        from ..net.dns import resolv_conf

        return resolv_conf(self.prober.pod(pod), [self.config.cluster_dns], self.config.cluster_domain,
                           self.config.node_resolv_conf)

    def hosts_file(self, pod: str) -> str:
        """/etc/hosts as the kubelet writes it, hostAliases included."""
        from ..net.dns import hosts_file

        return hosts_file(self.prober.pod(pod), self.config.cluster_domain)

    def hostname(self, pod: str, fqdn: bool = False):
        """What `hostname` (or `hostname --fqdn`) prints in the pod."""
        from ..net.dns import hostname

        return hostname(self.prober.pod(pod), self.config.cluster_domain, fqdn=fqdn)


class _Unenforced:
    """The verdict of a CNI that stores NetworkPolicies but does not enforce them."""

    allowed = True

    def __init__(self, reason: str):
        self.reason = reason


def _phase(pod: dict):
    return (pod.get("status") or {}).get("phase")


def cni_enforces(config: ClusterConfig) -> bool:
    from ..net.cni import cni_profile
    return cni_profile(config.cni, config.calico_mode).enforces_network_policy



def _norm_ip(ip: str) -> str:
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        raise ProbeError(f"{ip!r} is not an IP address") from None


__all__ += ["OUTSIDE_CLIENT_IP"]


def _mesh_telemetry():
    from .mesh import telemetry

    return telemetry
