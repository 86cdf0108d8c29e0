"""Kubernetes v1.35's own OpenAPI schemas, as shipped by the kubernetes-validate package: the source
of strategic-merge-patch metadata (merge keys and strategies) and of `kubectl explain`'s text."""
from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

__all__ = ["definitions", "definition_for", "KUBERNETES_VERSION"]

KUBERNETES_VERSION = "v1.35.0"


@functools.lru_cache(maxsize=1)
def definitions() -> dict:
    """name -> schema, e.g. "io.k8s.api.core.v1.PodSpec"; empty when kubernetes-validate is missing."""
    # found without importing kubernetes_validate (its import pulls in jsonschema and takes seconds)
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(list(spec.submodule_search_locations)[0]) / "kubernetes-json-schema" / f"{KUBERNETES_VERSION}-local"
    try:
        return json.loads((path / "_definitions.json").read_text())["$defs"]
    except FileNotFoundError:
        return {}


@functools.lru_cache(maxsize=None)
def definition_for(group: str, version: str, kind: str) -> str | None:
    """The definition name whose x-kubernetes-group-version-kind names this GVK."""
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            if (gvk.get("group", ""), gvk.get("version"), gvk.get("kind")) == (group, version, kind):
                return name
    return None


def resolve(schema: dict | None) -> dict | None:
    """Follow a $ref (and an allOf of one $ref, as some properties are written) to its definition."""
    while schema is not None:
        ref = schema.get("$ref") or next((s.get("$ref") for s in schema.get("allOf") or [] if "$ref" in s), None)
        if not ref:
            return schema
        schema = definitions().get(ref.rsplit("/", 1)[-1])
    return None
