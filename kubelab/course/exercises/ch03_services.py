"""Checks for lesson 03 (Services): a ClusterIP Service in front of a Deployment, ClientIP session
affinity, and the endpoints a new connection can land on."""
from __future__ import annotations

from typing import Any

import yaml

from ...net.objects import pod_ips
from . import exercise
from ._support import apply_answer, as_yaml, client_pod, pod_addresses, start_another_pod, web_deployment

LESSON = "03-services"

# The "api" Deployment of exercise 1 (namespace shop), a worker that shares its tier label, and a client.
API_SETUP = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api, tier: backend}}
    spec:
      containers:
      - name: api
        image: example/api:1.0
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker, tier: backend}}
    spec:
      containers:
      - name: worker
        image: example/worker:1.0
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {app: client}}
spec:
  containers: [{name: client, image: busybox, command: [sleep, infinity]}]
"""

# The "web" Deployment of exercise 2 and two clients.
WEB_SETUP = as_yaml(web_deployment(3), client_pod("client-a", {"app": "client"}), client_pod("client-b", {"app": "client"}))

STICKY_TIMEOUT = 600


def _call(fn, *args) -> tuple[Any, str | None]:
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, "your function is still the stub: replace raise NotImplementedError() with your code"
    except Exception as exc:  # the learner's code failed: report it as a failed sub-check, not a traceback
        return None, f"your function raised {type(exc).__name__}: {exc}"


def _pod_endpoints(lab, namespace: str, selector: str, port: int) -> list[str]:
    return sorted(f"{pod_ips(p)[0]}:{port}" for p in lab.list("Pod", namespace, selector=selector))


def _set_not_ready(lab, pod: dict) -> None:
    """Pin the pod's Ready condition to False, as a failing readiness probe would."""
    pod = lab.get("Pod", pod["metadata"]["name"], pod["metadata"]["namespace"])
    pod["status"]["conditions"] = [c for c in pod["status"]["conditions"] if c["type"] != "Ready"] + \
        [{"type": "Ready", "status": "False"}]
    lab.apply(pod)


#: A pod started after the answer that shares the api pods' tier label but is not an api pod.
_BATCH = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "batch", "namespace": "shop",
                                                        "labels": {"app": "batch", "tier": "backend"}},
          "spec": {"containers": [{"name": "batch", "image": "example/batch:1.0",
                                   "ports": [{"name": "http", "containerPort": 8080}]}]}}
_LATER_API_POD = "a third api pod started later gets connections too; a new tier=backend pod does not"


@exercise("03-api-service", title="A Service for the api Deployment", lesson=LESSON, answer="manifests",
          scored=("a Service named api exists in namespace shop", "shop/client connects to http://api (port 80)",
                  "new connections can land on both api pods, and only on them", _LATER_API_POD),
          hidden=("the full name api.shop.svc.cluster.local works too",))
def api_service(answer, ctx):
    """answer: YAML for a Service that lets shop/client reach the api pods at http://api (port 80)."""
    lab = ctx.lab()
    lab.apply(API_SETUP)
    if not apply_answer(ctx, lab, answer, "your Service applies cleanly"):
        return
    services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in lab.list("Service")}
    in_shop = ("shop", "api") in services
    ctx.expect("a Service named api exists in namespace shop", in_shop,
               "a Service is found by name in its own namespace: where do the api pods and the client live?")
    api_pods = _pod_endpoints(lab, "shop", "app=api", 8080)
    verdict = lab.reach("shop/client", "api", 80)
    ctx.expect("shop/client connects to http://api (port 80)", verdict, verdict.reason)
    ctx.expect("new connections can land on both api pods, and only on them", sorted(verdict.candidates) == api_pods,
               "compare the Service's selector with the labels of the pods you want (lab.list('Pod', 'shop'))")
    other = lab.reach("shop/client", "api.shop.svc.cluster.local", 80)
    ctx.expect("the full name api.shop.svc.cluster.local works too", other, other.reason, hidden=True)

    svc = services.get(("shop", "api")) or services.get(("default", "api"))
    spec = (svc or {}).get("spec") or {}
    ports = spec.get("ports") or []
    slices = lab.list("EndpointSlice", svc["metadata"]["namespace"],
                      selector="kubernetes.io/service-name=api") if svc else []
    has_endpoints = any(s.get("endpoints") for s in slices)
    ctx.mistake("Service created in another namespace", not in_shop and ("default", "api") in services,
                "without metadata.namespace the Service lands in default, but the client looks it up in shop")
    ctx.mistake("targetPort is 80", any(p.get("port") == 80 and p.get("targetPort") == 80 for p in ports),
                "port is what clients dial; targetPort is where the container listens (8080, named http)")
    ctx.mistake("the Service listens on 8080, not 80", bool(ports) and not any(p.get("port") == 80 for p in ports),
                "clients dial http://api, which is port 80: that is the Service's port")
    ctx.mistake("the selector matches no pod", in_shop and bool(spec.get("selector")) and not has_endpoints,
                "every key and value of spec.selector must appear in the pods' labels (check the spelling)")
    ctx.mistake("the selector also matches the worker pod",
                any(c in _pod_endpoints(lab, "shop", "app=worker", 8080) for c in verdict.candidates),
                "tier=backend is shared by other pods; add the label that only the api pods carry")
    _later_api_pods(ctx, lab)


def _later_api_pods(ctx, lab) -> None:
    """Pods the answer could not have known: a third api replica and a batch pod sharing tier=backend. The
    reference (a selector on app=api) sends new connections to the three api pods and never to batch."""
    new_api = start_another_pod(lab, "api", "shop")
    lab.apply(_BATCH)
    landed = {c.rsplit(":", 1)[0] for c in lab.reach("shop/client", "api", 80).candidates}
    ctx.expect(_LATER_API_POD, bool(landed) and landed == pod_addresses(lab, "shop", "app=api"),
               "select the api pods by label (spec.selector), so pods started later are found too")
    ctx.mistake("today's pod addresses written by hand", new_api and not new_api & landed and landed,
                "a Service without a selector and a hand-written EndpointSlice keeps today's addresses only; "
                "give the Service a selector and the EndpointSlice controller follows the pods")


@exercise("03-sticky-sessions", title="Keep each client on one pod", lesson=LESSON, answer="manifests",
          scored=("30 connections from client-a all land on the same pod",
                  "30 connections from client-b all land on the same pod",
                  "after 599 s without traffic client-a still lands on its pod",
                  "after more than 600 s without traffic client-a's affinity has expired",
                  "the affinity timeout is exactly 10 minutes"))
def sticky_sessions(answer, ctx):
    """answer: YAML for the web Service with ClientIP session affinity lasting 600 s without traffic."""
    lab = ctx.lab()
    lab.apply(WEB_SETUP)
    if not apply_answer(ctx, lab, answer, "your Service applies cleanly"):
        return
    first = lab.reach("default/client-a", "web", 80)
    if not ctx.require("client-a connects to http://web (port 80)", first, first.reason):
        return
    sticky = True
    for client in ("client-a", "client-b"):
        landed = {lab.reach(f"default/{client}", "web", 80).endpoint for _ in range(30)}
        sticky &= ctx.expect(f"30 connections from {client} all land on the same pod", len(landed) == 1,
                             f"{client} was spread over {len(landed)} pods: the Service does not remember clients")

    # IPVS round robin moves a client on deterministically once its affinity entry has expired
    ipvs = ctx.lab(proxy_mode="ipvs")
    ipvs.apply(WEB_SETUP)
    ipvs.apply(answer)
    start = ipvs.reach("default/client-a", "web", 80).endpoint
    ipvs.reach("default/client-b", "web", 80)
    ipvs.advance_time(STICKY_TIMEOUT - 1)
    kept = ipvs.reach("default/client-a", "web", 80).endpoint
    configured = ((ipvs.get("Service", "web")["spec"].get("sessionAffinityConfig") or {}).get("clientIP") or {}) \
        .get("timeoutSeconds")
    ctx.expect("after 599 s without traffic client-a still lands on its pod", kept == start,
               f"your affinity lasts {configured} s: the brief asks for 10 minutes" if sticky
               else "client-a is not kept on one pod at all yet")
    ipvs.advance_time(STICKY_TIMEOUT + 1)
    moved = ipvs.reach("default/client-a", "web", 80).endpoint
    ctx.expect("after more than 600 s without traffic client-a's affinity has expired", sticky and moved != start,
               f"your affinity lasts {configured} s: the brief asks for 10 minutes" if sticky
               else "client-a is not kept on one pod at all yet")
    ctx.expect("the affinity timeout is exactly 10 minutes", configured == STICKY_TIMEOUT,
               f"timeoutSeconds is {configured}; the brief says the session is gone after 10 minutes")

    spec = lab.get("Service", "web")["spec"]
    raw = _first_doc(answer)
    timeout = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds")
    ctx.mistake("sessionAffinityConfig without sessionAffinity",
                spec.get("sessionAffinity") == "None" and "sessionAffinityConfig" in (raw.get("spec") or {}),
                "sessionAffinity defaults to None, and then the API server drops sessionAffinityConfig")
    ctx.mistake("the default timeout", timeout == 10800,
                "ClientIP affinity lasts 10800 s (3 hours) unless sessionAffinityConfig.clientIP.timeoutSeconds says otherwise")


def _first_doc(answer) -> dict:
    """The first manifest of the answer as a dict (an empty dict when it cannot be read)."""
    if isinstance(answer, dict):
        return answer
    if isinstance(answer, list):
        return answer[0] if answer and isinstance(answer[0], dict) else {}
    try:
        doc = next(iter(yaml.safe_load_all(answer)), None)
    except yaml.YAMLError:
        return {}
    return doc if isinstance(doc, dict) else {}


_LANDING_SETUP = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: {name}
        image: example/{name}:1.0
        ports: [{{name: http, containerPort: {container_port}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: http}}]
"""

_CLIENT = """
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers: [{name: client, image: busybox, command: [sleep, infinity]}]
"""


def _landing(lab, service: str, replicas: int, port: int, namespace: str = "default") -> None:
    """A Deployment `service` of `replicas` pods listening on `port` (named http) and its Service on port 80."""
    if namespace != "default":
        lab.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    lab.apply(_LANDING_SETUP.format(name=service, replicas=replicas, container_port=port, namespace=namespace))


#: (name, connect options, [(service, replicas, containerPort, namespace)], pods of default made NotReady per
#: service, the endpoints expected); the last case is hidden
_READY_CASES = (
    ("web: 3 pods, 1 NotReady", {}, [("web", 3, 8080, "default")], {"web": 1}, 2),
    ("web: 4 pods, 2 NotReady, beside another Service", {}, [("web", 4, 8080, "default"), ("api", 2, 9090, "default")],
     {"web": 2}, 2),
    ("web: 5 pods in 3 EndpointSlices of at most 2, 1 NotReady", {"max_endpoints_per_slice": 2},
     [("web", 5, 8080, "default")], {"web": 1}, 4),
    ("web: 2 ready pods, beside a Service also named web in namespace other", {},
     [("web", 2, 8080, "default"), ("web", 3, 9090, "other")], {}, 2),
    ("web: 2 pods, both NotReady", {}, [("web", 2, 8080, "default")], {"web": 2}, 0),
)


def _ready_check(case) -> str:
    return f"{case[0]}: {case[-1]} endpoints"


@exercise("03-ready-endpoints", title="Where can a new connection land?", lesson=LESSON, answer="function",
          scored=tuple(map(_ready_check, _READY_CASES[:-1])), hidden=(_ready_check(_READY_CASES[-1]),))
def ready_endpoints(answer, ctx):
    """answer(lab, service, namespace) -> sorted "IP:port" endpoints a new connection to the Service can reach."""
    cases = _READY_CASES
    mistakes = {"not ready": False, "service port": False, "one slice": False, "other services": False,
                "other namespaces": False}
    for i, (name, options, services, not_ready, _) in enumerate(cases):
        lab = ctx.lab(**options)
        lab.apply(_CLIENT)
        for service, replicas, port, namespace in services:
            _landing(lab, service, replicas, port, namespace)
        for service, n in not_ready.items():
            for pod in sorted(lab.list("Pod", "default", selector=f"app={service}"),
                              key=lambda p: p["metadata"]["name"])[:n]:
                _set_not_ready(lab, pod)
        want = sorted(lab.reach("default/client", "web", 80).candidates)
        got, error = _call(answer, lab, "web", "default")
        got = sorted(got) if isinstance(got, (list, tuple, set)) else got
        ctx.expect(_ready_check(cases[i]), error is None and got == want,
                   error or "a new connection only goes to endpoints that are ready, on the port the pods listen on",
                   hidden=(i == len(cases) - 1))
        if isinstance(got, list) and error is None:
            everything = _pod_endpoints(lab, "default", "app=web", services[0][2])
            mistakes["not ready"] |= set(map(str, got)) == set(everything) and len(everything) > len(want)
            elsewhere = {f"{ip}:{port}" for service, _, port, namespace in services if namespace != "default"
                         for ip in pod_addresses(lab, namespace, f"app={service}")}
            mistakes["other services"] |= any(str(g) not in everything and str(g) not in elsewhere for g in got) \
                and not all(str(g).endswith(":80") for g in got)
            mistakes["service port"] |= bool(got) and all(str(g).endswith(":80") for g in got)
            mistakes["one slice"] |= "max_endpoints_per_slice" in options and 0 < len(got) < len(want)
            mistakes["other namespaces"] |= bool(elsewhere & set(map(str, got)))
    ctx.mistake("NotReady pods counted", mistakes["not ready"],
                "an endpoint whose conditions.ready is false gets no new connections")
    ctx.mistake("the Service's port instead of the endpoint's", mistakes["service port"],
                "after DNAT the packet goes to the pod's port: the EndpointSlice's ports, not the Service's")
    ctx.mistake("other Services' endpoints included", mistakes["other services"],
                "the namespace holds slices of every Service: keep the ones labelled "
                "kubernetes.io/service-name=<your Service>")
    ctx.mistake("another namespace's Service of the same name included", mistakes["other namespaces"],
                "a Service's name is unique only within its namespace: list the EndpointSlices of the given "
                "namespace only")
    ctx.mistake("only one EndpointSlice read", mistakes["one slice"],
                "a Service can have several EndpointSlices: select them all by the label kubernetes.io/service-name")


#: (name, [(service, replicas, containerPort)], pods made NotReady per service, sticky services, services with a
#: second port 443 -> 8443, the endpoints expected on port 80); the last case is hidden
_NFT_CASES = (
    ("web: 3 ready pods", [("web", 3, 8080)], {}, (), (), 3),
    ("web: 4 pods, 1 NotReady, beside api", [("web", 4, 8080), ("api", 3, 9090)], {"web": 1}, (), (), 3),
    ("web with ClientIP affinity, 2 pods", [("web", 2, 8080)], {}, ("web",), (), 2),
    ("web with a second port 443 -> 8443, asked for port 80, 2 pods", [("web", 2, 8080)], {}, (), ("web",), 2),
    ("web: every pod NotReady (no endpoints)", [("web", 2, 8080)], {"web": 2}, (), (), 0),
)


def _nft_check(case) -> str:
    return f"{case[0]}: {case[-1]} endpoints"


@exercise("03-nft-endpoints", title="Read kube-proxy's nftables rules", lesson=LESSON, answer="function",
          scored=tuple(map(_nft_check, _NFT_CASES[:-1])), hidden=(_nft_check(_NFT_CASES[-1]),))
def nft_endpoints(answer, ctx):
    """answer(ruleset, cluster_ip, port) -> sorted "IP:port" endpoints that `nft list ruleset` text (kube-proxy
    in nftables mode) sends a new TCP connection to cluster_ip:port to; [] when the rules reject it."""
    cases = _NFT_CASES
    seen = {"all endpoints": False, "service port": False, "every port": False}
    for i, (name, services, not_ready, sticky, two_ports, _) in enumerate(cases):
        lab = ctx.lab(proxy_mode="nftables")
        lab.apply(_CLIENT)
        for service, replicas, port in services:
            _landing(lab, service, replicas, port)
            if service in sticky or service in two_ports:
                svc = lab.get("Service", service)
                if service in sticky:
                    svc["spec"]["sessionAffinity"] = "ClientIP"
                if service in two_ports:  # a port the question does not ask about, with endpoints of its own
                    svc["spec"]["ports"] = [{"name": "http", "port": 80, "targetPort": "http"},
                                            {"name": "https", "port": 443, "targetPort": 8443}]
                lab.apply(svc)
        for service, n in not_ready.items():
            for pod in sorted(lab.list("Pod", "default", selector=f"app={service}"),
                              key=lambda p: p["metadata"]["name"])[:n]:
                _set_not_ready(lab, pod)
        node = lab.get("Pod", "client")["spec"]["nodeName"]
        cluster_ip = lab.get("Service", "web")["spec"]["clusterIP"]
        want = sorted(lab.reach("default/client", "web", 80).candidates)
        got, error = _call(answer, lab.nft_list_ruleset(node), cluster_ip, 80)
        got = sorted(map(str, got)) if isinstance(got, (list, tuple, set)) else got
        ctx.expect(_nft_check(cases[i]), error is None and got == want,
                   error or "follow the service-ips map element of cluster_ip . tcp . port to its service chain, "
                            "then each numgen arm to its endpoint chain's dnat",
                   hidden=(i == len(cases) - 1))
        if isinstance(got, list) and error is None:
            every_dnat = sorted(line.split("dnat to ")[1].strip() for line in lab.nft_list_ruleset(node).splitlines()
                                if "dnat to " in line)
            seen["all endpoints"] |= got == every_dnat and got != want
            seen["service port"] |= bool(got) and all(g.endswith(":80") for g in got)
            seen["every port"] |= bool(two_ports) and any(g.endswith(":8443") for g in got)
    ctx.mistake("every dnat in the table", seen["all endpoints"],
                "the table holds the endpoint chains of every Service (kube-dns, kubernetes, ...): "
                "start from the Service's element in the service-ips map")
    ctx.mistake("the Service's port instead of the endpoint's", seen["service port"],
                "the endpoint chain's `dnat to IP:port` names the pod's port")
    ctx.mistake("the Service's other port followed too", seen["every port"],
                "the service-ips map has one element per Service port (cluster_ip . tcp . port): follow the one "
                "of the port you were asked about")
