"""Bad requests get kube-apiserver's Status replies, never a dropped connection or a traceback."""
import json
import urllib.error
import urllib.request


def call(server, method, path, body=None, content_type="application/json", accept="application/json"):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers={"Content-Type": content_type, "Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_unknown_paths_and_resources_are_404_status(server):
    """Is an unknown resource or path a 404 Status?"""
    for path in ("/api/v1/namespaces/default/widgets", "/apis/nope.k8s.io/v1", "/nothing"):
        code, body = call(server, "GET", path)
        assert (code, body["kind"], body["reason"]) == (404, "Status", "NotFound")


def test_bodies_that_are_not_objects_are_400(server):
    """Are a non-JSON body, a list body and a mismatched kind each a 400 BadRequest saying what is wrong?"""
    code, body = call(server, "POST", "/api/v1/namespaces/default/pods", b"{not json")
    assert code == 400 and "unknown format" in body["message"]
    code, body = call(server, "POST", "/api/v1/namespaces/default/pods", [1, 2])
    assert code == 400 and "must be a Kubernetes object" in body["message"]
    code, body = call(server, "POST", "/api/v1/namespaces/default/pods",
                      {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}})
    assert code == 400 and "does not match the resource pods" in body["message"]


def test_namespace_mismatch_and_name_mismatch(server):
    """Is an object whose namespace or name differs from the URL's refused?"""
    code, body = call(server, "POST", "/api/v1/namespaces/default/configmaps",
                      {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "other"}})
    assert code == 400 and "does not match the namespace" in body["message"]
    call(server, "POST", "/api/v1/namespaces/default/configmaps",
         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    code, body = call(server, "PUT", "/api/v1/namespaces/default/configmaps/c",
                      {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}})
    assert code == 400 and "does not match the name" in body["message"]


def test_stale_resource_version_is_a_conflict(server, lab):
    """Does a PUT with an old resourceVersion get 409 Conflict (optimistic concurrency)?"""
    code, created = call(server, "POST", "/api/v1/namespaces/default/configmaps",
                         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}})
    assert code == 201
    stale = dict(created, data={"a": "2"})
    assert call(server, "PUT", "/api/v1/namespaces/default/configmaps/c", stale)[0] == 200
    code, body = call(server, "PUT", "/api/v1/namespaces/default/configmaps/c", dict(stale, data={"a": "3"}))
    assert code == 409 and body["reason"] == "Conflict"
    assert lab.get("ConfigMap", "c")["data"] == {"a": "2"}


def test_bad_patches(server):
    """Are a failing JSON-patch test and an unsupported patch type reported (422, 415)?"""
    call(server, "POST", "/api/v1/namespaces/default/configmaps",
         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}})
    code, body = call(server, "PATCH", "/api/v1/namespaces/default/configmaps/c",
                      [{"op": "test", "path": "/data/a", "value": "9"}], "application/json-patch+json")
    assert code == 422 and "test failed" in body["message"]
    code, body = call(server, "PATCH", "/api/v1/namespaces/default/configmaps/c", {"data": {}}, "text/plain")
    assert code == 415 and body["reason"] == "UnsupportedMediaType"


def test_read_only_and_bad_selectors(server):
    """Are writes to events refused (405), and a malformed label selector a 400?"""
    code, body = call(server, "POST", "/api/v1/namespaces/default/events",
                      {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}})
    assert code == 405
    code, body = call(server, "GET", "/api/v1/pods?labelSelector=a%20in%20(b")
    assert code == 400 and body["reason"] == "BadRequest"


def test_delete_options_grace_period_from_the_body_or_the_query(server, lab):
    """Is DeleteOptions.gracePeriodSeconds taken from the body, else the query; a negative one made 1 (the pod
    strategy); a non-integer one a 400?"""
    from .manifests import APP
    lab.apply(APP)
    web = [p["metadata"]["name"] for p in lab.list("Pod", "default", selector="app=web")]
    code, body = call(server, "DELETE", "/api/v1/namespaces/default/pods/client?gracePeriodSeconds=nine")
    assert code == 400 and "gracePeriodSeconds" in body["message"]
    code, body = call(server, "DELETE", f"/api/v1/namespaces/default/pods/{web[0]}",
                      {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 7})
    assert code == 200 and body["metadata"]["deletionGracePeriodSeconds"] == 7
    code, body = call(server, "DELETE", f"/api/v1/namespaces/default/pods/{web[1]}?gracePeriodSeconds=-5")
    assert code == 200 and body["metadata"]["deletionGracePeriodSeconds"] == 1
    code, _ = call(server, "DELETE", "/api/v1/namespaces/default/pods/client?gracePeriodSeconds=0")
    assert code == 200 and all(p["metadata"]["name"] != "client" for p in lab.list("Pod", "default"))
