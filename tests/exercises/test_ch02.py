"""Lesson 02's checks: pod MTU under encapsulation, an overlay that enforces policy, the outer header."""
import pytest

from kubelab.course.exercises import check

from .helpers import blocked, failed, hint_of, mistakes


@pytest.fixture
def grading(monkeypatch):
    """Hidden sub-checks count while grading."""
    monkeypatch.setenv("KUBELAB_GRADING", "1")


# ---------------------------------------------------------------- 02-pod-mtu
OVERHEAD = {None: 0, "IP-in-IP": 20, "VXLAN": 50}


def mtu(underlay, encapsulation):
    return underlay - OVERHEAD[encapsulation]


def test_mtu_reference_passes_hidden_checks_too(grading):
    """Does subtracting 20 (IP-in-IP) or 50 (VXLAN) from the underlay MTU pass every sub-check?"""
    result = check("02-pod-mtu", mtu)
    assert bool(result) and result.total == 9 and mistakes(result) == []


def test_mtu_ipip_charged_like_vxlan_is_named():
    """Is charging IP-in-IP the 50 bytes of VXLAN recognised?"""
    result = check("02-pod-mtu", lambda u, e: u - 50 if e else u)
    assert "IP-in-IP charged like VXLAN" in mistakes(result)
    assert "calico (ipip) on a 1500-byte underlay: pod MTU 1480" in failed(result)


def test_mtu_vxlan_without_inner_ethernet_is_named():
    """Is a VXLAN overhead of 36 bytes (forgetting the inner Ethernet header) recognised?"""
    result = check("02-pod-mtu", lambda u, e: u - {None: 0, "IP-in-IP": 20, "VXLAN": 36}[e])
    assert "VXLAN without the inner Ethernet header" in mistakes(result)
    assert not result


def test_mtu_constant_answers_are_named():
    """Are an answer that ignores the underlay and one that subtracts overhead with no tunnel both named?"""
    result = check("02-pod-mtu", lambda u, e: 1450)
    assert {"underlay MTU ignored", "overhead subtracted with no encapsulation"} <= set(mistakes(result))
    assert result.passed == 3  # the three VXLAN plugins on 1500 happen to match


def test_mtu_stub_fails_with_a_hint_not_a_traceback():
    """Does the released stub fail every sub-check with a hint saying it is still the stub?"""
    def stub(underlay, encapsulation):
        raise NotImplementedError()
    result = check("02-pod-mtu", stub)
    assert result.passed == 0 and result.total == 8
    assert all("still the stub" in c.hint for c in result.checks if c.scored)


# ---------------------------------------------------------------- 02-policy-overlay
@pytest.mark.parametrize("options", [dict(cni="calico", calico_mode="ipip"), dict(cni="calico", calico_mode="vxlan"),
                                     dict(cni="cilium"), dict(cni="weave")])
def test_policy_overlay_every_enforcing_overlay_passes(options):
    """Does every CNI that both tunnels and enforces NetworkPolicy pass?"""
    result = check("02-policy-overlay", options)
    assert bool(result) and result.total == 3 and mistakes(result) == []


def test_policy_overlay_flannel_is_named():
    """Is flannel recognised as an overlay that does not enforce policy (the deny check fails, and so does the
    allow check, which proves nothing where nothing was blocked)?"""
    result = check("02-policy-overlay", dict(cni="flannel"))
    assert failed(result) == ["a default-deny NetworkPolicy blocks client -> web",
                              "policies allowing client -> web let it through again"]
    assert mistakes(result) == ["flannel does not enforce NetworkPolicy"]


@pytest.mark.parametrize("options", [dict(cni="calico"), dict(cni="calico", calico_mode="bgp")])
def test_policy_overlay_calico_bgp_is_named(options):
    """Is Calico in BGP mode (explicit or by default) recognised as enforcing but not tunnelling?"""
    result = check("02-policy-overlay", options)
    assert failed(result) == ["between the nodes the packet travels inside an outer header node-1 -> node-2"]
    assert mistakes(result) == ["Calico's BGP mode routes without a tunnel"]


@pytest.mark.parametrize("answer", [{}, "calico", dict(cni="calico", nodes=1)])
def test_policy_overlay_wrong_shape_fails_cleanly(answer):
    """Does an empty dict (the stub), a string or an extra connect() option fail the first sub-check only?"""
    result = check("02-policy-overlay", answer)
    assert len(blocked(result)) == 1 and result.passed == 0 and result.total == 3


def test_policy_overlay_unknown_cni_names_the_error():
    """Does an unknown CNI fail with connect()'s own message instead of a traceback?"""
    result = check("02-policy-overlay", dict(cni="weavenet"))
    assert not result
    assert blocked(result) == ["connect() accepts these options"] and result.passed == 0 and result.total == 3
    assert "cni='weavenet' is not simulated" in hint_of(result, "connect() accepts these options")


# ---------------------------------------------------------------- 02-outer-header
def outer(trace):
    for hop in trace.hops:
        if hop.where == "underlay" and "outer" in hop.detail:
            return (hop.src, hop.dst)
    return None


def underlay_addresses(trace):
    for hop in trace.hops:
        if hop.where == "underlay":
            return (hop.src, hop.dst)
    return None


def test_outer_reference_passes_hidden_checks_too(grading):
    """Does returning the underlay hop's addresses only when it carries an outer header pass everything?"""
    result = check("02-outer-header", outer)
    assert bool(result) and result.total == 5 and mistakes(result) == []


def test_outer_inner_header_is_named():
    """Is returning the pod addresses of a routed packet recognised as the inner header?"""
    result = check("02-outer-header", underlay_addresses)
    assert failed(result) == ["Calico BGP, node-1 -> node-2 (routed): no outer header: None"]
    assert mistakes(result) == ["returned the pod addresses (the inner header)"]


def test_outer_swapped_is_named():
    """Is (destination, source) recognised as swapped?"""
    result = check("02-outer-header", lambda t: outer(t)[::-1] if outer(t) else None)
    assert mistakes(result) == ["source and destination swapped"]
    assert result.passed == 2


def test_outer_first_hop_fails_every_case():
    """Does reading the first hop (the pod's own packet) fail every case?"""
    result = check("02-outer-header", lambda t: (t.hops[0].src, t.hops[0].dst))
    assert result.passed == 0
    assert "returned the pod addresses (the inner header)" in mistakes(result)
