"""Lesson 07 exercises: the reference answers pass, the classic mistakes are named, wrong answers fail."""
from __future__ import annotations

import pytest

from kubelab.course.exercises import check
from kubelab.course.exercises.ch07_hostaliases_and_dual_stack import hosts_table

from .helpers import blocked, failed, hint_of, mistakes, not_reached

HOSTALIASES = """
apiVersion: v1
kind: Pod
metadata:
  name: legacy-app
spec:
  hostAliases:
  - ip: "127.0.0.1"
    hostnames:
    - "my-app.local"
  - ip: "10.0.0.50"
    hostnames:
    - "cache.local"
  containers:
  - name: app
    image: busybox
"""

DUAL_STACK_SERVICE = """
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ipFamilyPolicy: RequireDualStack
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
"""


def service_ipv6(lab, name, namespace="default"):
    """Reference answer: the clusterIPs entry of the IPv6 family, or None."""
    for ip in lab.get("Service", name, namespace)["spec"].get("clusterIPs") or []:
        if ":" in ip:
            return ip
    return None


def aaaa_answer(lab, name, namespace="default"):
    """Another right answer: ask cluster DNS for the AAAA record."""
    answer = lab.resolve(f"{name}.{namespace}.svc.cluster.local", "AAAA")
    return answer.addresses[0] if answer.addresses else None


REFERENCE = {"07-hostaliases": HOSTALIASES, "07-dual-stack-service": DUAL_STACK_SERVICE,
             "07-ipv6-address": service_ipv6}


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_reference_answer_passes_every_sub_check(exercise_id):
    """Does the reference answer pass every sub-check, with no mistake named?"""
    result = check(exercise_id, REFERENCE[exercise_id])
    assert bool(result), str(result)
    assert result.total >= 2 and not mistakes(result)


def test_hosts_table_reads_names_in_order():
    """Does the hosts parser list every name of a line and skip comments?"""
    text = "# comment\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost # trailing\n10.0.0.5 a b\n"
    assert hosts_table(text) == {"localhost": ["127.0.0.1", "::1"], "ip6-localhost": ["::1"],
                                 "a": ["10.0.0.5"], "b": ["10.0.0.5"]}


# ---------------------------------------------------------------- 07-hostaliases
def test_both_names_on_one_entry_fails_cache():
    """Does putting both names under 127.0.0.1 fail the cache.local sub-check?"""
    answer = HOSTALIASES.replace('  - ip: "10.0.0.50"\n    hostnames:\n    - "cache.local"\n',
                                 '    - "cache.local"\n')
    result = check("07-hostaliases", answer)
    assert failed(result) == ["/etc/hosts maps cache.local to 10.0.0.50",
                              "the kubelet's own lines are still there (the pod's name and IP)"]


def test_swapped_ips_are_named():
    """Are the two IPs given the wrong way round recognised?"""
    answer = HOSTALIASES.replace('"127.0.0.1"', '"X"').replace('"10.0.0.50"', '"127.0.0.1"').replace('"X"', '"10.0.0.50"')
    result = check("07-hostaliases", answer)
    assert "the IPs are swapped" in mistakes(result)
    assert not result


def test_name_listed_twice_fails():
    """Does a name listed under two IPs fail the one-address sub-check?"""
    answer = HOSTALIASES.replace('    - "cache.local"\n', '    - "cache.local"\n  - ip: "10.0.0.51"\n'
                                                           '    hostnames: ["cache.local"]\n')
    result = check("07-hostaliases", answer)
    assert failed(result) == ["each name has exactly one address"]


def test_invalid_ip_fails_with_the_field_named():
    """Does an invalid IP fail the apply sub-check with the field path in the hint?"""
    result = check("07-hostaliases", HOSTALIASES.replace('"10.0.0.50"', '"10.0.0.500"'))
    assert blocked(result) == ["your manifests apply"] and result.passed == 0
    assert "spec.hostAliases[1].ip" in hint_of(result, "your manifests apply")


def test_hostnames_as_a_string_fails_cleanly():
    """Does a single string where the hostnames list belongs fail the apply sub-check, not raise?"""
    result = check("07-hostaliases", HOSTALIASES.replace('hostnames:\n    - "my-app.local"', 'hostnames: "my-app.local"'))
    assert blocked(result) == ["your manifests apply"] and result.passed == 0


def test_a_url_as_hostname_is_named():
    """Is a hostname written as a URL recognised (and rejected by the API server)?"""
    result = check("07-hostaliases", HOSTALIASES.replace('"cache.local"', '"http://cache.local"'))
    assert "a name with a scheme or port" in mistakes(result)
    assert not result


def test_wrong_pod_name_fails():
    """Does a pod with another name fail with a hint to name it legacy-app?"""
    result = check("07-hostaliases", HOSTALIASES.replace("name: legacy-app", "name: legacy"))
    assert blocked(result) == ["pod legacy-app exists in namespace default"] and result.passed == 0


def test_bad_yaml_fails_cleanly():
    """Does YAML that does not parse give one failed sub-check naming the error?"""
    result = check("07-hostaliases", "kind: Pod\n metadata: {")
    assert blocked(result) == ["your manifests apply"] and result.passed == 0 and "YAML" in hint_of(result, "your manifests apply")


# ---------------------------------------------------------------- 07-dual-stack-service
def test_prefer_dual_stack_works_here_but_is_named():
    """Is PreferDualStack reachable over both families yet named, failing only the single-stack sub-check?"""
    result = check("07-dual-stack-service", DUAL_STACK_SERVICE.replace("RequireDualStack", "PreferDualStack"))
    assert "PreferDualStack" in mistakes(result)
    assert failed(result) == ["on a single-stack cluster the Service is refused rather than created with one family"]


def test_two_families_without_policy_is_named():
    """Are two ipFamilies without a policy recognised (the API server rejects them)?"""
    answer = DUAL_STACK_SERVICE.replace("ipFamilyPolicy: RequireDualStack", "ipFamilies: [IPv4, IPv6]")
    result = check("07-dual-stack-service", answer)
    assert "two ipFamilies without an ipFamilyPolicy" in mistakes(result)
    assert blocked(result) == ["your manifests apply"] and result.passed == 0


def test_single_stack_service_fails_the_ipv6_sub_checks():
    """Does a plain Service (SingleStack IPv4) fail every IPv6 sub-check?"""
    result = check("07-dual-stack-service", DUAL_STACK_SERVICE.replace("  ipFamilyPolicy: RequireDualStack\n", ""))
    assert "web has a ClusterIP of each family" in failed(result)
    assert "client resolves web (AAAA) to its IPv6 ClusterIP" in failed(result)
    assert "client resolves web (A) to its IPv4 ClusterIP" not in failed(result)


def test_ipv6_only_service_fails_ipv4():
    """Does an IPv6-only Service fail the IPv4 sub-checks?"""
    result = check("07-dual-stack-service", DUAL_STACK_SERVICE.replace("ipFamilyPolicy: RequireDualStack",
                                                                       "ipFamilies: [IPv6]"))
    assert "client connects to web over IPv4 on port 80 and lands on a web pod" in failed(result)


def test_wrong_target_port_is_named():
    """Is a targetPort the pods do not listen on recognised, with both connections failing?"""
    result = check("07-dual-stack-service", DUAL_STACK_SERVICE.replace("targetPort: 8080", "targetPort: 80"))
    assert "port vs targetPort" in mistakes(result)
    assert "client connects to web over IPv6 on port 80 and lands on a web pod" in failed(result)


# ---------------------------------------------------------------- 07-ipv6-address
def test_dns_based_answer_passes():
    """Is asking DNS for AAAA accepted as well as reading clusterIPs?"""
    assert bool(check("07-ipv6-address", aaaa_answer))


def test_primary_cluster_ip_is_named():
    """Is returning spec.clusterIP (the primary family's address) recognised?"""
    result = check("07-ipv6-address", lambda lab, name, namespace="default":
                   lab.get("Service", name, namespace)["spec"]["clusterIP"])
    assert "returns the primary clusterIP" in mistakes(result)
    assert not result


def test_second_entry_is_named_and_errors_are_reported():
    """Is clusterIPs[1] recognised, and its IndexError on single-stack Services reported as a hint?"""
    result = check("07-ipv6-address", lambda lab, name, namespace="default":
                   lab.get("Service", name, namespace)["spec"]["clusterIPs"][1])
    assert "assumes IPv6 is always the second entry" in mistakes(result)
    hints = {c.name: c.hint for c in result.checks}
    assert hints["an IPv4-only Service: None"].startswith("IndexError")


def test_ignoring_namespace_fails_the_shop_case():
    """Does a function that always looks in namespace default fail the shop sub-check?"""
    result = check("07-ipv6-address", lambda lab, name, namespace="default": service_ipv6(lab, name))
    assert failed(result) == ["a Service in namespace shop: its IPv6 ClusterIP",
                              "a Service of namespace shop named like one of default: its IPv6 ClusterIP"]


def test_not_a_function_fails_cleanly():
    """Does a value instead of a function fail the first sub-check only?"""
    result = check("07-ipv6-address", "fd00:10:96::1")
    assert blocked(result) == ["your answer is a str"] and result.total == 7 and result.passed == 0


def test_stub_function_is_reported_once():
    """Does the exercise's stub (raise NotImplementedError) give one clear error line, not one per case?"""
    def stub(lab, name, namespace="default"):
        raise NotImplementedError()
    result = check("07-ipv6-address", stub)
    assert [c.kind for c in result.checks][:2] == ["given", "blocked"] and len(blocked(result)) == 1
    assert "stub" in blocked(result)[0] and not_reached(result) == failed(result)


@pytest.mark.parametrize("exercise_id", ["07-hostaliases", "07-dual-stack-service"])
def test_empty_answer_fails_the_apply_sub_check(exercise_id):
    """Does an answer with no object yet fail instead of passing 'apply'?"""
    result = check(exercise_id, "\n# YOUR CODE HERE\n")
    assert blocked(result) == ["your manifests apply"] and not result and result.passed == 0
