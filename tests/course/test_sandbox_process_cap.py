"""The sandbox's process cap holds for the whole tree, even when the grader runs as root (RLIMIT_NPROC does not
bind uid 0, so a root grader drops the tree to uid 65534 with setpriv), and the isolation line says so."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from kubelab.course.sandbox import NOBODY, Limits, choose_sandbox

FORK_SOME = """
import os, time
forked = 0
for _ in range(60):
    try:
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        forked += 1
    except OSError:
        break
print(os.getuid(), forked)
"""


def _run_in_sandbox(sandbox, limits, code):
    with tempfile.TemporaryDirectory(prefix="kubelab-cap-") as tmp:
        work = Path(tmp)
        sandbox.prepare(work)
        done = subprocess.run(sandbox.command(work, [sys.executable, "-c", code]), capture_output=True, text=True,
                              cwd=work, env=sandbox.environment(work), preexec_fn=sandbox.preexec(limits),
                              start_new_session=True, timeout=60)
    uid, forked = done.stdout.split()
    return int(uid), int(forked)


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="a root grader needs setpriv")
def test_forks_beyond_the_process_cap_fail_inside_the_sandbox():
    """With a cap of 20 processes, does a tree that tries 60 forks get fewer than 20, as a user that is not root?"""
    sandbox = choose_sandbox([])
    uid, forked = _run_in_sandbox(sandbox, Limits(processes=20), FORK_SOME)
    assert uid != 0 or sandbox.kind == "bubblewrap"  # bubblewrap's own user namespace shows 65534 anyway
    assert forked < 20
    if os.geteuid() == 0:
        assert sandbox.drop_to_nobody and uid == NOBODY


def test_the_isolation_line_states_the_process_cap_and_whether_it_binds():
    """Does caps() name the process cap as binding when the tree runs as a non-root user, and say 'NOT enforced'
    for a root grader that could not drop privileges?"""
    sandbox = choose_sandbox([])
    line = sandbox.caps(Limits(processes=99))
    if os.geteuid() != 0 or sandbox.drop_to_nobody:
        assert "99 processes (runs as uid" in line and "NOT" not in line
    else:
        assert "process cap NOT enforced" in line
    assert line.startswith("caps: 4 GiB memory per process")
