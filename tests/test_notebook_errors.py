"""kubelab errors in IPython and Jupyter: the message alone (what, where, fix), the full traceback one
`%tb` away, and everyone else's exceptions untouched."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BAD_APPLY = "lab.apply('apiVersion: v1\\nkind: Service\\nmetadata: {name: s}\\nspec: {ports: [{port: 80, protocol: tcp}]}')"


@pytest.fixture
def shell(capsys):
    IPython = pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    yield shell
    from kubelab.show.notebook_errors import uninstall
    uninstall(shell)
    InteractiveShell.clear_instance()


def test_a_kubelab_error_is_shown_as_its_message(shell, capsys):
    """Does a rejected apply print one line naming object, field and fix, not kubelab's frames?"""
    from kubelab.show.notebook_errors import TB_HINT, install

    assert install(shell)
    shell.run_cell("import kubelab\nlab = kubelab.connect(nodes=1)")
    capsys.readouterr()
    result = shell.run_cell(BAD_APPLY)
    out = capsys.readouterr().out
    assert type(result.error_in_exec).__name__ == "ValidationError"
    assert "Service default/s: spec.ports[0].protocol" in out and "'TCP'" in out
    assert TB_HINT in out
    assert "cluster.py" not in out and "admission" not in out and len(out.strip().splitlines()) == 2


def test_tb_shows_the_full_traceback(shell, capsys):
    """Is the whole traceback one `%tb` away?"""
    from kubelab.show.notebook_errors import install

    install(shell)
    shell.run_cell("import kubelab\nlab = kubelab.connect(nodes=1)")
    shell.run_cell(BAD_APPLY)
    capsys.readouterr()
    shell.run_cell("%tb")
    out = capsys.readouterr().out
    assert "cluster.py" in out and "ValidationError" in out


def test_other_exceptions_keep_their_traceback(shell, capsys):
    """Does a learner's own bug still get IPython's usual traceback?"""
    from kubelab.show.notebook_errors import install

    install(shell)
    shell.run_cell("def f():\n    return 1 / 0\nf()")
    out = capsys.readouterr().out
    assert "ZeroDivisionError" in out and "----> 3" in out


def test_importing_kubelab_in_ipython_installs_it_and_plain_python_does_not():
    """Is the handler registered by `import kubelab` inside IPython, and is IPython never imported outside it?"""
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(REPO))
    plain = subprocess.run([sys.executable, "-c", "import sys, kubelab; print('IPython' in sys.modules)"],
                           capture_output=True, text=True, env=env, check=True)
    assert plain.stdout.strip() == "False"
    code = ("from IPython.core.interactiveshell import InteractiveShell\n"
            "shell = InteractiveShell.instance()\n"
            "shell.run_cell('import kubelab')\n"
            "print(shell.custom_exceptions)\n")
    inside = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "KubelabError" in inside.stdout


def test_in_a_jupyter_kernel_the_error_output_is_the_message(tmp_path):
    """In a real kernel, is the cell's error output two lines (message and %tb hint) with the error's name?"""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import kubelab\nlab = kubelab.connect(nodes=1)"),
        nbformat.v4.new_code_cell(BAD_APPLY),
    ])
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(tmp_path)}})
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(REPO) + (os.pathsep + old if old else "")
    try:
        client.execute()
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    [error] = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    assert error.ename == "ValidationError"
    assert "spec.ports[0].protocol" in error.evalue
    assert len(error.traceback) == 2 and "%tb" in error.traceback[1]
