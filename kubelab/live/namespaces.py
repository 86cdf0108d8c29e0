"""Which namespaces the live backend may touch, and how a lesson's namespace names map onto the
cluster's: with namespace_prefix "kubelab-", the lesson's "default" is the cluster's "kubelab-default",
so a course never writes into namespaces it did not create."""
from __future__ import annotations

import copy

__all__ = ["NamespaceMap", "MANAGED_BY_LABEL", "MANAGED_BY_VALUE"]

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "kubelab"
NAME_LABEL = "kubernetes.io/metadata.name"


class NamespaceMap:
    """lesson namespace <-> cluster namespace; also rewrites the namespace names NetworkPolicy
    namespaceSelectors match through the kubernetes.io/metadata.name label."""

    def __init__(self, prefix: str):
        self.prefix = prefix or ""

    def to_cluster(self, namespace: str | None) -> str | None:
        return None if namespace is None else f"{self.prefix}{namespace}"

    def to_lesson(self, namespace: str | None) -> str | None:
        if namespace is None or not self.prefix or not namespace.startswith(self.prefix):
            return namespace
        return namespace[len(self.prefix):]

    def _rewrite_selectors(self, spec, convert) -> None:
        for direction in ("ingress", "egress"):
            for rule in spec.get(direction) or []:
                for peer in rule.get("from" if direction == "ingress" else "to") or []:
                    selector = peer.get("namespaceSelector")
                    if not isinstance(selector, dict):
                        continue
                    labels = selector.get("matchLabels") or {}
                    if NAME_LABEL in labels:
                        labels[NAME_LABEL] = convert(labels[NAME_LABEL])
                    for expr in selector.get("matchExpressions") or []:
                        if expr.get("key") == NAME_LABEL:
                            expr["values"] = [convert(v) for v in expr.get("values") or []]

    def object_to_cluster(self, obj: dict, namespaced: bool) -> dict:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if obj.get("kind") == "Namespace":
            meta["name"] = self.to_cluster(meta["name"])
            meta.setdefault("labels", {})[MANAGED_BY_LABEL] = MANAGED_BY_VALUE
        elif namespaced:
            meta["namespace"] = self.to_cluster(meta.get("namespace") or "default")
        if obj.get("kind") == "NetworkPolicy":
            self._rewrite_selectors(obj.get("spec") or {}, self.to_cluster)
        return obj

    def object_to_lesson(self, obj: dict) -> dict:
        if not self.prefix:
            return obj
        meta = obj.get("metadata") or {}
        if obj.get("kind") == "Namespace":
            meta["name"] = self.to_lesson(meta.get("name"))
        elif meta.get("namespace"):
            meta["namespace"] = self.to_lesson(meta["namespace"])
        if obj.get("kind") == "NetworkPolicy":
            self._rewrite_selectors(obj.get("spec") or {}, self.to_lesson)
        return obj
