"""The resolver's query clock (glibc res_send's waits) and the forward plugin's upstreams, without a cluster."""
from __future__ import annotations

from kubelab.net.dns import RecordServer, Upstreams, parse_resolv_conf, resolve
from kubelab.net.dns.answer import Record


def _silent(server, name, qtype):
    return "TIMEOUT", []


def test_timeout_and_attempts_are_read_and_capped():
    """options timeout:n (max 30) and attempts:n (max 5); defaults 5 s and 2."""
    assert (parse_resolv_conf("nameserver 1.1.1.1").timeout, parse_resolv_conf("").attempts) == (5, 2)
    conf = parse_resolv_conf("options timeout:99 attempts:9\noptions ndots:2")
    assert (conf.timeout, conf.attempts, conf.ndots) == (30, 5, 2)


def test_silent_nameservers_cost_what_send_dg_waits():
    """send_dg: timeout << ns, divided by the server count for ns > 0; every round of attempts."""
    one = resolve("x.example.", "A", "nameserver 10.0.0.1", _silent)
    assert one.rcode == "TIMEOUT" and one.elapsed_ms == 2 * 5000
    two = resolve("x.example.", "A", "nameserver 10.0.0.1\nnameserver 10.0.0.2", _silent)
    assert two.elapsed_ms == 2 * (5000 + 5000)
    three = resolve("x.example.", "A", "nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3", _silent)
    assert three.elapsed_ms == 2 * (5000 + 3000 + 6000)


def test_a_server_that_answers_after_a_silent_one_costs_one_wait_and_a_round_trip():
    """The first nameserver times out, the second answers: 5 s plus one round trip."""
    def lookup(server, name, qtype):
        return ("TIMEOUT", []) if server == "10.0.0.1" else ("NOERROR", [Record(name, "A", 30, "192.0.2.1")])
    answer = resolve("x.example.", "A", "nameserver 10.0.0.1\nnameserver 10.0.0.2", lookup)
    assert answer.addresses == ["192.0.2.1"] and answer.elapsed_ms == 5001 and answer.waited


def test_a_slow_servfail_is_charged_once_per_name():
    """A SERVFAIL the server took 5 s to give costs 5 s; the retry round gets the cached SERVFAIL at once."""
    calls = []

    def lookup(server, name, qtype):
        calls.append(name)
        return "SERVFAIL", [], 5000
    answer = resolve("x.example.", "A", "nameserver 10.0.0.1", lookup)
    assert answer.rcode == "SERVFAIL" and 5000 < answer.elapsed_ms < 5010 and calls == ["x.example"]
    assert ";; Query time:" in str(answer) and "after 5.0 s (1 name tried: x.example)" in answer.failure("x.example.")


def test_forward_tries_the_next_upstream_and_fails_after_the_deadline():
    """forward.go: a dead upstream is skipped for the next; with none answering, SERVFAIL after 5 s."""
    world = RecordServer({"a.example": {"A": ["192.0.2.7"]}})
    ups = Upstreams(world, {}, ("192.168.0.2",), path=lambda ip: ("10.244.0.2", None))
    ok = ups.forward(("10.9.9.9", "/etc/resolv.conf"), "a.example", "A")
    assert ok.rcode == "NOERROR" and [r.value for r in ok.records] == ["192.0.2.7"] and ok.error is None
    dead = ups.forward(("10.9.9.9:53",), "a.example", "A")
    assert dead.rcode == "SERVFAIL" and dead.elapsed_ms == 5000
    assert dead.error.startswith("read udp 10.244.0.2:") and dead.error.endswith("->10.9.9.9:53: i/o timeout")
    blocked = Upstreams(world, {}, ("192.168.0.2",), path=lambda ip: ("10.244.0.2", "dropped by policy"))
    assert blocked.forward(("/etc/resolv.conf",), "a.example", "A").rcode == "SERVFAIL"
