"""The capstone's fault library: every fault breaks the shop (shop.py) in one way a real cluster breaks, as the
Kubernetes, Istio and Gateway API documentation describes it."""
from __future__ import annotations

from .fault import Fault
from .shop import CORP_DNS, CORP_ZONE, NODE_RESOLVER, _env_of, corefile_with_stub

__all__ = ["FAULTS", "by_id", "LAYERS"]

LAYERS = ("pod networking", "CNI/overlay", "Services", "EndpointSlices", "DNS", "NetworkPolicy", "Ingress/Gateway", "mesh")

DEP = "Deployment"
CORP_ZONE_TYPO = "corp.example.intenral"     # two letters swapped


def _pod_spec(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def _one(fn):
    """mutate() for a single-target fault: fn(doc)."""
    return lambda docs: fn(next(iter(docs.values())))


def _restart(docs: dict) -> None:
    """kubectl rollout restart: a new pod template, so every pod is created again (and injected again)."""
    for d in docs.values():
        if d["kind"] == DEP:
            d["spec"]["template"]["metadata"].setdefault("annotations", {})[
                "kubectl.kubernetes.io/restartedAt"] = "2026-01-01T00:00:00Z"


def _set(path: list, value):
    def change(doc):
        node = doc
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return _one(change)


def _policy_rules(doc, direction):
    return doc["spec"][direction]


FAULTS: tuple[Fault, ...] = (
    # ------------------------------------------------------------ pod networking
    Fault("hostport-clash", "pod networking", ((DEP, "shop", "frontend"),), ("capacity",),
          "Since this morning's change the dashboard shows the frontend running with fewer replicas than it should.",
          "the frontend was given hostPort 3000 and 4 replicas on 3 nodes: two pods cannot claim the same port of "
          "one node, so the scheduler leaves one Pending (NodePorts filter: 'didn't have free ports')",
          "drop the hostPort (the Service and the Ingress reach the pods without it) or run at most one pod per node",
          _one(lambda d: (d["spec"].__setitem__("replicas", 4),
                          _pod_spec(d)["containers"][0]["ports"][0].__setitem__("hostPort", 3000)))),
    Fault("hostnetwork-port-clash", "pod networking", ((DEP, "edge", "statuspage"),), ("capacity",),
          "Since the status page was changed to see the office screens' real addresses, the dashboard shows it "
          "running once where it should run twice; the other copy has been waiting for hours.",
          "the statuspage pods were given hostNetwork: true: a hostNetwork pod's containerPorts are ports of "
          "its node (hostPort defaults to containerPort), both pods are pinned to node-2, and two cannot claim "
          "port 3000 of one node, so the scheduler leaves one Pending ('didn't have free ports')",
          "drop hostNetwork (to see client addresses, use externalTrafficPolicy: Local on the Service), or run "
          "at most one hostNetwork pod per node",
          _one(lambda d: _pod_spec(d).__setitem__("hostNetwork", True)),
          # on the node's network the status page is reached without the overlay, so no MTU black hole shows
          masks=("vxlan-mtu-black-hole",)),
    Fault("podcidr-exhausted", "pod networking", ((DEP, "shop", "frontend"),), ("capacity",),
          "Since the frontend moved to the new edge node, one of its pods has been stuck starting for hours.",
          "the frontend is pinned (nodeSelector + toleration) to node-4, whose podCIDR is a /30: host-local IPAM "
          "has one pod address, so the second pod stays ContainerCreating ('no IP addresses available in range set')",
          "give the node a pod range that holds its pods (kube-controller-manager --node-cidr-mask-size, then "
          "re-register the node); until then run the frontend on the nodes that have addresses (drop the "
          "nodeSelector and toleration)",
          _one(lambda d: _pod_spec(d).update(
              nodeSelector={"node-pool": "edge"},
              tolerations=[{"key": "node-pool", "operator": "Equal", "value": "edge", "effect": "NoSchedule"}])),
          adds=lambda: [{"apiVersion": "v1", "kind": "Node",
                         "metadata": {"name": "node-4", "labels": {"kubernetes.io/hostname": "node-4",
                                                                   "node-pool": "edge"}},
                         "spec": {"podCIDR": "10.244.9.0/30", "podCIDRs": ["10.244.9.0/30"],
                                  "taints": [{"key": "node-pool", "value": "edge", "effect": "NoSchedule"}]},
                         "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.14"}]}}]),
    # ------------------------------------------------------------ CNI/overlay
    Fault("vxlan-mtu-black-hole", "CNI/overlay", (("ConfigMap", "kube-system", "calico-config"),), ("post-notice",),
          "Since the network team's change, posting a notice to the status page hangs until it times out; short "
          "notices and loading the page still work.",
          "calico-config's veth_mtu was raised to 1500, the underlay's MTU: a full-size pod packet plus VXLAN's 50 "
          "bytes no longer fits the underlay, TCP's Don't Fragment forbids splitting it and the ICMP 'fragmentation "
          "needed' is filtered, so large requests between nodes are black-holed",
          "veth_mtu = underlay MTU - 50 for VXLAN (1450), then restart the pods so their interfaces take it",
          _one(lambda d: d["data"].__setitem__("veth_mtu", "1500"))),
    # ------------------------------------------------------------ Services
    Fault("service-selector-typo", "Services", (("Service", "shop", "api"),),
          ("frontend-api", "catalog", "partners", "reports", "health"),
          "The product list on the shop's home page is empty and the API calls fail.",
          "Service api selects app=api-server, a label no pod has: it selects no pod, so it has no endpoints",
          "make spec.selector equal to the pods' labels (app: api)",
          _set(["spec", "selector"], {"app": "api-server"})),
    Fault("targetport-name-mismatch", "Services", (("Service", "shop", "cart"),), ("api-cart", "cart-canary", "sold-out"),
          "Adding anything to the cart fails; every other page works.",
          "Service cart's targetPort names a port (htpp) no cart container declares, so its endpoints have no port",
          "spec.ports[].targetPort must name a containerPort the pods declare (http)",
          _one(lambda d: d["spec"]["ports"][0].__setitem__("targetPort", "htpp"))),
    Fault("port-targetport-swapped", "Services", (("Service", "shop", "frontend"),), ("storefront", "secure-storefront"),
          "https://shop.example.com/ answers 502/503 for everyone; the API behind /api still answers.",
          "Service frontend has port 3000 and targetPort 80: the Ingress asks port 80, which the Service no longer "
          "has, and port 80 is not where the pods listen",
          "port is what clients (the Ingress) use (80); targetPort is the container's port (http / 3000)",
          _one(lambda d: d["spec"].__setitem__("ports", [{"name": "http", "port": 3000, "targetPort": 80}]))),
    # ------------------------------------------------------------ EndpointSlices
    Fault("slice-missing-service-label", "EndpointSlices", (("EndpointSlice", "shop", "inventory-1"),),
          ("api-inventory",),
          "Stock levels never load: the API's calls to the inventory system time out.",
          "the hand-made EndpointSlice of selectorless Service inventory lacks the kubernetes.io/service-name "
          "label, so kube-proxy does not know it belongs to the Service",
          "label the EndpointSlice kubernetes.io/service-name: inventory",
          _one(lambda d: d["metadata"].__setitem__("labels", {"app": "inventory"}))),
    # ------------------------------------------------------------ DNS
    Fault("dnspolicy-default", "DNS", ((DEP, "shop", "api"),),
          ("api-cart", "cart-canary", "api-inventory", "api-payments", "api-ledger", "sold-out"),
          "The cart and stock levels fail with 'could not resolve host' in the API's errors.",
          "the API's pods have dnsPolicy: Default: they use the node's resolv.conf, which knows no cluster names",
          "use dnsPolicy: ClusterFirst (the default) for pods that call Services by name",
          _one(lambda d: _pod_spec(d).__setitem__("dnsPolicy", "Default"))),
    Fault("hostaliases-shadow", "DNS", ((DEP, "shop", "api"),), ("api-payments",),
          "Checkout fails since the payment provider moved to a new address last night; their status page is green.",
          "the API's pods carry a hostAliases entry for payments.example.com with the provider's old address: "
          "/etc/hosts is read before DNS, so the API still dials the old one",
          "remove the stale hostAliases entry so the name resolves through DNS",
          _one(lambda d: _pod_spec(d).__setitem__("hostAliases",
                                                  [{"ip": "203.0.113.99", "hostnames": ["payments.example.com"]}]))),
    # ------------------------------------------------------------ NetworkPolicy
    Fault("egress-forgets-dns", "NetworkPolicy", (("NetworkPolicy", "shop", "api-egress"),),
          ("api-cart", "cart-canary", "api-payments", "api-inventory", "api-ledger", "sold-out"),
          "Checkout, the cart and stock levels all fail from the API at once, right after a security change.",
          "NetworkPolicy api-egress is a default-deny egress that allows the cart, payments and inventory but not "
          "DNS (port 53 to kube-dns), so no name resolves",
          "allow egress to kube-dns on UDP and TCP 53 in the egress policy",
          _one(lambda d: d["spec"].__setitem__("egress", d["spec"]["egress"][1:]))),
    Fault("and-written-as-or", "NetworkPolicy", (("NetworkPolicy", "shop", "db-ingress"),), ("db-isolated",),
          "Security audit: the frontend pods can open connections to the database.",
          "NetworkPolicy db-ingress lists namespaceSelector and podSelector as two peers (two dashes: OR), so "
          "every pod of the namespace is allowed, not only the cart",
          "one peer with both selectors (AND), or only podSelector app=cart",
          _one(lambda d: d["spec"].__setitem__("ingress", [{"from": [
              {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}},
              {"podSelector": {"matchLabels": {"app": "cart"}}}], "ports": [{"port": 5432}]}]))),
    Fault("namespace-label-missing", "NetworkPolicy", (("NetworkPolicy", "shop", "frontend-ingress"),),
          ("storefront", "secure-storefront"),
          "The shop's home page times out (504) for everyone; partners using the API are fine.",
          "NetworkPolicy frontend-ingress admits namespaces labelled name=ingress-nginx, a label the "
          "ingress-nginx namespace does not have",
          "select the namespace by a label it has: kubernetes.io/metadata.name: ingress-nginx",
          _one(lambda d: d["spec"]["ingress"][0].__setitem__("from", [
              {"namespaceSelector": {"matchLabels": {"name": "ingress-nginx"}}}]))),
    Fault("ipblock-covers-pods", "NetworkPolicy", (("NetworkPolicy", "shop", "db-ingress"),), ("db-isolated",),
          "Penetration test report: any pod in the cluster can reach the database port.",
          "NetworkPolicy db-ingress admits ipBlock 10.244.0.0/16, which covers every pod IP of the cluster",
          "admit the cart by podSelector; ipBlock is for addresses outside the cluster",
          _one(lambda d: d["spec"].__setitem__("ingress", [{"from": [{"ipBlock": {"cidr": "10.244.0.0/16"}}],
                                                            "ports": [{"port": 5432}]}]))),
    Fault("egress-wrong-port", "NetworkPolicy", (("NetworkPolicy", "shop", "api-egress"),), ("api-payments",),
          "Checkout hangs and then fails: 'payment provider unreachable'.",
          "NetworkPolicy api-egress allows payments on port 80 while the API calls it on 443",
          "allow the port the API actually uses (443) to the payment provider",
          _one(lambda d: d["spec"]["egress"][2].__setitem__("ports", [{"port": 80}]))),
    # ------------------------------------------------------------ Ingress and Gateway API
    Fault("pathtype-exact", "Ingress/Gateway", (("Ingress", "shop", "shop"),), ("catalog",),
          "The product list never loads: https://shop.example.com/api/products does not return the product data.",
          "the Ingress's /api path has pathType Exact, which matches /api only, so /api/products falls to /",
          "pathType: Prefix for a path that covers a subtree",
          _one(lambda d: d["spec"]["rules"][0]["http"]["paths"][1].__setitem__("pathType", "Exact"))),
    Fault("wrong-ingress-class", "Ingress/Gateway", (("Ingress", "shop", "shop"),),
          ("storefront", "catalog", "secure-storefront"),
          "The whole shop is down for shoppers (404 from the load balancer); partners can still use the API.",
          "the Ingress names ingressClassName nginx-internal, a class no controller implements, so ingress-nginx "
          "ignores it",
          "spec.ingressClassName must name an IngressClass whose controller runs (nginx)",
          _one(lambda d: d["spec"].__setitem__("ingressClassName", "nginx-internal"))),
    Fault("tls-secret-elsewhere", "Ingress/Gateway", (("Ingress", "shop", "shop"),), ("secure-storefront",),
          "Browsers warn that https://shop.example.com/ is not secure (certificate: Kubernetes Ingress Controller "
          "Fake Certificate).",
          "the Ingress's tls names Secret wildcard-tls, which namespace shop does not have (the wildcard "
          "certificate lives in another namespace); an Ingress can only use Secrets of its own namespace",
          "name the TLS Secret in the Ingress's own namespace (shop-tls)",
          _one(lambda d: d["spec"]["tls"][0].__setitem__("secretName", "wildcard-tls"))),
    Fault("route-hostname-mismatch", "Ingress/Gateway", (("HTTPRoute", "edge", "partners-api"),), ("partners",),
          "Partners get 404 from http://partners.example.com/ since the route was updated.",
          "HTTPRoute partners-api's hostnames (partners.example.org) do not intersect the listener's hostname, so "
          "it is not attached (Accepted False, NoMatchingListenerHostname)",
          "use a hostname that intersects the listener's (partners.example.com)",
          _one(lambda d: d["spec"].__setitem__("hostnames", ["partners.example.org"]))),
    Fault("referencegrant-missing", "Ingress/Gateway", (("ReferenceGrant", "shop", "edge-to-api"),), ("partners",),
          "Partners get 500 from http://partners.example.com/ since the platform team tidied up.",
          "the ReferenceGrant in shop admits HTTPRoutes from namespace edge-old, so the route in edge may not "
          "point at Service shop/api (ResolvedRefs False, RefNotPermitted)",
          "a ReferenceGrant in the backend's namespace from HTTPRoutes in namespace edge to Service api",
          _one(lambda d: d["spec"]["from"][0].__setitem__("namespace", "edge-old"))),
    # ------------------------------------------------------------ mesh
    Fault("subset-without-destinationrule", "mesh", (("DestinationRule", "shop", "cart"),), ("cart-canary",),
          "Testers sending x-canary: true get 503 from the cart; ordinary shoppers are fine.",
          "VirtualService cart routes to subset v2, which DestinationRule cart does not define",
          "define every subset a VirtualService uses in the DestinationRule of its host",
          _one(lambda d: d["spec"].__setitem__("subsets", d["spec"]["subsets"][:1]))),
    Fault("catch-all-first", "mesh", (("VirtualService", "shop", "cart"),), ("cart-canary",),
          "The new cart never shows up for testers, even with x-canary: true.",
          "VirtualService cart lists its catch-all route before the canary rule; routes are tried in order, so the "
          "canary rule is never reached",
          "put the specific (header-matching) route before the catch-all",
          _one(lambda d: d["spec"].__setitem__("http", list(reversed(d["spec"]["http"]))))),
    Fault("retry-amplification", "mesh", (("VirtualService", "shop", "cart"),), ("sold-out",),
          "Whenever a sold-out item is requested the cart's load spikes: the cart team counts about ten requests "
          "for every one the API sends, and the error takes over a second to come back.",
          "VirtualService cart's stable route retries 10 times on any 5xx: the cart's 503 for a sold-out item is "
          "an answer, not a transient failure, and every retry is another request to a failing backend",
          "retry only what a retry can cure (connect-failure, refused-stream, unavailable) and few times, or "
          "drop the route's retries (Istio's default: 2)",
          _one(lambda d: d["spec"]["http"][1].__setitem__("retries", {"attempts": 10, "retryOn": "5xx"}))),
    Fault("strict-mtls-legacy-client", "mesh", (("Namespace", "", "reports"), (DEP, "reports", "report")),
          ("reports",),
          "The nightly sales report fails: 'connection reset by peer' when it calls the API.",
          "namespace reports lost its istio-injection label, so its pod runs without a sidecar and sends "
          "plaintext, which the shop's STRICT PeerAuthentication refuses",
          "bring the client into the mesh (label its namespace istio-injection=enabled, then restart its pods); "
          "do not weaken STRICT",
          lambda docs: docs[("Namespace", "", "reports")]["metadata"].pop("labels", None),
          repair=_restart),
    Fault("authz-denies-health-checker", "mesh", (("AuthorizationPolicy", "shop", "api-callers"),), ("health",),
          "Monitoring pages us every minute: the API's health check gets 403, yet shoppers see no problem.",
          "AuthorizationPolicy api-callers (ALLOW) no longer lists the health checker's identity, so its requests "
          "match no rule and are denied",
          "allow the prober's principal (cluster.local/ns/monitoring/sa/prober) on /healthz",
          _one(lambda d: d["spec"].__setitem__("rules", d["spec"]["rules"][:1]))),
    Fault("readiness-probe-wrong-port", "Services", ((DEP, "shop", "cart-v1"),), ("api-cart", "sold-out"),
          "Since the cart's last release every shopper's 'add to cart' fails with 503; testers on the new cart are "
          "fine.",
          "the cart-v1 pods' readinessProbe asks port 8080, where nothing listens (the app serves 3000): the probe "
          "fails, the pods never become Ready, so the Service has no ready endpoint for v1",
          "point the readinessProbe at the port the app serves (httpGet /health on port http)",
          _one(lambda d: _pod_spec(d)["containers"][0].__setitem__(
              "readinessProbe", {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 5})),
          repair=lambda docs: _pod_spec(docs[(DEP, "shop", "cart-v1")])["containers"][0].__setitem__(
              "readinessProbe", {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 5})),
    Fault("external-policy-local", "Services", (("Service", "edge", "statuspage"),), ("status-page",),
          "The status page on the office screens loads from one node's address only; from the others it hangs.",
          "Service statuspage (NodePort) has externalTrafficPolicy Local: a node without a statuspage pod drops "
          "what arrives on its node port (its pods run on one node)",
          "externalTrafficPolicy: Cluster (or a load balancer that health-checks the nodes, or a pod on every node)",
          _set(["spec", "externalTrafficPolicy"], "Local")),
    Fault("affinity-pins-dead-pod", "Services", ((DEP, "edge", "wallboard-canary"),), ("wallboard",),
          "Some of the office's wall screens fail every time they refresh, always the same ones; the others never "
          "fail, and rebooting a failing screen does not help.",
          "the wallboard canary's new build listens on 8080 (HTTP_PORT) while its pod still declares port http as "
          "3000: the pod runs and, with no readinessProbe, is Ready, so it stays an endpoint that refuses every "
          "connection; sessionAffinity ClientIP keeps each screen on the pod it first reached, so the screens "
          "that landed on the canary fail every time",
          "make the canary listen where its port says (or declare the port it serves), and give the pods a "
          "readinessProbe so a pod that cannot serve leaves the endpoints; keep sessionAffinity (the screens' "
          "views live in one pod)",
          _one(lambda d: _env_of(d).__setitem__("HTTP_PORT", "8080")),
          repair=lambda docs: _pod_spec(docs[(DEP, "edge", "wallboard-canary")])["containers"][0].__setitem__(
              "readinessProbe", {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5})),
    Fault("stub-domain-typo", "DNS", (("ConfigMap", "kube-system", "coredns"),), ("api-ledger",),
          "Since the platform team tidied up the cluster's DNS settings, the shop cannot post orders to the "
          "accounting ledger: 'could not resolve host'. The office's own machines reach the ledger fine.",
          f"the Corefile's server block for the office's zone reads {CORP_ZONE_TYPO}: no block matches "
          f"{CORP_ZONE}, so its names go to the default forward (the nodes' resolver, the world's DNS), "
          "which answers NXDOMAIN",
          f"spell the stub domain's zone as the office names it ({CORP_ZONE}:53 {{ forward . {CORP_DNS} }}); "
          "the reload plugin picks up the ConfigMap",
          _one(lambda d: d["data"].__setitem__("Corefile", corefile_with_stub(CORP_ZONE_TYPO)))),
    Fault("ndots-timeout-under-egress", "DNS", (("NetworkPolicy", "kube-system", "coredns-egress"),),
          ("api-payments",),
          "Checkout hangs for about ten seconds, then fails with 'payment provider unreachable'; every page "
          "inside the shop answers at once.",
          f"kube-system's egress policy for CoreDNS lost the nodes' resolver ({NODE_RESOLVER}): every name CoreDNS "
          "forwards there times out (SERVFAIL after the forward plugin's 5 s). With ndots:5, "
          "payments.example.com is tried as 5 names: the 3 cluster search domains answer NXDOMAIN at once, "
          "then payments.example.com.localdomain and payments.example.com each wait 5 s",
          f"allow CoreDNS's egress to {NODE_RESOLVER}/32 on UDP and TCP 53 (fewer search candidates, with "
          "ndots or a trailing dot, only save one of the waits)",
          _one(lambda d: d["spec"]["egress"][0].__setitem__("to", d["spec"]["egress"][0]["to"][1:]))),
    Fault("search-path-surprise", "DNS", ((DEP, "reports", "report"),), ("reports",),
          "The nightly sales report came back with a status page instead of the orders since the reports team "
          "shortened its configuration.",
          "the report's API_URL is http://api/orders: a short name resolves through the pod's search list, whose "
          "first domain is reports.svc.cluster.local, so it reaches the reports team's own Service api, not shop's",
          "call the shop's API by a name that says its namespace (http://api.shop/orders)",
          _one(lambda d: _env_of(d).__setitem__("API_URL", "http://api/orders")),
          adds=lambda: [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "reports"},
                         "spec": {"selector": {"app": "report"},
                                  "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}]),
    Fault("db-targetport-wrong", "Services", (("Service", "shop", "db"),), ("cart-db",),
          "Saving an order fails: the cart cannot talk to its database since the Service was edited.",
          "Service db's port 5432 now targets port 5433, where no database container listens",
          "targetPort must be the database container's port (postgres / 5432)",
          _one(lambda d: d["spec"]["ports"][0].__setitem__("targetPort", 5433))),
)

_BY_ID = {f.id: f for f in FAULTS}


def by_id(fault_id: str) -> Fault:
    try:
        return _BY_ID[fault_id]
    except KeyError:
        raise KeyError(f"no fault {fault_id!r}; the library has: {', '.join(sorted(_BY_ID))}") from None
