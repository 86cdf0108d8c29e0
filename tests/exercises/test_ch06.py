"""Lesson 06 exercises: the reference answers pass, the classic mistakes are named, wrong answers fail."""
from __future__ import annotations

import pytest
import yaml

from kubelab.course.exercises import check
from kubelab.net.dns import DEFAULT_COREFILE

from .helpers import blocked, failed, hint_of, mistakes

DB_POD = """
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector:
    app: db
  ports:
  - name: postgres
    port: 5432
---
apiVersion: v1
kind: Pod
metadata:
  name: db-0
  labels:
    app: db
spec:
  hostname: db-0
  subdomain: db
  containers:
  - name: postgres
    image: postgres
    ports:
    - containerPort: 5432
"""

DB_STATEFULSET = """
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: postgres, image: postgres, ports: [{containerPort: 5432}]}]
"""

CRAWLER = """
apiVersion: v1
kind: Pod
metadata:
  name: crawler
spec:
  dnsConfig:
    options:
    - name: ndots
      value: "1"
  containers:
  - name: crawler
    image: busybox
"""

CRAWLER_NONE = """
apiVersion: v1
kind: Pod
metadata: {name: crawler}
spec:
  dnsPolicy: "None"
  dnsConfig:
    nameservers: [10.96.0.10]
    searches: [default.svc.cluster.local, svc.cluster.local, cluster.local]
    options: [{name: ndots, value: "2"}]
  containers: [{name: crawler, image: busybox}]
"""


def coredns(pods_mode: str, corefile: str = DEFAULT_COREFILE, name: str = "coredns",
            namespace: str = "kube-system") -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": name, "namespace": namespace},
                           "data": {"Corefile": corefile.replace("pods insecure", f"pods {pods_mode}")}})


REFERENCE = {
    "06-db-pod-name": DB_POD,
    "06-cross-namespace": "cart.billing.svc.cluster.local",
    "06-one-query": CRAWLER,
    "06-pods-verified": coredns("verified"),
}


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_reference_answer_passes_every_sub_check(exercise_id):
    """Does the reference answer pass every sub-check, with no mistake named?"""
    result = check(exercise_id, REFERENCE[exercise_id])
    assert bool(result), str(result)
    assert result.total >= 1 and not mistakes(result)


@pytest.mark.parametrize("exercise_id, answer", [
    ("06-db-pod-name", DB_STATEFULSET),
    ("06-cross-namespace", "cart.billing.svc.cluster.local."),
    ("06-one-query", CRAWLER_NONE),
])
def test_other_right_answers_pass(exercise_id, answer):
    """Is a different but correct answer (a StatefulSet, a trailing dot, dnsPolicy None) accepted too?"""
    result = check(exercise_id, answer)
    assert bool(result), str(result)


# ---------------------------------------------------------------- 06-db-pod-name
def test_subdomain_not_matching_the_service_is_named():
    """Is a pod whose subdomain differs from the headless Service's name recognised?"""
    result = check("06-db-pod-name", DB_POD.replace("subdomain: db", "subdomain: database"))
    assert "subdomain does not match the Service's name" in mistakes(result)
    assert "db-0.db.default.svc.cluster.local resolves from pod client" in failed(result)


def test_statefulset_with_another_service_name_is_named():
    """Is a StatefulSet whose serviceName is not db recognised as the same mistake?"""
    result = check("06-db-pod-name", DB_STATEFULSET.replace("serviceName: db", "serviceName: postgres"))
    assert "subdomain does not match the Service's name" in mistakes(result)
    assert not result


def test_service_with_a_cluster_ip_is_named():
    """Is a Service that is not headless recognised, and does db then fail to list the pods?"""
    result = check("06-db-pod-name", DB_POD.replace("  clusterIP: None\n", ""))
    assert "the Service is not headless" in mistakes(result)
    assert "db from pod client answers with the pods themselves (headless)" in failed(result)


def test_pod_named_db_0_without_hostname_is_named():
    """Is relying on the pod's name (no spec.hostname) recognised?"""
    result = check("06-db-pod-name", DB_POD.replace("  hostname: db-0\n", ""))
    assert "pod without spec.hostname" in mistakes(result)
    assert not result


def test_pod_that_does_not_listen_on_5432_fails_the_connection():
    """Does a postgres started on 5433 (whatever its containerPort says) resolve but fail the connection?"""
    result = check("06-db-pod-name", DB_POD.replace("    image: postgres\n", "    image: postgres\n    args: [-p, '5433']\n"))
    assert failed(result) == ["pod client connects to db-0.db on 5432 and lands on that pod"]


def test_declared_port_does_not_decide_where_postgres_listens():
    """Does postgres declaring containerPort 5433 still answer on 5432 (Kubernetes does not enforce containerPort)?"""
    result = check("06-db-pod-name", DB_POD.replace("containerPort: 5432", "containerPort: 5433"))
    assert "pod client connects to db-0.db on 5432 and lands on that pod" not in failed(result)


def test_bad_yaml_fails_cleanly():
    """Does YAML that does not parse give one failed sub-check naming the error, not a traceback?"""
    result = check("06-db-pod-name", "kind: Pod\n  metadata: [")
    assert not result
    assert blocked(result) == ["your manifests apply"] and "YAML" in hint_of(result, "your manifests apply")


# ---------------------------------------------------------------- 06-cross-namespace
def test_short_name_finds_the_wrong_cart():
    """Is the bare Service name recognised as finding the shop namespace's own cart?"""
    result = check("06-cross-namespace", "cart")
    assert "the short name finds the cart Service of namespace shop" in mistakes(result)
    assert "from shop/frontend it resolves to the ClusterIP of billing/cart" in failed(result)


@pytest.mark.parametrize("name", ["cart.billing", "cart.billing.svc"])
def test_short_forms_rely_on_the_search_list(name):
    """Do cart.billing and cart.billing.svc work from shop but fail the fully-qualified sub-check?"""
    result = check("06-cross-namespace", name)
    assert failed(result) == ["it is fully qualified: it resolves from a pod whose resolv.conf has no search list"]
    assert "a short form that relies on the search list" in mistakes(result)


def test_pod_domain_is_named():
    """Is a name under pod.cluster.local recognised as a pod name, not a Service name?"""
    result = check("06-cross-namespace", "cart.billing.pod.cluster.local")
    assert "a pod name instead of a Service name" in mistakes(result)
    assert not result


@pytest.mark.parametrize("answer", [None, "", 42])
def test_not_a_name_fails_cleanly(answer):
    """Does an answer that is not a string fail its first sub-check without a traceback?"""
    result = check("06-cross-namespace", answer)
    first = result.checks[0]
    assert first.tag == "FAIL" and result.passed == 0
    assert first.name in ("the answer is a DNS name (a string)", f"your answer is {'None' if answer is None else 'an int'}")


# ---------------------------------------------------------------- 06-one-query
def test_default_policy_loses_cluster_names():
    """Is dnsPolicy Default recognised: one query outside, but web no longer resolves?"""
    answer = CRAWLER.replace("spec:\n", "spec:\n  dnsPolicy: Default\n")
    result = check("06-one-query", answer)
    assert "dnsPolicy Default" in mistakes(result)
    assert failed(result) == ["...and crawler still finds the Service web by its short name",
                              "...and a Service of another namespace as <name>.<namespace>"]


def test_unquoted_option_value_is_named():
    """Is an ndots value written as a number recognised (the API server rejects it)?"""
    result = check("06-one-query", CRAWLER.replace('"1"', "1"))
    assert "an option value that is not a string" in mistakes(result)
    assert blocked(result) == ["your manifests apply"] and result.passed == 0


def test_none_policy_without_nameservers_is_named():
    """Is dnsPolicy None without a nameserver recognised?"""
    answer = CRAWLER.replace("spec:\n", 'spec:\n  dnsPolicy: "None"\n')
    result = check("06-one-query", answer)
    assert "dnsPolicy None without nameservers" in mistakes(result)
    assert not result


def test_default_ndots_costs_five_queries():
    """Does a plain pod (ndots:5) fail the single-query sub-check?"""
    plain = "apiVersion: v1\nkind: Pod\nmetadata: {name: crawler}\nspec:\n  containers: [{name: c, image: busybox}]\n"
    result = check("06-one-query", plain)
    assert failed(result) == ["...with a single DNS query", "...and crawler still finds the Service web by its short name",
                              "...and a Service of another namespace as <name>.<namespace>"]


def test_ndots_3_is_still_too_many():
    """Is ndots:3 (www.example.com has only 2 dots) still more than one query?"""
    result = check("06-one-query", CRAWLER.replace('"1"', '"3"'))
    assert failed(result) == ["...with a single DNS query", "...and crawler still finds the Service web by its short name",
                              "...and a Service of another namespace as <name>.<namespace>"]


# ---------------------------------------------------------------- 06-pods-verified
def test_pods_disabled_is_named():
    """Is `pods disabled` recognised: real pods lose their names too?"""
    result = check("06-pods-verified", coredns("disabled"))
    assert "pods disabled" in mistakes(result)
    assert failed(result) == ["the name of pod client's IP in its own namespace answers with that IP",
                              "the same IP under namespace kube-system is NXDOMAIN (while the real name answers)",
                              "an IP that no pod has is NXDOMAIN (while the real name answers)",
                              "Service and outside names still resolve (while pod names are verified)"]


def test_insecure_answers_for_any_ip():
    """Does the unchanged kubeadm Corefile fail the sub-checks about foreign and unknown IPs?"""
    result = check("06-pods-verified", coredns("insecure"))
    assert failed(result) == ["the same IP under namespace kube-system is NXDOMAIN (while the real name answers)",
                              "an IP that no pod has is NXDOMAIN (while the real name answers)",
                              "Service and outside names still resolve (while pod names are verified)"]


def test_wrong_configmap_is_named():
    """Is a ConfigMap that CoreDNS does not read recognised?"""
    result = check("06-pods-verified", coredns("verified", namespace="default"))
    assert "not the ConfigMap CoreDNS reads" in mistakes(result)
    assert not result


def test_corefile_without_forward_loses_outside_names():
    """Does a Corefile without the forward plugin fail the outside-names sub-check?"""
    corefile = DEFAULT_COREFILE.split("    prometheus")[0] + "}\n"
    result = check("06-pods-verified", coredns("verified", corefile=corefile))
    assert failed(result) == ["Service and outside names still resolve (while pod names are verified)"]
    assert "forward" in hint_of(result, "Service and outside names still resolve (while pod names are verified)")


def test_unknown_pods_mode_fails_with_the_corefile_line():
    """Does a Corefile CoreDNS refuses to load fail the CoreDNS sub-check, quoting its log line?"""
    result = check("06-pods-verified", coredns("secure"))
    assert blocked(result) == ["CoreDNS loads your Corefile"] and result.passed == 0 and result.total == 4
    assert "Corefile:" in hint_of(result, "CoreDNS loads your Corefile") and "pods" in hint_of(result, "CoreDNS loads your Corefile")


@pytest.mark.parametrize("exercise_id", ["06-db-pod-name", "06-one-query", "06-pods-verified"])
def test_empty_answer_fails_the_apply_sub_check(exercise_id):
    """Does an answer with no object yet (the exercise's stub) fail instead of passing 'apply'?"""
    result = check(exercise_id, "\n# YOUR CODE HERE\n")
    assert blocked(result) == ["your manifests apply"] and not result and result.passed == 0


def test_corefile_without_pods_line_is_named():
    """Is a kubernetes block with no pods line recognised (CoreDNS then disables pod names)?"""
    corefile = DEFAULT_COREFILE.replace("       pods insecure\n", "")
    result = check("06-pods-verified", coredns("verified", corefile=corefile))
    assert "no pods line" in mistakes(result)
    assert "the name of pod client's IP in its own namespace answers with that IP" in failed(result)
