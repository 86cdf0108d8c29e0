"""The DNS server's fast path (plain A/AAAA queries without dnslib) answers exactly as the general path."""
from __future__ import annotations

import itertools
import struct

import dns.message
from dnslib import DNSRecord

from kubelab.serve.dns import _dnslib_answer, _fast_answer, answer_packet
from tests.test_dnsserver import _cluster

NAMES = ["web.default.svc.cluster.local", "WeB.Default.svc.cluster.local", "big.default.svc.cluster.local",
         "ext.default.svc.cluster.local", "nope.default.svc.cluster.local", "kubernetes.default.svc.cluster.local",
         "my.database.example.com", "web", "a_b.default.svc.cluster.local"]


def _queries():
    for name, rtype, edns, flags in itertools.product(NAMES, ["A", "AAAA", "SRV"], [None, 0, 1],
                                                      [dns.flags.RD, dns.flags.RD | dns.flags.CD, 0]):
        q = dns.message.make_query(name, rtype, use_edns=edns, payload=4096 if edns is not None else None)
        q.flags = flags
        q.id = 0x1234
        yield f"{name} {rtype} edns={edns} flags={flags:#x}", q.to_wire()


def test_fast_answers_are_the_general_answers():
    """For every query the fast path takes, is its reply the general path's reply (same header, question,
    answers and OPT), over UDP and TCP sizes? And does it take the common positive A and AAAA queries?"""
    lookup = _cluster().query
    taken = set()
    for label, packet in _queries():
        for max_size in (512, None):
            fast = _fast_answer(packet, lookup, max_size)
            if fast is None:
                continue
            taken.add(label.split(" edns")[0])
            general = _dnslib_answer(packet, lookup, max_size, None)
            assert str(DNSRecord.parse(fast)) == str(DNSRecord.parse(general)), label
            assert answer_packet(packet, lookup, max_size) == fast
    assert {"web.default.svc.cluster.local A", "WeB.Default.svc.cluster.local A",
            "my.database.example.com A"} <= taken
    assert not any(t.endswith("SRV") or t.startswith(("nope", "web ")) for t in taken)


def test_fast_path_declines_what_it_does_not_handle():
    """Truncation, trailing bytes, compression pointers and EDNS version 1 go to the general path."""
    lookup = _cluster().query
    big = dns.message.make_query("big.default.svc.cluster.local", "A").to_wire()
    assert _fast_answer(big, lookup, 512) is None and _fast_answer(big, lookup, None) is not None
    web = dns.message.make_query("web.default.svc.cluster.local", "A").to_wire()
    assert _fast_answer(web + b"\x00", lookup, 512) is None
    pointer = web[:12] + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
    assert _fast_answer(pointer, lookup, 512) is None
    v1 = dns.message.make_query("web.default.svc.cluster.local", "A", use_edns=1).to_wire()
    assert _fast_answer(v1, lookup, 512) is None
