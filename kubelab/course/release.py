"""Generate exercise notebooks from solution notebooks (nbgrader's "write once, release by stripping").

- Code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes nbgrader's stub
  (``# YOUR CODE HERE`` + ``raise NotImplementedError()``), indented like the marker. Inside a
  string (a YAML manifest in triple quotes), inside brackets or in a ``%%`` cell magic, the stub
  is the comment line alone, so the enclosing syntax stays valid.
- Markdown between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` is removed.
- Every code cell from the first exercise on, check cells aside, is tagged ``raises-exception``, so
  Run All (JupyterLab, nbclient, nbval) goes on past a try-it cell that fails on an unsolved stub and
  every check cell shows its FAIL table.
- Outputs are cleared except in check cells (``# NBVAL_CHECK_OUTPUT`` or a call of ``check(``),
  whose reference output stays for nbval; execution counts and cell ids are normalised, so the
  same solutions always give the same bytes.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path
from typing import Any

from ..errors import KubelabError

__all__ = ["release", "is_stale", "render", "release_notebook", "is_check_cell", "check_ids", "ReleaseError",
           "CHECK_MARKER"]

BEGIN_CODE, END_CODE = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_MD, END_MD = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"
_CHECK_CALL = re.compile(r"\bcheck\(")
_CHECK_ID = re.compile(r"""\bcheck\(\s*["']([^"']+)["']""")


class ReleaseError(KubelabError):
    """A solution notebook cannot be turned into an exercise notebook (e.g. unbalanced markers)."""


def is_check_cell(cell: Any) -> bool:
    """A code cell whose output nbval compares: marked ``# NBVAL_CHECK_OUTPUT`` or calling ``check(``."""
    return cell.cell_type == "code" and (CHECK_MARKER in cell.source or bool(_CHECK_CALL.search(cell.source)))


def check_ids(source: str) -> list[str]:
    """The exercise ids a cell passes to ``check("<id>", ...)``, in order."""
    return _CHECK_ID.findall(source)


def _line_contexts(source: str) -> tuple[set[int], set[int]]:
    """(lines that start inside a string, lines that start inside brackets), 1-based."""
    in_string: set[int] = set()
    string_types = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    depth, depth_at_line = 0, {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            for row in range(tok.start[0], tok.end[0] + 1):
                depth_at_line.setdefault(row, depth)
            if tok.type in string_types:
                in_string.update(range(tok.start[0] + 1, tok.end[0] + 1))
            elif tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # not plain Python (magics, unfinished code): markers are treated as statements
    in_brackets = {row for row, d in depth_at_line.items() if d > 0}
    return in_string, in_brackets


def _strip_code(source: str, where: str) -> str:
    in_string, in_brackets = _line_contexts(source)
    text_only = source.lstrip().startswith("%%")  # a cell magic: the body is not Python
    out: list[str] = []
    begin_line = None
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN_CODE:
            if begin_line is not None:
                raise ReleaseError(f"{where}: line {number}: nested BEGIN SOLUTION (the one on line "
                                   f"{begin_line} is still open); add {END_CODE!r} before opening another")
            begin_line = number
            indent = line[: len(line) - len(line.lstrip())]
            plain = text_only or number in in_string or number in in_brackets
            out += [indent + s for s in (CODE_STUB[:1] if plain else CODE_STUB)]
        elif marker == END_CODE:
            if begin_line is None:
                raise ReleaseError(f"{where}: line {number}: END SOLUTION without a BEGIN SOLUTION; "
                                   f"add {BEGIN_CODE!r} where the solution starts")
            begin_line = None
        elif begin_line is None:
            out.append(line)
    if begin_line is not None:
        raise ReleaseError(f"{where}: line {begin_line}: no END SOLUTION statement found for this "
                           f"BEGIN SOLUTION; add {END_CODE!r} where the solution ends")
    stripped = "\n".join(out)
    if _parses(source) and not _parses(stripped):
        raise ReleaseError(f"{where}: the exercise version of this cell is not valid Python; "
                           "put the solution markers around whole statements or inside a string")
    return stripped


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


def _strip_markdown(source: str, where: str) -> str:
    out: list[str] = []
    begin_line = None
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker in (BEGIN_CODE, END_CODE):
            raise ReleaseError(f"{where}: line {number}: {marker!r} in a markdown cell; "
                               f"markdown solutions use {BEGIN_MD!r} and {END_MD!r}")
        if marker == BEGIN_MD:
            if begin_line is not None:
                raise ReleaseError(f"{where}: line {number}: nested BEGIN SOLUTION (the one on line "
                                   f"{begin_line} is still open); add {END_MD!r} before opening another")
            begin_line = number
        elif marker == END_MD:
            if begin_line is None:
                raise ReleaseError(f"{where}: line {number}: END SOLUTION without a BEGIN SOLUTION; "
                                   f"add {BEGIN_MD!r} where the solution starts")
            begin_line = None
        elif begin_line is None:
            out.append(line)
    if begin_line is not None:
        raise ReleaseError(f"{where}: line {begin_line}: no END SOLUTION statement found for this "
                           f"BEGIN SOLUTION; add {END_MD!r} where the solution ends")
    return "\n".join(out).strip("\n")


def release_notebook(nb: Any, name: str) -> Any:
    """The exercise version of solution notebook ``nb`` (named ``name`` in error messages)."""
    cells = []
    first_exercise = None  # position in `cells` of the first cell with a solution region
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index + 1}" + (f" (id {cell['id']!r})" if cell.get("id") else "")
        cell.metadata.pop("execution", None)  # timestamps
        if cell.cell_type == "code":
            if is_check_cell(cell) and BEGIN_CODE in cell.source:
                raise ReleaseError(f"{where}: a check cell contains a solution region; "
                                   "keep answers and check() calls in separate cells")
            if first_exercise is None and BEGIN_CODE in cell.source:
                first_exercise = len(cells)
            cell.source = _strip_code(cell.source, where)
            cell.execution_count = None
            cell.outputs = [_without_count(o) for o in cell.outputs] if is_check_cell(cell) else []
            if cell.outputs:
                # the reference result stays for `pytest --nbval-lax` self-checks, collapsed so that it is
                # not read as the learner's own result (or a hint) before the exercise is done
                cell.metadata["jupyter"] = {"outputs_hidden": True}
        elif cell.cell_type == "markdown":
            cell.source = _strip_markdown(cell.source, where)
            if not cell.source:
                continue  # the whole cell was a solution
        cells.append(cell)
    for cell in cells[len(cells) if first_exercise is None else first_exercise:]:
        if cell.cell_type == "code" and not is_check_cell(cell):
            tags = cell.metadata.setdefault("tags", [])
            if "raises-exception" not in tags:
                tags.append("raises-exception")  # an unsolved stub may raise here; Run All goes on
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index:03d}"
    nb.cells = cells
    nb.nbformat_minor = max(nb.nbformat_minor, 5)  # cell ids need nbformat 4.5
    nb.metadata["kubelab"] = {**nb.metadata.get("kubelab", {}), "lesson": Path(name).stem}
    return nb


def _without_count(output: Any) -> Any:
    if "execution_count" in output:
        output["execution_count"] = None
    return output


def render(solution: Path) -> str:
    """The exact text of the exercise notebook generated from ``solution``."""
    import nbformat  # lazily: `import kubelab` must not need it

    nb = nbformat.read(solution, as_version=4)
    text = nbformat.writes(release_notebook(nb, str(solution)), version=4)
    return text if text.endswith("\n") else text + "\n"


def _solutions(solutions_dir: Path) -> list[Path]:
    return sorted(p for p in Path(solutions_dir).glob("*.ipynb"))


def release(solutions_dir: Path | str, exercises_dir: Path | str) -> list[Path]:
    """Write ``exercises_dir/<name>.ipynb`` for every solution notebook; return the files written."""
    exercises_dir = Path(exercises_dir)
    rendered = [(exercises_dir / s.name, render(s)) for s in _solutions(Path(solutions_dir))]
    exercises_dir.mkdir(parents=True, exist_ok=True)  # only once every notebook rendered cleanly
    for path, text in rendered:
        path.write_text(text, encoding="utf-8")
    return [path for path, _ in rendered]


def is_stale(solutions_dir: Path | str, exercises_dir: Path | str) -> list[str]:
    """Exercise notebooks that are missing or differ from what release() would write now."""
    stale = []
    for solution in _solutions(Path(solutions_dir)):
        target = Path(exercises_dir) / solution.name
        if not target.exists() or target.read_text(encoding="utf-8") != render(solution):
            stale.append(str(target))
    return stale
