"""The pure rules: string matching, host names, weights, DestinationRule lookup order, retries and back-off,
faults, PeerAuthentication precedence, AuthorizationPolicy evaluation order, JWTs, Linkerd identities."""
from __future__ import annotations

import random

import pytest

from kubelab.net.mesh import jwt, linkerd, resilience, security
from kubelab.net.mesh.routing import Destination, destination_rule_for, pick_weighted, rewrite_path, string_matches
from kubelab.net.mesh.values import duration_ms, fqdn, host_matches


def test_string_match_kinds():
    assert string_matches({"exact": "/a"}, "/a") and not string_matches({"exact": "/a"}, "/ab")
    assert string_matches({"prefix": "/a"}, "/ab")
    assert string_matches({"regex": "/a.*"}, "/abc") and not string_matches({"regex": "/a"}, "/abc")
    assert string_matches({}, "anything") and not string_matches({}, None)
    assert string_matches({"exact": "/A"}, "/a", ignore_case=True)


def test_short_hosts_are_relative_to_the_config_namespace():
    assert fqdn("reviews", "default") == "reviews.default.svc.cluster.local"
    assert fqdn("reviews.prod", "default") == "reviews.prod.svc.cluster.local"
    assert fqdn("api.example.com", "default") == "api.example.com"
    assert host_matches("*.example.com", "a.example.com") and not host_matches("*.example.com", "example.com")


def test_durations():
    assert duration_ms("1.5s") == 1500 and duration_ms("250ms") == 250 and duration_ms("1m") == 60000
    assert duration_ms("soon") is None


def test_weights_relative_and_zero_excluded():
    rng = random.Random(1)
    dests = (Destination("a", weight=1), Destination("b", weight=3), Destination("c", weight=0))
    picks = [pick_weighted(dests, rng).host for _ in range(4000)]
    assert picks.count("c") == 0
    assert 0.22 < picks.count("a") / 4000 < 0.28


def test_destination_rule_lookup_order():
    """Client namespace first, then the Service's namespace, then the root namespace."""
    def rule(ns, name):
        return {"metadata": {"namespace": ns, "name": name}, "spec": {"host": "reviews.prod.svc.cluster.local"}}
    rules = [rule("istio-system", "root"), rule("prod", "service"), rule("client", "client")]
    host = "reviews.prod.svc.cluster.local"
    assert destination_rule_for(host, "client", rules)["metadata"]["name"] == "client"
    assert destination_rule_for(host, "other", rules)["metadata"]["name"] == "service"
    assert destination_rule_for(host, "other", rules[:1])["metadata"]["name"] == "root"


def test_rewrite_prefix_and_regex():
    assert rewrite_path({"uri": "/v2/"}, {"uri": {"prefix": "/v1/"}}, "/v1/items?x=1") == "/v2/items?x=1"
    assert rewrite_path({"uri": "/new"}, {"uri": {"exact": "/old"}}, "/old") == "/new"
    assert rewrite_path({"uriRegexRewrite": {"match": "^/service/([^/]+)(/.*)$", "rewrite": "\\2/instance/\\1"}},
                        None, "/service/foo/v1/api") == "/v1/api/instance/foo"


def test_default_retry_policy_excludes_503():
    """Istio >= 1.24: 2 retries on connect-failure, refused-stream, unavailable, cancelled,
    retriable-status-codes with no status codes, so an application 503 is not retried."""
    policy = resilience.retry_policy(None)
    assert policy.attempts == 2 and policy.status_codes == ()
    assert not resilience.should_retry(policy, 503)
    assert resilience.should_retry(policy, resilience.CONNECT_FAILURE)


@pytest.mark.parametrize("retry_on, status, retried", [
    ("5xx", 500, True), ("5xx", 404, False), ("gateway-error", 502, True), ("gateway-error", 500, False),
    ("503", 503, True), ("503", 500, False), ("retriable-4xx", 409, True), ("connect-failure", 503, False),
])
def test_retry_on(retry_on, status, retried):
    policy = resilience.retry_policy({"attempts": 2, "retryOn": retry_on})
    assert resilience.should_retry(policy, status) is retried


def test_attempts_zero_turns_retries_off():
    assert resilience.retry_policy({"attempts": 0}).attempts == 0


def test_backoff_is_jittered_and_capped():
    rng = random.Random(0)
    for n, ceiling in ((1, 25), (2, 75), (3, 175), (4, 250), (8, 250)):
        values = [resilience.backoff_ms(n, rng) for _ in range(200)]
        assert max(values) <= ceiling and min(values) >= 0 and len(set(values)) > 5


def test_fault_percentages():
    rng = random.Random(0)
    half = {"abort": {"httpStatus": 503, "percentage": {"value": 50}}}
    aborted = sum(resilience.fault_decision(half, rng).abort_status == 503 for _ in range(1000))
    assert 430 < aborted < 570
    unset = {"abort": {"httpStatus": 503}, "delay": {"fixedDelay": "2s"}}
    assert all(resilience.fault_decision(unset, rng).abort_status is None for _ in range(100))
    assert all(resilience.fault_decision(unset, rng).delay_ms == 0 for _ in range(100))


def pa(ns, name, mode=None, selector=None, ports=None, created="2026-01-01T00:00:00Z"):
    spec = {}
    if mode:
        spec["mtls"] = {"mode": mode}
    if selector:
        spec["selector"] = {"matchLabels": selector}
    if ports:
        spec["portLevelMtls"] = ports
    return {"metadata": {"namespace": ns, "name": name, "creationTimestamp": created}, "spec": spec}


POD = {"metadata": {"namespace": "foo", "name": "web", "labels": {"app": "web"}}}


def test_peer_authentication_precedence():
    assert security.effective_mtls(POD, 80, [])[0] == "PERMISSIVE"
    assert security.effective_mtls(POD, 80, [pa("istio-system", "default", "STRICT")])[0] == "STRICT"
    both = [pa("istio-system", "default", "STRICT"), pa("foo", "default", "DISABLE")]
    assert security.effective_mtls(POD, 80, both)[0] == "DISABLE"
    wl = both + [pa("foo", "web", "PERMISSIVE", {"app": "web"})]
    assert security.effective_mtls(POD, 80, wl)[0] == "PERMISSIVE"
    port = wl + [pa("foo", "web-port", None, {"app": "web"}, {"80": {"mode": "STRICT"}}, "2027-01-01T00:00:00Z")]
    assert security.effective_mtls(POD, 80, port)[0] == "PERMISSIVE"   # the older workload policy wins
    only_port = both + [pa("foo", "web-port", "UNSET", {"app": "web"}, {"80": {"mode": "STRICT"}})]
    assert security.effective_mtls(POD, 80, only_port)[0] == "STRICT"
    assert security.effective_mtls(POD, 81, only_port)[0] == "DISABLE"
    other = [pa("foo", "x", "STRICT", {"app": "other"})]
    assert security.effective_mtls(POD, 80, other)[0] == "PERMISSIVE"


def ap(ns, name, spec):
    return {"metadata": {"namespace": ns, "name": name}, "spec": spec}


PEER = security.Peer("cluster.local/ns/bar/sa/curl", "bar", "10.244.1.5")
PLAIN = security.Peer(None, None, "10.244.1.6")


def decide(policies, peer=PEER, method="GET", path="/ip"):
    return security.authorize(POD, policies, peer, method, path, "web", 80, {}).allowed


def test_authorization_order():
    """No ALLOW -> allow; allow-nothing -> deny; allow-all rule -> allow; DENY beats ALLOW; root namespace
    applies everywhere; another namespace's policy does not apply."""
    assert decide([])
    assert not decide([ap("foo", "nothing", {})])
    assert decide([ap("foo", "nothing", {}), ap("foo", "all", {"rules": [{}]})])
    deny = ap("istio-system", "deny-delete", {"action": "DENY", "rules": [{"to": [{"operation": {"methods": ["DELETE"]}}]}]})
    assert not decide([ap("foo", "all", {"rules": [{}]}), deny], method="DELETE")
    assert decide([ap("foo", "all", {"rules": [{}]}), deny], method="GET")
    assert decide([ap("other", "nothing", {})])


def test_namespaces_and_principals_need_a_peer_identity():
    allow_bar = ap("foo", "bar", {"rules": [{"from": [{"source": {"namespaces": ["bar"]}}]}]})
    assert decide([allow_bar]) and not decide([allow_bar], peer=PLAIN)
    prefix = ap("foo", "p", {"rules": [{"from": [{"source": {"principals": ["cluster.local/ns/bar/*"]}}]}]})
    assert decide([prefix]) and not decide([prefix], peer=PLAIN)


def test_rule_fields_and_across_values_or():
    rule = {"to": [{"operation": {"methods": ["GET", "HEAD"], "paths": ["/ip", "/get"]}}]}
    policy = [ap("foo", "x", {"rules": [rule]})]
    assert decide(policy, method="HEAD", path="/get")
    assert not decide(policy, method="POST", path="/get")
    assert not decide(policy, method="GET", path="/headers")


def test_custom_is_reported_not_enforced_without_provider():
    custom = ap("foo", "ext", {"action": "CUSTOM", "provider": {"name": "ext"}, "rules": [{}]})
    d = security.authorize(POD, [custom], PEER, "GET", "/", "web", 80, {})
    assert d.allowed and "CUSTOM" in d.why


def test_jwt_verification():
    issuer = jwt.Issuer("https://issuer.example")
    rule = {"metadata": {"name": "r"}, "spec": {"jwtRules": [{"issuer": "https://issuer.example",
                                                              "jwks": issuer.jwks, "audiences": ["shop"]}]}}
    ok = jwt.verify([rule], {"Authorization": "Bearer " + issuer.token("u1", aud="shop")})
    assert ok[:2] == ("ok", "https://issuer.example/u1") and ok[2]["aud"] == "shop"
    assert jwt.verify([rule], {}) is None
    assert jwt.verify([rule], {"Authorization": "Bearer " + issuer.token("u1", aud="other")})[0] == 401
    other = jwt.Issuer("https://elsewhere")
    assert "not configured" in jwt.verify([rule], {"Authorization": "Bearer " + other.token("u")})[1]


def test_linkerd_identity_and_retry_annotations():
    assert linkerd.identity("emojivoto", "web") == "web.emojivoto.serviceaccount.identity.linkerd.cluster.local"
    policy, timeout, _ = linkerd.client_policy({"metadata": {"annotations": {
        "retry.linkerd.io/http": "500-502,gateway-error", "timeout.linkerd.io/request": "250ms"}}})
    assert policy.attempts == 1 and 501 in policy.status_codes and timeout == 250
    assert resilience.should_retry(policy, 504) and not resilience.should_retry(policy, 404)


def test_compiled_blocks_agree_with_the_explained_rule():
    """The precompiled predicates the router uses decide exactly as match_block, which explains a miss."""
    from kubelab.net.mesh.routing import MeshRequest, compile_block, match_block
    blocks = [{"uri": {"prefix": "/api"}}, {"uri": {"regex": "/v[0-9]+/.*"}}, {"uri": {"exact": "/A"}, "ignoreUriCase": True},
              {"headers": {"end-user": {"exact": "jason"}}}, {"headers": {"x-any": {}}},
              {"withoutHeaders": {"x-skip": {}}}, {"queryParams": {"q": {"regex": "a+"}}}, {"method": {"exact": "POST"}},
              {"sourceLabels": {"app": "curl"}}, {"gateways": ["mesh"]}, {"port": 9080}, {"sourceNamespace": "foo"},
              {"authority": {"prefix": "reviews"}}]
    requests = [MeshRequest(m, p, a, h, (("app", "curl"),), ns, "mesh", port)
                for m in ("GET", "POST") for p in ("/api/x", "/v2/y?q=aaa", "/a", "/other?q=b")
                for a in ("reviews", "ratings") for h in ((), (("End-User", "jason"), ("x-any", ""), ("x-skip", "1")))
                for ns in ("foo", "bar") for port in (9080, 80)]
    for block in blocks:
        tests = compile_block(block)
        for req in requests:
            assert all(t(req) for t in tests) == match_block(block, req)[0], (block, req)


def test_outlier_detector_counts_consecutive_failures_and_multiplies_ejection_time():
    from kubelab.net.mesh.outlier import OutlierDetector, outlier_policy
    policy = outlier_policy({"consecutive5xxErrors": 3, "baseEjectionTime": "10s", "maxEjectionPercent": 50})
    d = OutlierDetector()
    for status in (500, 500, 200, 500, 500):
        assert d.report(policy, "a", status, 4, 0) is None          # a success resets the count
    assert d.report(policy, "a", -1, 4, 0)                           # a connection failure counts as 5xx
    assert d.ejected("a", 9999) and not d.ejected("a", 10000)
    for _ in range(3):
        d.report(policy, "a", 503, 4, 20000)
    assert d.ejected("a", 39999) and not d.ejected("a", 40000)       # second ejection: 2 x 10 s
    for _ in range(3):
        d.report(policy, "b", 500, 4, 20000)
    for _ in range(3):
        d.report(policy, "c", 500, 4, 20000)
    assert d.ejected("b", 20001) and not d.ejected("c", 20001)       # at most 50 % of 4 hosts out


def test_outlier_defaults():
    from kubelab.net.mesh.outlier import outlier_policy
    p = outlier_policy({})
    assert (p.consecutive_5xx, p.base_ejection_ms, p.max_ejection_percent) == (5, 30000, 10)
    assert outlier_policy(None) is None


def test_redirect_location_keeps_the_host_header_as_sent():
    """Envoy's RedirectAction: the Host header's port stays unless a new port or a scheme change from its default
    port drops it; authority replaces host and port; uri keeps the query unless it has one."""
    from kubelab.net.mesh.routing import redirect_location

    assert redirect_location({"uri": "/get"}, "http", "httpbin.foo:8000", "/old?x=1", 8000) == \
        "http://httpbin.foo:8000/get?x=1"
    assert redirect_location({"uri": "/get?y=2"}, "http", "httpbin.foo:8000", "/old?x=1", 8000) == \
        "http://httpbin.foo:8000/get?y=2"
    assert redirect_location({"authority": "new.example"}, "http", "httpbin.foo:8000", "/a", 8000) == \
        "http://new.example/a"
    assert redirect_location({"scheme": "https"}, "http", "shop.example:80", "/a", 80) == "https://shop.example/a"
    assert redirect_location({"scheme": "https"}, "http", "shop.example:8080", "/a", 8080) == \
        "https://shop.example:8080/a"
    assert redirect_location({"port": 8443}, "http", "shop.example:8080", "/a", 8080) == "http://shop.example:8443/a"
    assert redirect_location({"derivePort": "FROM_REQUEST_PORT"}, "http", "shop.example", "/a", 8080) == \
        "http://shop.example:8080/a"
