"""What probes return: results that explain themselves in one line, print deterministically and
render as HTML in a notebook."""
from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass, field
from typing import Sequence

__all__ = ["Verdict", "Hop", "Trace", "Response", "ServerRequest", "Headers", "ApplyResult", "Reachability",
           "ReachabilityDiff", "CellChange"]


def _table_html(headers: list[str], rows: list[list[str]], caption: str = "", nowrap: tuple = ()) -> str:
    """An HTML table; columns named in `nowrap` never break inside a cell (addresses, device names)."""
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in headers)
    styles = ["text-align:left" + (";white-space:nowrap" if h in nowrap else "") for h in headers]
    body = "".join("<tr>" + "".join(f"<td style='{style}'>{html.escape(str(c))}</td>" for style, c in zip(styles, r))
                   + "</tr>" for r in rows)
    cap = f"<caption style='text-align:left'>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# columns a JupyterLab output area shows without scrolling: printed results fit in it, so the browser never
# wraps a line itself (it would break inside an address or a pod name)
TEXT_WIDTH = 100
_KEEP = "\x00"      # stands for a space that must not become a line break while wrapping


def _fit(line: str, indent: int, width: int = TEXT_WIDTH) -> list[str]:
    """`line` as lines of at most `width` columns, broken only at spaces (never inside an address, port or
    name; "[a -> b]" and "a -> b" stay whole), continuation lines indented `indent` columns. A word longer
    than the room left stays whole on its own line."""
    if len(line) <= width:
        return [line.replace(_KEEP, " ")]
    room = width - indent

    def keep(m):   # a group that could never fit on a continuation line may still break at its spaces
        return m.group(0).replace(" ", _KEEP) if len(m.group(0)) <= room else m.group(0)

    kept = re.sub(r"\[[^\[\]]*\]|\S+ -> \S+", keep, line)
    lines = textwrap.wrap(kept, width, subsequent_indent=" " * indent, break_long_words=False,
                          break_on_hyphens=False)
    return [part.replace(_KEEP, " ") for part in lines]


def _fit_all(lines: list[tuple[str, int]]) -> str:
    """The (line, continuation indent) pairs joined as text that fits TEXT_WIDTH."""
    return "\n".join(part for line, indent in lines for part in _fit(line, indent))


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

    @property
    def _head(self) -> str:
        return f"{'ALLOWED' if self.allowed else 'BLOCKED'} {self.src} -> {self.target}"

    def __str__(self) -> str:
        lines = [(self._head, 4), (f"  reason: {self.reason}", 4)]
        if self.endpoint:
            lines.append((f"  endpoint: {self.endpoint}", 4))
        if len(self.candidates) > 1:
            lines.append((f"  candidates: {', '.join(self.candidates)}", 4))
        if self.source_ip:
            lines.append((f"  source seen by destination: {self.source_ip}", 4))
        lines += [(f"  - {rule}", 4) for rule in self.rules if rule != self.reason]
        return _fit_all(lines)

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
        lines = [(self.verdict._head, 4), (f"  reason: {self.verdict.reason}", 4)]
        lines += [(f"  - {rule}", 4) for rule in self.verdict.rules if rule != self.verdict.reason]
        if self.mtu:
            lines.append((f"  path MTU for pod traffic: {self.mtu}", 4))
        lines += self._hop_lines()
        return _fit_all(lines)

    def _hop_lines(self) -> list[tuple[str, int]]:
        """One line per hop, "where  device  action [addresses] (detail)", each cut to fit TEXT_WIDTH.

        While where and device fit in 60 columns they are padded into aligned columns and a hop's
        continuation lines sit under its action; longer names (a 63-character pod name) leave the columns
        unpadded and continue under the hop's place."""
        where_w = max((len(h.where) for h in self.hops + self.reply), default=0)
        device_w = max((len(h.device) for h in self.hops + self.reply), default=0)
        action_at = 6 + where_w + 2 + device_w + 2
        aligned = action_at <= 60
        lines = []

        def hop(i, h, extra=""):
            place = f"{h.where:<{where_w}}  {h.device:<{device_w}}" if aligned else f"{h.where}  {h.device}"
            addr = f" [{h.src} -> {h.dst}]" if h.src else ""
            lines.append((f"  {i:>2}. {place.replace(' ', _KEEP)}  {h.action}{addr}{extra}",
                          action_at if aligned else 10))

        for i, h in enumerate(self.hops, 1):
            hop(i, h, f" ({h.detail})" if h.detail else "")
        if self.reply:
            lines.append(("  reply:", 4))
            for i, h in enumerate(self.reply, 1):
                hop(i, h)
        return lines

    __repr__ = __str__

    def _repr_html_(self) -> str:
        out = self.verdict._repr_html_()
        columns = ["#", "where", "device", "action", "addresses", "detail"]
        keep_whole = ("where", "device", "addresses")   # an address broken across lines reads as two
        out += _table_html(columns, self.rows(), "path", keep_whole)
        if self.reply:
            out += _table_html(columns, self.rows(self.reply), "reply", keep_whole)
        return out


class Headers(dict):
    """HTTP header fields: looked up case-insensitively (RFC 9110 §5.1), kept with the case they were sent in."""

    def __init__(self, items=()):
        super().__init__()
        self._lower: dict[str, str] = {}
        pairs = items.items() if isinstance(items, dict) else items
        for name, value in pairs:
            self[name] = value

    def __setitem__(self, name, value) -> None:
        old = self._lower.get(str(name).lower())
        if old is not None and old != name:
            super().__delitem__(old)
        self._lower[str(name).lower()] = name
        super().__setitem__(name, value)

    def __getitem__(self, name):
        return super().__getitem__(self._lower.get(str(name).lower(), name))

    def __delitem__(self, name) -> None:
        real = self._lower.pop(str(name).lower(), name)
        super().__delitem__(real)

    def __contains__(self, name) -> bool:
        return str(name).lower() in self._lower

    def get(self, name, default=None):
        return self[name] if name in self else default

    def pop(self, name, *default):
        if name in self:
            value = self[name]
            del self[name]
            return value
        if default:
            return default[0]
        raise KeyError(name)

    def update(self, other=(), **more) -> None:
        pairs = other.items() if isinstance(other, dict) else other
        for name, value in list(pairs) + list(more.items()):
            self[name] = value

    def setdefault(self, name, default=None):
        if name not in self:
            self[name] = default
        return self[name]

    def copy(self) -> "Headers":
        return Headers(list(self.items()))

    def __reduce__(self):
        return (Headers, (list(self.items()),))


@dataclass(frozen=True)
class ServerRequest:
    """What the server that answered received: after every proxy's rewrites and added headers."""

    method: str
    host: str
    path: str                                    # path with query string
    headers: Headers = field(default_factory=Headers)
    body: str = ""

    def __post_init__(self):
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))

    def __str__(self) -> str:
        lines = [f"{self.method} {self.path} (Host: {self.host})"]
        lines += [f"  {k}: {v}" for k, v in sorted(self.headers.items(), key=lambda kv: kv[0].lower())]
        return "\n".join(lines)


@dataclass(frozen=True)
class Response:
    """An HTTP response as a client outside or inside the cluster sees it, with who answered and why.

    `.status` is 0 when no connection could be made (curl's "000"); `.reason` then says why."""

    status: int
    text: str = ""
    headers: dict = field(default_factory=dict)
    url: str = ""
    served_by: str | None = None     # "IP:port" of the endpoint that answered
    reason: str = ""
    backend: str | None = None       # "namespace/service:port", the port as the matched route wrote it
    pod: str | None = None           # "namespace/pod" that answered
    request: ServerRequest | None = None   # what that server received
    tls_secret: str | None = None    # "namespace/secret" that terminated TLS (None: plain HTTP or a default cert)
    route: str | None = None         # the rule that matched and why, in one line
    hops: tuple = ()                 # every hop of every leg, as lab.trace shows them
    mirrors: tuple = ()              # "namespace/service:port" that got a mirrored copy
    subset: str | None = None        # mesh: the DestinationRule subset the route picked
    attempts: int = 1                # mesh: requests the client's proxy sent upstream
    elapsed_ms: int = 0              # simulated time the exchange took
    mtls: bool = False               # mesh: whether the hop to the server was mutual TLS

    def __post_init__(self):
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers or {}))

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400

    def json(self):
        import json
        return json.loads(self.text)

    def _facts(self) -> list[tuple[str, str]]:
        """The L7 facts worth a line, in a fixed order (empty ones left out)."""
        facts = [("route", self.route), ("backend", self.backend), ("pod", self.pod),
                 ("tls secret", self.tls_secret), ("mirrored to", ", ".join(self.mirrors))]
        if self.subset:
            facts.append(("subset", self.subset))
        if self.attempts != 1:
            facts.append(("attempts", str(self.attempts)))
        if self.elapsed_ms:
            facts.append(("elapsed", f"{self.elapsed_ms} ms"))
        if self.mtls:
            facts.append(("mTLS", "yes"))
        return [(k, v) for k, v in facts if v]

    def __str__(self) -> str:
        by = f" (served by {self.served_by})" if self.served_by else ""
        lines = [(f"HTTP {self.status} {self.url}{by}", 4)]
        if self.reason:
            lines.append((f"  reason: {self.reason}", 4))
        lines += [(f"  {k}: {v}", 4) for k, v in self._facts()]
        head = _fit_all(lines)
        # the body as the server sent it (its lines are the app's, not kubelab's to wrap)
        return head + ("\n  " + self.text.strip().replace("\n", "\n  ") if self.text else "")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if 200 <= self.status < 400 else "#cf222e"
        title = (f"<b style='color:{colour}'>HTTP {self.status}</b> <code>{html.escape(self.url)}</code>")
        rows = [["reason", self.reason]] if self.reason else []
        rows += [[k, v] for k, v in self._facts()]
        rows += [["header " + k, v] for k, v in sorted(self.headers.items(), key=lambda kv: kv[0].lower())]
        out = f"<div>{title}{_table_html(['', ''], rows)}"
        if self.hops:
            hop_rows = [[str(i + 1), h.where, h.device, h.action, f"{h.src} -> {h.dst}" if h.src else "", h.detail]
                        for i, h in enumerate(self.hops)]
            out += _table_html(["#", "where", "device", "action", "addresses", "detail"], hop_rows, "path")
        if self.text:
            out += f"<pre>{html.escape(self.text[:2000])}</pre>"
        return out + "</div>"


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


# ---------------------------------------------------------------- reachability matrices
# Who can reach whom on one port, shown as the upstream e2e truth tables: the text form follows
# test/e2e/network/netpol/truthtable.go (rows = from, columns = to, ``.`` allowed, ``X`` denied).

# cell codes of Reachability's matrix
_DENIED, _ALLOWED, _OUTSIDE = 0, 1, 2
_VALUE = {_DENIED: False, _ALLOWED: True, _OUTSIDE: None}
_MARK = {_DENIED: "X", _ALLOWED: ".", _OUTSIDE: "-"}


def _cell_codes(allowed, rows: int, cols: int):
    """The verdicts as an int8 numpy matrix of cell codes (None -> outside, truthy -> allowed)."""
    import numpy as np

    if isinstance(allowed, np.ndarray) and allowed.ndim == 2:
        if allowed.shape != (rows, cols):
            raise ValueError(f"allowed must be {rows} rows of {cols} values")
        if allowed.dtype != object:
            return allowed.astype(bool).astype(np.int8)
        outside = np.frompyfunc(lambda v: v is None, 1, 1)(allowed).astype(bool)
        verdicts = np.frompyfunc(bool, 1, 1)(allowed).astype(bool)
        return np.where(outside, _OUTSIDE, verdicts).astype(np.int8)
    if len(allowed) != rows or any(len(row) != cols for row in allowed):
        raise ValueError(f"allowed must be {rows} rows of {cols} values")
    codes = np.zeros((rows, cols), np.int8)
    for i, row in enumerate(allowed):
        codes[i] = [_OUTSIDE if v is None else _ALLOWED if v else _DENIED for v in row]
    return codes


class Reachability:
    """allowed[i][j]: can sources[i] connect to destinations[j] on port/protocol? Rows and columns sorted.

    A cell may be None: not a connection the cluster has a say in (two addresses outside it). Such cells
    print as ``-`` and are left out of the counts.

    The verdicts are kept as one numpy matrix (a 2,000-pod matrix is 4 MB, not millions of dict entries);
    `allowed` may be that matrix (bool) or rows of True/False/None. `reasons` is rows of strings or a
    function (src, dst) -> str, asked only for the cells someone reads (a tooltip, `.reason()`)."""

    def __init__(self, sources: Sequence[str], destinations: Sequence[str], allowed,
                 port: int, protocol: str = "TCP", reasons=None):
        sources, destinations = list(sources), list(destinations)
        codes = _cell_codes(allowed, len(sources), len(destinations))
        if len(set(sources)) != len(sources) or len(set(destinations)) != len(destinations):
            raise ValueError("source and destination names must be unique")
        self.port, self.protocol = port, protocol
        rows = sorted(range(len(sources)), key=sources.__getitem__)
        cols = sorted(range(len(destinations)), key=destinations.__getitem__)
        self.sources = [sources[i] for i in rows]
        self.destinations = [destinations[j] for j in cols]
        self._codes = codes[rows][:, cols] if codes.size else codes
        self._row = {s: i for i, s in enumerate(self.sources)}
        self._col = {d: j for j, d in enumerate(self.destinations)}
        if reasons is None or callable(reasons):
            self._reason_of = reasons
        else:
            table = {(s, d): reasons[i][j] for i, s in enumerate(sources) for j, d in enumerate(destinations)}
            self._reason_of = lambda s, d: table.get((s, d))

    def _index(self, src: str, dst: str) -> tuple[int, int]:
        try:
            return self._row[src], self._col[dst]
        except (KeyError, TypeError):
            raise KeyError(f"no cell {src} -> {dst} in this matrix") from None

    def __getitem__(self, pair: tuple[str, str]) -> bool:
        return _VALUE[int(self._codes[self._index(*pair)])]

    def reason(self, src: str, dst: str) -> str | None:
        """Why src -> dst is allowed or denied, when the matrix was built with reasons."""
        self._index(src, dst)
        return self._reason_of(src, dst) if self._reason_of is not None else None

    @property
    def matrix(self) -> list[list[bool]]:
        """The values in sorted row/column order."""
        if not (self._codes == _OUTSIDE).any():
            return (self._codes == _ALLOWED).tolist()
        return [[_VALUE[c] for c in row] for row in self._codes.tolist()]

    def _pairs(self, code: int) -> list[tuple[str, str]]:
        import numpy as np

        rows, cols = np.nonzero(self._codes == code)     # row-major: sorted by (src, dst)
        return [(self.sources[i], self.destinations[j]) for i, j in zip(rows.tolist(), cols.tolist())]

    def allowed_pairs(self) -> list[tuple[str, str]]:
        """Every (src, dst) that may connect, sorted."""
        return self._pairs(_ALLOWED)

    def denied_pairs(self) -> list[tuple[str, str]]:
        return self._pairs(_DENIED)

    @property
    def summary(self) -> str:
        allowed = int((self._codes == _ALLOWED).sum())
        total = self._codes.size - int((self._codes == _OUTSIDE).sum())
        return f"{self.protocol}/{self.port}: {allowed} of {total} allowed"

    def __eq__(self, other) -> bool:
        import numpy as np

        return (isinstance(other, Reachability) and (self.port, self.protocol) == (other.port, other.protocol)
                and self.sources == other.sources and self.destinations == other.destinations
                and bool(np.array_equal(self._codes, other._codes)))

    __hash__ = None

    def __str__(self) -> str:
        """The upstream truth table: a header of destinations, one row per source, in fixed-width columns
        (as wide as the longest name) so each mark sits under its destination in any font or notebook."""
        has_outside = bool((self._codes == _OUTSIDE).any())
        legend = ". allowed, X denied" + (", - outside the cluster" if has_outside else "")
        first = max([1, *map(len, self.sources)])
        widths = [len(d) for d in self.destinations]
        lines = [f"Reachability {self.summary} (rows: from, columns: to; {legend})",
                 "  ".join(["-".ljust(first), *self.destinations]).rstrip()]
        for s, row in zip(self.sources, self._codes.tolist()):
            cells = [_MARK[c].center(w) for c, w in zip(row, widths)]
            lines.append("  ".join([s.ljust(first), *cells]).rstrip())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Reachability {len(self.sources)}x{len(self.destinations)} {self.summary}>"

    def _repr_html_(self) -> str:
        """A table whose cells carry their reason as a hover tooltip (title)."""
        esc = html.escape
        head = "".join(f"<th>{esc(d)}</th>" for d in self.destinations)
        colours = {_ALLOWED: "#c8e6c9", _DENIED: "#ffcdd2", _OUTSIDE: "#eeeeee"}
        rows = []
        for s, codes in zip(self.sources, self._codes.tolist()):
            cells = []
            for d, code in zip(self.destinations, codes):
                reason = self._reason_of(s, d) if self._reason_of is not None else None
                title = esc(reason or "", quote=True)
                cells.append(f'<td style="background:{colours[code]};text-align:center" title="{title}">'
                             f'{_MARK[code]}</td>')
            rows.append(f"<tr><th>{esc(s)}</th>{''.join(cells)}</tr>")
        return (f"<table><caption>Reachability {esc(self.summary)} (rows: from, columns: to)</caption>"
                f"<tr><th>from \\ to</th>{head}</tr>{''.join(rows)}</table>")

    def heatmap(self, ax=None):
        """A matplotlib Figure: green allowed, red denied (drawn by kubelab.show.matrix)."""
        from .show.matrix import draw_reachability
        return draw_reachability(self, ax)

    def diff(self, other: "Reachability") -> "ReachabilityDiff":
        """Cells whose verdict differs from `other` (self is "before", other is "after")."""
        import numpy as np

        if self.sources == other.sources and self.destinations == other.destinations:
            rows, cols = np.nonzero(self._codes != other._codes)
            changes = [CellChange(self.sources[i], self.destinations[j], _VALUE[int(self._codes[i, j])],
                                  _VALUE[int(other._codes[i, j])]) for i, j in zip(rows.tolist(), cols.tolist())]
            return ReachabilityDiff(tuple(changes))
        mine, theirs = self._cell_dict(), other._cell_dict()
        changes = [CellChange(s, d, mine[s, d], theirs[s, d]) for (s, d) in sorted(mine.keys() & theirs.keys())
                   if mine[s, d] != theirs[s, d]]
        return ReachabilityDiff(tuple(changes), tuple(sorted(mine.keys() - theirs.keys())),
                                tuple(sorted(theirs.keys() - mine.keys())))

    def _cell_dict(self) -> dict:
        return {(s, d): _VALUE[c] for s, row in zip(self.sources, self._codes.tolist())
                for d, c in zip(self.destinations, row)}


@dataclass(frozen=True)
class CellChange:
    """One cell that changed between two matrices."""

    src: str
    dst: str
    before: bool
    after: bool

    def __str__(self) -> str:
        mark = {True: ".", False: "X"}
        word = "now allowed" if self.after else "now denied"
        return f"{self.src} -> {self.dst}: {mark[self.before]} -> {mark[self.after]} ({word})"


@dataclass(frozen=True)
class ReachabilityDiff:
    """The difference between two reachability matrices, printable and falsy when nothing changed."""

    changes: tuple = ()
    only_before: tuple = ()
    only_after: tuple = ()

    def __bool__(self) -> bool:
        return bool(self.changes or self.only_before or self.only_after)

    def __len__(self) -> int:
        return len(self.changes)

    def __str__(self) -> str:
        if not self:
            return "no change"
        lines = [str(c) for c in self.changes]
        lines += [f"{s} -> {d}: only in the first matrix" for s, d in self.only_before]
        lines += [f"{s} -> {d}: only in the second matrix" for s, d in self.only_after]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in str(self).splitlines())
        return f"<ul>{items}</ul>"
