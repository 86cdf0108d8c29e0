"""The NetworkPolicy conformance sample, driven through the Lab exactly as the held-out checks drive it."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import kubelab

from .scenario import load_cases

OWN = Path(__file__).parent / "own" / "netpol"     # kubelab's own cases, same format, ids np-k-NNN


def _build(case):
    lab = kubelab.connect("simulated", seed=0)
    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels.get("labels") or {}}}
            for name, labels in sorted(case["namespaces"].items()) if name != "default"]
    for p in case["pods"]:
        ports = [{"name": port["name"], "containerPort": port["port"], "protocol": port.get("protocol", "TCP")}
                 for port in p.get("ports") or []]
        docs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": p["name"], "namespace": p["namespace"], "labels": p.get("labels") or {}},
                     "spec": {"containers": [{"name": "c", "image": "agnhost", "ports": ports}]},
                     "status": {"podIP": p["ip"], "podIPs": [{"ip": p["ip"]}]}})
    lab.apply(docs)
    default_labels = (case["namespaces"].get("default") or {}).get("labels")
    if default_labels:
        ns = lab.get("Namespace", "default", None)
        ns["metadata"]["labels"] = default_labels
        lab.apply(ns)
    lab.apply(case.get("policies") or [])
    return lab


def _probes():
    own = [yaml.safe_load(p.read_text()) for p in sorted(OWN.glob("np-k-*.yaml"))]
    for case in load_cases("netpol") + own:
        for i, exp in enumerate(case["expect"]):
            marks = [pytest.mark.implementation_specific] if exp.get("implementation_specific") else []
            yield pytest.param(case, exp, id=f"{case['name'] if 'name' in case else case['id']}[{i}]", marks=marks)


_LABS: dict = {}


@pytest.mark.parametrize("case,exp", list(_probes()))
def test_netpol_probe(case, exp):
    """Does reach() give the verdict real Kubernetes gives for this probe?"""
    key = id(case)
    if key not in _LABS:
        _LABS.clear()
        _LABS[key] = _build(case)
    lab = _LABS[key]
    src = exp.get("from") or exp.get("from_ip")
    dst = exp.get("to") or exp.get("to_ip")
    verdict = lab.reach(src, dst, port=exp["port"], protocol=exp.get("protocol", "TCP"))
    assert bool(verdict) == exp["allowed"], str(verdict)
