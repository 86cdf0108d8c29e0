"""Execute course notebooks in place, top to bottom, and store deterministic outputs.

    python tools/run_notebooks.py notebooks/03-services.ipynb solutions/03-services.ipynb
    python tools/run_notebooks.py --all

Execution counts are renumbered 1..n, cell ids are derived from the notebook name and cell index,
and no timing metadata is recorded, so re-running an unchanged notebook changes no byte.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def merge_streams(outputs: list) -> list:
    """Consecutive prints to one stream arrive in chunks that depend on timing: store them as one output."""
    merged = []
    for out in outputs:
        if (out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")):
            merged[-1]["text"] += out["text"]
        else:
            merged.append(out)
    return merged


def normalise(nb, name: str) -> None:
    """Stable cell ids and execution counts, one output per stream; no per-run metadata."""
    count = 0
    for i, cell in enumerate(nb.cells):
        if cell["cell_type"] == "code":
            cell["outputs"] = merge_streams(cell.get("outputs", []))
        cell["id"] = hashlib.sha1(f"{name}:{i}".encode()).hexdigest()[:8]
        cell["metadata"].pop("execution", None)
        if cell["cell_type"] == "code":
            if cell.get("outputs") or cell.get("execution_count"):
                count += 1
                cell["execution_count"] = count
                for out in cell["outputs"]:
                    if "execution_count" in out:
                        out["execution_count"] = count
            else:
                cell["execution_count"] = None
    nb.metadata.pop("widgets", None) if not _has_widgets(nb) else None
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}


def stable_widget_ids(nb, name: str):
    """ipywidgets gives every model a random id; rename them in order of appearance so the stored
    notebook is byte-identical run to run (outputs and the saved widget state refer to the same ids)."""
    text = json.dumps(nb)
    ids = []
    for model_id in re.findall(r'"model_id": "([0-9a-f]{32})"', text) + \
            re.findall(r'"([0-9a-f]{32})": \{"model_name"', text) + re.findall(r"IPY_MODEL_([0-9a-f]{32})", text):
        if model_id not in ids:
            ids.append(model_id)
    for i, model_id in enumerate(ids):
        text = text.replace(model_id, hashlib.sha1(f"{name}:widget:{i}".encode()).hexdigest()[:32])
    return nbformat.from_dict(json.loads(text))


def _has_widgets(nb) -> bool:
    return any("application/vnd.jupyter.widget-view+json" in (o.get("data") or {})
               for c in nb.cells if c["cell_type"] == "code" for o in c.get("outputs", []))


def run(path: Path, timeout: int = 120) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    elapsed = time.perf_counter() - start
    normalise(nb, path.stem)
    nb = stable_widget_ids(nb, path.stem)
    nbformat.write(nb, path)
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--all", action="store_true", help="every notebook in notebooks/ and solutions/")
    args = parser.parse_args(argv)
    paths = list(args.paths)
    if args.all:
        paths += sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
    for path in paths:
        print(f"{path}: {run(path):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
