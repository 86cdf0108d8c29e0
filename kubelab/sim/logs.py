"""Container logs: what the simulated containers print, kept per container in a bounded ring buffer (the
kubelet keeps a bounded log file too), stamped with the cluster's clock.

Apps print a line for each request the simulator routes to them (kubelab.net.applogs says which and how);
CoreDNS prints its startup and reload lines (Cluster.coredns_log). `lab.logs()` and the API server's
pods/log read them through `container_log`.
"""
from __future__ import annotations

import collections
import datetime
from dataclasses import dataclass

from ..errors import ValidationError
from ..net import applogs, apps
from ..net.objects import labels_of, name_of, namespace_of

__all__ = ["LogLine", "ContainerLogs", "record_access", "container_log", "container_name", "written", "is_coredns",
           "record_coredns_lines",
           "LINES_KEPT"]

LINES_KEPT = 1000   # per container: older lines are dropped, as a rotated log file's are


@dataclass(frozen=True)
class LogLine:
    at: datetime.datetime
    text: str

    def stamped(self) -> str:
        """The line as `kubectl logs --timestamps` shows it: RFC 3339 with nanoseconds, a space, the text."""
        return f"{self.at.strftime('%Y-%m-%dT%H:%M:%S')}.{self.at.microsecond * 1000:09d}Z {self.text}"


class ContainerLogs:
    """(pod uid, container name) -> the container's last LINES_KEPT lines, and how many it ever wrote."""

    def __init__(self, limit: int = LINES_KEPT):
        self.limit = limit
        self._lines: dict[tuple[str, str], collections.deque] = {}
        self._written: collections.Counter = collections.Counter()

    def write(self, pod_uid: str, container: str, at: datetime.datetime, lines) -> None:
        key = (pod_uid, container)
        buffer = self._lines.get(key)
        if buffer is None:
            buffer = self._lines[key] = collections.deque(maxlen=self.limit)
        for text in lines:
            buffer.append(LogLine(at, text))
            self._written[key] += 1

    def read(self, pod_uid: str, container: str) -> list[LogLine]:
        return list(self._lines.get((pod_uid, container), ()))

    def written(self, pod_uid: str, container: str) -> int:
        """Every line the container wrote, the dropped ones included (a follower's position)."""
        return self._written[(pod_uid, container)]


def _logs_of(cluster) -> ContainerLogs:
    logs = getattr(cluster, "container_logs", None)
    if logs is None:
        logs = cluster.container_logs = ContainerLogs()
    return logs


def record_access(cluster, pod: dict, port: int, request: apps.AppRequest, answer: apps.AppAnswer) -> None:
    """The container that served `request` on `port` logs it, as its image does (nothing for images that
    print nothing per request, or when nothing listened)."""
    if answer.status == 0:
        return
    app, container = apps.app_for(pod, port)
    if not applogs.prints_requests(app.name, container):
        return
    access = applogs.Access(request.method, request.path, answer.status, len(answer.text.encode()),
                            request.client_ip, request.header("User-Agent") or "", request.header("Referer") or "",
                            request.header("X-Forwarded-For") or "")
    at = cluster.present()
    lines = applogs.lines_for(app.name, access, at)
    if lines:
        _logs_of(cluster).write(pod["metadata"].get("uid", ""), container.get("name", ""), at, lines)


def is_coredns(pod: dict) -> bool:
    return namespace_of(pod) == "kube-system" and labels_of(pod).get("k8s-app") == "kube-dns"


def _started(pod: dict) -> datetime.datetime:
    stamp = (pod.get("status") or {}).get("startTime") or pod["metadata"].get("creationTimestamp")
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else \
        datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def container_name(pod: dict, container: str | None, as_kubectl: bool = False) -> str:
    """The container a log request means: the one named, else the pod's only container. With several, the API
    server wants one named; kubectl (`as_kubectl`) takes the kubectl.kubernetes.io/default-container
    annotation's, else the first."""
    names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    ref = f"pod {namespace_of(pod)}/{name_of(pod)}"
    if container is None:
        default = (pod["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
        if as_kubectl and names:
            return default if default in names else names[0]
        if len(names) == 1:
            return names[0]
        raise ValidationError(ref, "container", f"a container name must be specified for pod {name_of(pod)}, "
                              f"choose one of: [{' '.join(names)}]", "pass container='<name>' (kubectl logs -c)")
    init = [c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []]
    if container not in names + init:
        raise ValidationError(ref, "container", f"container {container} is not valid for pod {name_of(pod)}",
                              f"choose one of: {', '.join(names + init)}")
    return container


def _startup(pod: dict, container: str) -> list[str]:
    """What the container's image printed as its process started (its listening ports, for echo-basic)."""
    spec = next((c for c in (pod.get("spec") or {}).get("containers") or [] if c.get("name") == container), None)
    if spec is None or (pod.get("status") or {}).get("phase") != "Running":
        return []
    return applogs.startup_lines(apps.app_of_container(spec).name, spec)


def container_log(cluster, pod: dict, container: str) -> list[LogLine]:
    """Everything `container` of `pod` printed that is still kept, oldest first."""
    if is_coredns(pod):
        return [LogLine(_started(pod), text) for text in cluster.coredns_log]
    started = [LogLine(_started(pod), text) for text in _startup(pod, container)]
    return started + _logs_of(cluster).read(pod["metadata"].get("uid", ""), container)


def written(cluster, pod: dict, container: str) -> int:
    """How many lines the container has written so far (where `kubectl logs -f` goes on from)."""
    if is_coredns(pod):
        return len(cluster.coredns_log)
    return len(_startup(pod, container)) + _logs_of(cluster).written(pod["metadata"].get("uid", ""), container)


def record_coredns_lines(cluster, lines) -> None:
    """CoreDNS prints `lines` (the errors plugin's, one per failed query); the simulated log stops growing at
    LINES_KEPT lines, so a storm of failed lookups cannot fill memory."""
    room = LINES_KEPT - len(cluster.coredns_log)
    if lines and room > 0:
        cluster.coredns_log.extend(lines[:room])
