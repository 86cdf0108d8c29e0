"""Label selectors: matchLabels/matchExpressions and the string form kubectl's -l takes.

Rules from the API reference (LabelSelector, LabelSelectorRequirement) and
https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/ .
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from ..errors import ValidationError

__all__ = ["Requirement", "Selector", "parse_label_selector", "parse_selector_string",
           "validate_labels", "EVERYTHING", "NOTHING"]

_OPS = ("In", "NotIn", "Exists", "DoesNotExist")
_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class Requirement:
    """One LabelSelectorRequirement: key, operator, values."""

    key: str
    operator: str
    values: frozenset = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """In: value in set; NotIn: key absent or value not in set; Exists / DoesNotExist: key presence."""
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        if self.operator == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels


@dataclass(frozen=True)
class Selector:
    """A label selector; requirements are ANDed, and no requirements selects everything."""

    requirements: tuple = ()
    selects_nothing: bool = False

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """An empty selector matches all objects; a null selector (selects_nothing) matches none."""
        if self.selects_nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def is_empty(self) -> bool:
        return not self.requirements and not self.selects_nothing

    def __str__(self) -> str:
        if self.selects_nothing:
            return "<none>"
        if not self.requirements:
            return "<all>"
        parts = []
        for r in self.requirements:
            if r.operator == "In" and len(r.values) == 1:
                parts.append(f"{r.key}={next(iter(r.values))}")
            elif r.operator in ("In", "NotIn"):
                vals = ",".join(sorted(r.values))
                parts.append(f"{r.key} {r.operator.lower()} ({vals})")
            elif r.operator == "Exists":
                parts.append(r.key)
            else:
                parts.append(f"!{r.key}")
        return ",".join(parts)


EVERYTHING = Selector()
NOTHING = Selector(selects_nothing=True)


def _check_key(key, where: str, obj_ref: str) -> None:
    """Label keys: optional DNS-subdomain prefix (<=253) and '/', then a name of <=63 alphanumerics, '-', '_', '.'."""
    if not isinstance(key, str) or not key:
        raise ValidationError(obj_ref, where, f"label key {key!r} must be a non-empty string")
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _PREFIX.match(prefix)):
        raise ValidationError(obj_ref, where, f"prefix of label key {key!r} must be a DNS subdomain",
                              "use lower case letters, digits, '-' and '.'")
    if len(name) > 63 or not _NAME.match(name):
        raise ValidationError(obj_ref, where, f"label key {key!r} is invalid",
                              "a name part is at most 63 characters of letters, digits, '-', '_' or '.', "
                              "starting and ending with a letter or digit")


def _check_value(value, where: str, obj_ref: str) -> None:
    """Label values: empty, or <=63 alphanumerics, '-', '_', '.', starting and ending alphanumeric."""
    if not isinstance(value, str):
        raise ValidationError(obj_ref, where, f"label value {value!r} must be a string",
                              "quote it in YAML, e.g. \"1\" or \"true\"")
    if value and (len(value) > 63 or not _NAME.match(value)):
        raise ValidationError(obj_ref, where, f"label value {value!r} is invalid",
                              "use at most 63 letters, digits, '-', '_' or '.', no spaces, "
                              "starting and ending with a letter or digit")


def validate_labels(labels, where: str, obj_ref: str) -> None:
    """metadata.labels: a map of valid keys to valid values."""
    if labels is None:
        return
    if not isinstance(labels, Mapping):
        raise ValidationError(obj_ref, where, "must be a map of label keys to string values")
    for key, value in labels.items():
        if type(value) is str and (key, value) in _VALID:   # the same few labels recur on thousands of pods
            continue
        _check_key(key, f"{where}", obj_ref)
        _check_value(value, f"{where}.{key}", obj_ref)
        if len(_VALID) >= _VALID_MAX:
            _VALID.clear()
        _VALID.add((key, value))


_VALID: set = set()     # (key, value) pairs already found valid (both are strings once they are)
_VALID_MAX = 100_000


def parse_label_selector(sel, where: str = "selector", obj_ref: str = "selector") -> Selector:
    """A LabelSelector dict ({matchLabels, matchExpressions}) to a Selector; None selects nothing.

    Validation follows apimachinery's ValidateLabelSelector: In/NotIn need values, Exists/DoesNotExist
    must have none.
    """
    if sel is None:
        return NOTHING
    if not isinstance(sel, Mapping):
        raise ValidationError(obj_ref, where, "must be a label selector with matchLabels and/or matchExpressions")
    unknown = set(sel) - {"matchLabels", "matchExpressions"}
    if unknown:
        raise ValidationError(obj_ref, f"{where}.{sorted(unknown)[0]}", "unknown field",
                              "a selector has only matchLabels and matchExpressions")
    reqs = []
    match_labels = sel.get("matchLabels") or {}
    validate_labels(match_labels, f"{where}.matchLabels", obj_ref)
    for key in sorted(match_labels):
        reqs.append(Requirement(key, "In", frozenset([match_labels[key]])))
    exprs = sel.get("matchExpressions") or []
    if not isinstance(exprs, list):
        raise ValidationError(obj_ref, f"{where}.matchExpressions", "must be a list")
    for i, expr in enumerate(exprs):
        path = f"{where}.matchExpressions[{i}]"
        if not isinstance(expr, Mapping):
            raise ValidationError(obj_ref, path, "must be a map with key, operator and values")
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values")
        _check_key(key, f"{path}.key", obj_ref)
        if op not in _OPS:
            raise ValidationError(obj_ref, f"{path}.operator", f"Unsupported value: {op!r}",
                                  "supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"")
        if values is not None and not isinstance(values, list):
            raise ValidationError(obj_ref, f"{path}.values", "must be a list of strings")
        values = values or []
        if op in ("In", "NotIn") and not values:
            raise ValidationError(obj_ref, f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'")
        if op in ("Exists", "DoesNotExist") and values:
            raise ValidationError(obj_ref, f"{path}.values",
                                  "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        for j, v in enumerate(values):
            _check_value(v, f"{path}.values[{j}]", obj_ref)
        reqs.append(Requirement(key, op, frozenset(values)))
    return Selector(tuple(reqs))


def selector_from_map(labels: Mapping[str, str] | None) -> Selector:
    """A Service/ReplicaSet-style map selector (all pairs must match); None or {} selects nothing here
    and callers decide what an absent selector means."""
    if not labels:
        return NOTHING
    return Selector(tuple(Requirement(k, "In", frozenset([labels[k]])) for k in sorted(labels)))


_SET_RE = re.compile(r"^\s*(!?)\s*([^\s!=<>(),]+)\s*(?:(in|notin)\s*\(([^)]*)\)|(==|=|!=)\s*([^\s,]*))?\s*$")


def parse_selector_string(text: str | None) -> Selector:
    """kubectl's -l syntax: ``a=b,c!=d,e in (x,y),f notin (z),g,!h``."""
    if text is not None and not isinstance(text, str):
        raise ValidationError("label selector", "selector", f"expected a string like 'app=web', got "
                              f"{type(text).__name__} {text!r}")
    if text is None or not text.strip():
        return EVERYTHING
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    reqs = []
    for part in parts:
        m = _SET_RE.match(part)
        if not m:
            raise ValidationError("selector", repr(text), f"cannot parse {part.strip()!r}",
                                  "write it like app=web,tier!=db or env in (prod,staging)")
        neg, key, setop, setvals, eqop, eqval = m.groups()
        if neg and (setop or eqop):
            raise ValidationError("selector", repr(text), f"cannot parse {part.strip()!r}")
        # keys and values follow the label syntax, so `a===b` or `a=b=c` is a parse error, not a value '=b'
        _check_key(key, f"selector {text!r}", "label selector")
        for value in ([eqval] if eqop else [v.strip() for v in (setvals or "").split(",") if v.strip()]):
            _check_value(value, f"selector {text!r}", "label selector")
        if setop:
            vals = frozenset(v.strip() for v in setvals.split(",") if v.strip())
            reqs.append(Requirement(key, "In" if setop == "in" else "NotIn", vals))
        elif eqop:
            reqs.append(Requirement(key, "NotIn" if eqop == "!=" else "In", frozenset([eqval])))
        else:
            reqs.append(Requirement(key, "DoesNotExist" if neg else "Exists"))
    return Selector(tuple(reqs))
