"""A learner's browser: JupyterLab on 127.0.0.1 with a token, Debian's Chromium driven by Playwright.

Opens lesson 00 and lessons with widgets (03, 09's route table, 10's routing playground), runs all cells,
and checks that no cell errored and the widgets rendered. Screenshots are written to $KUBELAB_SCREENSHOTS
(default: the test's tmp dir).
"""
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
LESSONS = ["00-welcome.ipynb", "03-services.ipynb", "09-ingress-and-gateway-api.ipynb", "10-service-mesh.ipynb",
           "11-troubleshooting.ipynb"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server over a copy of the course (autosave must never touch the repository)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs {CHROMIUM}: apt-get install chromium (.ci/run installs it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("needs playwright: pip install -e '.[test]'")
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False",
           f"--LabApp.app_settings_dir={ROOT / 'binder'}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(root / "jupyter.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail("JupyterLab did not start: " + (root / "jupyter.log").read_text()[-2000:])
    yield base, token
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_in_a_real_browser(jupyterlab, lesson, tmp_path):
    """Does the lesson run top to bottom in JupyterLab with no error output and rendered widgets?"""
    from playwright.sync_api import sync_playwright

    base, token = jupyterlab
    shots = Path(os.environ.get("KUBELAB_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        # a workspace of its own per lesson, so tabs restored from another test never shadow this one
        page.goto(f"{base}/lab/workspaces/{Path(lesson).stem}/tree/notebooks/{lesson}?token={token}&reset")
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                               " && window.jupyterapp.shell.currentWidget.sessionContext"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session", timeout=60_000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        # all cells done: no "[*]" prompts left and the kernel is idle
        page.wait_for_function(
            "() => { const w = window.jupyterapp.shell.currentWidget;"
            " const prompts = [...document.querySelectorAll('.jp-InputPrompt')].map(e => e.textContent);"
            " return w.sessionContext.kernelDisplayStatus === 'idle' && prompts.length > 0"
            " && prompts.every(t => !t.includes('*')) && prompts.some(t => t.includes('1')); }",
            timeout=180_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / f"{Path(lesson).stem}.png"), full_page=False)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        error_text = [errors.nth(i).inner_text() for i in range(errors.count())]
        tracebacks = [t for t in error_text if "Traceback" in t or "Error" in t]
        assert not tracebacks, tracebacks[:2]
        body = page.inner_text(".jp-Notebook")
        assert "Error displaying widget" not in body
        if lesson != "00-welcome.ipynb":
            widgets = page.locator(".jp-OutputArea-output .widget-vbox")
            assert widgets.count() > 0, "no widget rendered"
            widgets.last.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"{Path(lesson).stem}-widget.png"))
        assert page.locator("text=Would you like to get notified").count() == 0, "JupyterLab news prompt shown"
        browser.close()
