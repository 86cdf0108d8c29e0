"""A CustomResourceDefinition's structural schema as the API server applies it: defaults first, then the
OpenAPI v3 checks (types, enums, patterns, lengths, ranges, item counts, required fields, unknown fields),
then the CEL rules (x-kubernetes-validations), each CEL rule answered by a Python predicate keyed by the
rule's message (kubelab.api.gateway_cel).

Errors name the field the way the API server does: schema rules at the field itself
(`spec.listeners[0].port`), CEL rules at the object or list they are written on (`spec.listeners`).
"""
from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Callable

from ..errors import ValidationError

__all__ = ["load_crd", "apply_defaults", "validate", "cel_rules", "CelPredicate", "has_status_subresource"]

_CRDS = Path(__file__).parent / "crds"

# A CEL rule's stand-in: predicate(self, old_self) -> bool, old_self None on create; keyed by the rule's message.
CelPredicate = Callable[[object, object], bool]

# The registered custom kinds whose CRD declares subresources.status: Gateway API v1.6's but ReferenceGrant, and
# every Istio 1.24+ CRD; no Linkerd 2.19 CRD (charts/linkerd-crds) and no custom kind registered without a record.
_STATUS_SUBRESOURCE = frozenset({
    "GatewayClass", "Gateway", "HTTPRoute",
    "VirtualService", "DestinationRule", "Gateway.networking.istio.io", "ServiceEntry",
    "PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication",
    "HTTPRoute.policy.linkerd.io"})   # Linkerd's HTTPRoute reports parents in status, as Gateway API's does


def has_status_subresource(kind: str) -> bool:
    """Does the custom kind's CRD declare a status subresource (status then written only through it)?"""
    return kind in _STATUS_SUBRESOURCE


@functools.lru_cache(maxsize=None)
def load_crd(plural: str) -> dict:
    """The vendored CRD (storage version's schema, descriptions dropped) of one Gateway API kind."""
    return json.loads((_CRDS / f"{plural}.json").read_text())


def apply_defaults(schema: dict, value):
    """Structural defaulting: a missing property with a `default` gets it, recursively, inside what exists."""
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key, sub in props.items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                value[key] = apply_defaults(sub, value[key])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in list(value):
                if key not in props:
                    value[key] = apply_defaults(extra, value[key])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(schema["items"], v) for v in value]
    return value


def _path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<object>"


_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "object": dict, "array": list}


def _type_ok(value, wanted: str) -> bool:
    if isinstance(value, bool):
        return wanted == "boolean"
    return isinstance(value, _TYPES[wanted])


@functools.lru_cache(maxsize=None)
def _regex(pattern: str):
    return re.compile(pattern)


class _Checker:
    def __init__(self, ref: str, rules: dict[str, CelPredicate], strict: bool = True):
        self.ref = ref
        self.rules = rules
        self.strict = strict          # reject unknown fields (not inside oneOf/anyOf/not branches, which are partial)

    def _fits(self, schema: dict, value) -> bool:
        """Whether `value` satisfies a oneOf/anyOf/not branch (a partial schema: unknown fields allowed)."""
        try:
            _Checker(self.ref, {}, strict=False).check(schema, value, None, [])
        except ValidationError:
            return False
        return True

    def fail(self, parts, problem: str, fix: str | None = None):
        raise ValidationError(self.ref, _path(parts), problem, fix)

    def check(self, schema: dict, value, old, parts: list) -> None:
        wanted = schema.get("type")
        if value is None:
            if not schema.get("nullable"):
                self.fail(parts, f"Invalid value: null: must be {wanted or 'set'}")
            return
        if wanted and not _type_ok(value, wanted):
            self.fail(parts, f"Invalid value: {json.dumps(value)}: must be of type {wanted}",
                      "fix the value's type (quote strings in YAML, drop quotes from numbers)")
        if "enum" in schema and value not in schema["enum"]:
            shown = ", ".join(json.dumps(e) for e in schema["enum"])
            self.fail(parts, f"Unsupported value: {json.dumps(value)}", f"supported values: {shown}")
        if isinstance(value, str):
            self._string(schema, value, parts)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                self.fail(parts, f"Invalid value: {value}: should be greater than or equal to {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                self.fail(parts, f"Invalid value: {value}: should be less than or equal to {schema['maximum']}")
        elif isinstance(value, list):
            self._array(schema, value, old, parts)
        elif isinstance(value, dict):
            self._object(schema, value, old, parts)
        if "format" in schema and isinstance(value, str) and not _format_ok(schema["format"], value):
            self.fail(parts, f"Invalid value: {json.dumps(value)}: must be a valid {schema['format']} address")
        if "oneOf" in schema and sum(1 for sub in schema["oneOf"] if self._fits(sub, value)) != 1:
            self.fail(parts, f"Invalid value: {json.dumps(value)}: must validate one and only one schema (oneOf)")
        if "anyOf" in schema and not any(self._fits(sub, value) for sub in schema["anyOf"]):
            self.fail(parts, f"Invalid value: {json.dumps(value)}: must validate at least one schema (anyOf)")
        if "not" in schema and self._fits(schema["not"], value):
            self.fail(parts, f"Invalid value: {json.dumps(value)}: must not validate the schema (not)")
        for rule in schema.get("x-kubernetes-validations") or ():
            predicate = self.rules.get(rule["message"])
            if predicate is None:
                continue   # a rule about a feature kubelab does not play (CORS, external auth, ...)
            if "oldSelf" in rule["rule"] and old is None:
                continue   # transition rules only run on update
            if not predicate(value, old):
                shown = "object" if isinstance(value, dict) else "array" if isinstance(value, list) else value
                self.fail(parts, f"Invalid value: {json.dumps(shown)}: {rule['message']}")

    def _string(self, schema: dict, value: str, parts) -> None:
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            self.fail(parts, f"Too long: may not be more than {schema['maxLength']} bytes")
        if "minLength" in schema and len(value) < schema["minLength"]:
            self.fail(parts, f"Invalid value: {json.dumps(value)}: should be at least {schema['minLength']} "
                             "chars long")
        if "pattern" in schema and not _regex(schema["pattern"]).search(value):
            self.fail(parts, f"Invalid value: {json.dumps(value)}: should match '{schema['pattern']}'")

    def _array(self, schema: dict, value: list, old, parts) -> None:
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            self.fail(parts, f"Too many: {len(value)}: must have at most {schema['maxItems']} items")
        if "minItems" in schema and len(value) < schema["minItems"]:
            self.fail(parts, f"Invalid value: {len(value)}: should have at least {schema['minItems']} items")
        items = schema.get("items")
        if isinstance(items, dict):
            olds = old if isinstance(old, list) else []
            for i, v in enumerate(value):
                self.check(items, v, olds[i] if i < len(olds) else None, parts + [i])
        if schema.get("x-kubernetes-list-type") == "set":
            seen = []
            for i, v in enumerate(value):
                if v in seen:
                    self.fail(parts + [i], f"Duplicate value: {json.dumps(v)}")
                seen.append(v)
        keys = schema.get("x-kubernetes-list-map-keys")
        if schema.get("x-kubernetes-list-type") == "map" and keys:
            seen = set()
            for i, v in enumerate(value):
                key = tuple(json.dumps(v.get(k)) for k in keys) if isinstance(v, dict) else None
                if key in seen:
                    self.fail(parts + [i], f"Duplicate value: {{{', '.join(f'{k}: {json.loads(x)!r}' for k, x in zip(keys, key))}}}")
                seen.add(key)

    def _object(self, schema: dict, value: dict, old, parts) -> None:
        props = schema.get("properties")
        for key in schema.get("required") or ():
            if key not in value:
                self.fail(parts + [key], "Required value", f"add {key}")
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            self.fail(parts, f"Too many: {len(value)}: must have at most {schema['maxProperties']} items")
        extra = schema.get("additionalProperties")
        olds = old if isinstance(old, dict) else {}
        for key, v in value.items():
            sub = (props or {}).get(key)
            if sub is None:
                if isinstance(extra, dict):
                    sub = extra
                elif props is not None and self.strict:
                    self.fail(parts + [key], f'unknown field "{key}"',
                              "check spelling and indentation against the Gateway API reference")
                else:
                    continue
            self.check(sub, v, olds.get(key), parts + [key])


def _format_ok(fmt: str, value: str) -> bool:
    """OpenAPI string formats the Gateway API CRDs use (ipv4, ipv6); others are not checked."""
    import ipaddress

    if fmt in ("ipv4", "ipv6"):
        try:
            return ipaddress.ip_address(value).version == (4 if fmt == "ipv4" else 6)
        except ValueError:
            return False
    return True


def validate(schema: dict, obj: dict, old: dict | None, ref: str, rules: dict[str, CelPredicate]) -> None:
    """Check `obj` (already defaulted) against the schema; raise ValidationError at the first bad field.

    metadata is the API server's own business (checked elsewhere), status is written by controllers."""
    checker = _Checker(ref, rules)
    for key in ("spec",):
        sub = (schema.get("properties") or {}).get(key)
        if sub is not None and key in obj:
            checker.check(sub, obj[key], (old or {}).get(key), [key])
    for key in schema.get("required") or ():
        if key not in obj:
            checker.fail([key], "Required value", f"add {key}")
    unknown = sorted(set(obj) - set(schema.get("properties") or {}) - {"apiVersion", "kind", "metadata"})
    if unknown:
        checker.fail([unknown[0]], f'unknown field "{unknown[0]}"', "a Gateway API object has spec (and status)")


def cel_rules(schema: dict) -> list[tuple[str, str, str]]:
    """Every CEL rule in a schema as (path, message, rule), for completeness tests."""
    out = []

    def walk(node, path):
        if not isinstance(node, dict):
            return
        for rule in node.get("x-kubernetes-validations") or ():
            out.append((path, rule["message"], rule["rule"]))
        for key, sub in (node.get("properties") or {}).items():
            walk(sub, f"{path}.{key}" if path else key)
        if isinstance(node.get("items"), dict):
            walk(node["items"], path + "[]")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], path + "{}")
    walk(schema, "")
    return out
