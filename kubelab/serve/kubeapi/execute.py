"""`kubectl exec` (and the Python client's stream()): the pods/exec subresource over WebSocket with the
v5/v4 channel protocols. The command runs in the simulated pod: kubelab.serve.podexec answers it from
the engine, as the real tool would print it, with its exit code on the status channel."""
from __future__ import annotations

import copy
import json
import socket

from ..podexec import SHELLS, run_in_pod
from . import websocket
from .status import ApiError

__all__ = ["serve_exec", "SUBPROTOCOLS"]

# preference order; kubectl 1.35 offers only v5, the Python client v5 and v4
SUBPROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE_STREAM = 0, 1, 2, 3, 4, 255


def _status(code: int) -> dict:
    """The exec status channel: Success, or NonZeroExitCode with the code as its ExitCode cause."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure", "message": f"command terminated with non-zero exit code: {code}",
            "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def _read_stdin(handler) -> bytes:
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


def serve_exec(handler, namespace: str, name: str, attach: bool = False) -> None:
    """exec runs ?command=...; attach joins the container's main process: its command and args, else a shell
    (what `kubectl debug node/... -it --image=busybox` and `kubectl run -it` attach to)."""
    backend = handler.server.backend
    query = handler.query
    argv = query.get("command") or []
    if not argv and not attach:
        raise ApiError.bad_request("you must specify at least one command for the container")
    with backend.lock:
        pod = backend.cluster.find("Pod", f"{namespace}/{name}")
        if pod is None:
            raise ApiError.not_found("pods", name)
        containers = [c.get("name") for c in pod["spec"].get("containers") or []]
        container = (query.get("container") or [containers[0] if containers else ""])[-1]
        if container not in containers:
            raise ApiError.bad_request(f"container {container} is not valid for pod {name}")
        if attach:
            argv = _main_process(pod, container)
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
    session = _Session(handler, backend, pod, container, tty=query.get("tty", ["false"])[-1] == "true",
                       attach=attach)
    with_stdin = query.get("stdin", ["false"])[-1] == "true"
    if with_stdin and _interactive_shell(argv):
        session.shell()
    else:
        # an attached program that is not a shell reads no input: it runs and exits (kubectl keeps stdin open)
        stdin = _read_stdin(handler) if with_stdin and not attach else b""
        result = session.run(argv, stdin.decode(errors="replace"))
        session.send(STDOUT, result.stdout)
        session.send(STDERR, result.stderr)
        session.finish(result.code)


def _main_process(pod: dict, container: str) -> list[str]:
    """What `attach` joins: the container's command and args (`kubectl debug node/N -i --image=busybox -- ip
    route` puts them in the debug pod's spec), else the image's shell."""
    spec = next((c for c in pod["spec"].get("containers") or [] if c.get("name") == container), {})
    return [*(spec.get("command") or []), *(spec.get("args") or [])] or ["sh"]


def _interactive_shell(argv: list[str]) -> bool:
    """`kubectl exec -i[t] POD -- sh` (no -c): a shell reading commands from the terminal."""
    return argv[0].rsplit("/", 1)[-1] in SHELLS and all(a in ("-i", "-l") for a in argv[1:])


class _Session:
    """One exec stream: runs commands in the simulated pod and writes the channel frames."""

    PROMPT = "/ # "   # busybox sh as root

    def __init__(self, handler, backend, pod: dict, container: str, tty: bool, attach: bool = False):
        self.handler, self.backend, self.pod, self.container, self.tty = handler, backend, pod, container, tty
        self.attach = attach

    def send(self, channel: int, text: str) -> None:
        if not text:
            return
        if self.tty:   # a terminal: the pty turns \n into \r\n and merges stderr into the output
            text, channel = text.replace("\r\n", "\n").replace("\n", "\r\n"), STDOUT
        self.handler.wfile.write(websocket.frame(websocket.BINARY, bytes([channel]) + text.encode()))
        self.handler.wfile.flush()

    def run(self, argv: list[str], stdin: str = ""):
        from ..podexec import Result
        try:
            with self.backend.lock:
                return run_in_pod(self.backend.lab, self.pod, self.container, argv, stdin)
        except Exception as exc:   # the stream is already upgraded: report on stderr, never drop it
            return Result("", f"{argv[0]}: {exc}\n", 1)

    def finish(self, code: int) -> None:
        if self.attach:
            self._main_process_exited(code)
        out = self.handler.wfile
        out.write(websocket.frame(websocket.BINARY, bytes([STATUS]) + json.dumps(_status(code)).encode()))
        out.write(websocket.frame(websocket.CLOSE, (1000).to_bytes(2, "big")))
        out.flush()
        self._await_close()

    def _await_close(self, timeout: float = 2.0) -> None:
        """RFC 6455 §7.1.1: the server closes the TCP connection after it has sent and received a Close
        frame. Closing at once, with frames from the client still unread, makes the kernel send a reset that
        can discard output the client has not read yet."""
        self.handler.connection.settimeout(timeout)
        try:
            while True:
                got = websocket.read_frame(self.handler.rfile)
                if got is None or got[0] == websocket.CLOSE:
                    return
        except (socket.timeout, OSError, ValueError):
            return

    def _main_process_exited(self, code: int) -> None:
        """The attached shell was the container's main process: with restartPolicy Never (or OnFailure
        and exit 0) the pod completes, Succeeded or Failed, as `kubectl run -i --rm` waits for."""
        policy = self.pod["spec"].get("restartPolicy", "Always")
        if policy == "Always" or (policy == "OnFailure" and code != 0):
            return
        with self.backend.lock:
            stored = self.backend.cluster.find("Pod", f"{self.pod['metadata']['namespace']}/{self.pod['metadata']['name']}")
            if stored is None:
                return
            done = copy.deepcopy(stored)
            done["status"] = {**done.get("status", {}), "phase": "Succeeded" if code == 0 else "Failed"}
            for cond in done["status"].get("conditions") or []:
                if cond.get("type") in ("Ready", "ContainersReady"):
                    cond["status"] = "False"
            self.backend.cluster.apply([done])

    def _line(self, line: str) -> int | None:
        """Run one command line; the exit status when the line ends the shell (exit), else None."""
        words = line.split()
        if words[:1] == ["exit"]:
            return int(words[1]) if len(words) > 1 and words[1].isdigit() else self.code
        if words:
            result = self.run(["sh", "-c", line])
            self.send(STDOUT, result.stdout)
            self.send(STDERR, result.stderr)
            self.code = result.code
        return None

    def shell(self) -> None:
        """Read the terminal a frame at a time: with a tty, echo what is typed and handle Enter,
        Backspace, Ctrl-C and Ctrl-D as the pty's line discipline does; without, run each line."""
        self.code, line = 0, ""
        self.handler.connection.settimeout(3600)
        if self.tty:
            self.send(STDOUT, self.PROMPT)
        while True:
            try:
                got = websocket.read_frame(self.handler.rfile)
            except (socket.timeout, OSError):
                got = None
            if got is None or got[0] == websocket.CLOSE:
                break
            opcode, payload = got
            if opcode not in (websocket.BINARY, websocket.TEXT) or not payload:
                continue
            channel, body = payload[0], payload[1:].decode(errors="replace")
            if channel == CLOSE_STREAM:
                break
            if channel != STDIN:
                continue   # RESIZE: the simulated terminal has no size
            for ch in body:
                if self.tty and ch == "\x03":
                    self.send(STDOUT, "^C\n" + self.PROMPT)
                    line = ""
                elif self.tty and ch == "\x04" and not line:
                    self.send(STDOUT, "\n")
                    return self.finish(self.code)
                elif self.tty and ch in ("\x7f", "\b"):
                    if line:
                        line = line[:-1]
                        self.send(STDOUT, "\b \b")
                elif ch in ("\r", "\n"):
                    if self.tty:
                        self.send(STDOUT, "\n")
                    code, line = self._line(line), ""
                    if code is not None:
                        return self.finish(code)
                    if self.tty:
                        self.send(STDOUT, self.PROMPT)
                elif ch >= " " or ch == "\t":
                    line += ch
                    if self.tty:
                        self.send(STDOUT, ch)
        code = self._line(line) if line.strip() else None
        self.finish(self.code if code is None else code)
