"""OpenAPI v3, as kubectl needs it: `apply`/`create -f` read a group-version's document to learn that
the server validates fields (a GVK-tagged patch operation with a fieldValidation parameter), and
`explain` reads the kind's schema with its descriptions. Schemas are Kubernetes v1.35's own
(see schemas.py), rewritten from JSON Schema $defs into OpenAPI components."""
from __future__ import annotations

import functools
import hashlib
import json

from . import schemas
from .customresources import CRD_KIND
from .resources import Resource, served_resources

__all__ = ["index", "group_version_document", "gv_path"]


def gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _convert(node):
    """JSON Schema 2020 -> OpenAPI 3.0: $defs refs into components, ["string","null"] into "string"."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out[k] = v.replace("#/$defs/", "#/components/schemas/")
            elif k == "type" and isinstance(v, list):
                out[k] = next((t for t in v if t != "null"), "object")
            else:
                out[k] = _convert(v)
        props = out.get("properties")
        if isinstance(props, dict):   # kind/apiVersion enums would make one schema per version
            for field in ("kind", "apiVersion"):
                if isinstance(props.get(field), dict):
                    props[field].pop("enum", None)
        return out
    if isinstance(node, list):
        return [_convert(v) for v in node]
    return node


def _refs(node, found: set) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in found and name in schemas.definitions():
                found.add(name)
                _refs(schemas.definitions()[name], found)
        for v in node.values():
            _refs(v, found)
    elif isinstance(node, list):
        for v in node:
            _refs(v, found)


def _operations(r: Resource, definition: str | None) -> dict:
    gvk = {"group": r.group, "version": r.version, "kind": r.kind}
    params = [{"name": p, "in": "query", "schema": {"type": "string"}}
              for p in ("dryRun", "fieldManager", "fieldValidation")]
    body = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{definition}"}}}} \
        if definition else {}
    op = {"x-kubernetes-group-version-kind": gvk, "parameters": params, "responses": {"200": {"description": "OK", **body}}}
    # No requestBody on patch: kubectl then computes apply's strategic merge patch from its compiled-in
    # types (the same merge keys) instead of walking this document's schemas per object, which costs
    # it ~18 ms of CPU per object (measured); kinds it does not know get a JSON merge patch, as CRDs do.
    base = f"/{gv_path(r.group, r.version)}/" + ("namespaces/{namespace}/" if r.namespaced else "") + r.plural
    writable = not r.readonly or r.kind == CRD_KIND   # CRD writes are refused by the server, with the reason
    verbs = {"get": op, "put": op, "patch": op, "delete": op} if writable else {"get": op}
    return {base: {"get": op, "post": op} if writable else {"get": op}, base + "/{name}": verbs}


def _crd_schema(r: Resource) -> tuple[str | None, dict | None]:
    """A custom resource's schema as its CRD declares it (customresources.schema_for), tagged with its GVK as
    kube-apiserver publishes CRDs, so `kubectl explain` finds it."""
    from ...api import kinds
    from .customresources import schema_for

    if not r.custom:
        return None, None
    name = f"{'.'.join(reversed(r.group.split('.')))}.{r.version}.{r.kind}"
    schema = {**schema_for(kinds.lookup(r.store_kind)),
              "x-kubernetes-group-version-kind": [{"group": r.group, "version": r.version, "kind": r.kind}]}
    return name, schema


@functools.lru_cache(maxsize=None)
def _document(group: str, version: str) -> str | None:
    resources = [r for r in served_resources() if (r.group, r.version) == (group, version)]
    if not resources:
        return None
    paths, wanted, custom = {}, set(), {}
    for r in resources:
        definition = schemas.definition_for(r.group, r.version, r.kind)
        if definition:
            wanted.add(definition)
            _refs(schemas.definitions()[definition], wanted)
        else:
            definition, schema = _crd_schema(r)
            if schema is not None:
                custom[definition] = schema
        paths.update(_operations(r, definition))
    components = {name: _convert(schemas.definitions()[name]) for name in sorted(wanted)}
    components.update(custom)
    doc = {"openapi": "3.0.0", "info": {"title": "Kubernetes (kubelab)", "version": schemas.KUBERNETES_VERSION},
           "paths": paths, "components": {"schemas": components}}
    return json.dumps(doc, sort_keys=True)


def group_version_document(path: str) -> str | None:
    """The document for "api/v1" or "apis/<group>/<version>", as JSON text (None: not served)."""
    parts = path.strip("/").split("/")
    if parts[:1] == ["api"] and len(parts) == 2:
        return _document("", parts[1])
    if parts[:1] == ["apis"] and len(parts) == 3:
        return _document(parts[1], parts[2])
    return None


def index() -> dict:
    """GET /openapi/v3: every group-version with a URL whose hash changes when its document does."""
    out = {}
    for r in served_resources():
        path = gv_path(r.group, r.version)
        if path not in out:
            digest = hashlib.sha256(_document(r.group, r.version).encode()).hexdigest()[:32].upper()
            out[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": out}
