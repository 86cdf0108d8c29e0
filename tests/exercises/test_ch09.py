"""Lesson 09 exercises: the reference answers pass, answers written differently pass too, the classic mistakes
are named with a hint, and wrong answers fail."""
from __future__ import annotations

import json

import pytest

from kubelab.course.exercises import check
from kubelab.net.http.tls import make_tls_secret

from .helpers import blocked, failed, mistakes


def ingress(name: str, rules: list, *, namespace: str | None = None, tls=(),
            ingress_class: str | None = "nginx", annotations: dict | None = None) -> str:
    """An Ingress as YAML text. `rules`: (host, paths) pairs, host None for a rule without one; each path is
    (path, service, port) or (path, service, port, pathType), a port a number or a Service port's name.
    `tls`: (hosts, secretName) pairs."""
    meta = {"name": name, **({"namespace": namespace} if namespace else {}),
            **({"annotations": annotations} if annotations else {})}
    lines = ["apiVersion: networking.k8s.io/v1", "kind: Ingress", f"metadata: {json.dumps(meta)}", "spec:"]
    if ingress_class:
        lines.append(f"  ingressClassName: {ingress_class}")
    if tls:
        lines.append("  tls:")
        lines += [f"  - {{hosts: {json.dumps(hosts)}, secretName: {secret}}}" for hosts, secret in tls]
    lines.append("  rules:")
    for host, paths in rules:
        lines.append(f"  - host: {json.dumps(host)}\n    http:" if host else "  - http:")
        lines.append("      paths:")
        for path, service, port, *path_type in paths:
            ref = f"{{number: {port}}}" if isinstance(port, int) else f"{{name: {port}}}"
            lines.append(f"      - {{path: {path}, pathType: {(path_type or ['Prefix'])[0]}, "
                         f"backend: {{service: {{name: {service}, port: {ref}}}}}}}")
    return "\n".join(lines) + "\n"


FANOUT_PATHS = [("/", "web", 80), ("/cart", "cart", 80), ("/api", "api", 80)]


def _fanout(changes: dict | None = None, host: str | None = "shop.example.com", ingress_class="nginx") -> str:
    """The fan-out answer with the paths named in `changes` (by their path) replaced."""
    paths = [(changes or {}).get(p[0], p) for p in FANOUT_PATHS]
    return ingress("shop", [(host, paths)], ingress_class=ingress_class)


FANOUT = _fanout()
# the same routes written differently: two Ingresses, trailing slashes, ports by name
FANOUT_OTHER = (ingress("shop-front", [("shop.example.com", [("/", "web", "http")])]) + "---\n"
                + ingress("shop-services",
                          [("shop.example.com", [("/cart/", "cart", "http"), ("/api/", "api", "http")])]))

PORTAL, TENANT_PATHS = [("/", "portal", 80)], [("/", "tenants", 80)]
TENANTS = ingress("apps", [("apps.example.com", PORTAL), ("*.apps.example.com", TENANT_PATHS)])
TENANTS_OTHER = (ingress("portal", [("apps.example.com", [("/", "portal", "http", "ImplementationSpecific")])])
                 + "---\n" + ingress("tenants", [("*.apps.example.com", TENANT_PATHS)]))

STORE_RULES = [("store.example.com", [("/", "web", 80)]), ("api.example.com", [("/", "api", 80)])]
TLS_ENTRIES = [(["store.example.com"], "store-tls"), (["api.example.com"], "api-tls")]


def _tls_ingress(tls=TLS_ENTRIES, namespace: str | None = "store") -> str:
    return ingress("edge", STORE_RULES, namespace=namespace, tls=tls)


TLS_INGRESS = _tls_ingress()
STORE_TLS = make_tls_secret("store-tls", "store", ["store.example.com"])
API_TLS = make_tls_secret("api-tls", "store", ["api.example.com"])
TLS = [STORE_TLS, API_TLS, TLS_INGRESS]
# one certificate for both names, one tls entry
TLS_OTHER = [make_tls_secret("both", "store", ["store.example.com", "api.example.com"]),
             _tls_ingress([(["store.example.com", "api.example.com"], "both")])]


def _blog(ingress_class: str | None = "nginx", annotations: dict | None = None) -> str:
    return ingress("blog", [("blog.example.com", [("/", "web", 80)])], ingress_class=ingress_class,
                   annotations=annotations)


CLASS = _blog()
CLASS_ANNOTATION = _blog(None, {"kubernetes.io/ingress.class": "nginx"})

REFERENCE = {"09-fanout": FANOUT, "09-tenants": TENANTS, "09-tls": TLS, "09-ingress-class": CLASS}
OTHER = {"09-fanout": FANOUT_OTHER, "09-tenants": TENANTS_OTHER, "09-tls": TLS_OTHER,
         "09-ingress-class": CLASS_ANNOTATION}


def test_exact_cart_misses_the_paths_under_it():
    """Exact /cart: do /cart/ and /cart/checkout fail, with the Exact-vs-Prefix hint?"""
    result = check("09-fanout", _fanout({"/cart": ("/cart", "cart", 80, "Exact")}))
    assert failed(result) == ["/cart and every path under it land on cart"]
    assert mistakes(result) == ["Exact where Prefix is meant"]


def test_implementation_specific_sends_cartography_to_cart():
    """ImplementationSpecific /cart under ingress-nginx: does /cartography go to cart, named as a string prefix?"""
    result = check("09-fanout", _fanout({"/cart": ("/cart", "cart", 80, "ImplementationSpecific")}))
    assert failed(result) == ["/cartography, /apiary and /Cart land on web"]
    assert mistakes(result) == ["ImplementationSpecific is a string prefix in ingress-nginx"]


def test_a_glob_is_matched_literally():
    """/cart/* as a path: does /cart fail and the glob get named?"""
    result = check("09-fanout", _fanout({"/cart": ("/cart/*", "cart", 80)}))
    assert "/cart and every path under it land on cart" in failed(result)
    assert "a glob in the path" in mistakes(result)


def test_the_container_port_as_backend_port():
    """port.number 3000 (the container's) instead of the Service's 80: is it named, and /cart failed (503)?"""
    result = check("09-fanout", _fanout({"/cart": ("/cart", "cart", 3000)}))
    assert failed(result) == ["/cart and every path under it land on cart"]
    assert mistakes(result) == ["backend port number is not a Service port"]


def test_a_port_name_the_service_does_not_have():
    """port.name web (the Service's port is named http): named as a port-name mistake?"""
    result = check("09-fanout", _fanout({"/api": ("/api", "api", "web")}))
    assert failed(result) == ["/api and every path under it land on api"]
    assert mistakes(result) == ["backend port name is not a Service port name"]


def test_a_rule_without_host_answers_every_host():
    """No host on the rule: does www.example.com reach the shop, with the hint?"""
    result = check("09-fanout", _fanout(host=None))
    assert failed(result) == ["another host (www.example.com) gets no page of the shop"]
    assert mistakes(result) == ["a rule without host"]


def test_the_controller_name_as_the_class_in_fanout():
    """ingressClassName ingress-nginx (no such class): nothing is served and the class is named."""
    result = check("09-fanout", _fanout(ingress_class="ingress-nginx"))
    assert result.passed <= 1
    assert mistakes(result) == ["ingressClassName names no IngressClass"]


def test_a_wildcard_one_level_too_high():
    """*.example.com for the tenants: do tenants fail and www.example.com leak in, with the depth hint?"""
    result = check("09-tenants", ingress("apps", [("apps.example.com", PORTAL), ("*.example.com", TENANT_PATHS)]))
    assert set(failed(result)) == {"every tenant's subdomain lands on tenants",
                                   "other names (www.example.com, apps.example.org) reach neither"}
    assert mistakes(result) == ["a wildcard one level too high"]


def test_the_wildcard_alone_misses_the_portal():
    """Only *.apps.example.com: does apps.example.com itself fail, with the hint that a wildcard needs a label?"""
    result = check("09-tenants", ingress("apps", [("*.apps.example.com", TENANT_PATHS)] * 2))
    assert failed(result) == ["apps.example.com lands on portal"]
    assert mistakes(result) == ["the wildcard does not cover the name itself"]


def test_tls_secret_in_another_namespace():
    """The shop's Secret made in default: is the fake certificate served and the namespace rule named?"""
    result = check("09-tls", [make_tls_secret("store-tls", "default", ["store.example.com"]), API_TLS, TLS_INGRESS])
    assert "store.example.com is served with a certificate valid for store.example.com" in failed(result)
    assert mistakes(result) == ["TLS Secret in another namespace"]


def test_one_certificate_that_does_not_name_the_second_host():
    """The shop's certificate for both hosts: does api fail the certificate check, naming the SAN mistake?"""
    answer = _tls_ingress([(["store.example.com"], "store-tls"), (["api.example.com"], "store-tls")])
    result = check("09-tls", [STORE_TLS, answer])
    assert failed(result) == ["api.example.com is served with a certificate valid for api.example.com"]
    assert mistakes(result) == ["certificate not valid for the host"]


def test_a_host_missing_from_spec_tls():
    """No tls entry for api.example.com: is the missing host named?"""
    result = check("09-tls", [STORE_TLS, API_TLS, _tls_ingress(TLS_ENTRIES[:1])])
    assert failed(result) == ["api.example.com is served with a certificate valid for api.example.com"]
    assert mistakes(result) == ["host missing from spec.tls"]


def test_tls_ingress_in_the_wrong_namespace():
    """The Ingress in default (the Services are in store): do the requests fail?"""
    result = check("09-tls", [STORE_TLS, API_TLS, _tls_ingress(namespace=None)])
    assert "https://store.example.com/ lands on web" in failed(result)


def test_no_class_gets_the_clusters_default():
    """No ingressClassName where another controller's class is the default: not served, and named."""
    result = check("09-ingress-class", _blog(None))
    assert set(failed(result)) == {"ingress-nginx publishes its address in the Ingress's status",
                                   "http://blog.example.com/ and /posts/2 land on web",
                                   "a pod inside the cluster reaches the blog through the controller's Service",
                                   "other teams' Ingresses without a class still get the default class internal"}
    assert result.passed == 0 and mistakes(result) == ["no ingressClassName"]


def test_the_other_controllers_class():
    """ingressClassName internal: named as a class of another controller."""
    result = check("09-ingress-class", _blog("internal"))
    assert not result and mistakes(result) == ["Ingress not served by ingress-nginx"]


def test_the_controller_name_as_the_class():
    """ingressClassName k8s.io/ingress-nginx: the API server refuses it, and the mix-up is named."""
    result = check("09-ingress-class", _blog("k8s.io/ingress-nginx"))
    assert blocked(result) == ["your manifests apply"] and result.passed == 0
    assert mistakes(result) == ["the controller's name as the class"]


def test_making_nginx_the_default_breaks_the_other_teams():
    """Marking nginx's class default as well (two defaults): is the cluster-wide damage a failed sub-check?"""
    nginx_default = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                     "metadata": {"name": "nginx", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
                     "spec": {"controller": "k8s.io/ingress-nginx"}}
    result = check("09-ingress-class", [nginx_default, CLASS])
    assert failed(result) == ["other teams' Ingresses without a class still get the default class internal"]


# ---------------------------------------------------------------- Gateway API
def http_route(name: str, hostname: str, rules: list, *, namespace: str | None = None,
               parent: str = "shop-gateway", parent_namespace: str | None = None) -> str:
    """An HTTPRoute as YAML text: one hostname, `rules` a list of backendRef lists (each backendRef a dict)."""
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    ref = {"name": parent, **({"namespace": parent_namespace} if parent_namespace else {})}
    lines = ["apiVersion: gateway.networking.k8s.io/v1", "kind: HTTPRoute", f"metadata: {json.dumps(meta)}", "spec:",
             f"  parentRefs: [{json.dumps(ref)}]", f"  hostnames: [{hostname}]", "  rules:"]
    for backends in rules:
        lines.append("  - backendRefs:")
        lines += [f"    - {json.dumps(b)}" for b in backends]
    return "\n".join(lines) + "\n"


def _backend(name: str, weight: int | None = None, **more) -> dict:
    return {"name": name, "port": 80, **({"weight": weight} if weight is not None else {}), **more}


def _canary(rules=None, hostname="shop.example.com", parent="shop-gateway") -> str:
    return http_route("shop", hostname, rules or [[_backend("web", 90), _backend("web-v2", 10)]], parent=parent)


CANARY = _canary()
# the same split written differently: 9 to 1, ports by the section name, an explicit PathPrefix match
CANARY_OTHER = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop-canary}
spec:
  parentRefs: [{name: shop-gateway, sectionName: http, kind: Gateway, group: gateway.networking.k8s.io}]
  hostnames: ["shop.example.com"]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs:
    - {name: web-v2, port: 80, weight: 1}
    - {name: web, port: 80, weight: 9}
"""

PAY = [[_backend("pay", namespace="payments")]]
CROSS_ROUTE = http_route("pay", "pay.example.com", PAY)
GRANT = """
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata:
  name: routes-from-default
  namespace: payments
spec:
  from:
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}
  to:
  - {group: "", kind: Service}
"""
CROSS = CROSS_ROUTE + "---" + GRANT
# a grant for the one Service, by name, and the route's parent named with its namespace
CROSS_OTHER = [http_route("pay", "pay.example.com", PAY, parent_namespace="default"),
               GRANT.replace('- {group: "", kind: Service}', '- {group: "", kind: Service, name: pay}')]

GATEWAY_REFERENCE = {"09-canary": CANARY, "09-cross-namespace": CROSS}
GATEWAY_OTHER = {"09-canary": CANARY_OTHER, "09-cross-namespace": CROSS_OTHER}

# every exercise of the chapter, Ingress and Gateway API alike, with the sub-checks its check has at least
ALL_REFERENCE, ALL_OTHER = {**REFERENCE, **GATEWAY_REFERENCE}, {**OTHER, **GATEWAY_OTHER}
SUB_CHECKS = {"09-canary": 4, "09-cross-namespace": 4}


@pytest.mark.parametrize("exercise_id", sorted(ALL_REFERENCE))
def test_reference_answer_passes_every_sub_check(exercise_id):
    """Does the reference answer pass every sub-check, with no mistake named?"""
    result = check(exercise_id, ALL_REFERENCE[exercise_id])
    assert bool(result), str(result)
    assert result.total >= SUB_CHECKS.get(exercise_id, 3) and not mistakes(result)


@pytest.mark.parametrize("exercise_id", sorted(ALL_OTHER))
def test_a_right_answer_written_differently_passes(exercise_id):
    """Is the behaviour graded, not the text: does another correct answer (other paths, names, weights, a
    grant by name) pass too?"""
    result = check(exercise_id, ALL_OTHER[exercise_id])
    assert bool(result), str(result)


@pytest.mark.parametrize("exercise_id", sorted(ALL_REFERENCE))
def test_empty_answer_earns_nothing(exercise_id):
    """Does an answer with no manifest fail at once, with 0 points?"""
    result = check(exercise_id, "# YOUR CODE HERE\n")
    assert not result and result.passed == 0 and blocked(result) == ["your manifests apply"]


def test_reversed_weights_are_named():
    """90 on web-v2, 10 on web: is the split failed and the reversal named?"""
    answer = _canary([[_backend("web", 10), _backend("web-v2", 90)]])
    result = check("09-canary", answer)
    assert failed(result) == ["web-v2 gets 10% of them, within ±5%"]
    assert mistakes(result) == ["the weights are the wrong way round"]


def test_no_weights_split_evenly():
    """Two backendRefs without weights: a 50/50 split, named."""
    result = check("09-canary", _canary([[_backend("web"), _backend("web-v2")]]))
    assert failed(result) == ["web-v2 gets 10% of them, within ±5%"]
    assert mistakes(result) == ["backendRefs without weights"]


def test_two_rules_never_split():
    """web and web-v2 in two rules with the same (empty) match: the first takes everything, named."""
    answer = _canary([[_backend("web")], [_backend("web-v2", 10)]])
    result = check("09-canary", answer)
    assert failed(result) == ["web-v2 gets 10% of them, within ±5%"]
    assert mistakes(result) == ["the two versions are in separate rules"]


def test_a_hostname_outside_the_listener_is_not_accepted():
    """shop.example.org on a *.example.com listener: Accepted False (NoMatchingListenerHostname), named."""
    result = check("09-canary", _canary(hostname="shop.example.org"))
    assert "shop-gateway accepts the HTTPRoute (Accepted True)" in failed(result)
    assert mistakes(result) == ["the route's hostnames do not intersect the listener's"]
    assert result.passed == 1      # only "its backendRefs resolve": nothing is routed


def test_a_parent_that_does_not_exist():
    """parentRefs naming the route instead of the Gateway: no status at all, named."""
    result = check("09-canary", _canary(parent="shop"))
    assert mistakes(result) == ["the route names no Gateway that exists"]
    assert result.passed == 0


def test_a_missing_reference_grant():
    """The route alone: ResolvedRefs False (RefNotPermitted), requests get 500, the missing grant named."""
    result = check("09-cross-namespace", CROSS_ROUTE)
    assert set(failed(result)) == {"every backendRef of the route resolves (ResolvedRefs True)",
                                   "http://pay.example.com/ and /v1/charges land on pay in namespace payments",
                                   "another name under the listener (shop.example.com) does not reach pay"}
    assert mistakes(result) == ["no ReferenceGrant"]


def test_a_grant_in_the_routes_namespace():
    """The grant made in default (the route's namespace): named as the wrong namespace."""
    result = check("09-cross-namespace", CROSS.replace("namespace: payments\nspec", "namespace: default\nspec"))
    assert "every backendRef of the route resolves (ResolvedRefs True)" in failed(result)
    assert mistakes(result) == ["the ReferenceGrant is in the route's namespace"]


def test_a_grant_for_the_wrong_referrer():
    """from: kind Gateway: the grant does not cover HTTPRoutes, named."""
    result = check("09-cross-namespace", CROSS.replace("kind: HTTPRoute, namespace: default",
                                                       "kind: Gateway, namespace: default"))
    assert mistakes(result) == ["the ReferenceGrant names the wrong referrer"]
    assert not result


def test_a_route_from_another_namespace_is_not_allowed():
    """The route in payments attached to shop-gateway in default: the listener takes routes from its own
    namespace only (Accepted False, NotAllowedByListeners), named."""
    answer = http_route("pay", "pay.example.com", [[_backend("pay")]], namespace="payments",
                        parent_namespace="default")
    result = check("09-cross-namespace", answer)
    assert "shop-gateway accepts the HTTPRoute (Accepted True)" in failed(result)
    assert mistakes(result) == ["the listener does not allow routes from this namespace"]
