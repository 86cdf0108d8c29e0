"""The pod index behind apply()'s Service warnings finds exactly the pods a namespace scan finds."""
from __future__ import annotations

import random

from kubelab.net.diagnose import PodIndex, service_port_problem, service_warnings
from kubelab.net.labels import selector_from_map


def _pod(ns, name, labels, ready=True, port_name="http"):
    return {"metadata": {"namespace": ns, "name": name, "labels": labels},
            "spec": {"containers": [{"name": "c", "ports": [{"name": port_name, "containerPort": 8080}]}]},
            "status": {"podIPs": [{"ip": "10.0.0.1"}], "podIP": "10.0.0.1", "phase": "Running",
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def _service(ns, selector, target="http"):
    return {"metadata": {"namespace": ns, "name": "s"},
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": target}]}}


def _random_cluster(seed):
    rng = random.Random(seed)
    pods = [_pod(rng.choice(["a", "b"]), f"p{i}",
                 {k: rng.choice(["x", "y"]) for k in rng.sample(["app", "tier", "role"], rng.randint(0, 3))},
                 ready=rng.random() < 0.7, port_name=rng.choice(["http", "web"]))
            for i in range(60)]
    services = [_service(rng.choice(["a", "b", "c"]),
                         {k: rng.choice(["x", "y", "z"]) for k in rng.sample(["app", "tier", "role"], rng.randint(1, 3))},
                         rng.choice(["http", "web", "metrics"]))
                for _ in range(80)]
    return pods, services


def test_index_selects_what_a_namespace_scan_selects_in_pod_order():
    """Same pods, same order, as filtering every pod by namespace and selector (the rule it replaces)."""
    for seed in range(5):
        pods, services = _random_cluster(seed)
        index = PodIndex(pods)
        for service in services:
            ns, selector = service["metadata"]["namespace"], selector_from_map(service["spec"]["selector"])
            scan = [p for p in pods if p["metadata"]["namespace"] == ns and selector.matches(p["metadata"]["labels"])]
            assert index.selected(service) == scan


def test_warnings_from_one_shared_index_equal_those_from_the_pod_list():
    """service_warnings / service_port_problem give the same text with a shared index as with the list."""
    pods, services = _random_cluster(7)
    index = PodIndex(pods)
    seen = set()
    for service in services:
        assert service_warnings(service, index) == service_warnings(service, pods)
        port = service["spec"]["ports"][0]
        assert service_port_problem(service, port, index) == service_port_problem(service, port, pods)
        seen.update(w.split(":")[1].strip() for w in service_warnings(service, pods))
    assert seen == {"spec.selector", "spec.ports[0].targetPort"}   # both kinds of warning were exercised
