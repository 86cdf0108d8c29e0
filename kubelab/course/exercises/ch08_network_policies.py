"""Checks for lesson 08 · Network policies.

Every check builds two fresh clusters with the same SCENARIO (namespaces frontend, backend and db
with labelled pods and two Services): one stays open, the other gets the learner's policies. It
then compares the two reachability matrices, cell by cell, with what the exercise intends: each
exercise is a function `intended(cell, open)` saying whether a connection should be allowed, given
whether it is allowed without any policy. Sub-checks are groups of cells; the last one of each
exercise is "nothing else changed". Classic mistakes are named from the learner's manifests, from
`lab.lint()` and from the matrix itself.

The clusters also hold PROBES the learner never sees: look-alike pods carrying the target labels in
another namespace, unlabelled pods in the target namespaces, and outside addresses on both sides
of every boundary of the monitoring range; and a pod is started after the policy. An over-broad
selector (`podSelector: {}`, `namespaceSelector: {}`) or a narrowed ipBlock changes their cells,
so it fails even when every pod of the scenario behaves. Every exercise has a fixed number of
scored sub-checks, whatever the answer.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Callable

from ...errors import KubelabError
from ...net.labels import parse_label_selector
from . import exercise
from ._support import answer_docs, as_yaml

LESSON = "08-network-policies"

#: Addresses outside the cluster: in the monitoring range, the one excluded from it, and elsewhere.
MONITOR, EXCLUDED, ELSEWHERE = "192.0.2.10", "192.0.2.66", "198.51.100.7"
MONITORING_RANGE = ipaddress.ip_network("192.0.2.0/24")
#: Both sides of the range's edges, of the excluded address, and of the /26 and /25 boundaries inside it
#: (an ipBlock narrowed to a /26, a /25 or a /32 leaves some of them out).
RANGE_EDGES = ("192.0.1.255", "192.0.2.0", "192.0.2.63", "192.0.2.64", "192.0.2.65", "192.0.2.67",
               "192.0.2.127", "192.0.2.128", "192.0.2.255", "192.0.3.0")
OUTSIDE = (MONITOR, EXCLUDED, ELSEWHERE, *RANGE_EDGES)
#: The ports the matrices are taken on: DNS, the pods' ports, and 443 for traffic to the outside.
PORTS = ((53, "UDP"), (53, "TCP"), (80, "TCP"), (443, "TCP"), (5432, "TCP"), (8080, "TCP"), (9100, "TCP"))

def _namespace(name: str, tier: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"tier": tier}}}


def _ports(*ports: str) -> list[dict]:
    """containerPorts from "name:port", "name:port/UDP" or "port"."""
    declared = []
    for spec in ports:
        port_name, _, number = spec.rpartition(":")
        number, _, protocol = number.partition("/")
        declared.append({**({"name": port_name} if port_name else {}), "containerPort": int(number),
                         **({"protocol": protocol} if protocol else {})})
    return declared


def _pod(ref: str, labels: dict, image: str, *ports: str, container: str = "c", sidecars: tuple = ()) -> dict:
    """A pod of the scenario, "namespace/name", listening on ``ports`` ("name:port", "name:port/UDP" or "port");
    with no port it sleeps (a client)."""
    namespace, name = ref.split("/")
    declared = _ports(*ports)
    body = {"name": container, "image": image,
            **({"ports": declared} if declared else {"command": ["sleep", "infinity"]})}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, **({"labels": labels} if labels else {})},
            "spec": {"containers": [body, *sidecars]}}


def _porter(ref: str, *ports: str) -> dict:
    """An unlabelled pod that answers on every port (agnhost porter serves each SERVE_PORT_* variable)."""
    pod = _pod(ref, {}, "registry.k8s.io/e2e-test-images/agnhost:2.53", *ports)
    container = pod["spec"]["containers"][0]
    container["args"] = ["porter"]
    container["env"] = [{"name": f"SERVE_PORT_{p['containerPort']}", "value": str(p["containerPort"])}
                        for p in container["ports"]]
    return pod


def _service(ref: str, app: str, port_name: str, port: int) -> dict:
    namespace, name = ref.split("/")
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"app": app}, "ports": [{"name": port_name, "port": port, "targetPort": port_name}]}}


_DNS_PORTS = ("dns:53/UDP", "dns-tcp:53/TCP")
#: postgres listens on 5432 only; its metrics come from the exporter beside it
_EXPORTER = {"name": "metrics", "image": "quay.io/prometheuscommunity/postgres-exporter",
             "args": ["--web.listen-address=:9100"], "ports": _ports("metrics:9100")}

SCENARIO = as_yaml(
    _namespace("frontend", "web"), _namespace("backend", "app"), _namespace("db", "data"),
    _pod("frontend/web", {"app": "web", "role": "frontend"}, "nginx", "http:80", container="web"),
    _pod("backend/api", {"app": "api", "role": "backend"}, "api", "http:8080", "metrics:9100", container="api"),
    _pod("backend/worker", {"app": "worker", "role": "backend"}, "worker", "http:8080", "metrics:9100",
         container="worker"),
    _pod("backend/debug", {"app": "debug"}, "busybox", container="debug"),
    _pod("db/postgres", {"app": "postgres", "role": "db"}, "postgres", "postgres:5432", container="postgres",
         sidecars=(_EXPORTER,)),
    _pod("db/backup", {"app": "backup"}, "busybox", container="backup"),
    _pod("kube-system/corp-dns", {"k8s-app": "corp-dns"}, "registry.k8s.io/coredns/coredns:v1.12.0", *_DNS_PORTS,
         container="coredns"),
    _service("backend/api", "api", "http", 8080), _service("db/postgres", "postgres", "postgres", 5432))


#: Pods the exercises never mention: the target labels in another namespace, and no labels in the target
#: namespaces. Every one listens on the ports the matrices probe (`api` is an image kubelab does not know, so by
#: the simulator's convention it listens on its declared ports).
PROBES = as_yaml(
    _namespace("probe", "app"),
    _pod("probe/api-lookalike", {"app": "api", "role": "backend"}, "api", "http:8080", "metrics:9100", "postgres:5432"),
    _pod("probe/postgres-lookalike", {"app": "postgres", "role": "db"}, "postgres", "postgres:5432",
         sidecars=(_EXPORTER,)),
    _pod("probe/dns-lookalike", {"k8s-app": "kube-dns"}, "coredns", *_DNS_PORTS),
    _porter("db/unlabelled", "80", "5432", "9100"),
    _porter("backend/unlabelled", "http:8080", "metrics:9100"),
    _pod("frontend/unlabelled", {}, "nginx", "http:80"))


def _in_monitoring_range(ref: str) -> bool:
    """An outside address the monitoring policy should admit: in 192.0.2.0/24 but not the excluded one."""
    return "/" not in ref and ipaddress.ip_address(ref) in MONITORING_RANGE and ref != EXCLUDED


# ---------------------------------------------------------------- matrices
@dataclass(frozen=True, order=True)
class Cell:
    """One connection of the matrix: from src to dst on port/protocol (src, dst: "ns/pod" or an IP)."""

    protocol: str
    port: int
    src: str
    dst: str

    def ns(self, end: str) -> str | None:
        """The namespace of one end ("src" or "dst"), or None for an outside address."""
        ref = getattr(self, end)
        return ref.split("/")[0] if "/" in ref else None

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst} on {self.protocol}/{self.port}"


def _pods(lab) -> list[str]:
    """Every pod of the scenario, the cluster DNS pods and the private-zone DNS server beside them in
    kube-system (so "DNS to the kube-dns pods only" is a visible column of the matrix)."""
    refs = [f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in lab.list("Pod")]
    return sorted(r for r in refs if not r.startswith("kube-system/") or "coredns" in r or "corp-dns" in r)


def matrix(lab) -> dict[Cell, bool]:
    """Who reaches whom on every port of PORTS (connections between two outside addresses left out)."""
    cells = {}
    pods = _pods(lab)
    for port, protocol in PORTS:
        r = lab.reachability(pods=pods, port=port, protocol=protocol, externals=OUTSIDE)
        for src in r.sources:
            for dst in r.destinations:
                if "/" in src or "/" in dst:
                    cells[Cell(protocol, port, src, dst)] = r[src, dst]
    return cells


@dataclass(frozen=True)
class Group:
    """A sub-check: the cells it covers (`covers`), its name and the hint when a cell is wrong."""

    name: str
    covers: Callable[[Cell], bool]
    hint: str


def _grade(ctx, open_m: dict, after: dict, intended: Callable, groups: list[Group]) -> dict[str, list[Cell]]:
    """One sub-check per group, then "nothing else changed"; returns the wrong cells of each group."""
    wrong: dict[str, list[Cell]] = {}
    left = set(after)
    for g in groups + [Group("nothing else changed", lambda c: True,
                             "your policies also changed connections the exercise does not mention")]:
        cells = sorted(c for c in left if g.covers(c))
        left -= set(cells)
        bad = [c for c in cells if after[c] != (open_m[c] and intended(c, open_m[c]))]
        wrong[g.name] = bad
        hint = g.hint
        if bad:
            state = "allowed" if after[bad[0]] else "denied"
            hint = f"{g.hint} ({len(bad)} connection(s) wrong, e.g. {bad[0]} is {state})"
        ctx.expect(g.name, not bad, hint)
    return wrong


# ---------------------------------------------------------------- the answer and its mistakes
def _policies(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d.get("kind") == "NetworkPolicy"]


def _key(policy: dict) -> str:
    meta = policy.get("metadata") or {}
    return f"{meta.get('namespace') or 'default'}/{meta.get('name')}"


def _apply(ctx, lab, answer) -> bool:
    """Apply the answer; a rejected manifest is an unmet precondition quoting the error."""
    from ...api.manifests import holds_no_object

    try:
        if not holds_no_object(answer):   # nothing to apply is no rejection: the policy sub-checks say what is missing
            lab.apply(answer)
    except KubelabError as exc:
        return ctx.precondition("your policies apply", False, str(exc).splitlines()[0])
    return ctx.precondition("your policies apply", True, "")


def _peers(policy: dict):
    """(direction, peer) for every from/to peer of the policy."""
    spec = policy.get("spec") or {}
    for direction, field in (("ingress", "from"), ("egress", "to")):
        for rule in spec.get(direction) or []:
            for peer in (rule or {}).get(field) or []:
                if isinstance(peer, dict):
                    yield direction, peer


def _namespace_selector_matches_nothing(lab, policies: list[dict]) -> bool:
    """Does some namespaceSelector match no namespace of the cluster (e.g. `name: backend`)?"""
    labels = [ns["metadata"].get("labels") or {} for ns in lab.list("Namespace")]
    for policy in policies:
        for _, peer in _peers(policy):
            if isinstance(peer.get("namespaceSelector"), dict):
                selector = parse_label_selector(peer["namespaceSelector"])
                if not any(selector.matches(ls) for ls in labels):
                    return True
    return False


def _lint_codes(lab, policies: list[dict]) -> set[str]:
    keys = {_key(p) for p in policies}
    return {f.code for f in lab.lint() if f.policy in keys}


def _common_mistakes(ctx, lab, policies: list[dict], expected_namespaces: set[str]) -> set[str]:
    """The mistakes any exercise can show; returns the lint codes of the learner's policies."""
    ctx.mistake("policy in the wrong namespace",
                any(_key(p).split("/")[0] not in expected_namespaces for p in policies),
                "a policy selects pods in its own namespace only: set metadata.namespace to the namespace of "
                "the pods it protects (without one, it lands in default)")
    codes = _lint_codes(lab, policies)
    ctx.mistake("a policy selecting no pods", "selects-no-pods" in codes,
                "compare spec.podSelector with the labels of the pods (lab.lint() names the policy)")
    ctx.mistake("a namespaceSelector matching no namespace", _namespace_selector_matches_nothing(lab, policies),
                "namespaces carry the label kubernetes.io/metadata.name: <name>, not `name`; "
                "print the namespaces' labels")
    ctx.mistake("a podSelector alone looks only in the policy's own namespace", "pod-peer-other-namespace" in codes,
                "to select pods of another namespace, put a namespaceSelector in the SAME peer")
    ctx.mistake("a port name no selected pod has", "named-port-unresolved" in codes,
                "a named port is looked up in the destination pods' containerPort names")
    ctx.mistake("rules ignored because policyTypes leaves out their direction",
                "rules-ignored-by-policy-types" in codes,
                "with policyTypes given, only the listed directions are isolated and their rules used")
    ctx.mistake("ipBlock covering pod IPs", "ipblock-contains-pod-ips" in codes,
                "ipBlock is for addresses outside the cluster; whether it matches pods is implementation-"
                "specific: select pods by label instead")
    return codes


def _setup(ctx, answer, namespaces: set[str], planned: list[str]):
    """Open and learner clusters, the answer's policies, their lint codes and both matrices; None when it did not
    apply, after recording every ``planned`` sub-check as failed (so the denominator never depends on the answer)."""
    docs = answer_docs(answer)
    policies = _policies(docs)
    open_lab, lab = ctx.lab(), ctx.lab()
    for cluster in (open_lab, lab):
        cluster.apply(SCENARIO)
        cluster.apply(PROBES)
    applied = _apply(ctx, lab, answer)
    has_policy = applied and ctx.precondition(
        "your answer holds at least one NetworkPolicy", policies,
        "write NetworkPolicy manifests (apiVersion networking.k8s.io/v1, kind NetworkPolicy)")
    if not has_policy:
        for name in planned:
            ctx.expect(name, False, "not checked: your answer does not apply as NetworkPolicies yet")
        return None
    codes = _common_mistakes(ctx, lab, policies, namespaces)
    return open_lab, lab, policies, codes, matrix(open_lab), matrix(lab)


def _names(groups: list["Group"], *more: str) -> list[str]:
    """The sub-checks an exercise records after the preconditions: its groups, "nothing else changed", more."""
    return [g.name for g in groups] + ["nothing else changed", *more]


def _or_peers(policies: list[dict]) -> bool:
    """Some rule lists a namespaceSelector-only peer next to a podSelector-only peer (ORed, not ANDed)."""
    for policy in policies:
        spec = policy.get("spec") or {}
        for direction, field in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(direction) or []:
                peers = [p for p in (rule or {}).get(field) or [] if isinstance(p, dict)]
                ns_only = any("namespaceSelector" in p and "podSelector" not in p for p in peers)
                pod_only = any("podSelector" in p and "namespaceSelector" not in p for p in peers)
                if ns_only and pod_only:
                    return True
    return False


def _lists_type(policies: list[dict], kind: str) -> bool:
    return any(kind in ((p.get("spec") or {}).get("policyTypes") or []) for p in policies)


def _is(end: str) -> Callable[[str], bool]:
    """A predicate on a matrix end: a namespace ("db"), a pod ("db/postgres") or "outside"."""
    if end == "outside":
        return lambda ref: "/" not in ref
    if "/" in end:
        return lambda ref: ref == end
    return lambda ref: ref.startswith(end + "/")


def _same(c: Cell) -> bool:
    return c.src == c.dst


# ---------------------------------------------------------------- 08-db-default-deny
_NEWCOMER = _pod("db/newcomer", {}, "nginx", "80")  # no labels


@exercise("08-db-default-deny", title="Default-deny ingress for namespace db", lesson=LESSON, answer="manifests")
def db_default_deny(answer, ctx):
    """Every pod of db, today's and tomorrow's, accepts no connection; db's egress and the rest stay open."""
    groups = [
        Group("no pod and no outside address connects into db/postgres", lambda c: _is("db/postgres")(c.dst),
              "a pod becomes isolated for ingress once a policy with Ingress in policyTypes selects it"),
        Group("every other pod of db is isolated too, labelled or not", lambda c: _is("db")(c.dst),
              "select every pod of the namespace, whatever its labels: podSelector: {}"),
        Group("db's pods still open connections to other namespaces", lambda c: _is("db")(c.src),
              "the exercise asks for ingress only: policyTypes decides which directions are isolated"),
    ]
    later = "a pod started in db later, without labels, is isolated too"
    setup = _setup(ctx, answer, {"db"}, _names(groups, later))
    if setup is None:
        return
    open_lab, lab, policies, _, open_m, after = setup

    def intended(c: Cell, open_: bool) -> bool:
        return _same(c) or not _is("db")(c.dst)

    wrong = _grade(ctx, open_m, after, intended, groups)
    lab.apply(_NEWCOMER)
    new_open = lab.reach("frontend/web", "db/newcomer", 80)
    ctx.expect(later, not new_open, "select every pod of the namespace, whatever its labels")
    ctx.mistake("a policy selecting only some pods of db",
                new_open or wrong["every other pod of db is isolated too, labelled or not"],
                "podSelector: {} (empty) selects every pod in the namespace, including future and unlabelled "
                "ones; matchLabels or matchExpressions (even `Exists`) leave some out")
    ctx.mistake("egress denied too", wrong["db's pods still open connections to other namespaces"],
                "policyTypes [Ingress, Egress] isolates both directions; default-deny ingress lists Ingress only")
    ctx.mistake("an ingress rule that allows everyone",
                any(rule == {} or rule is None for p in policies for rule in (p.get("spec") or {}).get("ingress") or []),
                "an empty rule `- {}` matches every source and every port: a default deny has no rules at all")


# ---------------------------------------------------------------- 08-db-from-backend
@exercise("08-db-from-backend", title="Only backend pods into the database, on 5432", lesson=LESSON,
          answer="manifests")
def db_from_backend(answer, ctx):
    """db/postgres accepts TCP 5432 from role=backend pods of namespace backend, and nothing else."""
    backend_pods = {"backend/api", "backend/worker"}
    groups = [
        Group("backend's role=backend pods reach postgres on 5432",
              lambda c: c.dst == "db/postgres" and c.src in backend_pods and c.port == 5432,
              "compare lab.reach('backend/api', 'db/postgres', 5432).reason with your rule's from and ports"),
        Group("backend pods without role=backend cannot reach postgres",
              lambda c: c.dst == "db/postgres" and _is("backend")(c.src) and c.src not in backend_pods,
              "being in namespace backend is not enough: the pod must also be labelled role=backend"),
        Group("role=backend pods of other namespaces cannot reach postgres",
              lambda c: c.dst == "db/postgres" and c.src == "probe/api-lookalike",
              "the label alone is not enough: the pod must be in namespace backend"),
        Group("frontend, the rest of db and the outside cannot reach postgres", lambda c: c.dst == "db/postgres"
              and not _is("backend")(c.src), "once postgres is selected, only what some rule allows gets in"),
        Group("backend pods cannot reach postgres on other ports (9100)",
              lambda c: c.dst == "db/postgres" and c.src in backend_pods,
              "a rule without `ports` allows every port"),
    ]
    service = "backend/api reaches postgres through its Service (postgres.db:5432)"
    setup = _setup(ctx, answer, {"db"}, _names(groups, service))
    if setup is None:
        return
    open_lab, lab, policies, codes, open_m, after = setup

    def intended(c: Cell, open_: bool) -> bool:
        if c.dst != "db/postgres" or _same(c):
            return True
        return c.src in backend_pods and (c.port, c.protocol) == (5432, "TCP")

    wrong = _grade(ctx, open_m, after, intended, groups)
    ctx.expect(service, lab.reach("backend/api", "postgres.db", 5432),
               "kube-proxy sends the Service's traffic to the pod; policy decides on the pod")
    ctx.mistake("OR written where AND was meant",
                (wrong["backend pods without role=backend cannot reach postgres"] and _or_peers(policies))
                or "separate-namespace-and-pod-peers" in codes,
                "two list items (`- namespaceSelector` and `- podSelector`) are ORed; for 'role=backend pods in "
                "namespace backend' put both selectors in ONE item")
    ctx.mistake("a namespaceSelector that matches every namespace",
                bool(wrong["role=backend pods of other namespaces cannot reach postgres"]),
                "`namespaceSelector: {}` selects every namespace; name the namespace: "
                "kubernetes.io/metadata.name: backend")
    ctx.mistake("the policy isolates more pods of db than postgres",
                any(c.dst.startswith("db/") and c.dst != "db/postgres" for c in wrong["nothing else changed"]),
                "`podSelector: {}` selects every pod of db; select the postgres pods (app: postgres)")


# ---------------------------------------------------------------- 08-frontend-egress
@exercise("08-frontend-egress", title="The frontend may call the API and DNS, nothing else", lesson=LESSON,
          answer="manifests")
def frontend_egress(answer, ctx):
    """frontend's pods open connections only to backend's app=api pods on TCP 8080 and to kube-dns on 53."""
    def dns(c: Cell) -> bool:
        return "coredns" in c.dst and c.port == 53

    from_frontend = _is("frontend")
    groups = [
        Group("frontend/web reaches backend/api on 8080",
              lambda c: from_frontend(c.src) and c.dst == "backend/api" and c.port == 8080,
              "the peer must match the api pods of namespace backend"),
        Group("frontend/web reaches the CoreDNS pods on UDP 53", lambda c: from_frontend(c.src) and dns(c)
              and c.protocol == "UDP", "name lookups go to the kube-dns pods in kube-system on UDP 53"),
        Group("frontend/web reaches the CoreDNS pods on TCP 53", lambda c: from_frontend(c.src) and dns(c),
              "large DNS answers are retried over TCP 53"),
        Group("frontend/web cannot reach backend/worker", lambda c: from_frontend(c.src) and c.dst == "backend/worker",
              "only the api pods: the namespace alone is not enough"),
        Group("look-alike api and DNS pods of other namespaces are not reachable",
              lambda c: from_frontend(c.src) and c.dst.startswith("probe/"),
              "a peer's podSelector needs a namespaceSelector naming the namespace, or it matches everywhere"),
        Group("frontend/web reaches nothing else (api's 9100, db, the outside)", lambda c: from_frontend(c.src),
              "a pod isolated for egress sends only what some egress rule allows"),
        Group("connections into frontend are unchanged", lambda c: _is("frontend")(c.dst),
              "your policies changed connections INTO frontend; the exercise is about what frontend sends"),
    ]
    service = "frontend/web reaches api through its Service name (api.backend:8080)"
    setup = _setup(ctx, answer, {"frontend"}, _names(groups, service))
    if setup is None:
        return
    open_lab, lab, policies, codes, open_m, after = setup
    if _lists_type(policies, "Ingress"):  # name the cause only when the answer has it
        groups[-1] = Group(groups[-1].name, groups[-1].covers,
                           "the exercise is about egress: leave Ingress out of policyTypes")

    def intended(c: Cell, open_: bool) -> bool:
        if not _is("frontend")(c.src) or _same(c):
            return True
        return dns(c) or (c.dst == "backend/api" and (c.port, c.protocol) == (8080, "TCP"))

    wrong = _grade(ctx, open_m, after, intended, groups)
    ctx.expect(service, lab.reach("frontend/web", "api.backend", 8080), "policy decides on the pod behind the Service")
    dns_wrong = wrong["frontend/web reaches the CoreDNS pods on UDP 53"]
    dns_rules = [rule or {} for p in policies for rule in (p.get("spec") or {}).get("egress") or []
                 if any((port or {}).get("port") in (53, "dns") for port in (rule or {}).get("ports") or [])]
    dns_by_address = any(isinstance(peer, dict) and "ipBlock" in peer for r in dns_rules for peer in r.get("to") or [])
    ctx.mistake("DNS allowed to the Service's address", dns_wrong and dns_by_address,
                "policies see the pod a connection reaches after kube-proxy's DNAT, not the Service IP: "
                "name the k8s-app=kube-dns pods in kube-system as the peer")
    ctx.mistake("default-deny egress that forgets DNS",
                (dns_wrong or "egress-blocks-dns" in codes) and not dns_by_address,
                "every lookup (api.backend) is a UDP connection to kube-dns: allow UDP and TCP 53 to the "
                "k8s-app=kube-dns pods in kube-system")
    ctx.mistake("DNS allowed to every destination", any(not r.get("to") for r in dns_rules),
                "a rule with ports and no `to` allows port 53 to any address; name the kube-dns pods as the peer")
    ctx.mistake("DNS over TCP forgotten", not dns_wrong and wrong["frontend/web reaches the CoreDNS pods on TCP 53"],
                "list both protocols for port 53")
    ctx.mistake("OR written where AND was meant",
                (wrong["frontend/web cannot reach backend/worker"] and _or_peers(policies))
                or "separate-namespace-and-pod-peers" in codes,
                "two list items (`- namespaceSelector` and `- podSelector`) are ORed; for 'app=api pods in "
                "namespace backend' put both selectors in ONE item")
    ctx.mistake("a namespaceSelector that matches every namespace",
                bool(wrong["look-alike api and DNS pods of other namespaces are not reachable"]),
                "`namespaceSelector: {}` selects every namespace; name the namespace with "
                "kubernetes.io/metadata.name")


# ---------------------------------------------------------------- 08-monitoring-ipblock
@exercise("08-monitoring-ipblock", title="Let a monitoring range scrape the backend", lesson=LESSON,
          answer="manifests")
def monitoring_ipblock(answer, ctx):
    """backend's 9100 only from 192.0.2.0/24 except 192.0.2.66; backend's 8080 still open to everyone."""
    to_backend = _is("backend")
    groups = [
        Group(f"{MONITOR} (in the monitoring range) scrapes every backend pod on 9100",
              lambda c: to_backend(c.dst) and c.src == MONITOR and c.port == 9100,
              "an ipBlock peer matches addresses by CIDR; select every pod of backend"),
        Group("every address of 192.0.2.0/24 but the excluded one scrapes 9100, edges of the range included",
              lambda c: to_backend(c.dst) and c.port == 9100 and _in_monitoring_range(c.src),
              "the brief names 192.0.2.0/24: a longer prefix (/26, /32) leaves part of the range out"),
        Group(f"{EXCLUDED} (excluded) cannot reach 9100", lambda c: to_backend(c.dst) and c.src == EXCLUDED
              and c.port == 9100, "cut one address out of a range with `except`"),
        Group("addresses outside the range and the cluster's pods cannot reach 9100",
              lambda c: to_backend(c.dst) and c.port == 9100, "only the monitoring range may scrape"),
        Group("backend's 8080 stays open to pods and outside addresses",
              lambda c: to_backend(c.dst) and c.port == 8080,
              "a pod selected by an Ingress policy accepts only what some rule allows, on every port"),
    ]
    setup = _setup(ctx, answer, {"backend"}, _names(groups))
    if setup is None:
        return
    open_lab, lab, policies, codes, open_m, after = setup

    def intended(c: Cell, open_: bool) -> bool:
        if not to_backend(c.dst) or c.port != 9100 or _same(c):
            return True
        return _in_monitoring_range(c.src)

    wrong = _grade(ctx, open_m, after, intended, groups)
    ctx.mistake("except written as a separate peer", any(
        (peer.get("ipBlock") or {}).get("cidr") in (f"{EXCLUDED}/32", EXCLUDED) for p in policies for _, peer in _peers(p)),
        "an ipBlock peer adds addresses; to leave one out, list it under `except` of the wider block")
    ctx.mistake("8080 forgotten", wrong["backend's 8080 stays open to pods and outside addresses"],
                "once a policy selects the backend pods, 8080 needs a rule of its own")
    ctx.mistake("from and ports in separate rules (OR where AND was meant)", any(_split_rules(p) for p in policies),
                "rules are ORed: a rule with only `from` allows every port, one with only `ports` every source; "
                "put from and ports in the same rule")
    ctx.mistake("a narrower range than the brief's",
                bool(wrong["every address of 192.0.2.0/24 but the excluded one scrapes 9100, edges of the range "
                           "included"]) and not wrong[f"{MONITOR} (in the monitoring range) scrapes every backend "
                                                      "pod on 9100"],
                "192.0.2.0/24 holds 192.0.2.0 to 192.0.2.255; check the prefix length of your cidr")
    ctx.mistake("only some backend pods selected", any(
        c.dst == "backend/unlabelled" for g in wrong.values() for c in g),
        "every pod of backend exports metrics: podSelector: {} selects them all, labelled or not")


def _split_rules(policy: dict) -> bool:
    """An ingress rule with `from` but no `ports` next to one with `ports` but no `from`."""
    rules = [r or {} for r in (policy.get("spec") or {}).get("ingress") or []]
    return any(r.get("from") and not r.get("ports") for r in rules) and any(
        r.get("ports") and not r.get("from") for r in rules)


# ---------------------------------------------------------------- 08-db-clients
@exercise("08-db-clients", title="Two kinds of client for the database", lesson=LESSON, answer="manifests")
def db_clients(answer, ctx):
    """db/postgres accepts TCP 5432 from every pod of namespace backend and from db/backup; nobody else."""
    to_pg = lambda c: c.dst == "db/postgres" and c.port == 5432  # noqa: E731
    groups = [
        Group("every pod of backend reaches postgres on 5432", lambda c: to_pg(c) and _is("backend")(c.src),
              "select the namespace; any pod in it counts"),
        Group("db/backup reaches postgres on 5432", lambda c: to_pg(c) and c.src == "db/backup",
              "the backup pod lives in the policy's own namespace"),
        Group("pods of other namespaces and other db pods cannot reach postgres, whatever their labels",
              lambda c: c.dst == "db/postgres" and c.src in ("probe/api-lookalike", "db/unlabelled"),
              "a podSelector without namespaceSelector looks in the policy's own namespace only; "
              "a namespaceSelector naming backend admits backend's pods only"),
        Group("frontend and the outside cannot reach postgres", lambda c: c.dst == "db/postgres"
              and not _is("backend")(c.src) and c.src != "db/backup", "only the two kinds of client get in"),
        Group("postgres's other ports stay closed (9100)", lambda c: c.dst == "db/postgres",
              "a rule without `ports` allows every port"),
    ]
    setup = _setup(ctx, answer, {"db"}, _names(groups))
    if setup is None:
        return
    open_lab, lab, policies, codes, open_m, after = setup

    def intended(c: Cell, open_: bool) -> bool:
        if c.dst != "db/postgres" or _same(c):
            return True
        return (c.port, c.protocol) == (5432, "TCP") and (_is("backend")(c.src) or c.src == "db/backup")

    wrong = _grade(ctx, open_m, after, intended, groups)
    both_missing = (wrong["every pod of backend reaches postgres on 5432"]
                    and wrong["db/backup reaches postgres on 5432"])
    anded = any(peer.get("namespaceSelector") is not None and peer.get("podSelector") is not None
                for p in policies for _, peer in _peers(p))
    ctx.mistake("AND written where OR was meant", both_missing and anded,
                "namespaceSelector and podSelector in ONE list item must both match; two kinds of client are "
                "two list items (a '-' before each)")
    ctx.mistake("the policy isolates more pods of db than postgres",
                any(c.dst.startswith("db/") and c.dst != "db/postgres" for c in wrong["nothing else changed"]),
                "`podSelector: {}` selects every pod of db; select the postgres pods (app: postgres)")
