"""reach() and trace(): where a connection goes and whether it gets there, decided by the engine
in kubelab.net in the order a real packet meets it: DNS, kube-proxy's NAT, routing, NetworkPolicy,
and finally a listening container."""
from __future__ import annotations

import difflib
import ipaddress
import weakref
from dataclasses import dataclass

from ..errors import ProbeError
from ..net import datapath
from ..net.cni import cni_profile
from ..net.datapath import Location
from ..net.listeners import pod_listens
from ..net.objects import is_ip, key_of, name_of, namespace_of, pod_host_network, pod_ips
from ..results import Hop, Trace, Verdict
from .probe_args import check_endpoint, check_node_name, check_pod_ref, check_port, check_protocol

__all__ = ["Prober", "OUTSIDE_CLIENT_IP", "OUTSIDE_CLIENT_IP6"]

OUTSIDE_CLIENT_IP = "203.0.113.10"   # TEST-NET-3: "a client on the internet"
OUTSIDE_CLIENT_IP6 = "2001:db8::10"  # the IPv6 documentation prefix: the same client over IPv6


@dataclass(frozen=True)
class Target:
    """What a destination address is, before kube-proxy: a pod, a node port, a Service VIP, outside."""

    kind: str                      # "pod", "service", "node", "external", "apiserver"
    ip: str
    via: str | None = None         # for services: cluster_ip | node_port | load_balancer | external_ip
    service: dict | None = None
    node: str | None = None        # receiving node for node_port
    pod: dict | None = None
    label: str = ""
    target_port: int | None = None   # hostPort mappings: the container port behind the node port



class Prober:
    """Answers reach/trace for one Lab; the Lab hands it the cluster and its derived views."""

    def __init__(self, lab):
        # the lab owns its prober: held weakly, so a lab dropped by a notebook is freed at once (no cycle
        # for the garbage collector to find while it walks every object of a large cluster)
        self._lab = weakref.ref(lab)
        self.cluster = lab.cluster
        self.profile = cni_profile(lab.config.cni, lab.config.calico_mode)

    @property
    def lab(self):
        return self._lab()

    # ------------------------------------------------------------ naming the ends
    def pod(self, ref: str, argument: str = "pod") -> dict:
        namespace, name = check_pod_ref(ref, argument)
        pod = self.cluster.find("Pod", f"{namespace}/{name}")
        if pod is None:
            names = [key_of(p) for p in self.cluster.items("Pod")]
            close = difflib.get_close_matches(f"{namespace}/{name}", names, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "lab.list('Pod') shows the pods"
            raise ProbeError(f'pod "{name}" not found in namespace "{namespace}" ({hint})')
        return pod

    def node(self, name: str) -> dict:
        node = self.cluster.find("Node", check_node_name(name))
        if node is None:
            names = [name_of(n) for n in self.cluster.items("Node")]
            raise ProbeError(f'node "{name}" not found (nodes: {", ".join(names) or "none"})')
        return node

    def node_ip(self, node: dict, family: str | None = None) -> str:
        ips = [a["address"] for a in node["status"].get("addresses", []) if a.get("type") == "InternalIP"]
        for ip in ips:
            if family is None or (":" in ip) == (family == "IPv6"):
                return ip
        return ips[0]

    def pod_location(self, pod: dict, family: str | None = None) -> Location:
        ips = pod_ips(pod)
        if not ips:
            raise ProbeError(f"pod {key_of(pod)} has no IP yet (phase {pod.get('status', {}).get('phase')}; "
                             "is it scheduled to a node?)")
        ip = next((i for i in ips if family is None or (":" in i) == (family == "IPv6")), ips[0])
        node_name = pod["spec"].get("nodeName")
        node = self.cluster.find("Node", node_name) if node_name else None
        return Location("pod", ip, f"pod {key_of(pod)}", node_name, self.node_ip(node, family) if node else None,
                        pod_host_network(pod))

    def source(self, src) -> tuple[Location, dict | None]:
        """`src`: "ns/pod", "node/<name>", an IP, or None for a client outside the cluster."""
        if src is None:
            return Location("external", OUTSIDE_CLIENT_IP, f"client {OUTSIDE_CLIENT_IP}"), None
        src = check_endpoint(src, "src")
        if src.startswith("node/"):
            node = self.node(src[5:])
            return Location("node", self.node_ip(node), f"node {name_of(node)}", name_of(node), self.node_ip(node)), None
        if is_ip(src):
            pod = self.lab.pod_by_ip(src)
            if pod is not None and not pod_host_network(pod):
                return self.pod_location(pod), pod
            node = self.lab.node_by_ip(src)
            if node is not None:
                return Location("node", src, f"node {name_of(node)}", name_of(node), src), None
            return Location("external", src, f"client {src}"), None
        pod = self.pod(src, "src")
        return self.pod_location(pod), pod

    def classify(self, ip: str, port: int, protocol: str) -> Target:
        """What lives at `ip`: a Service VIP, a node (NodePort or host service), a pod, or the outside."""
        lab = self.lab
        service = lab.service_by_cluster_ip(ip)
        if service is not None:
            return Target("service", ip, "cluster_ip", service, label=f"Service {key_of(service)}")
        service = lab.service_by_lb_ip(ip)
        if service is not None:
            return Target("service", ip, "load_balancer", service, label=f"Service {key_of(service)} (load balancer)")
        service = lab.service_by_external_ip(ip, port, protocol)
        if service is not None:
            owner = lab.node_by_ip(ip)   # an externalIP that is a node's address arrives at that node
            return Target("service", ip, "external_ip", service, node=name_of(owner) if owner is not None else None,
                          label=f"Service {key_of(service)} (externalIP)")
        node = lab.node_by_ip(ip)
        if node is not None:
            service = lab.service_by_node_port(port, protocol)
            if service is not None:
                return Target("service", ip, "node_port", service, node=name_of(node),
                              label=f"Service {key_of(service)} (NodePort on node {name_of(node)})")
            mapped = self._host_port(name_of(node), port, protocol)
            if mapped is not None:
                pod, container_port = mapped
                return Target("hostport", ip, node=name_of(node), pod=pod, target_port=container_port,
                              label=f"hostPort {port} of pod {key_of(pod)} on node {name_of(node)}")
            return Target("node", ip, node=name_of(node), label=f"node {name_of(node)}")
        pod = lab.pod_by_ip(ip)
        if pod is not None:
            return Target("pod", ip, pod=pod, label=f"pod {key_of(pod)}")
        if ip == self.cluster.api_server_ip:
            return Target("apiserver", ip, label="the API server")
        return Target("external", ip, label=f"{ip} (outside the cluster)")

    # ------------------------------------------------------------ the decision
    def trace(self, src, dst, port: int = 80, protocol: str = "TCP") -> Trace:
        protocol = check_protocol(protocol)
        check_port(port)
        check_endpoint(dst, "dst")
        src_loc, src_pod = self.source(src)
        dst_text = str(dst)
        asked_port = port
        rules: list[str] = []

        def fail(reason, **kw):
            return self._finish(src, dst_text, asked_port, protocol, False, reason, rules, **kw)

        # 1. a name: DNS from the source (kubelet's resolv.conf, the resolver's search list)
        if dst_text.startswith("node/"):
            dst_ip = self.node_ip(self.node(dst_text[5:]))
        elif is_ip(dst_text):
            dst_ip = dst_text
        elif "/" in dst_text and dst_text.count("/") == 1 and "." not in dst_text.split("/")[0]:
            dst_ip = self.pod_location(self.pod(dst_text), ip_family_of(src_loc.ip)).ip
        else:
            dst_ip, problem = self._resolve_name(dst_text, src, src_loc, src_pod, rules)
            if problem:
                return fail(problem)

        # the source address is the client's address in the destination's family (dual-stack)
        family = ip_family_of(dst_ip)
        if src is None and family == "IPv6":
            src_loc = Location("external", OUTSIDE_CLIENT_IP6, f"client {OUTSIDE_CLIENT_IP6}")
        if src_loc.kind != "external" and ip_family_of(src_loc.ip) != family:
            if src_pod is not None and not src_loc.host_network:
                src_loc = self.pod_location(src_pod, family)
            elif src_loc.node:
                ip = self.node_ip(self.node(src_loc.node), family)
                src_loc = Location(src_loc.kind, ip, src_loc.label, src_loc.node, ip, src_loc.host_network)
            if ip_family_of(src_loc.ip) != family:
                return fail(f"{src_loc.label} has no {family} address to reach {dst_ip} from")
        target = self.classify(dst_ip, port, protocol)
        first_dst = dst_ip
        nat_hops: list[Hop] = []
        nat_node = None
        snat_ip = None
        candidates: tuple = ()
        endpoint = None

        # 1b. the outside world has a route to pod addresses only when the pod network is routed into it
        if src_loc.kind == "external" and target.kind == "pod" and not pod_host_network(target.pod):
            unroutable = self._outside_cannot_route(dst_ip)
            if unroutable:
                return fail(unroutable)

        # 2. kube-proxy: a Service address is translated to one endpoint (DNAT), maybe SNATed
        if target.kind == "service":
            outcome = self._through_service(src_loc, target, port, protocol, rules)
            if isinstance(outcome, str):
                return fail(outcome)
            endpoint, candidates, snat_ip, nat_node, nat_hops = outcome
            target_label = target.label
            dst_ip, port = endpoint.rsplit(":", 1)[0].strip("[]"), int(endpoint.rsplit(":", 1)[1])
            target = self.classify(dst_ip, port, protocol)

        # 2b. the CNI's portmap plugin: a pod's hostPort is DNATed on its node to the pod
        if target.kind == "hostport":
            endpoint = f"{_bracket(pod_ips(target.pod)[0])}:{target.target_port}"
            nat_node = target.node
            nat_hops = [datapath.nat_hop(nat_node, f"DNAT {_bracket(dst_ip)}:{port} -> {endpoint} (CNI portmap: "
                                         f"hostPort {port})", src_loc.ip, pod_ips(target.pod)[0])]
            rules.append(f"portmap: {target.label}")
            target_label = target.label
            dst_ip, port = pod_ips(target.pod)[0], target.target_port
            candidates = (endpoint,)
            target = Target("pod", dst_ip, pod=target.pod, label=f"pod {key_of(target.pod)}")

        # 3. the destination itself
        if target.kind == "external":
            dst_loc = Location("external", dst_ip, f"{dst_ip} (outside the cluster)")
            listening, why = True, f"{dst_ip} is outside the cluster; the outside world is assumed to answer"
        elif target.kind == "apiserver":
            dst_loc = Location("external", dst_ip, "the API server")
            listening = port == 6443 and protocol == "TCP"
            why = "the API server listens on 6443/TCP"
        elif target.kind == "node":
            dst_loc = Location("node", dst_ip, f"node {target.node}", target.node, dst_ip)
            listening, why = self._host_listener(target.node, port, protocol)
        else:
            pod = target.pod
            dst_loc = self.pod_location(pod, ip_family_of(dst_ip))
            dst_loc = Location(dst_loc.kind, dst_ip, dst_loc.label, dst_loc.node, dst_loc.node_ip, dst_loc.host_network)
            listening, why = _listens(pod, port, protocol)
            phase = (pod.get("status") or {}).get("phase")
            if phase != "Running":
                listening, why = False, f"pod {key_of(pod)} is {phase}, not Running"
        endpoint = endpoint or f"{_bracket(dst_ip)}:{port}"
        seen_src = snat_ip or src_loc.ip

        # 4. NetworkPolicy on the translated packet (egress of the source pod, ingress of the destination)
        policy = self.lab.policy_decision(src_pod, src_loc, target, seen_src, dst_ip, port, protocol)
        if policy is not None:
            rules.append(policy.reason)
        hops = datapath.path_hops(src_loc, dst_loc, self.profile, first_dst_ip=first_dst, nat=nat_hops,
                                  snat_ip=snat_ip, dst_pod_cidr=self.lab.pod_cidr_of(dst_loc.node, family),
                                  nat_node=nat_node, nat_node_ip=self._node_ip_by_name(nat_node), pod_mtu=self.pod_mtu())
        if policy is not None and not policy.allowed:
            egress = getattr(policy, "egress", None)
            if egress is not None and not egress.allowed and src_pod is not None:
                hops = datapath.stop_at_source_node(hops, src_loc, "dropped by NetworkPolicy: the source pod's "
                                                                   "egress does not allow it")
            else:
                hops = datapath.stop_at_last_hop(hops, "dropped by NetworkPolicy before delivery")
            return fail(policy.reason, endpoint=endpoint, candidates=candidates, source_ip=seen_src, hops=hops,
                        implementation_specific="implementation-specific" in policy.reason)
        if not listening:
            # a closed port: TCP answers with a reset, SCTP with an ABORT (RFC 4960 8.4), UDP with ICMP port
            # unreachable (RFC 1122 4.1.3.1)
            refused = "ICMP port unreachable" if protocol == "UDP" else "connection refused"
            answer = {"TCP": "answered with a reset (connection refused)", "SCTP": "answered with an ABORT "
                      "(connection refused)"}.get(protocol, "answered with ICMP port unreachable")
            hops = datapath.stop_at_last_hop(hops, f"nothing listens on {port}/{protocol}: {answer}")
            return fail(f"{refused}: {why}", endpoint=endpoint, candidates=candidates,
                        source_ip=seen_src, hops=hops)
        reason = why
        if first_dst != dst_ip:
            reason = f"{target_label} sent it to {endpoint}; {why}"
        reply = datapath.reply_hops(dst_loc, src_loc, seen_src, first_dst, nat_node)
        return self._finish(src, dst_text, asked_port, protocol, True, reason, rules, endpoint=endpoint,
                            candidates=candidates or (endpoint,), source_ip=seen_src, hops=hops, reply=reply)


    def _outside_cannot_route(self, pod_ip: str) -> str | None:
        """Why a client outside the cluster has no route to a pod IP (None when it has one): pod addresses are
        routable outside only when the network learns them (Calico BGP peering with the routers, a native-routing
        cloud CNI); an overlay keeps them inside the nodes' tunnels."""
        routable = self.lab.config.pods_routable_from_outside
        if routable is None:
            routable = self.profile.encapsulation is None
        if routable:
            return None
        how = f"{self.profile.name} {self.profile.mode} overlay" if self.profile.encapsulation else \
            f"{self.profile.name} {self.profile.mode}"
        return (f"no route to host: {pod_ip} is a pod address and the network outside the cluster has no route to "
                f"the pod CIDR ({how}: only the nodes know it); expose the pods with a NodePort, a LoadBalancer "
                "or an Ingress")

    def _lb_source_ranges_block(self, service: dict, client_ip: str, client_node: str | None) -> str | None:
        """spec.loadBalancerSourceRanges: only listed client CIDRs may use the load-balancer IP (the cloud
        firewall and kube-proxy's firewall chain drop the rest; a node inside a range may also use it)."""
        ranges = [r.strip() for r in service["spec"].get("loadBalancerSourceRanges") or [] if r.strip()]
        if not ranges:
            return None
        addr = ipaddress.ip_address(client_ip)
        nets = [ipaddress.ip_network(r, strict=False) for r in ranges]
        if any(addr in n for n in nets if n.version == addr.version):
            return None
        if client_node:
            node_addr = ipaddress.ip_address(self.node_ip(self.node(client_node), ip_family_of(client_ip)))
            if any(node_addr in n for n in nets if n.version == node_addr.version):
                return None
        return (f"dropped: {client_ip} is not in spec.loadBalancerSourceRanges ({', '.join(ranges)}); "
                "kube-proxy's firewall chain (KUBE-FW / firewall-ips) drops other sources")

    def _node_ip_by_name(self, name):
        if not name:
            return None
        return self.node_ip(self.node(name))

    def _resolve_name(self, name: str, src, src_loc: Location, src_pod, rules: list) -> tuple[str | None, str | None]:
        """(address, None) or (None, why not), as the client's C library resolves: /etc/hosts first, then the
        nameservers of its resolv.conf (nsswitch "files dns"); A or AAAA, the client's own family first."""
        families = ("AAAA", "A") if ":" in src_loc.ip else ("A", "AAAA")
        if src_pod is not None:
            for line in self.lab.hosts_file(key_of(src_pod)).splitlines():
                fields = line.split("#", 1)[0].split()
                if len(fields) >= 2 and name.lower().rstrip(".") in (h.lower() for h in fields[1:]):
                    rules.append(f"/etc/hosts: {name} -> {fields[0]}")
                    return fields[0], None
            resolv = self.lab.resolv_conf(key_of(src_pod))
            servers = [line.split()[1] for line in resolv.splitlines() if line.startswith("nameserver ")]
            blocked = self._dns_blocked(src, servers)
            if blocked:
                return None, blocked
            answers = [self.lab.resolve(name, rtype, src=key_of(src_pod)) for rtype in families]
        else:
            # outside the cluster (and on a node) names go to the world's DNS, which knows no cluster names
            answers = [self.lab.resolve_outside(name, rtype) for rtype in families]
        answer = next((a for a in answers if a.addresses), answers[0])
        if not answer.addresses:
            return None, answer.failure(name)
        address = answer.addresses[0]
        via = f" via CNAME {' -> '.join(answer.cname_chain)}" if answer.cname_chain else ""
        rules.append(f"DNS: {name} -> {address} (as {answer.name}{via})")
        return address, None

    def _dns_blocked(self, src, servers: list[str]) -> str | None:
        """A pod whose egress NetworkPolicy does not allow its nameserver on 53/UDP cannot look names up."""
        if not servers or not self.lab.cluster.items("NetworkPolicy"):
            return None
        verdict = self.trace(src, servers[0], 53, "UDP").verdict
        if verdict:
            return None
        return (f"name lookup failed: the DNS query to {servers[0]}:53/UDP is blocked ({verdict.reason}); "
                "allow egress to the kube-dns pods on UDP and TCP port 53")

    def _through_service(self, src_loc: Location, target: Target, port: int, protocol: str, rules: list):
        """kube-proxy's view: the Service port, the endpoints eligible for this client, one chosen."""
        from ..net import kubeproxy

        service = target.service
        if target.via == "cluster_ip" and src_loc.kind == "external":
            return (f"{target.label}: a ClusterIP is reachable only from inside the cluster (pods and nodes); "
                    "from outside use a NodePort, a LoadBalancer or an Ingress")
        spec = service["spec"]
        if target.via == "node_port":
            sp = next((p for p in spec.get("ports", []) if p.get("nodePort") == port and p["protocol"] == protocol), None)
        else:
            sp = next((p for p in spec.get("ports", []) if p["port"] == port and p["protocol"] == protocol), None)
        if sp is None:
            offered = ", ".join(f"{p.get('nodePort') if target.via == 'node_port' else p['port']}/{p['protocol']}"
                                for p in spec.get("ports", []))
            return (f"{target.label} has no port {port}/{protocol} (it offers {offered}); "
                    "nothing is programmed for that port, so the connection times out")
        family = ip_family_of(target.ip)
        if target.via == "load_balancer":
            blocked = self._lb_source_ranges_block(service, src_loc.ip, None if src_loc.kind == "external"
                                                   else src_loc.node if src_loc.kind == "node" or src_loc.host_network
                                                   else None)
            if blocked:
                rules.append(f"kube-proxy: {blocked}")
                return f"{target.label}: {blocked}"
        client = src_loc.kind if src_loc.kind != "pod" or not src_loc.host_network else "node"
        slices = self.lab.slices_of(service)
        nodes = self.cluster.items("Node")

        def steer_from(node_name):
            return kubeproxy.steer(service, sp, slices, via=target.via, client=client, client_ip=src_loc.ip,
                                   client_node=src_loc.node, receiving_node=node_name, family=family, nodes=nodes)

        # the cloud load balancer spreads new connections over every node whose health check passes
        receivers = self.lab.load_balancer_nodes(service) if target.via == "load_balancer" \
            else self._external_ip_nodes(steer_from) if target.via == "external_ip" and not (target.node or src_loc.node) \
            else [target.node or src_loc.node]
        if not receivers:
            return f"{target.label}: the cloud load balancer has no healthy node to send to"
        by_node = {node_name: steer_from(node_name) for node_name in receivers}
        steering = by_node[receivers[0]]
        candidates = tuple(sorted({e for s in by_node.values() if s.action == "forward" for e in s.endpoints}))
        rules.append(f"kube-proxy: {steering.reason}")
        if steering.action != "forward" or not candidates:
            from ..net.diagnose import service_port_problem

            verb = {"reject": "rejected (ICMP port unreachable)", "drop": "dropped"}.get(steering.action, "dropped")
            why = service_port_problem(service, sp, self.cluster.items("Pod", namespace_of(service)))
            reason = steering.reason if steering.reason.rstrip(".").endswith(verb.split()[0]) \
                else f"{steering.reason} -> {verb}"
            return f"{target.label}: {reason}" + (f"; why: {why}" if why else "")
        endpoint = self.lab.pick_endpoint(service, sp, candidates, src_loc.ip)
        receiving = next(n for n in receivers if endpoint in by_node[n].endpoints)
        steering = by_node[receiving]
        if target.via == "load_balancer":
            rules[-1] = (f"cloud load balancer: healthy nodes {', '.join(receivers)}; this connection went to "
                         f"{receiving}; kube-proxy there: {steering.reason}")
        snat_ip = None
        nat_node = receiving or src_loc.node
        if steering.masquerade_for(endpoint):
            # masquerade: the packet leaves with the address of the node doing the NAT
            node = self.node(nat_node) if nat_node else None
            snat_ip = self.node_ip(node, family) if node else None
        what = f"DNAT {_bracket(target.ip)}:{port} -> {endpoint} ({self.lab.config.proxy_mode} mode"
        what += f", 1 of {len(steering.endpoints)} endpoints)"
        nat_hops = [datapath.nat_hop(nat_node or "?", what, src_loc.ip, endpoint.rsplit(":", 1)[0].strip("[]"),
                                     f"Service {key_of(service)} port {sp.get('name') or sp['port']}",
                                     self.lab.config.proxy_mode)]
        if snat_ip:
            nat_hops.append(datapath.nat_hop(nat_node, f"SNAT (masquerade) source {src_loc.ip} -> {snat_ip}",
                                             snat_ip, endpoint.rsplit(":", 1)[0].strip("[]"),
                                             "KUBE-POSTROUTING: marked 0x4000 by KUBE-MARK-MASQ"))
        return endpoint, candidates, snat_ip, nat_node, nat_hops

    def _external_ip_nodes(self, steer_from) -> list[str]:
        """Nodes an outside packet for an externalIP may arrive at: Kubernetes does not route externalIPs (the
        network does; Service docs, "External IPs"), so any node whose kube-proxy forwards it (all nodes when
        none does, to say why)."""
        nodes = [name_of(n) for n in self.cluster.items("Node")]
        return [n for n in nodes if steer_from(n).action == "forward"] or nodes

    def _host_port(self, node: str, port: int, protocol: str):
        """(pod, containerPort) of a running, non-hostNetwork pod on `node` that maps hostPort `port`."""
        for pod in self.cluster.items("Pod"):
            if pod["spec"].get("nodeName") != node or pod_host_network(pod) or not pod_ips(pod):
                continue
            if (pod.get("status") or {}).get("phase") != "Running":
                continue
            for c in pod["spec"].get("containers") or []:
                for p in c.get("ports") or []:
                    if p.get("hostPort") == port and p.get("protocol", "TCP") == protocol:
                        return pod, p["containerPort"]
        return None

    def _host_listener(self, node: str, port: int, protocol: str) -> tuple[bool, str]:
        """A node answers on a port if a hostNetwork pod there declares it, or kubelet (10250)."""
        if port == 10250 and protocol == "TCP":
            return True, f"the kubelet on node {node} listens on 10250/TCP"
        for pod in self.cluster.items("Pod"):
            if pod_host_network(pod) and pod["spec"].get("nodeName") == node:
                ok, _ = _listens(pod, port, protocol)
                if ok:
                    return True, f"hostNetwork pod {key_of(pod)} listens on {port}/{protocol} on node {node}"
        return False, f"nothing on node {node} listens on {port}/{protocol}"

    def _finish(self, src, dst, port, protocol, allowed, reason, rules, *, endpoint=None, candidates=(),
                source_ip=None, hops=(), reply=(), implementation_specific=False) -> Trace:
        verdict = Verdict(allowed, reason, "outside" if src is None else str(src), dst, port,
                          protocol, endpoint, tuple(candidates), source_ip, tuple(rules), implementation_specific)
        return Trace(verdict, tuple(hops), tuple(reply), self.pod_mtu())

    def pod_mtu(self) -> int:
        """The pods' interface MTU as the CNI configured it (Calico's calico-config veth_mtu, else its default)."""
        from ..net.cni import configured_pod_mtu

        return configured_pod_mtu(self.profile, self.cluster.find("ConfigMap", "kube-system/calico-config"))


def _bracket(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def ip_family_of(ip: str) -> str:
    return "IPv6" if ":" in ip else "IPv4"


def _listens(pod: dict, port: int, protocol: str) -> tuple[bool, str]:
    """Whether a process in the pod listens on port/protocol: a well-known image where it really listens (Kubernetes
    does not enforce containerPort), an unknown one on its declared containerPorts (a simulator convention)."""
    return pod_listens(pod, port, protocol)
