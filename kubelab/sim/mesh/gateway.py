"""The Istio ingress gateway: the Gateway server that accepts the listener port and Host, the gateway's own
JWT and authorization filters, then the VirtualServices bound to that Gateway."""
from __future__ import annotations

from ...net.mesh import security
from ...net.mesh.values import host_matches
from ...net.objects import labels_of, name_of, namespace_of
from ...results import Response
from .quick import make_hop
from .server import _claims, _www_authenticate
from .view import _key

__all__ = ["GatewaySide"]


class GatewaySide:
    """MeshWalk's ingress-gateway half (a mixin over the walk's state)."""

    def gateway(self, gw_pod: dict, landed_port: int, request, client_ip: str) -> Response:
        """The ingress gateway: a Gateway server on the listener port whose hosts cover the Host header, then the
        VirtualServices bound to that Gateway (routes tried in order), then on like a client sidecar."""
        lab = self.lab
        listener = _gateway_listener_port(lab, gw_pod, landed_port)
        servers = []
        for gw in lab.cluster.items("Gateway.networking.istio.io"):
            selector = (gw.get("spec") or {}).get("selector") or {}
            if selector and not all(labels_of(gw_pod).get(k) == v for k, v in selector.items()):
                continue
            for server in (gw.get("spec") or {}).get("servers") or []:
                # a server port is the gateway Service's port (80, mapped to its targetPort) or the pod's own (8080)
                if (server.get("port") or {}).get("number") in (listener, landed_port):
                    servers.append((gw, server))
        where = f"pod {_key(gw_pod)}"
        if not servers:
            if self.verbose:
                self.hops.append(make_hop(where, "istio-proxy", f"no Gateway server listens on port {listener}: the "
                                                                f"connection is refused"))
            return self.fail(0, f"no Gateway selects {_key(gw_pod)} with a server on port {listener}")
        host = request.host
        bound = [(gw, s) for gw, s in servers
                 if any(host_matches(h.split("/", 1)[-1].lower(), host) for h in s.get("hosts") or [])]
        if not bound:
            if self.verbose:
                self.hops.append(make_hop(where, "istio-proxy",
                                          f"no Gateway server on port {listener} accepts host {host}"))
            return self.fail(404, f"no Gateway server on port {listener} has host {host}", route="no virtual host")
        gw, server = bound[0]
        gw_name = f"{namespace_of(gw)}/{name_of(gw)}"
        self.client_pod = gw_pod
        if self.verbose:
            self.hops.append(make_hop(where, "istio-proxy", f"Gateway {gw_name} server port "
                                                            f"{server['port']['number']} accepts host {host}"))
        # RequestAuthentication at the gateway (JWT)
        jwt = self._request_authentication(gw_pod, request)
        if jwt is not None and jwt[0] == 401:
            if self.verbose:
                self.hops.append(make_hop(where, "istio-proxy", f"jwt_authn: {jwt[1]}"))
            return self.fail(401, jwt[1], text="Jwt verification fails", headers=_www_authenticate(request),
                             route=None)
        principal, claims = (jwt[1], _claims(jwt[2])) if jwt is not None else (None, ())
        decision = security.authorize(gw_pod, self.view.authorization_policies(gw_pod),
                                      security.Peer(None, None, client_ip, principal, claims), request.method,
                                      request.path, request.host, listener, dict(request.headers))
        if self.verbose:
            self.hops.append(make_hop(where, "istio-proxy", f"authorization: {decision.why}"))
        if not decision.allowed:
            return self.fail(403, decision.why, text="RBAC: access denied", route=None)
        mreq = self._mesh_request(request, gw_pod, gw_name, listener)
        table = self._virtual_services()
        entry = table.lookup(host, gw_name)
        if entry is None:
            if self.verbose:
                self.hops.append(make_hop(where, "istio-proxy",
                                          f"no VirtualService bound to Gateway {gw_name} has host {host}: 404"))
            return self.fail(404, f"no VirtualService bound to Gateway {gw_name} routes host {host}",
                             route="no route (NR)")
        return self.route_and_forward(gw_pod, entry, mreq, request)


def _gateway_listener_port(lab, gw_pod: dict, landed_port: int) -> int:
    """Gateway servers name the gateway Service's port (80), which the pod serves on its targetPort (8080)."""
    for service in lab.cluster.items("Service", namespace_of(gw_pod)):
        selector = service["spec"].get("selector") or {}
        if selector and all(labels_of(gw_pod).get(k) == v for k, v in selector.items()):
            for p in service["spec"].get("ports") or []:
                if p.get("targetPort", p["port"]) == landed_port:
                    return p["port"]
    return landed_port
