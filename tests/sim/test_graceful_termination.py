"""Graceful pod termination in simulated time: terminating endpoints, kube-proxy's fallback, lab.advance."""
from __future__ import annotations

import pytest

import kubelab
from kubelab import KubelabError

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 45
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {containers: [{name: c, image: busybox}]}
"""


@pytest.fixture
def lab():
    lab = kubelab.connect()
    lab.apply(WEB)
    return lab


def _web_pods(lab):
    return sorted(p["metadata"]["name"] for p in lab.list("Pod", "default", selector="app=web"))


def _endpoint(lab, ip):
    return next(e for s in lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=web")
                for e in s["endpoints"] if e["addresses"][0] == ip)


def test_deleted_pod_stays_terminating_for_its_grace_period(lab):
    """Is a deleted pod kept with deletionTimestamp until terminationGracePeriodSeconds have passed?"""
    victim = _web_pods(lab)[0]
    ip = lab.get("Pod", victim)["status"]["podIP"]
    lab.delete("Pod", victim)
    pod = lab.get("Pod", victim)
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 45 and pod["metadata"]["deletionTimestamp"]
    assert _endpoint(lab, ip)["conditions"] == {"ready": False, "serving": True, "terminating": True}
    assert len(_web_pods(lab)) == 3          # the replacement starts at once
    assert lab.advance(44) == []
    assert victim in _web_pods(lab)
    assert lab.advance(1) == [f"default/{victim}"]
    assert victim not in _web_pods(lab) and len(_web_pods(lab)) == 2


def test_new_connections_avoid_terminating_endpoints(lab):
    """While others are ready, does kube-proxy leave the terminating endpoint out of new connections?"""
    victim = _web_pods(lab)[0]
    ip = lab.get("Pod", victim)["status"]["podIP"]
    lab.delete("Pod", victim)
    candidates = lab.reach("default/client", "web", 80).candidates
    assert candidates and all(not c.startswith(ip + ":") for c in candidates)


def test_kube_proxy_falls_back_to_serving_terminating_endpoints(lab):
    """With no ready endpoint left, does kube-proxy use the serving, terminating ones?"""
    deploy = lab.get("Deployment", "web")
    deploy["spec"]["replicas"] = 0
    lab.apply(deploy)
    verdict = lab.reach("default/client", "web", 80)
    assert verdict and len(verdict.candidates) == 2
    assert "terminating" in verdict.rules[-1] or "terminating" in " ".join(verdict.rules)
    lab.advance(45)
    assert not lab.reach("default/client", "web", 80)


def test_grace_period_zero_deletes_at_once(lab):
    """grace_period=0 (kubectl delete --grace-period=0 --force) removes the pod immediately."""
    victim = _web_pods(lab)[0]
    lab.delete("Pod", victim, grace_period=0)
    assert victim not in _web_pods(lab)


def test_an_update_cannot_undelete_a_terminating_pod(lab):
    """Re-applying a terminating pod keeps its deletionTimestamp (an update is not a create)."""
    lab.delete("Pod", "client")
    pod = lab.get("Pod", "client")
    pod["metadata"].pop("deletionTimestamp")
    lab.apply(pod)
    assert lab.get("Pod", "client")["metadata"].get("deletionTimestamp")
    lab.advance(30)
    with pytest.raises(KubelabError):
        lab.get("Pod", "client")


def test_advance_rejects_negative_time(lab):
    """Time only moves forward."""
    with pytest.raises(KubelabError):
        lab.advance(-1)
