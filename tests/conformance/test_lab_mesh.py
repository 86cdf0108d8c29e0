"""The service-mesh conformance sample (samples/mesh), driven through the Lab contract as its FORMAT.md says."""
from __future__ import annotations

import pytest

from pathlib import Path

import yaml

from .mesh_scenario import Run
from .scenario import load_cases

OWN = Path(__file__).parent / "own" / "mesh"      # kubelab's own cases, same format (own/mesh/README.md)
CASES = load_cases("mesh") + [yaml.safe_load(p.read_text()) for p in sorted(OWN.glob("mesh-k-*.yaml"))]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_mesh_case(case):
    """Does every probe of the case hold, step after step?"""
    failures = Run(case).run()
    assert not failures, "\n".join(failures)
