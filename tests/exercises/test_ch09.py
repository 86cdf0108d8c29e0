"""Lesson 09 exercises: the reference answers pass, answers written differently pass too, the classic mistakes
are named with a hint, and wrong answers fail."""
from __future__ import annotations

import pytest

from kubelab.course.exercises import check
from kubelab.net.http.tls import make_tls_secret

from .helpers import blocked, failed, mistakes

FANOUT = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
      - path: /cart
        pathType: Prefix
        backend:
          service: {name: cart, port: {number: 80}}
      - path: /api
        pathType: Prefix
        backend:
          service: {name: api, port: {number: 80}}
"""

# the same routes written differently: two Ingresses, trailing slashes, ports by name, a defaultBackend
FANOUT_OTHER = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop-front}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop-services}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /cart/, pathType: Prefix, backend: {service: {name: cart, port: {name: http}}}}
      - {path: /api/, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}
"""

TENANTS = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: apps
spec:
  ingressClassName: nginx
  rules:
  - host: apps.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: portal, port: {number: 80}}}}
  - host: "*.apps.example.com"
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: tenants, port: {number: 80}}}}
"""

TENANTS_OTHER = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: portal}
spec:
  ingressClassName: nginx
  rules:
  - host: apps.example.com
    http:
      paths:
      - {path: /, pathType: ImplementationSpecific, backend: {service: {name: portal, port: {name: http}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: tenants}
spec:
  ingressClassName: nginx
  rules:
  - host: "*.apps.example.com"
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: tenants, port: {number: 80}}}}
"""

TLS_INGRESS = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: edge
  namespace: store
spec:
  ingressClassName: nginx
  tls:
  - hosts: [store.example.com]
    secretName: store-tls
  - hosts: [api.example.com]
    secretName: api-tls
  rules:
  - host: store.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
  - host: api.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
"""
STORE_TLS = make_tls_secret("store-tls", "store", ["store.example.com"])
API_TLS = make_tls_secret("api-tls", "store", ["api.example.com"])
TLS = [STORE_TLS, API_TLS, TLS_INGRESS]
# one certificate for both names, one tls entry
TLS_OTHER = [make_tls_secret("both", "store", ["store.example.com", "api.example.com"]),
             TLS_INGRESS.replace("  - hosts: [store.example.com]\n    secretName: store-tls\n"
                                 "  - hosts: [api.example.com]\n    secretName: api-tls\n",
                                 "  - hosts: [store.example.com, api.example.com]\n    secretName: both\n")]

CLASS = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: blog
spec:
  ingressClassName: nginx
  rules:
  - host: blog.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
"""
CLASS_ANNOTATION = CLASS.replace("  ingressClassName: nginx\n", "").replace(
    "name: blog\n", "name: blog\n  annotations: {kubernetes.io/ingress.class: nginx}\n")

REFERENCE = {"09-fanout": FANOUT, "09-tenants": TENANTS, "09-tls": TLS, "09-ingress-class": CLASS}
OTHER = {"09-fanout": FANOUT_OTHER, "09-tenants": TENANTS_OTHER, "09-tls": TLS_OTHER,
         "09-ingress-class": CLASS_ANNOTATION}


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_reference_answer_passes_every_sub_check(exercise_id):
    """Does the reference answer pass every sub-check, with no mistake named?"""
    result = check(exercise_id, REFERENCE[exercise_id])
    assert bool(result), str(result)
    assert result.total >= 3 and not mistakes(result)


@pytest.mark.parametrize("exercise_id", sorted(OTHER))
def test_a_right_answer_written_differently_passes(exercise_id):
    """Is the behaviour graded, not the text: does another correct answer pass too?"""
    result = check(exercise_id, OTHER[exercise_id])
    assert bool(result), str(result)


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_empty_answer_earns_nothing(exercise_id):
    """Does an answer with no manifest fail at once, with 0 points?"""
    result = check(exercise_id, "# YOUR CODE HERE\n")
    assert not result and result.passed == 0 and blocked(result) == ["your manifests apply"] and result.passed == 0


def _fanout(old: str, new: str) -> str:
    answer = FANOUT.replace(old, new, 1)
    assert answer != FANOUT, old
    return answer


def test_exact_cart_misses_the_paths_under_it():
    """Exact /cart: do /cart/ and /cart/checkout fail, with the Exact-vs-Prefix hint?"""
    result = check("09-fanout", _fanout("pathType: Prefix\n        backend:\n          service: {name: cart",
                                        "pathType: Exact\n        backend:\n          service: {name: cart"))
    assert failed(result) == ["/cart and every path under it land on cart"]
    assert mistakes(result) == ["Exact where Prefix is meant"]


def test_implementation_specific_sends_cartography_to_cart():
    """ImplementationSpecific /cart under ingress-nginx: does /cartography go to cart, named as a string prefix?"""
    result = check("09-fanout", _fanout("pathType: Prefix\n        backend:\n          service: {name: cart",
                                        "pathType: ImplementationSpecific\n        backend:\n          service: {name: cart"))
    assert failed(result) == ["/cartography, /apiary and /Cart land on web"]
    assert mistakes(result) == ["ImplementationSpecific is a string prefix in ingress-nginx"]


def test_a_glob_is_matched_literally():
    """/cart/* as a path: does /cart fail and the glob get named?"""
    result = check("09-fanout", _fanout("path: /cart\n", "path: /cart/*\n"))
    assert "/cart and every path under it land on cart" in failed(result)
    assert "a glob in the path" in mistakes(result)


def test_the_container_port_as_backend_port():
    """port.number 3000 (the container's) instead of the Service's 80: is it named, and /cart failed (503)?"""
    result = check("09-fanout", _fanout("name: cart, port: {number: 80}", "name: cart, port: {number: 3000}"))
    assert failed(result) == ["/cart and every path under it land on cart"]
    assert mistakes(result) == ["backend port number is not a Service port"]


def test_a_port_name_the_service_does_not_have():
    """port.name web (the Service's port is named http): named as a port-name mistake?"""
    result = check("09-fanout", _fanout("name: api, port: {number: 80}", "name: api, port: {name: web}"))
    assert failed(result) == ["/api and every path under it land on api"]
    assert mistakes(result) == ["backend port name is not a Service port name"]


def test_a_rule_without_host_answers_every_host():
    """No host on the rule: does www.example.com reach the shop, with the hint?"""
    result = check("09-fanout", _fanout("  - host: shop.example.com\n    http", "  - http"))
    assert failed(result) == ["another host (www.example.com) gets no page of the shop"]
    assert mistakes(result) == ["a rule without host"]


def test_the_controller_name_as_the_class_in_fanout():
    """ingressClassName ingress-nginx (no such class): nothing is served and the class is named."""
    result = check("09-fanout", _fanout("ingressClassName: nginx", "ingressClassName: ingress-nginx"))
    assert result.passed <= 1
    assert mistakes(result) == ["ingressClassName names no IngressClass"]


def test_a_wildcard_one_level_too_high():
    """*.example.com for the tenants: do tenants fail and www.example.com leak in, with the depth hint?"""
    result = check("09-tenants", TENANTS.replace('"*.apps.example.com"', '"*.example.com"'))
    assert set(failed(result)) == {"every tenant's subdomain lands on tenants",
                                   "other names (www.example.com, apps.example.org) reach neither"}
    assert mistakes(result) == ["a wildcard one level too high"]


def test_the_wildcard_alone_misses_the_portal():
    """Only *.apps.example.com: does apps.example.com itself fail, with the hint that a wildcard needs a label?"""
    answer = TENANTS.replace("  - host: apps.example.com\n", '  - host: "*.apps.example.com"\n', 1)
    answer = answer.replace("name: portal", "name: tenants")
    result = check("09-tenants", answer)
    assert failed(result) == ["apps.example.com lands on portal"]
    assert mistakes(result) == ["the wildcard does not cover the name itself"]


def test_tls_secret_in_another_namespace():
    """The shop's Secret made in default: is the fake certificate served and the namespace rule named?"""
    result = check("09-tls", [make_tls_secret("store-tls", "default", ["store.example.com"]), API_TLS, TLS_INGRESS])
    assert "store.example.com is served with a certificate valid for store.example.com" in failed(result)
    assert mistakes(result) == ["TLS Secret in another namespace"]


def test_one_certificate_that_does_not_name_the_second_host():
    """The shop's certificate for both hosts: does api fail the certificate check, naming the SAN mistake?"""
    answer = [STORE_TLS, TLS_INGRESS.replace("secretName: api-tls", "secretName: store-tls")]
    result = check("09-tls", answer)
    assert failed(result) == ["api.example.com is served with a certificate valid for api.example.com"]
    assert mistakes(result) == ["certificate not valid for the host"]


def test_a_host_missing_from_spec_tls():
    """No tls entry for api.example.com: is the missing host named?"""
    answer = [STORE_TLS, API_TLS, TLS_INGRESS.replace("  - hosts: [api.example.com]\n    secretName: api-tls\n", "")]
    result = check("09-tls", answer)
    assert failed(result) == ["api.example.com is served with a certificate valid for api.example.com"]
    assert mistakes(result) == ["host missing from spec.tls"]


def test_tls_ingress_in_the_wrong_namespace():
    """The Ingress in default (the Services are in store): do the requests fail?"""
    result = check("09-tls", [STORE_TLS, API_TLS, TLS_INGRESS.replace("  namespace: store\n", "")])
    assert "https://store.example.com/ lands on web" in failed(result)


def test_no_class_gets_the_clusters_default():
    """No ingressClassName where another controller's class is the default: not served, and named."""
    result = check("09-ingress-class", CLASS.replace("  ingressClassName: nginx\n", ""))
    assert set(failed(result)) == {"ingress-nginx publishes its address in the Ingress's status",
                                   "http://blog.example.com/ and /posts/2 land on web",
                                   "a pod inside the cluster reaches the blog through the controller's Service",
                                   "other teams' Ingresses without a class still get the default class internal"}
    assert result.passed == 0 and mistakes(result) == ["no ingressClassName"]


def test_the_other_controllers_class():
    """ingressClassName internal: named as a class of another controller."""
    result = check("09-ingress-class", CLASS.replace("ingressClassName: nginx", "ingressClassName: internal"))
    assert not result and mistakes(result) == ["Ingress not served by ingress-nginx"]


def test_the_controller_name_as_the_class():
    """ingressClassName k8s.io/ingress-nginx: the API server refuses it, and the mix-up is named."""
    result = check("09-ingress-class", CLASS.replace("nginx", "k8s.io/ingress-nginx"))
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
CANARY = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: shop
spec:
  parentRefs:
  - name: shop-gateway
  hostnames: [shop.example.com]
  rules:
  - backendRefs:
    - {name: web, port: 80, weight: 90}
    - {name: web-v2, port: 80, weight: 10}
"""
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

CROSS_ROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: pay
spec:
  parentRefs:
  - name: shop-gateway
  hostnames: [pay.example.com]
  rules:
  - backendRefs:
    - {name: pay, namespace: payments, port: 80}
"""
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
CROSS_OTHER = [CROSS_ROUTE.replace("- name: shop-gateway", "- {name: shop-gateway, namespace: default}"),
               GRANT.replace('- {group: "", kind: Service}', '- {group: "", kind: Service, name: pay}')]

GATEWAY_REFERENCE = {"09-canary": CANARY, "09-cross-namespace": CROSS}
GATEWAY_OTHER = {"09-canary": CANARY_OTHER, "09-cross-namespace": CROSS_OTHER}


@pytest.mark.parametrize("exercise_id", sorted(GATEWAY_REFERENCE))
def test_gateway_reference_answer_passes(exercise_id):
    """Does the reference answer pass every sub-check, with no mistake named?"""
    result = check(exercise_id, GATEWAY_REFERENCE[exercise_id])
    assert bool(result), str(result)
    assert result.total >= 4 and not mistakes(result)


@pytest.mark.parametrize("exercise_id", sorted(GATEWAY_OTHER))
def test_gateway_answer_written_differently_passes(exercise_id):
    """Another correct answer (other weights, names, a grant by name) passes too."""
    result = check(exercise_id, GATEWAY_OTHER[exercise_id])
    assert bool(result), str(result)


@pytest.mark.parametrize("exercise_id", sorted(GATEWAY_REFERENCE))
def test_gateway_empty_answer_earns_nothing(exercise_id):
    result = check(exercise_id, "# YOUR CODE HERE\n")
    assert not result and result.passed == 0 and blocked(result) == ["your manifests apply"] and result.passed == 0


def test_reversed_weights_are_named():
    """90 on web-v2, 10 on web: is the split failed and the reversal named?"""
    answer = CANARY.replace("weight: 90", "weight: W").replace("weight: 10}", "weight: 90}").replace("weight: W", "weight: 10")
    result = check("09-canary", answer)
    assert failed(result) == ["web-v2 gets 10% of them, within ±5%"]
    assert mistakes(result) == ["the weights are the wrong way round"]


def test_no_weights_split_evenly():
    """Two backendRefs without weights: a 50/50 split, named."""
    result = check("09-canary", CANARY.replace(", weight: 90", "").replace(", weight: 10", ""))
    assert failed(result) == ["web-v2 gets 10% of them, within ±5%"]
    assert mistakes(result) == ["backendRefs without weights"]


def test_two_rules_never_split():
    """web and web-v2 in two rules with the same (empty) match: the first takes everything, named."""
    answer = CANARY.replace("  - backendRefs:\n    - {name: web, port: 80, weight: 90}\n",
                            "  - backendRefs:\n    - {name: web, port: 80}\n  - backendRefs:\n")
    result = check("09-canary", answer)
    assert failed(result) == ["web-v2 gets 10% of them, within ±5%"]
    assert mistakes(result) == ["the two versions are in separate rules"]


def test_a_hostname_outside_the_listener_is_not_accepted():
    """shop.example.org on a *.example.com listener: Accepted False (NoMatchingListenerHostname), named."""
    result = check("09-canary", CANARY.replace("shop.example.com", "shop.example.org"))
    assert "shop-gateway accepts the HTTPRoute (Accepted True)" in failed(result)
    assert mistakes(result) == ["the route's hostnames do not intersect the listener's"]
    assert result.passed == 1      # only "its backendRefs resolve": nothing is routed


def test_a_parent_that_does_not_exist():
    """parentRefs naming the route instead of the Gateway: no status at all, named."""
    result = check("09-canary", CANARY.replace("name: shop-gateway", "name: shop"))
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
    answer = CROSS_ROUTE.replace("  name: pay\nspec", "  name: pay\n  namespace: payments\nspec").replace(
        "- name: shop-gateway", "- {name: shop-gateway, namespace: default}").replace(
        "{name: pay, namespace: payments, port: 80}", "{name: pay, port: 80}")
    result = check("09-cross-namespace", answer)
    assert "shop-gateway accepts the HTTPRoute (Accepted True)" in failed(result)
    assert mistakes(result) == ["the listener does not allow routes from this namespace"]
