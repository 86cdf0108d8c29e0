"""The NetworkPolicy engine against the conformance sample (tests/conformance/samples/netpol/*.yaml).

One test per probe (id: file stem + probe index). Probes flagged implementation_specific are run
too; only those may be xfail, and only when the engine's answer differs from the sample's.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubelab.net.netpol import PolicyEngine, validate_network_policy

SAMPLES = Path(__file__).parent / "samples" / "netpol"


def _namespace(name: str, spec: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(spec["labels"])}}


def _pod(p: dict) -> dict:
    ports = [{"name": q["name"], "containerPort": q["port"], "protocol": q["protocol"]} for q in p["ports"]]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": p["name"], "namespace": p["namespace"], "labels": dict(p["labels"])},
            "spec": {"containers": [{"name": "main", "image": "agnhost", "ports": ports}]},
            "status": {"phase": "Running", "podIP": p["ip"], "podIPs": [{"ip": p["ip"]}]}}


def _load() -> list:
    cases = []
    for path in sorted(SAMPLES.glob("*.yaml")):
        case = yaml.safe_load(path.read_text())
        namespaces = [_namespace(n, s) for n, s in case["namespaces"].items()]
        pods = {f"{p['namespace']}/{p['name']}": _pod(p) for p in case["pods"]}
        for i, probe in enumerate(case["expect"]):
            cases.append(pytest.param(path.stem, namespaces, pods, case["policies"], probe, id=f"{path.stem}-{i}"))
    return cases


_ENGINES: dict = {}


def _engine(stem: str, namespaces: list, policies: list) -> PolicyEngine:
    """One engine per sample file (policies validated first, as the API server would)."""
    if stem not in _ENGINES:
        for policy in policies:
            validate_network_policy(policy)
        _ENGINES[stem] = PolicyEngine(namespaces, policies)
    return _ENGINES[stem]


@pytest.mark.parametrize("stem,namespaces,pods,policies,probe", _load())
def test_probe_matches_kubernetes(stem, namespaces, pods, policies, probe):
    """Does the engine give the verdict real Kubernetes gives for this probe?"""
    engine = _engine(stem, namespaces, policies)
    src = pods[probe["from"]] if "from" in probe else probe["from_ip"]
    dst = pods[probe["to"]] if "to" in probe else probe["to_ip"]
    decision = engine.decide(src, dst, probe["port"], probe["protocol"])
    if decision.allowed != probe["allowed"] and probe.get("implementation_specific"):
        pytest.xfail(probe.get("note", "implementation-specific"))
    assert decision.allowed == probe["allowed"], decision.reason
    if probe.get("implementation_specific"):
        assert "implementation-specific" in decision.reason


def test_every_sample_file_has_probes():
    """Is the sample present, so the parametrized test above is not silently empty?"""
    assert len(list(SAMPLES.glob("*.yaml"))) >= 12
    assert len(_load()) > 100
