"""The EndpointSlice controller's per-pod memo: after pods come, go and change, the stored slices are
what a reconcile from scratch (no memo) computes."""
from __future__ import annotations

import kubelab
from kubelab.net.endpointslices import reconcile_endpointslices

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 7
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginxinc/nginx-unprivileged, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
"""


def _endpoints(slices):
    return sorted((s["addressType"], tuple(a for e in s["endpoints"] for a in e["addresses"]),
                   tuple(e["conditions"]["ready"] for e in s["endpoints"])) for s in slices)


def test_memoised_slices_equal_slices_computed_from_scratch():
    lab = kubelab.connect(seed=0, max_endpoints_per_slice=3)
    lab.apply(APP)
    pods = lab.list("Pod", "default")
    lab.delete("Pod", pods[0]["metadata"]["name"])                   # replaced by the Deployment
    lab.apply(APP.replace("replicas: 7", "replicas: 4"))             # scaled down
    lab.apply(APP.replace("replicas: 7", "replicas: 4").replace("name: http", "name: web"))  # port renamed
    lab.advance(60)                                                  # the terminating pods' grace period ends
    cluster = lab.cluster
    service = cluster.get("Service", "web")
    fresh = reconcile_endpointslices(service, cluster.items("Pod"), cluster.items("EndpointSlice"),
                                     nodes=cluster.items("Node"), max_endpoints_per_slice=3)
    stored = lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=web")
    assert _endpoints(stored) == _endpoints(fresh)
    assert sum(len(s["endpoints"]) for s in stored) == 4 and cluster._endpoint_memo
