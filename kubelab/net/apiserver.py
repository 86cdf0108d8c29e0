"""What the Kubernetes API server answers an HTTP client that is not a kubectl user (the `kubernetes` Service).

kube-apiserver serves HTTPS only; kubeadm clusters keep anonymous auth on with RBAC, and the
system:public-info-viewer ClusterRole lets anyone read /healthz, /livez, /readyz and /version. Any other
anonymous request is 403 Forbidden, and a bearer token the server does not know is 401 Unauthorized, both as
a JSON `Status` (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests).
"""
from __future__ import annotations

import json

__all__ = ["api_server_response", "PUBLIC_PATHS"]

PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version")
VERSION = {"major": "1", "minor": "35", "gitVersion": "v1.35.0", "platform": "linux/amd64"}


def _status(code: int, reason: str, message: str) -> str:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "details": {}, "code": code}
    if code == 401:
        body.pop("details")
    return json.dumps(body, indent=2)


def api_server_response(scheme: str, method: str, path: str, headers: dict | None) -> tuple[int, str, dict]:
    """(status, body, headers) of the API server for one request (the simulator issues no tokens)."""
    if scheme != "https":
        return 400, "Client sent an HTTP request to an HTTPS server.\n", {"Content-Type": "text/plain"}
    json_headers = {"Content-Type": "application/json"}
    auth = {k.lower(): v for k, v in (headers or {}).items()}.get("authorization")
    if auth:
        return 401, _status(401, "Unauthorized", "Unauthorized"), json_headers
    if method == "GET" and path in PUBLIC_PATHS:
        if path == "/version":
            return 200, json.dumps(VERSION, indent=2), json_headers
        return 200, "ok", {"Content-Type": "text/plain; charset=utf-8"}
    verb = {"GET": "get", "POST": "create", "PUT": "update", "DELETE": "delete", "PATCH": "patch"}.get(method, method.lower())
    return 403, _status(403, "Forbidden", f'forbidden: User "system:anonymous" cannot {verb} path "{path}"'), \
        json_headers
