"""The troubleshooting capstone (lesson 11): each learner's own broken shop, drawn from a seed derived from the
learner id, so two learners get different faults and an instructor rebuilds any learner's scenario exactly.

    scenario = kubelab.capstone("ada@example.org", level=2)
    print(scenario.tickets)            # what users report
    scenario.serve()                   # the cluster for !kubectl cells
    scenario.progress()                # which tickets are resolved (never why)
    scenario.hint(1)                   # symptom, then layer, then object; every hint is recorded
    kubelab.check("11-capstone", scenario.answer())   # graded by replaying the journeys
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Callable

from ..errors import KubelabError
from .faults import FAULTS, INVARIANTS, LAB_OPTIONS, Fault, by_id, shop_manifests

__all__ = ["capstone", "worked_example", "Capstone", "Progress", "seed_of", "draw", "LEVELS", "ANSWER_FORMAT"]

#: how many faults each level draws
LEVELS = {1: 3, 2: 4, 3: 5}
ANSWER_FORMAT = "kubelab-capstone/v1"
#: the namespaces the shop lives in: a learner's changes are collected from these
NAMESPACES = ("shop", "edge", "reports", "monitoring")
USER_KINDS = ("Deployment", "Service", "EndpointSlice", "NetworkPolicy", "Ingress", "Secret", "ServiceAccount",
              "Gateway", "HTTPRoute", "ReferenceGrant", "PeerAuthentication", "DestinationRule", "VirtualService",
              "AuthorizationPolicy")
#: objects outside the shop's namespaces that a fault (and so a fix) can change
CLUSTER_OBJECTS = (("ConfigMap", "kube-system", "calico-config"), ("ConfigMap", "kube-system", "coredns"),
                   ("NetworkPolicy", "kube-system", "coredns-egress"), ("Node", "", "node-4"))
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_VOLATILE_META = ("resourceVersion", "uid", "generation", "creationTimestamp", "managedFields", "ownerReferences",
                  "deletionTimestamp", "selfLink")


def seed_of(learner_id: str) -> int:
    """The scenario's seed: the first 8 bytes of SHA-256 of the learner id (stable across runs and machines,
    unlike hash())."""
    if not isinstance(learner_id, str) or not learner_id.strip():
        raise KubelabError("capstone(): learner_id must be a non-empty string, such as your e-mail address")
    return int.from_bytes(hashlib.sha256(f"kubelab-capstone:{learner_id.strip()}".encode()).digest()[:8], "big")


def draw(learner_id: str, level: int = 2) -> tuple[Fault, ...]:
    """The learner's faults: the library ranked by a hash of (seed, fault id), keeping faults that break disjoint
    journeys and change disjoint objects (so each ticket has one cause), preferring layers not drawn yet.
    Ranking each fault on its own (rendezvous hashing) keeps a learner's draw when faults are added to the
    library, unless a new fault ranks above theirs."""
    if level not in LEVELS:
        raise KubelabError(f"capstone(): level {level!r} is not one of {sorted(LEVELS)} (3, 4 or 5 faults)")
    seed = seed_of(learner_id)
    order = sorted(FAULTS, key=lambda f: hashlib.sha256(f"{seed}:{f.id}".encode()).digest())
    chosen: list[Fault] = []
    for pass_ in ("new layer", "any layer"):
        for fault in order:
            if len(chosen) == LEVELS[level]:
                break
            taken = {j for f in chosen for j in f.breaks}
            touched = {t for f in chosen for t in f.targets}
            masked = any(fault.id in f.masks or f.id in fault.masks for f in chosen)
            if fault in chosen or taken & set(fault.breaks) or touched & set(fault.targets) or masked:
                continue   # one cause per ticket, one fault per object, no fault hiding another's symptom
            if pass_ == "new layer" and fault.layer in {f.layer for f in chosen}:
                continue
            chosen.append(fault)
    return tuple(chosen)


def _as_kubectl_applied(doc: dict) -> dict:
    """The object as `kubectl apply` creates it: with its last-applied-configuration annotation, so a learner's
    `kubectl apply` computes a three-way merge (a port they replace is removed, not merged beside the old)."""
    applied = json.loads(json.dumps(doc))
    annotations = applied.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[LAST_APPLIED] = json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"
    return applied


def _clean(obj: dict) -> dict:
    """An object as a learner would apply it again: no status, no server-managed metadata, no allocated IPs."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _VOLATILE_META}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k != LAST_APPLIED}
    meta.pop("annotations", None)
    if annotations:
        meta["annotations"] = annotations
    out["metadata"] = meta
    if obj.get("kind") == "Service":
        out["spec"] = {k: v for k, v in (obj.get("spec") or {}).items() if k not in ("clusterIP", "clusterIPs")}
    return out


@dataclass(frozen=True)
class TicketState:
    number: int
    ticket: str
    resolved: bool


class Progress:
    """Which tickets are resolved and whether the invariants still hold; never what caused a ticket."""

    def __init__(self, tickets: list[TicketState], invariants: list[tuple[str, bool]]):
        self.tickets, self.invariants = tickets, invariants

    @property
    def resolved(self) -> int:
        return sum(t.resolved for t in self.tickets)

    def __str__(self) -> str:
        lines = [f"[{'RESOLVED' if t.resolved else 'OPEN'}] ticket {t.number}: {t.ticket}" for t in self.tickets]
        lines += [f"[{'KEPT' if ok else 'BROKEN'}] {says}" for says, ok in self.invariants]
        lines.append(f"{self.resolved}/{len(self.tickets)} tickets resolved")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from ..show.capstone import progress_html
        return progress_html(self)


class Capstone:
    """One learner's broken shop: the Lab, the tickets, progress, hints and the answer to hand in."""

    def __init__(self, learner_id: str, level: int = 2, *, clock: Callable[[], float] = time.time,
                 faults: tuple[str, ...] | None = None):
        self.learner_id, self.level = learner_id.strip() if isinstance(learner_id, str) else learner_id, level
        self.seed = seed_of(learner_id)
        # faults=(ids...) builds a chosen scenario (the lesson's worked example, an instructor's demo)
        self.faults = draw(learner_id, level) if faults is None else tuple(by_id(f) for f in faults)
        self.base = shop_manifests()
        broken = self.base
        for fault in self.faults:
            broken = fault.apply(broken)
        self.manifests = broken
        self.lab = kubelab_connect()
        self.lab.apply([_as_kubectl_applied(d) for d in broken])
        self._start = self._snapshot()
        self._clock = clock
        self.started_at = clock()
        self.hints_used: list[dict] = []

    # ------------------------------------------------------------ what the learner reads
    @property
    def tickets(self) -> list[str]:
        """The tickets as users filed them, numbered from 1 (the symptoms only)."""
        return [f"#{n}: {fault.symptom()}" for n, fault in enumerate(self.faults, 1)]

    def __repr__(self) -> str:
        return (f"<kubelab capstone for {self.learner_id!r}, level {self.level}: {len(self.faults)} tickets>\n"
                + "\n".join(self.tickets))

    def serve(self, **kwargs) -> str:
        """Serve the cluster for kubectl (lab.serve()): returns the kubeconfig path and sets KUBECONFIG."""
        return self.lab.serve(**kwargs)

    def progress(self) -> Progress:
        """Which tickets are resolved now (their journeys replayed) and which invariants still hold."""
        tickets = [TicketState(n, f.symptom(), f.is_fixed(self.lab)) for n, f in enumerate(self.faults, 1)]
        ticketed = {j for f in self.faults for j in f.breaks}   # an invariant a ticket is about shows as that ticket
        invariants = [(j.says, j.run(self.lab).ok) for name, j in INVARIANTS.items() if name not in ticketed]
        return Progress(tickets, invariants)

    def hint(self, ticket: int = 1, level: int | None = None) -> str:
        """A hint for one ticket, escalating on each call (1: the journey to replay, 2: the layer, 3: the
        object); every hint given is recorded in the answer."""
        if not isinstance(ticket, int) or not 1 <= ticket <= len(self.faults):
            raise KubelabError(f"hint(): ticket must be 1..{len(self.faults)}, not {ticket!r}")
        given = max((h["level"] for h in self.hints_used if h["ticket"] == ticket), default=0)
        level = min(given + 1, 3) if level is None else level
        if level not in (1, 2, 3):
            raise KubelabError(f"hint(): level must be 1 (symptom), 2 (layer) or 3 (object), not {level!r}")
        self.hints_used.append({"ticket": ticket, "level": level})
        return hint_text(self.faults[ticket - 1], level)

    # ------------------------------------------------------------ changes and the answer
    def apply(self, manifests):
        """lab.apply (what kubectl apply does); every change is collected by answer()."""
        return self.lab.apply(manifests)

    def delete(self, kind: str, name: str, namespace: str = "default"):
        return self.lab.delete(kind, name, namespace)

    def _snapshot(self) -> dict:
        found = {}
        for kind, ns, name in CLUSTER_OBJECTS:
            obj = self.lab.cluster.find(kind, f"{ns}/{name}" if ns else name)
            if obj is not None:
                found[(kind, ns, name)] = _clean(obj)
        for ns in NAMESPACES:
            try:
                found[("Namespace", "", ns)] = _clean(self.lab.get("Namespace", ns, ""))
            except KubelabError:
                pass
            for kind in USER_KINDS:
                for obj in self.lab.list(kind, ns):
                    if kind == "EndpointSlice" and (obj["metadata"].get("labels") or {}).get(
                            "endpointslice.kubernetes.io/managed-by"):
                        continue   # made by the controller, not by hand
                    if kind == "ServiceAccount" and obj["metadata"]["name"] == "default":
                        continue
                    if kind == "Secret" and obj.get("type") == "kubernetes.io/service-account-token":
                        continue
                    found[(kind, ns, obj["metadata"]["name"])] = _clean(obj)
        return found

    def changes(self) -> list[dict]:
        """Every object the learner changed or created since the start (as manifests), then every deletion as
        {"delete": {"kind", "namespace", "name"}}: whichever way they were made (apply, kubectl)."""
        return changes_between(self._start, self._snapshot())

    def state(self) -> list[dict]:
        """The scenario's objects as they are now (the shop's namespaces, as a learner would apply them again)."""
        now = self._snapshot()
        return [now[k] for k in sorted(now, key=str)]

    def answer(self) -> dict:
        """What is handed in: plain data (JSON-able), graded by check("11-capstone", answer) outside the kernel.
        `state` is the final state the grader applies to a scenario it rebuilds from the learner id; `changes`
        is the same as a diff (what older answers carried alone)."""
        state = self.state()
        return {"format": ANSWER_FORMAT, "learner": self.learner_id, "level": self.level,
                "state": state, "changes": changes_between(self._start, {_key(d): d for d in state}),
                "hints": list(self.hints_used), "started_at": self.started_at, "answered_at": self._clock()}

    def restore(self, answer: dict) -> None:
        """Bring this (freshly built) scenario to the state an answer hands in: its `state` when it has one (every
        object it lacks is deleted), else its `changes` replayed."""
        if "state" in answer:
            state = answer["state"]
            if not isinstance(state, list) or not all(isinstance(d, dict) for d in state):
                raise KubelabError("the answer's state must be a list of manifests (scenario.answer()['state'])")
            apply_changes(self.lab, changes_between(self._start, {_key(d): d for d in state}))
        else:
            apply_changes(self.lab, answer.get("changes") or [])

    def save(self, path) -> str:
        """Write answer() as JSON (what `kubelab capstone report` reads)."""
        from pathlib import Path
        Path(path).write_text(json.dumps(self.answer(), indent=1, sort_keys=True))
        return str(path)


def hint_text(fault: Fault, level: int) -> str:
    journeys = "; ".join(j.says for j in fault.journeys())
    if level == 1:
        return f"Reproduce it first: {journeys}. What does the client get, and from which hop on?"
    if level == 2:
        return f"The cause is in the {fault.layer} layer."
    kind, ns, name = fault.targets[0]
    where = f"{kind} {ns}/{name}" if ns else f"{kind} {name}"
    return f"Look at {where}."


def kubelab_connect():
    from ..lab import connect
    return connect("simulated", **LAB_OPTIONS)


def worked_example() -> Capstone:
    """Lesson 11's worked example: the shop with one fault everyone shares (not graded)."""
    return Capstone("worked-example", 1, faults=("egress-forgets-dns",))


def capstone(learner_id: str, level: int = 2) -> Capstone:
    """Your own broken shop for lesson 11: 3, 4 or 5 faults (level 1, 2, 3) drawn from your learner id."""
    return Capstone(learner_id, level)


def _key(doc: dict) -> tuple:
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    kind = doc.get("kind")
    return (kind, "" if kind in ("Namespace", "Node") else meta.get("namespace", "default"), meta.get("name"))


def changes_between(start: dict, now: dict) -> list[dict]:
    """What turns snapshot `start` into `now` ({(kind, namespace, name): manifest}): the objects changed or
    created, in key order, then a {"delete": ...} entry for every object gone."""
    changed = [now[k] for k in sorted(now, key=str) if start.get(k) != now[k]]
    deleted = [{"delete": {"kind": k[0], "namespace": k[1], "name": k[2]}}
               for k in sorted(start, key=str) if k not in now]
    return changed + deleted


def apply_changes(lab, changes) -> None:
    """Replay an answer's changes on a rebuilt scenario: deletions, then every manifest in one apply."""
    if not isinstance(changes, list):
        raise KubelabError("the answer's changes must be a list of manifests and {'delete': ...} entries")
    for change in changes:
        if isinstance(change, dict) and set(change) == {"delete"}:
            d = change["delete"] if isinstance(change["delete"], dict) else {}
            lab.delete(str(d.get("kind")), str(d.get("name")), str(d.get("namespace") or "default"))
    manifests = [c for c in changes if not (isinstance(c, dict) and set(c) == {"delete"})]
    if manifests:
        lab.apply(manifests)
