"""The loopback DNS server under hostile input: oversized names, unknown EDNS versions, trickling and
crowding TCP clients, cache flooding, and a bounded fuzz run (loopback only, seeded)."""
from __future__ import annotations

import random
import socket
import struct
import threading
import time

import dns.edns
import dns.message
import dns.query
import dns.rcode
import pytest

from kubelab.net.dns import DEFAULT_COREFILE, ClusterDNS, parse_corefile
from kubelab.serve.dns import DnsServer

GOOD = "web.default.svc.cluster.local."


def _lookup():
    services = [{"metadata": {"name": "web", "namespace": "default"},
                 "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.50", "clusterIPs": ["10.96.0.50"],
                          "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}]
    return ClusterDNS("cluster.local", parse_corefile(DEFAULT_COREFILE), ["default"], services, [], [], {}).query


@pytest.fixture
def thread_errors(monkeypatch):
    """Exceptions that escaped any thread (they would print a traceback on stderr)."""
    seen = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    return seen


@pytest.fixture
def server(thread_errors):
    with DnsServer(_lookup(), port=0, version=lambda: 1, tcp_deadline=1.0, max_tcp_connections=4,
                   cache_bytes=20_000) as srv:
        yield srv


def _query(name_wire: bytes, qid: int = 0x4242, additional: bytes = b"") -> bytes:
    return (struct.pack("!6H", qid, 0x0100, 1, 0, 0, 1 if additional else 0) + name_wire
            + struct.pack("!HH", 1, 1) + additional)


def _wire(*labels: bytes) -> bytes:
    return b"".join(bytes([len(x)]) + x for x in labels) + b"\x00"


def _udp(server, packet: bytes, timeout: float = 2.0) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, ("127.0.0.1", server.port))
        try:
            return s.recvfrom(65535)[0]
        except socket.timeout:
            return None


def _tcp(server, packet: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as c:
        c.sendall(struct.pack("!H", len(packet)) + packet)
        size = struct.unpack("!H", c.recv(2))[0]
        return c.recv(size)


def _rcode(reply: bytes) -> int:
    return reply[3] & 0x0F


def _still_answers(server):
    q = dns.message.make_query(GOOD, "A")
    assert dns.query.udp(q, "127.0.0.1", port=server.port, timeout=3).rcode() == dns.rcode.NOERROR
    assert dns.query.tcp(q, "127.0.0.1", port=server.port, timeout=3).rcode() == dns.rcode.NOERROR


@pytest.mark.parametrize("name", [
    _wire(b"a" * 64, b"cluster", b"local"),                  # a label of 64 octets
    _wire(*[b"b" * 60] * 5),                                 # 306 octets on the wire
], ids=["label-over-63", "name-over-255"])
def test_oversized_names_get_formerr_over_udp_and_tcp(server, thread_errors, name):
    """RFC 1035 2.3.4 limits: FORMERR with the query's ID over UDP and TCP, no thread traceback."""
    for reply in (_udp(server, _query(name)), _tcp(server, _query(name))):
        assert reply is not None and reply[:2] == b"\x42\x42" and _rcode(reply) == dns.rcode.FORMERR
    _still_answers(server)
    assert thread_errors == []


def test_a_63_octet_label_is_answered(server):
    """The limit is inclusive: a 63-octet label is a name like any other (NXDOMAIN here)."""
    reply = _udp(server, _query(_wire(b"a" * 63, b"default", b"svc", b"cluster", b"local")))
    assert _rcode(reply) == dns.rcode.NXDOMAIN


def test_edns_version_1_gets_badvers(server):
    """RFC 6891 6.1.3: an OPT with a version we do not implement gets BADVERS (extended RCODE 16) and our
    OPT with version 0; version 0 is answered normally."""
    for version, expected in ((1, dns.rcode.BADVERS), (0, dns.rcode.NOERROR)):
        q = dns.message.make_query(GOOD, "A", use_edns=version)
        r = dns.query.udp(q, "127.0.0.1", port=server.port, timeout=3)
        assert r.rcode() == expected and r.edns == 0
        if expected == dns.rcode.BADVERS:
            assert not r.answer


def test_a_trickling_tcp_client_is_cut_at_the_deadline(server):
    """A client sending one byte at a time, never idle for long, is disconnected when the connection's
    overall deadline (1 s here) passes."""
    packet = struct.pack("!H", 40) + _query(_wire(b"web", b"default", b"svc", b"cluster", b"local"))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as c:
        start = time.monotonic()
        closed = False
        for byte in packet:
            try:
                c.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            if time.monotonic() - start > 3:
                break
        if not closed:
            c.settimeout(3)
            try:
                closed = c.recv(1) == b""
            except OSError:
                closed = True
    assert closed and time.monotonic() - start < 3.5


def test_tcp_connections_are_capped(server):
    """With the cap (4) of idle connections open, the next one is closed at once; once they go, it is served."""
    held = [socket.create_connection(("127.0.0.1", server.port), timeout=3) for _ in range(4)]
    try:
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", server.port), timeout=3) as extra:
            assert extra.recv(1) == b""
    finally:
        for c in held:
            c.close()
    time.sleep(0.5)
    _still_answers(server)


def test_malformed_queries_are_never_cached_and_the_cache_is_bounded(server):
    """FORMERR replies leave the cache empty; distinct good-looking queries never grow it past its bytes."""
    for i in range(200):
        _udp(server, _query(_wire(b"x" * 64, str(i).encode())))
    assert server.cache_size == 0
    for i in range(400):
        reply = _udp(server, _query(_wire(f"n{i}".encode(), b"default", b"svc", b"cluster", b"local")))
        assert _rcode(reply) == dns.rcode.NXDOMAIN
    assert 0 < server.cache_size <= 20_000


def test_fuzz_mutated_and_random_packets(server, thread_errors):
    """2,000 seeded packets (mutations of good queries, random bytes, truncations) over UDP and TCP: every
    reply is a response to its query's ID, no thread dies, and good queries are answered afterwards."""
    rng = random.Random(16)
    seeds = [dns.message.make_query(GOOD, t, use_edns=e).to_wire() for t in ("A", "AAAA", "SRV") for e in (None, 0)]
    packets = []
    for _ in range(2000):
        kind = rng.random()
        if kind < 0.6:
            p = bytearray(rng.choice(seeds))
            for _ in range(rng.randint(1, 6)):
                p[rng.randrange(len(p))] = rng.randrange(256)
            packets.append(bytes(p))
        elif kind < 0.8:
            packets.append(rng.choice(seeds)[:rng.randrange(1, 40)])
        else:
            packets.append(bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))))
    replies = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.1)
        for start in range(0, len(packets), 50):          # in bursts, draining the replies after each
            for p in packets[start:start + 50]:
                s.sendto(p, ("127.0.0.1", server.port))
            try:
                while True:
                    replies.append(s.recv(65535))
            except socket.timeout:
                pass
    asked = {p[:2] for p in packets}
    assert len(replies) > 1000
    assert all(len(r) >= 12 and r[:2] in asked and r[2] & 0x80 for r in replies)    # responses, to our IDs
    for p in packets[:100]:
        with socket.create_connection(("127.0.0.1", server.port), timeout=3) as c:
            c.sendall(struct.pack("!H", len(p)) + p)
            c.shutdown(socket.SHUT_WR)                     # no more queries: the server closes after replying
            c.settimeout(2)
            data = c.recv(65535)
            assert not data or len(data) >= 14 and data[2:4] == p[:2]
    _still_answers(server)
    assert thread_errors == []
    assert server.cache_size <= 20_000
