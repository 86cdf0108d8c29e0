"""`kubectl exec` (and the Python client's stream()): the pods/exec subresource over WebSocket with the
v5/v4 channel protocols. The command runs in the simulated pod: kubelab.serve.podexec answers it from
the engine, as the real tool would print it, with its exit code on the status channel."""
from __future__ import annotations

import json
import socket

from ..podexec import run_in_pod
from . import websocket
from .status import ApiError

__all__ = ["serve_exec", "pod_log", "SUBPROTOCOLS"]

# preference order; kubectl 1.35 offers only v5, the Python client v5 and v4
SUBPROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE_STREAM = 0, 1, 2, 3, 4, 255


def _status(code: int) -> dict:
    """The exec status channel: Success, or NonZeroExitCode with the code as its ExitCode cause."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure", "message": f"command terminated with non-zero exit code: {code}",
            "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def _read_stdin(handler, protocol: str) -> bytes:
    """Everything the client sends on stdin until it closes it (v5: CLOSE_STREAM 0) or the socket."""
    data = b""
    handler.connection.settimeout(30)
    try:
        while True:
            got = websocket.read_frame(handler.rfile)
            if got is None:
                return data
            opcode, payload = got
            if opcode == websocket.CLOSE:
                return data
            if opcode in (websocket.BINARY, websocket.TEXT) and payload:
                channel, body = payload[0], payload[1:]
                if channel == STDIN:
                    data += body
                elif channel == CLOSE_STREAM and body[:1] == bytes([STDIN]):
                    return data
    except (socket.timeout, OSError):
        return data


def serve_exec(handler, namespace: str, name: str) -> None:
    backend = handler.server.backend
    query = handler.query
    argv = query.get("command") or []
    if not argv:
        raise ApiError.bad_request("you must specify at least one command for the container")
    with backend.lock:
        pod = backend.cluster.find("Pod", f"{namespace}/{name}")
        if pod is None:
            raise ApiError.not_found("pods", name)
        containers = [c.get("name") for c in pod["spec"].get("containers") or []]
        container = (query.get("container") or [containers[0] if containers else ""])[-1]
        if container not in containers:
            raise ApiError.bad_request(f"container {container} is not valid for pod {name}")
        if (pod.get("status") or {}).get("phase") != "Running":
            raise ApiError.bad_request(f"pod {name} does not have a host assigned" if not pod["spec"].get("nodeName")
                                       else f"unable to upgrade connection: container not found (\"{container}\")")
    if (handler.headers.get("Upgrade") or "").lower() != "websocket":
        # kubectl falls back to SPDY only when the WebSocket upgrade is refused; SPDY is not spoken here
        raise ApiError.bad_request("Upgrade request required: this server speaks exec over WebSocket "
                                   f"({', '.join(SUBPROTOCOLS)})")
    offered = [p.strip() for p in (handler.headers.get("Sec-WebSocket-Protocol") or "").split(",")]
    protocol = next((p for p in SUBPROTOCOLS if p in offered), None)
    if protocol is None:
        raise ApiError.bad_request(f"none of the offered subprotocols {offered} is supported; use one of "
                                   f"{', '.join(SUBPROTOCOLS)}")
    handler.send_response(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", websocket.accept_key(handler.headers.get("Sec-WebSocket-Key", "")))
    handler.send_header("Sec-WebSocket-Protocol", protocol)
    handler.end_headers()
    handler.close_connection = True
    stdin = _read_stdin(handler, protocol) if query.get("stdin", ["false"])[-1] == "true" else b""
    with backend.lock:
        result = run_in_pod(backend.lab, pod, container, argv, stdin.decode(errors="replace"))
    out = handler.wfile
    for channel, text in ((STDOUT, result.stdout), (STDERR, result.stderr)):
        if text:
            out.write(websocket.frame(websocket.BINARY, bytes([channel]) + text.encode()))
    out.write(websocket.frame(websocket.BINARY, bytes([STATUS]) + json.dumps(_status(result.code)).encode()))
    out.write(websocket.frame(websocket.CLOSE, (1000).to_bytes(2, "big")))
    out.flush()


def pod_log(backend, pod: dict, container: str | None) -> str:
    """The simulated containers print nothing the simulator keeps, so the log is empty."""
    return ""
