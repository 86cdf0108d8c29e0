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


def test_course_launches_jupyterlab_on_the_welcome_notebook(tmp_path, monkeypatch, capsys):
    """Does `kubelab course --port 9999 --no-browser` start JupyterLab opening notebooks/00-welcome.ipynb on
    exactly that port, with the course's JupyterLab settings, the token in the environment (not argv), and
    print a URL that opens lesson 00 with that token?"""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00-welcome.ipynb").write_text("{}")
    (tmp_path / "binder").mkdir()
    (tmp_path / "binder" / "overrides.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    runs = []
    monkeypatch.setattr(cli, "_port_is_free", lambda port: True)
    monkeypatch.setattr(cli, "run_forwarding_signals", lambda command, env: runs.append((command, env)) or 0)
    assert cli.main(["course", "--port", "9999", "--no-browser"]) == 0
    [(command, env)] = runs
    lesson = "/lab/tree/notebooks/00-welcome.ipynb"
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    for option in (f"--ServerApp.root_dir={tmp_path.resolve()}", f"--ServerApp.default_url={lesson}",
                   "--port=9999", "--ServerApp.port_retries=0", "--ServerApp.answer_yes=True",
                   "--LabApp.app_settings_dir=binder", "--no-browser"):
        assert option in command
    assert ("--allow-root" in command) == (os.geteuid() == 0)
    token = env["JUPYTER_TOKEN"]
    assert len(token) >= 32 and not any(token in part for part in command)
    assert f"http://127.0.0.1:9999{lesson}?token={token}" in capsys.readouterr().out


def test_course_picks_a_free_port_and_refuses_a_busy_one(tmp_path, monkeypatch, capsys):
    """Without --port, is the port one nothing listens on; with a busy --port, a one-line error?"""
    import socket

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00-welcome.ipynb").write_text("{}")
    monkeypatch.chdir(tmp_path)
    runs = []
    monkeypatch.setattr(cli, "run_forwarding_signals", lambda command, env: runs.append(command) or 0)
    assert cli.main(["course", "--no-browser"]) == 0
    port = int(next(p for p in runs[0] if p.startswith("--port=")).split("=")[1])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))   # free: binding succeeds
        probe.listen()
        assert cli.main(["course", "--port", str(port)]) == 1
    assert "is in use" in capsys.readouterr().err


def test_course_forwards_signals_to_the_server(tmp_path):
    """Does stopping `kubelab course` (SIGTERM) reach the server process, which can then shut down cleanly?"""
    import signal
    import subprocess
    import textwrap
    import time

    marker = tmp_path / "got"
    child = textwrap.dedent(f"""
        import signal, sys, time, pathlib
        signal.signal(signal.SIGTERM, lambda s, f: (pathlib.Path({str(marker)!r}).write_text("TERM"), sys.exit(0)))
        pathlib.Path({str(marker)!r} + ".ready").write_text("")
        time.sleep(30)
    """)
    parent = textwrap.dedent(f"""
        import sys
        from kubelab import cli
        sys.exit(cli.run_forwarding_signals([sys.executable, "-c", {child!r}]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", parent])
    ready = Path(str(marker) + ".ready")
    for _ in range(300):
        if ready.exists():
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert marker.read_text() == "TERM"


def test_course_port_is_validated():
    """Is `kubelab course --port 70000` a usage error (exit 2)?"""
    with pytest.raises(SystemExit) as err:
        cli.main(["course", "--port", "70000"])
    assert err.value.code == 2


def test_course_outside_the_course_folder_says_where_to_run_it(tmp_path, monkeypatch, capsys):
    """Does `kubelab course` run where there is no notebooks/ folder say where to run it?"""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["course"]) == 1
    assert "run `kubelab course` in the course folder" in capsys.readouterr().err


def test_dns_serve_hands_manifests_and_port_to_the_dns_server(monkeypatch, tmp_path):
    """Does `kubelab dns serve -f a.yaml -f b.yaml --port 5300` call kubelab.serve.dns.serve_manifests(paths, port)?"""
    calls = []
    fake = types.ModuleType("kubelab.serve.dns")
    fake.serve_manifests = lambda paths, port: calls.append((paths, port))
    monkeypatch.setitem(sys.modules, "kubelab.serve.dns", fake)
    monkeypatch.chdir(tmp_path)
    for name in ("a.yaml", "b.yaml"):
        Path(name).write_text("{}\n")
    assert cli.main(["dns", "serve", "-f", "a.yaml", "-f", "b.yaml", "--port", "5300"]) == 0
    assert calls == [([Path("a.yaml"), Path("b.yaml")], 5300)]


def test_a_subcommand_is_required():
    """Does `kubelab` with no subcommand stop with a usage error?"""
    with pytest.raises(SystemExit) as err:
        cli.main([])
    assert err.value.code == 2
