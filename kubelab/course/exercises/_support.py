"""What every chapter's checks need: the learner's manifests read and applied, and the learner's function
called, with every failure turned into one sub-check line instead of a traceback."""
from __future__ import annotations

from typing import Any

from ...errors import KubelabError
from ...api.manifests import load_manifests

__all__ = ["answer_docs", "apply_answer", "call_answer", "as_yaml", "web_deployment", "web_service", "client_pod",
           "pod_addresses", "start_another_pod"]


def answer_docs(answer) -> list[dict]:
    """The learner's objects, or [] when they do not parse (apply_answer then reports the error)."""
    try:
        return [d for d in load_manifests(answer) if isinstance(d, dict)]
    except KubelabError:
        return []


def apply_answer(ctx, lab, answer, name: str = "your manifests apply") -> bool:
    """Apply the learner's manifests. Applying is a precondition (it earns nothing: starter code applies too);
    a rejected manifest or an empty answer fails it, quoting the API server's error."""
    try:
        applied = lab.apply(answer)
    except KubelabError as exc:
        return ctx.require(name, False, str(exc).splitlines()[0])
    return ctx.require(name, bool(len(applied)), "your answer holds no object yet: write the manifests")


def call_answer(fn, *args, **kwargs) -> tuple[Any, str | None]:
    """(value, None), or (None, "Type: message") when the learner's function raises. The stub's
    NotImplementedError is not caught: check() reports "still the stub" once instead of once per case."""
    try:
        return fn(*args, **kwargs), None
    except NotImplementedError:
        raise
    except Exception as exc:  # the learner's code failed: a failed sub-check, never a traceback
        return None, getattr(exc, "learner_message", None) or f"{type(exc).__name__}: {exc}"


def as_yaml(*objects) -> str:
    """Objects as multi-document YAML text, keys in the order written (what a learner would read)."""
    import yaml

    return "".join("---\n" + yaml.safe_dump(o, sort_keys=False, default_flow_style=None) for o in objects)


ECHOSERVER = "registry.k8s.io/echoserver:1.10"   # the "Using Source IP" tutorial's echo server, on 8080


def web_deployment(replicas: int = 2, port: int = 8080, port_name: str | None = None, name: str = "web",
                   image: str | None = None) -> dict:
    """The course's usual backend: a Deployment of pods labelled app=<name>, listening on `port`
    (nginx-unprivileged listens on 8080, plain nginx on 80; `image` names another, e.g. ECHOSERVER)."""
    container_port = {"containerPort": port, **({"name": port_name} if port_name else {})}
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels)},
                                  "spec": {"containers": [{"name": name,
                                                           "image": image or ("nginxinc/nginx-unprivileged"
                                                                             if port == 8080 else "nginx"),
                                                           "ports": [container_port]}]}}}}


def web_service(name: str = "web", port: int = 80, target: str | int = "http", port_name: str = "http") -> dict:
    """A ClusterIP Service in front of web_deployment(name)."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"name": port_name, "port": port, "targetPort": target}]}}


def client_pod(name: str = "client", labels: dict | None = None) -> dict:
    """A busybox pod to probe from (it listens on nothing)."""
    metadata = {"name": name, **({"labels": labels} if labels else {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": {"containers": [{"name": "client", "image": "busybox"}]}}


def pod_addresses(lab, namespace: str, selector: str) -> set[str]:
    """The first IP of every pod the label selector matches in the namespace."""
    return {p["status"]["podIP"] for p in lab.list("Pod", namespace, selector=selector) if p["status"].get("podIP")}


def start_another_pod(lab, deployment: str, namespace: str = "default") -> set[str]:
    """Scale the Deployment up by one, as an operator would after the answer was written; the new pod's IPs.
    An answer that lists today's pods by hand (a Service without selector and a hand-written EndpointSlice)
    misses it; one that selects by label picks it up."""
    before = {p["metadata"]["name"] for p in lab.list("Pod", namespace)}
    current = lab.get("Deployment", deployment, namespace)
    lab.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": deployment, "namespace": namespace},
               "spec": {**current["spec"], "replicas": current["spec"].get("replicas", 1) + 1}})
    return {p["status"]["podIP"] for p in lab.list("Pod", namespace)
            if p["metadata"]["name"] not in before and p["status"].get("podIP")}
