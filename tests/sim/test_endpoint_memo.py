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


def test_memoised_endpoints_equal_endpoints_computed_from_scratch():
    """The endpoints controller's memo (v1 Endpoints): after the same changes, the stored object is what
    endpoints_for_service computes from scratch, and a pod that turned not-ready moved to notReadyAddresses."""
    from kubelab.net.endpoints import endpoints_for_service

    lab = kubelab.connect(seed=0)
    lab.apply(APP)
    pods = lab.list("Pod", "default")
    lab.delete("Pod", pods[0]["metadata"]["name"])
    lab.apply(APP.replace("replicas: 7", "replicas: 4"))
    unready = [p for p in lab.list("Pod", "default") if "deletionTimestamp" not in p["metadata"]][-1]
    unready["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    unready["metadata"].setdefault("annotations", {})["kubelab.io/pinned-status"] = "true"
    lab.apply(unready)
    lab.advance(60)
    cluster = lab.cluster
    fresh = endpoints_for_service(cluster.get("Service", "web"), cluster.items("Pod"))
    stored = lab.get("Endpoints", "web")
    assert stored["subsets"] == fresh["subsets"] and cluster._endpoints_memo
    assert [a["targetRef"]["name"] for a in stored["subsets"][0]["notReadyAddresses"]] == [unready["metadata"]["name"]]
    assert len(stored["subsets"][0]["addresses"]) == 3


def test_a_pod_on_a_deleted_node_is_not_left_as_settled():
    """The scheduler's memo of pods it is done with holds only while their node exists: a pod whose node is
    deleted goes with it, and a new pod is placed on a node that still exists."""
    lab = kubelab.connect(seed=0, nodes=2)
    lab.apply(APP)
    lab.delete("Node", "node-1")
    pods = lab.list("Pod", "default")
    assert len(pods) == 7 and {p["spec"]["nodeName"] for p in pods} == {"node-2"}
    assert all(p["status"]["phase"] == "Running" and p["status"]["podIP"] for p in pods)
