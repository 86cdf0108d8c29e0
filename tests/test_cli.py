"""The `kubelab` command: version, release, grade, course and the dns serve hook."""
import os
import sys
import types
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

import kubelab
from kubelab import cli


def make_solutions(folder: Path, source="def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(v4.new_notebook(cells=[v4.new_code_cell(source)]), folder / "03-services.ipynb")


def test_version_prints_the_package_version(capsys):
    """Does `kubelab version` print kubelab's version?"""
    assert cli.main(["version"]) == 0
    assert capsys.readouterr().out == f"kubelab {kubelab.__version__}\n"


def test_release_check_fails_and_lists_stale_files_until_release_runs(tmp_path, capsys):
    """Does `kubelab release --check` exit 1 listing stale notebooks, and 0 after `kubelab release`?"""
    make_solutions(tmp_path / "solutions")
    paths = ["--solutions", str(tmp_path / "solutions"), "--exercises", str(tmp_path / "exercises")]
    assert cli.main(["release", "--check", *paths]) == 1
    assert capsys.readouterr().out == f"stale: {tmp_path / 'exercises' / '03-services.ipynb'}\n"
    assert not (tmp_path / "exercises").exists()
    assert cli.main(["release", *paths]) == 0
    assert cli.main(["release", "--check", *paths]) == 0


def test_release_errors_are_one_line_not_tracebacks(tmp_path, capsys):
    """Does a broken solution notebook give `kubelab: error: ...` and exit status 1?"""
    make_solutions(tmp_path / "solutions", source="### BEGIN SOLUTION\nx = 1")
    code = cli.main(["release", "--solutions", str(tmp_path / "solutions"), "--exercises", str(tmp_path / "ex")])
    assert code == 1
    assert capsys.readouterr().err.startswith("kubelab: error: ")


def test_grade_expands_folders_and_passes_its_options(tmp_path, monkeypatch, capsys):
    """Does `kubelab grade` expand folders (skipping checkpoints) and pass --out, --reference and --timeout on?"""
    (tmp_path / "subs" / ".ipynb_checkpoints").mkdir(parents=True)
    for name in ("subs/b.ipynb", "subs/a.ipynb", "subs/.ipynb_checkpoints/a-checkpoint.ipynb", "c.ipynb"):
        (tmp_path / name).write_text("{}")
    calls = []

    def fake_grade(submissions, out_csv, *, reference_dir, timeout, **options):
        calls.append((submissions, out_csv, reference_dir, timeout))
        return types.SimpleNamespace(to_csv=lambda: "learner,total\n")

    monkeypatch.setattr("kubelab.course.grading.grade", fake_grade)
    code = cli.main(["grade", str(tmp_path / "subs"), str(tmp_path / "c.ipynb"), "--out", str(tmp_path / "g.csv"),
                     "--reference", str(tmp_path / "ref"), "--timeout", "7"])
    assert code == 0
    assert calls == [([tmp_path / "subs" / "a.ipynb", tmp_path / "subs" / "b.ipynb", tmp_path / "c.ipynb"],
                      tmp_path / "g.csv", tmp_path / "ref", 7)]
    assert capsys.readouterr().out.startswith("learner,total\n")


def test_grade_requires_an_output_file():
    """Does `kubelab grade` without --out stop with a usage error?"""
    with pytest.raises(SystemExit) as err:
        cli.main(["grade", "x.ipynb"])
    assert err.value.code == 2


def test_course_launches_jupyterlab_on_the_welcome_notebook(tmp_path, monkeypatch):
    """Does `kubelab course --port 9999 --no-browser` start JupyterLab on notebooks/00-welcome.ipynb, with the
    course's JupyterLab settings (no news pop-ups) and --allow-root only when running as root?"""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00-welcome.ipynb").write_text("{}")
    (tmp_path / "binder").mkdir()
    (tmp_path / "binder" / "overrides.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    commands = []
    monkeypatch.setattr(cli.subprocess, "call", lambda command: commands.append(command) or 0)
    assert cli.main(["course", "--port", "9999", "--no-browser"]) == 0
    expected = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={tmp_path.resolve()}",
                "notebooks/00-welcome.ipynb", "--LabApp.app_settings_dir=binder", "--port=9999", "--no-browser"]
    assert commands == [expected + (["--allow-root"] if os.geteuid() == 0 else [])]


def test_course_outside_the_course_folder_says_where_to_run_it(tmp_path, monkeypatch, capsys):
    """Does `kubelab course` run where there is no notebooks/ folder say where to run it?"""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["course"]) == 1
    assert "run `kubelab course` in the course folder" in capsys.readouterr().err


def test_dns_serve_hands_manifests_and_port_to_the_dns_server(monkeypatch):
    """Does `kubelab dns serve -f a.yaml -f b.yaml --port 5300` call kubelab.serve.dns.serve_manifests(paths, port)?"""
    calls = []
    fake = types.ModuleType("kubelab.serve.dns")
    fake.serve_manifests = lambda paths, port: calls.append((paths, port))
    monkeypatch.setitem(sys.modules, "kubelab.serve.dns", fake)
    assert cli.main(["dns", "serve", "-f", "a.yaml", "-f", "b.yaml", "--port", "5300"]) == 0
    assert calls == [([Path("a.yaml"), Path("b.yaml")], 5300)]


def test_a_subcommand_is_required():
    """Does `kubelab` with no subcommand stop with a usage error?"""
    with pytest.raises(SystemExit) as err:
        cli.main([])
    assert err.value.code == 2
