"""Checks for lesson 02 (CNI and overlays): pod MTU under encapsulation, choosing a CNI that both
encapsulates and enforces NetworkPolicy, and reading the outer header of a traced packet."""
from __future__ import annotations

from typing import Any

from ...errors import KubelabError
from ...net.cni import cni_profile
from . import exercise

LESSON = "02-cni-and-overlays"

# Header bytes each encapsulation adds (RFC 2003 IP-in-IP: one outer IPv4 header; RFC 7348 VXLAN:
# outer IPv4 20 + UDP 8 + VXLAN 8 + the inner Ethernet header 14).
_OVERHEAD = {None: 0, "IP-in-IP": 20, "VXLAN": 50}

# Two pods on different nodes, pinned so every lab puts them in the same place.
_PODS = """
apiVersion: v1
kind: Pod
metadata: {{name: client, labels: {{app: client}}}}
spec:
  nodeName: {src_node}
  containers: [{{name: client, image: busybox, command: [sleep, infinity]}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: web, labels: {{app: web}}}}
spec:
  nodeName: {dst_node}
  containers: [{{name: web, image: nginx, ports: [{{containerPort: 80}}]}}]
"""

_DENY_ALL = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""

_ALLOW_CLIENT_TO_WEB = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-client}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-to-web}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: web}}}]
"""


def _call(fn, *args) -> tuple[Any, str | None]:
    """The learner's function applied to args, or the one-line error it raised."""
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, "your function is still the stub: replace raise NotImplementedError() with your code"
    except Exception as exc:  # the learner's code failed: report it as a failed sub-check, not a traceback
        return None, f"your function raised {type(exc).__name__}: {exc}"


def _pair_lab(ctx, src_node: str, dst_node: str, **options):
    lab = ctx.lab(**options)
    lab.apply(_PODS.format(src_node=src_node, dst_node=dst_node))
    return lab


def _node_ip(lab, name: str) -> str:
    node = lab.get("Node", name)
    return next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")


def _outer(trace) -> tuple[str, str] | None:
    """The outer header of an encapsulated packet on the underlay, or None when it is routed as is."""
    for hop in trace.hops:
        if hop.where == "underlay" and "outer" in hop.detail:
            return hop.src, hop.dst
    return None


_MTU_PROFILES = (("flannel", "vxlan"), ("calico", "bgp"), ("calico", "ipip"), ("calico", "vxlan"), ("cilium", "vxlan"))


def _mtu_profile_check(cni: str, mode: str) -> str:
    return f"{cni} ({mode}) on a 1500-byte underlay: pod MTU {cni_profile(cni, mode).pod_mtu}"


@exercise("02-pod-mtu", title="The largest pod MTU under an encapsulation", lesson=LESSON, answer="function",
          scored=(*(_mtu_profile_check(c, m) for c, m in _MTU_PROFILES), "VXLAN on a 9001-byte (jumbo frame) underlay",
                  "IP-in-IP on a 1460-byte underlay", "no encapsulation on a 9000-byte underlay"),
          hidden=("VXLAN on a 1400-byte underlay",))
def pod_mtu(answer, ctx):
    """answer(underlay_mtu, encapsulation) -> the largest pod MTU whose packets still fit the underlay."""
    def expect_mtu(name, underlay, encap, hint, hidden=False):
        got, error = _call(answer, underlay, encap)
        want = underlay - _OVERHEAD[encap]
        ctx.expect(name, error is None and got == want, error or hint, hidden=hidden)
        return got

    for cni, mode in _MTU_PROFILES:
        profile = cni_profile(cni, mode)
        got, error = _call(answer, 1500, profile.encapsulation)
        ctx.expect(_mtu_profile_check(cni, mode),
                   error is None and got == profile.pod_mtu,
                   error or "count the bytes of the outer headers this encapsulation puts around a pod's packet")
    expect_mtu("VXLAN on a 9001-byte (jumbo frame) underlay", 9001, "VXLAN",
               "the overhead is the same on any underlay; only the underlay MTU changes")
    expect_mtu("IP-in-IP on a 1460-byte underlay", 1460, "IP-in-IP",
               "the overhead is the same on any underlay; only the underlay MTU changes")
    expect_mtu("no encapsulation on a 9000-byte underlay", 9000, None, "a routed packet carries no extra header")
    expect_mtu("VXLAN on a 1400-byte underlay", 1400, "VXLAN", "subtract the overhead from the underlay MTU",
               hidden=True)

    ipip, _ = _call(answer, 1500, "IP-in-IP")
    vxlan, _ = _call(answer, 1500, "VXLAN")
    routed, _ = _call(answer, 1500, None)
    jumbo, _ = _call(answer, 9001, "VXLAN")
    ctx.mistake("IP-in-IP charged like VXLAN", ipip == 1450,
                "IP-in-IP adds only one outer IPv4 header; it has no UDP, VXLAN or inner Ethernet header")
    ctx.mistake("VXLAN without the inner Ethernet header", vxlan == 1464,
                "VXLAN carries the pod's whole Ethernet frame, so the inner Ethernet header counts too")
    ctx.mistake("overhead subtracted with no encapsulation", routed is not None and routed != 1500,
                "without encapsulation nothing is added: the pod can use the whole underlay MTU")
    ctx.mistake("underlay MTU ignored", jumbo == 1450,
                "the answer must follow underlay_mtu; jumbo frames leave pods much more room")


@exercise("02-policy-overlay", title="An overlay that enforces NetworkPolicy", lesson=LESSON, answer="dict",
          scored=("between the nodes the packet travels inside an outer header node-1 -> node-2",
                  "a default-deny NetworkPolicy blocks client -> web",
                  "policies allowing client -> web let it through again"))
def policy_overlay(answer, ctx):
    """answer: connect() options (cni, calico_mode) for a cluster whose cross-node traffic is
    encapsulated and whose CNI enforces NetworkPolicy."""
    is_options = isinstance(answer, dict) and bool(answer) and set(answer) <= {"cni", "calico_mode"}
    if not ctx.require("the answer is a dict of connect() options (cni, and calico_mode for Calico)", is_options,
                       "write it like dict(cni=..., calico_mode=...); no other keys"):
        return
    try:
        lab = _pair_lab(ctx, "node-1", "node-2", **answer)
    except KubelabError as exc:
        ctx.require("connect() accepts these options", False, str(exc))
        return
    before = lab.trace("default/client", "default/web", 80)
    if not ctx.require("client on node-1 reaches web on node-2 before any policy", before,
                       f"the connection failed: {before.verdict.reason}"):
        return
    outer = _outer(before)
    encapsulated = outer == (_node_ip(lab, "node-1"), _node_ip(lab, "node-2"))
    ctx.expect("between the nodes the packet travels inside an outer header node-1 -> node-2", encapsulated,
               "pick a CNI (or a Calico mode) that tunnels pod traffic; print the trace and look at the underlay hop")
    lab.apply(_DENY_ALL)
    denied = lab.reach("default/client", "default/web", 80)
    ctx.expect("a default-deny NetworkPolicy blocks client -> web", not denied,
               "with this CNI the policy is stored but nothing enforces it")
    lab.apply(_ALLOW_CLIENT_TO_WEB)
    allowed = lab.reach("default/client", "default/web", 80)
    # only meaningful once the deny really blocked: on a CNI that ignores policies it proves nothing
    ctx.expect("policies allowing client -> web let it through again", allowed and not denied,
               f"the connection failed: {allowed.reason}" if not allowed
               else "nothing was blocked in the first place: this CNI does not enforce the policies")
    ctx.mistake("flannel does not enforce NetworkPolicy", answer.get("cni") == "flannel",
                "flannel is an overlay, but it only moves packets; it leaves NetworkPolicy to another component")
    ctx.mistake("Calico's BGP mode routes without a tunnel",
                answer.get("cni") == "calico" and answer.get("calico_mode", "bgp") == "bgp",
                "Calico enforces policy, but in BGP mode the pod's packet crosses the underlay unencapsulated")


#: (name, connect options, source node, destination node, tunnelled?); the last case is hidden
_OUTER_CASES = (
    ("flannel VXLAN, node-3 -> node-1", dict(cni="flannel"), "node-3", "node-1", True),
    ("Calico IP-in-IP, node-2 -> node-3, nodes on 172.16.8.0/24",
     dict(cni="calico", calico_mode="ipip", node_cidr="172.16.8.0/24"), "node-2", "node-3", True),
    ("Calico BGP, node-1 -> node-2 (routed)", dict(cni="calico", calico_mode="bgp"), "node-1", "node-2", False),
    ("flannel VXLAN, both pods on node-2", dict(cni="flannel"), "node-2", "node-2", False),
    ("Cilium VXLAN, node-1 -> node-3", dict(cni="cilium"), "node-1", "node-3", True),
)


def _outer_check(case) -> str:
    name, tunnelled = case[0], case[-1]
    what = "the outer header's (source, destination)" if tunnelled else "no outer header: None"
    return f"{name}: {what}"


@exercise("02-outer-header", title="Read the outer header off a trace", lesson=LESSON, answer="function",
          scored=tuple(_outer_check(c) for c in _OUTER_CASES[:-1]), hidden=(_outer_check(_OUTER_CASES[-1]),))
def outer_header(answer, ctx):
    """answer(trace) -> (outer source, outer destination) of the encapsulated packet, or None."""
    cases = _OUTER_CASES
    inner_returned = reversed_returned = False
    for i, (name, options, src_node, dst_node, tunnelled) in enumerate(cases):
        lab = _pair_lab(ctx, src_node, dst_node, **options)
        trace = lab.trace("default/client", "default/web", 80)
        want = (_node_ip(lab, src_node), _node_ip(lab, dst_node)) if tunnelled else None
        got, error = _call(answer, trace)
        got = tuple(got) if isinstance(got, list) else got
        if tunnelled:
            hint = "the outer header is what the underlay sees: which machines send and receive the tunnel packet?"
        elif src_node == dst_node:
            hint = "when both pods share a node the packet never reaches the underlay"
        else:
            hint = "a routed packet has no outer header: return None"
        ctx.expect(_outer_check(cases[i]), error is None and got == want, error or hint, hidden=(i == len(cases) - 1))
        pod_ips = (trace.verdict.source_ip, trace.verdict.endpoint.rsplit(":", 1)[0])
        inner_returned |= got == pod_ips
        reversed_returned |= bool(want) and got == want[::-1]
    ctx.mistake("returned the pod addresses (the inner header)", inner_returned,
                "the pod IPs are inside; the underlay only sees the addresses of the outer header")
    ctx.mistake("source and destination swapped", reversed_returned,
                "return (outer source, outer destination) in the direction the packet travels")
