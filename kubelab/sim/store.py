"""The simulated API server's storage: objects by kind, namespace and name, with resourceVersions
and a generation counter that lets derived views (policy engine, DNS) know when to rebuild."""
from __future__ import annotations

from collections import defaultdict

__all__ = ["Store"]

MAX_LOG = 200_000   # keys kept per kind in the change log before it starts a new epoch


class Store:
    """Objects are stored as dicts and never mutated after storing: updates replace them, which
    makes a snapshot (for all-or-nothing apply) a cheap shallow copy."""

    def __init__(self):
        # kind -> namespace ("" for cluster-scoped) -> name -> object
        self._objects: dict[str, dict[str, dict[str, dict]]] = defaultdict(lambda: defaultdict(dict))
        self.resource_version = 0
        self.generation = 0
        # kind -> namespace -> names sorted, kept until a name comes or goes (controllers list often)
        self._sorted: dict[str, dict[str, list[str]]] = {}
        # kind -> keys put or removed, in order: a controller that remembers where it read up to (cursor) visits
        # only what changed since. A restore, or a log grown past MAX_LOG, starts a new epoch: cursors of an
        # older one get None from changed_since, and their owners start over from the full lists
        self._log: dict[str, list[str]] = defaultdict(list)
        self.log_epoch = 0

    @staticmethod
    def key(namespace: str | None, name: str) -> str:
        return f"{namespace}/{name}" if namespace else name

    @staticmethod
    def _split(key: str) -> tuple[str, str]:
        ns, _, name = key.rpartition("/")
        return ns, name

    def get(self, kind: str, key: str) -> dict | None:
        ns, name = self._split(key)
        by_ns = self._objects.get(kind)
        return by_ns[ns].get(name) if by_ns is not None and ns in by_ns else None

    def put(self, kind: str, key: str, obj: dict) -> None:
        self.resource_version += 1
        self.generation += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.resource_version)
        ns, name = self._split(key)
        objs = self._objects[kind][ns]
        if name not in objs:
            self._sorted.pop(kind, None)
        objs[name] = obj
        self._note(kind, key)

    def remove(self, kind: str, key: str) -> dict | None:
        self.generation += 1
        ns, name = self._split(key)
        by_ns = self._objects.get(kind)
        if by_ns is None or ns not in by_ns:
            return None
        self._sorted.pop(kind, None)
        self._note(kind, key)
        return by_ns[ns].pop(name, None)

    def _note(self, kind: str, key: str) -> None:
        log = self._log[kind]
        if len(log) >= MAX_LOG:
            self._new_log_epoch()
            log = self._log[kind]
        log.append(key)

    def _new_log_epoch(self) -> None:
        self._log = defaultdict(list)
        self.log_epoch += 1

    def cursor(self, kind: str) -> tuple[int, int]:
        """Where the change log of a kind is now: pass it to changed_since later."""
        return self.log_epoch, len(self._log[kind])

    def changed_since(self, kind: str, cursor: tuple[int, int]) -> list[str] | None:
        """Keys of the kind put or removed since `cursor` (repeats possible), or None when that is no longer
        known (a restore or a trimmed log since): the caller then reads the full lists."""
        epoch, at = cursor
        if epoch != self.log_epoch:
            return None
        return self._log[kind][at:]

    def items(self, kind: str, namespace: str | None = None) -> list[dict]:
        """Objects of a kind, sorted by namespace then name (kubectl's order)."""
        by_ns = self._objects.get(kind) or {}
        if namespace is not None:
            objs = by_ns.get(namespace) or {}
            return [objs[n] for n in self._sorted_names(kind, namespace, objs)]
        return [by_ns[ns][n] for ns in sorted(by_ns) for n in self._sorted_names(kind, ns, by_ns[ns])]

    def _sorted_names(self, kind: str, namespace: str, objs: dict) -> list[str]:
        by_ns = self._sorted.setdefault(kind, {})
        if namespace not in by_ns:
            by_ns[namespace] = sorted(objs)
        return by_ns[namespace]

    def count(self, kind: str) -> int:
        return sum(len(objs) for objs in (self._objects.get(kind) or {}).values())

    def snapshot(self):
        return ({kind: {ns: dict(objs) for ns, objs in by_ns.items()} for kind, by_ns in self._objects.items()},
                self.resource_version, self.generation)

    def restore(self, snap) -> None:
        objects, rv, gen = snap
        self._objects = defaultdict(lambda: defaultdict(dict))
        for kind, by_ns in objects.items():
            for ns, objs in by_ns.items():
                self._objects[kind][ns] = dict(objs)
        self.resource_version = rv
        self.generation = gen + 1
        self._sorted = {}
        self._new_log_epoch()
