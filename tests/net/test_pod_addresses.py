"""PodAddresses, the endpoints controller's Endpoints kept up to date pod by pod: after any run of pods
created, changed and removed it builds what endpoints_for_service builds from all of them."""
from __future__ import annotations

import random

from kubelab.net.endpoints import OVER_CAPACITY, PodAddresses, endpoints_for_service


def _pod(name, ip, *, ready=True, terminating=False, named_port=True, app="web"):
    meta = {"name": name, "namespace": "default", "labels": {"app": app}, "uid": f"u-{name}"}
    if terminating:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    ports = [{"name": "http", "containerPort": 8080}] if named_port else []
    return {"metadata": meta, "spec": {"nodeName": "node-1", "containers": [{"name": "c", "ports": ports}]},
            "status": {"phase": "Running", "podIPs": [{"ip": ip}],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


SERVICE = {"metadata": {"name": "web", "namespace": "default"},
           "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.9",
                    "ports": [{"name": "a", "port": 80, "targetPort": "http"}, {"name": "b", "port": 81, "targetPort": 9}]}}


def _random_pod(rng, name):
    # few addresses, so several pods share one (the order is then by pod name)
    return _pod(name, f"10.244.{rng.randrange(3)}.{rng.randrange(1, 6)}", ready=rng.random() < 0.7,
                terminating=rng.random() < 0.1, named_port=rng.random() < 0.8, app=rng.choice(["web", "web", "db"]))


def test_updated_pod_by_pod_equals_built_from_every_pod():
    rng = random.Random(7)
    pods = {f"p{i:02d}": _random_pod(rng, f"p{i:02d}") for i in range(30)}
    addresses = PodAddresses(SERVICE, sorted(pods.values(), key=lambda p: p["metadata"]["name"]))
    assert addresses.endpoints() == endpoints_for_service(SERVICE, list(pods.values()))
    for _ in range(300):
        name = f"p{rng.randrange(40):02d}"
        if name in pods and rng.random() < 0.3:
            del pods[name]
            addresses.update(name, None)
        else:
            pods[name] = _random_pod(rng, name)
            addresses.update(name, pods[name])
        assert addresses.endpoints() == endpoints_for_service(SERVICE, list(pods.values()))
    assert any(len(s.get("addresses", [])) > 1 for s in addresses.endpoints()["subsets"])


def test_truncated_the_same_way_past_capacity():
    pods = [_pod(f"p{i:04d}", f"10.244.{i // 250}.{i % 250 + 1}", ready=i % 3 > 0) for i in range(1100)]
    addresses = PodAddresses(SERVICE, pods)
    addresses.update("p0003", None)
    addresses.update("p1100", _pod("p1100", "10.244.0.1", ready=False))
    now = [p for p in pods if p["metadata"]["name"] != "p0003"] + [_pod("p1100", "10.244.0.1", ready=False)]
    got = addresses.endpoints()
    assert got == endpoints_for_service(SERVICE, now)
    assert got["metadata"]["annotations"] == {OVER_CAPACITY: "truncated"}
