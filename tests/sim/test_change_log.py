"""The store's change log and the controllers that read only what changed since their last look: after pods
come, go and change (and a failed apply is rolled back), the cluster is the one a controller reading every
object on every reconcile leaves."""
from __future__ import annotations

import pytest

import kubelab
from kubelab.errors import KubelabError
from kubelab.sim.store import Store

from .test_endpoint_memo import APP as MEMO_APP

APP = MEMO_APP.replace("replicas: 7", "replicas: 6")     # the same web app, six replicas


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


class _Forgetful(dict):
    """A controller's memory of its last look that never remembers: it reads everything every time."""

    def get(self, key, default=None):
        return None


def _reading_everything(lab):
    """The same lab with Deployment, EndpointSlice and endpoints controllers that read every pod on every
    reconcile."""
    lab.cluster._deployment_views._views = _Forgetful()
    lab.cluster._slice_views._last = _Forgetful()
    lab.cluster._endpoints_views._last = _Forgetful()
    return lab


def _state(lab):
    pods = [(p["metadata"]["name"], p["metadata"].get("deletionTimestamp"), p["status"].get("podIP"))
            for p in lab.list("Pod", "default")]
    slices = [(s["metadata"]["name"], s["endpoints"]) for s in lab.list("EndpointSlice", "default")]
    return pods, slices, lab.list("Endpoints", "default")


DUAL_STACK = {"ip_families": ("IPv4", "IPv6"), "pod_cidr": ("10.244.0.0/16", "fd00:10:244::/56"),
              "service_cidr": ("10.96.0.0/16", "fd00:10:96::/112")}


def _steps(lab):
    yield lab.apply(APP)
    yield lab.apply(APP.replace("{port: 80, targetPort: http}", "{name: a, port: 80, targetPort: http}, {name: b, port: 81, targetPort: 9}")
                    .replace("ports: [{name: http", "ports: [{name: x, containerPort: 9}, {name: http"))
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
    for pod in lab.list("Pod", "default")[:3]:                          # several slices change at once
        yield lab.delete("Pod", pod["metadata"]["name"], grace_period=0)
    node = lab.list("Pod", "default")[0]["spec"]["nodeName"]
    yield lab.delete("Node", node)                                      # its pods go, the rest move
    yield lab.apply(APP.replace("metadata: {name: web}\nspec: {selector", "metadata: {name: web, labels: {a: b}}\n"
                                "spec: {selector"))                     # the Service changed: its slices' labels
    yield lab.apply(APP.replace("replicas: 6", "replicas: 0"))          # no endpoint left: a placeholder slice
    yield lab.advance(60)
    yield lab.apply(APP)
    yield lab.apply(_pod("picky", "nodeSelector: {disk: ssd}"))        # unschedulable: Pending, visited each pass
    yield lab.apply(_pod("port-a", "containers: [{name: c, image: busybox, ports: [{containerPort: 80, hostPort: 80}]}]"))
    yield lab.apply(_pod("port-b", "containers: [{name: c, image: busybox, ports: [{containerPort: 80, hostPort: 80}]}]"))
    yield lab.delete("Pod", lab.list("Pod", "default", selector="app=web")[0]["metadata"]["name"], grace_period=0)
    yield [p["status"]["phase"] for p in lab.list("Pod", "default")]
    node = lab.list("Node")[1]["metadata"]["name"]
    yield lab.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node, "labels": {"disk": "ssd"}}})
    yield lab.delete("Pod", "port-a", grace_period=0)                   # its port is free again
    yield lab.apply(_pod("port-c", "containers: [{name: c, image: busybox, ports: [{containerPort: 80, hostPort: 80}]}]"))
    yield [(p["metadata"]["name"], p["status"]["phase"], p["spec"].get("nodeName")) for p in lab.list("Pod", "default")]


def _pod(name, spec):
    if not spec.startswith("containers"):
        spec += ", containers: [{name: c, image: busybox}]"
    return f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec: {{{spec}}}\n"


@pytest.mark.parametrize("options", [{}, DUAL_STACK], ids=["IPv4", "dual-stack"])
def test_controllers_reading_only_changes_act_as_ones_reading_every_pod(options, monkeypatch):
    from kubelab.sim import slice_views

    carried_on = []
    real = slice_views.reconcile_changed_pods
    monkeypatch.setattr(slice_views, "reconcile_changed_pods",
                        lambda *a, **k: carried_on.append(real(*a, **k)) or carried_on[-1])
    incremental = kubelab.connect(seed=3, max_endpoints_per_slice=2, **options)
    full = _reading_everything(kubelab.connect(seed=3, max_endpoints_per_slice=2, **options))
    for got, want in zip(_steps(incremental), _steps(full), strict=True):
        assert got == want
        assert _state(incremental) == _state(full)
    pods = {p["metadata"]["name"]: p for p in incremental.list("Pod", "default")}
    assert len([n for n in pods if n.startswith("web-") and "deletionTimestamp" not in pods[n]["metadata"]]) == 6
    assert pods["picky"]["status"]["phase"] == "Running"   # scheduled once a node had the label
    assert len([r for r in carried_on if r is not None]) >= 5   # the shortcut was taken, not only refused


def test_fast_names_uids_and_timestamps_are_the_library_ones():
    """Pod name suffixes, uids and timestamps are made without random.choice, uuid.UUID or datetime, and
    must be what those give (the course's recorded outputs depend on it)."""
    import datetime
    import random
    import uuid

    from kubelab.sim.cluster import _timestamp, _uuid4
    from kubelab.sim.workloads import _ALPHANUMS, random_suffix

    fast, slow = random.Random(5), random.Random(5)
    for _ in range(500):
        assert random_suffix(fast) == "".join(slow.choice(_ALPHANUMS) for _ in range(5))
        bits = fast.getrandbits(128)
        assert _uuid4(bits) == str(uuid.UUID(int=bits, version=4)) and slow.getrandbits(128) == bits
    epoch = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    for seconds in (0, 1, 59, 86_399, 86_400 * 400 + 7, 30.5):
        assert _timestamp(seconds) == (epoch + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
