"""nbval and the lessons' `!kubectl` cells: they need the real kubectl v1.35 on PATH. Without it those cells
are skipped with a one-line reason naming how to install it (the Python cells around them still run); on CI
(CI=true, where .ci/run installs kubectl) nothing is skipped, so a missing kubectl fails."""
from __future__ import annotations

import os

import pytest

from tests.notebook_kubectl import kubectl_commands, kubectl_on_path_problem


def pytest_collection_modifyitems(config, items):
    cells = [item for item in items
             if type(item).__name__ == "IPyNbCell" and kubectl_commands(getattr(item, "cell", {}).get("source", ""))]
    if not cells or os.environ.get("CI", "").lower() == "true":
        return
    problem = kubectl_on_path_problem()
    if problem is not None:
        for item in cells:
            item.add_marker(pytest.mark.skip(reason=problem))
