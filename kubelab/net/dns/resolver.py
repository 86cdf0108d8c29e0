"""The stub resolver in a pod: /etc/resolv.conf, the search list and ndots, as glibc does it.

Rules from glibc resolv/res_init.c (reading resolv.conf), res_query.c (__res_context_search,
the search-list walk) and res_send.c (trying the next nameserver), and resolv.conf(5).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .answer import DnsAnswer, Record

__all__ = ["ResolvConf", "parse_resolv_conf", "resolve", "Lookup"]

Lookup = Callable[[str, str, str], "tuple[str, list[Record]]"]

MAXNS = 3                 # resolv.h: at most three nameservers are used
MAX_NDOTS = 15            # res_init.c: RES_MAXNDOTS
_NEXT_SERVER = ("SERVFAIL", "REFUSED", "NOTIMP", "TIMEOUT")   # res_send.c: these make glibc try the next server


@dataclass(frozen=True)
class ResolvConf:
    """What glibc takes from /etc/resolv.conf."""

    nameservers: tuple = ()
    search: tuple = ()
    options: tuple = ()
    ndots: int = 1

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
    options accumulate, ndots:n is capped at 15 (default 1)."""
    nameservers: list[str] = []
    search: list[str] = []
    options: list[str] = []
    ndots = 1
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
    return ResolvConf(tuple(nameservers), tuple(search), tuple(options), ndots)


def _send(lookup: Lookup, servers: tuple, name: str, qtype: str) -> tuple[str, list[Record], str]:
    """res_send: ask the nameservers in order, moving on after SERVFAIL/REFUSED/NOTIMP."""
    rcode, records, used = "SERVFAIL", [], servers[0]
    for server in servers:
        rcode, records = lookup(server, name, qtype)
        used = server
        if rcode not in _NEXT_SERVER:
            break
    return rcode, list(records), used


def _answer(name: str, qtype: str, rcode: str, records: list, queries: list, server: str,
            reason: str) -> DnsAnswer:
    if qtype == "CNAME":
        final, chain = records, ()
    else:   # as on the wire: the CNAME records first, then the target's records of the asked type
        final = [r for r in records if r.type in (qtype, "CNAME")]
        chain = tuple(r.value for r in records if r.type == "CNAME")
    return DnsAnswer(name=name, rtype=qtype, rcode=rcode, records=tuple(final), cname_chain=chain,
                     queries=tuple(queries), server=server, reason=reason)


def resolve(qname: str, qtype: str, resolv_conf: "str | ResolvConf | None", lookup: Lookup, *,
            server: str = "") -> DnsAnswer:
    """Resolve like glibc's res_search (resolv_conf given) or send ``qname`` as is (resolv_conf None).

    ``resolv_conf``: the file's text or, parsed once and reused, a ResolvConf.
    ``lookup(server_ip, name, type) -> (rcode, records)`` is one query to one server.
    """
    qtype = qtype.upper()
    if resolv_conf is None:
        name = qname.rstrip(".").lower()
        rcode, records = lookup(server, name, qtype)
        reason = f"sent as is to {server or 'the cluster DNS'}: {_status(rcode, records)}"
        return _answer(name, qtype, rcode, list(records), [name], server, reason)

    conf = resolv_conf if isinstance(resolv_conf, ResolvConf) else parse_resolv_conf(resolv_conf)
    servers = conf.nameservers or ("127.0.0.1",)          # res_init: no nameserver = the local host
    trailing_dot = qname.endswith(".")
    bare = qname.rstrip(".").lower()
    dots = qname.count(".")
    queries: list[str] = []
    state = {"nodata": None, "servfail": None}

    def attempt(candidate: str):
        queries.append(candidate)
        rcode, records, used = _send(lookup, servers, candidate, qtype)
        if rcode == "NOERROR" and any(r.type == qtype for r in records):
            why = (f"{candidate} answered (candidate {len(queries)}; search list "
                   f"{' '.join(conf.search) or '-'}, ndots:{conf.ndots})")
            return _answer(candidate, qtype, rcode, records, queries, used, why), rcode, used
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
                           f"{bare}: {_status(rcode, [])}; absolute name, search list not used")
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
    return _answer(name, qtype, rcode, [], queries, used, reason)


def _status(rcode: str, records) -> str:
    return "NODATA" if rcode == "NOERROR" and not records else rcode
