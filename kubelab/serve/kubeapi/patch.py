"""The three patch types the API server accepts (and kubectl and the Python client send):
JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes' strategic merge patch, whose list
merge keys and strategies come from the kind's own OpenAPI schema."""
from __future__ import annotations

import copy

from . import schemas

__all__ = ["PatchError", "merge_patch", "json_patch", "strategic_merge_patch"]


class PatchError(ValueError):
    """A patch that cannot be applied (bad pointer, failed test, wrong shape)."""


def merge_patch(target, patch):
    """RFC 7386: objects merge recursively, null deletes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


# ---------------------------------------------------------------- RFC 6902
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"JSON pointer {path!r} must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, parts: list[str], path: str):
    node = doc
    for part in parts[:-1]:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise PatchError(f"path {path!r}: {part!r} does not exist") from None
    return node


def _index(node: list, part: str, path: str, adding: bool = False) -> int:
    if adding and part == "-":
        return len(node)
    try:
        i = int(part)
    except ValueError:
        raise PatchError(f"path {path!r}: {part!r} is not a list index") from None
    if not 0 <= i <= len(node) - (0 if adding else 1):
        raise PatchError(f"path {path!r}: index {i} is out of range")
    return i


def _get(doc, path: str):
    parts = _pointer(path)
    if not parts:
        return doc
    node = _parent(doc, parts, path)
    try:
        return node[_index(node, parts[-1], path)] if isinstance(node, list) else node[parts[-1]]
    except (KeyError, TypeError):
        raise PatchError(f"path {path!r} does not exist") from None


def _remove(doc, path: str):
    parts = _pointer(path)
    node = _parent(doc, parts, path)
    if isinstance(node, list):
        return node.pop(_index(node, parts[-1], path))
    if not isinstance(node, dict) or parts[-1] not in node:
        raise PatchError(f"path {path!r} does not exist")
    return node.pop(parts[-1])


def _add(doc, path: str, value):
    parts = _pointer(path)
    if not parts:
        return value
    node = _parent(doc, parts, path)
    if isinstance(node, list):
        node.insert(_index(node, parts[-1], path, adding=True), value)
    elif isinstance(node, dict):
        node[parts[-1]] = value
    else:
        raise PatchError(f"path {path!r}: parent is not an object or list")
    return doc


def json_patch(target, operations: list):
    """RFC 6902 operations applied in order; any failure leaves `target` untouched."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch is a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"operation {op!r} needs 'op' and 'path'")
        kind, path = op["op"], op["path"]
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            parts = _pointer(path)
            if not parts:
                doc = copy.deepcopy(op.get("value"))
            else:
                node = _parent(doc, parts, path)
                node[_index(node, parts[-1], path) if isinstance(node, list) else parts[-1]] = copy.deepcopy(op.get("value"))
        elif kind == "move":
            value = _remove(doc, op["from"])
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op["from"])))
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise PatchError(f"test failed at {path!r}")
        else:
            raise PatchError(f"unknown JSON patch operation {kind!r}")
    return doc


# ---------------------------------------------------------------- strategic merge patch
def _property(schema: dict | None, key: str) -> dict | None:
    schema = schemas.resolve(schema)
    return (schema or {}).get("properties", {}).get(key) if schema else None


def _items(schema: dict | None) -> dict | None:
    return schemas.resolve((schemas.resolve(schema) or {}).get("items")) if schema else None


def strategic_merge_patch(target, patch, schema: dict | None):
    """Strategic merge patch (sig-api-machinery strategic-merge-patch.md): maps merge as in a merge
    patch; a list whose schema has x-kubernetes-patch-strategy "merge" merges its items by the
    x-kubernetes-patch-merge-key (primitive lists by value); other lists are replaced. Directives:
    $patch (replace/delete/merge), $retainKeys, $setElementOrder/<list>, $deleteFromPrimitiveList/<list>."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    out = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    if retain is not None:
        out = {k: v for k, v in out.items() if k in retain}
    orders = {k.split("/", 1)[1]: v for k, v in patch.items() if k.startswith("$setElementOrder/")}
    for key, value in patch.items():
        if key.startswith("$"):
            if key.startswith("$deleteFromPrimitiveList/"):
                field = key.split("/", 1)[1]
                out[field] = [v for v in out.get(field) or [] if v not in value]
            continue
        prop = _property(schema, key)
        if value is None:
            out.pop(key, None)
        elif isinstance(value, list):
            out[key] = _merge_list(out.get(key), value, prop, orders.get(key))
        elif isinstance(value, dict):
            sub = prop if prop is not None and (schemas.resolve(prop) or {}).get("properties") is not None \
                else (schemas.resolve(prop) or {}).get("additionalProperties") if prop else None
            merged = strategic_merge_patch(out.get(key), value, sub if sub is not None else prop)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        else:
            out[key] = value
    for key, order in orders.items():
        if key not in patch and isinstance(out.get(key), list):
            out[key] = _merge_list(out[key], [], _property(schema, key), order)
    return out


def _merge_list(current, patch: list, prop: dict | None, order: list | None):
    strategy = (prop or {}).get("x-kubernetes-patch-strategy", "")
    merge_key = (prop or {}).get("x-kubernetes-patch-merge-key")
    if "merge" not in strategy.split(","):
        return [copy.deepcopy(v) for v in patch if not (isinstance(v, dict) and "$patch" in v)]
    current = list(current or [])
    if merge_key is None:   # a list of primitives merged as a set
        out = current + [v for v in patch if v not in current]
        return _ordered(out, order, None)
    item_schema = _items(prop)
    by_key = {item.get(merge_key): i for i, item in enumerate(current) if isinstance(item, dict)}
    out = list(current)
    deleted = set()
    for item in patch:
        if not isinstance(item, dict):
            continue
        key = item.get(merge_key)
        if item.get("$patch") == "delete":
            deleted.add(key)
            continue
        if key in by_key:
            out[by_key[key]] = strategic_merge_patch(out[by_key[key]], item, item_schema)
        else:
            by_key[key] = len(out)
            out.append(strategic_merge_patch({}, item, item_schema))
    out = [item for item in out if not (isinstance(item, dict) and item.get(merge_key) in deleted)]
    return _ordered(out, order, merge_key)


def _ordered(items: list, order: list | None, merge_key: str | None) -> list:
    """$setElementOrder: items named in the order come first, in that order; the rest keep theirs."""
    if not order:
        return items
    keyed = [(o.get(merge_key) if merge_key and isinstance(o, dict) else o) for o in order]

    def rank(item):
        k = item.get(merge_key) if merge_key and isinstance(item, dict) else item
        return keyed.index(k) if k in keyed else len(keyed)
    return sorted(items, key=rank)
