"""The stub resolver in a pod: /etc/resolv.conf, the search list and ndots, as glibc does it.

Rules from glibc resolv/res_init.c (reading resolv.conf), res_query.c (__res_context_search,
the search-list walk) and res_send.c (trying the next nameserver, and how long it waits), and resolv.conf(5).

The query clock: a query a server answers costs ANSWER_RTT_MS (a fixed simulated round trip) plus
whatever the server spent (CoreDNS waiting out a dead forward: 5 s); a query nobody answers costs what
res_send waits for it (send_dg's timeout per nameserver, for each of ``attempts`` rounds).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .answer import DnsAnswer, Record

__all__ = ["ResolvConf", "parse_resolv_conf", "resolve", "Lookup"]

Lookup = Callable[[str, str, str], "tuple[str, list[Record]] | tuple[str, list[Record], int]"]

MAXNS = 3                 # resolv.h: at most three nameservers are used
MAX_NDOTS = 15            # res_init.c: RES_MAXNDOTS
RES_TIMEOUT = 5           # resolv.h: default "options timeout:" in seconds
RES_MAXRETRANS = 30       # resolv.h: timeout is capped at 30 s
RES_DFLRETRY = 2          # resolv.h: default "options attempts:"
RES_MAXRETRY = 5          # resolv.h: attempts is capped at 5
ANSWER_RTT_MS = 1         # kubelab's choice: one answered query's round trip, in simulated milliseconds
_NEXT_SERVER = ("SERVFAIL", "REFUSED", "NOTIMP", "TIMEOUT")   # res_send.c: these make glibc try the next server


@dataclass(frozen=True)
class ResolvConf:
    """What glibc takes from /etc/resolv.conf."""

    nameservers: tuple = ()
    search: tuple = ()
    options: tuple = ()
    ndots: int = 1
    timeout: int = RES_TIMEOUT
    attempts: int = RES_DFLRETRY

    def __str__(self) -> str:
        lines = []
        if self.search:
            lines.append("search " + " ".join(self.search))
        lines += [f"nameserver {ns}" for ns in self.nameservers]
        if self.options:
            lines.append("options " + " ".join(self.options))
        return "\n".join(lines) + ("\n" if lines else "")


def parse_resolv_conf(text: str) -> ResolvConf:
    """res_init: nameserver lines accumulate (first 3 kept); the last search/domain line wins;
    options accumulate, ndots:n is capped at 15 (default 1), timeout:n at 30 (default 5), attempts:n at 5 (default 2)."""
    nameservers: list[str] = []
    search: list[str] = []
    options: list[str] = []
    ndots, timeout, attempts = 1, RES_TIMEOUT, RES_DFLRETRY
    for raw in (text or "").splitlines():
        fields = raw.split()
        if not fields or fields[0][0] in "#;":
            continue
        key, args = fields[0], fields[1:]
        if key == "nameserver" and args and len(nameservers) < MAXNS:
            nameservers.append(args[0])
        elif key == "search":
            search = list(args)
        elif key == "domain" and args:
            search = [args[0]]
        elif key == "options":
            for opt in args:
                options.append(opt)
                if opt.startswith("ndots:") and opt[6:].isdigit():
                    ndots = min(int(opt[6:]), MAX_NDOTS)
                elif opt.startswith("timeout:") and opt[8:].isdigit():
                    timeout = max(1, min(int(opt[8:]), RES_MAXRETRANS))
                elif opt.startswith("attempts:") and opt[9:].isdigit():
                    attempts = max(1, min(int(opt[9:]), RES_MAXRETRY))
    return ResolvConf(tuple(nameservers), tuple(search), tuple(options), ndots, timeout, attempts)


def _wait_ms(conf: ResolvConf, index: int, count: int) -> int:
    """res_send.c send_dg: seconds = timeout << ns, divided by the nameserver count for ns > 0, at least 1."""
    seconds = conf.timeout << index
    if index > 0:
        seconds //= count
    return max(seconds, 1) * 1000


def _ask(lookup: Lookup, server: str, name: str, qtype: str) -> tuple[str, list, int]:
    """One query: (rcode, records, ms the server spent before replying)."""
    reply = lookup(server, name, qtype)
    return (reply[0], list(reply[1]), reply[2]) if len(reply) == 3 else (reply[0], list(reply[1]), 0)


def _send(lookup: Lookup, conf: ResolvConf, servers: tuple, name: str, qtype: str) -> tuple[str, list, str, int]:
    """res_send: ``attempts`` rounds over the nameservers, moving on after SERVFAIL/REFUSED/NOTIMP or a
    timeout; (rcode, records, server, ms waited). A server that replied gives the retry the same reply
    in one round trip (for CoreDNS: its cache plugin keeps a SERVFAIL 5 s)."""
    rcode, records, used, elapsed = "SERVFAIL", [], servers[0], 0
    replied: dict = {}
    for _round in range(conf.attempts):
        for index, server in enumerate(servers):
            used = server
            if server in replied:
                rcode, records = replied[server]
                elapsed += ANSWER_RTT_MS
                continue
            rcode, records, spent = _ask(lookup, server, name, qtype)
            if rcode == "TIMEOUT":
                elapsed += _wait_ms(conf, index, len(servers))
                continue
            elapsed += spent + ANSWER_RTT_MS
            if rcode not in _NEXT_SERVER:
                return rcode, records, used, elapsed
            replied[server] = (rcode, records)
    return rcode, records, used, elapsed


def _answer(name: str, qtype: str, rcode: str, records: list, queries: list, server: str,
            reason: str, elapsed_ms: int = 0) -> DnsAnswer:
    if qtype == "CNAME":
        final, chain = records, ()
    else:   # as on the wire: the CNAME records first, then the target's records of the asked type
        final = [r for r in records if r.type in (qtype, "CNAME")]
        chain = tuple(r.value for r in records if r.type == "CNAME")
    return DnsAnswer(name=name, rtype=qtype, rcode=rcode, records=tuple(final), cname_chain=chain,
                     queries=tuple(queries), server=server, reason=reason, elapsed_ms=elapsed_ms)


def resolve(qname: str, qtype: str, resolv_conf: "str | ResolvConf | None", lookup: Lookup, *,
            server: str = "") -> DnsAnswer:
    """Resolve like glibc's res_search (resolv_conf given) or send ``qname`` as is (resolv_conf None).

    ``resolv_conf``: the file's text or, parsed once and reused, a ResolvConf.
    ``lookup(server_ip, name, type) -> (rcode, records)`` is one query to one server.
    """
    qtype = qtype.upper()
    if resolv_conf is None:
        name = qname.rstrip(".").lower()
        rcode, records, spent = _ask(lookup, server, name, qtype)
        reason = f"sent as is to {server or 'the cluster DNS'}: {_status(rcode, records)}"
        elapsed = _wait_ms(ResolvConf(), 0, 1) * RES_DFLRETRY if rcode == "TIMEOUT" else spent + ANSWER_RTT_MS
        return _answer(name, qtype, rcode, records, [name], server, reason, elapsed)

    conf = resolv_conf if isinstance(resolv_conf, ResolvConf) else parse_resolv_conf(resolv_conf)
    servers = conf.nameservers or ("127.0.0.1",)          # res_init: no nameserver = the local host
    trailing_dot = qname.endswith(".")
    bare = qname.rstrip(".").lower()
    dots = qname.count(".")
    queries: list[str] = []
    state = {"nodata": None, "servfail": None, "ms": 0}

    def attempt(candidate: str):
        queries.append(candidate)
        rcode, records, used, spent = _send(lookup, conf, servers, candidate, qtype)
        state["ms"] += spent
        if rcode == "NOERROR" and any(r.type == qtype for r in records):
            why = (f"{candidate} answered (candidate {len(queries)}; search list "
                   f"{' '.join(conf.search) or '-'}, ndots:{conf.ndots})")
            return _answer(candidate, qtype, rcode, records, queries, used, why, state["ms"]), rcode, used
        if rcode == "NOERROR" and state["nodata"] is None:
            state["nodata"] = (candidate, used)
        if rcode == "SERVFAIL" and state["servfail"] is None:
            state["servfail"] = (candidate, used)
        return None, rcode, used

    # 1. Enough dots (or a trailing dot): try the name as is first.
    as_is = None
    if dots >= conf.ndots or trailing_dot:
        found, rcode, used = attempt(bare)
        if found:
            return found
        as_is = (bare, rcode, used)
        if trailing_dot:
            return _answer(bare, qtype, rcode, [], queries, used,
                           f"{bare}: {_status(rcode, [])}; absolute name, search list not used", state["ms"])
    # 2. Walk the search list; NXDOMAIN, NODATA and SERVFAIL move on, anything else stops the walk.
    last = None
    root_on_list = False
    for domain in conf.search:
        domain = domain.rstrip(".").lower()
        root_on_list = root_on_list or domain == ""
        candidate = f"{bare}.{domain}" if domain else bare
        found, rcode, used = attempt(candidate)
        if found:
            return found
        last = (candidate, rcode, used)
        if rcode not in ("NXDOMAIN", "NOERROR", "SERVFAIL"):
            break
    # 3. Then the name as is, unless it was tried already.
    if as_is is None and not root_on_list:
        found, rcode, used = attempt(bare)
        if found:
            return found
        last = (bare, rcode, used)
    # 4. Report: the as-is result if tried first, else NODATA if any, else SERVFAIL if any, else the last.
    if as_is is not None:
        name, rcode, used = as_is
    elif state["nodata"]:
        (name, used), rcode = state["nodata"], "NOERROR"
    elif state["servfail"]:
        (name, used), rcode = state["servfail"], "SERVFAIL"
    else:
        name, rcode, used = last
    reason = (f"no candidate had records ({len(queries)} tried; search list "
              f"{' '.join(conf.search) or '-'}, ndots:{conf.ndots}); reporting {name}: {_status(rcode, [])}")
    return _answer(name, qtype, rcode, [], queries, used, reason, state["ms"])


def _status(rcode: str, records) -> str:
    return "NODATA" if rcode == "NOERROR" and not records else rcode
