"""Checks for lesson 04 · Exposing Services: NodePort, LoadBalancer and the client's IP, ExternalName, headless.

Every check builds a fresh cluster with the lesson's Deployment `web` (pods labelled app=web that
listen on 8080), applies the learner's manifests and probes what a client would see.
"""
from __future__ import annotations

import ipaddress

from ...errors import KubelabError
from . import exercise
from ._support import (ECHOSERVER, answer_docs, apply_answer, as_yaml, client_pod, start_another_pod,
                       web_deployment)

LESSON = "04-exposing-services"
OUTSIDE_CLIENT = "203.0.113.10"
NODE_PORT_RANGE = range(30000, 32768)

# lesson 04's cluster: its web pods run echoserver, which prints the client address it sees
WEB = as_yaml(web_deployment(2, image=ECHOSERVER), client_pod("client", {"app": "client"}))


# ---------------------------------------------------------------- helpers
def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _service(docs: list[dict], name: str) -> dict | None:
    return next((d for d in docs if d.get("kind") == "Service" and d["metadata"].get("name") == name), None)


def _answer_service(ctx, lab, answer, name: str) -> dict | None:
    """Apply the answer into `lab` and return the Service `name` it must create in namespace default, or None
    after the failed sub-check that says so."""
    if not apply_answer(ctx, lab, answer):
        return None
    live = _live_service(lab, name)
    ctx.expect(f"Service {name} exists in namespace default", live is not None, f"name the Service {name}")
    return live


def _live_service(lab, name: str) -> dict | None:
    try:
        return lab.get("Service", name)
    except KubelabError:
        return None


def _node_ips(lab) -> dict[str, str]:
    return {n["metadata"]["name"]: next(a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP")
            for n in lab.list("Node")}


def _web_nodes(lab) -> set[str]:
    return {p["spec"]["nodeName"] for p in lab.list("Pod", "default", selector="app=web")}


def _web_ips(lab) -> set[str]:
    return {p["status"]["podIP"] for p in lab.list("Pod", "default", selector="app=web")}


def _lands_on_web(verdict, lab) -> bool:
    return bool(verdict) and verdict.endpoint is not None and verdict.endpoint.rsplit(":", 1)[0] in _web_ips(lab)


def _target_port_mistake(ctx, spec: dict) -> None:
    """port vs targetPort: the Service forwards to targetPort (default: port), the containers listen on 8080."""
    ctx.mistake("port vs targetPort",
                any(p.get("targetPort", p.get("port")) != 8080 for p in spec.get("ports") or []),
                "port is what clients ask for on the Service; targetPort is where the container listens "
                "(the web containers declare containerPort 8080)")


def _selector_mistake(ctx, lab, spec: dict, name: str) -> None:
    """A selector that matches no pod leaves the Service without endpoints."""
    selector = spec.get("selector") or {}
    matched = lab.list("Pod", "default", selector=",".join(f"{k}={v}" for k, v in sorted(selector.items()))) \
        if selector else []
    ctx.mistake("selector matches no pod", selector and not matched,
                "a Service finds its pods by label; compare spec.selector with the web pods' labels")
    # without a selector the Service has only the EndpointSlices written by hand: name that only when there are none
    ctx.mistake("no selector", not selector and not lab.list("EndpointSlice", "default",
                                                              selector=f"kubernetes.io/service-name={name}"),
                "a Service finds its pods by label: give it spec.selector with the web pods' labels")


# ---------------------------------------------------------------- 04-nodeport
_LATER_NODEPORT = "a web pod started later gets connections through the node port too"


@exercise("04-nodeport", title="Expose web on every node's port 30080", lesson=LESSON, answer="manifests",
          scored=("Service web exists in namespace default", "Service web is of type NodePort",
                  "Service web opens node port 30080", "a client outside reaches a web pod through node-1:30080",
                  "every node answers on 30080, even a node without a web pod",
                  "inside the cluster, pod client still reaches web:80", _LATER_NODEPORT))
def nodeport(answer, ctx):
    """A NodePort Service web: port 80 -> the pods' 8080, nodePort 30080, reachable from outside via any node."""
    docs = answer_docs(answer)
    svc = _service(docs, "web") or {}
    spec = svc.get("spec") or {}
    ctx.mistake("nodePort outside 30000-32767",
                any(isinstance(p.get("nodePort"), int) and p["nodePort"] not in NODE_PORT_RANGE
                    for p in spec.get("ports") or []),
                "node ports come from the API server's --service-node-port-range, 30000-32767 by default")
    ctx.mistake("Service in another namespace", svc and svc["metadata"].get("namespace", "default") != "default",
                "the web pods run in namespace default; a Service selects pods in its own namespace only")
    lab = ctx.lab()
    lab.apply(WEB)
    live = _answer_service(ctx, lab, answer, "web")
    if live is None:
        return
    spec = live["spec"]
    ctx.expect("Service web is of type NodePort", spec.get("type") == "NodePort",
               "a LoadBalancer also opens node ports, but it asks the cloud for an external IP too: the brief "
               "wants the node ports alone" if spec.get("type") == "LoadBalancer"
               else "a ClusterIP Service is reachable only inside the cluster")
    node_ports = [p.get("nodePort") for p in spec.get("ports") or []]
    ctx.expect("Service web opens node port 30080", 30080 in node_ports,
               "without an explicit nodePort the API server picks a random one")
    ctx.mistake("30080 used as the Service port", any(p.get("port") == 30080 and p.get("nodePort") != 30080
                                                      for p in spec.get("ports") or []),
                "port is the Service's port on its ClusterIP; the node's port is a separate field")
    ips = _node_ips(lab)
    verdicts = {node: lab.reach(None, ip, 30080) for node, ip in sorted(ips.items())}
    first = verdicts[min(verdicts)]
    ctx.expect("a client outside reaches a web pod through node-1:30080", _lands_on_web(first, lab),
               "lab.reach(None, node_ip, 30080) shows where the connection goes and why it stops")
    ctx.expect("every node answers on 30080, even a node without a web pod",
               all(_lands_on_web(v, lab) for v in verdicts.values()),
               "compare lab.reach(None, ...) for each node's IP")
    inside = lab.reach("default/client", "web", 80)
    ctx.expect("inside the cluster, pod client still reaches web:80", _lands_on_web(inside, lab),
               "a NodePort Service is a ClusterIP Service too: clients inside use its port")
    if not _lands_on_web(first, lab):
        _target_port_mistake(ctx, spec)
        _selector_mistake(ctx, lab, spec, "web")
    new = start_another_pod(lab, "web")
    landed = {c.rsplit(":", 1)[0] for c in lab.reach(None, ips[min(ips)], 30080).candidates}
    ctx.expect(_LATER_NODEPORT, bool(new) and new <= landed and landed <= _web_ips(lab),
               "select the web pods by label, so the Service follows pods started later")
    _hand_written_mistake(ctx, new, landed)


def _hand_written_mistake(ctx, new: set[str], landed: set[str]) -> None:
    ctx.mistake("today's pod addresses written by hand", bool(landed) and new and not new & landed,
                "a Service without a selector and a hand-written EndpointSlice keeps today's addresses only; "
                "give the Service a selector and the EndpointSlice controller follows the pods")


# ---------------------------------------------------------------- 04-client-ip
@exercise("04-client-ip", title="Let the web pods see the client's IP", lesson=LESSON, answer="manifests",
          scored=("Service web-service exists in namespace default", "the cloud gives web-service an external IP",
                  "a client outside reaches a web pod at the external IP, port 80",
                  "the web pod sees the client's own address 203.0.113.10",
                  "a node without a web pod drops traffic on the node port",
                  "the health check answers 200 on nodes with a web pod and 503 on the others"))
def client_ip(answer, ctx):
    """LoadBalancer web-service (80 -> 8080) with externalTrafficPolicy Local: source IP kept, empty nodes drop."""
    lab = ctx.lab()
    lab.apply(WEB)
    live = _answer_service(ctx, lab, answer, "web-service")
    if live is None:
        return
    spec = live["spec"]
    ingress = ((live.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    ctx.expect("the cloud gives web-service an external IP", spec.get("type") == "LoadBalancer" and ingress,
               "only one Service type asks the cloud for a load balancer")
    if not ingress:
        return
    lb_ip = ingress[0]["ip"]
    verdict = lab.reach(None, lb_ip, 80)
    ctx.expect("a client outside reaches a web pod at the external IP, port 80", _lands_on_web(verdict, lab),
               "lab.reach(None, external_ip, 80) says where the connection went")
    ctx.expect("the web pod sees the client's own address 203.0.113.10", verdict.source_ip == OUTSIDE_CLIENT,
               "print the verdict: which source does the pod see, and who rewrote it?")
    ips = _node_ips(lab)
    with_pods = _web_nodes(lab)
    empty = sorted(set(ips) - with_pods)
    node_port = next((p.get("nodePort") for p in spec.get("ports") or [] if p.get("port") == 80), None)
    if empty and node_port:
        ctx.expect("a node without a web pod drops traffic on the node port",
                   not lab.reach(None, ips[empty[0]], node_port),
                   "try lab.reach(None, ip_of_a_node_without_web_pods, node_port)")
    hc_port = spec.get("healthCheckNodePort")
    statuses = {n: lab.http(f"http://{ip}:{hc_port}/healthz").status for n, ip in ips.items()} if hc_port else {}
    ctx.expect("the health check answers 200 on nodes with a web pod and 503 on the others",
               bool(statuses) and all(statuses[n] == (200 if n in with_pods else 503) for n in statuses),
               "spec.healthCheckNodePort appears only for one traffic policy; lab.http() it on each node")
    wrong_policy = spec.get("internalTrafficPolicy") == "Local" and spec.get("externalTrafficPolicy") != "Local"
    ctx.mistake("internalTrafficPolicy instead of externalTrafficPolicy", wrong_policy,
                "internalTrafficPolicy governs traffic from inside the cluster (ClusterIP); the load balancer's "
                "traffic comes from outside")
    ctx.mistake("externalTrafficPolicy Cluster",
                not wrong_policy and spec.get("externalTrafficPolicy") != "Local" and verdict
                and verdict.source_ip in ips.values(),
                "the pod saw a node's address: with Cluster, the receiving node may forward to another "
                "node, so it masquerades the source")
    if not _lands_on_web(verdict, lab):
        _target_port_mistake(ctx, spec)
        _selector_mistake(ctx, lab, spec, "web-service")


# ---------------------------------------------------------------- 04-externalname
EXTERNAL_DB = {"my.database.example.com": {"A": ["192.0.2.20"]}}


@exercise("04-externalname", title="Give the outside database a cluster name", lesson=LESSON, answer="manifests",
          scored=("Service db exists in namespace default", "Service db is of type ExternalName",
                  "from pod client, db is a CNAME for my.database.example.com",
                  "from pod client, db resolves to 192.0.2.20",
                  "pod client connects to db:5432 and lands on 192.0.2.20:5432",
                  "from namespace shop, db.default resolves to 192.0.2.20 too"))
def externalname(answer, ctx):
    """ExternalName Service db -> my.database.example.com: pods resolve db to 192.0.2.20 through a CNAME."""
    docs = answer_docs(answer)
    svc = _service(docs, "db") or {}
    target = str((svc.get("spec") or {}).get("externalName") or "")
    ctx.mistake("a URL instead of a DNS name", "://" in target or "/" in target or ":" in target,
                "externalName is a bare DNS name: no scheme, port or path")
    ctx.mistake("an IP address as externalName", _is_ip(target),
                "externalName must be a DNS name: cluster DNS answers with a CNAME to it, and an IP is not a name")
    ctx.mistake("externalName without type ExternalName",
                target and (svc.get("spec") or {}).get("type") != "ExternalName",
                "the externalName field is read only by one Service type")
    lab = ctx.lab(external_dns=EXTERNAL_DB)
    lab.apply(WEB)
    lab.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "api", "namespace": "shop"},
               "spec": {"containers": [{"name": "api", "image": "busybox", "command": ["sleep", "infinity"]}]}})
    live = _answer_service(ctx, lab, answer, "db")
    if live is None:
        return
    spec = live["spec"]
    ctx.expect("Service db is of type ExternalName", spec.get("type") == "ExternalName",
               "a Service with a cluster IP sends traffic to endpoints inside the cluster")
    answer_ = lab.resolve("db", "A", src="default/client")
    ctx.expect("from pod client, db is a CNAME for my.database.example.com",
               "my.database.example.com" in [c.rstrip(".") for c in answer_.cname_chain],
               "print(lab.resolve('db', 'A', src='default/client')) and look for the CNAME line")
    ctx.expect("from pod client, db resolves to 192.0.2.20", answer_.addresses == ["192.0.2.20"],
               "the A record comes from the outside name server once the CNAME is followed")
    verdict = lab.reach("default/client", "db", 5432)
    ctx.expect("pod client connects to db:5432 and lands on 192.0.2.20:5432",
               bool(verdict) and verdict.endpoint == "192.0.2.20:5432",
               "lab.reach('default/client', 'db', 5432)")
    other = lab.resolve("db.default", "A", src="shop/api")
    ctx.expect("from namespace shop, db.default resolves to 192.0.2.20 too", other.addresses == ["192.0.2.20"],
               "a Service's name is namespaced: other namespaces add .default")


# ---------------------------------------------------------------- 04-headless
_LATER_HEADLESS = "a web pod started later is in web-peers' DNS answer too"


@exercise("04-headless", title="A headless Service for the web pods", lesson=LESSON, answer="manifests",
          scored=("Service web-peers exists in namespace default", "Service web-peers has no cluster IP",
                  "Service web-peers offers port 8080, the web pods' port",
                  "web-peers resolves to the IP of every web pod, and nothing else",
                  "pod client reaches web-peers:8080 on a web pod with no kube-proxy translation", _LATER_HEADLESS))
def headless(answer, ctx):
    """Headless Service web-peers: DNS returns the web pods' IPs, clients connect straight to a pod."""
    lab = ctx.lab()
    lab.apply(WEB)
    live = _answer_service(ctx, lab, answer, "web-peers")
    if live is None:
        return
    spec = live["spec"]
    ctx.expect("Service web-peers has no cluster IP", spec.get("clusterIP") == "None",
               "a Service gets a virtual IP unless you say it should have none")
    ctx.expect("Service web-peers offers port 8080, the web pods' port",
               any(p.get("port") == 8080 for p in spec.get("ports") or []),
               "a headless Service still lists its ports (DNS SRV records and clients use them)")
    answer_ = lab.resolve("web-peers", "A", src="default/client")
    ctx.expect("web-peers resolves to the IP of every web pod, and nothing else",
               sorted(answer_.addresses) == sorted(_web_ips(lab)),
               "print(lab.resolve('web-peers', 'A', src='default/client'))")
    verdict = lab.reach("default/client", "web-peers", 8080)
    direct = _lands_on_web(verdict, lab) and not any(r.startswith("kube-proxy") for r in verdict.rules)
    ctx.expect("pod client reaches web-peers:8080 on a web pod with no kube-proxy translation", direct,
               "print(lab.reach('default/client', 'web-peers', 8080)) and read its rules")
    ctx.mistake("a cluster IP was assigned", spec.get("clusterIP") not in (None, "None"),
                "without clusterIP: None the Service gets a VIP and DNS returns that one address")
    _selector_mistake(ctx, lab, spec, "web-peers")
    new = start_another_pod(lab, "web")
    answered = set(lab.resolve("web-peers", "A", src="default/client").addresses)
    ctx.expect(_LATER_HEADLESS, bool(new) and answered == _web_ips(lab),
               "select the web pods by label, so DNS follows pods started later")
    _hand_written_mistake(ctx, new, answered)
