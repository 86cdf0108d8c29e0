"""The API server's lifecycle: a threaded HTTP(S) server on 127.0.0.1 over one Lab, and the
kubeconfig that points kubectl and the Python client at it."""
from __future__ import annotations

import os
import ssl
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import yaml

from . import openapi
from .backend import LabBackend
from .clock import ServerClock, TerminationClock
from .handler import ApiHandler

__all__ = ["KubeAPIServer", "CONTEXT"]

CONTEXT = "kubelab"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, backend: LabBackend, log=None):
        super().__init__(address, ApiHandler)
        self.backend = backend
        self.stopping = threading.Event()
        self.applied: dict = {}    # server-side apply: (kind, ns, name, manager) -> last applied config
        self.log = log
        self.exec_hook = None


class KubeAPIServer:
    """`KubeAPIServer(lab).start()` serves the lab's cluster; `.kubeconfig` is the file to point
    kubectl at; `.stop()` ends it. Plain http unless tls=True (a self-signed certificate for
    127.0.0.1, trusted through the kubeconfig's certificate-authority-data)."""

    def __init__(self, lab, host: str = "127.0.0.1", port: int = 0, tls: bool = False,
                 kubeconfig: str | os.PathLike | None = None, log=None, clock: "str | ServerClock" = "pinned"):
        self.lab = lab
        # pinned: AGE follows the simulated clock (deterministic); wall: it moves with real time
        self.server_clock = clock if isinstance(clock, ServerClock) else ServerClock(lab.cluster, clock)
        self.backend = LabBackend(lab, self.server_clock)
        self.host, self.tls = host, tls
        self._httpd = _HTTPServer((host, port), self.backend, log)
        self.port = self._httpd.server_address[1]
        self._ca_pem = None
        if tls:
            from .certs import self_signed
            cert_pem, key_pem = self_signed(host)
            self._ca_pem = cert_pem
            self._cert_dir = tempfile.TemporaryDirectory(prefix="kubelab-tls-")
            cert_file, key_file = Path(self._cert_dir.name, "tls.crt"), Path(self._cert_dir.name, "tls.key")
            cert_file.write_bytes(cert_pem)
            key_file.write_bytes(key_pem)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_file, key_file)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.kubeconfig = Path(kubeconfig) if kubeconfig else \
            Path(tempfile.gettempdir()) / f"kubelab-{os.getpid()}-{self.port}.kubeconfig"
        self._thread: threading.Thread | None = None
        # terminating pods run out their grace period in wall time while the lab is served
        self.clock = TerminationClock(lab, self.backend.lock) if hasattr(lab, "advance") else None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def kubeconfig_text(self, namespace: str = "default") -> str:
        cluster = {"server": self.url}
        if self._ca_pem is not None:
            import base64
            cluster["certificate-authority-data"] = base64.b64encode(self._ca_pem).decode()
        config = {"apiVersion": "v1", "kind": "Config", "preferences": {},
                  "clusters": [{"name": CONTEXT, "cluster": cluster}],
                  "users": [{"name": CONTEXT, "user": {"token": "kubelab"}}],
                  "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT,
                                                              "namespace": namespace}}],
                  "current-context": CONTEXT}
        return yaml.safe_dump(config, sort_keys=False)

    def start(self) -> "KubeAPIServer":
        self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        self.kubeconfig.write_text(self.kubeconfig_text())
        os.chmod(self.kubeconfig, 0o600)
        self.server_clock.start()
        # objects written while served (through the API or the lab's Python API) are stamped by its clock
        self.lab.cluster.timestamp_source = self.server_clock.stamp
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"kubelab-apiserver-{self.port}", daemon=True)
        self._thread.start()
        if self.clock is not None:
            self.clock.start()
        # the OpenAPI documents take a moment to build: ready them before kubectl apply asks
        threading.Thread(target=openapi.index, name="kubelab-openapi-warmup", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.clock is not None:
            self.clock.stop()
        if self.lab.cluster.timestamp_source == self.server_clock.stamp:
            self.lab.cluster.timestamp_source = None
        self._httpd.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wait(self) -> None:
        """Block until stopped (Ctrl-C in `kubelab serve`)."""
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> "KubeAPIServer":
        return self.start() if self._thread is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<kubelab API server {self.url} kubeconfig={self.kubeconfig}>"
