"""A real DNS server on loopback (UDP and TCP) answering from a lookup callable, e.g. ClusterDNS.query.

So ``dig @127.0.0.1 -p PORT web.default.svc.cluster.local`` (or dnspython) can talk to the simulated
cluster DNS. Wire format by dnslib. Behaviour on the edges follows RFC 1035/6891 as CoreDNS does:
unparseable packets get FORMERR when their header can be read and are dropped otherwise; answers
larger than the client's UDP size (512, or its EDNS0 size) come back truncated with TC set; other
opcodes get NOTIMP; unknown query types are passed to the lookup (CoreDNS answers NODATA/NXDOMAIN).
A question with a label over 63 bytes or a name over 255 bytes gets FORMERR (RFC 1035 2.3.4), an EDNS
version other than 0 gets BADVERS (RFC 6891 6.1.3). No packet can stop the server, and no client can
hold it: a TCP connection has an overall deadline and the number of open ones is capped.
"""
from __future__ import annotations

import errno
import functools
import ipaddress
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Callable

from dnslib import (AAAA, CNAME, MX, NS, PTR, QTYPE, RCODE, RR, SOA, SRV, TXT, A, DNSBuffer, DNSHeader,
                    DNSRecord, EDNS0)

from ..errors import BackendError
from ..net.dns.answer import Record

__all__ = ["DnsServer", "to_wire_rr", "answer_packet"]

Lookup = Callable[[str, str], "tuple[str, list[Record]]"]

UDP_DEFAULT_SIZE = 512            # RFC 1035 4.2.1 without EDNS0
EDNS_SIZE = 1232                  # the size we advertise back (DNS flag day 2020)
_OPCODE_QUERY = 0
_CLASS_IN = 1
_TYPE_OPT = 41
_POLL = 0.2                       # seconds between checks of the stop flag
MAX_LABEL = 63                    # RFC 1035 2.3.4: label octets
MAX_NAME = 255                    # RFC 1035 2.3.4: name octets on the wire (length bytes included)
BADVERS = 16                      # RFC 6891 6.1.3: extended RCODE for an unsupported EDNS version
TCP_IDLE = 2.0                    # seconds a TCP connection may wait for its next bytes
TCP_DEADLINE = 10.0               # seconds a TCP connection may stay open in all, however it trickles
MAX_TCP_CONNECTIONS = 64          # open TCP connections served at once; more are closed at once
CACHE_BYTES = 4 << 20             # the answer cache's size bound (keys and packets)


def _absolute(name: str) -> str:
    return name if name.endswith(".") else name + "."


def to_wire_rr(record: Record) -> RR | None:
    """A dnslib RR for one kubelab Record (None for a type kubelab never serves)."""
    t, v = record.type, record.value
    if t == "A":
        rdata = A(v)
    elif t == "AAAA":
        rdata = AAAA(v)
    elif t in ("CNAME", "PTR", "NS"):
        rdata = {"CNAME": CNAME, "PTR": PTR, "NS": NS}[t](_absolute(v))
    elif t == "SRV":
        rdata = SRV(record.priority or 0, record.weight or 0, record.port or 0, _absolute(record.target or ""))
    elif t == "TXT":
        rdata = TXT(v)
    elif t == "SOA":
        mname, rname, *times = v.split()
        rdata = SOA(_absolute(mname), _absolute(rname), tuple(int(x) for x in times))
    elif t == "MX":
        pref, exchange = v.split()
        rdata = MX(_absolute(exchange), int(pref))
    else:
        return None
    return RR(_absolute(record.name), getattr(QTYPE, t), rdata=rdata, ttl=record.ttl)


def _error_reply(data: bytes, rcode: int) -> bytes | None:
    """A header-only reply carrying ``rcode``, or None when not even the 12-byte header is there."""
    if len(data) < 12:
        return None
    try:
        header = DNSHeader.parse(DNSBuffer(data[:12]))
    except Exception:
        return None
    if header.qr:
        return None                       # never answer a response
    buffer = DNSBuffer()
    DNSHeader(id=header.id, qr=1, opcode=header.opcode, rd=header.rd, ra=1, rcode=rcode).pack(buffer)
    return buffer.data


def answer_packet(data: bytes, lookup: Lookup, max_size: int | None,
                  authority: Callable[[str], Record | None] | None = None) -> bytes | None:
    """The reply to one request packet; ``max_size`` None means TCP (no truncation). `authority(name)` gives
    the zone's SOA for the authority section of negative answers."""
    try:
        fast = _fast_answer(data, lookup, max_size)
    except Exception:
        fast = None
    return fast if fast is not None else _dnslib_answer(data, lookup, max_size, authority)


_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_FAST_TYPES = {1: "A", 28: "AAAA"}
_OPT_REPLY = b"\x00" + struct.pack("!HHIH", _TYPE_OPT, EDNS_SIZE, 0, 0)


def _fast_answer(data: bytes, lookup: Lookup, max_size: int | None) -> bytes | None:
    """The common case without dnslib (its parsing and packing cost 10x the lookup): one standard IN
    query for A or AAAA, at most one OPT (version 0), a name of plain letters/digits/-/_, and a positive
    answer of A/AAAA/CNAME records that fits. Anything else returns None for the general path, which
    this must answer identically to (tests compare the two)."""
    if len(data) < 17:
        return None
    qid, flags, qdcount, ancount, nscount, arcount = struct.unpack_from("!6H", data)
    if flags & 0xF800 or qdcount != 1 or ancount or nscount or arcount > 1:
        return None                       # a response, another opcode, or an unusual query
    pos, labels = 12, []
    while True:
        length = data[pos]
        if length == 0:
            break
        label = data[pos + 1:pos + 1 + length]
        if length > MAX_LABEL or len(label) != length or not _PLAIN.issuperset(label):
            return None
        labels.append(label)
        pos += 1 + length
    pos += 1
    if pos > MAX_NAME + 12 or pos + 4 > len(data):
        return None
    qtype, qclass = struct.unpack_from("!HH", data, pos)
    question_end = pos + 4
    limit = UDP_DEFAULT_SIZE
    if arcount:
        if question_end + 11 > len(data) or data[question_end] != 0:
            return None
        rtype, udp_size, ttl, rdlength = struct.unpack_from("!HHIH", data, question_end + 1)
        if rtype != _TYPE_OPT or ttl & 0x00FF0000 or question_end + 11 + rdlength != len(data):
            return None
        limit = max(UDP_DEFAULT_SIZE, udp_size)
    elif question_end != len(data):
        return None
    if qclass != _CLASS_IN or qtype not in _FAST_TYPES:
        return None
    name = b".".join(labels).decode("ascii")
    rcode, records = lookup(name, _FAST_TYPES[qtype])
    if rcode != "NOERROR" or not any(r.type == _FAST_TYPES[qtype] for r in records):
        return None                       # negative answers carry the zone's SOA: the general path
    qname = name + "."
    answers = []
    for record in records:
        if record.type == "A":
            rdata = socket.inet_pton(socket.AF_INET, record.value)
        elif record.type == "AAAA":
            rdata = socket.inet_pton(socket.AF_INET6, record.value)
        elif record.type == "CNAME":
            rdata = _encode_name(record.value)
        else:
            return None
        owner = _absolute(record.name)
        answers.append((b"\xc0\x0c" if owner == qname else _encode_name(owner))      # pointer to the question
                       + struct.pack("!HHIH", getattr(QTYPE, record.type), _CLASS_IN, record.ttl, len(rdata))
                       + rdata)
    reply_flags = (flags | 0x8000 | 0x0400 | 0x0080) & 0xFFF0      # QR, AA, RA; the request's RD/CD kept
    packet = b"".join([struct.pack("!6H", qid, reply_flags, 1, len(answers), 0, arcount), data[12:question_end],
                       *answers, _OPT_REPLY if arcount else b""])
    if max_size is not None and len(packet) > limit:
        return None                       # truncation: the general path
    return packet


@functools.lru_cache(maxsize=4096)
def _encode_name(name: str) -> bytes:
    labels = [label.encode("ascii") for label in name.rstrip(".").split(".") if label]
    if any(len(label) > MAX_LABEL for label in labels):
        raise ValueError(f"label too long in {name!r}")
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"


def _dnslib_answer(data: bytes, lookup: Lookup, max_size: int | None,
                   authority: Callable[[str], Record | None] | None) -> bytes | None:
    """answer_packet for every packet, with dnslib."""
    try:
        request = DNSRecord.parse(data)
    except Exception:
        return _error_reply(data, RCODE.FORMERR)
    if request.header.qr:
        return None
    if request.header.opcode != _OPCODE_QUERY:
        return _error_reply(data, RCODE.NOTIMP)
    if len(request.questions) != 1 or not _name_fits(request.q.qname):
        return _error_reply(data, RCODE.FORMERR)
    question = request.q
    opt = next((rr for rr in request.ar if rr.rtype == _TYPE_OPT), None)
    reply = request.reply(ra=1, aa=1)
    reply.ar = []
    if opt is not None:
        if (opt.ttl >> 16) & 0xFF != 0:
            # RFC 6891 6.1.3: an unsupported version gets BADVERS, with the OPT of the version we speak
            reply.header.rcode = BADVERS & 0xF
            reply.add_ar(EDNS0(udp_len=EDNS_SIZE, ext_rcode=BADVERS >> 4, version=0))
            return reply.pack()
        reply.add_ar(EDNS0(udp_len=EDNS_SIZE))
    if question.qclass != _CLASS_IN:
        reply.header.rcode = RCODE.REFUSED
        return reply.pack()
    qtype = str(QTYPE.get(question.qtype))
    if qtype.isdigit():
        qtype = f"TYPE{qtype}"              # RFC 3597 name of a type dnslib does not know
    try:
        rcode, records = lookup(str(question.qname).rstrip("."), qtype)
    except Exception:
        rcode, records = "SERVFAIL", []   # a broken lookup must not take the server down
    reply.header.rcode = RCODE.reverse.get(rcode, RCODE.SERVFAIL)
    for record in records:
        rr = to_wire_rr(record)
        if rr is not None:
            reply.add_answer(rr)
    if authority is not None and rcode in ("NXDOMAIN", "NOERROR") and not any(r.type == qtype for r in records):
        soa = authority(str(question.qname).rstrip("."))
        if soa is not None:
            reply.add_auth(to_wire_rr(soa))
    try:
        packet = reply.pack()
    except Exception:
        return _error_reply(data, RCODE.SERVFAIL)    # an answer that cannot be encoded
    if max_size is not None:
        limit = max(UDP_DEFAULT_SIZE, opt.rclass) if opt is not None else UDP_DEFAULT_SIZE
        if len(packet) > limit:
            # RFC 1035 / RFC 7766: say it is truncated; the client retries over TCP
            reply.rr = []
            reply.header.tc = 1
            packet = reply.pack()
    return packet


def _name_fits(qname) -> bool:
    """RFC 1035 2.3.4: labels of at most 63 octets, names of at most 255 octets on the wire."""
    labels = qname.label
    return all(len(label) <= MAX_LABEL for label in labels) and sum(len(x) + 1 for x in labels) + 1 <= MAX_NAME


def _is_formerr(packet: bytes) -> bool:
    return len(packet) >= 4 and packet[3] & 0x0F == RCODE.FORMERR


class DnsServer:
    """A DNS server on a loopback address, UDP and TCP on the same port, one thread each."""

    def __init__(self, lookup: Lookup, host: str = "127.0.0.1", port: int = 10053,
                 version: Callable[[], object] | None = None, authority: Callable[[str], Record | None] | None = None,
                 *, tcp_deadline: float = TCP_DEADLINE, max_tcp_connections: int = MAX_TCP_CONNECTIONS,
                 cache_bytes: int = CACHE_BYTES):
        """`version`, when given, says when lookup's answers may have changed (the cluster's generation):
        while it stays the same, a repeated question is answered from the packet built last time (at
        most `cache_bytes` of them, oldest dropped first; malformed queries are never kept).
        A TCP connection is closed `tcp_deadline` seconds after it opened, and at most
        `max_tcp_connections` are served at once."""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise BackendError(f"DnsServer binds only to a loopback address, not {host!r} "
                               "(use 127.0.0.1 or ::1)")
        self.lookup = lookup
        self.version = version
        self.authority = authority
        self._cache: dict[tuple, bytes] = {}
        self._cache_version = None
        self._cache_size = 0
        self._cache_bytes = cache_bytes
        self._cache_lock = threading.Lock()
        self.tcp_deadline = tcp_deadline
        self._tcp_slots = threading.BoundedSemaphore(max_tcp_connections)
        self.host = host
        self.port = port
        self._family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> "DnsServer":
        """Bind UDP and TCP (port 0 = a free port, the same for both) and serve in threads."""
        if self._threads:
            return self
        for _attempt in range(20):
            udp = socket.socket(self._family, socket.SOCK_DGRAM)
            udp.bind((self.host, self.port))
            port = udp.getsockname()[1]
            tcp = socket.socket(self._family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.host, port))
            except OSError as exc:
                udp.close()
                tcp.close()
                if self.port == 0 and exc.errno == errno.EADDRINUSE:
                    continue
                raise
            break
        else:
            raise BackendError("DnsServer found no port free for both UDP and TCP")
        tcp.listen(16)
        udp.settimeout(None)      # blocking: no poll() before every datagram; stop() wakes it with one
        tcp.settimeout(_POLL)
        self._udp, self._tcp, self.port = udp, tcp, port
        self._stop.clear()
        self._threads = [threading.Thread(target=self._serve_udp, name=f"dns-udp-{port}", daemon=True),
                         threading.Thread(target=self._serve_tcp, name=f"dns-tcp-{port}", daemon=True)]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        """Stop both listeners and wait for their threads."""
        self._stop.set()
        if self._udp is not None and self._threads:
            try:
                with socket.socket(self._family, socket.SOCK_DGRAM) as wake:
                    wake.sendto(b"", (self.host, self.port))     # unblocks the UDP thread's recvfrom
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()
        self._udp = self._tcp = None

    def wait(self) -> None:
        """Block until stop() is called (from another thread or a signal handler)."""
        while not self._stop.wait(0.5):
            pass

    def __enter__(self) -> "DnsServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._threads else "stopped"
        return f"DnsServer({self.host}:{self.port}, {state})"

    # -- serving --------------------------------------------------------------------------------

    def _answer(self, data: bytes, max_size: int | None) -> bytes | None:
        """answer_packet, reusing the reply to an identical question (everything after the 2-byte ID)
        while the cluster is unchanged."""
        if self.version is None or len(data) < 12:
            return answer_packet(data, self.lookup, max_size, self.authority)
        version = self.version()
        key = (data[2:], max_size)
        with self._cache_lock:
            if version != self._cache_version:
                self._cache, self._cache_size, self._cache_version = {}, 0, version
            cached = self._cache.get(key)
        if cached is not None:
            return data[:2] + cached
        packet = answer_packet(data, self.lookup, max_size, self.authority)
        if packet is None or len(packet) < 2 or _is_formerr(packet):
            return packet                 # malformed queries are never cached: each could be unique
        self._remember(key, packet[2:], version)
        return packet

    def _remember(self, key: tuple, packet: bytes, version) -> None:
        """Keep a reply, dropping the oldest ones while the cache is over its size in bytes."""
        size = len(key[0]) + len(packet)
        if size > self._cache_bytes:
            return
        with self._cache_lock:
            if version != self._cache_version or key in self._cache:
                return
            self._cache[key] = packet
            self._cache_size += size
            while self._cache_size > self._cache_bytes:
                old_key = next(iter(self._cache))
                self._cache_size -= len(old_key[0]) + len(self._cache.pop(old_key))

    @property
    def cache_size(self) -> int:
        """Bytes held by the answer cache (questions and replies)."""
        return self._cache_size

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self._udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if self._stop.is_set():
                return
            try:
                packet = self._answer(data, UDP_DEFAULT_SIZE)
                if packet is not None:
                    self._udp.sendto(packet, addr)
            except Exception:
                continue              # whatever one packet does, keep serving

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if not self._tcp_slots.acquire(blocking=False):
                conn.close()              # at the cap: refuse rather than queue (the client retries)
                continue
            threading.Thread(target=self._serve_conn, args=(conn,), daemon=True).start()

    def _serve_conn(self, conn: socket.socket) -> None:
        """RFC 1035 4.2.2: each message is preceded by its two-byte length; several per connection,
        until the client closes, the deadline passes, or anything goes wrong (then close, never raise)."""
        deadline = time.monotonic() + self.tcp_deadline
        try:
            with conn:
                while not self._stop.is_set():
                    head = _recv_exact(conn, 2, deadline)
                    if head is None:
                        return
                    data = _recv_exact(conn, struct.unpack("!H", head)[0], deadline)
                    if data is None:
                        return
                    packet = self._answer(data, None)
                    if packet is not None:
                        conn.settimeout(max(0.01, deadline - time.monotonic()))
                        conn.sendall(struct.pack("!H", len(packet)) + packet)
        except Exception:
            return                        # one connection's trouble must not show up as a thread traceback
        finally:
            self._tcp_slots.release()


def _recv_exact(conn: socket.socket, n: int, deadline: float) -> bytes | None:
    """n bytes, or None when the peer closes or the deadline passes first (a trickling client)."""
    buf = b""
    while len(buf) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        conn.settimeout(min(remaining, TCP_IDLE))
        try:
            chunk = conn.recv(n - len(buf))
        except socket.timeout:
            return None                   # idle too long, or the deadline came
        if not chunk:
            return None
        buf += chunk
    return buf


def serve_manifests(paths, port: int = 10053, *, ready=print) -> None:
    """``kubelab dns serve``: build a simulated cluster from manifest files and serve its DNS until
    interrupted (Ctrl-C)."""
    import kubelab

    lab = kubelab.connect()
    for path in paths:
        lab.apply(Path(path))
    server = lab.serve_dns(port=port)
    ready(f"serving cluster DNS for {lab!r} on 127.0.0.1:{server.port} (UDP and TCP); "
          f"try: dig @127.0.0.1 -p {server.port} kubernetes.default.svc.{lab.config.cluster_domain}", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
