"""The server's sidecar (and the JWT check any Istio proxy makes): the mTLS mode it enforces, RequestAuthentication,
AuthorizationPolicy or Linkerd's inbound policy, the headers it adds (X-Forwarded-Client-Cert, l5d-client-id),
then the app as its image answers."""
from __future__ import annotations

from dataclasses import dataclass, field

from ...net.mesh import linkerd, resilience, security
from ...net.mesh import jwt as jwt_rules
from ...net.mesh.ca import MeshCA
from ...results import ServerRequest
from ..logs import record_access
from .identity import workload_certificate
from .quick import make_app_request, make_hop
from .view import identity

__all__ = ["ServerSide", "Attempt", "UPSTREAM_FAILURE_TEXT"]

UPSTREAM_FAILURE_TEXT = "upstream connect error or disconnect/reset before headers. reset reason: "
_NO_POLICY = security.AuthzDecision(True, "no AuthorizationPolicy applies to the workload, so the request is allowed")
# the headers the inbound sidecar sets (any the client sent are replaced), by (from a client proxy, over mTLS)
_ADDED_NAMES = {(proxied, mtls): frozenset({"x-forwarded-proto", "x-request-id"}
                                           | ({"x-envoy-attempt-count"} if proxied else set())
                                           | ({"x-forwarded-client-cert"} if mtls else set()))
                for proxied in (False, True) for mtls in (False, True)}


@dataclass
class Attempt:
    """One upstream request: what came back (an HTTP status, or a connection failure) and what it cost."""

    status: int
    text: str = ""
    headers: dict = field(default_factory=dict)
    elapsed_ms: float = 0.0
    pod: dict | None = None
    request: ServerRequest | None = None
    mtls: bool = False
    why: str = ""
    proxy_answer: bool = False         # made up by a proxy (403 RBAC), not by the app
    endpoint: str | None = None        # "IP:port" the request went to


class ServerSide:
    """MeshWalk's server half (a mixin: it uses the walk's lab, view, rng, hops and verbose flag)."""

    def inbound(self, pod: dict, port: int, request, client_pod: dict | None, mtls: bool, source_ip: str,
                attempt: int, client_proxy: bool = False) -> Attempt:
        """The server's sidecar: the mTLS mode it enforces on this port, then authorization, then the app."""
        lab = self.lab
        view = self.view
        facts = view.facts(pod)
        where = f"pod {facts.key}" if self.verbose else ""
        headers = list(request.headers)            # what the app receives: the request's, plus the proxy's
        client_id = view.facts(client_pod).identity if (mtls and client_pod is not None) else None
        sidecar = facts.sidecar
        if sidecar == "istio":
            mode, why = facts.mtls(port)
            if not mtls and mode == "STRICT":
                if self.verbose:
                    self.hops.append(make_hop(where, "istio-proxy", f"inbound :{port} plaintext refused: {why}; the "
                                                                    f"connection is reset"))
                return Attempt(resilience.RESET, UPSTREAM_FAILURE_TEXT + "connection termination", why=why)
            if self.verbose:
                self.hops.append(make_hop(where, "istio-proxy", f"inbound :{port} {'mTLS' if mtls else 'plaintext'} "
                                                                f"accepted ({why})"))
            jwt = self._request_authentication(pod, request)
            if jwt is not None and jwt[0] == 401:
                if self.verbose:
                    self.hops.append(make_hop(where, "istio-proxy", f"jwt_authn: {jwt[1]}: 401"))
                return Attempt(401, "Jwt verification fails", _www_authenticate(request), pod=pod,
                               mtls=mtls, why=jwt[1], proxy_answer=True)
            policies = facts.authorization_policies
            if policies:
                peer = security.Peer(client_id, client_id.split("/")[2] if client_id else None, source_ip,
                                     jwt[1] if jwt is not None else None, _claims(jwt[2]) if jwt is not None else ())
                decision = security.authorize(pod, policies, peer, request.method, request.path, request.host, port,
                                              dict(request.headers))
            else:
                decision = _NO_POLICY
            if self.verbose:
                self.hops.append(make_hop(where, "istio-proxy", f"authorization: {decision.why}"))
            if not decision.allowed:
                return Attempt(403, "RBAC: access denied", {"content-type": "text/plain", "server": "envoy"},
                               pod=pod, mtls=mtls, why=decision.why, proxy_answer=True)
            added = [("X-Forwarded-Proto", request.scheme),
                     ("X-Request-Id", _uuid4_text(self.rng.getrandbits(128)))]
            if client_proxy:
                added.append(("X-Envoy-Attempt-Count", str(attempt)))
            if mtls:
                added.append(("X-Forwarded-Client-Cert", self._xfcc(facts.spiffe, client_pod)))
            names = _ADDED_NAMES[(bool(client_proxy), bool(mtls))]
            headers = [(k, v) for k, v in headers if k.lower() not in names] + added
            app_ip = "127.0.0.6"              # Istio's inbound passthrough source address
        elif sidecar == "linkerd":
            decision = linkerd.authorize(lab, pod, port, client_id, source_ip, request.method, request.path,
                                         dict(request.headers))
            if self.verbose:
                self.hops.append(make_hop(where, "linkerd-proxy", f"inbound :{port} {'mTLS' if mtls else 'plaintext'}; "
                                                                  f"{decision.why}"))
            if not decision.allowed:
                error = {"l5d-proxy-error": "unauthorized request on route"} if decision.status == 403 else {}
                return Attempt(decision.status, "", error, pod=pod, mtls=mtls, why=decision.why, proxy_answer=True)
            if client_id:
                headers = [(k, v) for k, v in headers if k.lower() != "l5d-client-id"] + [("l5d-client-id", client_id)]
            app_ip = source_ip
        else:
            app_ip = source_ip
        app_request = make_app_request(request.method, request.host, request.path, tuple(headers),
                                       request.body, app_ip, port, call=facts.client)
        # the app's own outbound calls are exchanges of their own: their hops are not this request's
        lab.__dict__["_mesh_nested"] = lab.__dict__.get("_mesh_nested", 0) + 1
        try:
            app, container = facts.app(port)
            answer = app.serve(pod, container, app_request)
        finally:
            lab.__dict__["_mesh_nested"] -= 1
        record_access(lab.cluster, pod, port, app_request, answer)   # what the container prints of it
        if answer.status == 0:
            return Attempt(resilience.CONNECT_FAILURE, UPSTREAM_FAILURE_TEXT + "connection failure",
                           why=f"nothing in pod {facts.key} listens on {port}")
        if not self.verbose:       # an app's own call: the caller reads status, body and time only
            return Attempt(answer.status, answer.text, {}, answer.delay_ms, pod, None, mtls)
        self.hops.append(make_hop(where, answer.app or app.name, f"answers {answer.status} after {answer.delay_ms} ms"))
        received = ServerRequest(request.method, request.host, request.path, headers, request.body)
        return Attempt(answer.status, answer.text, dict(answer.headers), answer.delay_ms, pod, received, mtls,
                       f"{answer.app or app.name} in pod {facts.key} answered {answer.status}")

    def _xfcc(self, server_id: str, client_pod: dict) -> str:
        """X-Forwarded-Client-Cert with the Hash of the client's workload certificate from istiod's CA."""
        def compute():
            cert = workload_certificate(self.lab.cluster, client_pod)
            uri = "spiffe://" + identity(self.lab, client_pod)
            return security.xfcc(server_id, uri, MeshCA.der(cert))
        return self.view.of("xfcc", client_pod, compute, server_id)

    def _request_authentication(self, pod: dict, request):
        policies = self.view.facts(pod).request_authentications
        if not policies:
            return None
        return jwt_rules.verify(policies, dict(request.headers))


def _uuid4_text(bits: int) -> str:
    """str(uuid.UUID(int=bits, version=4)) without building a UUID: the version and variant bits set, then the
    8-4-4-4-12 hex form."""
    bits = (bits & ~(0xc000 << 48) | (0x8000 << 48)) & ~(0xf000 << 64) | (4 << 76)
    h = "%032x" % bits
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _claims(payload: dict) -> tuple:
    return tuple(sorted(payload.items(), key=lambda kv: kv[0]))


def _www_authenticate(request) -> dict:
    """Envoy's jwt_authn failure header."""
    return {"www-authenticate": f'Bearer realm="{request.scheme}://{request.host}{request.path}", '
                                'error="invalid_token"'}
