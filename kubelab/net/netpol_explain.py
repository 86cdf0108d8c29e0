"""NetworkPolicy in plain English, and a linter for the classic mistakes.

``explain(policy)`` says what a policy selects and what it allows, per direction, the way
`kubectl describe networkpolicy` reads it. ``lint(namespaces, pods, policies)`` finds policies that
are valid but probably not what was meant (each Finding names code, policy, field and a hint).
"""
from __future__ import annotations

from dataclasses import dataclass

from .netpol import PodPeer, PolicyEngine, PortMatcher, Rule, compile_policy, endpoint
from .objects import container_ports, key_of

__all__ = ["explain", "lint", "Finding", "LINT_CODES"]

# code -> one line on what it catches; every code lint() can emit is listed here.
LINT_CODES = {
    "selects-no-pods": "the policy's podSelector selects no pod in its namespace",
    "peer-selects-no-pods": "a from/to peer's selectors match no pod",
    "pod-peer-other-namespace": "a podSelector-only peer matches pods only in other namespaces",
    "named-port-unresolved": "a named port that no destination pod declares",
    "rules-ignored-by-policy-types": "ingress/egress rules present but that type is missing from policyTypes",
    "egress-blocks-dns": "pods cannot reach the CoreDNS pods on UDP/53 (blocked egress, or CoreDNS ingress)",
    "ipblock-contains-pod-ips": "an ipBlock covers pod IPs (matching pod IPs is implementation-specific)",
    "separate-namespace-and-pod-peers": "namespaceSelector and podSelector in separate peers are ORed, not ANDed",
}


@dataclass(frozen=True, order=True)
class Finding:
    """One lint result; sorts by policy, then code, then field."""

    policy: str
    code: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.policy}: {self.field}: [{self.code}] {self.message}"

# ---------------------------------------------------------------------------------------------
# explain
# ---------------------------------------------------------------------------------------------


def _ports_text(rule: Rule) -> str:
    """'on every port' or 'on TCP/80, UDP/53, TCP/http (named port on the destination pod)'."""
    if not rule.ports:
        return "on every port and protocol"
    parts = []
    for p in rule.ports:
        if p.name is not None:
            parts.append(f"{p.protocol} port named {p.name!r} (resolved on the destination pod)")
        elif p.port is None:
            parts.append(f"every {p.protocol} port")
        elif p.end_port:
            parts.append(f"{p.protocol} ports {p.port}-{p.end_port}")
        else:
            parts.append(f"{p.protocol}/{p.port}")
    return "on " + ", ".join(parts)


def _rule_lines(rule: Rule, direction: str) -> list[str]:
    word = "from" if direction == "ingress" else "to"
    lines = [f"  rule {rule.index}: {_ports_text(rule)}"]
    if rule.peers is None:
        lines.append(f"    {word} anywhere (every pod in every namespace and every IP)")
    else:
        lines.append(f"    {word} any of:" if len(rule.peers) > 1 else f"    {word}:")
        lines.extend(f"      - {p}" for p in rule.peers)
    return lines


def explain(policy: dict) -> str:
    """What the policy selects, which directions it isolates, and what each rule allows (deterministic text)."""
    c = compile_policy(policy)
    who = ("every pod" if c.pod_selector.is_empty else f"pods with {c.pod_selector}")
    lines = [f"NetworkPolicy {c.key}", f"Selects {who} in namespace {c.namespace}."]
    if not (policy.get("spec") or {}).get("policyTypes"):
        defaulted = " and ".join(t for t in ("Ingress", "Egress") if t in c.types)
        lines.append(f"policyTypes not given: defaults to {defaulted}"
                     " (Ingress always, Egress only when there are egress rules).")
    for direction, ptype in (("ingress", "Ingress"), ("egress", "Egress")):
        rules = c.rules(direction)
        title = direction.capitalize()
        if ptype not in c.types:
            extra = " (its rules are ignored)" if rules else ""
            lines.append(f"{title}: not affected; policyTypes has no {ptype}{extra}.")
        elif not rules:
            lines.append(f"{title}: isolated and nothing allowed (no {direction} rules): "
                         f"this policy denies all {direction} unless another policy allows it.")
        else:
            verb = "into" if direction == "ingress" else "out of"
            lines.append(f"{title}: isolated; connections {verb} the selected pods are allowed when "
                         "they match any rule:")
            for rule in rules:
                lines.extend(_rule_lines(rule, direction))
    return "\n".join(lines)

# ---------------------------------------------------------------------------------------------
# lint
# ---------------------------------------------------------------------------------------------


def lint(namespaces: list[dict], pods: list[dict], policies: list[dict], *,
         dns_service_ips: tuple = ()) -> list[Finding]:
    """Valid-but-suspicious policies, sorted; see LINT_CODES for what each code means. `dns_service_ips`
    (the kube-dns Service's cluster IPs) lets the DNS check name policies that allow only the Service IP."""
    engine = PolicyEngine(namespaces, policies)
    eps = [endpoint(p) for p in pods]
    by_key = {(p.get("metadata") or {}).get("namespace", "default") + "/" + (p.get("metadata") or {}).get("name", ""): p
              for p in policies}
    findings: list[Finding] = []
    for c in engine.policies:
        raw_spec = by_key[c.key].get("spec") or {}
        findings += _lint_policy(engine, c, raw_spec, eps)
    findings += _lint_dns(engine, eps, tuple(dns_service_ips))
    return sorted(set(findings))


def _lint_policy(engine: PolicyEngine, c, spec: dict, eps: list) -> list[Finding]:
    out = []
    selected = [e for e in eps if c.selects(e)]
    if not selected:
        out.append(Finding(c.key, "selects-no-pods", "spec.podSelector",
                           f"selects no pod in namespace {c.namespace}; check the labels and the namespace"))
    for direction, ptype in (("ingress", "Ingress"), ("egress", "Egress")):
        if spec.get("policyTypes") and ptype not in c.types and c.rules(direction):
            out.append(Finding(c.key, "rules-ignored-by-policy-types", f"spec.{direction}",
                               f"{direction} rules are ignored because policyTypes lists only "
                               f"{', '.join(sorted(c.types))}; add {ptype} to policyTypes"))
        for rule in c.rules(direction):
            out += _lint_rule(engine, c, rule, selected, eps)
    return out


def _lint_rule(engine: PolicyEngine, c, rule: Rule, selected: list, eps: list) -> list[Finding]:
    out = []
    word = "from" if rule.direction == "ingress" else "to"
    base = f"spec.{rule.direction}[{rule.index}]"
    peers = rule.peers or ()
    for j, peer in enumerate(peers):
        path = f"{base}.{word}[{j}]"
        if isinstance(peer, PodPeer):
            if not any(peer.matches(e, engine.ns_labels) for e in eps):
                elsewhere = peer.namespace_selector is None and any(
                    e.selectable() and peer.pod_selector.matches(e.labels) for e in eps)
                if elsewhere:
                    out.append(Finding(c.key, "pod-peer-other-namespace", path,
                                       f"a podSelector alone means pods in {c.namespace}; the matching pods are in "
                                       "other namespaces: add a namespaceSelector to the same peer"))
                else:
                    out.append(Finding(c.key, "peer-selects-no-pods", path, f"{peer} matches no pod"))
        elif any(e.is_pod and any(ip is not None and peer.matches_ip(ip) for ip in e.ips) for e in eps):
            out.append(Finding(c.key, "ipblock-contains-pod-ips", f"{path}.ipBlock",
                               f"{peer.cidr} contains pod IPs; whether ipBlock matches pods is implementation-"
                               "specific (use pod/namespace selectors for pods)"))
    ns_only = [j for j, p in enumerate(peers) if isinstance(p, PodPeer) and p.namespace_selector is not None
               and p.pod_selector.is_empty]
    pod_only = [j for j, p in enumerate(peers) if isinstance(p, PodPeer) and p.namespace_selector is None]
    if ns_only and pod_only:
        out.append(Finding(c.key, "separate-namespace-and-pod-peers", f"{base}.{word}",
                           f"peers {ns_only[0]} and {pod_only[0]} are ORed; to require both, put namespaceSelector "
                           "and podSelector in ONE list item (no '-' before the second)"))
    for k, pm in enumerate(rule.ports):
        if pm.name is None:
            continue
        # Named ports resolve on the destination: the selected pods (ingress) or the rule's peers (egress).
        dsts = selected if rule.direction == "ingress" else [
            e for e in eps if rule.peer_match(e, e.ips[0] if e.ips else None, engine.ns_labels)]
        if not any(_declares(e, pm) for e in dsts):
            out.append(Finding(c.key, "named-port-unresolved", f"{base}.ports[{k}].port",
                               f"no destination pod declares a {pm.protocol} container port named {pm.name!r}"))
    return out


def _declares(e, pm: PortMatcher) -> bool:
    """Does this pod declare a container port with the rule's name and protocol?"""
    return any(p["name"] == pm.name and p["protocol"] == pm.protocol for p in container_ports(e.pod))


def _lint_dns(engine: PolicyEngine, eps: list, dns_service_ips: tuple = ()) -> list[Finding]:
    """DNS is traffic: a pod must reach a CoreDNS pod (k8s-app=kube-dns in kube-system) on UDP/53, and policies
    judge the packet after kube-proxy's DNAT, so allowing only the kube-dns Service IP allows nothing. Every
    policy that isolates the failing path (the client's egress or CoreDNS's ingress) is flagged. Without CoreDNS
    pods in the list, a pod isolated for egress with no rule allowing UDP/53 at all is flagged."""
    coredns = [e for e in eps if e.is_pod and e.namespace == "kube-system"
               and (e.labels or {}).get("k8s-app") == "kube-dns"]
    stranded: dict[str, list[str]] = {}
    service_ip_only: set[str] = set()
    for e in eps:
        if not e.selectable() or e.key in {dns.key for dns in coredns}:
            continue
        if coredns:
            decisions = [engine.decide(e.pod, dns.pod, 53, "UDP") for dns in coredns]
            if any(d.allowed for d in decisions):
                continue
            blamed = set()
            for d in decisions:
                for side in (d.egress, d.ingress):
                    if side.isolated and not side.allowed_by:
                        blamed.update(side.isolating)
        else:
            isolating = engine.policies_selecting(e.pod, "egress")
            dns_ok = any(r.port_matches(53, "UDP", None) or any(p.name is not None and p.protocol == "UDP"
                                                                for p in r.ports)
                         for c in isolating for r in c.egress)
            blamed = set() if dns_ok else {c.key for c in isolating}
        for key in blamed:
            stranded.setdefault(key, []).append(key_of(e.pod))
            policy = next((c for c in engine.policies if c.key == key), None)
            for rule in (policy.egress if policy is not None else ()):
                for peer in rule.peers or ():
                    if not isinstance(peer, PodPeer) and any(peer.matches_ip(ip) for ip in dns_service_ips):
                        service_ip_only.add(key)
    findings = []
    for key, pods in stranded.items():
        why = (" (it allows the kube-dns Service IP, but policies see the CoreDNS pod IPs after kube-proxy's DNAT)"
               if key in service_ip_only else "")
        findings.append(Finding(key, "egress-blocks-dns", "spec.egress",
                                f"{len(pods)} pod(s) on its path to DNS (e.g. {min(pods)}) cannot reach the CoreDNS "
                                f"pods on UDP/53{why}, so name resolution times out; allow egress to the kube-dns "
                                "pods (namespace kube-system, k8s-app=kube-dns) on UDP and TCP 53"))
    return findings
