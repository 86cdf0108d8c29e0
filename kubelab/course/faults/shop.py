"""The capstone's working app: a small shop (frontend, API, cart with a canary and a database, payments outside
the cluster, an inventory system behind a selectorless Service, an Ingress, a partner Gateway, an Istio mesh)
and the user journeys and invariants that say it works.

Every fault in this package breaks one copy of these manifests; the journeys are what a user (or an
auditor) would notice, so grading replays them instead of reading the learner's YAML.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...errors import KubelabError
from ...net.dns.corefile import default_corefile
from ...net.http.tls import make_tls_secret
from ..examples import ECHO_IMAGE

__all__ = ["LAB_OPTIONS", "shop_manifests", "Journey", "JOURNEYS", "INVARIANTS", "probe_pod", "PAYMENTS",
           "INVENTORY_IP"]

PAYMENTS = "payments.example.com"
PAYMENTS_IP = "203.0.113.10"
INVENTORY_IP = "198.51.100.20"
POD_CIDR = "10.244.0.0/16"
#: the office's own DNS server, which alone knows the corp.example.internal zone (the accounting ledger's)
CORP_DNS = "10.0.0.53"
CORP_ZONE = "corp.example.internal"
LEDGER = f"ledger.{CORP_ZONE}"
LEDGER_IP = "10.0.5.20"
NODE_RESOLVER = "192.168.0.2"     # the nodes' resolver (their /etc/resolv.conf): the world's names
ELSEWHERE_DNS = "198.51.100.53"   # a DNS server on the internet that CoreDNS has no business asking
STATUS_NODEPORT = 30080
WALLBOARD_NODEPORT = 30090
#: the office's wall screens (TEST-NET-1 addresses): each polls the wallboard through a node's port
SCREEN_IPS = tuple(f"192.0.2.{n}" for n in range(101, 125))
VETH_MTU = 1450            # Calico VXLAN on a 1500-byte underlay: 1500 - 50
NOTICE_BYTES = 6000        # a notice posted to the status page: more than one full-size TCP segment
MAX_ATTEMPTS = 3           # Istio's default retry policy: the first try and 2 retries

#: connect() options of the capstone cluster: Istio, ingress-nginx, Envoy Gateway, payments in the world's DNS
LAB_OPTIONS = {"mesh": "istio", "calico_mode": "vxlan", "ingress_controller": "ingress-nginx", "gateway_controller": "envoy-gateway",
               "external_dns": {PAYMENTS: {"A": [PAYMENTS_IP]}},
               "dns_servers": {CORP_DNS: {LEDGER: {"A": [LEDGER_IP]}}}, "seed": 0}


def _ns(name: str, inject: bool = True) -> dict:
    labels = {"istio-injection": "enabled"} if inject else {}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, **({"labels": labels} if labels else {})}}


def _account(name: str, namespace: str) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}}


def _deployment(name: str, namespace: str, replicas: int = 2, version: str | None = None, app: str | None = None,
                image: str = ECHO_IMAGE, port: tuple[str, int] = ("http", 3000)) -> dict:
    labels = {"app": app or name, **({"version": version} if version else {})}
    env = [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
           {"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]
    container = {"name": app or name, "image": image, "ports": [{"name": port[0], "containerPort": port[1]}]}
    if image == ECHO_IMAGE:
        container["env"] = env
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels)},
                                  "spec": {"serviceAccountName": app or name, "containers": [container]}}}}


class _EnvView(dict):
    """A container's env list seen as {name: value}; setting a name writes the list."""

    def __init__(self, container: dict):
        self.container = container
        super().__init__({e["name"]: e.get("value") for e in container.get("env") or [] if "value" in e})

    def __setitem__(self, name, value):
        env = [e for e in self.container.setdefault("env", []) if e.get("name") != name]
        self.container["env"] = env + [{"name": name, "value": value}]
        super().__setitem__(name, value)


def _pinned(deployment: dict, node: str) -> dict:
    deployment["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": node}
    return deployment


def _tracked(deployment: dict, track: str) -> dict:
    """A canary-pattern Deployment: its pods and selector carry track=<track> besides app (so two Deployments
    of one app never claim each other's pods, while their Service selects both by app)."""
    deployment["spec"]["selector"]["matchLabels"]["track"] = track
    deployment["spec"]["template"]["metadata"]["labels"]["track"] = track
    return deployment


def _env_of(deployment: dict) -> _EnvView:
    return _EnvView(deployment["spec"]["template"]["spec"]["containers"][0])


def _service(name: str, namespace: str, port: int = 80, target="http", port_name: str = "http",
             selector: dict | None = None) -> dict:
    spec = {"ports": [{"name": port_name, "port": port, "targetPort": target}]}
    if selector is not False:
        spec = {"selector": selector or {"app": name}, **spec}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def corefile_with_stub(zone: str, upstream: str = CORP_DNS) -> str:
    """kubeadm's Corefile and a server block forwarding `zone` to `upstream` (CoreDNS docs, "Configuring
    stub-domain and upstream nameserver using CoreDNS")."""
    return default_corefile() + f"{zone}:53 {{\n    errors\n    cache 30\n    forward . {upstream}\n}}\n"


def _policy(name: str, pod: dict, ingress=None, egress=None) -> dict:
    spec: dict = {"podSelector": {"matchLabels": pod} if pod else {}}
    types = []
    if ingress is not None:
        spec["ingress"], types = ingress, types + ["Ingress"]
    if egress is not None:
        spec["egress"], types = egress, types + ["Egress"]
    spec["policyTypes"] = types
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": "shop"}, "spec": spec}


def _from_app(app: str, port: int = 3000) -> list:
    return [{"from": [{"podSelector": {"matchLabels": {"app": app}}}], "ports": [{"port": port}]}]


def _from_ns(namespace: str, port: int = 3000) -> dict:
    return {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}],
            "ports": [{"port": port}]}


_DNS_EGRESS = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                       "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
               "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}


def shop_manifests() -> list[dict]:
    """The working shop, every object in the order it is applied (a fresh list each call)."""
    docs: list[dict] = [_ns("shop"), _ns("edge", inject=False), _ns("reports"), _ns("monitoring")]
    for name in ("frontend", "api", "cart", "db"):
        docs.append(_account(name, "shop"))
    docs += [_account("report", "reports"), _account("prober", "monitoring")]
    docs += [_deployment("frontend", "shop"), _service("frontend", "shop"),
             _deployment("api", "shop"), _service("api", "shop"),
             _deployment("cart-v1", "shop", version="v1", app="cart"),
             _deployment("cart-v2", "shop", replicas=1, version="v2", app="cart"),
             _service("cart", "shop"),
             _deployment("db", "shop", replicas=1, image="postgres:17", port=("postgres", 5432)),
             _service("db", "shop", port=5432, target="postgres", port_name="tcp-postgres"),
             _deployment("report", "reports", replicas=1), _deployment("prober", "monitoring", replicas=1)]
    _env_of(docs[-2])["API_URL"] = "http://api.shop/orders"     # the report job calls the shop's API by this URL
    # the status page for the office screens: outside the mesh, published on every node's port 30080
    # (its two pods run on node-2, the notices job that posts to it on node-1: their traffic crosses the overlay)
    docs += [_account("statuspage", "edge"), _pinned(_deployment("statuspage", "edge", replicas=2), "node-2"),
             _account("notices", "edge"), _pinned(_deployment("notices", "edge", replicas=1), "node-1"),
             {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "calico-config", "namespace": "kube-system"},
              "data": {"veth_mtu": str(VETH_MTU)}},
             {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "statuspage", "namespace": "edge"},
              "spec": {"type": "NodePort", "selector": {"app": "statuspage"}, "externalTrafficPolicy": "Cluster",
                       "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": STATUS_NODEPORT}]}}]
    # the wallboard the office's wall screens poll: a stable track and a canary behind one Service (the
    # canary pattern of the Kubernetes docs); it keeps each screen's view in memory, so a screen must stay
    # on one pod (sessionAffinity ClientIP)
    docs += [_account("wallboard", "edge"), _tracked(_deployment("wallboard", "edge"), "stable"),
             _tracked(_deployment("wallboard-canary", "edge", replicas=1, app="wallboard"), "canary"),
             {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "wallboard", "namespace": "edge"},
              "spec": {"type": "NodePort", "selector": {"app": "wallboard"}, "sessionAffinity": "ClientIP",
                       "ports": [{"name": "http", "port": 80, "targetPort": "http",
                                  "nodePort": WALLBOARD_NODEPORT}]}}]
    # the cluster's DNS: CoreDNS forwards the office's zone to the office's DNS server (a stub domain), and
    # kube-system is hardened: CoreDNS may talk to the API server and to the two upstream resolvers only
    docs += [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
              "data": {"Corefile": corefile_with_stub(CORP_ZONE)}},
             {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "coredns-egress", "namespace": "kube-system"},
              "spec": {"podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}, "policyTypes": ["Egress"],
                       "egress": [{"to": [{"ipBlock": {"cidr": f"{NODE_RESOLVER}/32"}},
                                          {"ipBlock": {"cidr": f"{CORP_DNS}/32"}}],
                                   "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
                                  {"ports": [{"port": 6443, "protocol": "TCP"}, {"port": 443, "protocol": "TCP"}]}]}}]
    # inventory: a system outside the cluster behind a selectorless Service and a hand-made EndpointSlice
    docs += [_service("inventory", "shop", port=8080, target=8080, selector=False),
             {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
              "metadata": {"name": "inventory-1", "namespace": "shop",
                           "labels": {"kubernetes.io/service-name": "inventory"}},
              "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
              "endpoints": [{"addresses": [INVENTORY_IP], "conditions": {"ready": True}}]}]
    # the edge: an Ingress for shoppers (with TLS), a Gateway for partners
    docs += [make_tls_secret("shop-tls", "shop", ["shop.example.com"]),
             {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "shop", "namespace": "shop"},
              "spec": {"ingressClassName": "nginx",
                       "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
                       "rules": [{"host": "shop.example.com", "http": {"paths": [
                           {"path": "/", "pathType": "Prefix",
                            "backend": {"service": {"name": "frontend", "port": {"number": 80}}}},
                           {"path": "/api", "pathType": "Prefix",
                            "backend": {"service": {"name": "api", "port": {"number": 80}}}}]}}]}},
             {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
              "metadata": {"name": "partners", "namespace": "edge"},
              "spec": {"gatewayClassName": "eg", "listeners": [
                  {"name": "http", "protocol": "HTTP", "port": 80, "hostname": "partners.example.com",
                   "allowedRoutes": {"namespaces": {"from": "Same"}}}]}},
             {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
              "metadata": {"name": "partners-api", "namespace": "edge"},
              "spec": {"parentRefs": [{"name": "partners"}], "hostnames": ["partners.example.com"],
                       "rules": [{"backendRefs": [{"name": "api", "namespace": "shop", "port": 80}]}]}},
             {"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
              "metadata": {"name": "edge-to-api", "namespace": "shop"},
              "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "edge"}],
                       "to": [{"group": "", "kind": "Service", "name": "api"}]}}]
    # NetworkPolicy: default deny in shop, then one allow per conversation
    docs += [_policy("default-deny", {}, ingress=[]),
             _policy("frontend-ingress", {"app": "frontend"}, ingress=[_from_ns("ingress-nginx")]),
             _policy("api-ingress", {"app": "api"},
                     ingress=[*_from_app("frontend"), _from_ns("ingress-nginx"), _from_ns("envoy-gateway-system"),
                              _from_ns("reports"), _from_ns("monitoring")]),
             _policy("cart-ingress", {"app": "cart"}, ingress=_from_app("api")),
             _policy("db-ingress", {"app": "db"}, ingress=_from_app("cart", 5432)),
             _policy("api-egress", {"app": "api"}, egress=[
                 _DNS_EGRESS,
                 {"to": [{"podSelector": {"matchLabels": {"app": "cart"}}}], "ports": [{"port": 3000}]},
                 {"to": [{"ipBlock": {"cidr": f"{PAYMENTS_IP}/32"}}], "ports": [{"port": 443}]},
                 {"to": [{"ipBlock": {"cidr": f"{INVENTORY_IP}/32"}}], "ports": [{"port": 8080}]},
                 {"to": [{"ipBlock": {"cidr": f"{LEDGER_IP}/32"}}], "ports": [{"port": 443}]}])]
    # the mesh: STRICT mTLS, a canary for the cart, who may call the API
    docs += [{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
              "metadata": {"name": "default", "namespace": "shop"}, "spec": {"mtls": {"mode": "STRICT"}}},
             {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
              "metadata": {"name": "cart", "namespace": "shop"},
              "spec": {"host": "cart", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                                   {"name": "v2", "labels": {"version": "v2"}}]}},
             {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
              "metadata": {"name": "cart", "namespace": "shop"},
              "spec": {"hosts": ["cart"], "http": [
                  {"name": "canary", "match": [{"headers": {"x-canary": {"exact": "true"}}}],
                   "route": [{"destination": {"host": "cart", "subset": "v2"}}]},
                  {"name": "stable", "route": [{"destination": {"host": "cart", "subset": "v1"}}]}]}},
             {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
              "metadata": {"name": "api-callers", "namespace": "shop"},
              "spec": {"selector": {"matchLabels": {"app": "api"}}, "action": "ALLOW", "rules": [
                  {"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/frontend",
                                                       "cluster.local/ns/reports/sa/report"]}}]},
                  {"from": [{"source": {"principals": ["cluster.local/ns/monitoring/sa/prober"]}}],
                   "to": [{"operation": {"paths": ["/healthz"]}}]}]}}]
    return docs


# ---------------------------------------------------------------- journeys and invariants
@dataclass(frozen=True)
class Outcome:
    """What replaying one journey gave: ok, and what a user would see (never the cause)."""

    ok: bool
    seen: str


@dataclass(frozen=True)
class Journey:
    """One thing the shop must do (or, for an invariant, must never allow), replayed against a Lab."""

    name: str
    says: str                                 # the journey in a user's words
    run: Callable[[object], Outcome]


def probe_pod(lab, namespace: str, app: str, selector: str | None = None) -> str | None:
    """"namespace/pod" of the first running pod labelled app=<app> (or matching `selector`), sorted by name,
    or None."""
    pods = sorted((p for p in lab.list("Pod", namespace, selector=selector or f"app={app}")
                   if (p.get("status") or {}).get("podIP") and not p["metadata"].get("deletionTimestamp")),
                  key=lambda p: p["metadata"]["name"])
    return f"{namespace}/{pods[0]['metadata']['name']}" if pods else None


def _lb_address(lab, kind: str, namespace: str, name: str) -> str | None:
    try:
        obj = lab.get(kind, name, namespace)
    except KubelabError:
        return None
    status = obj.get("status") or {}
    if kind == "Gateway":
        return next((a.get("value") for a in status.get("addresses") or []), None)
    return next((i.get("ip") for i in (status.get("loadBalancer") or {}).get("ingress") or []), None)


def _app_of(lab, response) -> str | None:
    if not response.pod:
        return None
    ns, name = response.pod.split("/", 1)
    try:
        return (lab.get("Pod", name, ns)["metadata"].get("labels") or {}).get("version") or \
               (lab.get("Pod", name, ns)["metadata"].get("labels") or {}).get("app")
    except KubelabError:
        return None


def _served(lab, response, want: str) -> Outcome:
    got = _app_of(lab, response) if response.status == 200 else None
    if response.status == 200 and got == want:
        return Outcome(True, "200 OK")
    return Outcome(False, f"HTTP {response.status}" if response.status != 200 else "200 OK from the wrong page")


def _outside(lab, url: str, want: str, kind="Service", namespace="ingress-nginx",
             name="ingress-nginx-controller") -> Outcome:
    host = url.split("://", 1)[1].split("/", 1)[0]
    address = _lb_address(lab, kind, namespace, name)
    if address is None:
        return Outcome(False, "no address answers")
    return _served(lab, lab.http(url, resolve={host: address}), want)


def _inside(lab, src_ns: str, src_app: str, url: str, want: str, headers=None) -> Outcome:
    src = probe_pod(lab, src_ns, src_app)
    if src is None:
        return Outcome(False, f"no running {src_app} pod to try from")
    return _served(lab, lab.http(url, src=src, headers=headers), want)


def _connect(lab, src_ns: str, src_app: str, dst: str, port: int) -> Outcome:
    src = probe_pod(lab, src_ns, src_app)
    if src is None:
        return Outcome(False, f"no running {src_app} pod to try from")
    verdict = lab.reach(src, dst, port)
    return Outcome(bool(verdict), "connected" if verdict else "connection failed")


def _secure_storefront(lab) -> Outcome:
    address = _lb_address(lab, "Service", "ingress-nginx", "ingress-nginx-controller")
    if address is None:
        return Outcome(False, "no address answers")
    r = lab.http("https://shop.example.com/", resolve={"shop.example.com": address})
    if r.status == 200 and r.tls_secret == "shop/shop-tls":
        return Outcome(True, "200 OK, the shop's certificate")
    return Outcome(False, "the browser warns: the certificate is not the shop's" if r.status == 200
                   else f"HTTP {r.status}")


def _pod_env(lab, namespace: str, app: str, name: str) -> str | None:
    """An env var's value in the first running pod labelled app=<app> (what the app was configured with)."""
    pod = probe_pod(lab, namespace, app)
    if pod is None:
        return None
    spec = lab.get("Pod", pod.split("/", 1)[1], namespace).get("spec") or {}
    for container in spec.get("containers") or []:
        for env in container.get("env") or []:
            if env.get("name") == name and "value" in env:
                return env["value"]
    return None


def _reports(lab) -> Outcome:
    url = _pod_env(lab, "reports", "report", "API_URL") or "http://api.shop/orders"
    return _inside(lab, "reports", "report", url, "api")


def _status_page(lab) -> Outcome:
    """The office screens load the status page from every node's address (the NodePort on each node)."""
    failed = []
    for node in sorted(n["metadata"]["name"] for n in lab.list("Node")):
        ip = _node_address(lab, node)
        if ip and not _served(lab, lab.http(f"http://{ip}:{STATUS_NODEPORT}/"), "statuspage").ok:
            failed.append(ip)
    return Outcome(not failed, "loads from every node" if not failed else f"hangs on {', '.join(failed)}")


def _node_address(lab, name: str) -> str | None:
    node = lab.cluster.find("Node", name)
    return next((a["address"] for a in ((node or {}).get("status") or {}).get("addresses") or []
                 if a.get("type") == "InternalIP"), None)


def _wallboard(lab) -> Outcome:
    """Every wall screen loads the wallboard twice through node-1's port and both answers come from one
    wallboard pod (the screen's view lives in that pod's memory)."""
    address = _node_address(lab, "node-1")
    if address is None:
        return Outcome(False, "node-1 has no address")
    failing, moved = [], []
    for screen in SCREEN_IPS:
        first, second = (lab.http(f"http://{address}:{WALLBOARD_NODEPORT}/", src=screen) for _ in range(2))
        if not (_served(lab, first, "wallboard").ok and _served(lab, second, "wallboard").ok):
            failing.append(screen)
        elif first.pod != second.pod:
            moved.append(screen)
    if failing:
        return Outcome(False, f"{len(failing)} of {len(SCREEN_IPS)} screens fail on every refresh "
                              f"({', '.join(failing[:3])}{', ...' if len(failing) > 3 else ''})")
    if moved:
        return Outcome(False, f"{len(moved)} of {len(SCREEN_IPS)} screens lose their view (another pod answered)")
    return Outcome(True, f"all {len(SCREEN_IPS)} screens load, each from its own pod")


def _post_notice(lab) -> Outcome:
    """The notices job posts a notice (larger than one TCP segment) to the status page, pod to pod."""
    src = probe_pod(lab, "edge", "notices")
    if src is None:
        return Outcome(False, "no running notices pod to try from")
    r = lab.http("http://statuspage.edge/notices", src=src, method="POST", body="n" * NOTICE_BYTES)
    return _served(lab, r, "statuspage") if r.status else Outcome(False, "the request hangs, then times out")


def _sold_out(lab) -> Outcome:
    """The cart answers 503 for a sold-out item; the mesh must not multiply that request (Istio's default retry
    policy makes at most 3 attempts)."""
    src = probe_pod(lab, "shop", "api")
    if src is None:
        return Outcome(False, "no running api pod to try from")
    r = lab.http("http://cart/status/503", src=src)
    if r.status != 503 or _app_of(lab, r) != "v1":
        return Outcome(False, f"HTTP {r.status}, not the cart's own answer")
    ok = (r.attempts or 1) <= MAX_ATTEMPTS
    return Outcome(ok, "503, asked once" if r.attempts in (None, 1) else f"503 after {r.attempts} requests to the cart")


CAPACITY_NAMESPACES = ("shop", "edge")


def _capacity(lab) -> Outcome:
    """Every replica runs, and no Deployment runs fewer replicas than the shop needs (scaling down is no fix)."""
    needed = {(d["metadata"]["namespace"], d["metadata"]["name"]): d["spec"]["replicas"] for d in shop_manifests()
              if d["kind"] == "Deployment" and d["metadata"]["namespace"] in CAPACITY_NAMESPACES}
    short = []
    for ns in CAPACITY_NAMESPACES:
        for d in sorted(lab.list("Deployment", ns), key=lambda d: d["metadata"]["name"]):
            want = max((d.get("spec") or {}).get("replicas", 1), needed.get((ns, d["metadata"]["name"]), 0))
            labels = ((d.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            running = [p for p in lab.list("Pod", ns, selector=selector)
                       if (p.get("status") or {}).get("phase") == "Running"]
            if len(running) < want:
                short.append(f"{ns}/{d['metadata']['name']} {len(running)}/{want}")
    return Outcome(not short, "every replica running" if not short else "replicas missing: " + ", ".join(short))


def _denied(outcome: Outcome) -> Outcome:
    return Outcome(not outcome.ok, "refused, as it must be" if not outcome.ok else "it got through")


def _db_isolated(lab) -> Outcome:
    """The database refuses every pod but the cart: the frontend, the API and a pod the answer cannot know."""
    db = probe_pod(lab, "shop", "db")
    if db is None:
        return Outcome(True, "no database pod runs")
    ip = lab.get("Pod", db.split("/", 1)[1], "shop")["status"]["podIP"]
    for app in ("frontend", "api"):
        # straight to the pod's IP: a broken name or Service must not hide an open database
        if _connect(lab, "shop", app, ip, 5432).ok:
            return Outcome(False, f"the {app} can open the database")
    return Outcome(True, "only the cart reaches the database")


def _mtls_strict(lab) -> Outcome:
    """The shop's mesh still demands mTLS: a client without a sidecar is refused (PeerAuthentication STRICT)."""
    try:
        mode = ((lab.get("PeerAuthentication", "default", "shop").get("spec") or {}).get("mtls") or {}).get("mode")
    except KubelabError:
        mode = None
    if mode != "STRICT":
        return Outcome(False, "mTLS in shop is no longer STRICT")
    return Outcome(True, "mTLS STRICT")


def _coredns_contained(lab) -> Outcome:
    """kube-system's hardening holds: a CoreDNS pod cannot send DNS to an outside server that is not one of its
    two upstream resolvers (deleting the egress policy is no fix)."""
    coredns = probe_pod(lab, "kube-system", "coredns", selector="k8s-app=kube-dns")
    if coredns is None:
        return Outcome(False, "no CoreDNS pod runs")
    if lab.reach(coredns, ELSEWHERE_DNS, 53, "UDP"):
        return Outcome(False, f"CoreDNS can reach any DNS server ({ELSEWHERE_DNS}), not only its resolvers")
    return Outcome(True, "CoreDNS reaches its resolvers only")


def _admits_everyone(peer: dict) -> bool:
    """A peer that matches every pod of the namespace or of the cluster, or every address."""
    if not isinstance(peer, dict):
        return False
    if "ipBlock" in peer:
        return str((peer.get("ipBlock") or {}).get("cidr")) in ("0.0.0.0/0", "::/0") and \
            not (peer.get("ipBlock") or {}).get("except")
    pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
    return pods in (None, {}) and namespaces in (None, {})


def _no_allow_all(lab) -> Outcome:
    """No NetworkPolicy in shop lets every source in: an ingress rule without `from`, or a peer that matches
    every pod (podSelector: {} / namespaceSelector: {}) or every address (ipBlock 0.0.0.0/0)."""
    for pol in lab.list("NetworkPolicy", "shop"):
        for rule in (pol.get("spec") or {}).get("ingress") or []:
            peers = rule.get("from")
            if not peers or any(_admits_everyone(p) for p in peers):
                return Outcome(False, f"NetworkPolicy shop/{pol['metadata']['name']} lets every pod in")
    return Outcome(True, "no allow-all policy")


def _mesh_present(lab) -> Outcome:
    """The mesh is still there: shop is injected and every shop pod runs the istio-proxy sidecar."""
    try:
        labels = lab.get("Namespace", "shop")["metadata"].get("labels") or {}
    except KubelabError:
        labels = {}
    if labels.get("istio-injection") != "enabled":
        return Outcome(False, "namespace shop is no longer in the mesh")
    for pod in lab.list("Pod", "shop"):
        names = [c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []] + \
                [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        if "istio-proxy" not in names:
            return Outcome(False, f"pod shop/{pod['metadata']['name']} has no sidecar")
    return Outcome(True, "every shop pod in the mesh")


_J = [
    Journey("storefront", "a shopper opens https://shop.example.com/",
            lambda lab: _outside(lab, "https://shop.example.com/", "frontend")),
    Journey("catalog", "a shopper's browser loads https://shop.example.com/api/products",
            lambda lab: _outside(lab, "https://shop.example.com/api/products", "api")),
    Journey("secure-storefront", "a shopper's browser trusts https://shop.example.com/'s certificate",
            _secure_storefront),
    Journey("frontend-api", "the frontend calls http://api/products",
            lambda lab: _inside(lab, "shop", "frontend", "http://api/products", "api")),
    Journey("api-cart", "the API calls http://cart/items",
            lambda lab: _inside(lab, "shop", "api", "http://cart/items", "v1")),
    Journey("cart-canary", "a tester sends x-canary: true and expects the new cart",
            lambda lab: _inside(lab, "shop", "api", "http://cart/items", "v2", {"x-canary": "true"})),
    Journey("cart-db", "the cart connects to its database db:5432",
            lambda lab: _connect(lab, "shop", "cart", "db.shop.svc.cluster.local", 5432)),
    Journey("api-payments", "the API connects to https://payments.example.com",
            lambda lab: _connect(lab, "shop", "api", "payments.example.com", 443)),
    Journey("api-inventory", "the API connects to inventory:8080",
            lambda lab: _connect(lab, "shop", "api", "inventory.shop.svc.cluster.local", 8080)),
    Journey("api-ledger", f"the API posts the day's orders to the accounting ledger at https://{LEDGER}",
            lambda lab: _connect(lab, "shop", "api", LEDGER, 443)),
    Journey("partners", "a partner calls http://partners.example.com/products",
            lambda lab: _outside(lab, "http://partners.example.com/products", "api", "Gateway", "edge", "partners")),
    Journey("reports", "the nightly report calls the shop's API for the orders (its API_URL)", _reports),
    Journey("health", "the health checker calls http://api.shop/healthz",
            lambda lab: _inside(lab, "monitoring", "prober", "http://api.shop/healthz", "api")),
    Journey("sold-out", "the API asks the cart for a sold-out item (503) and the cart is asked at most "
            f"{MAX_ATTEMPTS} times", _sold_out),
    Journey("capacity", "every replica of every Deployment in shop and edge runs, none scaled below what the "
            "shop needs",
            _capacity),
    Journey("post-notice", f"the notices job posts a {NOTICE_BYTES}-byte notice to http://statuspage.edge/notices",
            _post_notice),
    Journey("wallboard", f"the {len(SCREEN_IPS)} wall screens each load the wallboard from node-1's port "
            f"{WALLBOARD_NODEPORT} twice, from the same pod both times", _wallboard),
    Journey("status-page", f"the office screens load the status page from every node's port {STATUS_NODEPORT}",
            _status_page),
]
JOURNEYS: dict[str, Journey] = {j.name: j for j in _J}

INVARIANTS: dict[str, Journey] = {j.name: j for j in [
    Journey("db-isolated", "the database refuses everyone but the cart", _db_isolated),
    Journey("mtls-strict", "mTLS stays STRICT in shop", _mtls_strict),
    Journey("no-allow-all", "no NetworkPolicy lets every pod in", _no_allow_all),
    Journey("mesh-present", "the shop stays in the mesh", _mesh_present),
    Journey("coredns-contained", "CoreDNS talks only to its two upstream resolvers", _coredns_contained),
]}
