"""The store's change log and the controllers that read only what changed since their last look: after pods
come, go and change (and a failed apply is rolled back), the cluster is the one a controller reading every
object on every reconcile leaves."""
from __future__ import annotations

import pytest

import kubelab
from kubelab.errors import KubelabError
from kubelab.sim.store import Store

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 6
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


def test_change_log_lists_what_changed_since_a_cursor():
    store = Store()
    store.put("Pod", "default/a", {"metadata": {"name": "a"}})
    cursor = store.cursor("Pod")
    assert store.changed_since("Pod", cursor) == []
    store.put("Pod", "default/b", {"metadata": {"name": "b"}})
    store.put("Service", "default/s", {"metadata": {"name": "s"}})
    store.remove("Pod", "default/a")
    assert store.changed_since("Pod", cursor) == ["default/b", "default/a"]
    assert store.changed_since("Service", (cursor[0], 0)) == ["default/s"]


def test_change_log_forgets_across_a_restore():
    store = Store()
    snap = store.snapshot()
    cursor = store.cursor("Pod")
    store.put("Pod", "default/a", {"metadata": {"name": "a"}})
    store.restore(snap)
    assert store.changed_since("Pod", cursor) is None   # the caller must read everything again
    assert store.changed_since("Pod", store.cursor("Pod")) == []


def _reading_everything(lab):
    """The same lab with a Deployment controller that reads every pod on every reconcile."""
    lab.cluster._deployment_views.missing_replicas = lambda deployment: None
    return lab


def _state(lab):
    pods = [(p["metadata"]["name"], p["metadata"].get("deletionTimestamp"), p["status"].get("podIP"))
            for p in lab.list("Pod", "default")]
    slices = [(s["metadata"]["name"], s["endpoints"]) for s in lab.list("EndpointSlice", "default")]
    return pods, slices, lab.list("Endpoints", "default")


def _steps(lab):
    yield lab.apply(APP)
    victim = lab.list("Pod", "default")[0]["metadata"]["name"]
    yield lab.delete("Pod", victim)                                     # replaced at once
    yield lab.delete("Pod", victim)                                     # deleting it again changes nothing
    yield lab.advance(30)                                               # its grace period ends
    yield lab.delete("Pod", lab.list("Pod", "default")[-1]["metadata"]["name"], grace_period=0)
    yield lab.apply(APP.replace("replicas: 6", "replicas: 2"))          # scaled down
    yield lab.apply(APP.replace("replicas: 6", "replicas: 4"))          # and up again
    with pytest.raises(KubelabError):                                   # a failed apply is rolled back
        lab.apply(APP.replace("replicas: 6", "replicas: 9") + "---\nkind: Pod\napiVersion: v1\n"
                  "metadata: {name: x, namespace: missing}\nspec: {containers: [{name: c, image: busybox}]}\n")
    yield lab.delete("Pod", lab.list("Pod", "default")[0]["metadata"]["name"])
    orphan = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "adopt-me", "labels": {
        "app": "web", "pod-template-hash": lab.list("Pod", "default")[0]["metadata"]["labels"]["pod-template-hash"]}},
        "spec": {"containers": [{"name": "c", "image": "nginxinc/nginx-unprivileged"}]}}
    yield lab.apply(orphan)                                             # adopted: one replica too many
    yield lab.advance(60)


def test_deployment_reading_only_changes_acts_as_one_reading_every_pod():
    incremental = kubelab.connect(seed=3, max_endpoints_per_slice=2)
    full = _reading_everything(kubelab.connect(seed=3, max_endpoints_per_slice=2))
    for got, want in zip(_steps(incremental), _steps(full), strict=True):
        assert got == want
        assert _state(incremental) == _state(full)
    assert len([p for p in incremental.list("Pod", "default") if "deletionTimestamp" not in p["metadata"]]) == 4
