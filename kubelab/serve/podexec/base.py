"""What every simulated command gets (the lab, the pod, its argv) and returns (stdout, stderr, code)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ...net.objects import key_of

__all__ = ["Context", "Result", "outcome", "resolve_host", "slow_lookup_note"]


@dataclass(frozen=True)
class Result:
    stdout: str
    stderr: str
    code: int


@dataclass
class Context:
    lab: object
    pod: dict
    container: str
    argv: list
    stdin: str = ""
    failed_lookups: dict = field(default_factory=dict)   # host -> the DnsAnswer of a lookup that found nothing

    @property
    def src(self) -> str:
        return key_of(self.pod)

    @property
    def host_network(self) -> bool:
        return bool(self.pod["spec"].get("hostNetwork"))


def outcome(verdict) -> str:
    """How a connection attempt ended, as a socket sees it: "ok", "dns" (the name did not resolve),
    "refused" (a reset or ICMP port unreachable: nothing listens, or kube-proxy rejects) or "timeout"
    (dropped: NetworkPolicy, or no rule programmed for that address and port)."""
    if verdict:
        return "ok"
    reason = verdict.reason
    if "could not resolve" in reason or "does not resolve" in reason or reason.startswith("name lookup failed"):
        return "dns"
    if "connection refused" in reason or "rejected" in reason or "REJECT" in reason:
        return "refused"
    return "timeout"


def resolve_host(ctx: Context, host: str) -> str | None:
    """The address the pod's resolver gives `host` (/etc/hosts, then cluster DNS), or the IP itself."""
    from ...net.objects import is_ip

    if is_ip(host.strip("[]")):
        return host.strip("[]")
    for line in ctx.lab.hosts_file(ctx.src).splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and host.lower().rstrip(".") in (h.lower() for h in fields[1:]):
            return fields[0]
    answers = []
    for rtype in ("A", "AAAA"):
        answer = ctx.lab.resolve(host, rtype, src=ctx.src)
        if answer.addresses:
            return answer.addresses[0]
        answers.append(answer)
    ctx.failed_lookups[host] = answers[0]
    return None


def slow_lookup_note(ctx: Context, host: str) -> str:
    """After a tool's own "cannot resolve" line: a line with the rcode, the time the lookup took and the names
    tried, when the lookup sat out timeouts (a quick NXDOMAIN keeps the tool's usual output alone)."""
    answer = ctx.failed_lookups.get(host)
    return answer.failure(host) + "\n" if answer is not None and answer.waited else ""
