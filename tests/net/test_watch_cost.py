"""What one endpoint change costs the watchers: EndpointSlices versus the legacy Endpoints object."""
from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubelab.net.endpointslices import reconcile_endpointslices
from kubelab.net.watch_cost import changed_slices, legacy_endpoints, object_bytes, watch_cost


def pod(i, *, ready=True, terminating=False, port=8080):
    meta = {"name": f"web-{i}", "namespace": "default", "labels": {"app": "web"}, "uid": f"uid-{i}"}
    if terminating:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    ip = str(ipaddress.ip_address("10.244.0.0") + 2 + i)
    return {"metadata": meta,
            "spec": {"nodeName": "node-1", "containers": [{"name": "c", "ports": [
                {"name": "http", "containerPort": port, "protocol": "TCP"}]}]},
            "status": {"phase": "Running", "podIPs": [{"ip": ip}],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def service(**spec):
    return {"metadata": {"name": "web", "namespace": "default", "uid": "uid-svc"},
            "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.50", "ipFamilies": ["IPv4"],
                     "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}], **spec}}


def slices_for(pods, existing=(), svc=None, max_eps=100):
    return reconcile_endpointslices(svc or service(), pods, list(existing), max_endpoints_per_slice=max_eps)


def all_addresses(endpoints, key):
    return sorted(a["ip"] for s in endpoints["subsets"] for a in s.get(key, []))


def test_one_pod_change_sends_one_slice_but_the_whole_endpoints_object():
    """When one of 1,000 pods goes away, is one slice sent to each watcher, and the whole Endpoints object with
    the legacy API, which is many times bigger?"""
    pods = [pod(i) for i in range(1000)]
    before = slices_for(pods)
    after = slices_for(pods[1:], before)
    cost = watch_cost(before, after, nodes=3000)
    assert len(before) == 10 and len(cost.changed) == 1
    sent = changed_slices(before, after)[0]
    assert cost.slice_bytes == object_bytes(sent)
    assert cost.with_slices == 3000 * object_bytes(sent)
    assert cost.endpoints_bytes == object_bytes(legacy_endpoints(after))
    assert cost.with_endpoints == 3000 * cost.endpoints_bytes
    assert cost.endpoints == 999
    assert cost.with_endpoints > 5 * cost.with_slices   # a slice entry is bigger (conditions), ten of them fewer


def test_nothing_changes_nothing_is_sent():
    """Does a change that leaves every slice as it was cost nothing, with slices and with Endpoints?"""
    before = slices_for([pod(i) for i in range(5)])
    cost = watch_cost(before, before, nodes=10)
    assert (cost.with_slices, cost.with_endpoints, cost.changed) == (0, 0, ())


def test_a_deleted_slice_is_sent_with_its_last_state():
    """Is a slice that disappears counted too (a DELETED watch event carries the object's last state)?"""
    before = slices_for([pod(0)])
    cost = watch_cost(before, [], nodes=2)
    assert cost.changed == (before[0]["metadata"]["name"],)
    assert cost.with_slices == 2 * object_bytes(before[0])
    eps = legacy_endpoints([])
    assert eps["subsets"] == []
    assert cost.endpoints_bytes > 0   # the Endpoints object is rewritten empty, still named after the Service


def test_ready_not_ready_and_terminating_endpoints():
    """Does the legacy object list ready endpoints under addresses, not-ready ones under notReadyAddresses, and
    leave terminating ones out?"""
    pods = [pod(0), pod(1, ready=False), pod(2, terminating=True)]
    eps = legacy_endpoints(slices_for(pods))
    assert all_addresses(eps, "addresses") == ["10.244.0.2"]
    assert all_addresses(eps, "notReadyAddresses") == ["10.244.0.3"]
    assert eps["metadata"] == {"name": "web", "namespace": "default"}
    address = eps["subsets"][0]["addresses"][0]
    assert address == {"ip": "10.244.0.2", "nodeName": "node-1",
                       "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-0", "uid": "uid-0"}}
    assert eps["subsets"][0]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]


def test_publish_not_ready_addresses_keeps_terminating_endpoints():
    """With publishNotReadyAddresses, is a terminating endpoint kept as ready, as the Endpoints controller does?"""
    svc = service(publishNotReadyAddresses=True)
    eps = legacy_endpoints(slices_for([pod(0, terminating=True, ready=False)], svc=svc))
    assert all_addresses(eps, "addresses") == ["10.244.0.2"]


def test_different_port_lists_make_different_subsets():
    """Do pods whose named port resolves to different numbers land in different subsets (RepackSubsets)?"""
    eps = legacy_endpoints(slices_for([pod(0, port=8080), pod(1, port=9090), pod(2, port=8080)]))
    ports = [[p["port"] for p in s["ports"]] for s in eps["subsets"]]
    assert sorted(ports) == [[8080], [9090]]
    by_port = {s["ports"][0]["port"]: [a["ip"] for a in s["addresses"]] for s in eps["subsets"]}
    assert by_port == {8080: ["10.244.0.2", "10.244.0.4"], 9090: ["10.244.0.3"]}


def test_only_the_primary_family_is_kept():
    """Does the legacy object keep one address family (the Endpoints API predates dual-stack)?"""
    v4 = slices_for([pod(0)])
    v6 = [{**v4[0], "metadata": {**v4[0]["metadata"], "name": "web-v6"}, "addressType": "IPv6",
           "endpoints": [{"addresses": ["fd00::2"], "conditions": {"ready": True}}]}]
    assert all_addresses(legacy_endpoints(v4 + v6), "addresses") == ["10.244.0.2"]
    assert all_addresses(legacy_endpoints(v4 + v6, "IPv6"), "addresses") == ["fd00::2"]


def test_negative_node_count_is_refused():
    """Is a negative number of watching nodes refused with a message that says what to give?"""
    with pytest.raises(ValueError, match="number of watching nodes"):
        watch_cost([], [], nodes=-1)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 450), limit=st.integers(1, 120), gone=st.integers(0, 449))
def test_every_endpoint_once_and_slices_never_cost_more_than_everything(n, limit, gone):
    """For any pod count and slice limit, does the Endpoints object hold each pod once, and does removing one
    pod send no more slice bytes than all the slices together?"""
    pods = [pod(i) for i in range(n)]
    before = slices_for(pods, max_eps=limit)
    eps = legacy_endpoints(before)
    assert len(all_addresses(eps, "addresses")) == n
    after = slices_for([p for i, p in enumerate(pods) if i != gone], before, max_eps=limit)
    cost = watch_cost(before, after, nodes=1)
    assert cost.slice_bytes <= sum(object_bytes(s) for s in before + after)
    assert (cost.slice_bytes > 0) == (gone < n)
