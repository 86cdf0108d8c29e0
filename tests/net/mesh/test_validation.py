"""Istio's and Linkerd's validating webhooks: each bad field is rejected with its path named."""
from __future__ import annotations

import pytest

from kubelab.errors import ValidationError
from kubelab.net.mesh.validation import validate


def vs(http, hosts=("reviews",), gateways=None):
    spec = {"hosts": list(hosts), "http": http}
    if gateways:
        spec["gateways"] = gateways
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "r", "namespace": "default"}, "spec": spec}


ROUTE = [{"destination": {"host": "reviews"}}]


@pytest.mark.parametrize("doc, field", [
    (vs([{"route": ROUTE}], hosts=()), "spec.hosts"),
    (vs([{"route": [{"destination": {"host": "a"}, "weight": -1}]}]), "spec.http[0].route[0].weight"),
    (vs([{"route": [{"destination": {"host": "a"}, "weight": 0}, {"destination": {"host": "b"}, "weight": 0}]}]),
     "spec.http[0].route"),
    (vs([{"route": [{"destination": {}}]}]), "spec.http[0].route[0].destination.host"),
    (vs([{}]), "spec.http[0].route"),
    (vs([{"route": ROUTE, "redirect": {"uri": "/x"}}]), "spec.http[0].redirect"),
    (vs([{"route": ROUTE, "match": [{"uri": {"exact": "/a", "prefix": "/b"}}]}]), "spec.http[0].match[0].uri"),
    (vs([{"route": ROUTE, "match": [{"uri": {"regex": "("}}]}]), "spec.http[0].match[0].uri.regex"),
    (vs([{"route": ROUTE, "match": [{"headers": {"End-User": {"exact": "x"}}}]}]),
     "spec.http[0].match[0].headers.End-User"),
    (vs([{"route": ROUTE, "timeout": "soon"}]), "spec.http[0].timeout"),
    (vs([{"route": ROUTE, "retries": {"attempts": -1}}]), "spec.http[0].retries.attempts"),
    (vs([{"route": ROUTE, "retries": {"attempts": 2, "retryOn": "5xx,sometimes"}}]), "spec.http[0].retries.retryOn"),
    (vs([{"route": ROUTE, "retries": {"attempts": 2, "perTryTimeout": "0s"}}]), "spec.http[0].retries.perTryTimeout"),
    (vs([{"route": ROUTE, "fault": {"abort": {"httpStatus": 700}}}]), "spec.http[0].fault.abort.httpStatus"),
    (vs([{"route": ROUTE, "fault": {"delay": {"fixedDelay": "1s", "percentage": {"value": 101}}}}]),
     "spec.http[0].fault.delay.percentage.value"),
    (vs([{"route": ROUTE}], hosts=("*",)), "spec.hosts[0]"),
])
def test_virtual_service_rejections_name_the_field(doc, field):
    with pytest.raises(ValidationError) as err:
        validate(doc)
    assert err.value.field == field


def test_weights_need_not_sum_to_100():
    """Since Istio 1.15 weights are relative: 1 and 3 are accepted."""
    validate(vs([{"route": [{"destination": {"host": "a"}, "weight": 1}, {"destination": {"host": "b"}, "weight": 3}]}]))
    validate(vs([{"route": [{"destination": {"host": "a"}, "weight": 100}, {"destination": {"host": "b"}, "weight": 0}]}]))


def doc(kind, spec, group="security.istio.io"):
    return {"apiVersion": f"{group}/v1", "kind": kind, "metadata": {"name": "x", "namespace": "default"},
            "spec": spec}


@pytest.mark.parametrize("bad, field", [
    (doc("DestinationRule", {}, "networking.istio.io"), "spec.host"),
    (doc("DestinationRule", {"host": "r", "subsets": [{"name": "v1"}, {"name": "v1"}]}, "networking.istio.io"),
     "spec.subsets[1].name"),
    (doc("DestinationRule", {"host": "r", "trafficPolicy": {"tls": {"mode": "STRICT"}}}, "networking.istio.io"),
     "spec.trafficPolicy.tls.mode"),
    (doc("Gateway", {"servers": []}, "networking.istio.io"), "spec.servers"),
    (doc("Gateway", {"servers": [{"port": {"number": 80, "protocol": "HTTP", "name": "h"}}]}, "networking.istio.io"),
     "spec.servers[0].hosts"),
    (doc("ServiceEntry", {"hosts": []}, "networking.istio.io"), "spec.hosts"),
    (doc("PeerAuthentication", {"mtls": {"mode": "ON"}}), "spec.mtls.mode"),
    (doc("PeerAuthentication", {"portLevelMtls": {"8080": {"mode": "DISABLE"}}}), "spec.portLevelMtls"),
    (doc("AuthorizationPolicy", {"action": "REJECT"}), "spec.action"),
    (doc("AuthorizationPolicy", {"action": "CUSTOM"}), "spec.provider"),
    (doc("AuthorizationPolicy", {"rules": [{"from": [{}]}]}), "spec.rules[0].from[0].source"),
    (doc("AuthorizationPolicy", {"rules": [{"when": [{"key": "request.colour", "values": ["x"]}]}]}),
     "spec.rules[0].when[0].key"),
    (doc("RequestAuthentication", {"jwtRules": [{"jwksUri": "https://x"}]}), "spec.jwtRules[0].issuer"),
    (doc("Server", {"podSelector": {}}, "policy.linkerd.io"), "spec.port"),
    (doc("MeshTLSAuthentication", {}, "policy.linkerd.io"), "spec.identities"),
])
def test_other_kinds_reject_with_the_field(bad, field):
    with pytest.raises(ValidationError) as err:
        validate(bad)
    assert err.value.field == field


def test_allow_nothing_and_allow_all_are_valid():
    validate(doc("AuthorizationPolicy", {}))
    validate(doc("AuthorizationPolicy", {"rules": [{}]}))
