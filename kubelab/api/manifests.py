"""Manifests in, plain Kubernetes-shaped dicts out: YAML text (multi-document), dicts, lists, files.

Errors name the document and line for bad YAML, and the object and field for bad objects.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Iterable

from ..errors import ManifestError, ValidationError, object_ref

__all__ = ["load_manifests", "ref_of", "require_objects", "holds_no_object"]


def ref_of(doc: dict) -> str:
    """How messages name an object before it is admitted: ``Kind ns/name``."""
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    return object_ref(str(doc.get("kind") or "<no kind>"), metadata.get("name"), metadata.get("namespace"))


def _parse_yaml(text: str, source: str) -> list:
    import yaml

    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except RecursionError:
        raise ManifestError(f"{source}: not valid YAML: nested too deeply for a Kubernetes object "
                            "(look for runaway brackets or indentation)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError(f"{source}: not valid YAML{where}: {problem} "
                            "(check indentation: use spaces, not tabs, and align list items)") from None


def _flatten(item, source: str, parsed: bool = False) -> Iterable:
    if item is None:
        return
    if isinstance(item, Path):
        yield from _flatten(item.read_text(), str(item))
    elif isinstance(item, str) and not parsed:
        for doc in _parse_yaml(item, source):
            yield from _flatten(doc, source, parsed=True)
    elif isinstance(item, dict):
        if item.get("kind") == "List" and isinstance(item.get("items"), list):
            for sub in item["items"]:
                yield from _flatten(sub, source, parsed)
        else:
            yield item
    elif isinstance(item, (list, tuple)):
        for sub in item:
            yield from _flatten(sub, source, parsed)
    elif parsed:
        yield item   # a YAML document that is not a mapping: reported by load_manifests
    else:
        raise ManifestError(f"{source}: expected YAML text, a dict or a list of them, got "
                            f"{type(item).__name__} {item!r}")


def load_manifests(manifests) -> list[dict]:
    """Every object in `manifests`, deep-copied (the caller's dicts are never changed), with the
    fields every object needs (apiVersion, kind, metadata.name) checked."""
    try:
        return _load(manifests)
    except RecursionError:
        raise ManifestError("manifest: nested too deeply for a Kubernetes object "
                            "(a dict or list that contains itself?)") from None


# Kubernetes objects nest a few dozen levels at most; deeper (or self-containing) data is a mistake, and
# would otherwise exhaust Python's recursion limit in the validators that walk it.
MAX_DEPTH = 100


def _check_depth(doc: dict, ref: str) -> None:
    # a self-containing value is also one that never ends: the depth limit catches both
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ManifestError(f"{ref}: nested too deeply (more than {MAX_DEPTH} levels): look for runaway "
                                "brackets or indentation, or a dict or list that contains itself")
        for child in (value.values() if isinstance(value, dict) else value):
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))


def _type_name(value) -> str:
    return {dict: "object", list: "array", str: "string", int: "integer", float: "number",
            bool: "boolean", type(None): "null"}.get(type(value), type(value).__name__)


def _load(manifests) -> list[dict]:
    docs = []
    for i, doc in enumerate(_flatten(manifests, "manifest")):
        if not isinstance(doc, dict):
            raise ManifestError(f"manifest document {i + 1}: expected a mapping (an object with "
                                f"apiVersion, kind, metadata), got {type(doc).__name__} {doc!r}")
        doc = copy.deepcopy(doc)
        ref = ref_of(doc)
        _check_depth(doc, ref)
        for field in ("apiVersion", "kind"):
            value = doc.get(field)
            if value is not None and not isinstance(value, str):
                raise ValidationError(ref, field, f"expected string, got {_type_name(value)} {value!r}",
                                      f"write {field} as text, e.g. {field}: "
                                      f"{'v1' if field == 'apiVersion' else 'Pod'}")
            if not value:
                raise ValidationError(ref, field, "Required value", f"every object needs {field}")
        metadata = doc.get("metadata")
        if metadata is None:
            raise ValidationError(ref, "metadata", "Required value", "add metadata with a name")
        if not isinstance(metadata, dict):
            raise ValidationError(ref, "metadata", f"expected object, got {_type_name(metadata)} {metadata!r}",
                                  "metadata is a mapping, e.g. metadata: {name: web}")
        name = metadata.get("name")
        if name is not None and not isinstance(name, str):
            raise ValidationError(ref, "metadata.name", f"expected string, got {_type_name(name)} {name!r}",
                                  "quote the name in YAML")
        if not name:
            raise ValidationError(ref, "metadata.name", "Required value: name is required",
                                  "add metadata.name")
        docs.append(doc)
    return docs


def holds_no_object(manifests) -> bool:
    """True for None and for empty or comment-only text (bad YAML raises ManifestError).

    A list is a program's batch, which may well be empty (nothing to create this time): it is not refused."""
    return manifests is None or (isinstance(manifests, str) and not _parse_yaml(manifests, "manifest"))


def require_objects(manifests) -> None:
    """Refuse an apply with nothing in it, as kubectl does ("no objects passed to apply")."""
    if holds_no_object(manifests):
        raise ManifestError("no objects passed to apply: your answer holds no object yet (the text is empty "
                            "or only comments; write at least one object with apiVersion, kind and metadata.name)")
