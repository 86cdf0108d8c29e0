"""Lesson 00 (welcome): the one check that shows how check() works.

The learner writes a Pod manifest; the check applies it to a fresh cluster and probes it from
another pod, so it passes for any manifest that behaves right, however it is written. Whether the pod
listens depends on its image (Kubernetes does not enforce containerPort); the declaration is checked apart.
"""
from __future__ import annotations

from . import exercise
from ._support import apply_answer

PORT = 8080


@exercise("00-first-pod", title="Your first pod: label it and open a port", lesson="00-welcome", answer="manifests")
def first_pod(answer, ctx):
    lab = ctx.lab()
    if not apply_answer(ctx, lab, answer, "the manifest applies"):
        return
    pods = {p["metadata"]["name"]: p for p in lab.list("Pod", namespace="default")}
    pod = pods.get("hello")
    if not ctx.expect("a Pod named hello exists in namespace default", pod is not None,
                      "keep kind: Pod and metadata.name: hello, in namespace default"):
        return
    labelled = [p["metadata"]["name"] for p in lab.list("Pod", namespace="default", selector="app=hello")]
    ctx.expect("the selector app=hello finds it", labelled == ["hello"],
               "labels live in metadata.labels as key: value pairs")
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe"},
               "spec": {"containers": [{"name": "probe", "image": "busybox", "command": ["sleep", "infinity"]}]}})
    verdict = lab.reach("default/probe", "default/hello", PORT)
    ctx.expect(f"another pod reaches it on port {PORT}", verdict,
               f"a connection is accepted only where the container's program listens ({verdict.reason})")
    ports = sorted(p.get("containerPort") for c in pod["spec"]["containers"] for p in c.get("ports") or [])
    ctx.expect(f"its container declares containerPort {PORT}", PORT in ports,
               f"list the port the program listens on under the container's ports (containerPort: {PORT}): "
               "Kubernetes does not enforce it, but Services, probes and readers go by it")
    ctx.mistake("the image listens on another port", not verdict and PORT in ports,
                f"containerPort only documents the port: the image's program decides where it listens; run an "
                f"image that listens on {PORT}, such as nginxinc/nginx-unprivileged")
    ctx.mistake("declares another port", ports and PORT not in ports,
                f"the container declares {ports}; the exercise asks for {PORT}")
