"""nbval as the instructor's view of a grading run.

For each graded submission the grader writes a verdict notebook: one cell per reference check cell,
marked ``# NBVAL_CHECK_OUTPUT`` and carrying the reference solution's output, whose code displays the
result the out-of-kernel check computed (as plain text and the same HTML table check() shows). Then
``pytest --nbval`` runs them all: a cell passes exactly when the learner's answer gave the reference's
output, so nbval's per-cell verdicts sit beside the gradebook's scores, and an instructor can rerun
``pytest --nbval verdicts/`` at any time. The verdict notebooks hold literal text only: no learner code.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

__all__ = ["verdict_notebook", "run_nbval", "VERDICT_PRELUDE"]

#: The first cell of every verdict notebook: shows a (text, html) pair as check() would.
VERDICT_PRELUDE = ("# the results of kubelab's out-of-kernel checks, shown as check() shows them\n"
                   "from IPython.display import display\n"
                   "def show(text, html):\n"
                   "    display({'text/plain': text, 'text/html': html}, raw=True)")


def verdict_notebook(cells: list[tuple[Any, Any]]) -> Any:
    """A notebook of (reference check cell, visible CheckResult or None) pairs, ready for ``pytest --nbval``."""
    import nbformat.v4 as v4

    nb = v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}})
    nb.cells.append(v4.new_code_cell(VERDICT_PRELUDE))
    for reference, result in cells:
        ids = ", ".join(_ids(reference.source))
        if result is None:
            code = f"# NBVAL_CHECK_OUTPUT\n# {ids}: not graded\nshow({json.dumps('not graded')}, '')"
        else:
            code = (f"# NBVAL_CHECK_OUTPUT\n# {ids}\n"
                    f"show({json.dumps(str(result))}, {json.dumps(result._repr_html_())})")
        cell = v4.new_code_cell(code, execution_count=len(nb.cells))  # nbval compares only cells that ran
        cell.outputs = [_as_display(o) for o in reference.outputs if o.get("output_type") != "stream"]
        nb.cells.append(cell)
    return nb


def _ids(source: str) -> list[str]:
    return re.findall(r"""\bcheck\(\s*["']([^"']+)["']""", source)


def _as_display(output: Any) -> Any:
    import nbformat.v4 as v4

    return v4.new_output("display_data", data=dict(output.get("data", {})))


def run_nbval(folder: Path, timeout: int = 120) -> dict[str, tuple[int, int]]:
    """Run ``pytest --nbval`` on every verdict notebook of ``folder``; (check cells as in the reference, check
    cells) by notebook stem."""
    folder = Path(folder).resolve()   # pytest runs in the folder: a relative --out (grades.csv) must still resolve
    report = folder / "nbval-report.xml"
    # the folder's own (empty) pytest config: grading inside a project whose pytest config adds options (another
    # --nbval-sanitize-with file, testpaths) must not change or break the verdicts, here or in the rerun
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pytest", "--nbval", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                    "-c", str(folder / "pytest.ini"), "--rootdir", str(folder), str(folder)], cwd=folder,
                   capture_output=True, timeout=timeout * 10)
    found: dict[str, list[int]] = {}
    if not report.exists():
        return {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        if case.get("name") == "Cell 0":
            continue  # the prelude, not a check
        stem = Path(case.get("classname", "")).name.removesuffix(".ipynb")
        counts = found.setdefault(stem, [0, 0])
        counts[1] += 1
        counts[0] += not any(child.tag in ("failure", "error") for child in case)
    return {k: (v[0], v[1]) for k, v in found.items()}
