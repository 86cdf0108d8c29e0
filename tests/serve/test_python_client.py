"""The official `kubernetes` Python client against the served simulated cluster."""
import pytest
from kubernetes import client, config, utils, watch
from kubernetes.dynamic import DynamicClient

from .manifests import APP, BAD_NODEPORT


@pytest.fixture
def api(server):
    return config.new_client_from_config(config_file=str(server.kubeconfig))


@pytest.fixture
def with_app(api, tmp_path):
    (tmp_path / "app.yaml").write_text(APP)
    utils.create_from_yaml(api, str(tmp_path / "app.yaml"))
    return api


def test_create_from_yaml_and_typed_list(with_app, lab):
    """Does utils.create_from_yaml create the objects, and list_namespaced_pod list what the Lab runs?"""
    names = sorted(p.metadata.name for p in client.CoreV1Api(with_app).list_namespaced_pod("default").items)
    assert names == sorted(p["metadata"]["name"] for p in lab.list("Pod", "default"))
    assert "client" in names and len(names) == 3


def test_dict_patch_is_strategic_merge_and_list_patch_is_json_patch(with_app, lab):
    """Does a dict patch merge containers by name (strategic merge) and a list patch apply RFC 6902 operations?"""
    apps = client.AppsV1Api(with_app)
    patched = apps.patch_namespaced_deployment("web", "default", {"spec": {"template": {"spec": {
        "containers": [{"name": "web", "image": "nginx:1.28"}]}}}})
    container = patched.spec.template.spec.containers[0]
    assert (container.image, container.ports[0].container_port) == ("nginx:1.28", 80)   # merged, not replaced
    v1 = client.CoreV1Api(with_app)
    v1.patch_namespaced_pod("client", "default", [{"op": "add", "path": "/metadata/labels/tier", "value": "test"}])
    assert lab.get("Pod", "client")["metadata"]["labels"] == {"app": "client", "tier": "test"}


def test_scale_subresource(with_app, lab):
    """Does patch_namespaced_deployment_scale change the replicas and report the selector?"""
    scale = client.AppsV1Api(with_app).patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 3}})
    assert (scale.spec.replicas, scale.status.selector) == (3, "app=web")
    assert len(lab.list("Pod", "default", selector="app=web")) == 3


def test_watch_replays_current_pods_then_streams_changes(with_app, lab):
    """Does a watch without resourceVersion start with the current pods as ADDED events?"""
    v1 = client.CoreV1Api(with_app)
    events = [(e["type"], e["object"].metadata.name)
              for e in watch.Watch().stream(v1.list_namespaced_pod, "default", timeout_seconds=1)]
    assert sorted(events) == sorted(("ADDED", p["metadata"]["name"]) for p in lab.list("Pod", "default"))


def test_dynamic_client_uses_legacy_discovery(with_app):
    """Does the DynamicClient find Services and NetworkPolicies through legacy discovery?"""
    dyn = DynamicClient(with_app)
    services = dyn.resources.get(api_version="v1", kind="Service").get(namespace="default")
    assert sorted(s.metadata.name for s in services.items) == ["kubernetes", "web"]
    policies = dyn.resources.get(api_version="networking.k8s.io/v1", kind="NetworkPolicy")
    assert policies.get(namespace="default").items == []


def test_errors_are_status_objects(with_app):
    """Are a missing object 404 NotFound and an invalid one 422 Invalid with the field in its causes?"""
    v1 = client.CoreV1Api(with_app)
    with pytest.raises(client.ApiException) as missing:
        v1.read_namespaced_pod("nope", "default")
    assert missing.value.status == 404
    import yaml
    with pytest.raises(client.ApiException) as invalid:
        v1.create_namespaced_service("default", yaml.safe_load(BAD_NODEPORT))
    assert invalid.value.status == 422
    import json
    status = json.loads(invalid.value.body)
    assert status["reason"] == "Invalid"
    assert status["details"]["causes"][0]["field"] == "spec.ports[0].nodePort"


def test_delete(with_app, lab):
    """Does delete_namespaced_pod leave the pod terminating for its grace period (30 s), and does
    grace_period_seconds=0 remove it from the Lab at once?"""
    v1 = client.CoreV1Api(with_app)
    terminating = v1.delete_namespaced_pod("client", "default")
    assert terminating.metadata.deletion_timestamp is not None
    assert lab.get("Pod", "client")["metadata"]["deletionGracePeriodSeconds"] == 30
    v1.delete_namespaced_pod("client", "default", grace_period_seconds=0)
    assert [p for p in lab.list("Pod", "default") if p["metadata"]["name"] == "client"] == []


def test_lab_serve_sets_kubeconfig(lab, monkeypatch):
    """Does lab.serve() return a kubeconfig, export KUBECONFIG and reuse the running server?"""
    import os
    monkeypatch.delenv("KUBECONFIG", raising=False)
    path = lab.serve()
    try:
        assert os.environ["KUBECONFIG"] == path and lab.serve() == path
        v1 = client.CoreV1Api(config.new_client_from_config(config_file=path))
        assert v1.read_namespace("default").metadata.name == "default"
    finally:
        lab.api_server.stop()
