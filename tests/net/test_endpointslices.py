"""The EndpointSlice controller: membership, conditions, port groups, packing, names and churn."""
from __future__ import annotations

import copy
import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from kubelab.net.endpointslices import (LABEL_HEADLESS, LABEL_MANAGED_BY, LABEL_SERVICE_NAME,
                                        reconcile_endpointslices, slice_endpoints_for_port)


def pod(name, ips=("10.244.0.1",), *, labels=None, ready=True, phase="Running", node="node-a", ns="default",
        terminating=False, ports=None, hostname=None, subdomain=None):
    meta = {"name": name, "namespace": ns, "labels": {"app": "web"} if labels is None else labels, "uid": f"u-{name}"}
    if terminating:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    spec = {"nodeName": node, "containers": [{"name": "c", "ports": ports or []}]}
    if hostname:
        spec["hostname"] = hostname
    if subdomain:
        spec["subdomain"] = subdomain
    return {"metadata": meta, "spec": spec,
            "status": {"phase": phase, "podIPs": [{"ip": ip} for ip in ips],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def service(name="web", *, families=("IPv4",), cluster_ip="10.96.0.50", target=8080, labels=None, **spec):
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "labels": labels or {}},
            "spec": {"selector": {"app": "web"}, "clusterIP": cluster_ip, "ipFamilies": list(families),
                     "ports": [{"name": "http", "port": 80, "targetPort": target, "protocol": "TCP"}], **spec}}


def members(slices):
    return sorted(ep["targetRef"]["name"] for s in slices for ep in s["endpoints"])


def test_selector_namespace_phase_and_ip_decide_membership():
    """Are only same-namespace, selected pods with an IP and a non-terminal phase listed (not-ready ones too)?"""
    pods = [pod("a"), pod("b", ready=False), pod("c", phase="Succeeded"), pod("d", ips=()),
            pod("e", labels={"app": "api"}), pod("f", ns="other")]
    slices = reconcile_endpointslices(service(), pods, [])
    assert members(slices) == ["a", "b"]
    conds = {ep["targetRef"]["name"]: ep["conditions"] for ep in slices[0]["endpoints"]}
    assert conds["b"] == {"ready": False, "serving": False, "terminating": False}


def test_terminating_pod_is_serving_but_not_ready():
    """Is a Ready pod with a deletionTimestamp listed as serving, terminating and not ready, and ready again
    with publishNotReadyAddresses?"""
    ep = reconcile_endpointslices(service(), [pod("a", terminating=True)], [])[0]["endpoints"][0]
    assert ep["conditions"] == {"ready": False, "serving": True, "terminating": True}
    ep = reconcile_endpointslices(service(publishNotReadyAddresses=True), [pod("a", terminating=True, ready=False)],
                                  [])[0]["endpoints"][0]
    assert ep["conditions"] == {"ready": True, "serving": False, "terminating": True}


def test_named_target_port_splits_slices_by_resolved_number():
    """Does a named targetPort resolve per pod (name and protocol), putting different numbers in different slices
    and unresolvable pods in a slice without ports?"""
    svc = service(target="web")
    pods = [pod("a", ports=[{"name": "web", "containerPort": 8080, "protocol": "TCP"}]),
            pod("b", ips=["10.244.0.2"], ports=[{"name": "web", "containerPort": 9090, "protocol": "TCP"}]),
            pod("c", ips=["10.244.0.3"], ports=[{"name": "web", "containerPort": 8080, "protocol": "UDP"}])]
    slices = reconcile_endpointslices(svc, pods, [])
    by_pods = {tuple(members([s])): [(p["name"], p["port"]) for p in s["ports"]] for s in slices}
    assert by_pods == {("a",): [("http", 8080)], ("b",): [("http", 9090)], ("c",): []}
    assert [e.pod for e in slice_endpoints_for_port(slices, "http")] == ["a", "b"]


def test_fresh_sync_packs_slices_full():
    """Do 250 endpoints make slices of 100, 100 and 50 (and one slice with a limit of 1000)?"""
    pods = [pod(f"p{i}", ips=[str(ipaddress.ip_address("10.244.0.10") + i)]) for i in range(250)]
    assert sorted(len(s["endpoints"]) for s in reconcile_endpointslices(service(), pods, [])) == [50, 100, 100]
    assert len(reconcile_endpointslices(service(), pods, [], max_endpoints_per_slice=1000)) == 1


def test_no_pods_leaves_one_placeholder_slice():
    """Does a Service selecting nothing still get one empty slice (and a Service without selector none)?"""
    slices = reconcile_endpointslices(service(), [], [])
    assert len(slices) == 1 and slices[0]["endpoints"] == [] and slices[0]["ports"] == []
    assert reconcile_endpointslices(service(selector=None), [pod("a")], []) == []
    again = reconcile_endpointslices(service(), [], slices)
    assert again == slices


def test_dual_stack_gets_one_slice_set_per_family():
    """Does a dual-stack Service get an IPv4 and an IPv6 slice, each with the pod's address of that family?"""
    slices = reconcile_endpointslices(service(families=("IPv4", "IPv6")), [pod("a", ips=("10.244.0.1", "fd00::1"))], [])
    assert {s["addressType"]: s["endpoints"][0]["addresses"] for s in slices} == {"IPv4": ["10.244.0.1"],
                                                                                    "IPv6": ["fd00::1"]}


def test_labels_hostname_zone_and_owner():
    """Are the Service's labels copied (reserved ones replaced), the headless marker set, hostname set only for
    subdomain == Service name, zone taken from the node, and the Service the controlling owner?"""
    svc = service(cluster_ip="None", labels={"team": "x", LABEL_SERVICE_NAME: "spoof"})
    nodes = [{"metadata": {"name": "node-a", "labels": {"topology.kubernetes.io/zone": "z1"}}}]
    s = reconcile_endpointslices(svc, [pod("a", hostname="h", subdomain="web"), pod("b", ips=["10.244.0.2"],
                                                                                    hostname="h2")], [], nodes=nodes)[0]
    assert s["metadata"]["labels"] == {"team": "x", LABEL_HEADLESS: "", LABEL_SERVICE_NAME: "web",
                                       LABEL_MANAGED_BY: "endpointslice-controller.k8s.io"}
    eps = {e["targetRef"]["name"]: e for e in s["endpoints"]}
    assert eps["a"]["hostname"] == "h" and "hostname" not in eps["b"] and eps["a"]["zone"] == "z1"
    assert s["metadata"]["generateName"] == "web-" and s["metadata"]["ownerReferences"][0]["controller"] is True


def test_pod_on_missing_node_is_skipped():
    """Is a pod whose node does not exist left out (unless publishNotReadyAddresses)?"""
    nodes = [{"metadata": {"name": "node-a"}}]
    assert members(reconcile_endpointslices(service(), [pod("a", node="ghost")], [], nodes=nodes)) == []
    assert members(reconcile_endpointslices(service(publishNotReadyAddresses=True), [pod("a", node="ghost")], [],
                                            nodes=nodes)) == ["a"]


def test_resync_keeps_names_and_fills_existing_slices():
    """Does a resync keep slice names, drop a removed pod in place and put a new pod into an existing slice?"""
    pods = [pod(f"p{i}", ips=[f"10.244.0.{i + 1}"]) for i in range(5)]
    first = reconcile_endpointslices(service(), pods, [])
    names = [s["metadata"]["name"] for s in first]
    second = reconcile_endpointslices(service(), pods[1:] + [pod("new", ips=["10.244.1.1"])], first)
    assert [s["metadata"]["name"] for s in second] == names
    assert members(second) == ["new", "p1", "p2", "p3", "p4"]


def test_pure_and_deterministic():
    """Is the result the same on every call, and are the inputs left untouched?"""
    pods = [pod(f"p{i}", ips=[f"10.244.0.{i + 1}"]) for i in range(30)]
    before = copy.deepcopy(pods)
    a = reconcile_endpointslices(service(), pods, [], max_endpoints_per_slice=7)
    b = reconcile_endpointslices(service(), list(reversed(pods)), [], max_endpoints_per_slice=7)
    assert a == b and pods == before
    assert len({s["metadata"]["name"] for s in a}) == len(a)


pod_specs = st.lists(st.tuples(st.booleans(), st.booleans(), st.sampled_from(["Running", "Pending", "Failed"]),
                               st.sampled_from(["v4", "v6", "dual", "none"]), st.booleans()), max_size=60)


@settings(max_examples=60, deadline=None)
@given(pod_specs, st.integers(min_value=1, max_value=12), st.booleans())
def test_every_eligible_endpoint_in_exactly_one_slice(specs, limit, dual):
    """For any pods and limit: is every eligible pod in exactly one slice per address type, and no slice over
    the limit?"""
    pods = []
    for i, (selected, ready, phase, fam, terminating) in enumerate(specs):
        ips = {"v4": [f"10.244.1.{i}"], "v6": [f"fd00::{i + 1:x}"], "dual": [f"10.244.1.{i}", f"fd00::{i + 1:x}"],
               "none": []}[fam]
        pods.append(pod(f"p{i}", ips=ips, labels={"app": "web" if selected else "x"}, ready=ready, phase=phase,
                        terminating=terminating))
    svc = service(families=("IPv4", "IPv6") if dual else ("IPv4",))
    slices = reconcile_endpointslices(svc, pods, [], max_endpoints_per_slice=limit)
    for family in (["IPv4", "IPv6"] if dual else ["IPv4"]):
        fam_slices = [s for s in slices if s["addressType"] == family]
        assert fam_slices and all(len(s["endpoints"]) <= limit for s in fam_slices)
        got = sorted(e["targetRef"]["name"] for s in fam_slices for e in s["endpoints"])
        want = sorted(f"p{i}" for i, (sel, _, phase, fam, _) in enumerate(specs)
                      if sel and phase != "Failed" and fam != "none"
                      and (fam == "dual" or (fam == "v4") == (family == "IPv4")))
        assert got == want
        # A fresh sync packs: at most one slice of the port group is not full.
        assert sum(1 for s in fam_slices if 0 < len(s["endpoints"]) < limit) <= 1
