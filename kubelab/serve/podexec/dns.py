"""nslookup (bind9's, as in the dnsutils image the Kubernetes DNS debugging page uses) and dig:
queries go to the pod's nameservers (resolv.conf) through the simulator's cluster DNS."""
from __future__ import annotations

from ...net.dns import resolve
from ...net.objects import is_ip
from .base import Context, Result, outcome

__all__ = ["nslookup", "dig"]

TYPES = ("A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "NS", "SOA", "MX", "ANY")


def _resolv_conf(ctx: Context, server: str | None) -> str:
    text = ctx.lab.resolv_conf(ctx.src)
    if server is None:
        return text
    lines = [line for line in text.splitlines() if not line.startswith("nameserver ")]
    return "\n".join([f"nameserver {server}"] + lines) + "\n"


def _nameserver(conf_text: str) -> str:
    return next((line.split()[1] for line in conf_text.splitlines() if line.startswith("nameserver ")), "127.0.0.1")


def _lookup(ctx: Context):
    return lambda server, name, rtype: ctx.lab._dns_query(server, name, rtype)


def _reverse_name(ip: str) -> str:
    import ipaddress
    return ipaddress.ip_address(ip).reverse_pointer


def _blocked(ctx: Context, server: str) -> bool:
    """The pod's egress NetworkPolicy (or anything else on the way) stops its query to the server."""
    return outcome(ctx.lab.reach(ctx.src, server, 53, "UDP")) != "ok"


def nslookup(ctx: Context, args: list[str]) -> Result:
    """nslookup NAME [SERVER]: the search list applies; A then AAAA answers; NXDOMAIN exits 1."""
    names = [a for a in args if not a.startswith("-")]
    qtype = next((a.split("=", 1)[1].upper() for a in args if a.startswith(("-type=", "-query=", "-q="))), None)
    if not names:
        return Result("", "nslookup: interactive mode is not supported here; give a name\n", 1)
    name, server = names[0], (names[1] if len(names) > 1 else None)
    conf = _resolv_conf(ctx, server)
    ns = _nameserver(conf)
    head = f"Server:\t\t{ns}\nAddress:\t{ns}#53\n\n"
    if _blocked(ctx, ns):
        return Result(";; connection timed out; no servers could be reached\n\n", "", 1)
    if is_ip(name):
        answer = resolve(_reverse_name(name), "PTR", None, _lookup(ctx), server=ns)
        if not answer.records:
            return Result(head + f"** server can't find {_reverse_name(name)}: {answer.rcode}\n\n", "", 1)
        return Result(head + "".join(f"{r.name.rstrip('.')}\tname = {r.value.rstrip('.')}.\n"
                                     for r in answer.records) + "\n", "", 0)
    out, found, last = head, False, None
    for rtype in ([qtype] if qtype else ["A", "AAAA"]):
        answer = resolve(name, rtype, conf, _lookup(ctx))
        last = answer
        for r in answer.records:
            if r.type == "CNAME" and rtype != "CNAME" and (found or rtype == "AAAA"):
                continue   # bind asks AAAA of the chased target: the aliases print once, with the A answer
            found = found or r.type == rtype
            out += _nslookup_line(r)
    if not found:
        # (a SERVFAIL is the server's failure, not an alias's: no extra CNAME queries to report it)
        dangling = None if last.rcode == "SERVFAIL" else _dangling_cname(ctx, ns, last)
        if dangling is not None:   # an alias whose target does not resolve: bind prints both
            owner, target = dangling
            return Result(head + f"{owner}\tcanonical name = {target}.\n** server can't find {target}: "
                                 f"{last.rcode if last.rcode != 'NOERROR' else 'NXDOMAIN'}\n\n", "", 1)
        status = last.rcode if last.rcode != "NOERROR" else "NXDOMAIN"
        note = last.failure(name) + "\n" if last.waited else ""   # a lookup that sat out timeouts says so
        if last.rcode == "NOERROR":
            return Result(head + f"*** Can't find {name}: No answer\n{note}\n", "", 0)
        return Result(head + f"** server can't find {name}: {status}\n{note}\n", "", 1)
    return Result(out + "\n", "", 0)


def _dangling_cname(ctx: Context, server: str, answer) -> tuple[str, str] | None:
    """(owner, target) when one of the names the resolver tried is a CNAME to a name that did not resolve."""
    for candidate in answer.queries:
        rcode, records = ctx.lab._dns_lookup(server, candidate, "CNAME")
        cname = next((r for r in records if r.type == "CNAME"), None)
        if cname is not None:
            return candidate, cname.value.rstrip(".")
    return None


def _nslookup_line(r) -> str:
    """One answer record as bind's nslookup prints it: Name/Address for A and AAAA, `owner<TAB>rdata` else."""
    if r.type in ("A", "AAAA"):
        return f"Name:\t{r.name.rstrip('.')}\nAddress: {r.value}\n"
    return f"{r.name.rstrip('.')}\t{_nslookup_rdata(r)}\n"


def _nslookup_rdata(r) -> str:
    if r.type == "SRV":
        return f"service = {r.priority} {r.weight} {r.port} {(r.target or '').rstrip('.')}."
    if r.type == "CNAME":
        return f"canonical name = {r.value.rstrip('.')}."
    if r.type == "PTR":
        return f"name = {r.value.rstrip('.')}."
    if r.type == "TXT":
        return f'text = "{r.value}"'
    return f"{r.type} = {r.value}"


def dig(ctx: Context, args: list[str]) -> Result:
    """dig [@server] NAME [TYPE] [+short] [+search] [-x ADDR]: no search list unless +search."""
    server, name, rtype, short, search = None, None, "A", False, False
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("@"):
            server = a[1:]
        elif a == "+short":
            short = True
        elif a == "+search":
            search = True
        elif a.startswith("+"):
            pass   # display options (+noall, +answer, ...) change nothing that matters here
        elif a == "-x" and i + 1 < len(args):
            name, rtype = _reverse_name(args[i + 1]), "PTR"
            i += 1
        elif a == "-t" and i + 1 < len(args):
            rtype = args[i + 1].upper()
            i += 1
        elif a.upper() in TYPES:   # dig reads a bare type keyword as the type, before or after the name
            rtype = a.upper()
        elif name is None:
            name = a
        i += 1
    if name is None:
        name, rtype = ".", "NS"
    conf = _resolv_conf(ctx, server)
    ns = _nameserver(conf)
    if _blocked(ctx, ns):
        text = f";; communications error to {ns}#53: timed out\n" * 3 + \
               f"\n; <<>> DiG 9.18.33 <<>> {' '.join(args)}\n;; global options: +cmd\n;; no servers could be reached\n"
        return Result("" if short else text, text if short else "", 9)
    answer = resolve(name, rtype, conf, _lookup(ctx)) if search else \
        resolve(name, rtype, None, _lookup(ctx), server=ns)
    if short:   # the answer section's rdata, CNAMEs first (they are records of the answer too)
        return Result("".join(f"{_short(r)}\n" for r in answer.records), "", 0)
    qname = answer.name.rstrip(".") + "."
    lines = [f"; <<>> DiG 9.18.33 <<>> {' '.join(args)}", ";; global options: +cmd", ";; Got answer:",
             f";; ->>HEADER<<- opcode: QUERY, status: {answer.rcode}, id: 1",
             f";; flags: qr aa rd; QUERY: 1, ANSWER: {len(answer.records)}, AUTHORITY: 0, "
             "ADDITIONAL: 0", "", ";; QUESTION SECTION:", f";{qname}\t\t\tIN\t{rtype}", ""]
    if answer.records:
        lines += [";; ANSWER SECTION:", *(str(r) for r in answer.records), ""]
    lines += [f";; Query time: {answer.elapsed_ms} msec", f";; SERVER: {ns}#53({ns}) (UDP)", ""]
    return Result("\n".join(lines) + "\n", "", 0)


def _short(r) -> str:
    if r.type in ("CNAME", "PTR", "NS"):
        return r.value.rstrip(".") + "."
    if r.type == "SRV":
        return f"{r.priority} {r.weight} {r.port} {(r.target or '').rstrip('.')}."
    if r.type == "TXT":
        return f'"{r.value}"'
    return r.value
