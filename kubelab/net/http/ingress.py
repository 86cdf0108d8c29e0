"""Ingress (networking.k8s.io/v1): the API server's validation, IngressClass resolution, and routing as the
Kubernetes docs define it, compiled once into a table that answers a request in a few dictionary lookups.

Routing (kubernetes.io/docs/concepts/services-networking/ingress):
  1. the Host header picks the host rules: a precise host, else a `*.` wildcard covering exactly one label,
     else the rules without host; rules of every served Ingress are merged per host;
  2. among the paths of those rules that match (Exact, Prefix element-wise, ImplementationSpecific as the
     controller treats it; the query string is ignored), the longest path wins, Exact before Prefix at equal
     length, then the oldest Ingress;
  3. no path: the defaultBackend of an Ingress with a rule for that host, else of any served Ingress;
  4. nothing: the controller answers 404 itself.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ...errors import ValidationError
from ..names import dns1035_label_errors, dns1123_subdomain_errors, port_name_errors, port_number_errors
from .match import PathMatch, host_matches, is_wildcard_host, path_elements
from .model import BackendTarget

__all__ = [
    "PATH_TYPES", "validate_ingress", "validate_ingress_class", "REMOVED_INGRESS_VERSIONS",
    "CLASS_ANNOTATION", "DEFAULT_CLASS_ANNOTATION", "class_of", "default_class_for", "is_default_class",
    "IngressPath", "IngressRouteTable", "RouteMatch", "compile_routes", "backend_of",
]

PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
# apiVersions of Ingress the API no longer serves (deprecated-api-migration-guide, v1.22)
REMOVED_INGRESS_VERSIONS = {"extensions/v1beta1": "v1.22", "networking.k8s.io/v1beta1": "v1.22"}
_INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_INVALID_PATH_SUFFIXES = ("/..", "/.")


# ---------------------------------------------------------------------------- validation
def _ref(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind', 'Ingress')} {ns}/{meta.get('name')}" if ns else f"{obj.get('kind')} {meta.get('name')}"


def _host_errors(host: str) -> list[str]:
    """ValidateIngressSpec host rules: a DNS-1123 subdomain, or "*." + one; never an IP address."""
    try:
        ipaddress.ip_address(host)
        return ["must be a DNS name, not an IP address"]
    except ValueError:
        pass
    if "*" in host:
        rest = host[2:] if host.startswith("*.") else None
        if rest is None or "*" in rest or dns1123_subdomain_errors(rest):
            return ["a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
                    "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
                    "alphanumeric character (e.g. '*.example.com')"]
        return []
    return dns1123_subdomain_errors(host)


def _backend_errors(backend, path: str) -> list[tuple[str, str, str]]:
    """validateIngressBackend: exactly one of service/resource; a service names a port by name XOR number."""
    if not isinstance(backend, dict):
        return [(path, "Required value", "add a backend with service: {name, port: {number}}")]
    service, resource = backend.get("service"), backend.get("resource")
    service = service if isinstance(service, dict) or service is None else {}
    resource = resource if isinstance(resource, dict) or resource is None else {}
    if service and resource:
        return [(path, "Invalid value: cannot set both resource and service backends", "keep only one of them")]
    if not service and not resource:
        return [(path, "Invalid value: resource or service backend is required",
                 "add service: {name: <service>, port: {number: <port>}}")]
    errs = []
    if resource:
        for key in ("kind", "name"):
            if not resource.get(key):
                errs.append((f"{path}.resource.{key}", "Required value", f"set resource.{key}"))
        return errs
    name = service.get("name")
    if not name:
        errs.append((f"{path}.service.name", "Required value", "name the Service in the Ingress's namespace"))
    else:
        errs += [(f"{path}.service.name", f"Invalid value: {name!r}: {e}", "use the Service's name")
                 for e in dns1035_label_errors(str(name))]
    port = service.get("port")
    if not isinstance(port, dict) or ("name" not in port and "number" not in port):
        errs.append((f"{path}.service.port", "Invalid value: port name or number is required",
                     "set port: {number: 80} or port: {name: http}"))
    elif port.get("name") and port.get("number"):
        errs.append((f"{path}.service.port", "Invalid value: cannot set both port name & port number",
                     "keep only one: number (the Service's spec.ports[].port) or name (spec.ports[].name)"))
    elif port.get("name"):
        errs += [(f"{path}.service.port.name", f"Invalid value: {port['name']!r}: {e}",
                  "a port name is the Service's spec.ports[].name") for e in port_name_errors(str(port["name"]))]
    elif isinstance(port.get("number"), int):
        errs += [(f"{path}.service.port.number", f"Invalid value: {port['number']}: {e}", None)
                 for e in port_number_errors(port["number"])]
    return errs


def _path_errors(p: dict, path: str) -> list[tuple[str, str, str]]:
    """validateHTTPIngressPath: pathType required; Exact/Prefix paths absolute, without //, /./, /../, %2f or a
    trailing /. or /..; ImplementationSpecific paths absolute when given."""
    errs = []
    path_type = p.get("pathType")
    value = p.get("path") if isinstance(p.get("path"), str) else ""   # other types: the schema check says so
    if path_type is None:
        errs.append((f"{path}.pathType", "Required value: pathType must be specified",
                     "set pathType: Prefix (element-wise), Exact, or ImplementationSpecific"))
    elif path_type in ("Exact", "Prefix"):
        if not value.startswith("/"):
            errs.append((f"{path}.path", f"Invalid value: {value!r}: must be an absolute path",
                         "start the path with /"))
        for seq in _INVALID_PATH_SEQUENCES:
            if seq in value:
                errs.append((f"{path}.path", f"Invalid value: {value!r}: must not contain '{seq}'", None))
        for suffix in _INVALID_PATH_SUFFIXES:
            if value.endswith(suffix):
                errs.append((f"{path}.path", f"Invalid value: {value!r}: cannot end with '{suffix}'", None))
    elif path_type == "ImplementationSpecific":
        if value and not value.startswith("/"):
            errs.append((f"{path}.path", f"Invalid value: {value!r}: must be an absolute path", "start it with /"))
    else:
        errs.append((f"{path}.pathType", f"Unsupported value: {path_type!r}",
                     'supported values: "Exact", "ImplementationSpecific", "Prefix"'))
    return errs + _backend_errors(p.get("backend"), f"{path}.backend")


def ingress_errors(ingress: dict) -> list[tuple[str, str, str | None]]:
    """Every (field path, problem, fix) the API server reports for this Ingress (ValidateIngressSpec)."""
    spec = ingress.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    errs: list = []
    rules = spec.get("rules") if isinstance(spec.get("rules"), list) else []
    if not rules and spec.get("defaultBackend") is None:
        errs.append(("spec", "Invalid value: either `defaultBackend` or `rules` must be specified",
                     "add rules (host/path -> backend) or a defaultBackend"))
    if spec.get("defaultBackend") is not None:
        errs += _backend_errors(spec["defaultBackend"], "spec.defaultBackend")
    class_name = spec.get("ingressClassName")
    if class_name is not None:
        errs += [("spec.ingressClassName", f"Invalid value: {class_name!r}: {e}", "name an IngressClass")
                 for e in dns1123_subdomain_errors(str(class_name))]
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        host = rule.get("host") if isinstance(rule.get("host"), str) else None
        if host:
            errs += [(f"spec.rules[{i}].host", f"Invalid value: {host!r}: {e}",
                      "use a DNS name such as shop.example.com or *.example.com") for e in _host_errors(str(host))]
        http = rule.get("http")
        if http is None:
            continue
        paths = http.get("paths") if isinstance(http, dict) else None
        if not paths:
            errs.append((f"spec.rules[{i}].http.paths", "Required value", "add at least one path"))
            continue
        if not isinstance(paths, list):
            continue   # the schema check names the wrong type
        for j, p in enumerate(paths):
            errs += _path_errors(p if isinstance(p, dict) else {}, f"spec.rules[{i}].http.paths[{j}]")
    for i, tls in enumerate(spec.get("tls") if isinstance(spec.get("tls"), list) else []):
        tls = tls if isinstance(tls, dict) else {}
        for j, host in enumerate(tls.get("hosts") if isinstance(tls.get("hosts"), list) else []):
            errs += [(f"spec.tls[{i}].hosts[{j}]", f"Invalid value: {host!r}: {e}", None)
                     for e in _host_errors(str(host))]
        secret = tls.get("secretName")
        if secret:
            errs += [(f"spec.tls[{i}].secretName", f"Invalid value: {secret!r}: {e}", "name a Secret")
                     for e in dns1123_subdomain_errors(str(secret))]
    return errs


def class_annotation_errors(ingress: dict) -> list[tuple[str, str, str | None]]:
    """ValidateIngressCreate: the kubernetes.io/ingress.class annotation, when set beside spec.ingressClassName,
    must name the same class (create only; an update may keep an old mismatch)."""
    annotations = (ingress.get("metadata") or {}).get("annotations") or {}
    class_name = (ingress.get("spec") or {}).get("ingressClassName")
    if CLASS_ANNOTATION in annotations and class_name is not None and annotations[CLASS_ANNOTATION] != class_name:
        return [(f"annotations.{CLASS_ANNOTATION}", f"Invalid value: {annotations[CLASS_ANNOTATION]!r}: must match "
                 "`ingressClassName` when both are specified", "drop the deprecated annotation and keep spec.ingressClassName")]
    return []


def validate_ingress(ingress: dict, create: bool = False) -> None:
    """Raise the API server's first complaint about this Ingress as a ValidationError naming the field."""
    errs = ingress_errors(ingress) + (class_annotation_errors(ingress) if create else [])
    if errs:
        # the API server reports every invalid field at once; the first leads, the others follow
        field_path, problem, fix = errs[0]
        problem += "".join(f"; {f}: {p}" for f, p, _ in errs[1:])
        raise ValidationError(_ref(ingress), field_path, problem, fix)


def validate_ingress_class(ingress_class: dict, old: dict | None = None) -> None:
    """ValidateIngressClass: spec.controller is required, a domain-prefixed path of at most 250 characters,
    and immutable; parameters need kind and name."""
    ref = _ref(ingress_class)
    spec = ingress_class.get("spec") or {}
    controller = spec.get("controller")
    if not controller:
        raise ValidationError(ref, "spec.controller", "Required value",
                              "name the controller, e.g. k8s.io/ingress-nginx")
    domain, slash, rest = str(controller).partition("/")
    if not slash or not rest or dns1123_subdomain_errors(domain.lower()):
        raise ValidationError(ref, "spec.controller", f"Invalid value: {controller!r}: must be a domain-prefixed "
                              "path (such as \"acme.io/foo\")", None)
    if len(controller) > 250:
        raise ValidationError(ref, "spec.controller", "Too long: must have at most 250 bytes")
    if old is not None and (old.get("spec") or {}).get("controller") != controller:
        raise ValidationError(ref, "spec.controller", "Invalid value: field is immutable",
                              "delete the IngressClass and create it again")
    params = spec.get("parameters")
    if params is not None:
        for key in ("kind", "name"):
            if not params.get(key):
                raise ValidationError(ref, f"spec.parameters.{key}", "Required value")


# ---------------------------------------------------------------------------- IngressClass
def is_default_class(ingress_class: dict) -> bool:
    """IngressClass docs: the annotation ingressclass.kubernetes.io/is-default-class: "true" marks the default."""
    return ((ingress_class.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true"


def default_class_for(ingress: dict, classes: list[dict]) -> tuple[str | None, str | None]:
    """DefaultIngressClass admission (on create): an Ingress with neither spec.ingressClassName nor the
    kubernetes.io/ingress.class annotation gets the single default class; (class, error when several)."""
    spec = ingress.get("spec") or {}
    if spec.get("ingressClassName") or CLASS_ANNOTATION in ((ingress.get("metadata") or {}).get("annotations") or {}):
        return None, None
    defaults = sorted(c["metadata"]["name"] for c in classes if is_default_class(c))
    if len(defaults) > 1:
        return None, f"{len(defaults)} default IngressClasses were found, only 1 allowed"
    return (defaults[0] if defaults else None), None


def class_of(ingress: dict) -> tuple[str | None, str]:
    """The class an Ingress asks for, and where it says so: spec.ingressClassName, else the deprecated
    kubernetes.io/ingress.class annotation; (None, "none") when it names no class."""
    spec = ingress.get("spec") or {}
    if spec.get("ingressClassName"):
        return spec["ingressClassName"], "spec.ingressClassName"
    annotation = ((ingress.get("metadata") or {}).get("annotations") or {}).get(CLASS_ANNOTATION)
    if annotation:
        return annotation, f"annotation {CLASS_ANNOTATION}"
    return None, "none"


# ---------------------------------------------------------------------------- routes
@dataclass(frozen=True)
class IngressPath:
    """One path of one rule of one Ingress, with everything matching and precedence need."""

    ingress: str                     # "namespace/name"
    created: str                     # creationTimestamp: the oldest Ingress wins a tie
    rule_index: int
    path_index: int
    host: str                        # "" for a rule without host
    path_type: str
    path: str
    match: PathMatch
    backend: BackendTarget | None
    annotations: tuple = ()          # the Ingress's annotations, for the controller's behaviour
    sort_key: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # Ingress docs, "Multiple matches": longest path first, then Exact before Prefix, then the oldest Ingress
        type_rank = {"Exact": 0, "Prefix": 1}.get(self.path_type, 2)
        object.__setattr__(self, "sort_key", (-self.match.length, type_rank, self.created, self.ingress,
                                              self.rule_index, self.path_index))

    def where(self) -> str:
        return f"Ingress {self.ingress} spec.rules[{self.rule_index}].http.paths[{self.path_index}]"

    def describe(self) -> str:
        host = self.host or "*"
        return f"{self.where()} (host {host}, path {self.path or '/'} {self.path_type})"

    def annotation(self, key: str, default: str | None = None) -> str | None:
        return dict(self.annotations).get(key, default)


@dataclass(frozen=True)
class RouteMatch:
    """What the table decided: the path (or default backend) that won, or nothing; `.why` says why in one line."""

    backend: BackendTarget | None
    outcome: str                     # "path" | "host-default" | "default" | "none"
    path: IngressPath | None = None
    ingress: str | None = None       # the Ingress whose rule or defaultBackend decided
    host_rule: str | None = None     # the host rule chosen ("" = rules without host, None = none)
    host: str = ""                   # the request's host and path, for the explanation
    request_path: str = ""

    @property
    def why(self) -> str:
        """Built on demand: most lookups never need their explanation."""
        server = "*" if self.host_rule == "" else self.host_rule
        if self.outcome == "path":
            tie = ", Exact before Prefix" if self.path.path_type == "Exact" else ""
            return f"{self.path.describe()} matched {self.request_path} (longest matching path{tie})"
        unmatched = f"no rule matches host {self.host or '(none)'}" if self.host_rule is None else \
            f"no path of host {server} matches {self.request_path}"
        if self.outcome in ("host-default", "default"):
            return f"{unmatched}; spec.defaultBackend of Ingress {self.ingress}"
        return f"{unmatched} and no Ingress has a defaultBackend" if self.host_rule is None else \
            f"{unmatched} and no defaultBackend"


@dataclass
class _HostServer:
    """Every path for one host rule value, merged across Ingresses, indexed for fast lookup."""

    host: str
    exact: dict = field(default_factory=dict)        # path -> IngressPath (the winner of its bucket)
    prefix: dict = field(default_factory=dict)       # prefix elements -> IngressPath (the winner)
    scanned: list = field(default_factory=list)      # string prefixes and regexes: checked one by one
    ingresses: list = field(default_factory=list)    # (created, key, defaultBackend target or None)

    def add(self, p: IngressPath) -> None:
        if p.match.kind == "Exact":
            self.exact.setdefault(p.path, []).append(p)
        elif p.match.kind == "Prefix":
            self.prefix.setdefault(path_elements(p.path), []).append(p)
        else:
            self.scanned.append(p)

    def finish(self) -> None:
        for bucket in (*self.exact.values(), *self.prefix.values()):
            bucket.sort(key=lambda p: p.sort_key)
        self.exact = {k: v[0] for k, v in self.exact.items()}       # only the first of a bucket can win
        self.prefix = {k: v[0] for k, v in self.prefix.items()}
        self.scanned.sort(key=lambda p: p.sort_key)
        # string prefixes are checked with str.startswith directly; regexes through their PathMatch
        self._scan = [(p.sort_key, p.path if p.match.kind == "StringPrefix" else None, p) for p in self.scanned]
        self.ingresses.sort(key=lambda t: (t[0], t[1]))

    def lookup(self, path: str) -> IngressPath | None:
        """The winning path for `path` (no query), per the documented precedence."""
        best = self.exact.get(path)
        if self.prefix:
            elements = path_elements(path)
            for n in range(len(elements), -1, -1):
                hit = self.prefix.get(elements[:n])
                if hit is not None:
                    if best is None or hit.sort_key < best.sort_key:
                        best = hit
                    break
        for key, prefix, p in self._scan:
            if best is not None and key > best.sort_key:
                break
            if path.startswith(prefix) if prefix is not None else p.match.matches(path):
                return p
        return best


class IngressRouteTable:
    """The routes of every Ingress one controller serves, compiled once; `lookup` answers a request."""

    def __init__(self, paths: list[IngressPath], default_backends: list[tuple[str, str, BackendTarget]],
                 hosts_of: dict[str, set]):
        self.precise: dict[str, _HostServer] = {}
        self.wildcard: dict[str, _HostServer] = {}     # ".foo.com" -> server for "*.foo.com"
        self.catch_all = _HostServer("")
        self.default_backends = sorted(default_backends, key=lambda t: (t[0], t[1]))   # (created, ingress, target)
        for p in paths:
            self._server(p.host).add(p)
        for created, ingress, target in self.default_backends:
            for host in hosts_of.get(ingress, ()):
                self._server(host).ingresses.append((created, ingress, target))
        for server in (*self.precise.values(), *self.wildcard.values(), self.catch_all):
            server.finish()
        self.size = len(paths)

    def _server(self, host: str) -> _HostServer:
        if not host:
            return self.catch_all
        if is_wildcard_host(host):
            return self.wildcard.setdefault(host[1:], _HostServer(host))
        return self.precise.setdefault(host, _HostServer(host))

    def server_for(self, host: str) -> _HostServer | None:
        """Step 1: a precise host rule, else the wildcard covering exactly one label, else rules without host."""
        server = self.precise.get(host)
        if server is not None:
            return server
        dot = host.find(".")
        if dot > 0:
            server = self.wildcard.get(host[dot:])
            if server is not None and host_matches(server.host, host):
                return server
        if self.catch_all.exact or self.catch_all.prefix or self.catch_all.scanned:
            return self.catch_all
        return None

    def lookup(self, host: str, path: str) -> RouteMatch:
        """Steps 1-4 for a request's Host (normalised, no port) and path (no query)."""
        server = self.server_for(host)
        if server is not None:
            hit = server.lookup(path)
            if hit is not None:
                return RouteMatch(hit.backend, "path", hit, hit.ingress, server.host, host, path)
            for _created, ingress, target in server.ingresses:
                return RouteMatch(target, "host-default", None, ingress, server.host, host, path)
        host_rule = None if server is None else server.host
        for _created, ingress, target in self.default_backends:
            return RouteMatch(target, "default", None, ingress, host_rule, host, path)
        return RouteMatch(None, "none", None, None, host_rule, host, path)


def backend_of(backend: dict | None, namespace: str) -> BackendTarget | None:
    """An IngressBackend as a target, its port exactly as written (number or name); None for resource backends."""
    service = (backend or {}).get("service")
    if not service:
        return None
    port = service.get("port") or {}
    return BackendTarget(namespace, service.get("name", ""), port["number"] if port.get("number") else port.get("name", ""))


def compile_routes(ingresses: list[dict], path_match=None) -> IngressRouteTable:
    """Compile the served Ingresses. `path_match(path_type, path, ingress, host) -> PathMatch` lets a controller say
    how it treats ImplementationSpecific (and regex annotations); the default treats it as Prefix."""
    def default_match(path_type: str, value: str, ingress: dict, host: str) -> PathMatch:
        return PathMatch("Exact" if path_type == "Exact" else "Prefix", value or "/")

    make = path_match or default_match
    paths: list[IngressPath] = []
    defaults: list[tuple[str, str, BackendTarget]] = []
    hosts_of: dict[str, set] = {}
    for ing in ingresses:
        meta = ing.get("metadata") or {}
        key = f"{meta.get('namespace', 'default')}/{meta.get('name')}"
        created = meta.get("creationTimestamp") or ""
        annotations = tuple(sorted((meta.get("annotations") or {}).items()))
        spec = ing.get("spec") or {}
        if spec.get("defaultBackend"):
            target = backend_of(spec["defaultBackend"], meta.get("namespace", "default"))
            if target is not None:
                defaults.append((created, key, target))
        for i, rule in enumerate(spec.get("rules") or []):
            host = (rule.get("host") or "").lower()
            hosts_of.setdefault(key, set()).add(host)
            for j, p in enumerate(((rule.get("http") or {}).get("paths")) or []):
                path_type = p.get("pathType") or "ImplementationSpecific"
                value = p.get("path") or ("/" if path_type != "Exact" else "")
                paths.append(IngressPath(key, created, i, j, host, path_type, value, make(path_type, value, ing, host),
                                         backend_of(p.get("backend"), meta.get("namespace", "default")), annotations))
    return IngressRouteTable(paths, defaults, hosts_of)
