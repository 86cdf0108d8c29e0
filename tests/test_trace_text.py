"""A printed trace or verdict in a notebook: lines fit a JupyterLab output area (100 columns) and break only
between words, so an address, a port or a pod name is never cut in two."""
import re

import pytest

import kubelab
from kubelab.results import TEXT_WIDTH, Hop, Trace, Verdict, _fit

# names at the 63-character limit of a DNS label, the longest a pod name in these tests can be
CLIENT = "client-" + "a" * 56
SERVER = "server-" + "b" * 50 + "-xyz12"


@pytest.fixture(scope="module")
def dual_stack_trace():
    """A trace from a long-named client to an IPv6 Service VIP whose endpoint is a long-named pod."""
    lab = kubelab.connect(seed=0, nodes=2, ip_families=("IPv4", "IPv6"))
    lab.apply(f"""
apiVersion: v1
kind: Pod
metadata: {{name: {CLIENT}}}
spec: {{containers: [{{name: c, image: busybox}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: {SERVER}, labels: {{app: web}}}}
spec: {{containers: [{{name: c, image: nginx, ports: [{{containerPort: 8080}}]}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv6, IPv4]
  ports: [{{port: 80, targetPort: 8080}}]
""")
    vip6 = lab.get("Service", "web")["spec"]["clusterIPs"][0]
    return lab.trace(f"default/{CLIENT}", vip6, 80)


def _words(text: str) -> set[str]:
    return set(text.split())


def test_every_line_fits_the_output_area(dual_stack_trace):
    """Does no printed line of a trace with IPv6 addresses and 63-character pod names pass 100 columns?"""
    text = str(dual_stack_trace)
    assert ":" in dual_stack_trace.verdict.dst            # the VIP really is IPv6
    assert max(len(line) for line in text.splitlines()) <= TEXT_WIDTH
    assert max(len(line) for line in str(dual_stack_trace.verdict).splitlines()) <= TEXT_WIDTH


def test_addresses_ports_and_names_stay_whole(dual_stack_trace):
    """Is every address pair, address:port and pod name of the trace on one line, never cut at a line end?"""
    text = str(dual_stack_trace)
    lines = text.splitlines()
    for h in dual_stack_trace.hops + dual_stack_trace.reply:
        if h.src:
            assert any(f"[{h.src} -> {h.dst}]" in line for line in lines), (h.src, h.dst)
        assert any(h.where in line for line in lines), h.where
    words = _words(text)
    assert f"default/{SERVER}" in words and f"pod default/{CLIENT}" in text
    endpoint = dual_stack_trace.verdict.endpoint or re.search(r"\[[0-9a-f:]+\]:\d+", dual_stack_trace.verdict.reason)[0]
    assert any(endpoint in w for w in words)               # "[fd00:…]:8080" in one piece


def test_continuation_lines_are_indented_under_their_line(dual_stack_trace):
    """Does each line that continues a hop start further right than the hop's number, and is there still one
    numbered line per hop?"""
    lines = str(dual_stack_trace).splitlines()
    numbered = [line for line in lines if re.match(r"^\s+\d+\. ", line)]
    assert len(numbered) == len(dual_stack_trace.hops) + len(dual_stack_trace.reply)
    after_hops = lines[lines.index(numbered[0]):]
    for line in after_hops:
        if not re.match(r"^\s+\d+\. ", line) and line.strip() != "reply:":
            assert line.startswith(" " * 10), line


def test_short_traces_keep_their_aligned_columns():
    """Does a trace with short names still print one aligned line per hop where it fits, actions in one column?"""
    hops = (Hop("pod default/client", "eth0", "leaves", "10.244.0.3", "10.244.1.3"),
            Hop("node node-1", "routing table", "routed", "10.244.0.3", "10.244.1.3"))
    trace = Trace(Verdict(True, "pod default/web listens on 80/TCP", "default/client", "10.244.1.3", 80), hops)
    lines = str(trace).splitlines()[-2:]
    assert lines == ["   1. pod default/client  eth0           leaves [10.244.0.3 -> 10.244.1.3]",
                     "   2. node node-1         routing table  routed [10.244.0.3 -> 10.244.1.3]"]


def test_a_long_action_wraps_under_the_action_column():
    """With short names, does a long action continue exactly under where the action starts?"""
    action = " ".join(f"step-{i}" for i in range(30))
    trace = Trace(Verdict(True, "ok", "a", "b", 80), (Hop("pod default/a", "eth0", action, "fd00::1", "fd00::2"),))
    hop_lines = str(trace).splitlines()[2:]
    column = hop_lines[0].index("step-0")
    assert len(hop_lines) > 1
    for line in hop_lines[1:]:
        assert len(line) - len(line.lstrip()) == column and len(line) <= TEXT_WIDTH
    assert " ".join(" ".join(hop_lines).split()).count("[fd00::1 -> fd00::2]") == 1


def test_a_word_longer_than_the_room_is_not_cut():
    """Is a single word longer than the width left whole on its own line rather than split?"""
    word = "x" * 120
    assert _fit(f"  reason: {word} end", 4) == ["  reason:", f"    {word}", "    end"]


def test_a_printed_http_response_fits_and_keeps_its_body_as_sent():
    """lab.http(...) printed: status line, reason and facts wrap at spaces within 100 columns; the body is the
    server's own text, unchanged."""
    from kubelab.results import Response

    reason = (f"Ingress default/shop spec.rules[0].http.paths[1] (host shop.example.com, path /cart Prefix) "
              f"matched /cart/checkout (longest matching path) and pod default/{SERVER} answered 200")
    body = "x" * 150 + "\nsecond line"
    text = str(Response(200, body, {}, "http://shop.example.com/cart/checkout", reason=reason))
    head, _, rest = text.partition("\n  " + "x" * 150)
    assert all(len(line) <= TEXT_WIDTH for line in head.splitlines())
    assert f"default/{SERVER}" in _words(head) and rest == "\n  second line"
