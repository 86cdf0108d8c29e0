"""The simulated cluster as a Kubernetes API, for the real kubectl and the official Python client.

    server = KubeAPIServer(lab).start()     # or lab.serve(), or `kubelab serve`
    # KUBECONFIG=server.kubeconfig kubectl get pods -o wide
"""
from .server import CONTEXT, KubeAPIServer

__all__ = ["KubeAPIServer", "CONTEXT"]
