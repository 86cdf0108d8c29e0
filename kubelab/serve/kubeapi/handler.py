"""HTTP in, Kubernetes API out: routing of /api, /apis, /openapi and resource paths to discovery,
CRUD, patch, watch and the pod subresources (exec, log)."""
from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from . import discovery, openapi, printers, schemas, views
from .patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from .resources import Resource, api_warnings, find_resource
from .selectors import object_filter
from .status import ApiError

__all__ = ["ApiHandler", "VERSION_INFO"]

VERSION_INFO = {"major": "1", "minor": "35", "gitVersion": "v1.35.0-kubelab", "gitCommit": "", "gitTreeState": "clean",
                "buildDate": "2026-01-01T00:00:00Z", "goVersion": "python", "compiler": "kubelab",
                "platform": "linux/amd64"}
TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"
WATCH_POLL_SECONDS = 0.05


class _Route:
    """A resource path taken apart: /api[s/<g>]/<v>[/namespaces/<ns>]/<plural>[/<name>[/<sub>]]."""

    def __init__(self, resource: Resource, namespace: str | None, name: str | None, sub: str | None):
        self.resource, self.namespace, self.name, self.sub = resource, namespace, name, sub


def _route(parts: list[str]) -> _Route | None:
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if rest[0] == "namespaces" and len(rest) >= 3:
        r = find_resource(group, version, rest[2])
        if r is not None and r.namespaced and len(rest) <= 5:
            return _Route(r, rest[1], rest[3] if len(rest) > 3 else None, rest[4] if len(rest) > 4 else None)
    r = find_resource(group, version, rest[0])
    if r is None or len(rest) > 3:
        return None
    return _Route(r, None, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None)


class ApiHandler(BaseHTTPRequestHandler):
    """One request; `self.server.backend` is the LabBackend, `self.server.stopping` an Event."""

    protocol_version = "HTTP/1.1"
    server_version = "kubelab-apiserver"
    # headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the client's
    # delayed ACK hold every reply back about 40 ms
    disable_nagle_algorithm = True

    def log_message(self, format, *args):   # quiet: the server runs inside notebooks and tests
        if getattr(self.server, "log", None):
            self.server.log(format % args)

    # ------------------------------------------------------------ plumbing
    def _send(self, code: int, body, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else \
            (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for warning in getattr(self, "warnings", ()):
            self.send_header("Warning", f'299 - "{warning}"')   # kubectl prints it as "Warning: ..."
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _parsed_body(self, raw: bytes):
        content_type = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if content_type == "application/vnd.kubernetes.protobuf":
            from .protobuf import decode_object
            return decode_object(raw)
        try:
            if content_type.endswith("yaml"):
                return yaml.safe_load(raw.decode() or "null")
            return json.loads(raw.decode() or "null")
        except (ValueError, yaml.YAMLError) as exc:
            raise ApiError.bad_request(f"the body of the request was in an unknown format: {exc}") from None

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.query = parse_qs(url.query)
        parts = [unquote(p) for p in url.path.strip("/").split("/") if p]
        raw = self._body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
        try:
            self._handle(method, parts, raw)
        except ApiError as exc:
            self._send(exc.code, exc.body())
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:   # a bug here must not kill the server; kubectl shows the message
            self._send(500, ApiError(500, "InternalError", f"kubelab API server: {type(exc).__name__}: {exc}").body())

    # ------------------------------------------------------------ routes
    def _handle(self, method: str, parts: list[str], raw: bytes) -> None:
        accept = self.headers.get("Accept") or ""
        path = "/".join(parts)
        if method == "GET" and path in ("healthz", "livez", "readyz"):
            return self._send(200, b"ok", "text/plain")
        if method == "GET" and path == "version":
            return self._send(200, VERSION_INFO)
        if method == "GET" and path in ("api", "apis"):
            if discovery.wants_aggregated(accept):
                return self._send(200, discovery.aggregated(core=path == "api"), discovery.AGGREGATED_CONTENT_TYPE)
            return self._send(200, discovery.api_versions() if path == "api" else discovery.api_group_list())
        if method == "GET" and parts[:1] == ["openapi"]:
            return self._openapi(parts)
        if method == "GET" and (parts[:1] == ["api"] and len(parts) == 2 or parts[:1] == ["apis"] and len(parts) in (2, 3)):
            doc = discovery.api_group(parts[1]) if len(parts) == 2 and parts[0] == "apis" else \
                discovery.api_resource_list(*(("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])))
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self._send(200, doc)
        route = _route(parts)
        if route is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        self.warnings = api_warnings(route.resource.kind)
        if route.sub:
            return self._subresource(method, route, raw)
        if route.name is None:
            if method == "GET":
                return self._list_or_watch(route)
            if method == "POST":
                return self._create(route, raw)
            raise ApiError.method_not_allowed(f"{method} is not supported on a collection here")
        if method == "GET":
            obj = self.server.backend.get(route.resource, route.namespace, route.name)
            return self._send_objects(route.resource, obj, [obj])
        if method == "PUT":
            return self._replace(route, raw)
        if method == "PATCH":
            return self._patch(route, raw)
        if method == "DELETE":
            obj = self.server.backend.delete(route.resource, route.namespace, route.name, self._dry_run(),
                                             self._grace_period(raw))
            return self._send(200, obj)
        raise ApiError.method_not_allowed(f"{method} is not supported")

    def _dry_run(self) -> bool:
        return "All" in self.query.get("dryRun", [])

    def _grace_period(self, raw: bytes) -> int | None:
        """DeleteOptions.gracePeriodSeconds: from the body when there is one, else from the query, as
        kube-apiserver decodes DeleteOptions (kubectl delete --grace-period=N sends it in the body)."""
        if raw.strip():
            options = self._parsed_body(raw)
            value = options.get("gracePeriodSeconds") if isinstance(options, dict) else None
        else:
            value = self.params.get("gracePeriodSeconds")
        if value is None:
            return None
        try:
            seconds = int(value)
        except (TypeError, ValueError):
            raise ApiError.bad_request(f"gracePeriodSeconds: Invalid value: {value!r}: must be an integer") from None
        return 1 if seconds < 0 else seconds   # the pod strategy (CheckGracefulDelete) makes a negative period 1

    def _openapi(self, parts: list[str]) -> None:
        if parts == ["openapi", "v3"]:
            return self._send(200, openapi.index())
        if parts[:2] == ["openapi", "v3"]:
            doc = openapi.group_version_document("/".join(parts[2:]))
            if doc is not None:
                return self._send(200, doc)
        # no /openapi/v2: kubectl falls back to its compiled-in patch metadata
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def _wants_table(self) -> bool:
        return "as=Table" in (self.headers.get("Accept") or "")

    def _send_objects(self, r: Resource, single: dict | None, objects: list[dict]) -> None:
        backend = self.server.backend
        if self._wants_table():
            return self._send(200, printers.table(r.store_kind, objects, backend.now(), backend.resource_version,
                                                  self.params.get("includeObject", "Metadata"), r.version),
                              TABLE_CONTENT_TYPE)
        if single is not None:
            return self._send(200, single)
        return self._send(200, {"kind": f"{r.kind}List", "apiVersion": r.api_version,
                                "metadata": {"resourceVersion": backend.resource_version}, "items": objects})

    def _selected(self, route: _Route) -> list[dict]:
        keep = object_filter(self.params.get("labelSelector"), self.params.get("fieldSelector"))
        return [o for o in self.server.backend.list(route.resource, route.namespace) if keep(o)]

    def _list_or_watch(self, route: _Route) -> None:
        if self.params.get("watch") in ("true", "1"):
            return self._watch(route)
        return self._send_objects(route.resource, None, self._selected(route))

    # ------------------------------------------------------------ writes
    def _check_body(self, route: _Route, obj) -> dict:
        r = route.resource
        if not isinstance(obj, dict):
            raise ApiError.bad_request("the request body must be a Kubernetes object")
        obj.setdefault("apiVersion", r.api_version)
        obj.setdefault("kind", r.kind)
        if (obj["apiVersion"], obj["kind"]) != (r.api_version, r.kind):
            raise ApiError.bad_request(f"the API version in the data ({obj['apiVersion']}) does not match the "
                                       f"expected API version ({r.api_version})" if obj["apiVersion"] != r.api_version
                                       else f"kind {obj['kind']!r} does not match the resource {r.plural}")
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError.bad_request("metadata must be an object")
        if r.namespaced:
            if meta.get("namespace") not in (None, "", route.namespace):
                raise ApiError.bad_request("the namespace of the provided object does not match the namespace "
                                           "sent on the request")
            meta["namespace"] = route.namespace
        if r.readonly:
            raise ApiError.method_not_allowed(r.read_only_reason)
        return obj

    def _create(self, route: _Route, raw: bytes) -> None:
        if route.resource.namespaced and route.namespace is None:
            raise ApiError.method_not_allowed("create a namespaced object under /namespaces/<namespace>/")
        obj = self._check_body(route, self._parsed_body(raw))
        self._send(201, self.server.backend.create(route.resource, route.namespace, obj, self._dry_run()))

    def _replace(self, route: _Route, raw: bytes) -> None:
        obj = self._check_body(route, self._parsed_body(raw))
        self._send(200, self.server.backend.update(route.resource, route.namespace, route.name, obj, self._dry_run()))

    def _patched(self, r: Resource, current: dict, raw: bytes) -> dict:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        patch = self._parsed_body(raw)
        try:
            if content_type == "application/json-patch+json":
                return json_patch(current, patch)
            if content_type == "application/merge-patch+json":
                return merge_patch(current, patch)
            if content_type == "application/strategic-merge-patch+json" and not r.custom:
                definition = schemas.definition_for(r.group, r.version, r.kind) if r.kind != "Scale" else \
                    "io.k8s.api.autoscaling.v1.Scale"
                if definition is None:
                    return merge_patch(current, patch)
                return strategic_merge_patch(current, patch, schemas.definitions()[definition])
        except PatchError as exc:
            raise ApiError(422, "Invalid", f"the patch could not be applied: {exc}") from None
        # custom resources take no strategic merge patch (no merge keys): kube-apiserver leaves it out
        accepted = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
        raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted "
                       "media types include: " + ", ".join(accepted + ([] if r.custom else
                                                                       ["application/strategic-merge-patch+json"])))

    def _patch(self, route: _Route, raw: bytes) -> None:
        backend, r = self.server.backend, route.resource
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type == "application/apply-patch+yaml":
            return self._server_side_apply(route, raw)
        with backend.lock:
            current = backend.get(r, route.namespace, route.name)
            patched = self._patched(r, current, raw)
            if not isinstance(patched, dict):
                raise ApiError(422, "Invalid", "the patch did not produce an object")
            self._check_body(route, patched)
            self._send(200, backend.update(r, route.namespace, route.name, patched, self._dry_run()))

    def _server_side_apply(self, route: _Route, raw: bytes) -> None:
        """Server-side apply for one field manager: the applied configuration is merged into the live
        object, and fields this manager applied before but no longer names are removed (lists are
        replaced whole). Conflicts between managers are not modelled."""
        backend, r = self.server.backend, route.resource
        manager = self.params.get("fieldManager") or ""
        if not manager:
            raise ApiError(422, "Invalid", "PATCH: fieldManager is required for apply requests")
        applied = self._check_body(route, self._parsed_body(raw))
        key = (r.kind, route.namespace, route.name, manager)
        with backend.lock:
            current = backend.find(r, route.namespace, route.name)
            if current is None:
                obj = backend.create(r, route.namespace, json.loads(json.dumps(applied)), self._dry_run())
                if not self._dry_run():
                    self.server.applied[key] = applied
                return self._send(201, obj)
            patch = _with_removals(self.server.applied.get(key, {}), applied)
            new = merge_patch(current, patch)
            obj = backend.update(r, route.namespace, route.name, new, self._dry_run())
            if not self._dry_run():
                self.server.applied[key] = applied
            return self._send(200, obj)

    # ------------------------------------------------------------ subresources
    def _subresource(self, method: str, route: _Route, raw: bytes) -> None:
        backend, r = self.server.backend, route.resource
        if route.sub == "portforward" and r.kind == "Pod":
            raise ApiError.bad_request("port-forward is not served by the simulated cluster (it needs SPDY "
                                       "streams); reach the pod from another one instead: kubectl exec CLIENT -- "
                                       "curl -s http://POD_IP:PORT")
        if route.sub not in r.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if route.sub in ("exec", "attach"):
            from .execute import serve_exec
            return serve_exec(self, route.namespace, route.name, attach=route.sub == "attach")
        if route.sub == "log":
            from .podlog import serve_log
            return serve_log(self, r, route.namespace, route.name)
        if route.sub == "status":
            if method == "GET":
                return self._send(200, backend.get(r, route.namespace, route.name))
            if not r.custom or method not in ("PUT", "PATCH"):
                raise ApiError.method_not_allowed("status is written by the simulator's controllers here")
            return self._write_status(method, route, raw)
        # scale
        with backend.lock:
            current = backend.get(r, route.namespace, route.name)
            if method == "GET":
                return self._send(200, views.scale_of(current))
            scale_resource = Resource("Scale", "autoscaling", "v1", "scale", r.namespaced)
            if method == "PUT":
                scale = self._parsed_body(raw)
            elif method == "PATCH":
                scale = self._patched(scale_resource, views.scale_of(current), raw)
            else:
                raise ApiError.method_not_allowed(f"{method} is not supported on scale")
            replicas = ((scale or {}).get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise ApiError(422, "Invalid", f'Scale.autoscaling "{route.name}" is invalid: spec.replicas: '
                               f"Invalid value: {replicas!r}: must be greater than or equal to 0")
            # a new object: `current` shares spec and metadata with the stored one, which is never mutated
            scaled = {**current, "spec": {**current["spec"], "replicas": replicas},
                      "metadata": {k: v for k, v in current["metadata"].items() if k != "resourceVersion"}}
            updated = backend.update(r, route.namespace, route.name, scaled, self._dry_run())
            return self._send(200, views.scale_of(updated))

    def _write_status(self, method: str, route: _Route, raw: bytes) -> None:
        """PUT or PATCH of a custom resource's status subresource: only .status changes (a CRD's status
        subresource ignores every other field, as the main resource ignores .status)."""
        backend, r = self.server.backend, route.resource
        with backend.lock:
            current = backend.get(r, route.namespace, route.name)
            if method == "PUT":
                given = self._check_body(route, self._parsed_body(raw))
            else:
                given = self._patched(r, current, raw)
            if not isinstance(given, dict):
                raise ApiError(422, "Invalid", "the patch did not produce an object")
            given_rv = (given.get("metadata") or {}).get("resourceVersion")
            if method == "PUT" and given_rv and given_rv != current["metadata"].get("resourceVersion"):
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {r.plural}.{r.group} '
                               f'"{route.name}": the object has been modified; please apply your changes to the '
                               "latest version and try again", {"name": route.name, "group": r.group,
                                                                "kind": r.plural})
            self._send(200, backend.update_status(r, route.namespace, route.name, given.get("status"),
                                                  self._dry_run()))

    # ------------------------------------------------------------ watch
    def _chunk(self, event: dict) -> None:
        data = (json.dumps(event) + "\n").encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _watch(self, route: _Route) -> None:
        """A watch stream: one JSON event per line. With sendInitialEvents (WatchList, used by
        `kubectl wait` and `rollout status`) or without a resourceVersion, the current objects come
        first as ADDED; WatchList then gets the initial-events-end BOOKMARK."""
        backend, r = self.server.backend, route.resource
        table = self._wants_table()
        send_initial = self.params.get("sendInitialEvents") == "true"
        timeout = float(self.params.get("timeoutSeconds") or 1800)
        deadline = time.monotonic() + timeout
        self.send_response(200)
        self.send_header("Content-Type", TABLE_CONTENT_TYPE if table else "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def shown(obj):
            if not table:
                return obj
            return printers.table(r.store_kind, [obj], backend.now(), backend.resource_version,
                                  self.params.get("includeObject", "Metadata"), r.version)

        def current():
            return {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in self._selected(route)}

        known = current()
        if send_initial or self.params.get("resourceVersion") in (None, "", "0"):
            for key in sorted(known):
                self._chunk({"type": "ADDED", "object": shown(known[key])})
        if send_initial:
            self._chunk({"type": "BOOKMARK", "object": {
                "kind": r.kind, "apiVersion": r.api_version,
                "metadata": {"resourceVersion": backend.resource_version,
                             "annotations": {"k8s.io/initial-events-end": "true"}}}})
        generation = backend.generation
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            time.sleep(WATCH_POLL_SECONDS)
            if backend.generation == generation:
                continue
            generation = backend.generation
            now = current()
            for key in sorted(set(known) | set(now)):
                if key not in now:
                    self._chunk({"type": "DELETED", "object": shown(known[key])})
                elif key not in known:
                    self._chunk({"type": "ADDED", "object": shown(now[key])})
                elif now[key] != known[key]:
                    self._chunk({"type": "MODIFIED", "object": shown(now[key])})
            known = now
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _with_removals(previous, applied):
    """A merge patch that sets `applied` and removes what `previous` (the same manager's last apply)
    named and `applied` no longer does."""
    if not isinstance(previous, dict) or not isinstance(applied, dict):
        return applied
    out = dict(applied)
    for key, value in previous.items():
        if key not in applied:
            out[key] = None
        elif isinstance(value, dict) and isinstance(applied[key], dict):
            out[key] = _with_removals(value, applied[key])
    return out
