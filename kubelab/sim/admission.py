"""API-server admission for the kinds the simulator owns outright: defaulting and the semantic
validation rules (pkg/apis/core/validation, pkg/apis/apps/validation) that matter for networking.

Services (allocation-heavy) live in kubelab.net.services; NetworkPolicy in kubelab.net.netpol.
"""
from __future__ import annotations

import ipaddress
import re

from ..errors import ValidationError
from ..net.dns.podfiles import validate_pod_dns
from ..net.labels import parse_label_selector, validate_labels
from ..net.names import port_name_errors
from ..net.services import protocol_fix

__all__ = ["admit_namespace", "admit_pod", "admit_deployment", "admit_statefulset", "admit_configmap",
           "admit_endpointslice", "admit_node", "is_iana_svc_name", "host_ports", "POD_SPEC_MUTABLE"]

_PROTOCOLS = ("TCP", "UDP", "SCTP")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# Pod updates may change only these spec fields (ValidatePodUpdate); everything else is immutable.
POD_SPEC_MUTABLE = ("containers[*].image", "initContainers[*].image", "activeDeadlineSeconds",
                    "tolerations", "terminationGracePeriodSeconds")


def is_iana_svc_name(name) -> bool:
    """IsValidPortName (IANA_SVC_NAME), as container and Service port names must be."""
    return isinstance(name, str) and bool(name) and not port_name_errors(name)


def admit_namespace(obj: dict, ref: str) -> dict:
    """Namespaces carry the immutable label kubernetes.io/metadata.name = their name (since 1.21)."""
    meta = obj["metadata"]
    validate_labels(meta.get("labels"), "metadata.labels", ref)
    meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj["status"] = {"phase": "Active"}
    return obj


def admit_node(obj: dict, ref: str) -> dict:
    """Node addresses must be IPs for InternalIP/ExternalIP; podCIDRs must be CIDRs."""
    meta = obj["metadata"]
    validate_labels(meta.get("labels"), "metadata.labels", ref)
    status = obj.setdefault("status", {})
    for i, addr in enumerate(status.get("addresses") or []):
        if addr.get("type") in ("InternalIP", "ExternalIP"):
            try:
                ipaddress.ip_address(addr.get("address", ""))
            except ValueError:
                raise ValidationError(ref, f"status.addresses[{i}].address",
                                      f"{addr.get('address')!r} is not a valid IP address") from None
    spec = obj.setdefault("spec", {})
    cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
    for i, cidr in enumerate(cidrs):
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError as exc:
            raise ValidationError(ref, f"spec.podCIDRs[{i}]", f"{cidr!r} is not a valid CIDR: {exc}") from None
    return obj


def _validate_container_ports(spec: dict, ref: str) -> None:
    """containerPort in 1-65535, protocol TCP/UDP/SCTP, names IANA_SVC_NAME and unique within the container
    (validateContainerPorts checks one container's ports at a time)."""
    for ci, container in enumerate(spec.get("containers") or []):
        seen_names = {}
        for pi, port in enumerate(container.get("ports") or []):
            path = f"spec.containers[{ci}].ports[{pi}]"
            number = port.get("containerPort")
            if not isinstance(number, int) or not 1 <= number <= 65535:
                raise ValidationError(ref, f"{path}.containerPort",
                                      f"Invalid value: {number!r}: must be between 1 and 65535, inclusive")
            protocol = port.setdefault("protocol", "TCP")
            if protocol not in _PROTOCOLS:
                raise ValidationError(ref, f"{path}.protocol", f"Unsupported value: {protocol!r}",
                                      'supported values: "SCTP", "TCP", "UDP"; ' + protocol_fix(protocol))
            name = port.get("name")
            if name is not None:
                if not is_iana_svc_name(name):
                    raise ValidationError(ref, f"{path}.name", f"Invalid value: {name!r}",
                                          "a port name is at most 15 lower-case letters, digits or '-', "
                                          "with at least one letter")
                if name in seen_names:
                    raise ValidationError(ref, f"{path}.name", f"Duplicate value: {name!r}",
                                          f"already used by {seen_names[name]}")
                seen_names[name] = path


def _validate_containers(spec: dict, ref: str, prefix: str = "spec") -> None:
    containers = spec.get("containers")
    if not containers:
        raise ValidationError(ref, f"{prefix}.containers", "Required value",
                              "a pod needs at least one container, e.g. {name: app, image: nginx}")
    names = set()
    for ci, container in enumerate(containers):
        name = container.get("name")
        if not isinstance(name, str) or not _DNS_LABEL.match(name) or len(name) > 63:
            raise ValidationError(ref, f"{prefix}.containers[{ci}].name", f"Invalid value: {name!r}",
                                  "a container name is a DNS-1123 label: lower case letters, digits and '-'")
        if name in names:
            raise ValidationError(ref, f"{prefix}.containers[{ci}].name", f"Duplicate value: {name!r}")
        names.add(name)
    _validate_container_ports(spec if prefix == "spec" else {"containers": containers}, ref)


def admit_pod(obj: dict, ref: str, from_template: bool = False) -> dict:
    """Pod defaulting (dnsPolicy ClusterFirst, restartPolicy Always, port protocol TCP) and validation.
    `from_template`: a pod a workload controller stamped out of a template that _admit_pod_template_owner
    validated (its labels, plus the controller's own, and its containers): those are not checked again."""
    meta = obj["metadata"]
    spec = obj.setdefault("spec", {})
    if not from_template:
        validate_labels(meta.get("labels"), "metadata.labels", ref)
        _validate_containers(spec, ref)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("terminationGracePeriodSeconds", 30)
    if spec.get("hostname") is not None and not _DNS_LABEL.match(str(spec["hostname"])):
        raise ValidationError(ref, "spec.hostname", f"Invalid value: {spec['hostname']!r}",
                              "a hostname is a DNS-1123 label")
    if spec.get("subdomain") is not None and not _DNS_LABEL.match(str(spec["subdomain"])):
        raise ValidationError(ref, "spec.subdomain", f"Invalid value: {spec['subdomain']!r}",
                              "a subdomain is a DNS-1123 label (the name of a headless Service)")
    _host_network_ports(spec, ref)
    validate_pod_dns(obj, ref)
    status = obj.get("status") or {}
    for i, entry in enumerate(status.get("podIPs") or []):
        _check_ip(entry.get("ip"), f"status.podIPs[{i}].ip", ref)
    if status.get("podIP"):
        _check_ip(status["podIP"], "status.podIP", ref)
    return obj


def _host_network_ports(spec: dict, ref: str) -> None:
    """hostNetwork pods: hostPort defaults to containerPort (SetDefaults_Pod) and must equal it (validateHostNetwork)."""
    if not spec.get("hostNetwork"):
        return
    for ci, container in enumerate(spec.get("containers") or []):
        for pi, port in enumerate(container.get("ports") or []):
            host_port = port.setdefault("hostPort", port.get("containerPort"))
            if host_port != port.get("containerPort"):
                raise ValidationError(ref, f"spec.containers[{ci}].ports[{pi}].hostPort",
                                      f"Invalid value: {host_port}: must match `containerPort` when `hostNetwork` is true",
                                      "drop hostPort: a hostNetwork pod listens on the node's own ports")


def host_ports(pod: dict) -> set:
    """(protocol, hostPort) pairs a pod claims on its node (the scheduler's NodePorts filter)."""
    return {(p.get("protocol", "TCP"), p["hostPort"]) for c in (pod.get("spec") or {}).get("containers") or []
            for p in c.get("ports") or [] if p.get("hostPort")}


def _check_ip(value, field: str, ref: str) -> None:
    try:
        ipaddress.ip_address(value)
    except (ValueError, TypeError):
        raise ValidationError(ref, field, f"{value!r} is not a valid IP address") from None


def _admit_pod_template_owner(obj: dict, ref: str, default_replicas: int | None = 1) -> dict:
    """Shared by Deployment, StatefulSet and DaemonSet: selector required and must match the template's labels."""
    validate_labels(obj["metadata"].get("labels"), "metadata.labels", ref)
    spec = obj.setdefault("spec", {})
    if default_replicas is not None:   # a DaemonSet has no replicas: one pod per eligible node
        replicas = spec.setdefault("replicas", default_replicas)
        if not isinstance(replicas, int) or replicas < 0:
            raise ValidationError(ref, "spec.replicas",
                                  f"Invalid value: {replicas!r}: must be greater than or equal to 0")
    if spec.get("selector") is None:
        raise ValidationError(ref, "spec.selector", "Required value",
                              "add spec.selector.matchLabels equal to the template's labels")
    selector = parse_label_selector(spec["selector"], "spec.selector", ref)
    if selector.is_empty:
        raise ValidationError(ref, "spec.selector", "Invalid value: empty selector is invalid for deployment")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    validate_labels(labels, "spec.template.metadata.labels", ref)
    if not selector.matches(labels):
        raise ValidationError(ref, "spec.template.metadata.labels",
                              f"Invalid value: {labels!r}: `selector` does not match template `labels`",
                              f"the template's labels must include every selector label ({selector})")
    _validate_containers(template.get("spec") or {}, ref, "spec.template.spec")
    return obj


def admit_deployment(obj: dict, ref: str) -> dict:
    """SetDefaults_Deployment (pkg/apis/apps/v1/defaults.go): a RollingUpdate strategy of 25% / 25%,
    revisionHistoryLimit 10, progressDeadlineSeconds 600."""
    _admit_pod_template_owner(obj, ref)
    spec = obj["spec"]
    _default_rolling_update(spec, "strategy", {"maxUnavailable": "25%", "maxSurge": "25%"})
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    return obj


def _default_rolling_update(spec: dict, field: str, rolling: dict) -> None:
    """An update strategy's type defaults to RollingUpdate, whose unset knobs take the kind's defaults."""
    strategy = spec.get(field)
    if not isinstance(strategy, dict):
        strategy = spec[field] = {}
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        knobs = strategy.get("rollingUpdate")
        if not isinstance(knobs, dict):
            knobs = strategy["rollingUpdate"] = {}
        for knob, value in rolling.items():
            knobs.setdefault(knob, value)


def admit_statefulset(obj: dict, ref: str) -> dict:
    """StatefulSets also name their governing (headless) Service in spec.serviceName. SetDefaults_StatefulSet:
    podManagementPolicy OrderedReady, a RollingUpdate strategy of partition 0 and maxUnavailable 1 (the
    MaxUnavailableStatefulSet gate is beta, so on, since v1.35), revisionHistoryLimit 10, PVCs retained when the
    set is deleted or scaled."""
    _admit_pod_template_owner(obj, ref)
    spec = obj["spec"]
    spec.setdefault("podManagementPolicy", "OrderedReady")
    if not (spec.get("updateStrategy") or {}).get("type"):
        spec["updateStrategy"] = {**(spec.get("updateStrategy") or {}), "type": "RollingUpdate"}
        spec["updateStrategy"].setdefault("rollingUpdate", {})
    strategy = spec["updateStrategy"]
    if strategy["type"] == "RollingUpdate" and isinstance(strategy.get("rollingUpdate"), dict):
        strategy["rollingUpdate"].setdefault("partition", 0)
        strategy["rollingUpdate"].setdefault("maxUnavailable", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    if not obj["spec"].get("serviceName"):
        # optional since 1.31; pods then get no stable DNS name
        obj["spec"]["serviceName"] = ""
    return obj


def admit_daemonset(obj: dict, ref: str) -> dict:
    """DaemonSet: a selector matching the template; the template's restartPolicy must be Always.
    SetDefaults_DaemonSet: a RollingUpdate strategy of maxUnavailable 1, maxSurge 0; revisionHistoryLimit 10."""
    _admit_pod_template_owner(obj, ref, default_replicas=None)
    _default_rolling_update(obj["spec"], "updateStrategy", {"maxUnavailable": 1, "maxSurge": 0})
    obj["spec"].setdefault("revisionHistoryLimit", 10)
    policy = ((obj["spec"].get("template") or {}).get("spec") or {}).get("restartPolicy", "Always")
    if policy != "Always":
        raise ValidationError(ref, "spec.template.spec.restartPolicy", f'Unsupported value: "{policy}"',
                              'supported values: "Always"')
    return obj


def admit_configmap(obj: dict, ref: str) -> dict:
    data = obj.get("data") or {}
    for key, value in data.items():
        if not isinstance(value, str):
            raise ValidationError(ref, f"data.{key}", f"expected string, got {type(value).__name__}",
                                  "quote the value or use a YAML block scalar (|)")
    return obj


def admit_endpointslice(obj: dict, ref: str) -> dict:
    """addressType required (IPv4, IPv6, FQDN); addresses must fit it; at most 1000 endpoints."""
    address_type = obj.get("addressType")
    if address_type not in ("IPv4", "IPv6", "FQDN"):
        raise ValidationError(ref, "addressType", f"Unsupported value: {address_type!r}",
                              'supported values: "FQDN", "IPv4", "IPv6"')
    endpoints = obj.setdefault("endpoints", [])
    if len(endpoints) > 1000:
        raise ValidationError(ref, "endpoints", f"Too many: {len(endpoints)}: must have at most 1000 items")
    for i, endpoint in enumerate(endpoints):
        addresses = endpoint.get("addresses") or []
        if not addresses:
            raise ValidationError(ref, f"endpoints[{i}].addresses", "Required value")
        for j, address in enumerate(addresses):
            if address_type in ("IPv4", "IPv6"):
                try:
                    ip = ipaddress.ip_address(address)
                except ValueError:
                    ip = None
                if ip is None or (ip.version == 4) != (address_type == "IPv4"):
                    raise ValidationError(ref, f"endpoints[{i}].addresses[{j}]",
                                          f"Invalid value: {address!r}: must be a valid {address_type} address")
        # conditions are stored as written: unset means unknown, which consumers read as ready/serving
        # (discovery/v1 EndpointConditions); the API server defaults only port names and protocols
        endpoint.setdefault("conditions", {})
    for i, port in enumerate(obj.setdefault("ports", []) or []):
        port.setdefault("protocol", "TCP")
        if port.get("port") is not None and not 1 <= int(port["port"]) <= 65535:
            raise ValidationError(ref, f"ports[{i}].port", f"Invalid value: {port['port']}: must be between 1 and 65535")
    validate_labels(obj["metadata"].get("labels"), "metadata.labels", ref)
    return obj
