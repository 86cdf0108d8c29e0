"""`kubelab serve`: a simulated cluster (the default one plus any manifests) served until Ctrl-C."""
from __future__ import annotations

import argparse
import sys

__all__ = ["serve_command"]


def serve_command(args: argparse.Namespace, ready=print) -> int:
    from ... import connect
    from .server import KubeAPIServer

    lab = connect()
    for path in args.manifests:
        lab.apply(path)
    server = KubeAPIServer(lab, port=args.port, tls=args.tls, kubeconfig=args.kubeconfig).start()
    ready(f"kubelab: serving the simulated cluster at {server.url} (context kubelab)")
    ready(f"export KUBECONFIG={server.kubeconfig}")
    sys.stdout.flush()
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0
