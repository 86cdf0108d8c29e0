"""Lesson 10 exercises: the reference answers pass, answers written differently pass, wrong answers fail and the
classic mistakes are named. Answers are built from their parameters (tests/exercises/mesh_answers.py)."""
from __future__ import annotations

import pytest

from kubelab.course.exercises import check

from .helpers import failed, hint_of, mistakes
from .mesh_answers import (allow_rule, authorization_policy, delay, header_route, peer_authentication, subsets, to,
                           virtual_service, yaml_text)

FRONTEND = {"principals": ["cluster.local/ns/web/sa/frontend"]}


def canary(*destinations, rule=True) -> str:
    """helloworld's split over the given destinations, with (or without) the DestinationRule defining v1/v2."""
    docs = [subsets("helloworld", "v1", "v2")] if rule else []
    return yaml_text(*docs, virtual_service("helloworld", {"route": list(destinations)}))


def reviews_route(how="exact", name="tester", others="v1", rule=True, catch_all_first=False) -> str:
    """tester's requests to reviews v2, everyone else's to `others`."""
    vs = header_route("reviews", name, "v2", others, how)
    if catch_all_first:
        vs["spec"]["http"].reverse()
    return yaml_text(*([subsets("reviews", "v1", "v2")] if rule else []), vs)


def timeout_bug(fault=None, fault_for_jason=True, fix_subset="v3", fix_how="exact", fix_extra=None) -> str:
    """jason's ratings calls delayed 7 s (the fault), and jason's reviews sent to `fix_subset` (the fix)."""
    fault = fault if fault is not None else delay()
    if fault_for_jason:
        ratings = header_route("ratings", "jason", "v1", "v1", fault=fault)
    else:
        ratings = virtual_service("ratings", {"fault": fault, "route": [to("ratings", "v1")]})
    reviews = header_route("reviews", "jason", fix_subset, "v1", fix_how, **(fix_extra or {}))
    return yaml_text(ratings, reviews)


def strict_mtls(namespace="shop", selector=None, legacy=True) -> str:
    """STRICT for `namespace` (or only the selected app), and PERMISSIVE kept for reports, the legacy client's
    server."""
    docs = [peer_authentication("default", namespace, "STRICT", app=selector)]
    if legacy:
        docs.append(peer_authentication("reports-legacy", "shop", "PERMISSIVE", app="reports"))
    return yaml_text(*docs)


def authz(source=None, operation=None, app="httpbin", rules=None, extra=()) -> str:
    """ALLOW for frontend's GETs on httpbin (source, operation and target replaceable)."""
    rules = rules if rules is not None else [allow_rule(source or FRONTEND, operation or {"methods": ["GET"]})]
    return yaml_text(authorization_policy("httpbin-from-frontend", "shop", app=app, rules=rules, action="ALLOW"),
                     *extra)


REFERENCE = {"10-canary": canary(to("helloworld", "v1", 90), to("helloworld", "v2", 10)),
             "10-header-route": reviews_route(), "10-timeout-bug": timeout_bug(),
             "10-strict-mtls": strict_mtls(), "10-authz": authz()}

# Right answers written differently: each must pass too.
DIFFERENT = {
    # relative weights 9:1, v2 first, the host's full name and a named route
    "10-canary": yaml_text(subsets("helloworld", "v1", "v2"), virtual_service(
        "helloworld", {"name": "canary", "route": [
            to("helloworld.default.svc.cluster.local", "v2", 1), to("helloworld.default.svc.cluster.local", "v1", 9)]},
        name="hello-canary", hosts=["helloworld.default.svc.cluster.local"])),
    # a regex: Istio matches it against the whole header value (RE2), so 'tester' is not a substring match
    "10-header-route": reviews_route(how="regex"),
    # the percentage as an integer, the delay in milliseconds, and the fix matching jason by regex
    "10-timeout-bug": timeout_bug(fault=delay("7000ms", 100), fix_how="regex"),
    # STRICT for the namespace, and reports STRICT except on its port (port-level PERMISSIVE)
    "10-strict-mtls": yaml_text(peer_authentication("shop-strict", "shop", "STRICT"),
                                peer_authentication("reports", "shop", "STRICT", app="reports",
                                                    port_modes={8080: "PERMISSIVE"})),
    # deny by default for the workload, then allow: an allow-nothing policy plus the ALLOW, methods via notMethods
    "10-authz": yaml_text(authorization_policy("allow-nothing", "shop"), authorization_policy(
        "frontend-reads", "shop", rules=[allow_rule(FRONTEND, {"notMethods": ["POST", "PUT", "PATCH", "DELETE"]})])),
}


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_reference_answer_passes_every_sub_check(exercise_id):
    """Does the reference answer pass every sub-check, with no mistake named?"""
    result = check(exercise_id, REFERENCE[exercise_id])
    assert bool(result), str(result)
    assert result.total >= 4 and not mistakes(result)


@pytest.mark.parametrize("exercise_id", sorted(DIFFERENT))
def test_right_answer_written_differently_passes(exercise_id):
    """Does a correct answer written another way (relative weights, regex, port-level mode, deny-then-allow) pass?"""
    result = check(exercise_id, DIFFERENT[exercise_id])
    assert bool(result), str(result)


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_empty_answer_fails(exercise_id):
    """Does an answer with no manifest fail at once with nothing earned?"""
    result = check(exercise_id, "# YOUR CODE HERE\n")
    assert not result and result.passed == 0


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_bad_yaml_fails_cleanly(exercise_id):
    """Does YAML that does not parse give a failed sub-check quoting the parser, not a traceback?"""
    result = check(exercise_id, "kind: [oops")
    assert not result and result.passed == 0
    assert "not valid YAML" in hint_of(result, "your manifests apply")


# ---------------------------------------------------------------- 10-canary
def test_subsets_without_destination_rule_are_named():
    """Does a VirtualService naming subsets nobody defined fail with 503s and the mistake named?"""
    result = check("10-canary", canary(to("helloworld", "v1", 90), to("helloworld", "v2", 10), rule=False))
    assert "subset without a DestinationRule" in mistakes(result)
    assert "every request from curl is answered 200" in failed(result)


def test_single_destination_weight_is_not_a_percentage():
    """Is `weight: 10` on v2 alone (all traffic to v2) failed, with weights-as-percentages named?"""
    result = check("10-canary", canary(to("helloworld", "v2", 10)))
    assert "weights read as percentages" in mistakes(result)
    assert "about 10 % of curl's requests reach v2 (8 to 12 %)" in failed(result)


def test_weights_of_ten_and_ten_give_half():
    """Do weights 10 and 10 (half each) fail the 10 % check and name the mistake?"""
    result = check("10-canary", canary(to("helloworld", "v1", 10), to("helloworld", "v2", 10)))
    assert "weights read as percentages" in mistakes(result)
    assert "v1 keeps the other 90 %" in failed(result)


def test_canary_in_the_wrong_proportion_fails_without_a_hint_about_weights():
    """Do weights 70/30 (adding to 100) fail without blaming relative weights?"""
    result = check("10-canary", canary(to("helloworld", "v1", 70), to("helloworld", "v2", 30)))
    assert not result and "weights read as percentages" not in mistakes(result)


# ---------------------------------------------------------------- 10-header-route
def test_catch_all_first_is_named():
    """Is the default route written before the header match named, and tester's check failed?"""
    result = check("10-header-route", reviews_route(catch_all_first=True))
    assert "a catch-all route first" in mistakes(result)
    assert "tester's product page shows reviews from v2" in failed(result)


def test_prefix_match_catches_other_users():
    """Does a prefix match (which also routes `testers`) fail the other-users check?"""
    result = check("10-header-route", reviews_route(how="prefix", name="test"))
    assert "other users (even ones whose name starts or ends like tester's) see v1" in failed(result)


def test_header_route_without_subsets_is_named():
    """Is a route to subset v2 with no DestinationRule named?"""
    result = check("10-header-route", reviews_route(rule=False))
    assert "subset without a DestinationRule" in mistakes(result) and not result


def test_header_route_without_a_default_sends_others_nowhere_good():
    """Without a route for everyone else, do visitors fail (no route: 404 from the proxy)?"""
    result = check("10-header-route", reviews_route(others=None))
    assert "a visitor who is not signed in sees reviews v1" in failed(result)


# ---------------------------------------------------------------- 10-timeout-bug
BUG_SHOWN = "with your fault alone, jason's page shows the bug: reviews unavailable after about 6 s"


def test_fault_without_percentage_injects_nothing():
    """Does a delay without percentage fail to expose the bug, naming the unset percentage?"""
    result = check("10-timeout-bug", timeout_bug(fault=delay(percent=None)))
    assert "fault percentage left out" in mistakes(result)
    assert BUG_SHOWN in failed(result)


def test_short_delay_does_not_expose_the_bug():
    """A 2 s delay fits in productpage's budget: is the exposure check failed?"""
    result = check("10-timeout-bug", timeout_bug(fault=delay("2s")))
    assert BUG_SHOWN in failed(result)


def test_fault_for_everyone_fails():
    """Does a delay for every user fail the 'touches no one else' check?"""
    result = check("10-timeout-bug", timeout_bug(fault_for_jason=False))
    assert "the fault touches no one else: other users' pages and ratings calls are answered at once" in failed(result)


def test_fix_by_sending_jason_to_v1_loses_the_stars():
    """Routing jason to v1 avoids ratings altogether: does the stars check fail?"""
    result = check("10-timeout-bug", timeout_bug(fix_subset="v1"))
    assert "once ratings is healthy again, jason's reviews show star ratings" in failed(result)


def test_retries_do_not_fix_the_timeout():
    """Is adding retries to jason's v2 route failed and named (each retry meets the delay)?"""
    answer = timeout_bug(fix_subset="v2", fix_extra={"retries": {"attempts": 3, "perTryTimeout": "2s"}})
    result = check("10-timeout-bug", answer)
    assert "retries to fix a timeout" in mistakes(result)
    assert "retries on non-idempotent calls" in mistakes(result)
    assert "with your fix, jason gets his reviews again while ratings is still delayed" in failed(result)


# ---------------------------------------------------------------- 10-strict-mtls
def test_peer_authentication_in_the_wrong_namespace_is_named():
    """Is a PeerAuthentication written in namespace default named, and plaintext still accepted?"""
    answer = yaml_text(peer_authentication("default", "default", "STRICT"),
                       peer_authentication("reports-legacy", "default", "PERMISSIVE", app="reports"))
    result = check("10-strict-mtls", answer)
    assert "PeerAuthentication in the wrong namespace" in mistakes(result)
    assert "plaintext to httpbin is refused (a client without a sidecar)" in failed(result)


def test_strict_everywhere_breaks_the_legacy_client():
    """Does STRICT with no exception fail the legacy client's check?"""
    result = check("10-strict-mtls", strict_mtls(legacy=False))
    assert failed(result) == ["batch, the legacy client, still gets answers from reports"]


def test_mesh_wide_strict_changes_other_namespaces():
    """Does STRICT in istio-system (mesh-wide) fail the 'nothing outside shop changes' check?"""
    result = check("10-strict-mtls", strict_mtls(namespace="istio-system"))
    assert "nothing outside shop changes: plaintext still reaches httpbin in namespace web" in failed(result)


def test_strict_only_on_httpbin_leaves_new_workloads_open():
    """Does STRICT on httpbin's pods alone fail the later-workload check?"""
    result = check("10-strict-mtls", strict_mtls(selector="httpbin"))
    assert "a workload started later in shop is STRICT too" in failed(result)


# ---------------------------------------------------------------- 10-authz
FRONTEND_GET = "frontend's GET /get is answered 200"


def test_namespace_instead_of_principal_lets_other_accounts_in():
    """Does `namespaces: [web]` fail for web's other service accounts (callers the learner never saw)?"""
    result = check("10-authz", authz(source={"namespaces": ["web"]}))
    assert failed(result) == ["other identities in namespace web are denied (403)"]


def test_spiffe_scheme_in_principal_is_named():
    """Is a principal written with spiffe:// named, and frontend denied?"""
    result = check("10-authz", authz(source={"principals": ["spiffe://cluster.local/ns/web/sa/frontend"]}))
    assert "spiffe:// in a principal" in mistakes(result)
    assert FRONTEND_GET in failed(result)


def test_principal_without_mtls_is_named():
    """With mTLS disabled on httpbin, the principal never matches: is that named?"""
    result = check("10-authz", authz(extra=[peer_authentication("no-mtls", "shop", "DISABLE", app="httpbin")]))
    assert "a principal without mTLS" in mistakes(result)
    assert FRONTEND_GET in failed(result)


def test_allow_all_rule_fails():
    """Does `rules: [{}]` (allow everything) fail the deny checks?"""
    result = check("10-authz", authz(rules=[{}]))
    assert {"frontend's POST is denied (403)", "a plaintext caller without identity is denied (403)"} \
        <= set(failed(result))


def test_policy_without_selector_covers_reports_too():
    """Does a namespace-wide policy (no selector) fail the reports check?"""
    result = check("10-authz", authz(app=None))
    assert "reports, outside the policy's target, still answers everyone" in failed(result)
