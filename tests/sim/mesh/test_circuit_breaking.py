"""Circuit breaking as Istio's task shows it with fortio: DestinationRule connectionPool limits applied by the
client's proxy to requests that overlap in simulated time (lab.http_load), 503 with response flag UO and
upstream_rq_pending_overflow counted."""
from __future__ import annotations

import pytest

from kubelab.errors import ProbeError
from kubelab.net.mesh.pool import UNLIMITED, PoolSettings, PoolState, pool_settings
from kubelab.sim.mesh.telemetry import proxy_stats

from .helpers import INJECT, dr, mesh_lab, pod_of

SLOW = "http://httpbin:8000/delay/1"        # one second of simulated time per request


def breaker_lab(connection_pool):
    lab = mesh_lab(namespaces={"default": INJECT}, apps=[("httpbin", "default"), ("curl", "default")],
                   objects=[dr("httpbin", "default", {"host": "httpbin",
                                                      "trafficPolicy": {"connectionPool": connection_pool}})])
    return lab, pod_of(lab, "default", "curl")


TASK_POOL = {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1, "maxRequestsPerConnection": 1}}


def test_settings_default_to_istios_unlimited():
    assert pool_settings(None) is None and pool_settings({}) is None
    one = pool_settings({"tcp": {"maxConnections": 1}})
    assert (one.max_connections, one.max_pending, one.max_requests, one.max_retries) == (1, UNLIMITED, UNLIMITED,
                                                                                         UNLIMITED)


def test_one_connection_never_trips_the_breaker():
    lab, src = breaker_lab(TASK_POOL)
    result = lab.http_load(SLOW, src=src, connections=1, requests=10)
    assert result.codes == {200: 10}
    assert "upstream_rq_pending_overflow: 0" in proxy_stats(lab, src)


def test_two_connections_queue_one_request_each_time():
    """maxConnections 1 + one pending slot: the second client waits for the first, nothing overflows."""
    lab, src = breaker_lab(TASK_POOL)
    result = lab.http_load(SLOW, src=src, connections=2, requests=20)
    assert result.codes == {200: 20}
    assert max(result.durations_ms) == 2000            # a second in the queue, a second served
    stats = proxy_stats(lab, src)
    assert "upstream_rq_pending_total: 19" in stats and "upstream_rq_pending_overflow: 0" in stats


def test_three_connections_overflow_the_pending_queue():
    """The third client finds the connection busy and the one pending slot taken: 503 UO, counted as
    upstream_rq_pending_overflow, with Envoy's overflow text."""
    lab, src = breaker_lab(TASK_POOL)
    lab.reset_metrics()
    result = lab.http_load(SLOW, src=src, connections=3, requests=30)
    assert result.codes == {200: 20, 503: 10}
    assert "cluster.outbound|8000||httpbin.default.svc.cluster.local.upstream_rq_pending_overflow: 10" in \
        proxy_stats(lab, src)
    assert 'response_code="503",response_flags="UO"' in lab.golden_metrics().prometheus()
    refused = lab.http_load(SLOW, src=src, connections=3, requests=3)
    assert refused.statuses == (200, 200, 503)
    assert "Code 503 : 1 (33.3 %)" in str(refused)


def test_more_pending_slots_let_every_request_through():
    lab, src = breaker_lab({"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 2}})
    assert lab.http_load(SLOW, src=src, connections=3, requests=30).codes == {200: 30}


def test_http2_max_requests_refuses_without_queueing():
    """http2MaxRequests caps outstanding requests: over it a request fails at once, whatever the queue allows."""
    lab, src = breaker_lab({"http": {"http2MaxRequests": 1}})
    assert lab.http_load(SLOW, src=src, connections=2, requests=4).codes == {200: 2, 503: 2}


def test_requests_that_take_no_time_never_overlap():
    """httpbin's /get answers in 0 ms of simulated time: one request ends as the next begins."""
    lab, src = breaker_lab(TASK_POOL)
    assert lab.http_load("http://httpbin:8000/get", src=src, connections=3, requests=30).codes == {200: 30}


def test_sequential_requests_are_unaffected():
    lab, src = breaker_lab(TASK_POOL)
    assert all(lab.http(SLOW, src=src).status == 200 for _ in range(3))


def test_max_retries_caps_retries_in_flight():
    state, settings = PoolState(), PoolSettings(max_retries=1)
    assert state.retry(settings, 0)
    state.retried(0, 100)
    assert not state.retry(settings, 50)              # one retry still in flight
    assert state.retry(settings, 100)                 # it ended
    assert state.stats["upstream_rq_retry_overflow"] == 1


def test_the_run_moves_simulated_time_on():
    lab, src = breaker_lab(TASK_POOL)
    before = lab.mesh_clock_ms
    result = lab.http_load(SLOW, src=src, connections=2, requests=4)
    assert lab.mesh_clock_ms - before == result.elapsed_ms == 4000


@pytest.mark.parametrize("options", [{"connections": 0}, {"requests": -1}, {"connections": "2"}])
def test_bad_load_options_name_the_fix(options):
    lab, src = breaker_lab(TASK_POOL)
    with pytest.raises(ProbeError, match="whole number"):
        lab.http_load(SLOW, src=src, **options)
