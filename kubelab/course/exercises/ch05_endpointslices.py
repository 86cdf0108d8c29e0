"""Checks for lesson 05 · EndpointSlices: how many slices, a hand-written slice, endpoint conditions.

The answers are a little Python (a function) or manifests; each check compares them with what the
simulated EndpointSlice controller and kube-proxy actually do on a fresh cluster.
"""
from __future__ import annotations

import copy

from ...errors import KubelabError
from ...api.manifests import load_manifests
from . import exercise

LESSON = "05-endpointslices"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def _deployment(name: str, replicas: int) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": name, "image": "nginxinc/nginx-unprivileged",
                                                           "ports": [{"containerPort": 8080}]}]}}}}


def _service(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}


def _slices(lab, service: str) -> list[dict]:
    return lab.list("EndpointSlice", "default", selector=f"{SERVICE_NAME_LABEL}={service}")


def _controller_slice_count(ctx, endpoints: int, limit: int) -> int:
    """How many slices the controller makes for a new Service with `endpoints` ready pods, at most `limit` each."""
    lab = ctx.lab(max_endpoints_per_slice=limit)
    lab.apply([_deployment("web", endpoints), _service("web")])
    return len(_slices(lab, "web"))


def _call(fn, *args):
    """The learner's function's result, or the exception it raised (reported as a failed sub-check)."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as exc:   # the learner's code failed: the sub-check says so instead of a traceback
        return exc


# ---------------------------------------------------------------- 05-slice-count
CASES = ((0, 100), (1, 100), (100, 100), (101, 100), (250, 100), (9, 3), (10, 3))


@exercise("05-slice-count", title="Predict how many EndpointSlices a Service gets", lesson=LESSON, answer="function",
          scored=tuple(f"{n} endpoints, at most {m} per slice" for n, m in CASES))
def slice_count(answer, ctx):
    """slices_needed(endpoints, max_per_slice) equals the controller's slice count on a fresh Service."""
    if not ctx.require("the answer is a function", callable(answer),
                      "pass the function itself: check('05-slice-count', slices_needed)"):
        return
    got = {case: _call(answer, *case) for case in CASES}
    for (n, m), value in got.items():
        expected = _controller_slice_count(ctx, n, m)
        shown = f"{type(value).__name__}: {value}" if isinstance(value, Exception) else repr(value)
        ctx.expect(f"{n} endpoints, at most {m} per slice", value == expected,
                   f"you say {shown}; build it: connect(max_endpoints_per_slice=...), a Deployment and a Service, "
                   "then count lab.list('EndpointSlice', ...)")
    ctx.mistake("rounding down", got[(250, 100)] == 2 or got[(10, 3)] == 3,
                "the endpoints that do not fill a whole slice still need a slice of their own")
    ctx.mistake("one slice too many when the count divides evenly", got[(100, 100)] == 2 or got[(9, 3)] == 4,
                "a slice may hold exactly max_per_slice endpoints")
    ctx.mistake("no slice for a Service without endpoints", got[(0, 100)] == 0,
                "look at the EndpointSlices of a Service whose selector matches no pod")


# ---------------------------------------------------------------- 05-external-slice
CLIENT = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
          "spec": {"containers": [{"name": "client", "image": "busybox", "command": ["sleep", "infinity"]}]}}


_ONLY_THE_DATABASE = "every new connection to pg can land on 192.0.2.50:5432 only"


@exercise("05-external-slice", title="Send a Service's traffic to a database outside", lesson=LESSON,
          answer="manifests",
          scored=("Service pg exists in namespace default", "Service pg has no selector",
                  "Service pg offers port 5432 named postgres", "an EndpointSlice is linked to Service pg",
                  "pod client reaches pg:5432 and lands on 192.0.2.50:5432", _ONLY_THE_DATABASE,
                  "the client went through the ClusterIP (kube-proxy translated it)"))
def external_slice(answer, ctx):
    """Selector-less Service pg (port 5432 named postgres) + a hand-written EndpointSlice -> 192.0.2.50:5432."""
    try:
        docs = load_manifests(answer)
    except KubelabError:
        docs = []
    slices = [d for d in docs if d.get("kind") == "EndpointSlice" and d.get("endpoints")]   # written ones
    service = next((d for d in docs if d.get("kind") == "Service"), {})
    service_ports = {p.get("name") or "" for p in (service.get("spec") or {}).get("ports") or []}
    ctx.mistake("the legacy Endpoints kind", any(d.get("kind") == "Endpoints" for d in docs),
                "kube-proxy reads EndpointSlices (discovery.k8s.io/v1); write one of those")
    ctx.mistake("slice not linked to its Service",
                slices and not any(((s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL)) == "pg"
                                   for s in slices),
                "a slice belongs to a Service only through one well-known label")
    ctx.mistake("slice port name differs from the Service port name",
                any(s.get("ports") for s in slices) and service_ports
                and not any((p.get("name") or "") in service_ports
                                                     for s in slices for p in s.get("ports") or []),
                "kube-proxy matches a slice's ports to the Service's ports by name")
    ctx.mistake("the controller's managed-by label",
                any((s["metadata"].get("labels") or {}).get("endpointslice.kubernetes.io/managed-by")
                    == "endpointslice-controller.k8s.io" for s in slices),
                "that manager name belongs to the EndpointSlice controller; a hand-written slice names "
                "another manager or none")
    ctx.mistake("the Service has a selector", bool((service.get("spec") or {}).get("selector")),
                "with a selector the EndpointSlice controller manages the slices and ignores yours")
    lab = ctx.lab()
    lab.apply(CLIENT)
    try:
        lab.apply(answer)
    except KubelabError as exc:
        ctx.require("your manifests apply", False, str(exc).splitlines()[0])
        return
    ctx.require("your manifests apply", True, "")
    try:
        live = lab.get("Service", "pg")
    except KubelabError:
        live = None
    if not ctx.expect("Service pg exists in namespace default", live is not None, "name the Service pg"):
        return
    ctx.expect("Service pg has no selector", not live["spec"].get("selector"),
               "the controller takes over the slices of a Service that selects pods")
    ctx.expect("Service pg offers port 5432 named postgres",
               any(p["port"] == 5432 and p.get("name") == "postgres" for p in live["spec"].get("ports") or []),
               "spec.ports[].name and spec.ports[].port")
    ctx.expect("an EndpointSlice is linked to Service pg", bool(_slices(lab, "pg")),
               "lab.list('EndpointSlice', 'default') and look at the labels")
    verdict = lab.reach("default/client", "pg", 5432)
    ctx.expect("pod client reaches pg:5432 and lands on 192.0.2.50:5432",
               bool(verdict) and verdict.endpoint == "192.0.2.50:5432",
               "print(lab.reach('default/client', 'pg', 5432)): its reason says where it stopped")
    # one connection lands on one endpoint: a slice that also lists other addresses passes the line above by luck
    ctx.expect(_ONLY_THE_DATABASE, bool(verdict) and sorted(verdict.candidates) == ["192.0.2.50:5432"],
               f"new connections may also land on {', '.join(c for c in verdict.candidates if c != '192.0.2.50:5432')}"
               if verdict and verdict.candidates else "the connection does not reach the database yet")
    cluster_ip = live["spec"].get("clusterIP")
    via_vip = bool(verdict) and any(r.startswith("DNS:") and f"-> {cluster_ip} " in r for r in verdict.rules) \
        and any(r.startswith("kube-proxy") for r in verdict.rules)
    ctx.expect("the client went through the ClusterIP (kube-proxy translated it)", via_vip,
               "a client should use the Service's name, so the address can move without changing clients")


# ---------------------------------------------------------------- 05-serving-terminating
WEB_PODS = [
    _deployment("web", 3), _service("web"),
    # a pod on its way out that still passes its readiness probe: serving, terminating
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "web-draining", "labels": {"app": "web"}, "deletionTimestamp": "2026-01-01T00:10:00Z"},
     "spec": {"containers": [{"name": "web", "image": "nginxinc/nginx-unprivileged", "ports": [{"containerPort": 8080}]}]}},
    # a pod on its way out that no longer passes it: terminating, not serving
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "web-stopping", "labels": {"app": "web"}, "deletionTimestamp": "2026-01-01T00:10:00Z"},
     "spec": {"containers": [{"name": "web", "image": "nginxinc/nginx-unprivileged", "ports": [{"containerPort": 8080}]}]},
     "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}},
    # a pod still starting: not ready, not serving, not terminating
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "web-starting", "labels": {"app": "web"}},
     "spec": {"containers": [{"name": "web", "image": "nginxinc/nginx-unprivileged", "ports": [{"containerPort": 8080}]}]},
     "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}},
]

# a hand-written slice as a real API server stores it: conditions that were not set stay unset (nil)
HAND_WRITTEN = {
    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
    "metadata": {"name": "legacy-1", "namespace": "default", "labels": {SERVICE_NAME_LABEL: "legacy"}},
    "addressType": "IPv4", "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
    "endpoints": [{"addresses": ["192.0.2.61"], "conditions": {"terminating": True}},
                  {"addresses": ["192.0.2.62"], "conditions": {}},
                  {"addresses": ["192.0.2.63"], "conditions": {}}],
}


def _pod_ip(lab, name: str) -> str:
    return lab.get("Pod", name)["status"]["podIP"]


@exercise("05-serving-terminating", title="Find the endpoints that serve while terminating", lesson=LESSON,
          answer="function",
          scored=("it returns a sorted list of IP strings", "it finds the pod that is terminating but still serving",
                  "it leaves out the terminating pod that no longer serves", "it leaves out the pod that is not ready yet",
                  "it leaves out the ready pods", "on a hand-written slice, an unset serving condition counts as serving"))
def serving_terminating(answer, ctx):
    """serving_but_terminating(slices) -> sorted IPs of endpoints with serving true and terminating true."""
    if not ctx.require("the answer is a function", callable(answer),
                      "pass the function itself: check('05-serving-terminating', serving_but_terminating)"):
        return
    lab = ctx.lab(max_endpoints_per_slice=2)   # small slices: the answer must read every one of them
    lab.apply(WEB_PODS)
    draining, stopping, starting = (_pod_ip(lab, n) for n in ("web-draining", "web-stopping", "web-starting"))
    # the slice holding the draining pod goes last: an answer that stops early misses it
    slices = sorted(_slices(lab, "web"), key=lambda s: any(draining in e["addresses"] for e in s["endpoints"]))
    got = _call(answer, slices)
    if isinstance(got, Exception):
        ctx.require("your function runs on the slices of Service web", False,
                    f"it raised {type(got).__name__}: {got}; call it yourself on lab.list('EndpointSlice', "
                    "'default') and read the error")
        return
    ctx.expect("it returns a sorted list of IP strings",
               isinstance(got, list) and all(isinstance(ip, str) for ip in got) and got == sorted(got),
               "return sorted(...) of the endpoints' addresses")
    got = set(got) if isinstance(got, (list, tuple, set)) else set()
    ready = {p["status"]["podIP"] for p in lab.list("Pod", "default", selector="app=web")} - \
        {draining, stopping, starting}
    ctx.expect("it finds the pod that is terminating but still serving", draining in got,
               "print each endpoint's conditions: which pod is both terminating and serving?")
    ctx.expect("it leaves out the terminating pod that no longer serves", stopping not in got,
               "terminating alone is not enough")
    ctx.expect("it leaves out the pod that is not ready yet", starting not in got,
               "a pod that is starting is not terminating")
    ctx.expect("it leaves out the ready pods", not (got & ready), "ready pods are not terminating")
    last = _call(answer, slices[-1:])
    ctx.mistake("only the first slice is read",
                draining not in got and isinstance(last, (list, tuple, set)) and draining in last,
                "a Service can have many slices; the function gets all of them")
    legacy = _call(answer, [copy.deepcopy(HAND_WRITTEN)])
    legacy = set(legacy) if isinstance(legacy, (list, tuple, set)) else set()
    ctx.expect("on a hand-written slice, an unset serving condition counts as serving",
               legacy == {"192.0.2.61"},
               "the API reference says how to read a condition that is not set (nil)")
    ctx.mistake("terminating without serving", stopping in got,
                "a terminating endpoint whose readiness probe fails is not serving; kube-proxy skips it")
    ctx.mistake("not ready taken for terminating", starting in got,
                "ready is false for both starting and terminating pods; only terminating tells them apart")
