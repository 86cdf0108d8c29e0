"""The Gateway API kinds (v1.6.1, experimental channel) as the API server serves them from their CRDs
(registered in kubelab.kinds): admission (CRD defaulting, OpenAPI schema, CEL rules, status reset).
"""
from __future__ import annotations

import copy

from .crd import apply_defaults, load_crd, validate
from .gateway_cel import RULES

__all__ = ["admit", "CRD_OF"]

CRD_OF = {"GatewayClass": "gatewayclasses", "Gateway": "gateways", "HTTPRoute": "httproutes",
          "ReferenceGrant": "referencegrants"}


def admit(doc: dict, old: dict | None, ref: str) -> dict:
    """What the API server does with a custom resource of these CRDs: status is the status subresource's (a
    manifest's status is ignored; the CRD's default status on create), spec is defaulted then validated
    against the OpenAPI schema and the CEL rules (transition rules against the stored object)."""
    crd = load_crd(CRD_OF[doc["kind"]])
    schema = crd["schema"]
    doc = copy.deepcopy(doc)
    props = schema.get("properties") or {}
    if "spec" in props and "spec" in doc and isinstance(doc["spec"], dict):
        doc["spec"] = apply_defaults(props["spec"], doc["spec"])
    validate(schema, doc, old, ref, RULES)
    doc.pop("status", None)
    if old is not None and old.get("status") is not None:
        doc["status"] = copy.deepcopy(old["status"])
    elif "status" in props and "default" in props["status"]:
        doc["status"] = copy.deepcopy(props["status"]["default"])
    return doc
