"""lab.lint() names the classic mesh mistakes (the ones the lesson's exercises hint at)."""
from __future__ import annotations

from .helpers import INJECT, authz, dr, mesh_lab, pa, vs


def codes(lab):
    return {(f.code, f.policy, f.field) for f in lab.lint()}


def lab_with(*objects):
    return mesh_lab(namespaces={"sample": INJECT, "legacy": {}},
                    apps=[("helloworld", "sample"), ("curl", "sample"), ("httpbin", "legacy")], objects=objects)


def test_clean_config_has_no_findings():
    lab = lab_with(dr("helloworld", "sample", {"host": "helloworld", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}),
                   vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [
                       {"route": [{"destination": {"host": "helloworld", "subset": "v1"}}]}]}))
    assert lab.lint() == []


def test_subset_without_destination_rule():
    lab = lab_with(vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [
        {"route": [{"destination": {"host": "helloworld", "subset": "v2"}}]}]}))
    assert ("subset-not-defined", "VirtualService sample/helloworld", "spec.http[0].route[0].destination.subset") \
        in codes(lab)


def test_catch_all_first_makes_later_routes_unreachable():
    lab = lab_with(vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [
        {"route": [{"destination": {"host": "helloworld"}}]},
        {"match": [{"headers": {"end-user": {"exact": "jason"}}}], "route": [{"destination": {"host": "helloworld"}}]}]}))
    assert ("route-unreachable", "VirtualService sample/helloworld", "spec.http[1]") in codes(lab)


def test_weights_not_adding_to_100_are_reported_with_their_real_shares():
    lab = lab_with(dr("helloworld", "sample", {"host": "helloworld", "subsets": [
                       {"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]}),
                   vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [{"route": [
                       {"destination": {"host": "helloworld", "subset": "v1"}, "weight": 100},
                       {"destination": {"host": "helloworld", "subset": "v2"}, "weight": 10}]}]}))
    finding = next(f for f in lab.lint() if f.code == "weights-relative")
    assert "90.9%" in finding.message and "9.1%" in finding.message


def test_retries_on_all_methods():
    lab = lab_with(vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [
        {"route": [{"destination": {"host": "helloworld"}}], "retries": {"attempts": 3, "retryOn": "5xx"}}]}))
    assert any(c[0] == "retries-non-idempotent" for c in codes(lab))
    lab.apply([vs("helloworld", "sample", {"hosts": ["helloworld"], "http": [
        {"match": [{"method": {"exact": "GET"}}], "route": [{"destination": {"host": "helloworld"}}],
         "retries": {"attempts": 3, "retryOn": "5xx"}}]})])
    assert not any(c[0] == "retries-non-idempotent" for c in codes(lab))


def test_peer_authentication_in_a_namespace_without_sidecars():
    lab = lab_with(pa("default", "legacy", {"mtls": {"mode": "STRICT"}}))
    assert ("peer-authentication-selects-nothing", "PeerAuthentication legacy/default", "metadata.namespace") in codes(lab)


def test_principals_for_a_workload_without_mtls():
    lab = lab_with(authz("httpbin", "legacy", {"rules": [{"from": [{"source": {"principals": ["cluster.local/ns/sample/sa/curl"]}}]}]}))
    assert any(c[0] == "principal-without-mtls" for c in codes(lab))


def test_host_typo():
    lab = lab_with(vs("hello", "sample", {"hosts": ["helloworl"], "http": [{"route": [{"destination": {"host": "helloworld"}}]}]}))
    assert ("host-not-a-service", "VirtualService sample/hello", "spec.hosts[0]") in codes(lab)
