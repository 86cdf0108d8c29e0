"""Lesson 08 exercises: the reference answers pass, the classic mistakes are named, wrong answers fail."""
from __future__ import annotations

import pytest

from kubelab.course.exercises import check
from kubelab.course.exercises.ch08_network_policies import SCENARIO, matrix

from .helpers import failed, mistakes


def policy(name: str, namespace: str, spec: str) -> str:
    """A NetworkPolicy's YAML text: the header, then ``spec`` (its lines already indented under spec:)."""
    return (f"\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n"
            f"  namespace: {namespace}\nspec:\n{spec}")


DB_DENY = policy("default-deny-ingress", "db", """\
  podSelector: {}
  policyTypes:
  - Ingress
""")
DB_FROM_BACKEND = policy("postgres-from-backend", "db", """\
  podSelector:
    matchLabels:
      app: postgres
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: backend
      podSelector:
        matchLabels:
          role: backend
    ports:
    - protocol: TCP
      port: 5432
""")
FRONTEND_EGRESS = policy("frontend-egress", "frontend", """\
  podSelector: {}
  policyTypes:
  - Egress
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: backend
      podSelector:
        matchLabels:
          app: api
    ports:
    - protocol: TCP
      port: 8080
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
    ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
""")
MONITORING = policy("metrics-from-monitoring", "backend", """\
  podSelector: {}
  policyTypes:
  - Ingress
  ingress:
  - from:
    - ipBlock:
        cidr: 192.0.2.0/24
        except:
        - 192.0.2.66/32
    ports:
    - protocol: TCP
      port: 9100
  - ports:
    - protocol: TCP
      port: 8080
""")
DB_CLIENTS = policy("postgres-clients", "db", """\
  podSelector:
    matchLabels:
      app: postgres
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: backend
    - podSelector:
        matchLabels:
          app: backup
    ports:
    - protocol: TCP
      port: 5432
""")
REFERENCE = {"08-db-default-deny": DB_DENY, "08-db-from-backend": DB_FROM_BACKEND,
             "08-frontend-egress": FRONTEND_EGRESS, "08-monitoring-ipblock": MONITORING,
             "08-db-clients": DB_CLIENTS}


def variant(exercise_id: str, old: str, new: str) -> str:
    """The reference answer with one edit (the edit must apply, so a typo in a test cannot pass silently)."""
    answer = REFERENCE[exercise_id]
    assert old in answer, old
    return answer.replace(old, new)


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_reference_answer_passes_every_sub_check(exercise_id):
    """Does the reference answer pass every sub-check, with no mistake named?"""
    result = check(exercise_id, REFERENCE[exercise_id])
    assert bool(result), str(result)
    assert result.total >= 5 and not mistakes(result)


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_bad_yaml_fails_cleanly(exercise_id):
    """Does YAML that does not parse give one failed sub-check quoting the parser, not a traceback?"""
    result = check(exercise_id, "kind: [oops")
    assert not result
    assert (result.checks[0].name, result.checks[0].tag) == ("your policies apply", "FAIL")
    assert result.passed == 0 and result.total == check(exercise_id, REFERENCE[exercise_id]).total
    assert "not valid YAML" in result.checks[0].hint


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_the_released_stub_fails_cleanly(exercise_id):
    """Does the exercise notebook's stub (apiVersion and kind only) fail on the missing metadata?"""
    stub = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n# YOUR CODE HERE\n"
    result = check(exercise_id, stub)
    assert (result.checks[0].name, result.checks[0].tag) == ("your policies apply", "FAIL")
    assert result.passed == 0 and result.total == check(exercise_id, REFERENCE[exercise_id]).total
    assert "metadata" in result.checks[0].hint


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_an_answer_without_policies_scores_nothing_else(exercise_id):
    """Does an answer with no NetworkPolicy stop at "holds at least one NetworkPolicy"?"""
    result = check(exercise_id, "# nothing yet\n")
    assert (result.checks[1].name, result.checks[1].tag) == ("your answer holds at least one NetworkPolicy", "FAIL")
    assert result.passed == 0 and result.total == check(exercise_id, REFERENCE[exercise_id]).total


def test_the_matrix_covers_dns_pods_and_outside_addresses():
    """Does the graded matrix have cells to the CoreDNS pods on UDP 53 and from the outside addresses?"""
    import kubelab

    lab = kubelab.connect(seed=0)
    lab.apply(SCENARIO)
    cells = matrix(lab)
    assert any("coredns" in c.dst and (c.port, c.protocol) == (53, "UDP") for c in cells)
    assert any(c.src == "192.0.2.66" and c.dst == "backend/api" for c in cells)
    assert not any("/" not in c.src and "/" not in c.dst for c in cells)


# ---------------------------------------------------------------- 08-db-default-deny
def test_policy_without_namespace_is_named():
    """Is a default deny that lands in namespace default named, and db left open?"""
    result = check("08-db-default-deny", variant("08-db-default-deny", "  namespace: db\n", ""))
    assert "policy in the wrong namespace" in mistakes(result)
    assert "no pod and no outside address connects into db/postgres" in failed(result)


def test_selecting_only_postgres_misses_future_pods():
    """Does selecting app=postgres instead of every pod fail the "pod started later" check, with the mistake named?"""
    result = check("08-db-default-deny", variant("08-db-default-deny", "podSelector: {}",
                                                 "podSelector: {matchLabels: {app: postgres}}"))
    assert failed(result) == ["every other pod of db is isolated too, labelled or not",
                              "a pod started in db later, without labels, is isolated too"]
    assert "a policy selecting only some pods of db" in mistakes(result)


def test_selector_matching_no_pod_is_named():
    """Is a podSelector with a typo named as a policy selecting no pods?"""
    result = check("08-db-default-deny", variant("08-db-default-deny", "podSelector: {}",
                                                 "podSelector: {matchLabels: {app: postgress}}"))
    assert "a policy selecting no pods" in mistakes(result)
    assert not result


def test_denying_egress_too_is_named():
    """Does adding Egress to policyTypes fail the egress check and name the mistake?"""
    result = check("08-db-default-deny", variant("08-db-default-deny", "  - Ingress\n", "  - Ingress\n  - Egress\n"))
    assert failed(result) == ["db's pods still open connections to other namespaces"]
    assert "egress denied too" in mistakes(result)


def test_an_empty_ingress_rule_is_named():
    """Is `ingress: [{}]` named as a rule that allows everyone?"""
    result = check("08-db-default-deny", REFERENCE["08-db-default-deny"] + "  ingress:\n  - {}\n")
    assert "an ingress rule that allows everyone" in mistakes(result)
    assert "no pod and no outside address connects into db/postgres" in failed(result)


# ---------------------------------------------------------------- 08-db-from-backend
AND_PEER = "          kubernetes.io/metadata.name: backend\n      podSelector:"


def test_or_where_and_was_meant_is_named():
    """Do two peers (namespaceSelector OR podSelector) let backend/debug in, with the mistake named?"""
    result = check("08-db-from-backend", variant("08-db-from-backend", AND_PEER,
                                                 "          kubernetes.io/metadata.name: backend\n    - podSelector:"))
    assert failed(result) == ["backend pods without role=backend cannot reach postgres"]
    assert "OR written where AND was meant" in mistakes(result)


def test_namespace_selector_matching_no_namespace_is_named():
    """Is `name: backend` (a label namespaces do not carry) named, and the backend pods refused?"""
    result = check("08-db-from-backend", variant("08-db-from-backend", "kubernetes.io/metadata.name: backend",
                                                 "name: backend"))
    assert "a namespaceSelector matching no namespace" in mistakes(result)
    assert "backend's role=backend pods reach postgres on 5432" in failed(result)


def test_pod_selector_alone_is_named():
    """Is a podSelector without namespaceSelector (looking in db) named?"""
    result = check("08-db-from-backend", variant(
        "08-db-from-backend", "    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: "
        "backend\n      podSelector:", "    - podSelector:"))
    assert "a podSelector alone looks only in the policy's own namespace" in mistakes(result)
    assert "backend's role=backend pods reach postgres on 5432" in failed(result)


def test_unknown_port_name_is_named():
    """Is a port name the postgres pod does not declare (postgresql) named?"""
    result = check("08-db-from-backend", variant("08-db-from-backend", "port: 5432", "port: postgresql"))
    assert "a port name no selected pod has" in mistakes(result)
    assert not result


def test_rule_without_ports_opens_every_port():
    """Does leaving out `ports` fail the "other ports" check only?"""
    result = check("08-db-from-backend", variant("08-db-from-backend",
                                                 "    ports:\n    - protocol: TCP\n      port: 5432\n", ""))
    assert failed(result) == ["backend pods cannot reach postgres on other ports (9100)"]


# ---------------------------------------------------------------- 08-frontend-egress
DNS_RULE = ("  - to:\n    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: kube-system\n"
            "      podSelector:\n        matchLabels:\n          k8s-app: kube-dns\n    ports:\n"
            "    - protocol: UDP\n      port: 53\n    - protocol: TCP\n      port: 53\n")


def test_default_deny_egress_that_forgets_dns_is_named():
    """Without the DNS rule, do both DNS checks fail, does reaching api by name fail with them (the lookup is
    blocked), and does the mistake get its name?"""
    result = check("08-frontend-egress", variant("08-frontend-egress", DNS_RULE, ""))
    assert failed(result) == ["frontend/web reaches the CoreDNS pods on UDP 53",
                              "frontend/web reaches the CoreDNS pods on TCP 53",
                              "frontend/web reaches api through its Service name (api.backend:8080)"]
    assert "default-deny egress that forgets DNS" in mistakes(result)


def test_dns_over_udp_only_is_named():
    """Is a DNS rule with UDP 53 only named as DNS over TCP forgotten?"""
    result = check("08-frontend-egress", variant("08-frontend-egress", "    - protocol: TCP\n      port: 53\n", ""))
    assert failed(result) == ["frontend/web reaches the CoreDNS pods on TCP 53"]
    assert mistakes(result) == ["DNS over TCP forgotten"]


def test_dns_peer_without_namespace_selector_is_named():
    """Does a kube-dns podSelector without namespaceSelector (looking in frontend) break DNS and get named?"""
    result = check("08-frontend-egress", variant(
        "08-frontend-egress", "    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: "
        "kube-system\n      podSelector:", "    - podSelector:"))
    assert "a podSelector alone looks only in the policy's own namespace" in mistakes(result)
    assert "default-deny egress that forgets DNS" in mistakes(result)


def test_egress_or_where_and_was_meant_is_named():
    """Do two peers for the API rule let web reach backend/worker, with the mistake named?"""
    result = check("08-frontend-egress", variant("08-frontend-egress", AND_PEER,
                                                 "          kubernetes.io/metadata.name: backend\n    - podSelector:"))
    # the namespace-only peer also lets web reach backend's other pods (the unlabelled probe among them)
    assert failed(result) == ["frontend/web cannot reach backend/worker",
                              "frontend/web reaches nothing else (api's 9100, db, the outside)"]
    assert "OR written where AND was meant" in mistakes(result)


def test_dns_to_every_destination_is_named():
    """Is port 53 without a `to` (DNS to any address) named and counted as too open?"""
    anywhere = "  - ports:\n    - protocol: UDP\n      port: 53\n    - protocol: TCP\n      port: 53\n"
    result = check("08-frontend-egress", variant("08-frontend-egress", DNS_RULE, anywhere))
    assert failed(result) == ["look-alike api and DNS pods of other namespaces are not reachable",
                              "frontend/web reaches nothing else (api's 9100, db, the outside)"]
    assert "DNS allowed to every destination" in mistakes(result)


def test_egress_rules_ignored_without_egress_policy_type_are_named():
    """Does policyTypes [Ingress] with egress rules fail (frontend isolated for ingress) and get named?"""
    result = check("08-frontend-egress", variant("08-frontend-egress", "  - Egress\n", "  - Ingress\n"))
    assert "rules ignored because policyTypes leaves out their direction" in mistakes(result)
    assert "connections into frontend are unchanged" in failed(result)


# ---------------------------------------------------------------- 08-monitoring-ipblock
def test_except_as_a_separate_peer_is_named():
    """Does an extra ipBlock peer for 192.0.2.66 (instead of except) let it in, with the mistake named?"""
    answer = variant("08-monitoring-ipblock", "        except:\n        - 192.0.2.66/32\n",
                     "    - ipBlock:\n        cidr: 192.0.2.66/32\n")
    result = check("08-monitoring-ipblock", answer)
    assert failed(result) == ["192.0.2.66 (excluded) cannot reach 9100"]
    assert "except written as a separate peer" in mistakes(result)


def test_forgetting_8080_is_named():
    """Without the 8080 rule, is 8080 closed and the mistake named?"""
    result = check("08-monitoring-ipblock", variant("08-monitoring-ipblock",
                                                    "  - ports:\n    - protocol: TCP\n      port: 8080\n", ""))
    assert failed(result) == ["backend's 8080 stays open to pods and outside addresses"]
    assert "8080 forgotten" in mistakes(result)


def test_from_and_ports_in_separate_rules_is_named():
    """Do `from` and `ports: 9100` in two rules (ORed) open 9100 to everyone, with the mistake named?"""
    result = check("08-monitoring-ipblock", variant("08-monitoring-ipblock",
                                                    "    ports:\n    - protocol: TCP\n      port: 9100\n",
                                                    "  - ports:\n    - protocol: TCP\n      port: 9100\n"))
    assert "addresses outside the range and the cluster's pods cannot reach 9100" in failed(result)
    assert "from and ports in separate rules (OR where AND was meant)" in mistakes(result)


def test_ipblock_covering_pod_ips_is_named():
    """Is 0.0.0.0/0 (which covers the pods' IPs) named, and the pods let in on 9100?"""
    answer = variant("08-monitoring-ipblock", "cidr: 192.0.2.0/24", "cidr: 0.0.0.0/0").replace(
        "        - 192.0.2.66/32\n", "        - 192.0.2.66/32\n        - 198.51.100.0/24\n")
    result = check("08-monitoring-ipblock", answer)
    assert "ipBlock covering pod IPs" in mistakes(result)
    assert "addresses outside the range and the cluster's pods cannot reach 9100" in failed(result)


def test_except_without_prefix_length_is_rejected_with_the_field():
    """Is `except: [192.0.2.66]` (no /32) rejected by validation, naming the field?"""
    result = check("08-monitoring-ipblock", variant("08-monitoring-ipblock", "192.0.2.66/32", "192.0.2.66"))
    assert (result.checks[0].name, result.checks[0].tag) == ("your policies apply", "FAIL")
    assert result.passed == 0 and result.total == check("08-monitoring-ipblock", MONITORING).total
    assert "ipBlock.except[0]" in result.checks[0].hint


# ---------------------------------------------------------------- 08-db-clients
def test_and_where_or_was_meant_is_named():
    """Does one peer with both selectors (AND) let nobody in, with the mistake named?"""
    result = check("08-db-clients", variant("08-db-clients", "    - podSelector:\n        matchLabels:\n          app: backup",
                                            "      podSelector:\n        matchLabels:\n          app: backup"))
    assert failed(result) == ["every pod of backend reaches postgres on 5432", "db/backup reaches postgres on 5432"]
    assert "AND written where OR was meant" in mistakes(result)


def test_only_the_backend_namespace_fails_the_backup_check():
    """Without the backup peer, does only the backup check fail (and no AND/OR mistake get named)?"""
    result = check("08-db-clients", variant("08-db-clients",
                                            "    - podSelector:\n        matchLabels:\n          app: backup\n", ""))
    assert failed(result) == ["db/backup reaches postgres on 5432"]
    assert "AND written where OR was meant" not in mistakes(result)


def test_dns_to_every_kube_system_pod_is_too_wide():
    """Does allowing port 53 to every pod of kube-system (not only the kube-dns pods) fail, because the private
    zone's DNS server there becomes reachable too?"""
    wide = REFERENCE["08-frontend-egress"].replace("        matchLabels:\n          k8s-app: kube-dns\n", "        {}\n")
    assert wide != REFERENCE["08-frontend-egress"]
    result = check("08-frontend-egress", wide)
    assert failed(result) == ["frontend/web reaches nothing else (api's 9100, db, the outside)"]
    assert "kube-system/corp-dns" in next(c.hint for c in result.checks if not c.ok and c.scored)


# ---------------------------------------------------------------- issue 13: wrong answers that used to pass
EIGHT_WRONG = {
    "target podSelector {} isolates db's other pods (from-backend)": (
        "08-db-from-backend", "  podSelector:\n    matchLabels:\n      app: postgres\n  policyTypes",
        "  podSelector: {}\n  policyTypes"),
    "target podSelector {} isolates db's other pods (clients)": (
        "08-db-clients", "  podSelector:\n    matchLabels:\n      app: postgres\n  policyTypes",
        "  podSelector: {}\n  policyTypes"),
    "namespaceSelector {} admits role=backend pods of every namespace": (
        "08-db-from-backend", "    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: backend\n",
        "    - namespaceSelector: {}\n"),
    "namespaceSelector {} lets frontend reach app=api pods of every namespace": (
        "08-frontend-egress", "    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: backend\n",
        "    - namespaceSelector: {}\n"),
    "ipBlock narrowed to a /26": ("08-monitoring-ipblock", "cidr: 192.0.2.0/24\n        except:\n        - 192.0.2.66/32",
                                  "cidr: 192.0.2.0/26"),
    "ipBlock narrowed to a /32": ("08-monitoring-ipblock", "cidr: 192.0.2.0/24\n        except:\n        - 192.0.2.66/32",
                                  "cidr: 192.0.2.10/32"),
    "a policy selecting only some of backend's pods": (
        "08-monitoring-ipblock", "  podSelector: {}", "  podSelector:\n    matchLabels:\n      role: backend"),
    "matchExpressions Exists where every pod of db must be isolated": (
        "08-db-default-deny", "  podSelector: {}",
        "  podSelector:\n    matchExpressions:\n    - {key: app, operator: Exists}"),
}


@pytest.mark.parametrize("case", sorted(EIGHT_WRONG))
def test_the_eight_wrong_policies_of_issue_13_fail(case):
    """Does each over-broad selector or narrowed range fail at least one scored sub-check (they all used to pass)?"""
    exercise_id, old, new = EIGHT_WRONG[case]
    result = check(exercise_id, variant(exercise_id, old, new))
    assert result.checks[0].tag == "OK", str(result)  # it applies: the failure is about behaviour
    assert failed(result) and result.score < 1, str(result)


RIGHT_BUT_DIFFERENT = {
    "default deny as matchExpressions DoesNotExist on a label no pod has": (
        "08-db-default-deny", "  podSelector: {}",
        "  podSelector:\n    matchExpressions:\n    - {key: never-set, operator: DoesNotExist}"),
    "from-backend with matchExpressions In and a named port": (
        "08-db-from-backend", "      podSelector:\n        matchLabels:\n          role: backend\n    ports:\n"
        "    - protocol: TCP\n      port: 5432",
        "      podSelector:\n        matchExpressions:\n        - {key: role, operator: In, values: [backend]}\n"
        "    ports:\n    - protocol: TCP\n      port: postgres"),
    "monitoring with the range written as two /25 blocks": (
        "08-monitoring-ipblock", "    - ipBlock:\n        cidr: 192.0.2.0/24\n        except:\n        - 192.0.2.66/32\n",
        "    - ipBlock:\n        cidr: 192.0.2.0/25\n        except:\n        - 192.0.2.66/32\n"
        "    - ipBlock:\n        cidr: 192.0.2.128/25\n"),
    "db-clients with the peers in the other order": (
        "08-db-clients", "    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: backend\n"
        "    - podSelector:\n        matchLabels:\n          app: backup\n",
        "    - podSelector:\n        matchLabels:\n          app: backup\n"
        "    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: backend\n"),
}


@pytest.mark.parametrize("case", sorted(RIGHT_BUT_DIFFERENT))
def test_right_answers_written_differently_pass(case):
    """Does an answer that behaves like the reference pass every sub-check, with no mistake named?"""
    exercise_id, old, new = RIGHT_BUT_DIFFERENT[case]
    result = check(exercise_id, variant(exercise_id, old, new))
    assert bool(result) and not mistakes(result), str(result)


def test_hints_name_only_mistakes_the_answer_makes():
    """An answer with one peer gets no OR hint; one without Ingress is not told to drop Ingress; DNS allowed to the
    Service range is named as such, not as forgotten DNS."""
    one_peer = check("08-db-from-backend", variant("08-db-from-backend", AND_PEER, "          role: backend\n      podSelector:"))
    assert "OR written where AND was meant" not in mistakes(one_peer)
    no_ingress = check("08-frontend-egress", variant("08-frontend-egress", "  - Egress\n", "  - Egress\n  ingress: []\n"))
    assert "leave Ingress out" not in str(no_ingress)
    by_address = check("08-frontend-egress", variant("08-frontend-egress", DNS_RULE,
                                                     "  - to:\n    - ipBlock:\n        cidr: 10.96.0.0/12\n    ports:\n"
                                                     "    - protocol: UDP\n      port: 53\n"))
    assert "default-deny egress that forgets DNS" not in mistakes(by_address)
    assert "DNS allowed to the Service's address" in mistakes(by_address)


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_the_denominator_is_the_same_for_every_answer(exercise_id):
    """Do the reference, an empty answer, bad YAML and a wrong policy all have the same number of scored sub-checks?"""
    totals = {check(exercise_id, a).total for a in (REFERENCE[exercise_id], "", "kind: [oops", DB_DENY, MONITORING)}
    assert len(totals) == 1
