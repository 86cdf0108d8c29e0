"""What the controller concludes (kubelab.net.http.gateway_status.compute), without a cluster."""
from __future__ import annotations

from kubelab.net.http.gateway_status import compute

from .test_gateway_edge import CLASSES, CONTROLLER, NAMESPACES, gateway, route, service

WHEN = "2026-01-01T00:00:00Z"


def view(gateways, routes=(), services=(), classes=CLASSES, addresses=None, available=None, secrets=()):
    return compute(CONTROLLER, list(classes), list(gateways), list(routes), [], list(services), list(secrets),
                   NAMESPACES, addresses or {}, available or {}, WHEN)


def conds(items):
    return {c["type"]: (c["status"], c["reason"]) for c in items}


HTTP = [{"name": "http", "port": 80, "protocol": "HTTP"}]


def test_gatewayclass_of_another_controller_gets_no_status():
    other = {"metadata": {"name": "other"}, "spec": {"controllerName": "example.com/x"}}
    v = view([], classes=CLASSES + [other])
    assert conds(v.class_status["eg"]["conditions"]) == {"Accepted": ("True", "Accepted")}
    assert "other" not in v.class_status


def test_a_parameters_ref_that_does_not_resolve_is_invalid_parameters():
    gc = {"metadata": {"name": "custom"}, "spec": {"controllerName": CONTROLLER, "parametersRef": {
        "group": "gateway.envoyproxy.io", "kind": "EnvoyProxy", "name": "proxy-config", "namespace": "infra"}}}
    wrong = {"metadata": {"name": "wrong"}, "spec": {"controllerName": CONTROLLER, "parametersRef": {
        "group": "", "kind": "ConfigMap", "name": "x"}}}
    v = view([], classes=CLASSES + [gc, wrong])
    accepted = v.class_status["custom"]["conditions"][0]
    assert (accepted["status"], accepted["reason"]) == ("False", "InvalidParameters")
    assert "envoyproxy infra/proxy-config" in accepted["message"]
    assert "invalid group or kind" in v.class_status["wrong"]["conditions"][0]["message"]


def test_gateway_infrastructure_parameters_ref_that_does_not_resolve_rejects_the_gateway():
    """GatewayInfrastructure.parametersRef unresolvable or of an unsupported kind: Accepted False InvalidParameters
    (GatewayInvalidParametersRef); without one the Gateway is Accepted."""
    invalid = gateway(HTTP)
    invalid["spec"]["infrastructure"] = {"parametersRef": {"group": "invalid.io", "kind": "InvalidParameters",
                                                           "name": "invalid"}}
    missing = gateway(HTTP)
    missing["metadata"]["name"] = "gw2"
    missing["spec"]["infrastructure"] = {"parametersRef": {"group": "gateway.envoyproxy.io", "kind": "EnvoyProxy",
                                                           "name": "proxy"}}
    v = view([invalid, missing])
    for key in ("infra/gw", "infra/gw2"):
        assert conds(v.gateway_status[key]["conditions"])["Accepted"] == ("False", "InvalidParameters")
    assert "invalid.io/InvalidParameters" in v.gateway_status["infra/gw"]["conditions"][0]["message"]
    assert "envoyproxy infra/proxy" in v.gateway_status["infra/gw2"]["conditions"][0]["message"]
    assert conds(view([gateway(HTTP)]).gateway_status["infra/gw"]["conditions"])["Accepted"] == ("True", "Accepted")


def test_gateway_of_another_class_is_not_managed():
    gw = gateway(HTTP)
    gw["spec"]["gatewayClassName"] = "not-ours"
    assert view([gw]).gateway_status == {}


def test_programmed_needs_an_address_and_an_available_replica():
    gw = gateway(HTTP)
    assert conds(view([gw]).gateway_status["infra/gw"]["conditions"])["Programmed"] == ("False", "AddressNotAssigned")
    v = view([gw], addresses={"infra/gw": ["172.18.255.200"]}, available={"infra/gw": (0, 1)})
    assert conds(v.gateway_status["infra/gw"]["conditions"])["Programmed"] == ("False", "NoResources")
    v = view([gw], addresses={"infra/gw": ["172.18.255.200"]}, available={"infra/gw": (1, 1)})
    status = v.gateway_status["infra/gw"]
    assert conds(status["conditions"]) == {"Accepted": ("True", "Accepted"), "Programmed": ("True", "Programmed")}
    assert status["addresses"] == [{"type": "IPAddress", "value": "172.18.255.200"}]


def test_listeners_not_valid():
    """Accepted stays True with some invalid listeners (ListenersNotValid) and turns False when none is valid."""
    some = gateway(HTTP + [{"name": "udp", "port": 53, "protocol": "SCTP"}])
    assert conds(view([some]).gateway_status["infra/gw"]["conditions"])["Accepted"] == ("True", "ListenersNotValid")
    none = gateway([{"name": "x", "port": 53, "protocol": "SCTP"}])
    listener = view([none]).gateway_status["infra/gw"]["listeners"][0]
    assert conds(listener["conditions"])["Accepted"] == ("False", "UnsupportedProtocol")
    assert conds(view([none]).gateway_status["infra/gw"]["conditions"])["Accepted"] == ("False", "ListenersNotValid")


def test_protocol_conflict_on_one_port():
    gw = gateway([{"name": "a", "port": 80, "protocol": "HTTP"},
                  {"name": "b", "port": 80, "protocol": "TCP"},
                  {"name": "c", "port": 81, "protocol": "HTTP"}])
    listeners = {l["name"]: conds(l["conditions"]) for l in view([gw]).gateway_status["infra/gw"]["listeners"]}
    assert listeners["a"]["Conflicted"] == ("True", "ProtocolConflict")
    assert listeners["b"]["Conflicted"] == ("True", "ProtocolConflict")
    assert "Conflicted" not in listeners["c"] and listeners["c"]["Programmed"] == ("True", "Programmed")


def test_missing_certificate_and_supported_kinds():
    gw = gateway([{"name": "tls", "port": 443, "protocol": "HTTPS",
                   "tls": {"mode": "Terminate", "certificateRefs": [{"name": "nope"}]}}])
    listener = view([gw]).gateway_status["infra/gw"]["listeners"][0]
    assert conds(listener["conditions"]) == {"ResolvedRefs": ("False", "InvalidCertificateRef"),
                                             "Accepted": ("True", "Accepted"), "Programmed": ("False", "Invalid")}
    assert [k["kind"] for k in listener["supportedKinds"]] == ["HTTPRoute", "GRPCRoute"]


def test_attached_routes_count_accepted_parents_only():
    gw = gateway([{"name": "http", "port": 80, "protocol": "HTTP", "hostname": "foo.example.com"}])
    routes = [route("ok", {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "a", "port": 8080}]}]}),
              route("elsewhere", {"parentRefs": [{"name": "gw"}], "hostnames": ["bar.example.com"]}),
              route("broken-backend", {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [
                  {"name": "missing", "port": 8080}]}]})]
    v = view([gw], routes, [service("a")])
    assert v.gateway_status["infra/gw"]["listeners"][0]["attachedRoutes"] == 2
    assert conds(v.route_parents["infra/elsewhere"][0]["conditions"])["Accepted"] == ("False",
                                                                                     "NoMatchingListenerHostname")
    broken = conds(v.route_parents["infra/broken-backend"][0]["conditions"])
    assert broken == {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("False", "BackendNotFound")}


def test_parent_of_another_controller_or_kind_is_not_written():
    routes = [route("r", {"parentRefs": [{"name": "gw"}, {"name": "svc", "kind": "Service", "group": ""},
                                         {"name": "not-a-gateway"}]})]
    v = view([gateway(HTTP)], routes)
    assert [p["parentRef"]["name"] for p in v.route_parents["infra/r"]] == ["gw"]
    assert v.route_parents["infra/r"][0]["controllerName"] == CONTROLLER


def test_port_not_found_is_envoy_gateways_reason():
    routes = [route("r", {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "a", "port": 9}]}]})]
    v = view([gateway(HTTP)], routes, [service("a")])
    assert conds(v.route_parents["infra/r"][0]["conditions"])["ResolvedRefs"] == ("False", "PortNotFound")


def test_a_listener_that_is_not_programmed_still_counts_its_routes():
    """attachedRoutes counts accepted attachments whatever the listener's own state; the edge serves only
    Programmed listeners."""
    from .test_gateway_edge import edge, req

    gw = gateway([{"name": "a", "port": 80, "protocol": "HTTP"}, {"name": "b", "port": 80, "protocol": "TCP"}])
    routes = [route("r", {"parentRefs": [{"name": "gw", "sectionName": "a"}],
                          "rules": [{"backendRefs": [{"name": "s", "port": 8080}]}]})]
    e, v = edge([gw], routes, [service("s")])
    listener = v.gateway_status["infra/gw"]["listeners"][0]
    assert listener["attachedRoutes"] == 1 and conds(listener["conditions"])["Programmed"][0] == "False"
    assert e.route(req()).status == 404
