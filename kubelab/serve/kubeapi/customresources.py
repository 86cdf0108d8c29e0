"""Custom resources as kube-apiserver serves them from their CustomResourceDefinitions: the names, categories,
additionalPrinterColumns and status subresource each CRD declares, the CustomResourceDefinition objects
themselves (`kubectl get crd`), and the Table a CRD's printer columns make.

A kind is a custom resource when the kinds registry says it has no Kubernetes OpenAPI schema
(`Kind.openapi_schema=False`). The facts below are the upstream CRDs' (Gateway API v1.6 standard/experimental
channel, Istio 1.24+ `customresourcedefinitions.gen.yaml`, Linkerd 2.19 `linkerd-crds` chart); a custom kind
registered later with no entry here is served with kube-apiserver's defaults (its registry short names, no
categories, NAME/AGE columns, no status subresource).
"""
from __future__ import annotations

import datetime
import functools
import json
import re
import uuid
from dataclasses import dataclass

from ...api import kinds
from ...api.crd import has_status_subresource

__all__ = ["PrinterColumn", "CustomResource", "custom_resource", "is_custom", "crd_objects", "table_columns",
           "row_cells", "schema_for", "CRD_KIND"]

CRD_KIND = "CustomResourceDefinition"
# when the simulated cluster's CRDs were installed: its epoch, before any object
INSTALLED = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass(frozen=True)
class PrinterColumn:
    """One additionalPrinterColumns entry: a JSONPath into the object and how the cell is typed."""

    name: str
    json_path: str
    type: str = "string"
    priority: int = 0
    description: str = ""

    def definition(self) -> dict:
        return {"name": self.name, "type": self.type, "format": "date" if self.type == "date" else "",
                "description": self.description, "priority": self.priority}

    def crd_entry(self) -> dict:
        out = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.priority:
            out["priority"] = self.priority
        if self.description:
            out["description"] = self.description
        return out


AGE = PrinterColumn("Age", ".metadata.creationTimestamp", "date")


@dataclass(frozen=True)
class CustomResource:
    """What a CRD says of its kind beyond the kinds registry (names.shortNames, names.categories, the printer
    columns of every version unless `version_columns` gives a version its own, subresources.status)."""

    kind: str                      # the registered kind (group-qualified where two groups share a name)
    short_names: tuple = ()
    categories: tuple = ()
    columns: tuple = ()            # empty: kube-apiserver's default, an Age column
    version_columns: tuple = ()    # ((version, columns), ...)

    @property
    def status(self) -> bool:
        """subresources.status: recorded with the CRD facts the simulator's generation rule also reads."""
        return has_status_subresource(self.kind)

    def columns_for(self, version: str) -> tuple:
        return dict(self.version_columns).get(version, self.columns) or (AGE,)


def _condition(kind: str) -> str:
    return f'.status.conditions[?(@.type=="{kind}")].status'


_GATEWAY_API = ("gateway-api",)
_ISTIO_NET, _ISTIO_SEC = ("istio-io", "networking-istio-io"), ("istio-io", "security-istio-io")
_SERVER = (PrinterColumn("Port", ".spec.port", description="The port the server is listening on"),
           PrinterColumn("Protocol", ".spec.proxyProtocol", description="The protocol of the server"))

_KNOWN = {c.kind: c for c in (
    # Gateway API (config/crd/experimental/gateway.networking.k8s.io_*.yaml)
    CustomResource("GatewayClass", ("gc",), _GATEWAY_API, (
        PrinterColumn("Controller", ".spec.controllerName"), PrinterColumn("Accepted", _condition("Accepted")),
        AGE, PrinterColumn("Description", ".spec.description", priority=1))),
    CustomResource("Gateway", ("gtw",), _GATEWAY_API, (
        PrinterColumn("Class", ".spec.gatewayClassName"), PrinterColumn("Address", ".status.addresses[*].value"),
        PrinterColumn("Programmed", _condition("Programmed")), AGE)),
    CustomResource("HTTPRoute", (), _GATEWAY_API, (PrinterColumn("Hostnames", ".spec.hostnames"), AGE)),
    CustomResource("ReferenceGrant", ("refgrant",), _GATEWAY_API, (AGE,)),
    # Istio (istio/api kubernetes/customresourcedefinitions.gen.yaml)
    CustomResource("VirtualService", ("vs",), _ISTIO_NET, (
        PrinterColumn("Gateways", ".spec.gateways", description="The names of gateways and sidecars that should "
                      "apply these routes"),
        PrinterColumn("Hosts", ".spec.hosts", description="The destination hosts to which traffic is being sent"),
        AGE)),
    CustomResource("DestinationRule", ("dr",), _ISTIO_NET, (
        PrinterColumn("Host", ".spec.host", description="The name of a service from the service registry"), AGE)),
    CustomResource("Gateway.networking.istio.io", ("gw",), _ISTIO_NET),
    CustomResource("ServiceEntry", ("se",), _ISTIO_NET, (
        PrinterColumn("Hosts", ".spec.hosts", description="The hosts associated with the ServiceEntry"),
        PrinterColumn("Location", ".spec.location", description="Whether the service is external to the mesh "
                      "or part of the mesh (MESH_EXTERNAL or MESH_INTERNAL)"),
        PrinterColumn("Resolution", ".spec.resolution", description="Service resolution mode for the hosts "
                      "(NONE, STATIC, or DNS)"), AGE)),
    CustomResource("PeerAuthentication", ("pa",), _ISTIO_SEC, (
        PrinterColumn("Mode", ".spec.mtls.mode", description="Defines the mTLS mode used for peer "
                      "authentication."), AGE)),
    CustomResource("AuthorizationPolicy", ("ap",), _ISTIO_SEC, (
        PrinterColumn("Action", ".spec.action", description="The operation to take."), AGE)),
    CustomResource("RequestAuthentication", ("ra",), _ISTIO_SEC),
    # Linkerd (charts/linkerd-crds): no categories; HTTPRoute alone has a status subresource (kubelab.api.crd)
    CustomResource("Server", ("srv",), (), _SERVER + (PrinterColumn(
        "Access Policy", ".spec.accessPolicy", description="The default access policy applied when the traffic "
        "doesn't match any of the policy rules"),), version_columns=(("v1beta1", _SERVER),)),
    CustomResource("MeshTLSAuthentication", ("meshtlsauthn",)),
    CustomResource("NetworkAuthentication", ("netauthn", "networkauthn")),
    CustomResource("AuthorizationPolicy.policy.linkerd.io", ("authzpolicy",)),
    CustomResource("HTTPRoute.policy.linkerd.io"),
    CustomResource("ServiceProfile", ("sp",)),
)}


def is_custom(kind: str) -> bool:
    """Is this registered kind served from a CRD (no Kubernetes OpenAPI schema)?"""
    try:
        return not kinds.lookup(kind).openapi_schema
    except Exception:   # an unregistered name (Event, Lease, the CRD kind itself) is built in
        return False


def custom_resource(kind: str) -> CustomResource:
    """The CRD facts of a registered custom kind (kube-apiserver's defaults when none are recorded)."""
    known = _KNOWN.get(kind)
    if known is not None:
        return known
    return CustomResource(kind, tuple(kinds.lookup(kind).short_names))


# ---------------------------------------------------------------- CustomResourceDefinition objects
# where a kind without a vendored schema is documented (`kubectl explain` shows it)
_REFERENCE = {"networking.istio.io": "https://istio.io/latest/docs/reference/config/networking/",
              "security.istio.io": "https://istio.io/latest/docs/reference/config/security/",
              "policy.linkerd.io": "https://linkerd.io/2.19/reference/authorization-policy/",
              "linkerd.io": "https://linkerd.io/2.19/reference/service-profiles/"}


def schema_for(kind: kinds.Kind) -> dict:
    """The CRD's structural schema where kubelab vendors it (Gateway API), else an object that keeps any
    field (the mesh's validating webhooks check those kinds), described with where the fields are documented."""
    from ...api import crd

    group = kind.api_version.split("/")[0]
    try:
        vendored = crd.load_crd(kind.plural)
        if vendored.get("group") == group:
            return vendored["schema"]
    except (FileNotFoundError, OSError, ValueError, KeyError):
        pass
    where = _REFERENCE.get(group)
    return {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
            "description": f"{kind.kind.split('.')[0]} ({group}): the simulated cluster serves this custom resource "
                           "without its field schema; its webhook validates it" +
                           (f". Fields: {where}" if where else "")}


def _crd_object(kind: kinds.Kind) -> dict:
    info = custom_resource(kind.kind)
    api_kind, plural = kind.kind.split(".")[0], kind.plural.split(".")[0]
    group = kind.api_version.split("/")[0]
    name = f"{plural}.{group}"
    names = {"plural": plural, "singular": api_kind.lower(), "kind": api_kind, "listKind": f"{api_kind}List"}
    if info.short_names:
        names["shortNames"] = list(info.short_names)
    if info.categories:
        names["categories"] = list(info.categories)
    versions = []
    for index, api_version in enumerate(kind.api_versions):
        version = api_version.split("/")[1]
        entry = {"name": version, "served": True, "storage": index == 0,
                 "schema": {"openAPIV3Schema": schema_for(kind)},
                 "additionalPrinterColumns": [c.crd_entry() for c in info.columns_for(version)]}
        if info.status:
            entry["subresources"] = {"status": {}}
        versions.append(entry)
    created = INSTALLED.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": CRD_KIND,
            "metadata": {"name": name, "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)), "resourceVersion": "1",
                         "generation": 1, "creationTimestamp": created},
            "spec": {"group": group, "names": names, "scope": "Namespaced" if kind.namespaced else "Cluster",
                     "versions": versions, "conversion": {"strategy": "None"}},
            "status": {"acceptedNames": names, "storedVersions": [kind.api_version.split("/")[1]],
                       "conditions": [
                           {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                            "message": "no conflicts found", "lastTransitionTime": created},
                           {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                            "message": "the initial names have been accepted", "lastTransitionTime": created}]}}


def crd_objects() -> list[dict]:
    """The CustomResourceDefinitions installed in the simulated cluster, one per custom kind, sorted by name."""
    return sorted((_crd_object(k) for k in kinds.all_kinds() if not k.openapi_schema),
                  key=lambda o: o["metadata"]["name"])


# ---------------------------------------------------------------- Tables
_STEP = re.compile(r'\.([A-Za-z0-9_-]+)|\[\*\]|\[\?\(@\.([A-Za-z0-9_]+)=="([^"]*)"\)\]|\[(\d+)\]')


@functools.lru_cache(maxsize=256)
def _steps(path: str) -> tuple:
    steps, at = [], 0
    while at < len(path):
        m = _STEP.match(path, at)
        if m is None:
            raise ValueError(f"unsupported JSONPath {path!r} at {path[at:]!r}")
        steps.append(m.groups())
        at = m.end()
    return tuple(steps)


def json_path(obj, path: str) -> list:
    """The values a simple JSONPath finds (fields, [*], [N], [?(@.field=="value")]), as kubectl's jsonpath."""
    found = [obj]
    for field, key, value, index in _steps(path):
        nxt = []
        for node in found:
            if field is not None:
                if isinstance(node, dict) and field in node:
                    nxt.append(node[field])
            elif index is not None:
                if isinstance(node, list) and int(index) < len(node):
                    nxt.append(node[int(index)])
            elif isinstance(node, list):
                nxt += [item for item in node if key is None or
                        (isinstance(item, dict) and str(item.get(key)) == value)]
        found = nxt
    return found


def table_columns(kind: str, version: str) -> tuple:
    return custom_resource(kind).columns_for(version)


def row_cells(columns: tuple, obj: dict, age) -> list:
    """The cells as the CRD table convertor makes them: the first value the column's JSONPath finds (null when
    none); strings as jsonpath prints them (lists and maps as compact JSON), dates as an age."""
    cells = []
    for column in columns:
        found = json_path(obj, column.json_path)
        value = found[0] if found else None
        if value is None:
            cells.append(None)
        elif column.type == "date":
            cells.append(age(value))
        elif column.type == "string":
            cells.append(value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
        else:
            cells.append(value)
    return cells
