"""Checks for lesson 09 · Ingress and the Gateway API: path fan-out, virtual hosts and wildcards, TLS per host,
IngressClass, a canary split through a Gateway and a route to another namespace.

Every check builds a fresh cluster with ingress-nginx (or Envoy Gateway) and echo-basic backends, applies the
learner's manifests and sends requests as a client outside would, through the controller's load balancer,
including hosts and paths the exercise text does not show.
"""
from __future__ import annotations

from ...errors import KubelabError
from ...net.http.match import host_matches
from ..examples import echo_app
from . import exercise
from ._support import answer_docs, apply_answer

LESSON = "09-ingress-and-gateway-api"
NGINX = ("ingress-nginx", "ingress-nginx-controller")


# ---------------------------------------------------------------- the cluster the checks build
def namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def _address(lab, namespace_: str, service: str) -> str | None:
    try:
        svc = lab.get("Service", service, namespace_)
    except KubelabError:
        return None
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return ingress[0].get("ip") if ingress else None


class Client:
    """A client outside the cluster that sends every request to one load balancer (curl --resolve)."""

    def __init__(self, lab, address: str):
        self.lab, self.address = lab, address

    def get(self, url: str):
        host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        return self.lab.http(url, resolve={host: self.address})

    def app(self, url: str) -> str | None:
        """The app label of the pod that answered 200, or None."""
        return app_of(self.lab, self.get(url))


def app_of(lab, response) -> str | None:
    if response.status != 200 or not response.pod:
        return None
    ns, name = response.pod.split("/", 1)
    try:
        return ((lab.get("Pod", name, ns)["metadata"].get("labels")) or {}).get("app")
    except KubelabError:
        return None


def _ingresses(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d.get("kind") == "Ingress"]


def _paths(docs: list[dict]):
    """(host, path, pathType, backend service dict) of every path in the answer's Ingresses."""
    for ing in _ingresses(docs):
        for rule in (ing.get("spec") or {}).get("rules") or []:
            if not isinstance(rule, dict):
                continue
            for p in ((rule.get("http") or {}).get("paths")) or []:
                if isinstance(p, dict):
                    yield (rule.get("host") or ""), str(p.get("path") or ""), p.get("pathType"), \
                        ((p.get("backend") or {}).get("service") or {})


# ---------------------------------------------------------------- mistakes several exercises share
def class_mistakes(ctx, lab, docs: list[dict]) -> None:
    """An Ingress ingress-nginx does not serve (IngressClass docs: spec.ingressClassName names the class of
    the controller that implements it), named with why."""
    for ing in _ingresses(docs):
        meta = ing.get("metadata") or {}
        try:
            live = lab.get("Ingress", meta.get("name"), meta.get("namespace", "default"))
        except KubelabError:
            continue
        if ((live.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
            continue
        asked = (ing.get("spec") or {}).get("ingressClassName")
        got = (live.get("spec") or {}).get("ingressClassName")
        classes = sorted(c["metadata"]["name"] for c in lab.list("IngressClass"))
        if asked is None and got:
            ctx.mistake("no ingressClassName", True,
                        f"the API server filled in the cluster's default IngressClass {got!r} when the Ingress was "
                        f"created, and ingress-nginx does not serve that class; set spec.ingressClassName")
        elif asked is not None and asked not in classes:
            ctx.mistake("ingressClassName names no IngressClass", True,
                        f"{asked!r} is not an IngressClass (kubectl get ingressclass lists {', '.join(classes)}); "
                        "the class name is not the controller's name")
        else:
            ctx.mistake("Ingress not served by ingress-nginx", True,
                        f"IngressClass {got!r} belongs to another controller; ingress-nginx serves the class "
                        "whose spec.controller is k8s.io/ingress-nginx")


def port_mistakes(ctx, lab, docs: list[dict]) -> None:
    """A backend port must be one of the Service's ports, by number (spec.ports[].port) or by name."""
    for _host, _path, _type, service in _paths(docs):
        port = service.get("port") or {}
        ns = "default"
        try:
            svc = lab.get("Service", service.get("name"), ns)
        except KubelabError:
            ctx.mistake("backend Service does not exist", True,
                        f"there is no Service {service.get('name')!r} in the Ingress's namespace")
            continue
        ports = svc["spec"].get("ports") or []
        if "number" in port and port["number"] not in [p["port"] for p in ports]:
            ctx.mistake("backend port number is not a Service port", True,
                        f"port.number {port['number']} is not a port of Service {svc['metadata']['name']} "
                        f"(it offers {', '.join(str(p['port']) for p in ports)}): name the Service's port, not the "
                        "container's targetPort")
            return
        if "name" in port and port["name"] not in [p.get("name") for p in ports]:
            ctx.mistake("backend port name is not a Service port name", True,
                        f"port.name {port['name']!r} is not the name of a port of Service {svc['metadata']['name']} "
                        f"(its ports are named {', '.join(repr(p.get('name')) for p in ports)})")
            return


def _nginx_lab(ctx, *objects, **kwargs):
    lab = ctx.lab(ingress_controller="ingress-nginx", **kwargs)
    lab.apply(list(objects))
    return lab, Client(lab, _address(lab, *NGINX))


def _expect_apps(ctx, client, name: str, urls: list[str], want: str | None, hint: str) -> bool:
    """One sub-check over several URLs: each lands on app `want` (None: on no app at all)."""
    got = {url: client.app(url) for url in urls}
    return ctx.expect(name, all(v == want for v in got.values()), hint)


# ---------------------------------------------------------------- 09-fanout
SHOP = "http://shop.example.com"


@exercise("09-fanout", title="One entry point for the shop: paths to Services", lesson=LESSON,
          scored=("shop.example.com/ and /index.html land on web", "/cart and every path under it land on cart",
                  "/api and every path under it land on api", "/cartography, /apiary and /Cart land on web",
                  "another host (www.example.com) gets no page of the shop"))
def fanout(answer, ctx):
    """Ingress for shop.example.com: /cart... -> cart, /api... -> api, everything else -> web (element-wise)."""
    docs = answer_docs(answer)
    lab, client = _nginx_lab(ctx, *echo_app("web"), *echo_app("cart"), *echo_app("api"))
    if not apply_answer(ctx, lab, answer):
        return
    _expect_apps(ctx, client, "shop.example.com/ and /index.html land on web",
                       [f"{SHOP}/", f"{SHOP}/index.html"], "web",
                       "a Prefix path / covers every path no longer rule takes")
    cart = _expect_apps(ctx, client, "/cart and every path under it land on cart",
                        [f"{SHOP}/cart", f"{SHOP}/cart/", f"{SHOP}/cart/checkout", f"{SHOP}/cart/checkout/pay?step=2"],
                        "cart", "lab.http(...).route says which rule matched each path")
    api = _expect_apps(ctx, client, "/api and every path under it land on api",
                       [f"{SHOP}/api", f"{SHOP}/api/v1/items", f"{SHOP}/api/"], "api",
                       "lab.http(...).route says which rule matched each path")
    lookalike = _expect_apps(ctx, client, "/cartography, /apiary and /Cart land on web",
                             [f"{SHOP}/cartography", f"{SHOP}/apiary", f"{SHOP}/Cart"], "web",
                             "a path that only starts with the same letters is not under /cart; paths are "
                             "case-sensitive")
    other = ctx.expect("another host (www.example.com) gets no page of the shop",
                       client.get("http://www.example.com/cart").status == 404,
                       "rules without host answer every host name the controller receives")
    class_mistakes(ctx, lab, docs)
    paths = list(_paths(docs))
    if not (cart and api):
        ctx.mistake("Exact where Prefix is meant",
                    any(t == "Exact" and p.rstrip("/") in ("/cart", "/api") for _h, p, t, _s in paths),
                    "pathType Exact matches the one path, byte for byte: /cart but not /cart/ or /cart/checkout")
        ctx.mistake("a glob in the path", any("*" in p for _h, p, _t, _s in paths),
                    "paths are not globs: '*' is matched literally; a Prefix path covers everything under it")
        port_mistakes(ctx, lab, docs)
    if not lookalike:
        ctx.mistake("ImplementationSpecific is a string prefix in ingress-nginx",
                    any(t == "ImplementationSpecific" for _h, _p, t, _s in paths),
                    "ingress-nginx matches ImplementationSpecific like nginx's `location /cart`, a plain string "
                    "prefix, so /cartography matches; Prefix compares whole path elements")
    if not other:
        ctx.mistake("a rule without host", any(not h for h, _p, _t, _s in paths),
                    "set host: shop.example.com on the rule, so only that name reaches the shop")


# ---------------------------------------------------------------- 09-tenants
@exercise("09-tenants", title="Virtual hosts: the portal and every tenant's subdomain", lesson=LESSON,
          scored=("apps.example.com lands on portal", "every tenant's subdomain lands on tenants",
                  "other names (www.example.com, apps.example.org) reach neither"))
def tenants(answer, ctx):
    """apps.example.com -> portal; <tenant>.apps.example.com -> tenants (a one-label wildcard); nothing else."""
    docs = answer_docs(answer)
    lab, client = _nginx_lab(ctx, *echo_app("portal"), *echo_app("tenants"))
    if not apply_answer(ctx, lab, answer):
        return
    portal = _expect_apps(ctx, client, "apps.example.com lands on portal",
                          ["http://apps.example.com/", "http://apps.example.com/login"], "portal",
                          "the portal's own name needs a rule of its own")
    tenant = _expect_apps(ctx, client, "every tenant's subdomain lands on tenants",
                          ["http://acme.apps.example.com/", "http://zeta.apps.example.com/orders",
                           "http://b-42.apps.example.com/"], "tenants",
                          "print(lab.http(...).route) for a tenant's URL: which host rule was chosen?")
    outside = _expect_apps(ctx, client, "other names (www.example.com, apps.example.org) reach neither",
                           ["http://www.example.com/", "http://apps.example.org/", "http://example.com/"], None,
                           "only apps.example.com and its subdomains belong to this Ingress")
    class_mistakes(ctx, lab, docs)
    hosts = {h for h, _p, _t, _s in _paths(docs)}
    if not tenant or not outside:
        ctx.mistake("a wildcard one level too high", "*.example.com" in hosts,
                    "an Ingress wildcard stands for exactly one DNS label: *.example.com matches apps.example.com "
                    "and www.example.com, never acme.apps.example.com")
    if not portal:
        ctx.mistake("the wildcard does not cover the name itself",
                    any(host_matches(h, "acme.apps.example.com") for h in hosts) and "apps.example.com" not in hosts,
                    "*.apps.example.com needs one label in front: apps.example.com itself is not covered")
    if not outside:
        ctx.mistake("a rule without host", "" in hosts, "a rule without host answers every name")


# ---------------------------------------------------------------- 09-tls
TLS_HOSTS = {"store.example.com": "web", "api.example.com": "api"}


@exercise("09-tls", title="HTTPS for two hosts, each with its own certificate", lesson=LESSON,
          scored=(*(line for host, app in TLS_HOSTS.items() for line in (
                      f"https://{host}/ lands on {app}", f"{host} is served with a certificate valid for {host}")),
                  "https://store.example.com/account/orders?page=2 lands on web with the same certificate",
                  "plain http://store.example.com/cart is redirected to https (308)"))
def tls(answer, ctx):
    """Ingress in namespace store: https store.example.com -> web, api.example.com -> api, each host served with a
    certificate valid for it from a kubernetes.io/tls Secret in the Ingress's namespace."""
    docs = answer_docs(answer)
    lab, client = _nginx_lab(ctx, namespace("store"), *echo_app("web", "store"), *echo_app("api", "store"))
    if not apply_answer(ctx, lab, answer):
        return
    responses = {host: client.get(f"https://{host}/") for host in TLS_HOSTS}
    for host, app in TLS_HOSTS.items():
        ctx.expect(f"https://{host}/ lands on {app}", app_of(lab, responses[host]) == app,
                   "a rule for the host, in namespace store, with the Service in the same namespace")
        ctx.expect(f"{host} is served with a certificate valid for {host}", responses[host].tls_secret is not None,
                   "the TLS part of lab.http(...).route says which certificate was presented and why")
    deep = client.get("https://store.example.com/account/orders?page=2")
    ctx.expect("https://store.example.com/account/orders?page=2 lands on web with the same certificate",
               app_of(lab, deep) == "web" and deep.tls_secret is not None
               and deep.tls_secret == responses["store.example.com"].tls_secret,
               "every path of the host is served, and the certificate depends on the name only")
    redirect = client.get("http://store.example.com/cart")
    ctx.expect("plain http://store.example.com/cart is redirected to https (308)",
               redirect.status == 308 and redirect.headers.get("location") == "https://store.example.com/cart",
               "ingress-nginx redirects plain HTTP for hosts listed under spec.tls")
    class_mistakes(ctx, lab, docs)
    _tls_mistakes(ctx, lab, docs, responses)


def _tls_mistakes(ctx, lab, docs, responses) -> None:
    """The classic TLS mistakes, read from the controller's own explanation of the certificate it chose."""
    routes = " ".join((r.route or "") for r in responses.values() if r.tls_secret is None)
    if not routes:
        return
    ing_namespaces = {(i.get("metadata") or {}).get("namespace", "default") for i in _ingresses(docs)}
    secrets = [d for d in docs if d.get("kind") == "Secret"]
    ctx.mistake("TLS Secret in another namespace",
                "does not exist" in routes and any((s.get("metadata") or {}).get("namespace", "default")
                                                   not in ing_namespaces for s in secrets),
                "an Ingress reads Secrets from its own namespace only: create the Secret in namespace store")
    ctx.mistake("certificate not valid for the host", "the certificate in Secret" in routes,
                "each host needs a certificate whose SANs name it: make_tls_secret(name, namespace, [host, ...])")
    ctx.mistake("host missing from spec.tls", "no spec.tls entry covers" in routes,
                "list each HTTPS host under spec.tls[].hosts, spelled as in the rule")
    ctx.mistake("Secret of the wrong type", "not kubernetes.io/tls" in routes,
                "a TLS Secret has type kubernetes.io/tls with tls.crt and tls.key")


# ---------------------------------------------------------------- 09-ingress-class
CLIENT_POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
              "spec": {"containers": [{"name": "client", "image": "busybox", "command": ["sleep", "infinity"]}]}}
INTERNAL_CLASS = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                  "metadata": {"name": "internal",
                               "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
                  "spec": {"controller": "example.com/internal-gateway"}}


@exercise("09-ingress-class", title="Make the public controller serve the blog", lesson=LESSON,
          scored=("ingress-nginx publishes its address in the Ingress's status",
                  "http://blog.example.com/ and /posts/2 land on web",
                  "a pod inside the cluster reaches the blog through the controller's Service",
                  "other teams' Ingresses without a class still get the default class internal"))
def ingress_class(answer, ctx):
    """An Ingress for blog.example.com -> web that ingress-nginx serves, in a cluster whose default IngressClass
    belongs to another controller."""
    docs = answer_docs(answer)
    ctx.mistake("the controller's name as the class", any("/" in str((i.get("spec") or {}).get("ingressClassName", ""))
                                                         for i in _ingresses(docs)),
                "spec.ingressClassName names an IngressClass object (kubectl get ingressclass), not its "
                "spec.controller")
    lab, client = _nginx_lab(ctx, INTERNAL_CLASS, *echo_app("web"), CLIENT_POD)
    if not apply_answer(ctx, lab, answer):
        return
    address = client.address
    served = [i for i in _ingresses(docs)
              if _published(lab, i) == address]
    ctx.expect("ingress-nginx publishes its address in the Ingress's status", served,
               "kubectl get ingress: the ADDRESS column stays empty until a controller serves the Ingress")
    _expect_apps(ctx, client, "http://blog.example.com/ and /posts/2 land on web",
                 ["http://blog.example.com/", "http://blog.example.com/posts/2"], "web",
                 "lab.http(...).route names the Ingresses the controller ignores, and why")
    inside = lab.http("http://ingress-nginx-controller.ingress-nginx/", src="default/client",
                      headers={"Host": "blog.example.com"})
    ctx.expect("a pod inside the cluster reaches the blog through the controller's Service", app_of(lab, inside) == "web",
               "pods can use the controller too: its Service name, with the blog's Host header")
    # scored only once the blog is served: the starter code already leaves the default class alone
    default_kept = _default_class_for_a_new_ingress(lab) == "internal"
    ctx.expect("other teams' Ingresses without a class still get the default class internal",
               default_kept and bool(served),
               "leave the cluster's IngressClasses as they are: the blog's own Ingress says which class it wants"
               if not default_kept else "serve the blog first (the lines above)")
    class_mistakes(ctx, lab, docs)


def _default_class_for_a_new_ingress(lab) -> str | None:
    """What the DefaultIngressClass admission gives an Ingress created without a class (None: refused)."""
    probe = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "kubelab-probe",
                                                                                  "namespace": "default"},
             "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}
    try:
        lab.apply(probe)
        return lab.get("Ingress", "kubelab-probe")["spec"].get("ingressClassName")
    except KubelabError:
        return None


def _published(lab, ingress: dict) -> str | None:
    meta = ingress.get("metadata") or {}
    try:
        live = lab.get("Ingress", meta.get("name"), meta.get("namespace", "default"))
    except KubelabError:
        return None
    entries = ((live.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return entries[0].get("ip") if entries else None


# ---------------------------------------------------------------- Gateway API: what the checks share
GATEWAY = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
           "metadata": {"name": "shop-gateway", "namespace": "default"},
           "spec": {"gatewayClassName": "eg",
                    "listeners": [{"name": "http", "protocol": "HTTP", "port": 80, "hostname": "*.example.com"}]}}


def _gateway_lab(ctx, *objects):
    """A cluster with Envoy Gateway, the Gateway shop-gateway (listener http, *.example.com, routes from its own
    namespace) and `objects`; a client that sends every request to the Gateway's address."""
    lab = ctx.lab(gateway_controller="envoy-gateway")
    lab.apply([GATEWAY, *objects])
    addresses = (lab.get("Gateway", "shop-gateway").get("status") or {}).get("addresses") or []
    return lab, Client(lab, addresses[0]["value"] if addresses else None)


def _routes(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d.get("kind") == "HTTPRoute"]


def route_conditions(lab, route: dict) -> dict:
    """{condition type: (status, reason)} of the first parent status shop-gateway's controller wrote for the
    route; {} when none was written (the route names no Gateway that exists)."""
    meta = route.get("metadata") or {}
    try:
        live = lab.get("HTTPRoute", meta.get("name"), meta.get("namespace", "default"))
    except KubelabError:
        return {}
    for parent in (live.get("status") or {}).get("parents") or []:
        if (parent.get("parentRef") or {}).get("name") == "shop-gateway":
            return {c["type"]: (c["status"], c.get("reason")) for c in parent.get("conditions") or []}
    return {}


def _expect_accepted(ctx, lab, docs) -> dict:
    """The route's parent status: Accepted and ResolvedRefs True, each one sub-check; the known reasons named."""
    routes = _routes(docs)
    conditions = route_conditions(lab, routes[0]) if routes else {}
    ctx.expect("shop-gateway accepts the HTTPRoute (Accepted True)", conditions.get("Accepted", ("",))[0] == "True",
               "read the route's status first: kubectl get httproute -o yaml, or lab.get('HTTPRoute', ...)['status']")
    ctx.expect("every backendRef of the route resolves (ResolvedRefs True)",
               conditions.get("ResolvedRefs", ("",))[0] == "True",
               "the ResolvedRefs condition's reason says which reference failed")
    reasons = {reason for _status, reason in conditions.values()}
    ctx.mistake("the route names no Gateway that exists", routes and not conditions,
                "spec.parentRefs[].name is the Gateway's name (shop-gateway), in the route's namespace unless "
                "parentRefs[].namespace says otherwise")
    ctx.mistake("the route's hostnames do not intersect the listener's", "NoMatchingListenerHostname" in reasons,
                "the listener only takes *.example.com: a route hostname must fall under it (one or more labels "
                "in front of example.com)")
    ctx.mistake("the listener does not allow routes from this namespace", "NotAllowedByListeners" in reasons,
                "the listener's allowedRoutes defaults to namespaces: from: Same: put the HTTPRoute in the Gateway's "
                "namespace (default)")
    return conditions


# ---------------------------------------------------------------- 09-canary
CANARY_REQUESTS = 500
CANARY_SHARE, CANARY_TOLERANCE = 0.10, 0.05


_GATEWAY_ACCEPTS = ("shop-gateway accepts the HTTPRoute (Accepted True)",
                    "every backendRef of the route resolves (ResolvedRefs True)")


@exercise("09-canary", title="A canary: one request in ten to the new version", lesson=LESSON,
          scored=(*_GATEWAY_ACCEPTS, f"every one of {CANARY_REQUESTS} requests is answered by web or web-v2",
                  f"web-v2 gets {CANARY_SHARE:.0%} of them, within ±{CANARY_TOLERANCE:.0%}",
                  "other paths of shop.example.com are served too",
                  "another name under the listener (www.example.com) is not routed to web"))
def canary(answer, ctx):
    """HTTPRoute on shop-gateway for shop.example.com: about 10% of requests to web-v2, the rest to web, on every
    path; the route Accepted."""
    docs = answer_docs(answer)
    lab, client = _gateway_lab(ctx, *echo_app("web"), *echo_app("web-v2"))
    if not apply_answer(ctx, lab, answer):
        return
    conditions = _expect_accepted(ctx, lab, docs)
    apps = [client.app("http://shop.example.com/") for _ in range(CANARY_REQUESTS)]
    share = apps.count("web-v2") / CANARY_REQUESTS
    ctx.expect(f"every one of {CANARY_REQUESTS} requests is answered by web or web-v2",
               set(apps) <= {"web", "web-v2"}, "print(lab.http(...)) for one that failed: its reason says why")
    ctx.expect(f"web-v2 gets {CANARY_SHARE:.0%} of them, within ±{CANARY_TOLERANCE:.0%}",
               abs(share - CANARY_SHARE) <= CANARY_TOLERANCE,
               f"web-v2 got {share:.1%}: a backendRef's weight is its share of the sum of the weights")
    other_paths = {client.app(f"http://shop.example.com{p}") for p in ("/products/42", "/cart?x=1", "/a/b/c")}
    ctx.expect("other paths of shop.example.com are served too", other_paths and other_paths <= {"web", "web-v2"},
               "a rule without matches takes every path (PathPrefix /)")
    # only meaningful once the route serves shop.example.com: an answer that routes nothing earns nothing here
    ctx.expect("another name under the listener (www.example.com) is not routed to web",
               "web" in apps and client.get("http://www.example.com/").status == 404,
               "spec.hostnames restricts the route to shop.example.com")
    if conditions.get("Accepted", ("",))[0] == "True" and abs(share - CANARY_SHARE) > CANARY_TOLERANCE:
        _weight_mistakes(ctx, docs, share)


def _weight_mistakes(ctx, docs, share: float) -> None:
    """The split is wrong although the route is accepted: reversed weights, two rules, or no weights at all."""
    rules = [r for route in _routes(docs) for r in (route.get("spec") or {}).get("rules") or [] if isinstance(r, dict)]
    refs = [b for r in rules for b in r.get("backendRefs") or [] if isinstance(b, dict)]
    ctx.mistake("the weights are the wrong way round", share > 1 - CANARY_SHARE - CANARY_TOLERANCE,
                "the weight goes on the backendRef it belongs to: web-v2 gets the small one")
    ctx.mistake("the two versions are in separate rules", sum(1 for r in rules if r.get("backendRefs")) > 1 and share == 0,
                "two rules with the same match never split: the first one matches every request. Put both "
                "backendRefs in one rule, with weights")
    ctx.mistake("backendRefs without weights", len(refs) > 1 and all("weight" not in b for b in refs),
                "every backendRef weighs 1 by default: two refs split 50/50")


# ---------------------------------------------------------------- 09-cross-namespace
PAYMENTS = [namespace("payments"), *echo_app("pay", "payments")]


@exercise("09-cross-namespace", title="Route to a Service in another namespace", lesson=LESSON,
          scored=(*_GATEWAY_ACCEPTS, "http://pay.example.com/ and /v1/charges land on pay in namespace payments",
                  "another name under the listener (shop.example.com) does not reach pay"))
def cross_namespace(answer, ctx):
    """HTTPRoute in default on shop-gateway: pay.example.com -> Service pay in namespace payments, allowed by a
    ReferenceGrant in payments; the route Accepted with its references resolved."""
    docs = answer_docs(answer)
    lab, client = _gateway_lab(ctx, *PAYMENTS, *echo_app("web"))
    if not apply_answer(ctx, lab, answer):
        return
    _expect_accepted(ctx, lab, docs)
    pay = _expect_apps(ctx, client, "http://pay.example.com/ and /v1/charges land on pay in namespace payments",
                       ["http://pay.example.com/", "http://pay.example.com/v1/charges?limit=3"], "pay",
                       "a 500 from the Gateway means the backendRef is not resolved: read the route's ResolvedRefs")
    ctx.expect("another name under the listener (shop.example.com) does not reach pay",
               pay and client.app("http://shop.example.com/") != "pay",
               "spec.hostnames restricts the route to pay.example.com")
    _grant_mistakes(ctx, lab, docs)


def _grant_mistakes(ctx, lab, docs) -> None:
    """ReferenceGrant (gateway-api.sigs.k8s.io/api-types/referencegrant): it lives in the namespace of the referent
    and names the kind and namespace of the referrer."""
    routes = _routes(docs)
    if not routes or route_conditions(lab, routes[0]).get("ResolvedRefs", ("", ""))[1] != "RefNotPermitted":
        return
    grants = [d for d in docs if d.get("kind") == "ReferenceGrant"]
    ctx.mistake("no ReferenceGrant", not grants,
                "a route may only reference a Service in another namespace when that namespace says so: add a "
                "ReferenceGrant in namespace payments")
    ctx.mistake("the ReferenceGrant is in the route's namespace",
                any((g.get("metadata") or {}).get("namespace", "default") != "payments" for g in grants),
                "the grant belongs to the namespace that owns the Service (payments): the owner gives permission")
    ctx.mistake("the ReferenceGrant names the wrong referrer",
                any(not any(f.get("kind") == "HTTPRoute" and f.get("namespace") == "default"
                            for f in (g.get("spec") or {}).get("from") or []) for g in grants),
                "spec.from names who refers: group gateway.networking.k8s.io, kind HTTPRoute, namespace default")
