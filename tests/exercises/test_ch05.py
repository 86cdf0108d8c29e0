"""Lesson 05 exercises: the reference answers pass, the classic mistakes are named, wrong answers fail."""
from __future__ import annotations

import math

from kubelab.course.exercises import check

from .helpers import blocked, failed, hint_of, mistakes, not_reached


def slices_needed(endpoints, max_per_slice):
    return max(1, math.ceil(endpoints / max_per_slice))


EXTERNAL = """
apiVersion: v1
kind: Service
metadata:
  name: pg
spec:
  ports:
  - name: postgres
    port: 5432
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: pg-outside
  labels:
    kubernetes.io/service-name: pg
addressType: IPv4
ports:
- name: postgres
  port: 5432
  protocol: TCP
endpoints:
- addresses: ["192.0.2.50"]
"""


def serving_but_terminating(slices):
    found = []
    for s in slices:
        for e in s.get("endpoints") or []:
            conditions = e.get("conditions") or {}
            if conditions.get("serving") is not False and conditions.get("terminating") is True:
                found += e["addresses"]
    return sorted(found)


def test_reference_answers_pass_every_sub_check():
    """Do the three reference answers pass every sub-check, with no mistake named?"""
    for exercise_id, answer in (("05-slice-count", slices_needed), ("05-external-slice", EXTERNAL),
                                ("05-serving-terminating", serving_but_terminating)):
        result = check(exercise_id, answer)
        assert bool(result) and result.total >= 5 and not mistakes(result), str(result)


def test_rounding_down_is_named():
    """Is n // m named as rounding down, with the partial slices' cases failed?"""
    result = check("05-slice-count", lambda n, m: n // m)
    assert {"rounding down", "no slice for a Service without endpoints"} <= set(mistakes(result))
    assert "250 endpoints, at most 100 per slice" in failed(result)
    assert "you say 2" in _hint(result, "250 endpoints, at most 100 per slice")


def test_off_by_one_is_named():
    """Is n // m + 1 named as one slice too many when the count divides evenly?"""
    result = check("05-slice-count", lambda n, m: n // m + 1)
    assert mistakes(result) == ["one slice too many when the count divides evenly"]
    assert "100 endpoints, at most 100 per slice" in failed(result)
    assert "you say 2" in _hint(result, "100 endpoints, at most 100 per slice")


def test_forgetting_the_placeholder_slice_is_named():
    """Is ceil(n / m), which gives 0 for a Service without endpoints, named for the missing empty slice?"""
    result = check("05-slice-count", lambda n, m: math.ceil(n / m))
    assert mistakes(result) == ["no slice for a Service without endpoints"]
    assert failed(result) == ["0 endpoints, at most 100 per slice"]
    assert "you say 0" in _hint(result, "0 endpoints, at most 100 per slice")


def test_not_a_function_and_a_raising_function_fail_cleanly():
    """Do a number instead of a function, and a function that raises, fail without a traceback?"""
    assert blocked(check("05-slice-count", 3)) == ["your answer is an int"]
    result = check("05-slice-count", lambda n, m: n / 0)
    assert not result and "ZeroDivisionError" in _hint(result, failed(result)[0])


def test_missing_service_name_label_is_named():
    """Is a slice without the kubernetes.io/service-name label named, and the connection check failed?"""
    result = check("05-external-slice", EXTERNAL.replace("    kubernetes.io/service-name: pg\n", "    app: pg\n"))
    assert "slice not linked to its Service" in mistakes(result)
    assert {"an EndpointSlice is linked to Service pg",
            "pod client reaches pg:5432 and lands on 192.0.2.50:5432"} <= set(failed(result))


def test_wrong_port_name_is_named():
    """Is a slice port named differently from the Service port named, and the connection check failed?"""
    answer = EXTERNAL.replace("- name: postgres\n  port: 5432\n  protocol", "- name: pg\n  port: 5432\n  protocol")
    result = check("05-external-slice", answer)
    assert mistakes(result) == ["slice port name differs from the Service port name"]
    assert "pod client reaches pg:5432 and lands on 192.0.2.50:5432" in failed(result)


def test_reserved_manager_label_is_named():
    """Is the EndpointSlice controller's own managed-by value named, with the API server's rejection shown?"""
    answer = EXTERNAL.replace("    kubernetes.io/service-name: pg\n", "    kubernetes.io/service-name: pg\n"
                              "    endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io\n")
    result = check("05-external-slice", answer)
    assert mistakes(result) == ["the controller's managed-by label"]
    assert blocked(result) == ["your manifests apply"] and result.passed == 0


def test_service_with_a_selector_is_named():
    """Is a Service with a selector (whose slices the controller would own) named and failed?"""
    result = check("05-external-slice", EXTERNAL.replace("spec:\n", "spec:\n  selector: {app: pg}\n"))
    assert "the Service has a selector" in mistakes(result)
    assert failed(result) == ["Service pg has no selector"]


def test_legacy_endpoints_kind_and_bad_yaml_fail_cleanly():
    """Is the legacy Endpoints kind named (it is served, deprecated, and needs a Service), and does
    unparsable YAML fail as one sub-check quoting the error?"""
    result = check("05-external-slice", "apiVersion: v1\nkind: Endpoints\nmetadata: {name: pg}\nsubsets: []\n")
    assert mistakes(result) == ["the legacy Endpoints kind"]
    assert failed(result)[0] == "Service pg exists in namespace default" and not_reached(result) == failed(result)[1:]
    result = check("05-external-slice", "kind: [")
    assert blocked(result) == ["your manifests apply"] and result.passed == 0 and "not valid YAML" in hint_of(result, "your manifests apply")


def test_headless_service_skips_the_cluster_ip():
    """Does a headless pg (DNS straight to 192.0.2.50, no kube-proxy) fail the through-the-ClusterIP check?"""
    result = check("05-external-slice", EXTERNAL.replace("spec:\n", "spec:\n  clusterIP: None\n"))
    assert "the client went through the ClusterIP (kube-proxy translated it)" in failed(result)


def test_terminating_alone_is_named():
    """Is `terminating` without `serving` named, and the no-longer-serving pod's check failed?"""
    result = check("05-serving-terminating", lambda slices: sorted(
        e["addresses"][0] for s in slices for e in s["endpoints"] if e.get("conditions", {}).get("terminating")))
    assert mistakes(result) == ["terminating without serving"]
    assert failed(result) == ["it leaves out the terminating pod that no longer serves"]


def test_not_ready_is_not_terminating():
    """Is `not ready` taken for terminating named, and the starting pod's check failed?"""
    result = check("05-serving-terminating", lambda slices: sorted(
        e["addresses"][0] for s in slices for e in s["endpoints"] if not e["conditions"]["ready"]))
    assert "not ready taken for terminating" in mistakes(result)
    assert "it leaves out the pod that is not ready yet" in failed(result)


def test_reading_only_the_first_slice_is_named():
    """Is an answer that reads only the first slice named, and the draining pod's check failed?"""
    result = check("05-serving-terminating", lambda slices: serving_but_terminating(slices[:1]))
    assert mistakes(result) == ["only the first slice is read"]
    assert failed(result) == ["it finds the pod that is terminating but still serving"]


def test_unset_serving_condition_counts_as_serving():
    """Does an answer that reads an unset serving condition as false fail the hand-written slice check?"""
    def strict(slices):
        return sorted(e["addresses"][0] for s in slices for e in s["endpoints"]
                      if (e.get("conditions") or {}).get("serving") and (e.get("conditions") or {}).get("terminating"))
    result = check("05-serving-terminating", strict)
    assert failed(result) == ["on a hand-written slice, an unset serving condition counts as serving"]


def test_unsorted_or_raising_answers_fail():
    """Do an unsorted set and a raising function fail with the right sub-check?"""
    result = check("05-serving-terminating", lambda slices: set(serving_but_terminating(slices)))
    assert failed(result) == ["it returns a sorted list of IP strings"]
    result = check("05-serving-terminating", lambda slices: slices[99])
    assert not result and blocked(result) == ["your function runs on the slices of Service web"]
    assert "IndexError" in hint_of(result, "your function runs on the slices of Service web") and result.total == 6


def test_the_released_stub_fails_without_naming_mistakes():
    """Does the exercise's stub (a slice with a name and nothing else) fail cleanly, with no mistake named?"""
    stub = EXTERNAL.split("  name: pg-outside\n")[0] + "  name: pg-outside\n# YOUR CODE HERE\n"
    result = check("05-external-slice", stub)
    assert not mistakes(result)
    assert blocked(result) == ["your manifests apply"] and result.passed == 0 and "addressType" in hint_of(result, "your manifests apply")


def _hint(result, name: str) -> str:
    """The hint printed for a failed sub-check (where the learner's own answer is echoed)."""
    return next(c.hint for c in result.checks if c.name == name)
