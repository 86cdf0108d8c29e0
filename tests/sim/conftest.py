import pytest

import kubelab

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: nginxinc/nginx-unprivileged, ports: [{name: http, containerPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec:
  containers: [{name: c, image: busybox}]
"""


@pytest.fixture
def lab():
    return kubelab.connect("simulated", seed=0)


@pytest.fixture
def web_lab(lab):
    lab.apply(WEB)
    return lab


def pod_names(lab, selector):
    return sorted(p["metadata"]["name"] for p in lab.list("Pod", "default", selector=selector))
