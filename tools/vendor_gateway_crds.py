"""Regenerate kubelab/api/crds/*.json from the Gateway API experimental-channel CRDs.

    git clone --branch v1.6.1 https://github.com/kubernetes-sigs/gateway-api /tmp/gateway-api
    python tools/vendor_gateway_crds.py /tmp/gateway-api/config/crd/experimental

Keeps each kind's storage-version openAPIV3Schema with descriptions dropped (they are most of the
bytes and kubelab never shows them); types, patterns, limits, defaults and the CEL rules stay.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

KINDS = ("gatewayclasses", "gateways", "httproutes", "referencegrants")
OUT = Path(__file__).resolve().parent.parent / "kubelab" / "api" / "crds"


def _strip(node):
    """Drop documentation strings; a property that is itself named "description" (GatewayClass
    spec.description) is a schema (a dict) and stays."""
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def main(crd_dir: str) -> None:
    for plural in KINDS:
        crd = yaml.safe_load((Path(crd_dir) / f"gateway.networking.k8s.io_{plural}.yaml").read_text())
        version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
        out = {"group": crd["spec"]["group"], "kind": crd["spec"]["names"]["kind"],
               "bundleVersion": crd["metadata"]["annotations"].get("gateway.networking.k8s.io/bundle-version"),
               "channel": crd["metadata"]["annotations"].get("gateway.networking.k8s.io/channel"),
               "served": [v["name"] for v in crd["spec"]["versions"] if v.get("served")],
               "storage": version["name"],
               "schema": _strip(version["schema"]["openAPIV3Schema"])}
        (OUT / f"{plural}.json").write_text(json.dumps(out, sort_keys=True, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
