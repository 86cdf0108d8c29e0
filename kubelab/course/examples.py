"""Small manifests the lessons and their checks share, so no notebook pastes them (lesson 09 on).

    from kubelab.course.examples import echo_app
    lab.apply(echo_app("web") + echo_app("cart"))
"""
from __future__ import annotations

__all__ = ["ECHO_IMAGE", "echo_app"]

#: the Gateway API project's echo server: answers every request with what it received, as JSON
ECHO_IMAGE = "registry.k8s.io/gateway-api/echo-basic:v20240412-v1.0.0"


def echo_app(name: str, namespace: str = "default", replicas: int = 2) -> list[dict]:
    """A Deployment of echo-basic pods labelled app=<name> (container port 3000, named http) and a ClusterIP
    Service <name> on port 80, named http, to that port. The pods know their name and namespace (downward
    API), which the echo server reports."""
    labels = {"app": name}
    env = [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
           {"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]
    container = {"name": "echo", "image": ECHO_IMAGE, "env": env,
                 "ports": [{"name": "http", "containerPort": 3000}]}
    return [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
             "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                      "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [container]}}}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
             "spec": {"selector": dict(labels), "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}]
