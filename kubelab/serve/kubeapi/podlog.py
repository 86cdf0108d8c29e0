"""`kubectl logs`: the pods/log subresource (PodLogOptions: container, tailLines, timestamps, previous,
follow, limitBytes, sinceSeconds), answered from what the simulated containers printed (kubelab.sim.logs).

Errors are worded as kube-apiserver and the kubelet word them, so kubectl prints its usual
`Error from server (BadRequest): ...`. A container whose image prints nothing the simulator keeps gets an
empty log, as a real one would, with a Warning header saying why (kubectl prints it on stderr)."""
from __future__ import annotations

import datetime
import time

from ...errors import ValidationError
from ...net import applogs, apps
from ...sim import logs
from . import views
from .status import ApiError

__all__ = ["serve_log", "FOLLOW_POLL_SECONDS"]

FOLLOW_POLL_SECONDS = 0.1


def _int_param(params: dict, name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ApiError.bad_request(f"{name}: Invalid value: {value!r}: must be an integer") from None


def _container(pod: dict, asked: str | None) -> str:
    try:
        return logs.container_name(pod, asked)
    except ValidationError as exc:
        raise ApiError.bad_request(exc.problem) from None


def _check_running(pod: dict, container: str, previous: bool) -> None:
    """The kubelet's answers for a container with no log to give: never ran, or no previous instance."""
    name = pod["metadata"]["name"]
    if previous:   # the simulator never restarts a container: there is no previous instance
        raise ApiError.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
    status = next((s for s in views.container_statuses(pod) if s["name"] == container), None)
    waiting = ((status or {}).get("state") or {}).get("waiting")
    if waiting:
        raise ApiError.bad_request(f'container "{container}" in pod "{name}" is waiting to start: '
                                   f'{waiting.get("reason", "ContainerCreating")}')


def _silent_warning(pod: dict, container: str) -> str | None:
    """Why a container's log is empty when its image prints nothing per request here."""
    spec = next((c for c in pod["spec"].get("containers") or [] if c.get("name") == container), {})
    if logs.is_coredns(pod):
        return None
    for port in [p.get("containerPort") for p in spec.get("ports") or []] or [None]:
        app, chosen = apps.app_for(pod, port or 0)
        if chosen.get("name") == container and applogs.prints_requests(app.name, chosen):
            return None
    return (f'container "{container}" ({spec.get("image", "")}) prints nothing the simulator keeps: containers '
            f"log the requests they serve when their image does (nginx, agnhost netexec, echo-basic, Bookinfo "
            f"details), and CoreDNS its startup lines")


def _selected(lines: list, params: dict, now: datetime.datetime) -> list:
    since = _int_param(params, "sinceSeconds")
    if since is not None:
        lines = [line for line in lines if (now - line.at).total_seconds() <= since]
    tail = _int_param(params, "tailLines")
    if tail is not None and tail >= 0:
        lines = lines[len(lines) - tail:] if tail else []
    return lines


def _text(lines: list, timestamps: bool) -> bytes:
    return "".join((line.stamped() if timestamps else line.text) + "\n" for line in lines).encode()


def serve_log(handler, r, namespace: str, name: str) -> None:
    backend, params = handler.server.backend, handler.params
    timestamps = params.get("timestamps") == "true"
    with backend.lock:
        pod = backend.get(r, namespace, name)
        container = _container(pod, params.get("container"))
        uid = pod["metadata"].get("uid", "")
        if not pod["spec"].get("nodeName"):
            lines = []   # no kubelet has it yet: kube-apiserver answers an empty log
        else:
            _check_running(pod, container, params.get("previous") == "true")
            lines = _selected(logs.container_log(backend.cluster, pod, container), params, backend.now())
        position = logs.written(backend.cluster, pod, container)
        warning = _silent_warning(pod, container) if not lines else None
    body = _text(lines, timestamps)
    limit = _int_param(params, "limitBytes")
    if limit is not None and limit > 0:
        body = body[:limit]
    handler.send_response(200)
    handler.send_header("Content-Type", "text/plain")
    handler.send_header("Cache-Control", "no-cache, private")
    if warning:
        handler.send_header("Warning", '299 - "' + warning.replace('"', "'") + '"')
    if params.get("follow") != "true":
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    _chunk(handler, body)
    _follow(handler, backend, r, namespace, name, uid, container, position, timestamps)
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()


def _chunk(handler, data: bytes) -> None:
    if data:
        handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        handler.wfile.flush()


def _follow(handler, backend, r, namespace: str, name: str, uid: str, container: str, position: int,
            timestamps: bool) -> None:
    """`kubectl logs -f`: new lines as the container prints them, until the pod is gone (deleted, or
    replaced by one of the same name) or the server stops."""
    while not handler.server.stopping.is_set():
        time.sleep(FOLLOW_POLL_SECONDS)
        with backend.lock:
            pod = backend.find(r, namespace, name)
            if pod is None or pod["metadata"].get("uid") != uid:
                return
            written = logs.written(backend.cluster, pod, container)
            new = logs.container_log(backend.cluster, pod, container)[-(written - position):] \
                if written > position else []
            position = written
        _chunk(handler, _text(new, timestamps))
