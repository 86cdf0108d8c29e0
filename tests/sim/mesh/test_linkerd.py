"""Linkerd 2.19 on the simulated cluster: injection, automatic mTLS with l5d-client-id, the retry and timeout
annotations, and inbound authorization policy."""
from __future__ import annotations

import pytest

from .helpers import mesh_lab, pod_of

MESHED = {"annotations": {"linkerd.io/inject": "enabled"}}
URL = "http://httpbin.meshed:8000/headers"


@pytest.fixture()
def lab():
    return mesh_lab("linkerd", namespaces={"meshed": MESHED, "plain": {}},
                    apps=[("httpbin", "meshed"), ("curl", "meshed"), ("curl", "plain")])


def test_control_plane_installed():
    lab = mesh_lab("linkerd")
    names = sorted(d["metadata"]["name"] for d in lab.list("Deployment", "linkerd"))
    assert names == ["linkerd-destination", "linkerd-identity", "linkerd-proxy-injector"]


def test_injected_pod_has_proxy_first_and_init(lab):
    pod = lab.get("Pod", pod_of(lab, "meshed", "httpbin").split("/")[1], "meshed")
    assert pod["spec"]["containers"][0]["name"] == "linkerd-proxy"
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["linkerd-init"]


def test_meshed_pair_gets_mtls_and_client_id(lab):
    r = lab.http(URL, src=pod_of(lab, "meshed", "curl"))
    assert r.status == 200 and r.mtls
    assert r.request.headers["l5d-client-id"] == "curl.meshed.serviceaccount.identity.linkerd.cluster.local"


def test_unmeshed_client_is_plaintext_and_allowed_by_default(lab):
    r = lab.http(URL, src=pod_of(lab, "plain", "curl"))
    assert r.status == 200 and not r.mtls and "l5d-client-id" not in r.request.headers


def _lab_with_meshed_policy(policy: str):
    """The fixture's lab, with the meshed namespace annotated before its pods are created."""
    meshed = {"annotations": {"linkerd.io/inject": "enabled", "config.linkerd.io/default-inbound-policy": policy}}
    return mesh_lab("linkerd", namespaces={"meshed": meshed, "plain": {}},
                    apps=[("httpbin", "meshed"), ("curl", "meshed"), ("curl", "plain")])


def test_default_inbound_policy_deny_answers_403():
    """config.linkerd.io/default-inbound-policy: deny on the namespace -> HTTP requests get 403."""
    lab = _lab_with_meshed_policy("deny")
    assert lab.http(URL, src=pod_of(lab, "meshed", "curl")).status == 403


def test_all_authenticated_refuses_unmeshed_clients():
    lab = _lab_with_meshed_policy("all-authenticated")
    assert lab.http(URL, src=pod_of(lab, "meshed", "curl")).status == 200
    assert lab.http(URL, src=pod_of(lab, "plain", "curl")).status == 403


def test_default_inbound_policy_is_fixed_when_the_pod_is_created(lab):
    """Linkerd: "changing the annotation will not change the default policy for that pod"; a new pod gets it."""
    lab.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "meshed", "annotations": {
        "linkerd.io/inject": "enabled", "config.linkerd.io/default-inbound-policy": "deny"}}}])
    assert lab.http(URL, src=pod_of(lab, "plain", "curl")).status == 200
    lab.delete("Pod", pod_of(lab, "meshed", "httpbin").split("/")[1], "meshed")     # the Deployment makes a new one
    assert lab.http(URL, src=pod_of(lab, "plain", "curl")).status == 403


def test_server_and_mesh_tls_authentication(lab):
    """A Server on httpbin's port makes it deny-by-default; an AuthorizationPolicy requiring a
    MeshTLSAuthentication naming curl's ServiceAccount admits exactly that client."""
    lab.apply([
        {"apiVersion": "policy.linkerd.io/v1beta3", "kind": "Server", "metadata": {"name": "httpbin", "namespace": "meshed"},
         "spec": {"podSelector": {"matchLabels": {"app": "httpbin"}}, "port": 8080, "proxyProtocol": "HTTP/1"}}])
    assert lab.http(URL, src=pod_of(lab, "meshed", "curl")).status == 403
    lab.apply([
        {"apiVersion": "policy.linkerd.io/v1alpha1", "kind": "MeshTLSAuthentication",
         "metadata": {"name": "curl-only", "namespace": "meshed"},
         "spec": {"identityRefs": [{"kind": "ServiceAccount", "name": "curl"}]}},
        {"apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
         "metadata": {"name": "httpbin-curl", "namespace": "meshed"},
         "spec": {"targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": "httpbin"},
                  "requiredAuthenticationRefs": [{"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication",
                                                  "name": "curl-only"}]}}])
    assert lab.http(URL, src=pod_of(lab, "meshed", "curl")).status == 200
    assert lab.http(URL, src=pod_of(lab, "plain", "curl")).status == 403
    assert lab.get("AuthorizationPolicy.policy.linkerd.io", "httpbin-curl", "meshed")["kind"] == "AuthorizationPolicy"


def test_retry_and_timeout_annotations(lab):
    """retry.linkerd.io/http 5xx with limit 2 -> 3 attempts on a 500; timeout.linkerd.io/request 1s -> 504."""
    svc = lab.get("Service", "httpbin", "meshed")
    svc["metadata"]["annotations"] = {"retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "2",
                                      "timeout.linkerd.io/request": "1s"}
    lab.apply([svc])
    src = pod_of(lab, "meshed", "curl")
    r = lab.http("http://httpbin.meshed:8000/status/500", src=src)
    assert (r.status, r.attempts) == (500, 3)
    assert lab.http("http://httpbin.meshed:8000/status/404", src=src).attempts == 1
    slow = lab.http("http://httpbin.meshed:8000/delay/3", src=src)
    assert (slow.status, slow.elapsed_ms) == (504, 1000)


def test_no_annotation_no_retries(lab):
    r = lab.http("http://httpbin.meshed:8000/status/503", src=pod_of(lab, "meshed", "curl"))
    assert (r.status, r.attempts) == (503, 1)


def test_service_profile_overrides_the_annotations(lab):
    """A ServiceProfile for the Service: its route timeout applies (504) and the retry annotations are ignored."""
    svc = lab.get("Service", "httpbin", "meshed")
    svc["metadata"]["annotations"] = {"retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "2"}
    lab.apply([svc, {"apiVersion": "linkerd.io/v1alpha2", "kind": "ServiceProfile",
                     "metadata": {"name": "httpbin.meshed.svc.cluster.local", "namespace": "meshed"},
                     "spec": {"routes": [{"name": "GET /delay", "condition": {"method": "GET", "pathRegex": "/delay/.*"},
                                          "timeout": "500ms"},
                                         {"name": "GET /status", "condition": {"method": "GET",
                                                                               "pathRegex": "/status/.*"}}]}}])
    src = pod_of(lab, "meshed", "curl")
    slow = lab.http("http://httpbin.meshed:8000/delay/1", src=src)
    assert (slow.status, slow.elapsed_ms) == (504, 500)
    failed = lab.http("http://httpbin.meshed:8000/status/500", src=src)
    assert (failed.status, failed.attempts) == (500, 1)


def _server(access_policy: str | None = None) -> dict:
    spec = {"podSelector": {"matchLabels": {"app": "httpbin"}}, "port": 8080, "proxyProtocol": "HTTP/1"}
    if access_policy:
        spec["accessPolicy"] = access_policy
    return {"apiVersion": "policy.linkerd.io/v1beta3", "kind": "Server",
            "metadata": {"name": "httpbin", "namespace": "meshed"}, "spec": spec}


def _policy(name: str, ref: dict) -> dict:
    return {"apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
            "metadata": {"name": name, "namespace": "meshed"},
            "spec": {"targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": "httpbin"},
                     "requiredAuthenticationRefs": [ref]}}


def test_service_account_named_directly_in_required_authentication_refs(lab):
    """requiredAuthenticationRefs [{kind: ServiceAccount, name: curl}] admits that ServiceAccount's identity only."""
    lab.apply([_server(), _policy("curl-sa", {"kind": "ServiceAccount", "name": "curl"})])
    assert lab.http(URL, src=pod_of(lab, "meshed", "curl")).status == 200
    assert lab.http(URL, src=pod_of(lab, "plain", "curl")).status == 403


def test_server_access_policy_applies_to_traffic_no_policy_authorizes(lab):
    """accessPolicy is "the policy applied to traffic not matching any associated authorization policies"."""
    lab.apply([_server("all-authenticated"), _policy("curl-sa", {"kind": "ServiceAccount", "name": "nobody"})])
    assert lab.http(URL, src=pod_of(lab, "meshed", "curl")).status == 200
    assert lab.http(URL, src=pod_of(lab, "plain", "curl")).status == 403
    lab.apply([_server()])
    assert lab.http(URL, src=pod_of(lab, "meshed", "curl")).status == 403


def _route(name: str, matches: list) -> dict:
    return {"apiVersion": "policy.linkerd.io/v1beta3", "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": "meshed"},
            "spec": {"parentRefs": [{"name": "httpbin", "kind": "Server", "group": "policy.linkerd.io"}],
                     "rules": [{"matches": matches}]}}


def test_per_route_policy_404_for_unmatched_and_403_for_unauthorized_routes(lab):
    """With HTTPRoutes on a Server, a request no route matches is refused with 404; a matched route needs a policy
    targeting it (or the Server)."""
    curl = pod_of(lab, "meshed", "curl")
    route_policy = _policy("read", {"kind": "ServiceAccount", "name": "curl"})
    route_policy["spec"]["targetRef"] = {"group": "policy.linkerd.io", "kind": "HTTPRoute", "name": "read"}
    lab.apply([_server(), _route("read", [{"path": {"value": "/headers"}, "method": "GET"}]),
               _route("write", [{"path": {"value": "/post"}, "method": "POST"}]), route_policy])
    assert lab.http(URL, src=curl).status == 200
    assert lab.http("http://httpbin.meshed:8000/post", src=curl, method="POST").status == 403
    assert lab.http("http://httpbin.meshed:8000/ip", src=curl).status == 404
    lab.apply([_policy("everything", {"kind": "ServiceAccount", "name": "curl"})])
    assert lab.http("http://httpbin.meshed:8000/post", src=curl, method="POST").status == 200
    assert lab.http("http://httpbin.meshed:8000/ip", src=curl).status == 404


def test_inbound_route_prefers_exact_then_longest_prefix_then_method():
    """Gateway API precedence: an Exact path beats any prefix, a longer prefix a shorter one, a method match none."""
    from kubelab.net.mesh.linkerd import inbound_route

    def route(name, match, stamp="2026-01-01T00:00:00Z"):
        return {"metadata": {"name": name, "creationTimestamp": stamp}, "spec": {"rules": [{"matches": [match]}]}}
    prefix = route("prefix", {"path": {"value": "/api"}})
    longer = route("longer", {"path": {"value": "/api/v1"}})
    exact = route("exact", {"path": {"type": "Exact", "value": "/api/v1/x"}})
    method = route("method", {"path": {"value": "/api/v1"}, "method": "GET"})
    routes = [prefix, longer, exact, method]
    assert inbound_route(routes, "GET", "/api/v1/x", {})["metadata"]["name"] == "exact"
    assert inbound_route(routes, "GET", "/api/v1/y", {})["metadata"]["name"] == "method"
    assert inbound_route(routes, "POST", "/api/v1/y", {})["metadata"]["name"] == "longer"
    assert inbound_route(routes, "GET", "/api/v2", {})["metadata"]["name"] == "prefix"
    assert inbound_route(routes, "GET", "/other", {}) is None


def test_httproute_backend_refs_route_by_header_and_weight():
    """An HTTPRoute on a Service: a header match picks its rule's backend Service; weights split (0 gets none)."""
    lab = mesh_lab("linkerd", namespaces={"sample": MESHED}, apps=[("helloworld", "sample"), ("curl", "sample")])
    lab.apply([{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"helloworld-{v}", "namespace": "sample"},
                "spec": {"selector": {"app": "helloworld", "version": v}, "ports": [{"name": "http", "port": 5000}]}}
               for v in ("v1", "v2")])
    route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
             "metadata": {"name": "split", "namespace": "sample"},
             "spec": {"parentRefs": [{"group": "core", "kind": "Service", "name": "helloworld", "port": 5000}],
                      "rules": [{"matches": [{"headers": [{"name": "end-user", "value": "jason"}]}],
                                 "backendRefs": [{"name": "helloworld-v2", "port": 5000}]},
                                {"backendRefs": [{"name": "helloworld-v1", "port": 5000, "weight": 1},
                                                 {"name": "helloworld-v2", "port": 5000, "weight": 0}]}]}}
    lab.apply([route])
    src = pod_of(lab, "sample", "curl")
    plain = {lab.http("http://helloworld:5000/hello", src=src).backend for _ in range(10)}
    jason = {lab.http("http://helloworld:5000/hello", src=src, headers={"End-User": "jason"}).backend for _ in range(10)}
    assert (plain, jason) == ({"sample/helloworld-v1:5000"}, {"sample/helloworld-v2:5000"})


def test_pick_backend_is_proportional_to_weights():
    """pick_backend draws each backendRef with probability weight / sum of weights."""
    import random

    from kubelab.net.mesh.linkerd import pick_backend

    rng = random.Random(1)
    rule = {"backendRefs": [{"name": "a", "weight": 3}, {"name": "b", "weight": 1}, {"name": "c", "weight": 0}]}
    names = [pick_backend(rule, rng)["name"] for _ in range(4000)]
    assert names.count("c") == 0 and 0.72 < names.count("a") / 4000 < 0.78
    assert pick_backend({}, rng) is None
