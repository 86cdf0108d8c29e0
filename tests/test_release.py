"""release(): exercise notebooks generated from solution notebooks, and staleness."""
import ast
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat import v4

from kubelab.course.release import ReleaseError, is_stale, release, render

FIXTURES = Path(__file__).parent / "fixtures" / "grading"


def write_solution(folder: Path, *cells, name="03-services.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(v4.new_notebook(cells=list(cells)), path)
    return path


def released(tmp_path, *cells):
    """The exercise notebook generated from a solution notebook made of ``cells``."""
    write_solution(tmp_path / "solutions", *cells)
    release(tmp_path / "solutions", tmp_path / "exercises")
    return nbformat.read(tmp_path / "exercises" / "03-services.ipynb", as_version=4)


def test_a_code_solution_becomes_nbgraders_stub_indented_like_the_marker(tmp_path):
    """Does a solution region in code become `# YOUR CODE HERE` + `raise NotImplementedError()`, indented?"""
    nb = released(tmp_path, v4.new_code_cell(
        "def selector():\n    ### BEGIN SOLUTION\n    return {'app': 'web'}\n    ### END SOLUTION\n\nx = 1"))
    assert nb.cells[0].source == ("def selector():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nx = 1")


def test_a_solution_inside_a_yaml_string_keeps_python_and_yaml_valid(tmp_path):
    """Does a solution region inside a YAML string become a comment, leaving valid Python and YAML?"""
    nb = released(tmp_path, v4.new_code_cell(
        'svc = """\nkind: Service\nspec:\n  ### BEGIN SOLUTION\n  selector:\n    app: web\n'
        '  ### END SOLUTION\n  ports:\n  - port: 80\n"""'))
    source = nb.cells[0].source
    assert "raise NotImplementedError" not in source and "app: web" not in source
    assert "  # YOUR CODE HERE\n" in source
    namespace = {}
    exec(compile(source, "cell", "exec"), namespace)
    assert yaml.safe_load(namespace["svc"]) == {"kind": "Service", "spec": {"ports": [{"port": 80}]}}


def test_a_solution_inside_brackets_keeps_the_expression_valid(tmp_path):
    """Does a solution region inside a dict literal become a comment, so the cell still parses?"""
    nb = released(tmp_path, v4.new_code_cell(
        "labels = {\n    ### BEGIN SOLUTION\n    'app': 'web',\n    ### END SOLUTION\n}"))
    assert nb.cells[0].source == "labels = {\n    # YOUR CODE HERE\n}"
    ast.parse(nb.cells[0].source)


def test_a_solution_in_a_cell_magic_becomes_a_comment(tmp_path):
    """Does a solution region in a %%writefile cell (not Python) become a comment line only?"""
    nb = released(tmp_path, v4.new_code_cell(
        "%%writefile svc.yaml\nkind: Service\n### BEGIN SOLUTION\nspec: {}\n### END SOLUTION"))
    assert nb.cells[0].source == "%%writefile svc.yaml\nkind: Service\n# YOUR CODE HERE"


def test_markdown_solutions_are_removed(tmp_path):
    """Is markdown between solution markers removed, and a cell that was all solution dropped?"""
    nb = released(tmp_path,
                  v4.new_markdown_cell("Why?\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->\nNext."),
                  v4.new_markdown_cell("<!-- BEGIN SOLUTION -->\nAll answer.\n<!-- END SOLUTION -->"))
    assert [c.source for c in nb.cells] == ["Why?\nNext."]


def test_outputs_are_cleared_except_the_reference_output_of_check_cells(tmp_path):
    """Are outputs cleared, except check cells' reference output, with execution counts removed?"""
    result = v4.new_output("execute_result", {"text/plain": "03-x: 1/1 checks passed"}, execution_count=4)
    stream = v4.new_output("stream", name="stdout", text="hello\n")
    nb = released(tmp_path,
                  v4.new_code_cell("print('hello')", outputs=[stream], execution_count=3),
                  v4.new_code_cell('check("03-x", answer)', outputs=[result], execution_count=4),
                  v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint('kept')", outputs=[stream], execution_count=5))
    assert [len(c.outputs) for c in nb.cells] == [0, 1, 1]
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "03-x: 1/1 checks passed"
    assert nb.cells[1].outputs[0]["execution_count"] is None
    assert [c.execution_count for c in nb.cells] == [None, None, None]


def test_ids_and_metadata_are_normalised_so_release_is_byte_for_byte_stable(tmp_path):
    """Are cell ids renumbered, timings dropped and the lesson recorded, so two releases give the same bytes?"""
    cell = v4.new_code_cell("x = 1")
    cell.metadata["execution"] = {"iopub.execute_input": "2024-01-01T00:00:00Z"}
    cell.metadata["tags"] = ["keep"]
    nb = released(tmp_path, v4.new_markdown_cell("# Title"), cell)
    assert [c.id for c in nb.cells] == ["cell-000", "cell-001"]
    assert nb.cells[1].metadata == {"tags": ["keep"]}
    assert nb.metadata["kubelab"] == {"lesson": "03-services"}
    first = (tmp_path / "exercises" / "03-services.ipynb").read_bytes()
    release(tmp_path / "solutions", tmp_path / "exercises")
    assert (tmp_path / "exercises" / "03-services.ipynb").read_bytes() == first


@pytest.mark.parametrize("source, message", [
    ("x = 1\n### BEGIN SOLUTION\ny = 2", "cell 2 (id 'c2'): line 2: no END SOLUTION statement found"),
    ("x = 1\n### END SOLUTION", "cell 2 (id 'c2'): line 2: END SOLUTION without a BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
     "cell 2 (id 'c2'): line 2: nested BEGIN SOLUTION (the one on line 1 is still open)"),
])
def test_unbalanced_code_markers_name_notebook_cell_and_line(tmp_path, source, message):
    """Is an error thrown, naming notebook, cell and line, when code solution markers do not pair up?"""
    cells = [v4.new_markdown_cell("intro"), v4.new_code_cell(source)]
    cells[1]["id"] = "c2"
    path = write_solution(tmp_path / "solutions", *cells)
    with pytest.raises(ReleaseError) as err:
        release(tmp_path / "solutions", tmp_path / "exercises")
    assert str(err.value).startswith(f"{path}, {message}")
    assert not (tmp_path / "exercises").exists()  # nothing is written when a notebook is broken


def test_an_unclosed_markdown_solution_is_an_error(tmp_path):
    """Is an error thrown when a markdown solution has no END marker?"""
    write_solution(tmp_path / "solutions", v4.new_markdown_cell("<!-- BEGIN SOLUTION -->\nanswer"))
    with pytest.raises(ReleaseError, match="line 1: no END SOLUTION statement found.*<!-- END SOLUTION -->"):
        release(tmp_path / "solutions", tmp_path / "exercises")


def test_code_markers_in_markdown_are_an_error(tmp_path):
    """Is an error thrown when a markdown cell uses the code marker `### BEGIN SOLUTION`?"""
    write_solution(tmp_path / "solutions", v4.new_markdown_cell("### BEGIN SOLUTION\nx\n### END SOLUTION"))
    with pytest.raises(ReleaseError, match="in a markdown cell; markdown solutions use"):
        release(tmp_path / "solutions", tmp_path / "exercises")


def test_a_solution_region_in_a_check_cell_is_an_error(tmp_path):
    """Is an error thrown when a check cell contains a solution region (it keeps its output)?"""
    write_solution(tmp_path / "solutions", v4.new_code_cell(
        '### BEGIN SOLUTION\nanswer = 1\n### END SOLUTION\ncheck("03-x", answer)'))
    with pytest.raises(ReleaseError, match="a check cell contains a solution region"):
        release(tmp_path / "solutions", tmp_path / "exercises")


def test_a_stub_that_breaks_python_is_an_error(tmp_path):
    """Is an error thrown when stripping a region mid-statement would leave invalid Python?"""
    write_solution(tmp_path / "solutions", v4.new_code_cell(
        "x = (1 +\n### BEGIN SOLUTION\n2)\n### END SOLUTION"))
    with pytest.raises(ReleaseError, match="not valid Python; put the solution markers around whole statements"):
        release(tmp_path / "solutions", tmp_path / "exercises")


def test_staleness_is_reported_until_release_runs(tmp_path):
    """Does is_stale list missing and outdated exercise notebooks, and nothing right after release()?"""
    solution = write_solution(tmp_path / "solutions", v4.new_code_cell("x = 1"))
    target = str(tmp_path / "exercises" / "03-services.ipynb")
    assert is_stale(tmp_path / "solutions", tmp_path / "exercises") == [target]
    release(tmp_path / "solutions", tmp_path / "exercises")
    assert is_stale(tmp_path / "solutions", tmp_path / "exercises") == []
    nb = nbformat.read(solution, as_version=4)
    nb.cells[0].source = "x = 2"
    nbformat.write(nb, solution)
    assert is_stale(tmp_path / "solutions", tmp_path / "exercises") == [target]


def test_the_grading_reference_releases_into_stubs_with_check_outputs():
    """Does the test lesson's reference notebook release into stubs, keeping its check cells' outputs?"""
    nb = nbformat.reads(render(FIXTURES / "reference" / "99-gradingtest.ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "raise NotImplementedError()" in code[1].source
    assert "# YOUR CODE HERE" in code[3].source and "tier: frontend" not in code[3].source
    assert [bool(c.outputs) for c in code] == [False, False, True, False, True]
    assert "Both labels go under" not in "".join(c.source for c in nb.cells)
