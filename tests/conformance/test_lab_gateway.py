"""The Gateway API conformance sample (samples/gateway), driven through the Lab only, one probe per test."""
from __future__ import annotations

import collections

import pytest

from kubelab import KubelabError

from .gateway_scenario import (build_lab, conditions_hold, header_list, load_gateway_cases, location_parts,
                               received_header, send, split)

CASES = load_gateway_cases()
_LABS: dict = {}


def _lab(case):
    if case["id"] not in _LABS:
        _LABS.clear()          # one case's lab at a time: they are large
        _LABS[case["id"]] = build_lab(case)
    return _LABS[case["id"]]


def _params(section: str):
    for case in CASES:
        for i, probe in enumerate(case.get(section) or []):
            marks = [pytest.mark.implementation_specific] if case.get("implementation_specific") else []
            yield pytest.param(case, probe, id=f"{case['id']}[{section}{i}]", marks=marks)


@pytest.mark.parametrize("case,req", list(_params("requests")))
def test_request(case, req):
    lab = _lab(case)
    r, sent_host = send(lab, case, req)
    where = f"{req} -> {r.status} {r.backend} ({r.reason}; route: {r.route})"
    expected = req.get("expect_status", 200 if req.get("expect_backend") or "expect_backend" not in req else None)
    if expected is not None:
        allowed = expected if isinstance(expected, list) else [expected]
        assert r.status in allowed, where
    if "expect_backend" in req:
        assert r.backend == req["expect_backend"], where
    if req.get("expect_backend"):
        ns, rest = split(req["expect_backend"])
        service = rest.rsplit(":", 1)[0]
        assert r.pod is not None and r.pod.startswith(f"{ns}/{service}-"), where
        want = req.get("expect_request") or {}
        assert r.request.method == want.get("method", req.get("method", "GET")), where
        assert r.request.path == want.get("path", req.get("path", "/")), where
        assert r.request.host == want.get("host", sent_host), where
        for name, value in (want.get("headers") or {}).items():
            assert header_list(received_header(r.request, name)) == header_list(value), f"{name}: {where}"
        for name in want.get("absent_headers") or []:
            assert received_header(r.request, name) is None, f"{name} present: {where}"
    for name, value in (req.get("expect_response_headers") or {}).items():
        assert header_list(r.headers.get(name)) == header_list(value), f"response {name}: {where}"
    for name in req.get("expect_absent_response_headers") or []:
        assert name not in r.headers, f"response {name} present: {where}"
    if req.get("expect_redirect"):
        got = location_parts(r.headers.get("Location", ""))
        for key, value in req["expect_redirect"].items():
            assert got[key] == value, f"Location {key}: {got} {where}"


@pytest.mark.parametrize("case,dist", list(_params("distributions")))
def test_distribution(case, dist):
    lab = _lab(case)
    counts = collections.Counter(send(lab, case, {"path": dist["path"]})[0].backend for _ in range(dist["n"]))
    for backend, share in dist["expect_shares"].items():
        got = counts.get(backend, 0) / dist["n"]
        if share == 0:
            assert got == 0, f"{backend} got {got:.3f} of {dict(counts)}"
        else:
            assert abs(got - share) <= dist["tolerance"], f"{backend} got {got:.3f}, want {share} ({dict(counts)})"


def _our_parents(lab, route_ref):
    ns, name = split(route_ref)
    parents = (lab.get("HTTPRoute", name, ns).get("status") or {}).get("parents") or []
    return [p for p in parents if p.get("controllerName") == "gateway.envoyproxy.io/gatewayclass-controller"]


@pytest.mark.parametrize("case,want", list(_params("route_status")))
def test_route_status(case, want):
    lab = _lab(case)
    parents = _our_parents(lab, want["route"])
    if "accepted_parents" in want:
        accepted = [p for p in parents if any(c["type"] == "Accepted" and c["status"] == "True"
                                              for c in p["conditions"])]
        assert len(accepted) == want["accepted_parents"], parents
    if "controller_parents" in want:
        assert len(parents) == want["controller_parents"], parents
    if want.get("conditions"):
        route_ns = split(want["route"])[0]
        pns, pname = split(want["parent"])
        mine = [p for p in parents if p["parentRef"]["name"] == pname
                and p["parentRef"].get("namespace", route_ns) == pns
                and ("section" not in want or p["parentRef"].get("sectionName") == want["section"])]
        assert mine, f"no status for parent {want['parent']}: {parents}"
        assert not conditions_hold(want["conditions"], mine[0]["conditions"])


@pytest.mark.parametrize("case,want", list(_params("gateway_status")))
def test_gateway_status(case, want):
    lab = _lab(case)
    ns, name = split(want["gateway"])
    status = lab.get("Gateway", name, ns)["status"]
    if want.get("address"):
        assert status.get("addresses"), status
    assert not conditions_hold(want.get("conditions"), status.get("conditions"))
    listeners = {l["name"]: l for l in status.get("listeners") or []}
    if want.get("zero_routes"):
        assert all(l["attachedRoutes"] == 0 for l in listeners.values()), listeners
    if "listeners" in want:
        assert sorted(listeners) == sorted(l["name"] for l in want["listeners"]), listeners
        for wl in want["listeners"]:
            got = listeners[wl["name"]]
            if "attached_routes" in wl:
                assert got["attachedRoutes"] == wl["attached_routes"], got
            if "supported_kinds" in wl:
                kinds = [k["kind"] for k in got.get("supportedKinds") or []]
                if wl["supported_kinds"] == []:
                    assert kinds == [], got
                assert set(wl["supported_kinds"]) <= set(kinds), got
            assert not conditions_hold(wl.get("conditions"), got.get("conditions")), got


@pytest.mark.parametrize("case,want", list(_params("gatewayclass_status")))
def test_gatewayclass_status(case, want):
    lab = _lab(case)
    status = lab.get("GatewayClass", want["name"], None).get("status") or {}
    assert not conditions_hold(want["conditions"], status.get("conditions"))


@pytest.mark.parametrize("case,item", list(_params("validation")))
def test_validation(case, item):
    import kubelab

    lab = kubelab.connect("simulated", gateway_controller="envoy-gateway", seed=0)
    obj = item["object"]
    ns = (obj.get("metadata") or {}).get("namespace")
    if ns and ns != "default":
        lab.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    if item["expect_valid"]:
        lab.apply(obj)
        return
    with pytest.raises(KubelabError) as err:
        lab.apply(obj)
    assert item["error_field"] in str(err.value), str(err.value)
