"""Server-side printing, as kube-apiserver does it (pkg/printers/internalversion/printers.go): one
column list and one row function per kind; kubectl only lays out the Table it gets. A kind with no
entry here gets kube-apiserver's default Name/Age table, so every served kind prints.
Columns with priority 1 appear only with ``kubectl get -o wide``."""
from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import Callable

from ...net.objects import labels_of, pod_ips, pod_ready
from . import customresources

__all__ = ["Column", "PRINTERS", "table", "human_duration"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    priority: int = 0
    format: str = ""
    description: str = ""

    def definition(self) -> dict:
        return {"name": self.name, "type": self.type, "format": self.format,
                "description": self.description, "priority": self.priority}


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration, the AGE column's format."""
    s = int(seconds)
    if seconds < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years = hours // (24 * 365)
    if years < 8:
        days = (hours // 24) % 365
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{years}y"


def _age(obj: dict, now: datetime.datetime) -> str:
    return _since((obj.get("metadata") or {}).get("creationTimestamp"), now)


def _since(ts: str | None, now: datetime.datetime) -> str:
    if not ts:
        return "<unknown>"
    return human_duration((now - _parse_time(ts)).total_seconds())


@functools.lru_cache(maxsize=4096)
def _parse_time(ts: str) -> datetime.datetime:
    """RFC 3339 as the API writes it ("2026-01-01T00:00:05Z"); cached: a list repeats few timestamps."""
    return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _none(values) -> str:
    values = [v for v in values if v not in (None, "")]
    return ",".join(str(v) for v in values) if values else "<none>"


def _selector_text(match_labels: dict | None, expressions=None) -> str:
    """metav1.FormatLabelSelector: k=v and set expressions joined by commas; <none> when empty."""
    parts = [f"{k}={v}" for k, v in sorted((match_labels or {}).items())]
    for e in expressions or []:
        op, values = e.get("operator"), ",".join(sorted(e.get("values") or []))
        parts.append({"In": f"{e['key']} in ({values})", "NotIn": f"{e['key']} notin ({values})",
                      "Exists": e["key"], "DoesNotExist": f"!{e['key']}"}.get(op, f"{e['key']} {op}"))
    return ",".join(parts) if parts else "<none>"


# ---------------------------------------------------------------- per kind
def _sidecars(spec: dict) -> list[str]:
    """Native sidecars: init containers with restartPolicy Always (Istio's istio-proxy since 1.27)."""
    return [c.get("name") for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]


def _ready_sidecars(pod: dict) -> int:
    """printPod counts a started, ready sidecar from initContainerStatuses; a pod without them (the
    simulator keeps pod-level state) has every sidecar ready exactly when the pod is Ready, since the
    kubelet's Ready condition waits for the sidecars too."""
    status = pod.get("status") or {}
    reported = {s.get("name"): s for s in status.get("initContainerStatuses") or []}
    ready = 0
    for name in _sidecars(pod.get("spec") or {}):
        report = reported.get(name)
        ready += bool(report.get("started") and report.get("ready")) if report is not None else pod_ready(pod)
    return ready


def _pod_row(pod: dict) -> list:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    containers = spec.get("containers") or []
    statuses = status.get("containerStatuses")
    if statuses is not None:
        ready = sum(1 for c in statuses if c.get("ready"))
        restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    else:   # the simulator keeps pod-level conditions: all containers share the pod's readiness
        pod_ready = any(c.get("type") == "ContainersReady" and c.get("status") == "True"
                        for c in status.get("conditions") or [])
        ready, restarts = (len(containers) if pod_ready else 0), 0
    ready, total = ready + _ready_sidecars(pod), len(containers) + len(_sidecars(spec))
    reason = status.get("reason") or status.get("phase") or "Pending"
    for c in reversed(statuses or []):   # printPod: a container's waiting/terminated reason is more telling
        state = c.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
    if (pod.get("metadata") or {}).get("deletionTimestamp") and status.get("phase") not in ("Succeeded", "Failed"):
        reason = "Terminating"   # printPod: a deleted pod that has not finished shows Terminating
    ips = pod_ips(pod)
    gates = spec.get("readinessGates") or []
    return [f"{ready}/{total}", reason, restarts, _none(ips[:1]) if ips else "<none>",
            spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>",
            _none(g.get("conditionType") for g in gates)]


def _service_external_ip(svc: dict) -> str:
    spec = svc.get("spec") or {}
    kind = spec.get("type") or "ClusterIP"
    external = list(spec.get("externalIPs") or [])
    if kind == "ExternalName":
        return spec.get("externalName") or "<none>"
    if kind == "LoadBalancer":
        ingress = [i.get("ip") or i.get("hostname") for i in
                   ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []]
        external += [i for i in ingress if i]
        return ",".join(external) if external else "<pending>"
    return ",".join(external) if external else "<none>"


def _service_row(svc: dict) -> list:
    spec = svc.get("spec") or {}
    ports = []
    for p in spec.get("ports") or []:
        port = f"{p['port']}:{p['nodePort']}" if p.get("nodePort") else str(p.get("port"))
        ports.append(f"{port}/{p.get('protocol') or 'TCP'}")
    cluster_ip = spec.get("clusterIP") or ("<none>" if spec.get("type") == "ExternalName" else "")
    return [spec.get("type") or "ClusterIP", cluster_ip or "<none>", _service_external_ip(svc),
            ",".join(ports) or "<none>", _selector_text(spec.get("selector"))]


def _endpointslice_row(s: dict) -> list:
    ports = [str(p["port"]) for p in s.get("ports") or [] if p.get("port") is not None]
    addresses = [a for e in s.get("endpoints") or [] for a in e.get("addresses") or []]
    shown = ",".join(addresses[:3]) if addresses else "<unset>"
    if len(addresses) > 3:
        shown += f" + {len(addresses) - 3} more..."
    return [s.get("addressType", ""), ",".join(ports) if ports else "<unset>", shown]


def _endpoints_row(ep: dict) -> list:
    """formatEndpoints: the ready addresses as IP:port for every port of their subset (a bare IP in a
    subset without ports), the first three shown and "+ N more..." for the rest; <none> without subsets."""
    subsets = ep.get("subsets") or []
    if not subsets:
        return ["<none>"]
    shown = []
    for subset in subsets:
        addresses = [a.get("ip", "") for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        shown += addresses if not ports else [f"[{ip}]:{p.get('port')}" if ":" in ip else f"{ip}:{p.get('port')}"
                                              for p in ports for ip in addresses]
    text = ",".join(shown[:3])
    return [f"{text} + {len(shown) - 3} more..." if len(shown) > 3 else text]


def _containers(template_spec: dict) -> tuple[str, str]:
    containers = template_spec.get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _deployment_row(d: dict) -> list:
    spec, status = d.get("spec") or {}, d.get("status") or {}
    names, images = _containers(((spec.get("template") or {}).get("spec")) or {})
    selector = spec.get("selector") or {}
    return [f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", status.get("updatedReplicas", 0),
            status.get("availableReplicas", 0), names, images,
            _selector_text(selector.get("matchLabels"), selector.get("matchExpressions"))]


def _daemonset_row(ds: dict) -> list:
    """printDaemonSet: desired, current, ready, up-to-date, available, the template's node selector, then
    (wide) containers, images and the selector."""
    spec, status = ds.get("spec") or {}, ds.get("status") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    names, images = _containers(template)
    selector = spec.get("selector") or {}
    return [status.get("desiredNumberScheduled", 0), status.get("currentNumberScheduled", 0),
            status.get("numberReady", 0), status.get("updatedNumberScheduled", 0), status.get("numberAvailable", 0),
            _selector_text(template.get("nodeSelector")), names, images,
            _selector_text(selector.get("matchLabels"), selector.get("matchExpressions"))]


def _statefulset_row(s: dict) -> list:
    spec, status = s.get("spec") or {}, s.get("status") or {}
    names, images = _containers(((spec.get("template") or {}).get("spec")) or {})
    return [f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", names, images]


def _node_row(n: dict) -> list:
    status = n.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    state = "Ready" if ready and ready.get("status") == "True" else "NotReady"
    if (n.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in labels_of(n) if k.startswith("node-role.kubernetes.io/"))
    info = status.get("nodeInfo") or {}
    addresses = status.get("addresses") or []
    internal = [a["address"] for a in addresses if a.get("type") == "InternalIP"]
    external = [a["address"] for a in addresses if a.get("type") == "ExternalIP"]
    return [state, ",".join(roles) or "<none>", info.get("kubeletVersion") or "v1.35.0",
            internal[0] if internal else "<none>", external[0] if external else "<none>",
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def _event_object(e: dict) -> str:
    inv = e.get("involvedObject") or {}
    return f"{(inv.get('kind') or '').lower()}/{inv.get('name', '')}"


def _ingress_row(ing: dict) -> list:
    """printIngress: class, the hosts of the rules (* for a rule without one), load-balancer addresses,
    80 or 80, 443 when it terminates TLS."""
    spec = ing.get("spec") or {}
    hosts = [r.get("host") or "*" for r in spec.get("rules") or []]
    addresses = [i.get("ip") or i.get("hostname") for i in
                 ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []]
    return [spec.get("ingressClassName") or "<none>", ",".join(hosts) or "*", ",".join(a for a in addresses if a),
            "80, 443" if spec.get("tls") else "80"]


def _ingressclass_row(ic: dict) -> list:
    params = (ic.get("spec") or {}).get("parameters")
    shown = "<none>" if not params else f"{params.get('kind')}/{params.get('name')}"
    return [(ic.get("spec") or {}).get("controller", ""), shown]


def _secret_row(secret: dict) -> list:
    return [secret.get("type") or "Opaque", len(secret.get("data") or {}) + len(secret.get("stringData") or {})]


def _condition(obj: dict, kind: str) -> str:
    return next((c.get("status", "") for c in (obj.get("status") or {}).get("conditions") or []
                 if c.get("type") == kind), "")


@dataclass(frozen=True)
class Printer:
    """Columns between NAME and AGE (`middle`), after AGE (`tail`), and the row function giving
    their cells in that order; kubectl shows priority-1 columns only with -o wide."""

    middle: tuple = ()
    tail: tuple = ()
    row: Callable[[dict], list] = lambda obj: []
    age_column: bool = True
    name_column: bool = True
    wants_now: bool = False   # the row function takes (obj, now): time columns other than AGE


PRINTERS: dict[str, Printer] = {
    "Pod": Printer((Column("Ready"), Column("Status"), Column("Restarts", "string")),
                   (Column("IP", priority=1), Column("Node", priority=1), Column("Nominated Node", priority=1),
                    Column("Readiness Gates", priority=1)), _pod_row),
    "Service": Printer((Column("Type"), Column("Cluster-IP"), Column("External-IP"), Column("Port(s)")),
                       (Column("Selector", priority=1),), _service_row),
    "EndpointSlice": Printer((Column("AddressType"), Column("Ports"), Column("Endpoints")), (), _endpointslice_row),
    "Endpoints": Printer((Column("Endpoints"),), (), _endpoints_row),
    "NetworkPolicy": Printer((Column("Pod-Selector"),), (), lambda p: [_selector_text(
        ((p.get("spec") or {}).get("podSelector") or {}).get("matchLabels"),
        ((p.get("spec") or {}).get("podSelector") or {}).get("matchExpressions"))]),
    "Deployment": Printer((Column("Ready"), Column("Up-to-date", "integer"), Column("Available", "integer")),
                          (Column("Containers", priority=1), Column("Images", priority=1),
                           Column("Selector", priority=1)), _deployment_row),
    "DaemonSet": Printer((Column("Desired", "integer"), Column("Current", "integer"), Column("Ready", "integer"),
                          Column("Up-to-date", "integer"), Column("Available", "integer"), Column("Node Selector")),
                         (Column("Containers", priority=1), Column("Images", priority=1),
                          Column("Selector", priority=1)), _daemonset_row),
    "StatefulSet": Printer((Column("Ready"),), (Column("Containers", priority=1), Column("Images", priority=1)),
                           _statefulset_row),
    "Namespace": Printer((Column("Status"),), (), lambda ns: [(ns.get("status") or {}).get("phase") or "Active"]),
    "Node": Printer((Column("Status"), Column("Roles")),
                    (Column("Version"), Column("Internal-IP", priority=1), Column("External-IP", priority=1),
                     Column("OS-Image", priority=1), Column("Kernel-Version", priority=1),
                     Column("Container-Runtime", priority=1)), _node_row),
    "Ingress": Printer((Column("Class"), Column("Hosts"), Column("Address"), Column("Ports")), (), _ingress_row),
    "IngressClass": Printer((Column("Controller"), Column("Parameters")), (), _ingressclass_row),
    "Secret": Printer((Column("Type"), Column("Data", "integer")), (), _secret_row),
    # apiextensions' own printer for CRDs: the creation time itself, not an age
    customresources.CRD_KIND: Printer((Column("Created At", "date"),), (),
                                      lambda crd: [(crd.get("metadata") or {}).get("creationTimestamp", "")],
                                      age_column=False),
    "ConfigMap": Printer((Column("Data", "integer"),), (), lambda cm: [len(cm.get("data") or {}) +
                                                                       len(cm.get("binaryData") or {})]),
    "Event": Printer((Column("Last Seen"), Column("Type"), Column("Reason"), Column("Object"),
                      Column("Message")), (),
                     lambda e, now: [_since(e.get("lastTimestamp"), now), e.get("type", ""), e.get("reason", ""),
                                     _event_object(e), e.get("message", "")], age_column=False, name_column=False,
                     wants_now=True),
}


def _metadata_only(obj: dict) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def _custom_printer(kind: str, version: str) -> Printer:
    """A custom resource's Table: NAME, then its CRD's additionalPrinterColumns in their order (an Age column
    among them is the creation timestamp's age), as the apiextensions table convertor builds it."""
    columns = customresources.table_columns(kind, version)
    middle = tuple(Column(c.name, c.type, c.priority, "", c.description) for c in columns)
    return Printer(middle, (), lambda obj, now: customresources.row_cells(columns, obj, lambda ts: _since(ts, now)),
                   age_column=False, wants_now=True)


def table(kind: str, objects: list[dict], now: datetime.datetime, resource_version: str,
          include_object: str = "Metadata", version: str = "") -> dict:
    """A meta.k8s.io/v1 Table of `objects`; each row carries the object's metadata (kubectl reads the
    namespace for -A and labels for --show-labels from it), or the whole object with
    ?includeObject=Object (kubectl --sort-by sorts on it), or nothing with None."""
    printer = PRINTERS.get(kind) or (_custom_printer(kind, version) if customresources.is_custom(kind) else Printer())
    name = [Column("Name", format="name", description="Name must be unique within a namespace.")] \
        if printer.name_column else []
    age = [Column("Age", description="CreationTimestamp")] if printer.age_column else []
    columns = name + list(printer.middle) + age + list(printer.tail)
    rows = []
    for obj in objects:
        cells = printer.row(obj, now) if printer.wants_now else printer.row(obj)
        head = [(obj.get("metadata") or {}).get("name", "")] if printer.name_column else []
        middle, tail = cells[:len(printer.middle)], cells[len(printer.middle):]
        row = {"cells": head + middle + ([_age(obj, now)] if printer.age_column else []) + tail}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = _metadata_only(obj)
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": [c.definition() for c in columns], "rows": rows}
