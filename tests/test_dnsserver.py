"""The loopback DNS server, queried by dnspython as a real client would."""
from __future__ import annotations

import socket
import struct

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from kubelab.serve.dns import DnsServer
from kubelab.errors import BackendError
from kubelab.net.dns import DEFAULT_COREFILE, ClusterDNS, parse_corefile

ZONE = "cluster.local"


def _cluster() -> ClusterDNS:
    services = [
        {"metadata": {"name": "web", "namespace": "default"},
         "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.50", "clusterIPs": ["10.96.0.50"],
                  "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}},
        {"metadata": {"name": "big", "namespace": "default"},
         "spec": {"type": "ClusterIP", "clusterIP": "None", "ports": []}},
        {"metadata": {"name": "ext", "namespace": "default"},
         "spec": {"type": "ExternalName", "externalName": "my.database.example.com"}},
    ]
    endpoints = [{"addresses": [f"10.244.{i // 250}.{i % 250 + 1}"], "conditions": {"ready": True}}
                 for i in range(100)]
    slices = [{"metadata": {"name": "big-1", "namespace": "default",
                            "labels": {"kubernetes.io/service-name": "big"}},
               "addressType": "IPv4", "endpoints": endpoints, "ports": []}]
    return ClusterDNS(ZONE, parse_corefile(DEFAULT_COREFILE), ["default"], services, slices, [],
                      {"my.database.example.com": {"A": ["192.0.2.20"]}})


@pytest.fixture(scope="module")
def server():
    with DnsServer(_cluster().query, port=0) as srv:
        yield srv


def ask(server, name, rtype="A", tcp=False):
    q = dns.message.make_query(name, rtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(q, "127.0.0.1", port=server.port, timeout=3)


def test_a_record_over_udp(server):
    """Does a UDP A query for a Service come back with its ClusterIP?"""
    r = ask(server, "web.default.svc.cluster.local.")
    assert r.rcode() == dns.rcode.NOERROR
    assert [rd.address for rrset in r.answer for rd in rrset] == ["10.96.0.50"]
    assert r.answer[0].ttl == 30


def test_srv_over_tcp(server):
    """Does a TCP SRV query give port and target?"""
    r = ask(server, "_http._tcp.web.default.svc.cluster.local.", "SRV", tcp=True)
    (rd,) = [rd for rrset in r.answer for rd in rrset]
    assert (rd.port, rd.target.to_text()) == (80, "web.default.svc.cluster.local.")


def test_nxdomain_and_nodata(server):
    """Are NXDOMAIN and NODATA told apart on the wire?"""
    assert ask(server, "nope.default.svc.cluster.local.").rcode() == dns.rcode.NXDOMAIN
    r = ask(server, "web.default.svc.cluster.local.", "AAAA")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer


def test_cname_chain_on_the_wire(server):
    """Does an ExternalName A query carry the CNAME and the target's address?"""
    r = ask(server, "ext.default.svc.cluster.local.")
    types = [dns.rdatatype.to_text(rrset.rdtype) for rrset in r.answer]
    assert types == ["CNAME", "A"]


def test_unknown_qtype_is_nodata(server):
    """Is an unknown query type for an existing name NOERROR with no answer, as CoreDNS does?"""
    r = ask(server, "web.default.svc.cluster.local.", "TYPE65280")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer


def test_oversize_udp_answer_sets_tc_and_tcp_gives_all(server):
    """Is a 100-address answer truncated (TC) over UDP and complete over TCP?"""
    q = dns.message.make_query("big.default.svc.cluster.local.", "A")
    r = dns.query.udp(q, "127.0.0.1", port=server.port, timeout=3, ignore_trailing=True)
    assert r.flags & dns.flags.TC
    full = ask(server, "big.default.svc.cluster.local.", tcp=True)
    assert sum(len(rrset) for rrset in full.answer) == 100


def test_malformed_packets_do_not_stop_the_server(server):
    """After garbage and a broken question, does the server answer FORMERR and then a good query?"""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(b"\x01\x02", ("127.0.0.1", server.port))                      # no header: dropped
        s.sendto(struct.pack("!HHHHHH", 0xBEEF, 0x0100, 1, 0, 0, 0) + b"\x07broken", ("127.0.0.1", server.port))
        reply, _ = s.recvfrom(512)
    assert struct.unpack("!H", reply[:2])[0] == 0xBEEF
    assert reply[3] & 0x0F == dns.rcode.FORMERR
    assert ask(server, "web.default.svc.cluster.local.").rcode() == dns.rcode.NOERROR


def test_tcp_garbage_then_good_query(server):
    """Does a TCP client sending a bad message still get FORMERR, and the next client an answer?"""
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as c:
        bad = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\xff"
        c.sendall(struct.pack("!H", len(bad)) + bad)
        size = struct.unpack("!H", c.recv(2))[0]
        reply = c.recv(size)
    assert reply[3] & 0x0F == dns.rcode.FORMERR
    assert ask(server, "web.default.svc.cluster.local.", tcp=True).rcode() == dns.rcode.NOERROR


def test_other_opcodes_are_notimp(server):
    """Is a NOTIFY (opcode 4) answered NOTIMP?"""
    q = dns.message.make_query("web.default.svc.cluster.local.", "A")
    q.set_opcode(dns.opcode.NOTIFY)
    r = dns.query.udp(q, "127.0.0.1", port=server.port, timeout=3)
    assert r.rcode() == dns.rcode.NOTIMP


def test_lookup_errors_become_servfail():
    """Does a lookup that raises turn into SERVFAIL rather than a dead server?"""
    def broken(name, rtype):
        raise RuntimeError("boom")
    with DnsServer(broken, port=0) as srv:
        assert ask(srv, "x.example.").rcode() == dns.rcode.SERVFAIL
        assert ask(srv, "x.example.").rcode() == dns.rcode.SERVFAIL


def test_refuses_non_loopback():
    """Does the server refuse to bind anything but a loopback address?"""
    with pytest.raises(BackendError, match="loopback"):
        DnsServer(lambda n, t: ("NOERROR", []), host="0.0.0.0")


def test_stop_releases_the_port():
    """After stop(), can a new server bind the same port?"""
    srv = DnsServer(lambda n, t: ("NXDOMAIN", []), port=0).start()
    port = srv.port
    srv.stop()
    with DnsServer(lambda n, t: ("NXDOMAIN", []), port=port) as again:
        assert ask(again, "a.example.").rcode() == dns.rcode.NXDOMAIN
