"""Result types of cluster DNS: one resource record, and what a stub resolver ended up with."""
from __future__ import annotations

import html
from dataclasses import dataclass

__all__ = ["Record", "DnsAnswer", "srv_record"]


@dataclass(frozen=True)
class Record:
    """One resource record. ``value`` is an IP, a name (no trailing dot) or text; for SRV it is
    "priority weight port target" and the parts are also in their own fields."""

    name: str
    type: str
    ttl: int
    value: str
    priority: int | None = None
    weight: int | None = None
    port: int | None = None
    target: str | None = None

    def __str__(self) -> str:
        """A dig-style line: ``name. ttl IN TYPE rdata`` (names absolute, TXT quoted)."""
        if self.type in ("CNAME", "PTR", "NS"):
            rdata = _absolute(self.value)
        elif self.type == "SRV":
            rdata = f"{self.priority} {self.weight} {self.port} {_absolute(self.target or '')}"
        elif self.type == "TXT":
            rdata = '"' + self.value.replace('"', '\\"') + '"'
        else:
            rdata = self.value
        return f"{_absolute(self.name)}\t{self.ttl}\tIN\t{self.type}\t{rdata}"


def srv_record(name: str, ttl: int, priority: int, weight: int, port: int, target: str) -> Record:
    """An SRV Record with ``value`` spelled out as "priority weight port target"."""
    return Record(name, "SRV", ttl, f"{priority} {weight} {port} {target}",
                  priority=priority, weight=weight, port=port, target=target)


SLOW_MS = 1000   # answers slower than this show their query time (quick ones keep their usual output)


def _absolute(name: str) -> str:
    return name if name.endswith(".") else name + "."


@dataclass(frozen=True)
class DnsAnswer:
    """What a lookup came back with, as seen by the pod's stub resolver."""

    name: str                         # candidate that produced the answer (or the last tried)
    rtype: str
    rcode: str                        # NOERROR | NXDOMAIN | SERVFAIL | REFUSED | TIMEOUT (no server answered)
    records: tuple = ()               # the answer section: CNAMEs first, then records of type rtype
    cname_chain: tuple = ()           # CNAME targets followed, in order
    queries: tuple = ()               # every name the resolver sent, in order
    server: str = ""
    reason: str = ""
    elapsed_ms: int = 0               # simulated time the lookup took, every query and timeout included

    @property
    def status(self) -> str:
        """The rcode, with NOERROR and no record of the asked type spelled NODATA."""
        return "NODATA" if self.rcode == "NOERROR" and not self else self.rcode

    @property
    def waited(self) -> bool:
        """The lookup sat out a timeout or a dead forward (a second or more), not just round trips."""
        return self.elapsed_ms >= SLOW_MS

    def failure(self, asked: str) -> str:
        """Why ``asked`` has no address, in one line: rcode, time waited and every name the resolver tried."""
        n = len(self.queries)
        return (f"could not resolve {asked.rstrip('.')}: {self.status} after {self.elapsed_ms / 1000:.1f} s "
                f"({n} name{'' if n == 1 else 's'} tried: {', '.join(self.queries) or '-'})")

    def __bool__(self) -> bool:
        """True when the answer holds a record of the asked type (a CNAME alone answers nothing)."""
        return any(r.type == self.rtype for r in self.records)

    @property
    def addresses(self) -> list[str]:
        """The A/AAAA values, in answer order."""
        return [r.value for r in self.records if r.type in ("A", "AAAA")]

    def __str__(self) -> str:
        timing = [f";; Query time: {self.elapsed_ms} msec"] if self.waited else []
        if self.rcode == "TIMEOUT":   # no reply at all: what dig and nslookup print
            return "\n".join([";; connection timed out; no servers could be reached",
                              f";; tried: {', '.join(self.queries) or '-'}", *timing, f";; {self.reason}"])
        status = "NOERROR (no data)" if self.rcode == "NOERROR" and not self else self.rcode
        lines = [f";; {self.name} IN {self.rtype}: {status} from {self.server or 'cluster DNS'}",
                 f";; tried: {', '.join(self.queries) or '-'}"]
        if self.cname_chain:
            lines.append(f";; via CNAME: {' -> '.join(self.cname_chain)}")
        if self.records:
            lines.append(";; ANSWER SECTION:")
            lines.extend(str(r) for r in self.records)
        lines += timing
        lines.append(f";; {self.reason}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"DnsAnswer(name={self.name!r}, rtype={self.rtype!r}, rcode={self.rcode!r}, "
                f"records={[r.value for r in self.records]!r}, queries={list(self.queries)!r}"
                + (f", elapsed_ms={self.elapsed_ms})" if self.waited else ")"))

    def _repr_html_(self) -> str:
        status = "NOERROR (no data)" if self.rcode == "NOERROR" and not self else self.rcode
        colour = "#2e7d32" if self else "#c62828"
        rows = "".join(
            f"<tr><td><code>{html.escape(r.name)}</code></td><td>{r.ttl}</td><td>{r.type}</td>"
            f"<td><code>{html.escape(r.value)}</code></td></tr>" for r in self.records)
        tried = "".join(f"<li><code>{html.escape(q)}</code></li>" for q in self.queries)
        chain = (f"<p>via CNAME: <code>{html.escape(' → '.join(self.cname_chain))}</code></p>"
                 if self.cname_chain else "")
        table = (f"<table><tr><th>name</th><th>TTL</th><th>type</th><th>value</th></tr>{rows}</table>"
                 if rows else "")
        return (f"<div><p><b>{html.escape(self.name)}</b> {self.rtype}: "
                f"<span style='color:{colour}'><b>{status}</b></span> "
                f"from {html.escape(self.server or 'cluster DNS')}</p>{chain}{table}"
                f"<details><summary>{len(self.queries)} name(s) tried"
                f"{f' in {self.elapsed_ms / 1000:.1f} s' if self.waited else ''}</summary><ol>{tried}</ol></details>"
                f"<p><i>{html.escape(self.reason)}</i></p></div>")
