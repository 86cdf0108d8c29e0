"""The Gateway API CRDs as the API server applies them: every CEL rule has a predicate, defaults are filled,
status is the controller's, transition rules see the stored object."""
from __future__ import annotations

import pytest

import kubelab
from kubelab.api.crd import cel_rules, load_crd
from kubelab.api.gateway import CRD_OF, admit
from kubelab.api.gateway_cel import RULES, parse_duration_ms
from kubelab.errors import ValidationError


@pytest.mark.parametrize("plural", sorted(CRD_OF.values()))
def test_every_cel_rule_of_the_crds_has_a_predicate(plural):
    """Is each x-kubernetes-validations rule of the vendored CRDs answered (no rule silently skipped)?"""
    crd = load_crd(plural)
    assert crd["bundleVersion"] == "v1.6.1" and crd["channel"] == "experimental"
    missing = [(path, msg) for path, msg, _ in cel_rules(crd["schema"])
               if msg not in RULES and not path.startswith("status")]
    assert missing == []


def test_defaults_from_the_crd():
    doc = admit({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                 "metadata": {"name": "r", "namespace": "default"},
                 "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "s", "port": 80}]}]}},
                None, "HTTPRoute default/r")
    assert doc["spec"]["parentRefs"][0] == {"name": "gw", "group": "gateway.networking.k8s.io", "kind": "Gateway"}
    assert doc["spec"]["rules"][0]["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    ref = doc["spec"]["rules"][0]["backendRefs"][0]
    assert (ref["group"], ref["kind"], ref["weight"]) == ("", "Service", 1)


def test_status_in_a_manifest_is_ignored_and_the_default_is_pending():
    doc = admit({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                 "metadata": {"name": "g", "namespace": "default"},
                 "spec": {"gatewayClassName": "x", "listeners": [{"name": "h", "port": 80, "protocol": "HTTP"}]},
                 "status": {"conditions": [{"type": "Programmed", "status": "True"}]}}, None, "Gateway default/g")
    assert [(c["type"], c["status"], c["reason"]) for c in doc["status"]["conditions"]] == \
        [("Accepted", "Unknown", "Pending"), ("Programmed", "Unknown", "Pending")]
    listener = doc["spec"]["listeners"][0]
    assert listener["allowedRoutes"] == {"namespaces": {"from": "Same"}}


def test_controller_name_is_immutable():
    """GatewayClass.spec.controllerName: "Value is immutable" (a transition rule, checked on update only)."""
    old = admit({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "c"},
                 "spec": {"controllerName": "example.com/a"}}, None, "GatewayClass c")
    with pytest.raises(ValidationError, match=r"spec.controllerName: .*Value is immutable"):
        admit({**old, "spec": {"controllerName": "example.com/b"}}, old, "GatewayClass c")


def test_gatewayclass_description_is_a_field_of_at_most_64_characters():
    """GatewayClassSpec.description: a string, maxLength 64 (the vendored schema keeps a property named description)."""
    doc = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "c"},
           "spec": {"controllerName": "example.com/a", "description": "old"}}
    assert admit(doc, None, "GatewayClass c")["spec"]["description"] == "old"
    with pytest.raises(ValidationError, match=r"spec.description"):
        admit({**doc, "spec": {**doc["spec"], "description": "x" * 65}}, None, "GatewayClass c")


def test_apply_is_all_or_nothing():
    lab = kubelab.connect("simulated", gateway_controller="envoy-gateway", seed=0)
    good = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "good"},
            "spec": {"rules": [{"backendRefs": [{"name": "s", "port": 80}]}]}}
    bad = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "bad"},
           "spec": {"rules": [{"backendRefs": [{"name": "s"}]}]}}
    with pytest.raises(kubelab.ValidationError, match=r"HTTPRoute default/bad: spec.rules\[0\].backendRefs\[0\]"):
        lab.apply([good, bad])
    assert lab.list("HTTPRoute") == []


@pytest.mark.parametrize("text,ms", [("1s", 1000), ("500ms", 500), ("1h2m3s4ms", 3723004), ("0s", 0)])
def test_duration(text, ms):
    assert parse_duration_ms(text) == ms


def test_short_names_and_versions():
    lab = kubelab.connect("simulated", gateway_controller="envoy-gateway", seed=0)
    assert lab.get("gc", "eg", None)["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    lab.apply({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "ReferenceGrant", "metadata": {"name": "g"},
               "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "x"}],
                        "to": [{"group": "", "kind": "Service"}]}})
    assert [g["metadata"]["name"] for g in lab.list("refgrant")] == ["g"]
    with pytest.raises(kubelab.UnknownKindError, match="apiVersion"):
        lab.apply({"apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "HTTPRoute", "metadata": {"name": "r"},
                   "spec": {}})
