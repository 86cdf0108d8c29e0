"""Patch semantics: RFC 7386 merge patch, RFC 6902 JSON patch, strategic merge patch with schema merge keys."""
import pytest

from kubelab.serve.kubeapi import schemas
from kubelab.serve.kubeapi.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from kubelab.serve.kubeapi.printers import human_duration

DEPLOYMENT = schemas.definitions()["io.k8s.api.apps.v1.Deployment"]
SERVICE = schemas.definitions()["io.k8s.api.core.v1.Service"]
NETPOL = schemas.definitions()["io.k8s.api.networking.v1.NetworkPolicy"]


def deployment(containers):
    return {"spec": {"template": {"spec": {"containers": containers}}}}


def test_merge_patch_null_deletes_and_lists_replace():
    """RFC 7386: null removes a key; a list in the patch replaces the whole list."""
    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]}, {"b": {"c": None}, "l": [3]}) == \
        {"a": 1, "b": {"d": 3}, "l": [3]}


def test_json_patch_operations_and_failed_test():
    """RFC 6902: add/replace/remove/move/copy apply in order; a failed test fails the whole patch."""
    doc = {"a": {"b": 1}, "l": [1, 2]}
    out = json_patch(doc, [{"op": "add", "path": "/l/-", "value": 3}, {"op": "replace", "path": "/a/b", "value": 5},
                           {"op": "copy", "from": "/a", "path": "/c"}, {"op": "remove", "path": "/l/0"}])
    assert out == {"a": {"b": 5}, "c": {"b": 5}, "l": [2, 3]} and doc == {"a": {"b": 1}, "l": [1, 2]}
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "test", "path": "/a/b", "value": 2}])


def test_smp_merges_containers_by_name_and_keeps_unnamed_fields():
    """Containers merge by their merge key `name`: a patch of one container's image keeps its ports and the others."""
    live = deployment([{"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]},
                       {"name": "side", "image": "envoy"}])
    out = strategic_merge_patch(live, deployment([{"name": "web", "image": "nginx:2"}]), DEPLOYMENT)
    assert out["spec"]["template"]["spec"]["containers"] == [
        {"name": "web", "image": "nginx:2", "ports": [{"containerPort": 80}]}, {"name": "side", "image": "envoy"}]


def test_smp_delete_directive_and_element_order():
    """$patch: delete removes the keyed item; $setElementOrder orders the merged list."""
    live = deployment([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}])
    out = strategic_merge_patch(live, deployment([{"name": "a", "$patch": "delete"}]), DEPLOYMENT)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["b"]
    patch = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                                            "containers": [{"name": "a", "image": "z"}]}}}}
    out = strategic_merge_patch(live, patch, DEPLOYMENT)
    assert [(c["name"], c["image"]) for c in out["spec"]["template"]["spec"]["containers"]] == [("b", "y"), ("a", "z")]


def test_smp_service_ports_merge_by_port_and_policy_rules_replace():
    """Service ports merge by `port`; NetworkPolicy ingress has no patch strategy, so it is replaced whole."""
    svc = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    out = strategic_merge_patch(svc, {"spec": {"ports": [{"port": 80, "name": "http"}]}}, SERVICE)
    assert out["spec"]["ports"] == [{"port": 80, "targetPort": 8080, "name": "http"}, {"port": 443}]
    policy = {"spec": {"ingress": [{"from": [{"podSelector": {}}]}, {"ports": [{"port": 53}]}]}}
    out = strategic_merge_patch(policy, {"spec": {"ingress": [{"ports": [{"port": 80}]}]}}, NETPOL)
    assert out["spec"]["ingress"] == [{"ports": [{"port": 80}]}]


def test_smp_labels_merge_and_null_removes():
    """Maps merge key by key; null removes a label."""
    live = {"metadata": {"labels": {"a": "1", "b": "2"}}}
    assert strategic_merge_patch(live, {"metadata": {"labels": {"b": None, "c": "3"}}}, SERVICE) == \
        {"metadata": {"labels": {"a": "1", "c": "3"}}}


@pytest.mark.parametrize("seconds,text", [(0, "0s"), (59, "59s"), (119, "119s"), (125, "2m5s"), (600, "10m"),
                                          (3 * 3600 + 60, "3h1m"), (9 * 3600, "9h"), (3 * 86400 + 3600, "3d1h"),
                                          (30 * 86400, "30d"), (3 * 365 * 86400, "3y")])
def test_age_format_is_kubectls(seconds, text):
    """AGE cells follow apimachinery's HumanDuration."""
    assert human_duration(seconds) == text
