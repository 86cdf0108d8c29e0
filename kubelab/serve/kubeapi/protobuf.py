"""Kubernetes protobuf request bodies, decoded into the JSON shape: `kubectl create deployment|service|
configmap|namespace ...` and `kubectl debug` POST `application/vnd.kubernetes.protobuf` with no JSON
fallback. The envelope is the magic "k8s\\0" then runtime.Unknown{typeMeta, raw}; `raw` is the kind's
generated message, decoded with the field tables in protofields.json (tools/gen-proto-fields)."""
from __future__ import annotations

import base64
import datetime
import functools
import json
import struct
from importlib import resources

from .status import ApiError

__all__ = ["decode_object", "MAGIC"]

MAGIC = b"k8s\x00"
_META = "k8s.io.apimachinery.pkg.apis.meta.v1"
# Go's non-pointer fields are always encoded, so zero values are dropped (as omitempty would);
# these pointer fields keep an explicit zero
_KEEP_ZERO = {"replicas", "port", "containerPort"}


@functools.lru_cache(maxsize=1)
def _messages() -> dict:
    return json.loads((resources.files(__package__) / "protofields.json").read_text())["messages"]


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated varint")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def _fields(data: bytes):
    """(field number, wire type, value) for each field on the wire."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 2:
            length, i = _varint(data, i)
            value, i = data[i:i + length], i + length
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def _scalar(typ: str, wire: int, value):
    if typ == "string":
        return value.decode()
    if typ == "bytes":
        return base64.b64encode(value).decode()
    if typ == "bool":
        return bool(value)
    if typ in ("int32", "int64"):
        return value - (1 << 64) if value >= 1 << 63 else value
    if typ in ("uint32", "uint64"):
        return value
    if typ == "double":
        return struct.unpack("<d", value)[0]
    if typ == "float":
        return struct.unpack("<f", value)[0]
    raise ValueError(f"unsupported scalar {typ}")


def _special(typ: str, data: bytes):
    """Types whose JSON form is not their message shape."""
    if typ in (f"{_META}.Time", f"{_META}.MicroTime"):
        fields = {n: v for n, _, v in _fields(data)}
        seconds = fields.get(1, 0)
        if not seconds:
            return None
        return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if typ == "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
        fields = {n: v for n, _, v in _fields(data)}
        return fields.get(3, b"").decode() if fields.get(1) == 1 else _scalar("int32", 0, fields.get(2, 0))
    if typ == "k8s.io.apimachinery.pkg.api.resource.Quantity":
        return next((v.decode() for n, _, v in _fields(data) if n == 1), "0")
    if typ in ("k8s.io.apimachinery.pkg.runtime.RawExtension", f"{_META}.FieldsV1"):
        raw = next((v for n, _, v in _fields(data) if n == 1), b"")
        return json.loads(raw) if raw else None
    if typ == f"{_META}.Duration":
        ns = next((v for n, _, v in _fields(data) if n == 1), 0)
        return f"{ns / 1e9:g}s"
    return _MISSING


_MISSING = object()


def _empty(value) -> bool:
    return value is None or value is False or value == "" or value == {} or value == [] or \
        (type(value) is int and value == 0)


@functools.lru_cache(maxsize=None)
def _inlined(typ: str, name: str) -> bool:
    """Go structs embedded with `json:",inline"` (Volume.VolumeSource, ...) are a field in protobuf but
    their fields sit in the parent in JSON: the field is one the kind's JSON schema does not have."""
    from . import schemas

    parts = typ.split(".")
    definition = schemas.definitions().get(".".join([parts[1], parts[0], *parts[2:]]))
    return definition is not None and name not in (definition.get("properties") or {})


def decode_message(typ: str, data: bytes):
    special = _special(typ, data)
    if special is not _MISSING:
        return special
    table = _messages().get(typ)
    if table is None:
        raise ValueError(f"no field table for {typ}")
    out: dict = {}
    for number, wire, value in _fields(data):
        spec = table.get(str(number))
        if spec is None:
            continue   # a field newer than the table: skipped, as protobuf readers do
        name, ftype, label = spec
        if ftype.startswith("map<"):
            key_type, value_type = ftype[4:-1].split(",")
            entry = {n: v for n, _, v in _fields(value)}
            key = _scalar(key_type, 2, entry.get(1, b""))
            raw = entry.get(2, b"" if value_type in ("string", "bytes") or "." in value_type else 0)
            out.setdefault(name, {})[key] = decode_message(value_type, raw) if "." in value_type \
                else _scalar(value_type, 2, raw)
            continue
        if "." in ftype:
            decoded = decode_message(ftype, value)
        elif wire == 2 and ftype not in ("string", "bytes"):   # packed repeated scalars
            items, i = [], 0
            while i < len(value):
                v, i = _varint(value, i)
                items.append(_scalar(ftype, 0, v))
            out.setdefault(name, []).extend(items)
            continue
        else:
            decoded = _scalar(ftype, wire, value)
        if label == "repeated":
            out.setdefault(name, []).append(decoded)
        elif isinstance(decoded, dict) and _inlined(typ, name):
            out.update(decoded)
        elif not _empty(decoded) or (name in _KEEP_ZERO and type(decoded) is int):
            out[name] = decoded
    return {k: v for k, v in out.items() if not (isinstance(v, (dict, list)) and not v)}


def _package(api_version: str) -> str:
    group, _, version = api_version.rpartition("/")
    group = group[:-len(".k8s.io")] if group.endswith(".k8s.io") else group
    return f"k8s.io.api.{group or 'core'}.{version}"


def decode_object(body: bytes) -> dict:
    """A protobuf-encoded object as the JSON dict kubectl would have sent; a 415 when it cannot be read."""
    if not body.startswith(MAGIC):
        raise ApiError(415, "UnsupportedMediaType", "the protobuf body does not start with the k8s magic prefix")
    try:
        envelope = {n: v for n, _, v in _fields(body[len(MAGIC):])}
        type_meta = {n: v.decode() for n, _, v in _fields(envelope.get(1, b""))}
        api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
        obj = decode_message(f"{_package(api_version)}.{kind}", envelope.get(2, b""))
    except (ValueError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(415, "UnsupportedMediaType", f"the protobuf body could not be decoded: {exc}; "
                       "send it as application/json") from None
    obj.pop("status", None)   # generators never send one; the server reports it
    return {"apiVersion": api_version, "kind": kind, **obj}
