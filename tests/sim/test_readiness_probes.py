"""Does the simulated kubelet run readiness probes against the simulated app, so a pod whose probe fails is not
Ready and its endpoint is `ready: false` (kubelet docs: httpGet succeeds on 200-399, tcpSocket when it connects)?"""
import pytest

import kubelab
from kubelab.net.probes import unready_containers

ECHO = "registry.k8s.io/gateway-api/echo-basic:v20240412-v1.0.0"


def _web(probe):
    container = {"name": "web", "image": ECHO, "ports": [{"name": "http", "containerPort": 3000}]}
    if probe is not None:
        container["readinessProbe"] = probe
    return [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
             "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                      "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}}}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
             "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}}]


def _ready_states(lab):
    pods = lab.list("Pod", "default", selector="app=web")
    slices = lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=web")
    endpoints = sorted(e["conditions"]["ready"] for s in slices for e in s.get("endpoints") or [])
    ready = sorted(next(c["status"] for c in p["status"]["conditions"] if c["type"] == "Ready") for p in pods)
    return ready, endpoints


@pytest.mark.parametrize("probe", [
    None,
    {"httpGet": {"path": "/health", "port": 3000}},
    {"httpGet": {"path": "/health", "port": "http"}},
    {"httpGet": {"path": "/status/302", "port": "http"}},          # 3xx counts as success
    {"tcpSocket": {"port": "http"}},
    {"exec": {"command": ["true"]}},
], ids=["none", "http-number", "http-named", "http-redirect", "tcp", "exec"])
def test_a_passing_probe_leaves_pods_ready(probe):
    lab = kubelab.connect()
    lab.apply(_web(probe))
    assert _ready_states(lab) == (["True", "True"], [True, True])


@pytest.mark.parametrize("probe, why", [
    ({"httpGet": {"path": "/health", "port": 8080}}, "connect: connection refused"),
    ({"httpGet": {"path": "/status/503", "port": "http"}}, "HTTP probe failed with statuscode: 503"),
    ({"httpGet": {"path": "/health", "port": "healthz"}}, "port healthz not found"),
    ({"tcpSocket": {"port": 9000}}, "connection refused"),
], ids=["wrong-port", "http-503", "unknown-name", "tcp-closed"])
def test_a_failing_probe_makes_pods_unready_and_endpoints_not_ready(probe, why):
    lab = kubelab.connect()
    lab.apply(_web(probe))
    assert _ready_states(lab) == (["False", "False"], [False, False])
    pod = lab.list("Pod", "default", selector="app=web")[0]
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "ContainersNotReady" and ready["message"] == "containers with unready status: [web]"
    (name, message), = unready_containers(pod)
    assert name == "web" and why in message
    assert not lab.reach("default/" + pod["metadata"]["name"], "web.default.svc.cluster.local", 80)


def test_a_tcp_probe_asks_where_the_image_listens_not_what_it_declares():
    """Does a tcpSocket probe on a declared port fail when the image listens elsewhere (echo-basic on
    $HTTP_PORT), and pass on the port it really serves? (containerPort is only documentation.)"""
    lab = kubelab.connect()
    manifests = _web({"tcpSocket": {"port": "http"}})
    manifests[0]["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "HTTP_PORT", "value": "8080"}]
    lab.apply(manifests)
    assert _ready_states(lab) == (["False", "False"], [False, False])
    manifests[0]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {"tcpSocket": {"port": 8080}}
    lab.apply(manifests)
    lab.advance(60)
    assert _ready_states(lab) == (["True", "True"], [True, True])
