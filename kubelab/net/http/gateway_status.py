"""What a Gateway API controller (played as Envoy Gateway v1.9.0) concludes from the objects it watches:
which GatewayClasses and Gateways it accepts, each listener's conditions, which routes attach where, which
backend and certificate references resolve, and the status it writes for all of them. Pure: objects in,
statuses and routing facts out; kubelab.sim.gateway writes them back and builds the edges.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..objects import name_of, namespace_of
from .gateway_model import (GROUP, BackendRef, Listener, ParentRef, Route, grant_allows, intersect_hostnames,
                            namespace_labels, parse_gateway_listeners, parse_route)
from .tls import read_tls_secret

__all__ = ["ControllerView", "Attachment", "compute", "condition", "ROUTE_KINDS"]

# Route kinds Envoy Gateway serves per listener protocol (validateAllowedRoutes), in its order.
ROUTE_KINDS = {"HTTP": ("HTTPRoute", "GRPCRoute"), "HTTPS": ("HTTPRoute", "GRPCRoute"), "TLS": ("TLSRoute",),
               "TCP": ("TCPRoute",), "UDP": ("UDPRoute",)}


def condition(kind: str, status: bool | str, reason: str, message: str, generation: int, when: str) -> dict:
    """A metav1.Condition."""
    text = status if isinstance(status, str) else ("True" if status else "False")
    return {"type": kind, "status": text, "reason": reason, "message": message,
            "observedGeneration": generation, "lastTransitionTime": when}


@dataclass(frozen=True)
class Attachment:
    """A route attached to one listener, serving these hostnames there (None: any host)."""

    listener: Listener
    route: Route
    hostnames: tuple


@dataclass
class ListenerState:
    listener: Listener
    conditions: list = field(default_factory=list)
    supported_kinds: list = field(default_factory=list)
    tls_secret: str | None = None         # "namespace/name" of the first valid certificate
    attached: int = 0

    def has(self, kind: str, status: str) -> bool:
        return any(c["type"] == kind and c["status"] == status for c in self.conditions)

    @property
    def serves(self) -> bool:
        """Envoy gets a listener for it: Programmed True."""
        return self.has("Programmed", "True")


@dataclass
class ControllerView:
    """Everything compute() found: statuses to write and the routing facts the edges are built from."""

    class_status: dict = field(default_factory=dict)        # name -> status
    gateway_status: dict = field(default_factory=dict)      # "ns/name" -> status
    route_parents: dict = field(default_factory=dict)       # "ns/name" -> [parent status written by us]
    listeners: dict = field(default_factory=dict)           # "ns/name" -> [ListenerState]
    attachments: dict = field(default_factory=dict)         # "ns/name" of Gateway -> [Attachment]
    backend_problems: dict = field(default_factory=dict)    # (route key, field path) -> (reason, message)


def _secret_problem(secret: dict | None, ref_text: str) -> str | None:
    """A certificateRef must name a kubernetes.io/tls Secret whose tls.crt parses as a PEM certificate and whose
    tls.key is its private key (Envoy Gateway's validateTLSSecretData)."""
    if secret is None:
        return f"Secret {ref_text} does not exist."
    if secret.get("type") != "kubernetes.io/tls":
        return f"Secret {ref_text} must be of type kubernetes.io/tls."
    problem = read_tls_secret(secret).problem
    return f"Secret {ref_text}: {problem}." if problem else None


def _listener_states(gateway: dict, listeners: tuple[Listener, ...], secrets: dict, grants: list,
                     when: str) -> list[ListenerState]:
    """Per-listener validation in Envoy Gateway's order: protocol, allowedRoutes kinds, TLS certificateRefs,
    then protocol conflicts on a port; each listener ends with Accepted / Programmed / ResolvedRefs."""
    gen = gateway["metadata"].get("generation", 1)
    states = []
    for l in listeners:
        st = ListenerState(l)
        problems = []
        kinds = ROUTE_KINDS.get(l.protocol)
        if kinds is None:
            problems.append(("Accepted", "False", "UnsupportedProtocol",
                             f"Protocol {l.protocol} is unsupported, must be HTTP, HTTPS, TCP, UDP or TLS."))
            kinds = ()
        if l.allowed_kinds:
            for group, kind in l.allowed_kinds:
                if group != GROUP:
                    problems.append(("ResolvedRefs", "False", "InvalidRouteKinds",
                                     f"Group is not supported, group must be {GROUP}"))
                elif kind in kinds:
                    st.supported_kinds.append({"group": GROUP, "kind": kind})
                else:
                    shown = [k["kind"] for k in st.supported_kinds] or list(kinds)
                    problems.append(("ResolvedRefs", "False", "InvalidRouteKinds",
                                     f"{kind} is not supported, kind must be one of [{' '.join(shown)}]"))
        else:
            st.supported_kinds = [{"group": GROUP, "kind": k} for k in kinds]
        if l.allowed_from == "Selector" and l.allowed_selector is None:
            problems.append(("Programmed", "False", "Invalid", "The allowedRoutes.namespaces.selector field must be "
                             'specified when allowedRoutes.namespaces.from is set to "Selector".'))
        if l.protocol == "HTTPS" and l.tls_mode in (None, "Terminate"):
            bad = []
            for group, kind, ns, name in l.certificate_refs:
                ref_text = f"{ns}/{name}"
                if group not in ("", "core") or kind != "Secret":
                    bad.append(("InvalidCertificateRef", f"Certificate ref {ref_text} must be a core Secret."))
                elif ns != l.namespace and not grant_allows(grants, "Gateway", l.namespace, "Secret", ns, name):
                    bad.append(("RefNotPermitted", f"Certificate ref to secret {ref_text} not permitted by any "
                                                   "ReferenceGrant."))
                else:
                    problem = _secret_problem(secrets.get(ref_text), ref_text)
                    if problem:
                        bad.append(("InvalidCertificateRef", problem))
                    elif st.tls_secret is None:
                        st.tls_secret = ref_text
            if st.tls_secret is None and (bad or not l.certificate_refs):
                reason = bad[0][0] if bad else "InvalidCertificateRef"
                message = "No valid secrets exist: " + " ".join(m for _, m in bad) if bad else \
                    "Listener must have TLS set when protocol is HTTPS."
                problems.append(("ResolvedRefs", "False", reason, message))
        st.conditions = [condition(t, s == "True", r, m, gen, when) for t, s, r, m in problems]
        states.append(st)
    _mark_conflicts(states, gen, when)
    for st in states:
        _finish_conditions(st, gen, when)
    return states


def _mark_conflicts(states: list[ListenerState], gen: int, when: str) -> None:
    """validateConflictedProtocolsListeners: listeners sharing a port must use one protocol (HTTP and HTTPS
    on the same port conflict); every listener on such a port gets Conflicted True / ProtocolConflict."""
    by_port: dict[int, list[ListenerState]] = {}
    for st in states:
        if st.listener.protocol in ROUTE_KINDS and st.listener.protocol != "UDP":
            by_port.setdefault(st.listener.port, []).append(st)
    for port, group in by_port.items():
        protocols = {st.listener.protocol for st in group}
        if len(protocols) > 1:
            names = ", ".join(sorted(st.listener.name for st in group))
            for st in group:
                st.conditions.append(condition("Conflicted", True, "ProtocolConflict",
                                               "All listeners for a given port must use a compatible protocol, "
                                               f"conflicting listeners: {names}", gen, when))


def _finish_conditions(st: ListenerState, gen: int, when: str) -> None:
    """validateListenerConditions: a clean listener is Programmed, Accepted and ResolvedRefs True; a listener whose
    only fault is an invalid certificate is Accepted but not Programmed; any other fault makes it not Programmed."""
    conds = st.conditions
    if not conds:
        st.conditions = [condition("Programmed", True, "Programmed",
                                   "Sending translated listener configuration to the data plane", gen, when),
                         condition("Accepted", True, "Accepted", "Listener has been successfully translated", gen, when),
                         condition("ResolvedRefs", True, "ResolvedRefs", "Listener references have been resolved",
                                   gen, when)]
        return
    if len(conds) == 1 and conds[0]["type"] == "ResolvedRefs" and conds[0]["reason"] in ("InvalidCertificateRef",
                                                                                        "RefNotPermitted"):
        conds += [condition("Accepted", True, "Accepted", "Listener has been successfully translated", gen, when),
                  condition("Programmed", False, "Invalid", "Listener is invalid, see other Conditions for details.",
                            gen, when)]
        return
    types = {c["type"] for c in conds}
    if "Programmed" not in types:
        conds.append(condition("Programmed", False, "Invalid", "Listener is invalid, see other Conditions for details.",
                               gen, when))
    if "ResolvedRefs" not in types:
        conds.append(condition("ResolvedRefs", True, "ResolvedRefs", "Listener references have been resolved", gen, when))
    # several ResolvedRefs faults: the API allows one condition per type; the first found is kept
    seen, unique = set(), []
    for c in conds:
        if c["type"] not in seen:
            seen.add(c["type"])
            unique.append(c)
    st.conditions = unique


def _attach(route: Route, ref: ParentRef, states: list[ListenerState], ns_labels: dict):
    """Route attachment to one parentRef, in the order its failures are reported: sectionName/port select
    listeners (none: NoMatchingParent), allowedRoutes kinds and namespaces (none: NotAllowedByListeners), hostname
    intersection (none: NoMatchingListenerHostname). Listener readiness plays no part: a route attached to a listener
    that is not Programmed is counted in attachedRoutes but not served (processHTTPRouteParentRefListener)."""
    chosen = [st for st in states if (ref.section is None or st.listener.name == ref.section)
              and (ref.port is None or st.listener.port == ref.port)]
    if not chosen:
        return [], ("NoMatchingParent", "No listeners match this parent ref")
    allowed = [st for st in chosen if any(k["kind"] == "HTTPRoute" for k in st.supported_kinds)
               and st.listener.allows_namespace(route.namespace, ns_labels.get(route.namespace, {}))]
    if not allowed:
        return [], ("NotAllowedByListeners", "No listeners included by this parent ref allowed this attachment.")
    out = []
    for st in allowed:
        hosts = intersect_hostnames(st.listener.hostname, route.hostnames)
        if hosts:
            out.append((st, hosts))
    if not out:
        return [], ("NoMatchingListenerHostname", "There were no hostname intersections between the HTTPRoute and "
                                                  "this parent ref's Listener(s).")
    return out, None


def _backend_problem(route: Route, ref, services: dict, grants: list):
    """HTTPBackendRef resolution (RouteConditionResolvedRefs): a core Service (else InvalidKind), in the route's
    namespace or granted by a ReferenceGrant (else RefNotPermitted), that exists (else BackendNotFound) with
    the port named (else PortNotFound, Envoy Gateway's reason)."""
    ref_text = f"{ref.namespace}/{ref.name}"
    if ref.group not in ("", "core") or ref.kind != "Service":
        return "InvalidKind", f"Kind {ref.kind} of group {ref.group!r} is not supported: use a core Service."
    if ref.namespace != route.namespace and not grant_allows(grants, "HTTPRoute", route.namespace, "Service",
                                                              ref.namespace, ref.name):
        return "RefNotPermitted", f"Backend ref to Service {ref_text} not permitted by any ReferenceGrant."
    service = services.get(ref_text)
    if service is None:
        return "BackendNotFound", f"Service {ref_text} not found."
    if ref.port is not None and not any(p.get("port") == ref.port for p in service["spec"].get("ports") or []):
        return "PortNotFound", f"TCP Port {ref.port} not found on Service {ref_text}."
    return None


def _route_backends(route: Route):
    """Every backend reference of a route: backendRefs and the RequestMirror filters' (rule and backend level)."""
    for rule in route.rules:
        for b in rule.backends:
            yield b
            yield from (_mirror_ref(route, f) for f in b.filters if f.type == "RequestMirror")
        yield from (_mirror_ref(route, f) for f in rule.filters if f.type == "RequestMirror")


def _mirror_ref(route: Route, f) -> BackendRef:
    b = f.spec.get("backendRef") or {}
    return BackendRef(b.get("group", ""), b.get("kind", "Service"), b.get("namespace") or route.namespace,
                      b.get("name", ""), b.get("port"), 1, (), f.mirror_where)


def _parameters_problem(gc: dict) -> str | None:
    """processGatewayClassParamsRef: a parametersRef must name an EnvoyProxy (gateway.envoyproxy.io) that exists;
    kubelab serves no EnvoyProxy objects, so any parametersRef fails to resolve."""
    ref = (gc.get("spec") or {}).get("parametersRef")
    if not ref:
        return None
    if ref.get("group") != "gateway.envoyproxy.io" or ref.get("kind") != "EnvoyProxy":
        return f"unsupported parametersRef(invalid group or kind) for gatewayclass {name_of(gc)}"
    return (f"failed to find envoyproxy {ref.get('namespace') or 'default'}/{ref.get('name')} for GatewayClass "
            f"{name_of(gc)}: envoyproxies.gateway.envoyproxy.io \"{ref.get('name')}\" not found")


def _gateway_parameters_problem(gw: dict) -> str | None:
    """GatewayInfrastructure.parametersRef: a referent that cannot be found or of an unsupported kind rejects the
    Gateway (Accepted False, InvalidParameters; conformance GatewayInvalidParametersRef). Envoy Gateway reads an
    EnvoyProxy in the Gateway's namespace; kubelab serves none, so any parametersRef fails to resolve."""
    ref = ((gw.get("spec") or {}).get("infrastructure") or {}).get("parametersRef")
    if not ref:
        return None
    if ref.get("group") != "gateway.envoyproxy.io" or ref.get("kind") != "EnvoyProxy":
        return (f"unsupported parametersRef {ref.get('group')}/{ref.get('kind')} for Gateway {namespace_of(gw)}/"
                f"{name_of(gw)}: only gateway.envoyproxy.io/EnvoyProxy is supported")
    return f"failed to find envoyproxy {namespace_of(gw)}/{ref.get('name')} for Gateway {namespace_of(gw)}/{name_of(gw)}"


def compute(controller: str, classes: list[dict], gateways: list[dict], routes: list[dict], grants: list[dict],
            services: list[dict], secrets: list[dict], namespaces: list[dict], addresses: dict[str, list[str]],
            available: dict[str, tuple[int, int]], when: str, unusable: set = frozenset()) -> ControllerView:
    """Every status the controller writes, and the attachments routing is built from."""
    view = ControllerView()
    ours = {}
    for gc in classes:
        if (gc.get("spec") or {}).get("controllerName") == controller:
            gen = gc["metadata"].get("generation", 1)
            problem = _parameters_problem(gc)
            accepted = condition("Accepted", False, "InvalidParameters", f"Invalid parametersRef: {problem}", gen,
                                 when) if problem else condition("Accepted", True, "Accepted", "Valid GatewayClass",
                                                                 gen, when)
            view.class_status[name_of(gc)] = {"conditions": [accepted]}
            ours[name_of(gc)] = gc
    svc_index = {f"{namespace_of(s)}/{name_of(s)}": s for s in services}
    secret_index = {f"{namespace_of(s)}/{name_of(s)}": s for s in secrets}
    ns_labels = namespace_labels(namespaces)
    managed = {}
    for gw in gateways:
        if (gw.get("spec") or {}).get("gatewayClassName") not in ours:
            continue
        key = f"{namespace_of(gw)}/{name_of(gw)}"
        managed[key] = gw
        view.listeners[key] = _listener_states(gw, parse_gateway_listeners(gw), secret_index, grants, when)
        view.attachments[key] = []

    generations = {f"{namespace_of(r)}/{name_of(r)}": r["metadata"].get("generation", 1) for r in routes}
    parsed = sorted((parse_route(r) for r in routes), key=lambda r: (r.created, r.key))
    for route in parsed:
        problems = [(b.where, _backend_problem(route, b, svc_index, grants)) for b in _route_backends(route)]
        for where, problem in problems:
            if problem:
                view.backend_problems[(route.key, where)] = problem
        first = next((p for _, p in problems if p), None)
        parents = []
        for ref, written in zip(route.parents, route.written_parents):
            if ref.group != GROUP or ref.kind != "Gateway" or ref.gateway not in managed:
                continue   # another controller's parent (or none at all): not ours to write
            gen = generations.get(route.key, 1)
            attached, failure = _attach(route, ref, view.listeners[ref.gateway], ns_labels)
            if failure:
                accepted = condition("Accepted", False, failure[0], failure[1], gen, when)
            else:
                accepted = condition("Accepted", True, "Accepted", "Route is accepted", gen, when)
                for st, hosts in attached:
                    st.attached += 1
                    view.attachments[ref.gateway].append(Attachment(st.listener, route, hosts))
            resolved = condition("ResolvedRefs", first is None, first[0] if first else "ResolvedRefs",
                                 first[1] if first else "Resolved all the Object references for the Route", gen, when)
            parents.append({"parentRef": ref.as_status(written), "controllerName": controller,
                            "conditions": [accepted, resolved]})
        view.route_parents[route.key] = parents

    for key, gw in managed.items():
        view.gateway_status[key] = _gateway_status(gw, view.listeners[key], addresses.get(key) or [],
                                                   available.get(key, (0, 0)), when, key in unusable)
    return view


def _gateway_status(gw: dict, states: list[ListenerState], addresses: list[str], available: tuple[int, int],
                    when: str, address_unusable: bool = False) -> dict:
    """Gateway conditions as Envoy Gateway sets them: Accepted from its listeners (all, some: ListenersNotValid
    but True, none: False), Programmed once an address is assigned and an Envoy replica is available."""
    gen = gw["metadata"].get("generation", 1)
    bad = sorted(st.listener.name for st in states if not st.has("Accepted", "True"))
    problem = _gateway_parameters_problem(gw)
    if problem:
        accepted = condition("Accepted", False, "InvalidParameters", f"Invalid parametersRef: {problem}", gen, when)
    elif not bad:
        accepted = condition("Accepted", True, "Accepted", "The Gateway has been scheduled by Envoy Gateway", gen, when)
    elif len(bad) < len(states):
        accepted = condition("Accepted", True, "ListenersNotValid", f"Listeners not valid: {', '.join(bad)}", gen, when)
    else:
        accepted = condition("Accepted", False, "ListenersNotValid", f"No listeners are valid: {', '.join(bad)}",
                             gen, when)
    ready, replicas = available
    if address_unusable:
        programmed = condition("Programmed", False, "AddressNotUsable",
                               "One or more Gateway addresses cannot be used", gen, when)
    elif not addresses:
        programmed = condition("Programmed", False, "AddressNotAssigned",
                               "No addresses have been assigned to the Gateway", gen, when)
    elif ready > 0:
        programmed = condition("Programmed", True, "Programmed",
                               f"Address assigned to the Gateway, {ready}/{replicas} envoy replicas available", gen, when)
    else:
        programmed = condition("Programmed", False, "NoResources", "Envoy replicas unavailable", gen, when)
    return {"addresses": [{"type": "IPAddress", "value": ip} for ip in addresses],
            "conditions": [accepted, programmed],
            "listeners": [{"name": st.listener.name, "supportedKinds": st.supported_kinds,
                           "attachedRoutes": st.attached, "conditions": st.conditions} for st in states]}
