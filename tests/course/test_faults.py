"""Does every fault of the capstone's library break the shop the way its ticket says, and does its documented
fix repair it without breaking anything else?"""
import copy

import pytest

import kubelab
from kubelab.course.faults import FAULTS, INVARIANTS, JOURNEYS, LAB_OPTIONS, LAYERS, by_id, shop_manifests
from kubelab.course.faults.shop import CORP_ZONE, NODE_RESOLVER, corefile_with_stub

ALL = {**JOURNEYS, **INVARIANTS}


def _lab(manifests):
    lab = kubelab.connect("simulated", **LAB_OPTIONS)
    lab.apply(manifests)
    return lab


@pytest.fixture(scope="module")
def base():
    return shop_manifests()


@pytest.fixture(scope="module")
def working(base):
    return _lab(base)


def test_the_working_shop_passes_every_journey_and_invariant(working):
    """Does the shop, unbroken, do everything its journeys ask and keep every invariant?"""
    failing = {name: j.run(working).seen for name, j in ALL.items() if not j.run(working).ok}
    assert failing == {}


def test_the_library_spans_every_layer_with_at_least_twenty_faults():
    """Are there >= 20 faults, with unique ids, covering every layer the course taught?"""
    assert len(FAULTS) >= 20
    assert len({f.id for f in FAULTS}) == len(FAULTS)
    assert {f.layer for f in FAULTS} == set(LAYERS)


def test_a_ticket_never_names_the_cause():
    """Does no ticket mention the object kinds or field names of its cause?"""
    words = ("selector", "targetport", "networkpolicy", "hostaliases", "dnspolicy", "pathtype", "ingressclass",
             "referencegrant", "destinationrule", "virtualservice", "authorizationpolicy", "peerauthentication",
             "endpointslice", "hostport", "istio-injection")
    for fault in FAULTS:
        assert not [w for w in words if w in fault.symptom().lower().replace(" ", "")], fault.id


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
def test_fault_breaks_exactly_its_journeys_and_its_fix_repairs_them(fault, base):
    """Does the fault break every journey it declares (and nothing else), and does its documented fix restore
    every journey and invariant?"""
    lab = _lab(fault.apply(base))
    broken = {name for name, j in ALL.items() if not j.run(lab).ok}
    assert broken == set(fault.breaks)
    assert not fault.is_fixed(lab)
    lab.apply(fault.fix(base))
    assert fault.is_fixed(lab)
    assert {name for name, j in ALL.items() if not j.run(lab).ok} == set()


def test_apply_leaves_its_input_alone(base):
    """Does a fault break a copy, never the manifests it was given?"""
    before = repr(base)
    by_id("pathtype-exact").apply(base)
    assert repr(base) == before


def test_an_unknown_fault_id_names_the_known_ones():
    with pytest.raises(KeyError, match="pathtype-exact"):
        by_id("no-such-fault")


def test_the_instructors_doc_tables_are_the_librarys():
    """Are docs/capstone.md's journey, invariant and fault tables what tools/capstone_doc.py makes from the
    library (so the page is not stale), and does it name every fault?"""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "tools" / "capstone_doc.py"
    spec = importlib.util.spec_from_file_location("capstone_doc", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    doc = tool.DOC.read_text()
    assert tool.render(doc) == doc, "run python tools/capstone_doc.py"
    assert [f.id for f in FAULTS if f"`{f.id}`" not in doc] == []


def _scaled(docs, name, replicas, namespace="shop"):
    """The Deployment `name` of `docs`, with `replicas` (a copy)."""
    doc = copy.deepcopy(next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name
                             and d["metadata"]["namespace"] == namespace))
    doc["spec"]["replicas"] = replicas
    return doc


def _with_retries(docs, retries):
    """VirtualService shop/cart of `docs` whose stable route has `retries` (a copy)."""
    doc = copy.deepcopy(next(d for d in docs if d["kind"] == "VirtualService" and d["metadata"]["name"] == "cart"))
    doc["spec"]["http"][1]["retries"] = retries
    return doc


def _without_affinity(docs):
    """Service edge/wallboard of `docs` with sessionAffinity None (a copy)."""
    doc = copy.deepcopy(next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "wallboard"))
    doc["spec"]["sessionAffinity"] = "None"
    return doc


def _api_with_ndots(docs, ndots: str):
    """Deployment shop/api of `docs` whose pods' resolv.conf says ndots:<ndots> (a copy)."""
    doc = copy.deepcopy(next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "api"))
    doc["spec"]["template"]["spec"]["dnsConfig"] = {"options": [{"name": "ndots", "value": ndots}]}
    return doc


def _corefile(text: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": text}}


def _coredns_egress(cidrs) -> dict:
    """kube-system/coredns-egress allowing DNS to `cidrs` (and the API server)."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "coredns-egress", "namespace": "kube-system"},
            "spec": {"podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}, "policyTypes": ["Egress"],
                     "egress": [{"to": [{"ipBlock": {"cidr": c}} for c in cidrs],
                                 "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
                                {"ports": [{"port": 6443}, {"port": 443}]}]}}


#: per fault, a change that looks like a fix and is not (the ticket must stay open)
WRONG_FIXES = {
    # more pods whose probe still fails
    "readiness-probe-wrong-port": lambda broken: [_scaled(broken, "cart-v1", 3)],
    # a third status page pod, on the same node (its nodeSelector): the other nodes still drop
    "external-policy-local": lambda broken: [_scaled(broken, "statuspage", 3, "edge")],
    # fewer copies: the status page must run twice
    "hostnetwork-port-clash": lambda broken: [_scaled(broken, "statuspage", 1, "edge")],
    # deleting the reports team's Service: the short name then resolves to nothing at all
    "search-path-surprise": lambda broken: [{"delete": ("Service", "api", "reports")}],
    # scaling the frontend down to what the small node holds: the shop needs its replicas
    "podcidr-exhausted": lambda broken: [_scaled(broken, "frontend", 1)],
    # fewer retries, still on every 5xx: still more requests than the default policy
    "retry-amplification": lambda broken: [_with_retries(broken, {"attempts": 5, "retryOn": "5xx"})],
    # affinity off: the screens are spread over every pod, the dead canary among them, and lose their views
    "affinity-pins-dead-pod": lambda broken: [_without_affinity(broken)],
    # fewer search candidates: the name is still forwarded to a resolver CoreDNS cannot reach
    "ndots-timeout-under-egress": lambda broken: [_api_with_ndots(broken, "1")],
    # the zone spelled right, but forwarded to the nodes' resolver, which does not know the office's names
    "stub-domain-typo": lambda broken: [_corefile(corefile_with_stub(CORP_ZONE, NODE_RESOLVER))],
    # an even larger MTU
    "vxlan-mtu-black-hole": lambda broken: [{"apiVersion": "v1", "kind": "ConfigMap",
                                             "metadata": {"name": "calico-config", "namespace": "kube-system"},
                                             "data": {"veth_mtu": "9000"}}],
}


@pytest.mark.parametrize("fault_id", sorted(WRONG_FIXES))
def test_a_fix_that_only_looks_right_leaves_the_ticket_open(fault_id, base):
    """Does each newer fault stay broken under the change a hurried engineer might try instead of its fix?"""
    fault = by_id(fault_id)
    broken = fault.apply(base)
    lab = _lab(broken)
    for change in WRONG_FIXES[fault_id](broken):
        if "delete" in change:
            kind, name, namespace = change["delete"]
            lab.delete(kind, name, namespace)
        else:
            lab.apply(change)
    assert not fault.is_fixed(lab)


def _canary(docs):
    return copy.deepcopy(next(d for d in docs if d["kind"] == "Deployment"
                              and d["metadata"]["name"] == "wallboard-canary"))


def _probed(docs):
    """The canary, left broken, with a readinessProbe on its declared port: it never becomes Ready."""
    doc = _canary(docs)
    doc["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {"tcpSocket": {"port": 3000}}
    return [doc]


def _declares_what_it_serves(docs):
    """The canary declares the port its build listens on (http: 8080)."""
    doc = _canary(docs)
    doc["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
    return [doc]


#: per fault, fixes written differently from fix(): each must clear the ticket and keep everything else
OTHER_FIXES = {
    "ndots-timeout-under-egress": {
        "the resolvers' subnets": lambda docs: [_coredns_egress(["192.168.0.0/24", "10.0.0.0/24"])],
    },
    "stub-domain-typo": {
        "the server with its port": lambda docs: [_corefile(corefile_with_stub(CORP_ZONE, "10.0.0.53:53"))],
    },
    "affinity-pins-dead-pod": {
        "a readinessProbe alone": _probed,
        "the port it really serves": _declares_what_it_serves,
        "the canary deleted": lambda docs: [{"delete": ("Deployment", "wallboard-canary", "edge")}],
    },
}


@pytest.mark.parametrize("fault_id,how", [(f, h) for f, fixes in sorted(OTHER_FIXES.items()) for h in sorted(fixes)])
def test_a_fix_written_differently_clears_the_ticket(fault_id, how, base):
    """Does a fix other than the documented one, that a careful engineer might choose, clear the ticket without
    breaking anything else?"""
    fault = by_id(fault_id)
    broken = fault.apply(base)
    lab = _lab(broken)
    for change in OTHER_FIXES[fault_id][how](broken):
        if "delete" in change:
            kind, name, namespace = change["delete"]
            lab.delete(kind, name, namespace)
        else:
            lab.apply(change)
    assert fault.is_fixed(lab)
    assert {name for name, j in ALL.items() if not j.run(lab).ok} == set()


def test_retry_amplification_shows_in_the_golden_metrics(base):
    """Does the cart's own proxy report every attempt the API's proxy made (istio_requests_total with
    reporter=destination), while callers' effective requests stay one per call?"""
    lab = _lab(by_id("retry-amplification").apply(base))
    lab.reset_metrics()
    api = lab.list("Pod", "shop", selector="app=api")[0]["metadata"]["name"]
    response = lab.http("http://cart/status/503", src=f"shop/{api}")
    metrics = lab.golden_metrics()
    cart = next(row for row in metrics.by_workload() if row["workload"] == "cart-v1")
    assert response.attempts == 11 and cart["requests"] == 11 and cart["success"] == 0
    total = sum(n for labels, n in metrics.requests_total().items()
                if dict(labels)["destination_workload"] == "cart-v1" and dict(labels)["response_code"] == "503")
    assert total == 11
    effective = metrics.routes_table().splitlines()[1].split()
    assert effective[3:6] == ["1", "0.00%", "11"]    # EFFECTIVE_REQUESTS, ACTUAL_SUCCESS, ACTUAL_REQUESTS


def test_deleting_coredns_egress_policy_clears_the_ticket_but_breaks_the_hardening(base):
    """Does deleting kube-system's CoreDNS egress policy (the over-broad fix) break the invariant that CoreDNS
    talks only to its resolvers, so the grader refuses it?"""
    lab = _lab(by_id("ndots-timeout-under-egress").apply(base))
    lab.delete("NetworkPolicy", "coredns-egress", "kube-system")
    assert by_id("ndots-timeout-under-egress").is_fixed(lab)
    assert not INVARIANTS["coredns-contained"].run(lab).ok


def test_the_ndots_fault_waits_on_the_names_coredns_forwards(base):
    """Does the API's lookup of the payment provider try 5 names, answered at once for the cluster's search
    domains and after 5 s each for the two CoreDNS forwards, while a cluster name resolves at once and the
    office's zone after the one forwarded candidate (.localdomain)?"""
    lab = _lab(by_id("ndots-timeout-under-egress").apply(base))
    api = "shop/" + lab.list("Pod", "shop", selector="app=api")[0]["metadata"]["name"]
    slow = lab.resolve("payments.example.com", src=api)
    assert slow.rcode == "SERVFAIL" and len(slow.queries) == 5 and 10_000 <= slow.elapsed_ms < 10_100
    fast = lab.resolve("cart", src=api)
    assert fast.addresses and fast.elapsed_ms < 100
    office = lab.resolve("ledger.corp.example.internal", src=api)
    assert office.addresses == ["10.0.5.20"] and 5_000 <= office.elapsed_ms < 5_100
