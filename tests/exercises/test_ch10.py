"""Lesson 10 exercises: the reference answers pass, answers written differently pass, wrong answers fail and the
classic mistakes are named."""
from __future__ import annotations

import pytest

from kubelab.course.exercises import check

from .helpers import failed, hint_of, mistakes

HELLO_SUBSETS = """
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: helloworld}
spec:
  host: helloworld
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
"""

CANARY = HELLO_SUBSETS + """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: helloworld}
spec:
  hosts: [helloworld]
  http:
  - route:
    - destination: {host: helloworld, subset: v1}
      weight: 90
    - destination: {host: helloworld, subset: v2}
      weight: 10
"""

REVIEWS_SUBSETS = """
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
"""

HEADER_ROUTE = REVIEWS_SUBSETS + """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match:
    - headers:
        end-user: {exact: tester}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
"""

RATINGS_FAULT = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - match:
    - headers:
        end-user: {exact: jason}
    fault:
      delay:
        percentage: {value: 100.0}
        fixedDelay: 7s
    route:
    - destination: {host: ratings, subset: v1}
  - route:
    - destination: {host: ratings, subset: v1}
"""

JASON_TO_V3 = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match:
    - headers:
        end-user: {exact: jason}
    route:
    - destination: {host: reviews, subset: v3}
  - route:
    - destination: {host: reviews, subset: v1}
"""

TIMEOUT_BUG = RATINGS_FAULT + "---" + JASON_TO_V3

STRICT_MTLS = """
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: STRICT}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: reports-legacy, namespace: shop}
spec:
  selector:
    matchLabels: {app: reports}
  mtls: {mode: PERMISSIVE}
"""

AUTHZ = """
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: httpbin-from-frontend, namespace: shop}
spec:
  selector:
    matchLabels: {app: httpbin}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/web/sa/frontend"]
    to:
    - operation:
        methods: ["GET"]
"""

REFERENCE = {"10-canary": CANARY, "10-header-route": HEADER_ROUTE, "10-timeout-bug": TIMEOUT_BUG,
             "10-strict-mtls": STRICT_MTLS, "10-authz": AUTHZ}

# Right answers written differently: each must pass too.
DIFFERENT = {
    # relative weights 9:1 and the host's full name
    "10-canary": HELLO_SUBSETS + """---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hello-canary}
spec:
  hosts: [helloworld.default.svc.cluster.local]
  http:
  - name: canary
    route:
    - destination: {host: helloworld.default.svc.cluster.local, subset: v2}
      weight: 1
    - destination: {host: helloworld.default.svc.cluster.local, subset: v1}
      weight: 9
""",
    # a regex: Istio matches it against the whole header value (RE2), so 'tester' is not a substring match
    "10-header-route": HEADER_ROUTE.replace("end-user: {exact: tester}", "end-user: {regex: 'tester'}"),
    # the percentage as an integer, the delay in milliseconds, and the fix matching jason by regex
    "10-timeout-bug": RATINGS_FAULT.replace("value: 100.0", "value: 100").replace("fixedDelay: 7s",
                                                                                  "fixedDelay: 7000ms")
    + "---" + JASON_TO_V3.replace("end-user: {exact: jason}", "end-user: {regex: 'jason'}"),
    # STRICT for the namespace, and reports STRICT except on its port (port-level PERMISSIVE)
    "10-strict-mtls": """
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: shop-strict, namespace: shop}
spec:
  mtls: {mode: STRICT}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: reports, namespace: shop}
spec:
  selector:
    matchLabels: {app: reports}
  mtls: {mode: STRICT}
  portLevelMtls:
    8080: {mode: PERMISSIVE}
""",
    # deny by default for the workload, then allow: an allow-nothing policy plus the ALLOW, methods via notMethods
    "10-authz": """
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-nothing, namespace: shop}
spec:
  selector:
    matchLabels: {app: httpbin}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: frontend-reads, namespace: shop}
spec:
  selector:
    matchLabels: {app: httpbin}
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/web/sa/frontend"]
    to:
    - operation:
        notMethods: ["POST", "PUT", "PATCH", "DELETE"]
""",
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
    result = check("10-canary", CANARY.split("---")[1])
    assert "subset without a DestinationRule" in mistakes(result)
    assert "every request from curl is answered 200" in failed(result)


def test_single_destination_weight_is_not_a_percentage():
    """Is `weight: 10` on v2 alone (all traffic to v2) failed, with weights-as-percentages named?"""
    answer = CANARY.replace("    - destination: {host: helloworld, subset: v1}\n      weight: 90\n", "")
    result = check("10-canary", answer)
    assert "weights read as percentages" in mistakes(result)
    assert "about 10 % of curl's requests reach v2 (8 to 12 %)" in failed(result)


def test_weights_of_ten_and_ten_give_half():
    """Do weights 10 and 10 (half each) fail the 10 % check and name the mistake?"""
    result = check("10-canary", CANARY.replace("weight: 90", "weight: 10"))
    assert "weights read as percentages" in mistakes(result)
    assert "v1 keeps the other 90 %" in failed(result)


def test_canary_in_the_wrong_proportion_fails_without_a_hint_about_weights():
    """Do weights 70/30 (adding to 100) fail without blaming relative weights?"""
    result = check("10-canary", CANARY.replace("weight: 90", "weight: 70").replace("weight: 10", "weight: 30"))
    assert not result and "weights read as percentages" not in mistakes(result)


# ---------------------------------------------------------------- 10-header-route
def test_catch_all_first_is_named():
    """Is the default route written before the header match named, and tester's check failed?"""
    head, rules = HEADER_ROUTE.split("  http:\n")
    match_rule, default_rule = rules.split("  - route:\n")
    answer = head + "  http:\n  - route:\n" + default_rule + match_rule
    result = check("10-header-route", answer)
    assert "a catch-all route first" in mistakes(result)
    assert "tester's product page shows reviews from v2" in failed(result)


def test_prefix_match_catches_other_users():
    """Does a prefix match (which also routes `testers`) fail the other-users check?"""
    result = check("10-header-route", HEADER_ROUTE.replace("exact: tester", "prefix: test"))
    assert "other users (even ones whose name starts or ends like tester's) see v1" in failed(result)


def test_header_route_without_subsets_is_named():
    """Is a route to subset v2 with no DestinationRule named?"""
    result = check("10-header-route", HEADER_ROUTE.split("---")[1])
    assert "subset without a DestinationRule" in mistakes(result) and not result


def test_header_route_without_a_default_sends_others_nowhere_good():
    """Without a route for everyone else, do visitors fail (no route: 404 from the proxy)?"""
    without_default = HEADER_ROUTE.split("  - route:\n    - destination: {host: reviews, subset: v1}")[0]
    result = check("10-header-route", without_default)
    assert "a visitor who is not signed in sees reviews v1" in failed(result)


# ---------------------------------------------------------------- 10-timeout-bug
def test_fault_without_percentage_injects_nothing():
    """Does a delay without percentage fail to expose the bug, naming the unset percentage?"""
    result = check("10-timeout-bug", TIMEOUT_BUG.replace("        percentage: {value: 100.0}\n", ""))
    assert "fault percentage left out" in mistakes(result)
    assert "with your fault alone, jason's page shows the bug: reviews unavailable after about 6 s" in failed(result)


def test_short_delay_does_not_expose_the_bug():
    """A 2 s delay fits in productpage's budget: is the exposure check failed?"""
    result = check("10-timeout-bug", TIMEOUT_BUG.replace("fixedDelay: 7s", "fixedDelay: 2s"))
    assert "with your fault alone, jason's page shows the bug: reviews unavailable after about 6 s" in failed(result)


def test_fault_for_everyone_fails():
    """Does a delay for every user fail the 'touches no one else' check?"""
    answer = TIMEOUT_BUG.replace("  - match:\n    - headers:\n        end-user: {exact: jason}\n    fault:",
                                 "  - fault:", 1)
    result = check("10-timeout-bug", answer)
    assert "the fault touches no one else: other users' pages and ratings calls are answered at once" in failed(result)


def test_fix_by_sending_jason_to_v1_loses_the_stars():
    """Routing jason to v1 avoids ratings altogether: does the stars check fail?"""
    result = check("10-timeout-bug", TIMEOUT_BUG.replace("subset: v3", "subset: v1"))
    assert "once ratings is healthy again, jason's reviews show star ratings" in failed(result)


def test_retries_do_not_fix_the_timeout():
    """Is adding retries to jason's v2 route failed and named (each retry meets the delay)?"""
    answer = TIMEOUT_BUG.replace("subset: v3}\n", "subset: v2}\n    retries: {attempts: 3, perTryTimeout: 2s}\n")
    result = check("10-timeout-bug", answer)
    assert "retries to fix a timeout" in mistakes(result)
    assert "retries on non-idempotent calls" in mistakes(result)
    assert "with your fix, jason gets his reviews again while ratings is still delayed" in failed(result)


# ---------------------------------------------------------------- 10-strict-mtls
def test_peer_authentication_in_the_wrong_namespace_is_named():
    """Is a PeerAuthentication written in namespace default named, and plaintext still accepted?"""
    result = check("10-strict-mtls", STRICT_MTLS.replace("namespace: shop", "namespace: default"))
    assert "PeerAuthentication in the wrong namespace" in mistakes(result)
    assert "plaintext to httpbin is refused (a client without a sidecar)" in failed(result)


def test_strict_everywhere_breaks_the_legacy_client():
    """Does STRICT with no exception fail the legacy client's check?"""
    result = check("10-strict-mtls", STRICT_MTLS.split("---")[0])
    assert failed(result) == ["batch, the legacy client, still gets answers from reports"]


def test_mesh_wide_strict_changes_other_namespaces():
    """Does STRICT in istio-system (mesh-wide) fail the 'nothing outside shop changes' check?"""
    result = check("10-strict-mtls", STRICT_MTLS.replace("metadata: {name: default, namespace: shop}",
                                                         "metadata: {name: default, namespace: istio-system}"))
    assert "nothing outside shop changes: plaintext still reaches httpbin in namespace web" in failed(result)


def test_strict_only_on_httpbin_leaves_new_workloads_open():
    """Does STRICT on httpbin's pods alone fail the later-workload check?"""
    answer = STRICT_MTLS.replace("spec:\n  mtls: {mode: STRICT}",
                                 "spec:\n  selector:\n    matchLabels: {app: httpbin}\n  mtls: {mode: STRICT}", 1)
    result = check("10-strict-mtls", answer)
    assert "a workload started later in shop is STRICT too" in failed(result)


# ---------------------------------------------------------------- 10-authz
def test_namespace_instead_of_principal_lets_other_accounts_in():
    """Does `namespaces: [web]` fail for web's other service accounts (callers the learner never saw)?"""
    answer = AUTHZ.replace('principals: ["cluster.local/ns/web/sa/frontend"]', 'namespaces: ["web"]')
    result = check("10-authz", answer)
    assert failed(result) == ["other identities in namespace web are denied (403)"]


def test_spiffe_scheme_in_principal_is_named():
    """Is a principal written with spiffe:// named, and frontend denied?"""
    result = check("10-authz", AUTHZ.replace('"cluster.local/', '"spiffe://cluster.local/'))
    assert "spiffe:// in a principal" in mistakes(result)
    assert "frontend's GET /get is answered 200" in failed(result)


def test_principal_without_mtls_is_named():
    """With mTLS disabled on httpbin, the principal never matches: is that named?"""
    answer = AUTHZ + """---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: no-mtls, namespace: shop}
spec:
  selector:
    matchLabels: {app: httpbin}
  mtls: {mode: DISABLE}
"""
    result = check("10-authz", answer)
    assert "a principal without mTLS" in mistakes(result)
    assert "frontend's GET /get is answered 200" in failed(result)


def test_allow_all_rule_fails():
    """Does `rules: [{}]` (allow everything) fail the deny checks?"""
    result = check("10-authz", AUTHZ.split("  rules:")[0] + "  rules:\n  - {}\n")
    assert {"frontend's POST is denied (403)", "a plaintext caller without identity is denied (403)"} \
        <= set(failed(result))


def test_policy_without_selector_covers_reports_too():
    """Does a namespace-wide policy (no selector) fail the reports check?"""
    result = check("10-authz", AUTHZ.replace("  selector:\n    matchLabels: {app: httpbin}\n", ""))
    assert "reports, outside the policy's target, still answers everyone" in failed(result)
