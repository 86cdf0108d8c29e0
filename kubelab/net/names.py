"""Object names and metadata as the API server checks them.

Rules and messages from apimachinery/pkg/util/validation/validation.go (IsDNS1123Label,
IsDNS1123Subdomain, IsDNS1035Label, IsValidPortName) and apimachinery/pkg/api/validation
(ValidateObjectMeta). Which rule a kind uses for its name comes from pkg/apis/core/validation
(e.g. Services: NameIsDNS1035Label, Pods: NameIsDNSSubdomain, Namespaces: a DNS-1123 label).
"""
from __future__ import annotations

import re
from typing import Mapping

from ..errors import ValidationError, object_ref
from .labels import validate_labels

__all__ = [
    "NAME_RULES", "dns1123_label_errors", "dns1123_subdomain_errors", "dns1035_label_errors",
    "port_name_errors", "port_number_errors", "qualified_name_errors", "validate_object_meta",
]

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + r"(\." + _DNS1123_LABEL_FMT + ")*"
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"

_DNS1123_LABEL = re.compile(f"^{_DNS1123_LABEL_FMT}$")
_DNS1123_SUBDOMAIN = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_DNS1035_LABEL = re.compile(f"^{_DNS1035_LABEL_FMT}$")
_QUALIFIED_NAME = re.compile(f"^{_QUALIFIED_NAME_FMT}$")
_PORT_NAME_CHARSET = re.compile("^[-a-z0-9]+$")

# metadata.annotations may hold at most 256 KiB (TotalAnnotationSizeLimitB).
_ANNOTATIONS_MAX_BYTES = 256 * 1024


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """apimachinery's RegexError: the message, examples, and the regex used."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def dns1123_label_errors(value: str) -> list[str]:
    """IsDNS1123Label: at most 63 lower-case alphanumerics or '-', starting and ending alphanumeric."""
    errs = []
    if len(value) > 63:
        errs.append(_max_len(63))
    if not _DNS1123_LABEL.match(value):
        if _DNS1123_SUBDOMAIN.match(value):
            errs.append("must not contain dots")
        else:
            errs.append(_regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                "and must start and end with an alphanumeric character",
                _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def dns1123_subdomain_errors(value: str) -> list[str]:
    """IsDNS1123Subdomain: at most 253 characters of dot-separated DNS-1123 labels."""
    errs = []
    if len(value) > 253:
        errs.append(_max_len(253))
    if not _DNS1123_SUBDOMAIN.match(value):
        errs.append(_regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
            "and must start and end with an alphanumeric character",
            _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def dns1035_label_errors(value: str) -> list[str]:
    """IsDNS1035Label: like a DNS-1123 label but the first character must be a letter."""
    errs = []
    if len(value) > 63:
        errs.append(_max_len(63))
    if not _DNS1035_LABEL.match(value):
        errs.append(_regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
            "alphabetic character, and end with an alphanumeric character",
            _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def port_name_errors(value: str) -> list[str]:
    """IsValidPortName (IANA_SVC_NAME): <=15 of [-a-z0-9], a letter, no leading/trailing/double '-'."""
    errs = []
    if len(value) > 15:
        errs.append(_max_len(15))
    if not _PORT_NAME_CHARSET.match(value):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", value):
        errs.append("must contain at least one letter (a-z)")
    if "--" in value:
        errs.append("must not contain consecutive hyphens")
    if value and (value[0] == "-" or value[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def port_number_errors(value: int) -> list[str]:
    """IsValidPortNum: 1..65535."""
    return [] if 1 <= value <= 65535 else ["must be between 1 and 65535, inclusive"]


def qualified_name_errors(value: str) -> list[str]:
    """IsQualifiedName: an optional DNS-subdomain prefix and '/', then a <=63-character name."""
    prefix, slash, name = value.rpartition("/")
    errs = []
    if slash and not prefix:
        errs.append("prefix part must be non-empty")
    elif prefix:
        errs += [f"prefix part {e}" for e in dns1123_subdomain_errors(prefix)]
    if not name:
        errs.append("name part must be non-empty")
    else:
        if len(name) > 63:
            errs.append(f"name part {_max_len(63)}")
        if not _QUALIFIED_NAME.match(name):
            errs.append("name part " + _regex_error(
                "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
                "an alphanumeric character", _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


NAME_RULES = {
    "dns1123-subdomain": dns1123_subdomain_errors,
    "dns1123-label": dns1123_label_errors,
    "dns1035-label": dns1035_label_errors,
}

_NAME_FIX = {
    "dns1123-subdomain": "use lower-case letters, digits, '-' and '.', e.g. web-1 or web.v2",
    "dns1123-label": "use lower-case letters, digits and '-', e.g. web-1",
    "dns1035-label": "use lower-case letters, digits and '-', starting with a letter, e.g. web-1",
}


def _mask_trailing_dash(name: str) -> str:
    """generateName may end in '-' (a suffix is appended), so it is checked as if it ended in 'a'."""
    return name[:-1] + "a" if len(name) > 1 and name.endswith("-") else name


def validate_object_meta(obj: Mapping, kind: str, namespaced: bool, name_rule: str) -> None:
    """ValidateObjectMeta: name (or generateName) by the kind's rule, namespace, labels, annotations."""
    if name_rule not in NAME_RULES:
        raise ValueError(f"unknown name rule {name_rule!r}; expected one of {sorted(NAME_RULES)}")
    meta = obj.get("metadata") or {}
    name, generate = meta.get("name"), meta.get("generateName")
    namespace = meta.get("namespace")
    ref = object_ref(kind, name if isinstance(name, str) else None,
                     namespace if namespaced and isinstance(namespace, str) else None)
    rule = NAME_RULES[name_rule]
    # 1. The name: required unless generateName asks the server to make one.
    if not name and not generate:
        raise ValidationError(ref, "metadata.name", "Required value: name or generateName is required",
                              f"give the {kind} a name")
    for field, value, masked in (("metadata.name", name, name),
                                 ("metadata.generateName", generate, _mask_trailing_dash(generate or ""))):
        if not value:
            continue
        if not isinstance(value, str):
            raise ValidationError(ref, field, f"Invalid value: {value!r}: must be a string", _NAME_FIX[name_rule])
        errs = rule(masked)
        if errs:
            raise ValidationError(ref, field, f'Invalid value: "{value}": {errs[0]}', _NAME_FIX[name_rule])
    # 2. The namespace: required (and a DNS-1123 label) for namespaced kinds, forbidden otherwise.
    if namespaced:
        if not namespace:
            raise ValidationError(ref, "metadata.namespace", "Required value", "set metadata.namespace")
        errs = dns1123_label_errors(namespace) if isinstance(namespace, str) else ["must be a string"]
        if errs:
            raise ValidationError(ref, "metadata.namespace", f'Invalid value: "{namespace}": {errs[0]}',
                                  _NAME_FIX["dns1123-label"])
    elif namespace:
        raise ValidationError(ref, "metadata.namespace", "Forbidden: not allowed on this type",
                              f"{kind} is cluster-scoped; remove metadata.namespace")
    # 3. Labels and annotations.
    validate_labels(meta.get("labels"), "metadata.labels", ref)
    _validate_annotations(meta.get("annotations"), ref)


def _validate_annotations(annotations, ref: str) -> None:
    """ValidateAnnotations: keys are qualified names; all keys and values together <= 256 KiB."""
    if annotations is None:
        return
    if not isinstance(annotations, Mapping):
        raise ValidationError(ref, "metadata.annotations", "must be a map of string keys to string values")
    total = 0
    for key in sorted(annotations):
        value = annotations[key]
        errs = qualified_name_errors(key.lower()) if isinstance(key, str) else ["must be a string"]
        if errs:
            raise ValidationError(ref, "metadata.annotations", f'Invalid value: "{key}": {errs[0]}')
        if not isinstance(value, str):
            raise ValidationError(ref, f"metadata.annotations.{key}", "must be a string",
                                  'quote the value in YAML, e.g. "true"')
        total += len(key) + len(value)
    if total > _ANNOTATIONS_MAX_BYTES:
        raise ValidationError(ref, "metadata.annotations", f"Too long: must have at most {_ANNOTATIONS_MAX_BYTES} bytes")
