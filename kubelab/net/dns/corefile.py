"""The Corefile of ConfigMap kube-system/coredns, read into the knobs the cluster DNS honours.

Syntax is Caddy's (server blocks ``zone:port { ... }``, one directive per line, nested blocks,
``#`` comments, quoted strings); the options are those of CoreDNS's kubernetes, forward, hosts
and rewrite plugins (https://coredns.io/plugins/). Anything kubelab cannot read raises a
ValidationError naming the ConfigMap, ``data.Corefile`` and the line, as CoreDNS refuses to start.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ...errors import ValidationError

__all__ = ["CorefileOptions", "HostsEntry", "RewriteRule", "parse_corefile", "DEFAULT_COREFILE",
           "default_corefile"]

OBJ = "ConfigMap kube-system/coredns"
FIELD = "data.Corefile"

# kubeadm's Corefile (cmd/kubeadm/app/phases/addons/dns/manifests.go, CoreDNSConfigMap).
_KUBEADM_COREFILE = """\
.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes {zone} in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success {zone}
       disable denial {zone}
    }
    loop
    reload
    loadbalance
}
"""


def default_corefile(zone: str = "cluster.local") -> str:
    """kubeadm's default Corefile for cluster domain ``zone``."""
    return _KUBEADM_COREFILE.replace("{zone}", zone)


DEFAULT_COREFILE = default_corefile()

# Every plugin in CoreDNS's plugin.cfg (plus Caddy's import): anything else is "Unknown directive".
_KNOWN_PLUGINS = frozenset("""
metadata geoip cancel tls timeouts multisocket reload nsid bufsize bind debug trace ready health
pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance tsig cache rewrite header
dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes
file auto secondary etcd loop forward grpc erratic whoami on sign view root import
""".split())

# kubernetes plugin properties that only concern how CoreDNS reaches the API server.
_K8S_CONNECTION_PROPS = frozenset(("endpoint", "tls", "kubeconfig", "labels", "namespace_labels",
                                   "multicluster", "startup_timeout", "apiserver_qps",
                                   "apiserver_burst", "apiserver_max_inflight"))


@dataclass(frozen=True)
class HostsEntry:
    """One inline line of the hosts plugin: an address and the names it answers for."""

    ip: str
    names: tuple

    def matches(self, name: str) -> bool:
        """Names in a hosts block are compared case-insensitively, without the trailing dot."""
        return name in self.names


@dataclass(frozen=True)
class RewriteRule:
    """``rewrite [continue|stop] name [exact|prefix|suffix|substring] FROM TO`` (CoreDNS rewrite)."""

    match: str
    source: str
    replacement: str
    stop: bool = True

    def apply(self, name: str) -> str | None:
        """The rewritten name, or None when this rule does not match ``name``."""
        if self.match == "exact":
            return self.replacement if name == self.source else None
        if self.match == "prefix":
            return self.replacement + name[len(self.source):] if name.startswith(self.source) else None
        if self.match == "suffix":
            return name[:len(name) - len(self.source)] + self.replacement if name.endswith(self.source) else None
        return name.replace(self.source, self.replacement) if self.source in name else None


@dataclass(frozen=True)
class CorefileOptions:
    """The knobs of the kubernetes plugin (defaults = CoreDNS's) and its neighbours in the server block.

    ``zones`` empty means "the cluster zone plus in-addr.arpa and ip6.arpa"; ``fallthrough``
    None means off and () means every zone; ``forward`` None means no forward plugin.
    """

    zones: tuple = ()
    pods: str = "disabled"
    endpoint_pod_names: bool = False
    ttl: int = 5
    fallthrough: tuple | None = None
    namespaces: tuple = ()
    noendpoints: bool = False
    ignore_empty_service: bool = False
    forward: tuple | None = None
    forward_zone: str = "."
    hosts: tuple = ()
    hosts_ttl: int = 3600
    hosts_fallthrough: tuple | None = None
    rewrites: tuple = ()
    stub_domains: tuple = field(default=())   # ((zone, (upstream, ...)), ...) from other server blocks
    errors: bool = True                       # the errors plugin logs this block's failed queries
    quiet_zones: tuple = ()                   # stub zones whose server block has no errors plugin

    def falls_through(self, name: str) -> bool:
        """fall.F.Through: no zones listed = every name; else names under a listed zone."""
        return _through(self.fallthrough, name)

    def hosts_falls_through(self, name: str) -> bool:
        return _through(self.hosts_fallthrough, name)

    def forwards(self, name: str) -> bool:
        """The forward plugin handles names under its FROM zone ("." = everything)."""
        return self.forward is not None and in_zone(name, self.forward_zone)

    def rewrite(self, name: str) -> str:
        """Apply the rewrite rules in order; a matching ``stop`` rule ends the walk."""
        for rule in self.rewrites:
            new = rule.apply(name)
            if new is not None:
                name = new
                if rule.stop:
                    break
        return name


def _through(zones: tuple | None, name: str) -> bool:
    if zones is None:
        return False
    return not zones or any(in_zone(name, z) for z in zones)


def in_zone(name: str, zone: str) -> bool:
    """``name`` equals ``zone`` or is below it (both lower-case, no trailing dot; "." = root)."""
    return zone in (".", "") or name == zone or name.endswith("." + zone)


def _norm(name: str) -> str:
    name = name.strip().lower()
    return name if name == "." else name.rstrip(".")


# -- lexer and block parser (Caddyfile) -------------------------------------------------------

@dataclass
class _Directive:
    name: str
    args: list
    line: int
    block: list | None = None


def _fail(line: int, problem: str, fix: str | None = None):
    raise ValidationError(OBJ, FIELD, f"line {line}: {problem}", fix)


def _lines(text: str) -> list[tuple[int, list[str]]]:
    """Tokens per line, with Caddy's quoting and ``#`` comments."""
    out = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        tokens, cur, quoted, has = [], [], False, False
        i = 0
        while i < len(raw):
            ch = raw[i]
            if quoted:
                if ch == "\\" and i + 1 < len(raw) and raw[i + 1] == '"':
                    cur.append('"')
                    i += 1
                elif ch == '"':
                    quoted = False
                else:
                    cur.append(ch)
            elif ch == '"':
                quoted, has = True, True
            elif ch == "#" and not cur and not has:
                break
            elif ch.isspace():
                if cur or has:
                    tokens.append("".join(cur))
                cur, has = [], False
            else:
                cur.append(ch)
            i += 1
        if quoted:
            _fail(lineno, "unterminated quoted string", 'close the string with "')
        if cur or has:
            tokens.append("".join(cur))
        if tokens:
            out.append((lineno, tokens))
    return out


def _blocks(text: str) -> list[tuple[list[str], int, list[_Directive]]]:
    """Server blocks as (keys, line, directives)."""
    lines = _lines(text)
    pos = 0
    servers = []

    def directives(open_line: int) -> list[_Directive]:
        nonlocal pos
        items: list[_Directive] = []
        while pos < len(lines):
            lineno, toks = lines[pos]
            pos += 1
            if toks == ["}"]:
                return items
            if "{" in toks[:-1] or "}" in toks:
                _fail(lineno, f"unexpected brace in {' '.join(toks)!r}",
                      "put '{' at the end of a line and '}' on a line of its own")
            if toks[-1] == "{":
                d = _Directive(toks[0], toks[1:-1], lineno)
                d.block = directives(lineno)
            else:
                d = _Directive(toks[0], toks[1:], lineno)
            items.append(d)
        _fail(open_line, "block opened here is never closed", "add a closing '}'")

    while pos < len(lines):
        lineno, toks = lines[pos]
        pos += 1
        if toks[-1] != "{" or len(toks) < 2:
            _fail(lineno, f"expected a server block like '.:53 {{', got {' '.join(toks)!r}",
                  "start each server block with its zone(s), e.g. '.:53 {'")
        servers.append((toks[:-1], lineno, directives(lineno)))
    return servers


def _zone_of_key(key: str, line: int) -> str:
    """``[dns://]zone[:port]`` -> zone."""
    if "://" in key:
        key = key.split("://", 1)[1]
    zone, _, port = key.rpartition(":") if key.count(":") == 1 else (key, "", "")
    if port and not port.isdigit():
        _fail(line, f"bad port in server block key {key!r}")
    return _norm(zone or ".")


# -- plugin option readers ----------------------------------------------------------------------

def _kubernetes(d: _Directive, block_zones: list[str]) -> dict:
    opts: dict = {"zones": tuple(_norm(z) for z in d.args) or tuple(block_zones)}
    for sub in d.block or []:
        name, args = sub.name, sub.args
        if name == "pods":
            if len(args) != 1 or args[0] not in ("disabled", "verified", "insecure"):
                _fail(sub.line, f"wrong value for pods: {' '.join(args) or '(none)'}",
                      "use one of: disabled, verified, insecure")
            opts["pods"] = args[0]
        elif name == "endpoint_pod_names":
            opts["endpoint_pod_names"] = True
        elif name == "ttl":
            if len(args) != 1 or not args[0].isdigit() or not 0 <= int(args[0]) <= 3600:
                _fail(sub.line, f"ttl must be in range [0, 3600], got {' '.join(args) or '(none)'}")
            opts["ttl"] = int(args[0])
        elif name == "fallthrough":
            opts["fallthrough"] = tuple(_norm(z) for z in args)
        elif name == "namespaces":
            opts["namespaces"] = tuple(a.lower() for a in args)
        elif name == "noendpoints":
            opts["noendpoints"] = True
        elif name == "ignore":
            if args != ["empty_service"]:
                _fail(sub.line, f"unable to parse ignore value: {' '.join(args)!r}", "use 'ignore empty_service'")
            opts["ignore_empty_service"] = True
        elif name not in _K8S_CONNECTION_PROPS:
            _fail(sub.line, f"unknown property {name!r} in the kubernetes plugin")
    return opts


def _forward(d: _Directive) -> dict:
    if len(d.args) < 2:
        _fail(d.line, "forward needs a FROM zone and at least one TO address", "e.g. 'forward . /etc/resolv.conf'")
    return {"forward_zone": _norm(d.args[0]), "forward": tuple(d.args[1:])}


def _hosts(d: _Directive) -> dict:
    entries, ttl, fall = [], 3600, None
    for sub in d.block or []:
        try:
            ip = str(ipaddress.ip_address(sub.name))
        except ValueError:
            ip = None
        if ip is not None:
            if not sub.args:
                _fail(sub.line, f"hosts entry {sub.name} has no names", "write 'IP NAME [NAME...]'")
            entries.append(HostsEntry(ip, tuple(_norm(n) for n in sub.args)))
        elif sub.name == "ttl":
            if len(sub.args) != 1 or not sub.args[0].isdigit():
                _fail(sub.line, "hosts ttl needs one number of seconds")
            ttl = int(sub.args[0])
        elif sub.name == "fallthrough":
            fall = tuple(_norm(z) for z in sub.args)
        elif sub.name not in ("reload", "no_reverse"):
            _fail(sub.line, f"{sub.name!r} is neither an IP address nor a hosts property")
    return {"hosts": tuple(entries), "hosts_ttl": ttl, "hosts_fallthrough": fall}


def _rewrite(d: _Directive) -> RewriteRule:
    args = list(d.args)
    stop = True
    if args and args[0] in ("continue", "stop"):
        stop = args.pop(0) == "stop"
    if not args or args[0] != "name":
        _fail(d.line, f"kubelab reads only 'rewrite name' rules, got {' '.join(d.args)!r}",
              "rewrite query names with 'rewrite name [exact|prefix|suffix|substring] FROM TO'")
    args.pop(0)
    match = "exact"
    if args and args[0] in ("exact", "prefix", "suffix", "substring", "regex"):
        match = args.pop(0)
    if match == "regex":
        _fail(d.line, "regex rewrite rules are not supported by kubelab",
              "use exact, prefix, suffix or substring")
    if len(args) < 2 or (len(args) > 2 and args[2] != "answer"):
        _fail(d.line, f"rewrite name needs FROM and TO, got {' '.join(d.args)!r}")
    source, replacement = args[0].lower(), args[1].lower()
    if match in ("exact", "suffix"):
        source, replacement = source.rstrip("."), replacement.rstrip(".")
    return RewriteRule(match, source, replacement, stop)


def parse_corefile(text: str) -> CorefileOptions:
    """Read the server block that holds the kubernetes plugin (plugin options per coredns.io/plugins)."""
    servers = _blocks(text or "")
    main: dict | None = None
    stubs, quiet = [], []
    for keys, line, items in servers:
        zones = [_zone_of_key(k, line) for k in keys]
        opts: dict = {}
        rewrites = []
        for d in items:
            if d.name not in _KNOWN_PLUGINS:
                _fail(d.line, f"unknown directive {d.name!r}", "check the plugin name against coredns.io/plugins")
            if d.name == "kubernetes":
                if "zones" in opts:
                    _fail(d.line, "the kubernetes plugin appears twice in one server block")
                opts.update(_kubernetes(d, zones))
            elif d.name == "forward":
                opts.update(_forward(d))
            elif d.name == "hosts":
                opts.update(_hosts(d))
            elif d.name == "rewrite":
                rewrites.append(_rewrite(d))
        if "zones" in opts:
            if main is not None:
                _fail(line, "a second server block with the kubernetes plugin",
                      "keep the kubernetes plugin in one server block")
            main = dict(opts, rewrites=tuple(rewrites), errors=any(d.name == "errors" for d in items))
        elif "forward" in opts:
            stubs.extend((z, opts["forward"]) for z in zones)
            if not any(d.name == "errors" for d in items):
                quiet.extend(zones)
    if main is None:
        _fail(1, "no server block uses the kubernetes plugin",
              "add 'kubernetes cluster.local in-addr.arpa ip6.arpa { ... }' to the '.:53' block")
    main["stub_domains"] = tuple(stubs)
    main["quiet_zones"] = tuple(quiet)
    return CorefileOptions(**main)
