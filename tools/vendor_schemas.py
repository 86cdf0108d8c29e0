"""Regenerate kubelab/api/schemas/kubernetes-<version>-strict.json.gz from an installed kubernetes-validate.

    python -m pip install kubernetes-validate==1.37.0   # in a scratch environment
    python tools/vendor_schemas.py 1.37.0

Compact JSON, sorted keys, gzip with mtime 0: the same input gives the same bytes.
"""
from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "kubelab" / "api" / "schemas"


def main(version: str) -> Path:
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("vendor_schemas: install kubernetes-validate first (pip install kubernetes-validate)")
    source = (Path(list(spec.submodule_search_locations)[0]) / "kubernetes-json-schema"
              / f"v{version}-local-strict" / "_definitions.json")
    data = json.loads(source.read_text())
    target = OUT / f"kubernetes-{version}-strict.json.gz"
    with gzip.GzipFile(target, "wb", mtime=0) as f:
        f.write(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    return target


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "1.37.0"))
