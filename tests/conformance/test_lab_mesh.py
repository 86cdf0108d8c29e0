"""The service-mesh conformance sample (samples/mesh), driven through the Lab contract as its FORMAT.md says."""
from __future__ import annotations

import pytest

from .mesh_scenario import Run
from .scenario import load_cases


@pytest.mark.parametrize("case", load_cases("mesh"), ids=lambda c: c["id"])
def test_mesh_case(case):
    """Does every probe of the case hold, step after step?"""
    failures = Run(case).run()
    assert not failures, "\n".join(failures)
