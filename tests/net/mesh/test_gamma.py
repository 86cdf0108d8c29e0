"""Mesh (GAMMA) HTTPRoutes turned into the VirtualServices istiod builds from them."""
from __future__ import annotations

from kubelab.net.mesh.gamma import virtual_services_from_routes
from kubelab.net.mesh.routing import MeshRequest, VirtualServiceTable, rewrite_path


def _route(rules, parent="reviews", kind="Service"):
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "r", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"parentRefs": [{"group": "", "kind": kind, "name": parent, "port": 9080}], "rules": rules}}


def _choose(vs_list, path, headers=(), method="GET"):
    table = VirtualServiceTable(vs_list)
    entry = table.lookup("reviews.default.svc.cluster.local")
    req = MeshRequest(method, path, "reviews", tuple(headers), (), "default", "mesh", 9080, "http")
    return table.choose(entry, req)


def test_only_service_parents_become_virtual_services():
    """A route attached to a Gateway is the gateway's business, not the sidecars'."""
    assert virtual_services_from_routes([_route([{}], parent="gw", kind="Gateway")]) == []
    [vs] = virtual_services_from_routes([_route([{"backendRefs": [{"name": "reviews-v1", "port": 9080}]}])])
    assert vs["spec"]["hosts"] == ["reviews.default.svc.cluster.local"]
    assert vs["spec"]["http"][0]["route"] == [{"destination": {"host": "reviews-v1.default.svc.cluster.local",
                                                               "port": {"number": 9080}}, "weight": 1}]


def test_matches_follow_gateway_api_precedence_not_rule_order():
    """An Exact path beats a prefix, a longer prefix a shorter one, whatever the order the rules are written in;
    a PathPrefix matches whole path elements (/api does not hold /apiary)."""
    rules = [{"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}], "backendRefs": [{"name": "short"}]},
             {"matches": [{"path": {"type": "PathPrefix", "value": "/api/v1"}}], "backendRefs": [{"name": "long"}]},
             {"matches": [{"path": {"type": "Exact", "value": "/api/v1/x"}}], "backendRefs": [{"name": "exact"}]}]
    vs = virtual_services_from_routes([_route(rules)])

    def host(path):
        choice = _choose(vs, path)
        return choice.route.destinations[0].host.split(".")[0] if choice.route else None
    assert [host("/api/v1/x"), host("/api/v1/y"), host("/api"), host("/apiary")] == ["exact", "long", "short", None]


def test_rule_without_backends_answers_500_and_redirect_defaults_to_302():
    vs = virtual_services_from_routes([_route([
        {"matches": [{"path": {"value": "/empty"}}]},
        {"matches": [{"path": {"value": "/old"}}], "filters": [{"type": "RequestRedirect",
                                                                 "requestRedirect": {"hostname": "new.example"}}]}])])
    http = {h["match"][0]["uri"]["regex"].split("(")[0]: h for h in vs[0]["spec"]["http"]}
    assert http["/empty"]["directResponse"] == {"status": 500}
    assert http["/old"]["redirect"] == {"redirectCode": 302, "authority": "new.example"}


def test_replace_prefix_match_rewrites_only_the_prefix():
    def rewritten(prefix, replacement, path):
        [vs] = virtual_services_from_routes([_route([{
            "matches": [{"path": {"value": prefix}}], "backendRefs": [{"name": "b"}],
            "filters": [{"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch",
                                                                      "replacePrefixMatch": replacement}}}]}])])
        return rewrite_path(vs["spec"]["http"][0]["rewrite"], None, path)
    assert rewritten("/foo", "/bar", "/foo/x?q=1") == "/bar/x?q=1"
    assert rewritten("/foo", "/bar", "/foo") == "/bar"
    assert rewritten("/foo", "/", "/foo/x") == "/x"
    assert rewritten("/foo", "/", "/foo") == "/"
