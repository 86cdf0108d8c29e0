"""Structural validation against the real Kubernetes OpenAPI schemas (strict, as kubernetes-validate builds them).

The strict schemas reject unknown fields and wrong types, as `kubectl apply --validate=strict`
does; semantic rules (ranges, names, allocation) live in the kinds' own validators.

The schemas use a small subset of JSON Schema (type, $ref, properties, additionalProperties,
items, required, enum, oneOf for int-or-string), so we compile them into checker functions:
the general jsonschema package is far slower to import and to run on 10,000 pods.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Callable

from ..errors import ValidationError

__all__ = ["SCHEMA_VERSION", "SchemaMissingError", "check_structure", "kind_schema", "definitions"]

SCHEMA_VERSION = "1.37.0"

# A checker returns None when the value fits, else (path parts, problem, fix).
Checker = Callable[[object], "tuple[list, str, str | None] | None"]

_JSON_TYPES = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,),
}
_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array"}


# The strict OpenAPI definitions of every Kubernetes kind (kubernetes-validate's v1.37.0-local-strict
# _definitions.json, Apache-2.0; see schemas/NOTICE.md): one 250 kB file instead of a 108 MB package of
# 13 versions. tools/vendor_schemas.py regenerates it.
SCHEMA_FILE = Path(__file__).parent / "schemas" / f"kubernetes-{SCHEMA_VERSION}-strict.json.gz"


@functools.lru_cache(maxsize=1)
def _definitions() -> dict:
    import gzip

    with gzip.open(SCHEMA_FILE, "rt", encoding="utf-8") as f:
        return json.load(f)["$defs"]


@functools.lru_cache(maxsize=1)
def _by_group_version_kind() -> dict:
    """(apiVersion, kind) -> definition name, from each definition's x-kubernetes-group-version-kind."""
    index = {}
    for name, node in _definitions().items():
        for gvk in node.get("x-kubernetes-group-version-kind") or ():
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else gvk["version"]
            # the definition whose name matches the kind wins (List kinds share a GVK with their items' group)
            if (api_version, gvk["kind"]) not in index or name.endswith("." + gvk["kind"]):
                index[(api_version, gvk["kind"])] = name
    return index


def _type_ok(value, names) -> bool:
    if value is None:
        return "null" in names
    if isinstance(value, bool):
        return "boolean" in names
    return any(isinstance(value, _JSON_TYPES[n]) for n in names if n in _JSON_TYPES)


class _Compiler:
    """Compiles schema nodes to closures once; $refs are compiled lazily so recursive types work."""

    def __init__(self):
        self._refs: dict[str, Checker] = {}

    def ref(self, name: str) -> Checker:
        if name not in self._refs:
            compiled: list[Checker] = []

            def lazy(v):
                # compiled on first use: a Pod schema reaches hundreds of definitions it rarely needs
                if not compiled:
                    compiled.append(self.compile(_definitions()[name]))
                return compiled[0](v)
            self._refs[name] = lazy
        return self._refs[name]

    def compile(self, node: dict) -> Checker:
        checks: list[Checker] = []
        if "$ref" in node:
            checks.append(self.ref(node["$ref"].rsplit("/", 1)[-1]))
        if "oneOf" in node:
            options = [self.compile(o) for o in node["oneOf"]]
            kinds = " or ".join(t for o in node["oneOf"] for t in _as_list(o.get("type")) if t != "null")

            def one_of(v, options=options, kinds=kinds):
                if any(opt(v) is None for opt in options):
                    return None
                return [], f"expected {kinds}, got {_TYPE_NAMES.get(type(v), type(v).__name__)} {v!r}", None
            checks.append(one_of)
        if "type" in node:
            names = tuple(_as_list(node["type"]))

            def type_check(v, names=names):
                if _type_ok(v, names):
                    return None
                wanted = " or ".join(n for n in names if n != "null")
                return ([], f"expected {wanted}, got {_TYPE_NAMES.get(type(v), type(v).__name__)} {v!r}",
                        "fix the value's type (quote strings in YAML, drop quotes from numbers)")
            checks.append(type_check)
        if "enum" in node:
            allowed = tuple(node["enum"])

            def enum_check(v, allowed=allowed):
                if v is None or v in allowed:
                    return None
                shown = ", ".join(repr(a) for a in allowed if a is not None)
                return [], f"Unsupported value: {v!r}", f"supported values: {shown}"
            checks.append(enum_check)
        if "properties" in node or "additionalProperties" in node or "required" in node:
            checks.append(self._object(node))
        if "items" in node:
            item = self.compile(node["items"])

            def items_check(v, item=item):
                if not isinstance(v, list):
                    return None
                for i, x in enumerate(v):
                    bad = item(x)
                    if bad:
                        return [i] + bad[0], bad[1], bad[2]
                return None
            checks.append(items_check)
        if len(checks) == 1:
            return checks[0]

        def all_of(v, checks=tuple(checks)):
            for c in checks:
                bad = c(v)
                if bad:
                    return bad
            return None
        return all_of

    def _object(self, node: dict) -> Checker:
        props = {k: self.compile(s) for k, s in (node.get("properties") or {}).items()}
        extra = node.get("additionalProperties", True)
        extra_check = self.compile(extra) if isinstance(extra, dict) else None
        required = tuple(node.get("required") or ())

        def object_check(v):
            if not isinstance(v, dict):
                return None
            for key, value in v.items():
                check = props.get(key)
                if check is None:
                    if extra is False:
                        return ([key], f"unknown field {key!r}",
                                "check spelling and indentation; `kubectl explain` lists the fields")
                    check = extra_check
                if check is not None:
                    bad = check(value)
                    if bad:
                        return [key] + bad[0], bad[1], bad[2]
            # after the fields present: a misspelt `contianers` is named as unknown, not as `containers` missing
            for key in required:
                if key not in v:
                    return [key], "Required value", f"add {key}"
            return None
        return object_check


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


_COMPILER = _Compiler()


def definitions() -> dict:
    """Every named type of the Kubernetes OpenAPI schema ($defs), by its full name."""
    return _definitions()


@functools.lru_cache(maxsize=None)
def kind_schema(kind: str, api_version: str) -> dict | None:
    """The strict OpenAPI schema of one kind at one apiVersion, or None when Kubernetes defines none."""
    name = _by_group_version_kind().get((api_version, kind))
    return None if name is None else _definitions()[name]


@functools.lru_cache(maxsize=None)
def _checker(kind: str, api_version: str) -> Checker | None:
    schema = kind_schema(kind, api_version)
    return None if schema is None else _COMPILER.compile(schema)


def _field_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<object>"


class SchemaMissingError(RuntimeError):
    """kubelab itself lacks the schema of a kind it serves: a packaging bug, not a learner's mistake."""


def check_structure(obj: dict, obj_ref: str, *, schema_required: bool = True) -> None:
    """Validate one object against its kind's strict OpenAPI schema; raise ValidationError at the first bad field.

    A kind with no shipped schema is an error unless the caller says the kind has none (schema_required=False,
    e.g. a custom resource validated by its own rules), so a missing schema never skips validation unseen."""
    checker = _checker(obj["kind"], obj["apiVersion"])
    if checker is None:
        if schema_required:
            raise SchemaMissingError(f"no OpenAPI schema for {obj['kind']} {obj['apiVersion']} in "
                                     f"{SCHEMA_FILE.name}: ship it, or register the kind with openapi_schema=False")
        return
    bad = checker(obj)
    if bad:
        parts, problem, fix = bad
        raise ValidationError(obj_ref, _field_path(parts), problem, fix)
