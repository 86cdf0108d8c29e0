"""Checks probe beyond the scenario (issue 13), chapters 01-07: wrong-but-plausible answers that pass on the
scenario's fixed pods (a hand-written EndpointSlice of today's pods, another namespace's Service of the same name,
a Service's other port, a network's first and last address, a narrowed DNS search list) fail on pods, Services
and addresses the answer could not have known about, with the hint for that mistake only; right answers written
differently pass. Every exercise is scored over the same denominator, whatever the answer."""
import ipaddress

import pytest

import kubelab
from kubelab.course.exercises import check, registered
from tests.exercises.test_alternatives import REFERENCE
from tests.exercises.test_ch03 import API, nft_endpoints
from tests.exercises.test_ch04 import HEADLESS, NODEPORT
from tests.exercises.test_ch05 import EXTERNAL
from tests.exercises.test_ch06 import CRAWLER_NONE
from tests.exercises.test_ch07 import service_ipv6

from .helpers import failed, mistakes

LATER_API = "a third api pod started later gets connections too; a new tier=backend pod does not"


@pytest.fixture
def grading(monkeypatch):
    monkeypatch.setenv("KUBELAB_GRADING", "1")


def _hand_written(service: dict, addresses: list[str], port: int, port_name: str | None = None) -> list[dict]:
    """The Service without its selector, and an EndpointSlice listing today's addresses by hand."""
    bare = {**service, "spec": {k: v for k, v in service["spec"].items() if k != "selector"}}
    meta = service["metadata"]
    return [bare, {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                   "metadata": {"name": f"{meta['name']}-by-hand", "namespace": meta.get("namespace", "default"),
                                "labels": {"kubernetes.io/service-name": meta["name"]}},
                   "addressType": "IPv4",
                   "ports": [{"port": port, "protocol": "TCP", **({"name": port_name} if port_name else {})}],
                   "endpoints": [{"addresses": [ip]} for ip in addresses]}]


def _today(setup, namespace: str, selector: str) -> list[str]:
    """The pod IPs a learner sees for the scenario today (the check's cluster is built the same way)."""
    lab = kubelab.connect("simulated", seed=0)
    lab.apply(setup)
    return sorted(p["status"]["podIP"] for p in lab.list("Pod", namespace, selector=selector))


# ---------------------------------------------------------------- fixed denominators
SHAPES = {"None": None, "an empty string": "", "a Pod with an empty spec": "kind: Pod\nmetadata: {name: x}\nspec:\n",
          "a function that returns None": lambda *a: None, "a function that raises": lambda *a: 1 / 0, "a dict": {}}
PLANNED = sorted(e.id for chapter in ("01", "02", "03", "04", "05", "06", "07", "09", "10") for e in registered(chapter))


def test_chapters_01_to_10_declare_their_scored_sub_checks():
    """Does every exercise of chapters 01-07, 09 and 10 name its scored sub-checks at registration (08 plans its
    own per check; 11's depend on the learner's scenario)?"""
    assert len(PLANNED) == 35  # 01-07: 24, 09: 6, 10: 5
    assert all(e.scored for chapter in ("01", "02", "03", "04", "05", "06", "07", "09", "10")
               for e in registered(chapter))


@pytest.mark.parametrize("exercise_id", PLANNED)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_answer_is_scored_over_the_declared_sub_checks(exercise_id, shape, grading):
    """Is the denominator of a wrong, empty or raising answer the number of sub-checks the exercise declares?
    (A function returning None is right where None is the answer, e.g. for an address no podCIDR holds.)"""
    found = next(e for e in registered(exercise_id[:2]) if e.id == exercise_id)
    result = check(exercise_id, SHAPES[shape])
    assert result.total == len(found.scored) + len(found.hidden) and not result


@pytest.mark.parametrize("exercise_id", sorted(e for e in REFERENCE if e[:2] in ("01", "02", "03", "04", "05", "06",
                                                                                 "07")))
def test_the_reference_answer_earns_every_declared_sub_check(exercise_id, grading):
    """Does the solution pass exactly the declared sub-checks, no more (a scored line the plan does not name would
    make the denominator depend on the answer)?"""
    found = next(e for e in registered(exercise_id[:2]) if e.id == exercise_id)
    result = check(exercise_id, REFERENCE[exercise_id])
    assert bool(result), str(result)
    assert sorted(c.name for c in result.checks if c.scored) == sorted(found.scored + found.hidden)


# ---------------------------------------------------------------- 01-podcidr-owner: both sides of the edges
def owner_among_hosts(lab, ip):
    """Wrong: only the usable host addresses, as hosts() lists them (the first and last address left out)."""
    address = ipaddress.ip_address(ip)
    for node in lab.list("Node"):
        for cidr in node["spec"].get("podCIDRs") or []:
            net = ipaddress.ip_network(cidr)
            if address in net and address not in (net.network_address, net.broadcast_address):
                return node["metadata"]["name"]
    return None


def owner_by_arithmetic(lab, ip):
    """Wrong: node-N owns 10.244.(N-1).0/24 in the lesson, so the third octet names the node."""
    address = ipaddress.ip_address(ip)
    if address.version == 4 and address in ipaddress.ip_network("10.244.0.0/16"):
        return f"node-{int(ip.split('.')[2]) + 1}"
    for node in lab.list("Node"):
        for cidr in node["spec"].get("podCIDRs") or []:
            if address in ipaddress.ip_network(cidr):
                return node["metadata"]["name"]
    return None


def owner_by_masking(lab, ip):
    """Right, written differently: mask the address with each range's prefix and compare network addresses."""
    address = ipaddress.ip_address(ip)
    for node in sorted(lab.list("Node"), key=lambda n: n["metadata"]["name"]):
        for cidr in node["spec"].get("podCIDRs") or []:
            net = ipaddress.ip_network(cidr)
            if address.version == net.version and int(address) & int(net.netmask) == int(net.network_address):
                return node["metadata"]["name"]
    return None


EDGES = "names the node of the first and last address of a podCIDR, and None just past the last range"


@pytest.mark.parametrize("wrong", [owner_among_hosts, owner_by_arithmetic])
def test_podcidr_edges_catch_answers_right_on_every_pod_ip(wrong):
    """Do hosts() and node-name arithmetic, right on every pod IP and free address, fail the edge addresses only?"""
    result = check("01-podcidr-owner", wrong)
    assert failed(result) == [EDGES] and result.passed == 4 and result.total == 5
    assert mistakes(result) == []


def test_podcidr_masking_passes():
    result = check("01-podcidr-owner", owner_by_masking)
    assert bool(result) and result.total == 5


# ---------------------------------------------------------------- today's pods written by hand
def test_api_service_with_todays_pods_by_hand_fails_the_later_pod(grading):
    """A selector-less Service + an EndpointSlice of today's two api pods passes the scenario; does the third
    api pod started later fail it, naming the hand-written addresses?"""
    from kubelab.course.exercises.ch03_services import API_SETUP

    import yaml
    service = yaml.safe_load(API)
    answer = _hand_written(service, _today(API_SETUP, "shop", "app=api"), 8080, "http")
    answer[1]["ports"][0]["name"] = service["spec"]["ports"][0].get("name")
    result = check("03-api-service", answer)
    assert failed(result) == [LATER_API] and result.total == 5
    assert mistakes(result) == ["today's pod addresses written by hand"]


def test_api_service_with_both_labels_passes(grading):
    """Right, written differently: the selector names app and tier; batch (tier only) stays out."""
    result = check("03-api-service", API.replace("    app: api\n", "    app: api\n    tier: backend\n"))
    assert bool(result) and result.total == 5, str(result)


@pytest.mark.parametrize("exercise_id,manifest,check_name", [
    ("04-nodeport", NODEPORT, "a web pod started later gets connections through the node port too"),
    ("04-headless", HEADLESS, "a web pod started later is in web-peers' DNS answer too"),
])
def test_exposing_todays_pods_by_hand_fails_the_later_pod(exercise_id, manifest, check_name):
    """Do a NodePort and a headless Service whose EndpointSlice lists today's web pods by hand fail on the pod
    started later, and only there?"""
    import yaml

    from kubelab.course.exercises.ch04_exposing_services import WEB
    service = yaml.safe_load(manifest)
    result = check(exercise_id, _hand_written(service, _today(WEB, "default", "app=web"), 8080))
    assert failed(result) == [check_name]
    assert mistakes(result) == ["today's pod addresses written by hand"]  # not "selector matches no pod"


def test_a_headless_service_without_selector_or_slice_is_named_for_that():
    """With no selector and no EndpointSlice, is the mistake named "no selector", not a selector matching nothing?"""
    result = check("04-headless", HEADLESS.replace("  selector:\n    app: web\n", ""))
    assert "no selector" in mistakes(result) and "selector matches no pod" not in mistakes(result)


# ---------------------------------------------------------------- 03-ready-endpoints, 03-nft-endpoints
def landing_every_namespace(lab, service, namespace="default"):
    """Wrong: the slices labelled with the Service's name, in every namespace."""
    return sorted(f"{ip}:{s['ports'][0]['port']}" for s in lab.list("EndpointSlice",
                                                                      selector=f"kubernetes.io/service-name={service}")
                  for e in s["endpoints"] if e["conditions"].get("ready") for ip in e["addresses"])


def test_another_namespaces_service_of_the_same_name_is_caught():
    """Does ignoring the namespace fail the case beside namespace other's web, with its own hint only?"""
    result = check("03-ready-endpoints", landing_every_namespace)
    assert failed(result) == ["web: 2 ready pods, beside a Service also named web in namespace other: 2 endpoints"]
    assert mistakes(result) == ["another namespace's Service of the same name included"]


def nft_any_port(ruleset, cluster_ip, port):
    """Wrong: every service-ips element of the cluster IP, whatever its port."""
    found = []
    for line in ruleset.splitlines():
        for element in line.replace("{", ",").replace("}", ",").split(","):
            if element.strip().startswith(f"{cluster_ip} . tcp . "):
                other = int(element.split(" . ")[2].split(" :")[0])
                found += nft_endpoints(ruleset, cluster_ip, other)
    return sorted(set(found))


def test_a_services_other_port_is_caught():
    """Does following every port of the cluster IP fail the two-port case only, naming that mistake?"""
    result = check("03-nft-endpoints", nft_any_port)
    assert failed(result) == ["web with a second port 443 -> 8443, asked for port 80, 2 pods: 2 endpoints"]
    assert mistakes(result) == ["the Service's other port followed too"]


# ---------------------------------------------------------------- 05-external-slice: one endpoint only
def test_a_slice_with_an_extra_address_is_caught():
    """A slice listing 192.0.2.50 and a second address may land on .50 by luck; does the candidates line fail?"""
    answer = EXTERNAL.replace('- addresses: ["192.0.2.50"]', '- addresses: ["192.0.2.50"]\n- addresses: ["192.0.2.51"]')
    result = check("05-external-slice", answer)
    assert "every new connection to pg can land on 192.0.2.50:5432 only" in failed(result)
    assert "192.0.2.51:5432" in next(c.hint for c in result.checks if c.name.endswith("192.0.2.50:5432 only"))


# ---------------------------------------------------------------- 06-one-query: the whole search list
def test_a_search_list_cut_to_the_namespace_fails_other_namespaces():
    """dnsPolicy None with only default.svc.cluster.local finds web in one query: does api.other fail?"""
    narrow = CRAWLER_NONE.replace("[default.svc.cluster.local, svc.cluster.local, cluster.local]",
                                  "[default.svc.cluster.local]").replace('value: "2"', 'value: "1"')
    result = check("06-one-query", narrow)
    assert failed(result) == ["...and a Service of another namespace as <name>.<namespace>"]


def test_a_none_policy_with_the_whole_search_list_passes():
    result = check("06-one-query", CRAWLER_NONE.replace('value: "2"', 'value: "1"'))
    assert bool(result) and result.total == 3, str(result)


# ---------------------------------------------------------------- 07-ipv6-address: the namespace counts
def ipv6_first_by_name(lab, name, namespace="default"):
    """Wrong: the first Service of that name in any namespace."""
    for service in lab.list("Service"):
        if service["metadata"]["name"] == name:
            return next((ip for ip in service["spec"].get("clusterIPs") or [] if ":" in ip), None)
    return None


def ipv6_by_family_list(lab, name, namespace="default"):
    """Right, written differently: pair spec.ipFamilies with spec.clusterIPs."""
    spec = lab.get("Service", name, namespace)["spec"]
    return dict(zip(spec.get("ipFamilies") or [], spec.get("clusterIPs") or [])).get("IPv6")


def test_a_service_named_like_one_of_default_is_caught():
    result = check("07-ipv6-address", ipv6_first_by_name)
    assert failed(result) == ["a Service of namespace shop named like one of default: its IPv6 ClusterIP"]


@pytest.mark.parametrize("right", [service_ipv6, ipv6_by_family_list])
def test_ipv6_answers_written_differently_pass(right):
    result = check("07-ipv6-address", right)
    assert bool(result) and result.total == 7
