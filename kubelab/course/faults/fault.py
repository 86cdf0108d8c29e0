"""One fault: a small frozen object in the manner of Chaos Mesh's experiments (a target, an effect, a revert).

`apply(manifests)` breaks a copy of the shop's manifests in one documented way; `symptom()` says what a user
notices (never the cause); `is_fixed(lab)` replays the journeys it breaks; `fix(base)` is the documented fix as
the manifests to apply.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

from .shop import INVARIANTS, JOURNEYS

__all__ = ["Fault", "Target", "key"]

Target = tuple  # (kind, namespace, name)


def key(doc: dict) -> Target:
    meta = doc.get("metadata") or {}
    return doc.get("kind"), meta.get("namespace", "" if doc.get("kind") == "Namespace" else "default"), meta.get("name")


@dataclass(frozen=True)
class Fault:
    """A documented way the shop breaks: what it changes, what users see, and the fix."""

    id: str
    layer: str                         # pod networking, CNI, Services, EndpointSlices, DNS, NetworkPolicy, Ingress/Gateway, mesh
    targets: tuple                     # the (kind, namespace, name) objects it changes
    breaks: tuple                      # journeys (or invariants) it breaks
    ticket: str                        # the symptom as a user reports it
    effect: str                        # the cause, for the instructor's walkthrough
    fix_text: str                      # the documented fix, in one sentence
    mutate: Callable[[dict], None] = field(repr=False, compare=False)        # edits {target: doc} in place
    repair: Callable[[dict], None] | None = field(default=None, repr=False, compare=False)  # fix beyond a revert
    adds: Callable[[], list] | None = field(default=None, repr=False, compare=False)  # objects the fault's story
    # brings along that are not wrong in themselves (the fix keeps them), e.g. another namespace's own Service
    masks: tuple = ()                  # ids of faults whose symptom this one hides (never drawn together)

    def apply(self, manifests: list[dict]) -> list[dict]:
        """A broken copy of `manifests` (the input is not changed)."""
        docs = copy.deepcopy(manifests)
        by_key = {key(d): d for d in docs}
        missing = [t for t in self.targets if t not in by_key]
        if missing:
            raise ValueError(f"fault {self.id}: the manifests have no {missing[0]}")
        self.mutate({t: by_key[t] for t in self.targets})
        return docs + (copy.deepcopy(self.adds()) if self.adds else [])

    def symptom(self) -> str:
        return self.ticket

    def journeys(self):
        return [JOURNEYS.get(name) or INVARIANTS[name] for name in self.breaks]

    def is_fixed(self, lab) -> bool:
        return all(j.run(lab).ok for j in self.journeys())

    def fix(self, base: list[dict]) -> list[dict]:
        """The documented fix as manifests: the targets as they were in the working shop (+ any repair)."""
        by_key = {key(d): d for d in copy.deepcopy(base)}
        fixed = {t: by_key[t] for t in self.targets}
        if self.repair is not None:
            self.repair(fixed)
        return list(fixed.values())
