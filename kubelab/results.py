"""What probes return: results that explain themselves in one line, print deterministically and
render as HTML in a notebook."""
from __future__ import annotations

import html
from dataclasses import dataclass, field

__all__ = ["Verdict", "Hop", "Trace", "Response", "ApplyResult"]


def _table_html(headers: list[str], rows: list[list[str]], caption: str = "") -> str:
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    cap = f"<caption style='text-align:left'>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass(frozen=True)
class Verdict:
    """Can a connection be made? `bool(v)` is the answer, `.reason` says why in one line."""

    allowed: bool
    reason: str
    src: str
    dst: str
    port: int
    protocol: str = "TCP"
    endpoint: str | None = None          # "IP:port" this connection landed on
    candidates: tuple = ()               # every "IP:port" a new connection could land on
    source_ip: str | None = None         # the source the destination sees after any SNAT
    rules: tuple = ()                    # the rules, policies and routes that decided, in order
    implementation_specific: bool = False

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def target(self) -> str:
        """dst:port/protocol, with an IPv6 address in brackets as in a URL ([fd00::1]:80/TCP)."""
        dst = f"[{self.dst}]" if ":" in self.dst else self.dst
        return f"{dst}:{self.port}/{self.protocol}"

    def __str__(self) -> str:
        head = f"{'ALLOWED' if self.allowed else 'BLOCKED'} {self.src} -> {self.target}"
        lines = [head, f"  reason: {self.reason}"]
        if self.endpoint:
            lines.append(f"  endpoint: {self.endpoint}")
        if len(self.candidates) > 1:
            lines.append(f"  candidates: {', '.join(self.candidates)}")
        if self.source_ip:
            lines.append(f"  source seen by destination: {self.source_ip}")
        lines += [f"  - {rule}" for rule in self.rules if rule != self.reason]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.allowed else "#cf222e"
        word = "ALLOWED" if self.allowed else "BLOCKED"
        rows = [["reason", self.reason]]
        if self.endpoint:
            rows.append(["endpoint", self.endpoint])
        if len(self.candidates) > 1:
            rows.append(["candidates", ", ".join(self.candidates)])
        if self.source_ip:
            rows.append(["source seen by destination", self.source_ip])
        rows += [["rule", r] for r in self.rules]
        title = (f"<b style='color:{colour}'>{word}</b> <code>{html.escape(self.src)}</code> → "
                 f"<code>{html.escape(self.target)}</code>")
        return f"<div>{title}{_table_html(['', ''], rows)}</div>"


@dataclass(frozen=True)
class Hop:
    """One step of a packet's path: where it is, what happens there, and the addresses after it."""

    where: str          # "pod default/web-1", "node node-1", "underlay"
    device: str         # "eth0", "veth3a1f", "cni0", "flannel.1", "iptables nat"
    action: str         # one line: what happens here
    src: str = ""       # addresses of the packet as it leaves this hop
    dst: str = ""
    detail: str = ""    # e.g. "VXLAN VNI 1, UDP 8472, outer 192.168.0.11 -> 192.168.0.12"


@dataclass(frozen=True)
class Trace:
    """Every hop a packet takes, then the reply path; `.verdict` is the same answer reach() gives."""

    verdict: Verdict
    hops: tuple = ()
    reply: tuple = ()
    mtu: int | None = None

    def __bool__(self) -> bool:
        return bool(self.verdict)

    def rows(self, hops=None) -> list[list[str]]:
        return [[str(i + 1), h.where, h.device, h.action, f"{h.src} -> {h.dst}" if h.src else "", h.detail]
                for i, h in enumerate(self.hops if hops is None else hops)]

    def __str__(self) -> str:
        lines = [str(self.verdict).splitlines()[0], f"  reason: {self.verdict.reason}"]
        lines += [f"  - {rule}" for rule in self.verdict.rules if rule != self.verdict.reason]
        if self.mtu:
            lines.append(f"  path MTU for pod traffic: {self.mtu}")
        # columns as wide as this trace needs, so long pod and device names stay aligned
        where_w = max((len(h.where) for h in self.hops + self.reply), default=0)
        device_w = max((len(h.device) for h in self.hops + self.reply), default=0)
        for i, h in enumerate(self.hops, 1):
            addr = f" [{h.src} -> {h.dst}]" if h.src else ""
            extra = f" ({h.detail})" if h.detail else ""
            lines.append(f"  {i:>2}. {h.where:<{where_w}}  {h.device:<{device_w}}  {h.action}{addr}{extra}")
        if self.reply:
            lines.append("  reply:")
            for i, h in enumerate(self.reply, 1):
                addr = f" [{h.src} -> {h.dst}]" if h.src else ""
                lines.append(f"  {i:>2}. {h.where:<{where_w}}  {h.device:<{device_w}}  {h.action}{addr}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        out = self.verdict._repr_html_()
        out += _table_html(["#", "where", "device", "action", "addresses", "detail"], self.rows(), "path")
        if self.reply:
            out += _table_html(["#", "where", "device", "action", "addresses", "detail"], self.rows(self.reply),
                               "reply")
        return out


@dataclass(frozen=True)
class Response:
    """An HTTP response as a client outside or inside the cluster sees it."""

    status: int
    text: str = ""
    headers: dict = field(default_factory=dict)
    url: str = ""
    served_by: str | None = None     # "IP:port" of the endpoint that answered
    reason: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400

    def json(self):
        import json
        return json.loads(self.text)

    def __str__(self) -> str:
        by = f" (served by {self.served_by})" if self.served_by else ""
        lines = [f"HTTP {self.status} {self.url}{by}"]
        if self.reason:
            lines.append(f"  reason: {self.reason}")
        if self.text:
            lines.append("  " + self.text.strip().replace("\n", "\n  "))
        return "\n".join(lines)

    __repr__ = __str__


@dataclass(frozen=True)
class ApplyResult:
    """What apply() did to each object, in kubectl's words ("service/web created")."""

    changes: tuple = ()   # (kind, key, verb)
    warnings: tuple = ()  # accepted, but probably not what was meant (kubectl prints "Warning: ...")

    def __str__(self) -> str:
        lines = [f"{kind.lower()}/{key.split('/')[-1]} {verb}" for kind, key, verb in self.changes]
        return "\n".join(lines + [f"Warning: {w}" for w in self.warnings])

    __repr__ = __str__

    def __iter__(self):
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)
