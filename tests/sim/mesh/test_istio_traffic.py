"""Istio traffic management on the simulated cluster: the docs' tasks (request routing, fault injection,
request timeouts, traffic shifting, retries) as a learner would run them."""
from __future__ import annotations

import copy

import pytest

from .helpers import ALL_V1, BOOKINFO_SUBSETS, INJECT, dr, mesh_lab, pod_of, vs

JASON_ROUTE = vs("reviews", "default", {"hosts": ["reviews"], "http": [
    {"match": [{"headers": {"end-user": {"exact": "jason"}}}], "route": [{"destination": {"host": "reviews",
                                                                                           "subset": "v2"}}]},
    {"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]})


@pytest.fixture(scope="module")
def bookinfo():
    lab = mesh_lab(namespaces={"default": INJECT}, apps=[("bookinfo", "default"), ("curl", "default")],
                   objects=BOOKINFO_SUBSETS + ALL_V1)
    return lab


def login(lab, src, user="jason"):
    r = lab.http(f"http://productpage:9080/login?username={user}&passwd=password", src=src, method="POST")
    return {"Cookie": r.headers["Set-Cookie"].split(";")[0]}


def page(lab, src, headers=None):
    return lab.http("http://productpage:9080/productpage", src=src, headers=headers)


def test_default_bookinfo_pages_rotate_through_reviews_versions():
    """Without VirtualServices kube-proxy-less round robin over reviews v1/v2/v3: all three versions answer."""
    lab = mesh_lab(namespaces={"default": INJECT}, apps=[("bookinfo", "default"), ("curl", "default")])
    src = pod_of(lab, "default", "curl")
    seen = {page(lab, src).text.split("Reviews served by:")[1].split("<u>")[1][:10] for _ in range(30)}
    assert seen == {"reviews-v1", "reviews-v2", "reviews-v3"}


def test_header_route_needs_a_signed_in_session(bookinfo):
    """productpage adds end-user only for a signed-in session, so jason's page (v2, black stars) differs from an
    anonymous one and a hand-set end-user header does not reach reviews."""
    lab = copy.deepcopy(bookinfo)
    lab.apply([JASON_ROUTE])
    src = pod_of(lab, "default", "curl")
    jason = page(lab, src, login(lab, src))
    assert "glyphicon glyphicon-star" in jason.text and "text-black-500" in jason.text
    assert "reviews-v2-" in jason.text
    anonymous = page(lab, src, {"end-user": "jason"})
    assert "glyphicon glyphicon-star" not in anonymous.text and "reviews-v1-" in anonymous.text


def test_fault_delay_exposes_productpage_timeout_bug(bookinfo):
    """Fault-injection task: a 7 s delay on ratings for jason; reviews v2 waits 10 s but productpage gives up on
    reviews after 3 s, twice, so the page comes back after about 6 s without reviews."""
    lab = copy.deepcopy(bookinfo)
    ratings_delay = vs("ratings", "default", {"hosts": ["ratings"], "http": [
        {"match": [{"headers": {"end-user": {"exact": "jason"}}}],
         "fault": {"delay": {"percentage": {"value": 100.0}, "fixedDelay": "7s"}},
         "route": [{"destination": {"host": "ratings", "subset": "v1"}}]},
        {"route": [{"destination": {"host": "ratings", "subset": "v1"}}]}]})
    lab.apply([JASON_ROUTE, ratings_delay])
    src = pod_of(lab, "default", "curl")
    r = page(lab, src, login(lab, src))
    assert r.status == 200
    assert "Sorry, product reviews are currently unavailable for this book." in r.text
    assert 6000 <= r.elapsed_ms < 7000
    plain = page(lab, src)
    assert "Book Reviews" in plain.text and plain.elapsed_ms < 1000


def test_fault_abort_for_jason_only(bookinfo):
    """An abort of ratings with 500 for jason: reviews v2 shows "Ratings service is currently unavailable"."""
    lab = copy.deepcopy(bookinfo)
    abort = vs("ratings", "default", {"hosts": ["ratings"], "http": [
        {"match": [{"headers": {"end-user": {"exact": "jason"}}}],
         "fault": {"abort": {"percentage": {"value": 100.0}, "httpStatus": 500}},
         "route": [{"destination": {"host": "ratings", "subset": "v1"}}]},
        {"route": [{"destination": {"host": "ratings", "subset": "v1"}}]}]})
    lab.apply([JASON_ROUTE, abort])
    src = pod_of(lab, "default", "curl")
    assert "Ratings service is currently unavailable" in page(lab, src, login(lab, src)).text
    direct = lab.http("http://ratings:9080/ratings/0", src=src, headers={"end-user": "jason"})
    assert (direct.status, direct.backend, direct.pod, direct.text) == (500, None, None, "fault filter abort")


def test_fault_without_percentage_injects_nothing(bookinfo):
    """An abort whose percentage is unset aborts no request ("If not specified, no request will be aborted")."""
    lab = copy.deepcopy(bookinfo)
    lab.apply([vs("ratings", "default", {"hosts": ["ratings"], "http": [
        {"fault": {"abort": {"httpStatus": 500}, "delay": {"fixedDelay": "5s"}},
         "route": [{"destination": {"host": "ratings", "subset": "v1"}}]}]})])
    src = pod_of(lab, "default", "curl")
    for _ in range(5):
        r = lab.http("http://ratings:9080/ratings/0", src=src)
        assert r.status == 200 and r.elapsed_ms == 0


def test_route_timeout_answers_504_at_the_timeout(bookinfo):
    """Request-timeouts task: reviews (v2) with a 0.5 s timeout and ratings delayed 2 s: reviews' caller gets a
    504 after 0.5 s; productpage tries twice, so its page takes about 1 s and shows no reviews."""
    lab = copy.deepcopy(bookinfo)
    lab.apply([vs("reviews", "default", {"hosts": ["reviews"], "http": [
                   {"route": [{"destination": {"host": "reviews", "subset": "v2"}}], "timeout": "0.5s"}]}),
               vs("ratings", "default", {"hosts": ["ratings"], "http": [
                   {"fault": {"delay": {"percentage": {"value": 100}, "fixedDelay": "2s"}},
                    "route": [{"destination": {"host": "ratings", "subset": "v1"}}]}]})])
    src = pod_of(lab, "default", "curl")
    reviews = lab.http("http://reviews:9080/reviews/0", src=src)
    assert (reviews.status, reviews.elapsed_ms, reviews.text) == (504, 500, "upstream request timeout")
    r = page(lab, src)
    assert "Sorry, product reviews are currently unavailable for this book." in r.text
    assert 1000 <= r.elapsed_ms <= 1100


def test_route_order_first_match_wins(bookinfo):
    """A catch-all first shadows the header route after it: jason still lands on v1."""
    lab = copy.deepcopy(bookinfo)
    wrong = copy.deepcopy(JASON_ROUTE)
    wrong["spec"]["http"].reverse()
    lab.apply([wrong])
    src = pod_of(lab, "default", "curl")
    r = lab.http("http://reviews:9080/reviews/0", src=src, headers={"end-user": "jason"})
    assert r.subset == "v1" and "http[0]" in r.route


def test_match_blocks_or_across_and_inside():
    """Two match blocks are ORed; the conditions inside one block are ANDed."""
    lab = mesh_lab(namespaces={"sample": INJECT}, apps=[("helloworld", "sample"), ("curl", "sample")], objects=[
        dr("helloworld", "sample", {"host": "helloworld", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                                                      {"name": "v2", "labels": {"version": "v2"}}]}),
        vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [
            {"match": [{"uri": {"prefix": "/hello"}, "headers": {"x-canary": {"exact": "yes"}}},
                       {"queryParams": {"canary": {"exact": "1"}}}],
             "route": [{"destination": {"host": "helloworld", "subset": "v2"}}]},
            {"route": [{"destination": {"host": "helloworld", "subset": "v1"}}]}]})])
    src = pod_of(lab, "sample", "curl")
    url = "http://helloworld:5000/hello"
    assert lab.http(url, src=src, headers={"x-canary": "yes"}).subset == "v2"
    assert lab.http(url + "?canary=1", src=src).subset == "v2"
    assert lab.http(url, src=src).subset == "v1"
    assert lab.http("http://helloworld:5000/health", src=src, headers={"x-canary": "yes"}).subset == "v1"


def test_uri_regex_matches_the_whole_path():
    """uri regex is RE2 matched against the whole path: "/hel" does not match "/hello"; "/hel.*" does."""
    lab = mesh_lab(namespaces={"sample": INJECT}, apps=[("helloworld", "sample"), ("curl", "sample")])
    src = pod_of(lab, "sample", "curl")
    for regex, matched in (("/hel", False), ("/hel.*", True)):
        lab.apply([vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [
            {"match": [{"uri": {"regex": regex}}], "route": [{"destination": {"host": "helloworld"}}]}]})])
        r = lab.http("http://helloworld:5000/hello", src=src)
        assert r.status == (200 if matched else 404)


def test_no_matching_route_is_a_404_from_the_proxy():
    """A VirtualService for the host with no route matching the request: the client proxy answers 404 (NR)."""
    lab = mesh_lab(namespaces={"sample": INJECT}, apps=[("helloworld", "sample"), ("curl", "sample")], objects=[
        vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [
            {"match": [{"uri": {"exact": "/health"}}], "route": [{"destination": {"host": "helloworld"}}]}]})])
    r = lab.http("http://helloworld:5000/hello", src=pod_of(lab, "sample", "curl"))
    assert (r.status, r.backend, r.pod) == (404, None, None)


def test_subset_without_destination_rule_is_503():
    """The classic mistake: a route names subset v2 and no DestinationRule defines it -> 503 from the proxy."""
    lab = mesh_lab(namespaces={"sample": INJECT}, apps=[("helloworld", "sample"), ("curl", "sample")], objects=[
        vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [
            {"route": [{"destination": {"host": "helloworld", "subset": "v2"}}]}]})])
    r = lab.http("http://helloworld:5000/hello", src=pod_of(lab, "sample", "curl"))
    assert r.status == 503 and r.backend is None and "no DestinationRule" in r.reason


def test_source_labels_pick_the_route():
    """sourceLabels match the client workload's labels."""
    lab = mesh_lab(namespaces={"sample": INJECT}, apps=[("helloworld", "sample"), ("curl", "sample")], objects=[
        dr("helloworld", "sample", {"host": "helloworld", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                                                      {"name": "v2", "labels": {"version": "v2"}}]}),
        vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [
            {"match": [{"sourceLabels": {"app": "curl"}}],
             "route": [{"destination": {"host": "helloworld", "subset": "v2"}}]},
            {"route": [{"destination": {"host": "helloworld", "subset": "v1"}}]}]})])
    assert lab.http("http://helloworld:5000/hello", src=pod_of(lab, "sample", "curl")).subset == "v2"
    # helloworld-v1 calling itself is not app=curl
    assert lab.http("http://helloworld:5000/hello", src=pod_of(lab, "sample", "helloworld")).subset == "v1"


def test_retries_back_off_in_simulated_time():
    """3 retries on 5xx: 4 attempts, and the jittered back-offs add up to at most 25 + 75 + 175 ms."""
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("httpbin", "foo"), ("curl", "foo")], objects=[
        vs("httpbin", "foo", {"hosts": ["httpbin"], "http": [
            {"route": [{"destination": {"host": "httpbin"}}], "retries": {"attempts": 3, "retryOn": "5xx"}}]})])
    src = pod_of(lab, "foo", "curl")
    times = [lab.http("http://httpbin.foo:8000/status/500", src=src) for _ in range(10)]
    assert all(r.attempts == 4 for r in times)
    assert all(0 <= r.elapsed_ms <= 275 for r in times)
    assert len({r.elapsed_ms for r in times}) > 1          # jitter


def test_per_try_timeout_retries_a_slow_answer():
    """perTryTimeout 1s on /delay/2 with 2 retries on gateway-error: three 504 tries of 1 s each."""
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("httpbin", "foo"), ("curl", "foo")], objects=[
        vs("httpbin", "foo", {"hosts": ["httpbin"], "http": [
            {"route": [{"destination": {"host": "httpbin"}}],
             "retries": {"attempts": 2, "perTryTimeout": "1s", "retryOn": "gateway-error"}}]})])
    r = lab.http("http://httpbin.foo:8000/delay/2", src=pod_of(lab, "foo", "curl"))
    assert (r.status, r.attempts) == (504, 3)
    assert 3000 <= r.elapsed_ms <= 3000 + 25 + 75


def test_weights_are_relative_and_zero_gets_nothing():
    """weight 1 vs 3 -> about a quarter to v1; weight 0 -> never."""
    lab = mesh_lab(namespaces={"sample": INJECT}, apps=[("helloworld", "sample"), ("curl", "sample")], objects=[
        dr("helloworld", "sample", {"host": "helloworld", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                                                      {"name": "v2", "labels": {"version": "v2"}}]}),
        vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [{"route": [
            {"destination": {"host": "helloworld", "subset": "v1"}, "weight": 1},
            {"destination": {"host": "helloworld", "subset": "v2"}, "weight": 3}]}]})])
    src = pod_of(lab, "sample", "curl")
    v1 = sum(lab.http("http://helloworld:5000/hello", src=src).subset == "v1" for _ in range(400))
    assert 70 <= v1 <= 130


def test_destination_rule_round_robin_alternates_endpoints():
    """loadBalancer ROUND_ROBIN visits the endpoints in turn."""
    lab = mesh_lab(namespaces={"default": INJECT}, apps=[("bookinfo", "default"), ("curl", "default")], objects=[
        dr("reviews", "default", {"host": "reviews", "trafficPolicy": {"loadBalancer": {"simple": "ROUND_ROBIN"}}})])
    src = pod_of(lab, "default", "curl")
    pods = [lab.http("http://reviews:9080/reviews/0", src=src).pod for _ in range(6)]
    assert pods[:3] == pods[3:] and len(set(pods)) == 3


def test_consistent_hash_keeps_a_user_on_one_endpoint():
    """consistentHash on a header: the same header value lands on the same pod every time."""
    lab = mesh_lab(namespaces={"default": INJECT}, apps=[("bookinfo", "default"), ("curl", "default")], objects=[
        dr("reviews", "default", {"host": "reviews", "trafficPolicy": {"loadBalancer": {
            "consistentHash": {"httpHeaderName": "x-user"}}}})])
    src = pod_of(lab, "default", "curl")
    for user in ("ann", "bob"):
        assert len({lab.http("http://reviews:9080/reviews/0", src=src, headers={"x-user": user}).pod
                    for _ in range(5)}) == 1


def test_every_sidecar_shows_in_the_hops(bookinfo):
    """The response's hops name the client sidecar's route, the attempt with mTLS, the server sidecar's inbound
    and its authorization decision."""
    src = pod_of(bookinfo, "default", "curl")
    r = bookinfo.http("http://reviews:9080/reviews/0", src=src)
    actions = [(h.device, h.action) for h in r.hops]
    devices = [d for d, _ in actions]
    assert devices.count("istio-proxy") >= 4
    assert any(a.startswith("route: VirtualService default/reviews") for _, a in actions)
    assert any("inbound :9080 mTLS accepted" in a for _, a in actions)
    assert any(a.startswith("authorization:") for _, a in actions)


def test_mirroring_sends_a_shadow_copy_and_ignores_its_answer():
    """Mirroring task: all traffic to v1, mirrored 100% to v2 with "-shadow" appended to the Host."""
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("httpbin", "foo", ["v1", "v2"]), ("curl", "foo")], objects=[
        dr("httpbin", "foo", {"host": "httpbin", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                                             {"name": "v2", "labels": {"version": "v2"}}]}),
        vs("httpbin", "foo", {"hosts": ["httpbin"], "http": [
            {"route": [{"destination": {"host": "httpbin", "subset": "v1"}, "weight": 100}],
             "mirror": {"host": "httpbin", "subset": "v2"}, "mirrorPercentage": {"value": 100.0}}]})])
    r = lab.http("http://httpbin.foo:8000/headers", src=pod_of(lab, "foo", "curl"))
    assert r.subset == "v1" and r.mirrors == ("foo/httpbin:8000",)
    assert "httpbin-v1-" in r.pod
    assert any("httpbin.foo-shadow" in h.action and "httpbin-v2-" in h.action for h in r.hops)


def test_rewrite_replaces_the_matched_prefix_and_sets_headers():
    """rewrite.uri replaces the matched prefix; headers.request.set reaches the server; response headers are
    edited on the way back."""
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("httpbin", "foo"), ("curl", "foo")], objects=[
        vs("httpbin", "foo", {"hosts": ["httpbin"], "http": [
            {"match": [{"uri": {"prefix": "/api/"}}], "rewrite": {"uri": "/"},
             "headers": {"request": {"set": {"x-from-mesh": "yes"}}, "response": {"add": {"x-route": "api"}}},
             "route": [{"destination": {"host": "httpbin"}}]}]})])
    r = lab.http("http://httpbin.foo:8000/api/headers", src=pod_of(lab, "foo", "curl"))
    assert r.status == 200 and r.request.path == "/headers"
    assert r.request.headers["x-from-mesh"] == "yes" and r.headers["x-route"] == "api"


def test_redirect_is_answered_by_the_client_proxy():
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("httpbin", "foo"), ("curl", "foo")], objects=[
        vs("httpbin", "foo", {"hosts": ["httpbin"], "http": [
            {"match": [{"uri": {"exact": "/old"}}], "redirect": {"uri": "/get", "redirectCode": 308}},
            {"route": [{"destination": {"host": "httpbin"}}]}]})])
    r = lab.http("http://httpbin.foo:8000/old", src=pod_of(lab, "foo", "curl"))
    assert (r.status, r.backend) == (308, None) and r.headers["Location"].endswith("/get")


def test_outlier_detection_ejects_a_failing_endpoint_until_its_time_is_up():
    """A pod behind httpbin that refuses connections: the default retry policy hides the failure (a retry lands
    on the good pod), and after 5 consecutive failures outlier detection ejects it, so requests need one attempt;
    after baseEjectionTime it is tried again."""
    broken = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "httpbin-broken", "namespace": "foo"},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "httpbin", "version": "broken"}},
                       "template": {"metadata": {"labels": {"app": "httpbin", "version": "broken"}},
                                    "spec": {"containers": [{"name": "app", "image": "docker.io/curlimages/curl:8.16.0",
                                                             "command": ["/bin/sleep", "infinity"]}]}}}}
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("httpbin", "foo"), ("curl", "foo")], objects=[broken, dr(
        "httpbin", "foo", {"host": "httpbin", "trafficPolicy": {"outlierDetection": {
            "consecutive5xxErrors": 5, "interval": "1s", "baseEjectionTime": "30s", "maxEjectionPercent": 100}}})])
    src = pod_of(lab, "foo", "curl")
    responses = [lab.http("http://httpbin.foo:8000/get", src=src) for _ in range(40)]
    assert all(r.status == 200 for r in responses)
    ejected_at = next(i for i, r in enumerate(responses) if any("outlier detection ejects" in h.action for h in r.hops))
    assert all(r.attempts == 1 for r in responses[ejected_at + 1:])
    assert any(r.attempts == 2 for r in responses[:ejected_at + 1])
    lab.advance_time(31)
    later = [lab.http("http://httpbin.foo:8000/get", src=src) for _ in range(20)]
    assert any(r.attempts == 2 for r in later)


def test_without_outlier_detection_the_failing_endpoint_keeps_costing_retries():
    broken = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "httpbin-broken", "namespace": "foo",
                                                             "labels": {"app": "httpbin"}},
              "spec": {"containers": [{"name": "app", "image": "docker.io/curlimages/curl:8.16.0"}]}}
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("httpbin", "foo"), ("curl", "foo")], objects=[broken])
    src = pod_of(lab, "foo", "curl")
    responses = [lab.http("http://httpbin.foo:8000/get", src=src) for _ in range(40)]
    assert all(r.status == 200 for r in responses)
    assert sum(r.attempts == 2 for r in responses) > 10


def test_answers_the_client_proxy_makes_itself_send_nothing_upstream():
    """A fault abort, a 404 with no route and a subset with no cluster count no upstream attempt."""
    lab = mesh_lab(namespaces={"sample": INJECT}, apps=[("helloworld", "sample"), ("curl", "sample")], objects=[
        vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [
            {"match": [{"uri": {"exact": "/abort"}}], "fault": {"abort": {"httpStatus": 418, "percentage": {"value": 100}}},
             "route": [{"destination": {"host": "helloworld"}}]},
            {"match": [{"uri": {"exact": "/nosubset"}}], "route": [{"destination": {"host": "helloworld", "subset": "x"}}]},
            {"match": [{"uri": {"exact": "/hello"}}], "route": [{"destination": {"host": "helloworld"}}]}]})])
    src = pod_of(lab, "sample", "curl")
    for path, status in (("/abort", 418), ("/nosubset", 503), ("/other", 404)):
        r = lab.http(f"http://helloworld:5000{path}", src=src)
        assert (r.status, r.attempts, r.backend) == (status, 0, None)
    assert lab.http("http://helloworld:5000/hello", src=src).attempts == 1
