"""Applying a playground's YAML the way a learner means it: the text is what the objects should be.

`kubectl apply` cannot change an immutable field (a Pod's ports, a Service's clusterIP or primary IP
family): the API server refuses ("Forbidden: pod updates may not change...") or keeps the old value
(an omitted clusterIP stays None). `kubectl replace --force` deletes such an object and creates it
again from the text. A playground does the same for exactly the objects that need it, and says so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..api import kinds
from ..api.manifests import load_manifests
from ..errors import ValidationError

__all__ = ["apply_or_replace", "PlaygroundApply", "is_immutable_refusal"]

_IMMUTABLE_WORDS = ("immutable", "may not change", "can not be unset", "cannot be unset")


def is_immutable_refusal(exc: Exception, doc: dict | None = None) -> bool:
    """Did the API server refuse an update because a field cannot change in place? Either it says so, or
    the refused field is one the text does not hold: its value was kept from the stored object (a
    Service's clusterIPs when ipFamilies change), so only a new object can take the edit."""
    if not isinstance(exc, ValidationError):
        return False
    return any(w in str(exc) for w in _IMMUTABLE_WORDS) or (doc is not None and not _written(doc, exc.field))


def _written(doc: dict, field_path: str) -> bool:
    """Does the document hold the field at `field_path` ("spec.clusterIPs[0]")?"""
    value = doc
    for part in re.findall(r"[^.\[\]]+", field_path):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False
    return True


def object_key(doc: dict) -> tuple:
    kind = kinds.lookup(doc["kind"])
    namespace = (doc["metadata"].get("namespace") or "default") if kind.namespaced else None
    return kind.kind, namespace, doc["metadata"]["name"]


def _label(key: tuple) -> str:
    kind, _namespace, name = key
    return f"{kind.lower()}/{name}"   # as kubectl prints it


@dataclass
class PlaygroundApply:
    """What a playground's Apply did: kubectl's lines, and the objects replaced with why."""

    result: object = None
    replaced: list = field(default_factory=list)     # (label, why)

    def lines(self) -> list[str]:
        replaced = {label for label, _ in self.replaced}
        out = [line for line in str(self.result or "").splitlines()
               if line and line.rsplit(" ", 1)[0] not in replaced]
        for label, why in self.replaced:
            out.append(f"{label} replaced (deleted and created again, as `kubectl replace --force` does): {why}")
        return out or ["unchanged"]


def _find_ref(exc: ValidationError, keys: list[tuple]) -> tuple | None:
    """The object an error names ("Pod default/hello: ..."), among the documents applied."""
    for key in keys:
        kind, namespace, name = key
        if exc.object in (f"{kind} {namespace}/{name}", f"{kind} {name}"):
            return key
    return None


def _exists(lab, key: tuple) -> bool:
    kind, namespace, name = key
    return any(o["metadata"]["name"] == name for o in lab.list(kind, namespace))


def _delete(lab, key: tuple) -> dict:
    kind, namespace, name = key
    old = lab.get(kind, name, namespace or "default")
    # a replaced pod goes at once, as `kubectl replace --force --grace-period=0`: the new one takes its name
    lab.delete(kind, name, namespace or "default", **({"grace_period": 0} if kind == "Pod" else {}))
    return old


def apply_or_replace(lab, text: str, last_applied: dict) -> PlaygroundApply:
    """Apply `text`; replace (delete + create) the objects whose edit the API server refuses as immutable
    or silently keeps (the result says "unchanged" though the text changed since `last_applied`).
    All or nothing: when the text cannot be applied even so, the replaced objects are put back.

    `last_applied` maps object keys to the documents this playground applied last; it is updated."""
    docs = load_manifests(text)
    keys = [object_key(d) for d in docs]
    outcome = PlaygroundApply()
    deleted: list[tuple] = []     # (key, the stored object), to put back on failure
    try:
        while True:
            try:
                outcome.result = lab.apply(docs)
                break
            except ValidationError as exc:
                key = _find_ref(exc, keys)
                doc = docs[keys.index(key)] if key is not None else None
                if key is None or key in [k for k, _ in deleted] or not _exists(lab, key) \
                        or not is_immutable_refusal(exc, doc):
                    raise
                deleted.append((key, _delete(lab, key)))
                outcome.replaced.append((_label(key), f"{exc.field} cannot change in place ({exc.problem})"))
        verbs = {(kind, *_split(kind, key)): verb for kind, key, verb in outcome.result.changes}
        ignored = [key for key, doc in zip(keys, docs)
                   if verbs.get(key) == "unchanged" and key in last_applied and last_applied[key] != doc]
        for key in ignored:
            deleted.append((key, _delete(lab, key)))
            outcome.replaced.append((_label(key), "the API server kept the old value of a field that cannot "
                                                  "change in place, so applying the edit changed nothing"))
        if ignored:
            outcome.result = lab.apply(docs)
    except Exception:
        for _unused, old in reversed(deleted):
            lab.apply(old)   # the stored object, pinned IPs included: the cluster is as it was
        raise
    last_applied.update(zip(keys, docs))
    return outcome


def _split(kind: str, key: str) -> tuple:
    """The store's "ns/name" (or "name") as (namespace, name)."""
    namespace, _, name = key.rpartition("/")
    return (namespace or None), name
