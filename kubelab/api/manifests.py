"""Manifests in, plain Kubernetes-shaped dicts out: YAML text (multi-document), dicts, lists, files.

Errors name the document and line for bad YAML, and the object and field for bad objects.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Iterable

from ..errors import ManifestError, ValidationError, object_ref

__all__ = ["load_manifests", "ref_of"]


def ref_of(doc: dict) -> str:
    """How messages name an object before it is admitted: ``Kind ns/name``."""
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    return object_ref(str(doc.get("kind") or "<no kind>"), metadata.get("name"), metadata.get("namespace"))


def _parse_yaml(text: str, source: str) -> list:
    import yaml

    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
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
    docs = []
    for i, doc in enumerate(_flatten(manifests, "manifest")):
        if not isinstance(doc, dict):
            raise ManifestError(f"manifest document {i + 1}: expected a mapping (an object with "
                                f"apiVersion, kind, metadata), got {type(doc).__name__} {doc!r}")
        doc = copy.deepcopy(doc)
        ref = ref_of(doc)
        for field in ("apiVersion", "kind"):
            if not isinstance(doc.get(field), str) or not doc.get(field):
                raise ValidationError(ref, field, "Required value", f"every object needs {field}")
        metadata = doc.get("metadata")
        if not isinstance(metadata, dict):
            raise ValidationError(ref, "metadata", "Required value", "add metadata with a name")
        if not metadata.get("name"):
            raise ValidationError(ref, "metadata.name", "Required value: name is required",
                                  "add metadata.name")
        docs.append(doc)
    return docs
