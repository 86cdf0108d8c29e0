"""The simulated API server's storage: objects by kind and key, with resourceVersions and a
generation counter that lets derived views (policy engine, DNS) know when to rebuild."""
from __future__ import annotations

from collections import defaultdict

__all__ = ["Store"]


class Store:
    """Objects are stored as dicts and never mutated after storing: updates replace them, which
    makes a snapshot (for all-or-nothing apply) a cheap shallow copy."""

    def __init__(self):
        self._objects: dict[str, dict[str, dict]] = defaultdict(dict)
        self.resource_version = 0
        self.generation = 0

    @staticmethod
    def key(namespace: str | None, name: str) -> str:
        return f"{namespace}/{name}" if namespace else name

    def get(self, kind: str, key: str) -> dict | None:
        return self._objects[kind].get(key)

    def put(self, kind: str, key: str, obj: dict) -> None:
        self.resource_version += 1
        self.generation += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.resource_version)
        self._objects[kind][key] = obj

    def remove(self, kind: str, key: str) -> dict | None:
        self.generation += 1
        return self._objects[kind].pop(key, None)

    def items(self, kind: str, namespace: str | None = None) -> list[dict]:
        """Objects of a kind, sorted by namespace then name (kubectl's order)."""
        objs = self._objects[kind]
        if namespace is None:
            return [objs[k] for k in sorted(objs)]
        prefix = f"{namespace}/"
        return [objs[k] for k in sorted(objs) if k.startswith(prefix)]

    def count(self, kind: str) -> int:
        return len(self._objects[kind])

    def snapshot(self):
        return ({kind: dict(objs) for kind, objs in self._objects.items()}, self.resource_version, self.generation)

    def restore(self, snap) -> None:
        objects, rv, gen = snap
        self._objects = defaultdict(dict, {kind: dict(objs) for kind, objs in objects.items()})
        self.resource_version = rv
        self.generation = gen + 1
