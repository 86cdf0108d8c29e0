"""Null values in, Go's zero values out: how the API server decodes ``null`` in a manifest.

kube-apiserver decodes JSON/YAML into Go structs, so a ``null`` field is left unset (and then
defaulted or reported as "Required value"), a ``null`` list item becomes the item type's zero
value (an empty object, "" or 0) and a ``null`` map value the value type's zero value. Doing the
same here means an empty ``spec:`` or a lone ``-`` in YAML gets the API server's own error (or is
accepted, where Kubernetes accepts it) instead of crashing admission code that expects a dict.
"""
from __future__ import annotations

from .schema import definitions, kind_schema

__all__ = ["decode_nulls"]

_ZERO = {"object": dict, "array": list, "string": str, "integer": int, "number": int, "boolean": bool}


def _resolve(node: dict | None) -> dict | None:
    """Follow a $ref to its definition (the schemas nest one level: {"$ref": ..., "description": ...})."""
    while node and "$ref" in node:
        node = definitions().get(node["$ref"].rsplit("/", 1)[-1])
    return node


def _zero(node: dict | None, siblings: list):
    """The zero value of a schema node's type; without a schema, guess from the other items."""
    node = _resolve(node)
    if node is None:
        typed = next((x for x in siblings if x is not None), {})
        return type(typed)() if isinstance(typed, (dict, list, str, int)) else {}
    if "oneOf" in node:           # IntOrString: Go's zero value is the integer 0
        return 0
    types = node.get("type") or "object"
    types = [types] if isinstance(types, str) else [t for t in types if t != "null"]
    return _ZERO.get(types[0] if types else "object", dict)()


def _walk(value, node: dict | None) -> None:
    node = _resolve(node)
    if isinstance(value, dict):
        props = (node or {}).get("properties") or {}
        extra = (node or {}).get("additionalProperties")
        for key in list(value):
            sub = props.get(key) if key in props else (extra if isinstance(extra, dict) else None)
            if value[key] is None:
                if node is None or key in props:
                    del value[key]            # a field left unset
                elif isinstance(extra, dict):
                    value[key] = _zero(extra, [])   # a map entry with the value type's zero value
                # an unknown field stays: the strict schema check names it
            else:
                _walk(value[key], sub)
    elif isinstance(value, list):
        item = (node or {}).get("items")
        for i, x in enumerate(value):
            if x is None:
                value[i] = _zero(item, value)
            else:
                _walk(x, item)


def _has_null(obj) -> bool:
    stack = [obj]
    while stack:
        value = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        for child in children:
            if child is None:
                return True
            if isinstance(child, (dict, list)):
                stack.append(child)
    return False


def decode_nulls(obj: dict) -> dict:
    """Replace nulls in `obj` (in place) as the API server's decoder would, guided by the kind's schema."""
    if _has_null(obj):   # most objects hold none: skip the schema-guided walk
        _walk(obj, kind_schema(str(obj.get("kind")), str(obj.get("apiVersion"))))
    return obj
