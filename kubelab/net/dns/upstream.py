"""What sits behind CoreDNS's forward plugin: the world's DNS, private nameservers, and addresses where
nothing answers, reached (or not) over the network like any other traffic.

Rules from CoreDNS plugin/forward (forward.go ServeDNS: try the upstreams until ``defaultTimeout``,
5 s, then SERVFAIL with the last error) and plugin/errors (errors.go: one ``[ERROR] plugin/errors:
RCODE NAME. TYPE: ERROR`` line per failed query).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable, Mapping

from .answer import Record, srv_record

__all__ = ["RecordServer", "Upstreams", "ForwardOutcome", "FORWARD_DEADLINE_MS", "forward_error_line",
           "RESOLV_CONF"]

FORWARD_DEADLINE_MS = 5000   # forward.go: defaultTimeout = 5 * time.Second, the whole forward's deadline
RESOLV_CONF = "/etc/resolv.conf"
_UPSTREAM_TTL = 30           # kubeadm's "cache 30" caps what clients see of forwarded answers
_MAX_CNAME_DEPTH = 8         # CoreDNS backend_lookup: stop after 8 chained CNAMEs

NOERROR, NXDOMAIN, SERVFAIL = "NOERROR", "NXDOMAIN", "SERVFAIL"


def _norm(name: str) -> str:
    return name.lower().rstrip(".")


class RecordServer:
    """A nameserver that answers from a table {name: {TYPE: [values]}} and chases its own CNAMEs
    (a recursive resolver's view of the world, or a private authoritative server): NXDOMAIN for names it lacks."""

    def __init__(self, records: Mapping[str, Mapping[str, list]] | None = None):
        self._records = {_norm(name): {t.upper(): list(v) for t, v in types.items()}
                         for name, types in (records or {}).items()}

    def query(self, name: str, qtype: str, depth: int = 0) -> tuple[str, list[Record]]:
        """(rcode, records): the records of the asked type, any CNAMEs on the way first."""
        name, qtype = _norm(name), qtype.upper()
        entry = self._records.get(name)
        if entry is None:
            return NXDOMAIN, []
        if qtype in entry:
            return NOERROR, [_record(name, qtype, v) for v in entry[qtype]]
        if "CNAME" in entry and depth < _MAX_CNAME_DEPTH:
            target = _norm(entry["CNAME"][0])
            rcode, rest = self.query(target, qtype, depth + 1)
            return rcode, [Record(name, "CNAME", _UPSTREAM_TTL, target)] + rest
        return NOERROR, []


def _record(name: str, qtype: str, value) -> Record:
    if qtype == "SRV":
        prio, weight, port, target = str(value).split()
        return srv_record(name, _UPSTREAM_TTL, int(prio), int(weight), int(port), _norm(target))
    if qtype in ("CNAME", "PTR", "NS"):
        value = _norm(str(value))
    return Record(name, qtype, _UPSTREAM_TTL, str(value))


@dataclass(frozen=True)
class ForwardOutcome:
    """One forwarded query: the reply CoreDNS passes on, or SERVFAIL after the deadline with the error it logs."""

    rcode: str
    records: tuple = ()
    upstream: str = ""            # the address last tried
    error: str | None = None      # the forward plugin's error (None when an upstream replied)
    elapsed_ms: int = 0
    logged: bool = True           # the server block has the errors plugin, so a failure is logged


def forward_error_line(name: str, qtype: str, error: str) -> str:
    """errors.go: ``[ERROR] plugin/errors: <rcode number> <name>. <type>: <error>`` (2 = SERVFAIL)."""
    return f"[ERROR] plugin/errors: 2 {_norm(name)}. {qtype.upper()}: {error}"


def _ephemeral_port(*parts: str) -> int:
    """A source port in Linux's ephemeral range (32768-60999), derived from the query so output is stable."""
    return 32768 + zlib.crc32("|".join(parts).encode()) % (60999 - 32768 + 1)


class Upstreams:
    """The nameservers CoreDNS can forward to.

    ``world``: what the node's nameservers (and any other outside resolver) answer; ``private``: {ip:
    RecordServer} of the servers connect(dns_servers=...) describes; ``node_nameservers``: the addresses
    ``forward . /etc/resolv.conf`` means (CoreDNS's own resolv.conf is the node's: dnsPolicy Default).
    ``path(ip) -> (source ip, None) | (source ip, why blocked)`` says whether CoreDNS's UDP/53 packet gets there.
    """

    def __init__(self, world: RecordServer, private: Mapping[str, RecordServer], node_nameservers: tuple,
                 path: Callable[[str], "tuple[str, str | None]"] | None = None):
        self.world = world
        self.private = dict(private)
        self.node_nameservers = tuple(node_nameservers)
        self._path = path
        self._paths: dict = {}

    def server_at(self, ip: str) -> RecordServer | None:
        """Who answers on ip:53: a private server, the world's resolvers (the node's nameservers), or nobody."""
        if ip in self.private:
            return self.private[ip]
        if ip in self.node_nameservers:
            return self.world
        return None

    def addresses(self, to: tuple) -> list[str]:
        """forward's TO list as addresses: /etc/resolv.conf expands to its nameservers; ports dropped."""
        out: list[str] = []
        for item in to:
            item = item.split("://", 1)[-1]
            if item == RESOLV_CONF:
                out.extend(self.node_nameservers)
                continue
            host = item[1:].split("]", 1)[0] if item.startswith("[") else \
                (item.rsplit(":", 1)[0] if item.count(":") == 1 else item)
            out.append(host)
        return out

    def _reach(self, ip: str) -> tuple[str, str | None]:
        if self._path is None:
            return "", None
        if ip not in self._paths:
            self._paths[ip] = self._path(ip)
        return self._paths[ip]

    def forward(self, to: tuple, name: str, qtype: str) -> ForwardOutcome:
        """forward.go ServeDNS: try each upstream in order (policy sequential, for stable output) until one
        replies; if none does before the 5 s deadline, SERVFAIL with the last upstream's error."""
        last, error = "", None
        for ip in self.addresses(to):
            source, blocked = self._reach(ip)
            server = None if blocked else self.server_at(ip)
            if server is not None:
                rcode, records = server.query(name, qtype)
                return ForwardOutcome(rcode, tuple(records), ip)
            port = _ephemeral_port(ip, _norm(name), qtype.upper())
            where = f"[{ip}]" if ":" in ip else ip
            src = f"[{source}]" if ":" in source else source
            last, error = ip, f"read udp {src}:{port}->{where}:53: i/o timeout"
        if error is None:
            error = "no healthy proxies"      # forward.go ErrNoHealthy: no upstream at all
        return ForwardOutcome(SERVFAIL, (), last, error, FORWARD_DEADLINE_MS)
