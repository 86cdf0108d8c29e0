"""Linkerd 2.19 retries: a ServiceProfile's isRetryable routes retry failed requests while the retry budget
(retryRatio, minRetriesPerSecond, ttl) allows, visible in `linkerd viz routes`-style effective/actual counts;
retry/timeout annotations on an HTTPRoute with the Service as parent replace the Service's; a ServiceProfile
makes the proxy ignore both."""
from __future__ import annotations

from kubelab.net.mesh.budget import BudgetState, RetryBudget, retry_budget

from .helpers import mesh_lab, pod_of

MESHED = {"annotations": {"linkerd.io/inject": "enabled"}}
FAILING = "http://httpbin:8000/status/500"


def profile(retryable=True, budget=None):
    spec = {"routes": [{"name": "GET /status", "condition": {"method": "GET", "pathRegex": "/status/.*"},
                        **({"isRetryable": True} if retryable else {})}]}
    if budget is not None:
        spec["retryBudget"] = budget
    return {"apiVersion": "linkerd.io/v1alpha2", "kind": "ServiceProfile",
            "metadata": {"name": "httpbin.default.svc.cluster.local", "namespace": "default"}, "spec": spec}


def linkerd_lab(*objects, service_annotations=None):
    lab = mesh_lab("linkerd", namespaces={"default": MESHED}, apps=[("httpbin", "default"), ("curl", "default")],
                   objects=objects)
    if service_annotations:
        service = lab.get("Service", "httpbin")
        service["metadata"].setdefault("annotations", {}).update(service_annotations)
        lab.apply(service)
    return lab, pod_of(lab, "default", "curl")


def http_route(annotations=None, path="/status", timeouts=None):
    rule = {"matches": [{"path": {"type": "PathPrefix", "value": path}}],
            "backendRefs": [{"name": "httpbin", "port": 8000}]}
    if timeouts:
        rule["timeouts"] = timeouts
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "httpbin-status", "namespace": "default", "annotations": annotations or {}},
            "spec": {"parentRefs": [{"group": "core", "kind": "Service", "name": "httpbin", "port": 8000}],
                     "rules": [rule]}}


def test_budget_defaults_and_tokens():
    assert retry_budget(None) == RetryBudget(0.2, 10, 10000.0)
    budget = retry_budget({"retryRatio": 0.25, "minRetriesPerSecond": 2, "ttl": "5s"})
    assert (budget.withdrawal, budget.reserve) == (4, 40)        # 2/s x 5 s = 10 retries of 4 tokens


def test_the_reserve_then_the_ratio_bound_retries():
    """minRetriesPerSecond x ttl retries are always there; beyond them one retry per 1/retryRatio requests."""
    budget, state = RetryBudget(0.2, 1, 10000.0), BudgetState()
    state.request(budget, 0)
    allowed = sum(state.withdraw(budget, 0) for _ in range(50))
    assert allowed == 10
    for _ in range(5):
        state.request(budget, 0)
    assert state.withdraw(budget, 0) and not state.withdraw(budget, 0)


def test_tokens_expire_after_ttl():
    budget, state = RetryBudget(0.2, 1, 10000.0), BudgetState()
    state.request(budget, 0)
    while state.withdraw(budget, 0):
        pass
    assert not state.withdraw(budget, 5000)
    assert state.withdraw(budget, 10001)                  # the spent withdrawals fell out of the window


def test_retryable_route_retries_until_the_budget_is_spent():
    lab, src = linkerd_lab(profile(budget={"retryRatio": 0.2, "minRetriesPerSecond": 1, "ttl": "10s"}))
    first = lab.http(FAILING, src=src)
    assert first.status == 500 and first.attempts == 11           # 10 reserve retries
    assert "is spent" in first.hops[-1].action
    later = [lab.http(FAILING, src=src).attempts for _ in range(10)]
    assert later == [1, 1, 1, 2, 1, 1, 1, 1, 2, 1]                # a retry per 5 requests (ratio 0.2)


def test_budget_refills_as_simulated_time_passes():
    lab, src = linkerd_lab(profile(budget={"minRetriesPerSecond": 1, "ttl": "10s"}))
    lab.http(FAILING, src=src)
    assert lab.http(FAILING, src=src).attempts == 1
    lab.advance_time(11)
    assert lab.http(FAILING, src=src).attempts == 11


def test_routes_table_shows_effective_and_actual_requests():
    lab, src = linkerd_lab(profile(budget={"minRetriesPerSecond": 1, "ttl": "10s"}))
    lab.reset_metrics()
    for _ in range(5):
        lab.http(FAILING, src=src)
    header, row = lab.golden_metrics().routes_table().splitlines()
    assert header.split()[:6] == ["ROUTE", "SERVICE", "EFFECTIVE_SUCCESS", "EFFECTIVE_REQUESTS", "ACTUAL_SUCCESS",
                                  "ACTUAL_REQUESTS"]
    assert row.split()[:6] == ["[DEFAULT]", "httpbin", "0.00%", "5", "0.00%", "16"]   # 11 + 1 + 1 + 1 + 2


def test_route_without_is_retryable_is_not_retried():
    lab, src = linkerd_lab(profile(retryable=False))
    assert lab.http(FAILING, src=src).attempts == 1


def test_service_profile_overrides_retry_annotations():
    lab, src = linkerd_lab(profile(retryable=False), service_annotations={"retry.linkerd.io/http": "5xx",
                                                                           "retry.linkerd.io/limit": "3"})
    assert lab.http(FAILING, src=src).attempts == 1


def test_service_annotations_retry_up_to_the_limit():
    lab, src = linkerd_lab(service_annotations={"retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "3"})
    assert lab.http(FAILING, src=src).attempts == 4


def test_route_annotations_replace_all_of_the_services():
    """The HTTPRoute's retry.linkerd.io/http alone replaces the Service's http and limit annotations (limit back to
    its default 1) for requests its rule matches; other paths keep the Service's."""
    lab, src = linkerd_lab(http_route({"retry.linkerd.io/http": "5xx"}),
                           service_annotations={"retry.linkerd.io/http": "5xx", "retry.linkerd.io/limit": "3"})
    assert lab.http(FAILING, src=src).attempts == 2
    assert lab.http("http://httpbin:8000/anything/status/500", src=src).attempts == 1   # 200: no retry needed
    matched = lab.http("http://httpbin:8000/status/500", src=src)
    assert "HTTPRoute default/httpbin-status" in matched.route


def test_route_timeout_annotation_and_rule_timeout():
    lab, src = linkerd_lab(http_route({"timeout.linkerd.io/request": "1s"}),
                           service_annotations={"timeout.linkerd.io/request": "10s"})
    slow = lab.http("http://httpbin:8000/status/200", src=src)
    assert slow.status == 200
    lab.apply(http_route({"timeout.linkerd.io/request": "1s"}, path="/delay"))
    cut = lab.http("http://httpbin:8000/delay/2", src=src)
    assert (cut.status, cut.elapsed_ms) == (504, 1000)
    lab.apply(http_route(path="/delay", timeouts={"request": "500ms"}))
    assert lab.http("http://httpbin:8000/delay/2", src=src).elapsed_ms == 500


def test_retry_timeout_alone_retries_slow_attempts():
    """retry.linkerd.io/timeout without retry.linkerd.io/http: a try that outlives it is cancelled and retried, up
    to the limit; the caller then gets the proxy's 504."""
    lab, src = linkerd_lab(service_annotations={"retry.linkerd.io/timeout": "300ms", "retry.linkerd.io/limit": "2"})
    r = lab.http("http://httpbin:8000/delay/1", src=src)
    assert (r.status, r.attempts, r.elapsed_ms) == (504, 3, 900)
    assert lab.http("http://httpbin:8000/status/500", src=src).attempts == 1   # a fast 500 is not a timeout
