"""Checks for lesson 06 · DNS: per-pod names behind a headless Service, names across namespaces,
the cost of the search list, and the `pods` knob of the Corefile.

Every check builds a fresh cluster, applies the learner's answer and asks DNS questions from pods
(`lab.resolve(name, type, src=...)`), then connects by name where that is the point.
"""
from __future__ import annotations

from ...errors import KubelabError
from . import exercise
from ._support import answer_docs, apply_answer, as_yaml, client_pod, web_deployment, web_service

LESSON = "06-dns"
OUTSIDE = {"www.example.com": {"A": ["192.0.2.80"]}}

CLIENT = as_yaml(client_pod())
#: A Service of another namespace, which a pod reaches as api.other through its search list.
_ELSEWHERE = as_yaml({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}},
                     {**web_service("api"), "metadata": {"name": "api", "namespace": "other"}})

WEB = as_yaml(web_deployment(2, port_name="http"), web_service())


# ---------------------------------------------------------------- helpers
def _of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d.get("kind") == kind]


def _spec(doc: dict) -> dict:
    return doc.get("spec") or {}


def _namespace(doc: dict) -> str:
    return (doc.get("metadata") or {}).get("namespace") or "default"


def _name(doc: dict) -> str:
    return str((doc.get("metadata") or {}).get("name") or "")


def _pod_ips(lab, namespace: str) -> dict[str, str]:
    """IP -> pod name, every address of every pod in the namespace."""
    return {entry["ip"]: pod["metadata"]["name"]
            for pod in lab.list("Pod", namespace) for entry in pod["status"].get("podIPs") or []}


def _cluster_ip(lab, name: str, namespace: str) -> str | None:
    try:
        return lab.get("Service", name, namespace)["spec"].get("clusterIP")
    except KubelabError:
        return None


# ---------------------------------------------------------------- 06-db-pod-name
@exercise("06-db-pod-name", title="A stable DNS name for the database pod db-0", lesson=LESSON, answer="manifests",
          scored=("db-0.db.default.svc.cluster.local resolves from pod client",
                  "it is exactly one address, a pod's own IP",
                  "db from pod client answers with the pods themselves (headless)",
                  "pod client connects to db-0.db on 5432 and lands on that pod"))
def db_pod_name(answer, ctx):
    """Headless Service db + a pod with hostname db-0 and subdomain db (or a StatefulSet db): the name
    db-0.db.default.svc.cluster.local is that pod, and db lists the pods."""
    docs = answer_docs(answer)
    services = [s for s in _of_kind(docs, "Service") if _name(s) == "db"]
    pods = _of_kind(docs, "Pod")
    sets = _of_kind(docs, "StatefulSet")
    ctx.mistake("subdomain does not match the Service's name",
                any(_spec(p).get("hostname") and _spec(p).get("subdomain") not in (None, "db") for p in pods)
                or any(_spec(s).get("serviceName") not in (None, "db") for s in sets),
                "a pod's name lives under the Service whose name equals its subdomain "
                "(a StatefulSet's spec.serviceName)")
    ctx.mistake("pod without spec.hostname",
                any(_name(p) == "db-0" and not _spec(p).get("hostname") for p in pods),
                "a pod's name is not its DNS label; the Service publishes spec.hostname (a StatefulSet "
                "sets it for you)")
    ctx.mistake("the Service is not headless",
                any(_spec(s).get("clusterIP") != "None" for s in services),
                "with a ClusterIP, db answers with one virtual IP; the DNS specification gives per-pod names "
                "only under headless Services (clusterIP: None)")
    ctx.mistake("Service or pod outside namespace default",
                any(_namespace(d) != "default" for d in services + pods + sets),
                "the name asks for namespace default: db-0.db.default.svc.cluster.local")

    lab = ctx.lab()
    lab.apply(CLIENT)
    if not apply_answer(ctx, lab, answer):
        return
    name = "db-0.db.default.svc.cluster.local"
    ips = _pod_ips(lab, "default")
    pod_answer = lab.resolve(name, "A", src="default/client")
    ctx.expect(f"{name} resolves from pod client", bool(pod_answer.addresses),
               f"print(lab.resolve('{name}', 'A', src='default/client')) in your lab")
    owner = ips.get(pod_answer.addresses[0]) if len(pod_answer.addresses) == 1 else None
    ctx.expect("it is exactly one address, a pod's own IP", owner is not None,
               "a per-pod name answers with one pod; a Service name answers with a ClusterIP or many pods")
    headless = lab.resolve("db", "A", src="default/client")
    ctx.expect("db from pod client answers with the pods themselves (headless)",
               bool(headless.addresses) and all(ip in ips for ip in headless.addresses),
               "which Services answer with pod IPs instead of a virtual IP?")
    verdict = lab.reach("default/client", "db-0.db", 5432)
    ctx.expect("pod client connects to db-0.db on 5432 and lands on that pod",
               bool(verdict) and owner is not None and verdict.endpoint == f"{pod_answer.addresses[0]}:5432",
               "the name does not resolve yet: fix that first" if not pod_answer.addresses
               else f"the connection failed: {verdict.reason}" if not verdict
               else "the pod's program must listen on 5432")


# ---------------------------------------------------------------- 06-cross-namespace
CART = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: billing}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: billing}
spec:
  replicas: 2
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers: [{name: cart, image: nginxinc/nginx-unprivileged, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: billing}
spec:
  selector: {app: cart}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: cart-legacy, namespace: shop, labels: {app: cart-legacy}}
spec:
  containers: [{name: cart, image: nginxinc/nginx-unprivileged, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart-legacy}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: frontend, namespace: shop}
spec:
  containers: [{name: frontend, image: busybox, command: [sleep, infinity]}]
---
apiVersion: v1
kind: Pod
metadata: {name: no-search, namespace: shop}
spec:
  dnsPolicy: "None"
  dnsConfig:
    nameservers: [10.96.0.10]
  containers: [{name: app, image: busybox, command: [sleep, infinity]}]
"""


@exercise("06-cross-namespace", title="Name the cart Service of namespace billing", lesson=LESSON, answer="str",
          scored=("from shop/frontend it resolves to the ClusterIP of billing/cart",
                  "shop/frontend connects to it on port 80 and lands on a billing cart pod",
                  "it is fully qualified: it resolves from a pod whose resolv.conf has no search list"))
def cross_namespace(answer, ctx):
    """The fully qualified name of Service cart in namespace billing, as used from namespace shop."""
    if not ctx.precondition("the answer is a DNS name (a string)",
                            isinstance(answer, str) and answer.strip() and "\n" not in answer.strip(),
                            'write the name in quotes, e.g. "something.example"'):
        return
    name = answer.strip()
    lab = ctx.lab()
    lab.apply(CART)
    billing_ip = _cluster_ip(lab, "cart", "billing")
    shop_ip = _cluster_ip(lab, "cart", "shop")
    from_shop = lab.resolve(name, "A", src="shop/frontend")
    ctx.expect("from shop/frontend it resolves to the ClusterIP of billing/cart",
               from_shop.addresses == [billing_ip],
               "a Service's name contains its namespace; print(lab.resolve(name, 'A', src='shop/frontend'))")
    ctx.mistake("the short name finds the cart Service of namespace shop", shop_ip in from_shop.addresses,
                "a pod's search list starts with its own namespace, so a name without the namespace "
                "finds shop's own cart first")
    ctx.mistake("a pod name instead of a Service name", ".pod." in f".{name.lower()}.",
                "Services live under svc, pods under pod")
    verdict = lab.reach("shop/frontend", name, 80)
    cart_ips = _pod_ips(lab, "billing")
    ctx.expect("shop/frontend connects to it on port 80 and lands on a billing cart pod",
               bool(verdict) and verdict.endpoint is not None and verdict.endpoint.rsplit(":", 1)[0] in cart_ips,
               "lab.reach('shop/frontend', name, 80) says where the connection went")
    absolute = lab.resolve(name, "A", src="shop/no-search")
    ctx.expect("it is fully qualified: it resolves from a pod whose resolv.conf has no search list",
               absolute.addresses == [billing_ip],
               "a fully qualified name spells out every label down to the cluster domain")
    ctx.mistake("a short form that relies on the search list",
                from_shop.addresses == [billing_ip] and not absolute.addresses,
                "cart.billing works from a ClusterFirst pod only because its search list appends "
                "svc.cluster.local")


# ---------------------------------------------------------------- 06-one-query
_ONE_QUERY = ("...with a single DNS query",
              "...and crawler still finds the Service web by its short name",
              "...and a Service of another namespace as <name>.<namespace>")


@exercise("06-one-query", title="Resolve www.example.com with a single query", lesson=LESSON, answer="manifests",
          scored=_ONE_QUERY)
def one_query(answer, ctx):
    """Pod crawler whose resolver sends www.example.com once (ndots:1 via dnsConfig, or a None policy
    with the cluster DNS), and still finds the Service web by its short name."""
    docs = answer_docs(answer)
    crawlers = [p for p in _of_kind(docs, "Pod") if _name(p) == "crawler"]
    spec = _spec(crawlers[0]) if crawlers else {}
    config = spec.get("dnsConfig") or {}
    ctx.mistake("an option value that is not a string",
                any(not isinstance(o.get("value", ""), str) for o in config.get("options") or []
                    if isinstance(o, dict)),
                'dnsConfig option values are strings: value: "1"')
    ctx.mistake("dnsPolicy None without nameservers", spec.get("dnsPolicy") == "None" and not config.get("nameservers"),
                "with dnsPolicy None the pod gets only what dnsConfig says, so it needs a nameserver")

    lab = ctx.lab(external_dns=OUTSIDE)
    lab.apply(WEB)
    lab.apply(_ELSEWHERE)
    if not apply_answer(ctx, lab, answer):
        return
    try:
        lab.get("Pod", "crawler")
    except KubelabError:
        ctx.require("pod crawler exists in namespace default", False, "name the pod crawler")
        return
    outside = lab.resolve("www.example.com", "A", src="default/crawler")
    ctx.require("crawler resolves www.example.com to 192.0.2.80", outside.addresses == ["192.0.2.80"],
               "print(lab.resolve('www.example.com', 'A', src='default/crawler'))")
    single = bool(outside.addresses) and len(outside.queries) == 1
    ctx.expect(_ONE_QUERY[0], single, "look at .queries: which rule makes the resolver try the search list first?")
    # the cluster's own names count only once the outside name takes one query (the starter pod finds them too)
    web = lab.resolve("web", "A", src="default/crawler")
    web_ip = _cluster_ip(lab, "web", "default")
    ctx.expect(_ONE_QUERY[1], single and web.addresses == [web_ip],
               "the cluster's names need the cluster DNS and the namespace's search domain")
    other = lab.resolve("api.other", "A", src="default/crawler")
    ctx.expect(_ONE_QUERY[2], single and other.addresses == [_cluster_ip(lab, "api", "other")],
               "a ClusterFirst pod's search list also holds svc.cluster.local, so api.other finds Service api of "
               "namespace other; keep the whole search list (dnsConfig adds to it)")
    ctx.mistake("dnsPolicy Default", lab.get("Pod", "crawler")["spec"].get("dnsPolicy") == "Default",
                "Default gives the pod the node's resolv.conf: outside names work, cluster names do not")


# ---------------------------------------------------------------- 06-pods-verified
@exercise("06-pods-verified", title="Answer pod names only for pods that exist", lesson=LESSON, answer="manifests",
          scored=("the name of pod client's IP in its own namespace answers with that IP",
                  "the same IP under namespace kube-system is NXDOMAIN (while the real name answers)",
                  "an IP that no pod has is NXDOMAIN (while the real name answers)",
                  "Service and outside names still resolve (while pod names are verified)"))
def pods_verified(answer, ctx):
    """ConfigMap kube-system/coredns with `pods verified`: a-b-c-d.<ns>.pod names answer only for a pod
    with that IP in that namespace; Services and outside names still resolve."""
    docs = answer_docs(answer)
    maps = _of_kind(docs, "ConfigMap")
    ctx.mistake("not the ConfigMap CoreDNS reads",
                maps and not any(_name(m) == "coredns" and _namespace(m) == "kube-system" for m in maps),
                "CoreDNS loads its Corefile from ConfigMap coredns in namespace kube-system")
    corefile = next((str((m.get("data") or {}).get("Corefile", "")) for m in maps if _name(m) == "coredns"), "")
    ctx.mistake("pods disabled", "pods disabled" in corefile,
                "disabled removes every pod name, even those of real pods")
    ctx.mistake("no pods line", "kubernetes" in corefile and "pods " not in corefile,
                "without a pods line the kubernetes plugin uses its own default, disabled")

    lab = ctx.lab(external_dns=OUTSIDE)
    lab.apply(WEB)
    lab.apply(CLIENT)
    if not apply_answer(ctx, lab, answer):
        return
    # the API server stores any ConfigMap; CoreDNS logs a Corefile it cannot load and keeps the old one
    coredns = lab.list("Pod", "kube-system", selector="k8s-app=kube-dns")
    refused = [line for p in coredns[:1] for line in lab.logs(f"kube-system/{p['metadata']['name']}").splitlines()
               if "Restart failed" in line]
    if not ctx.require("CoreDNS loads your Corefile", not refused,
                       (refused[-1] + " (from the CoreDNS pod's logs)") if refused else ""):
        return
    client_ip = lab.get("Pod", "client")["status"]["podIP"]
    dashed = client_ip.replace(".", "-")
    free_ip = "10.244.9.200"        # in the cluster CIDR, outside every node's podCIDR: no pod has it
    own = lab.resolve(f"{dashed}.default.pod.cluster.local", "A")
    ctx.expect("the name of pod client's IP in its own namespace answers with that IP", own.addresses == [client_ip],
               "real pods must keep their names")
    # refusing is only half of it: these count while the real pod's name still answers
    elsewhere = lab.resolve(f"{dashed}.kube-system.pod.cluster.local", "A")
    ctx.expect("the same IP under namespace kube-system is NXDOMAIN (while the real name answers)",
               elsewhere.rcode == "NXDOMAIN" and own.addresses == [client_ip],
               "which mode checks that a pod with this IP exists in that namespace?")
    nobody = lab.resolve(f"{free_ip.replace('.', '-')}.default.pod.cluster.local", "A")
    ctx.expect("an IP that no pod has is NXDOMAIN (while the real name answers)",
               nobody.rcode == "NXDOMAIN" and own.addresses == [client_ip],
               "kubeadm's default answers any address without looking")
    web = lab.resolve("web.default.svc.cluster.local", "A")
    outside = lab.resolve("www.example.com", "A", src="default/client")
    services_ok = web.addresses == [_cluster_ip(lab, "web", "default")]
    outside_ok = outside.addresses == ["192.0.2.80"]
    # scored only together with the verification (the starter Corefile resolves them too)
    ctx.expect("Service and outside names still resolve (while pod names are verified)",
               services_ok and outside_ok and own.addresses == [client_ip] and elsewhere.rcode == "NXDOMAIN"
               and nobody.rcode == "NXDOMAIN",
               "keep the rest of the kubernetes block as it was" if not services_ok
               else "keep the forward line: names outside cluster.local go to the node's nameservers" if not outside_ok
               else "verify pod names first (the two lines above)")
