"""Custom resources (Gateway API, Istio, Linkerd) served as kube-apiserver serves CRD-defined kinds: discovery
with the CRDs' names and categories, their printer columns, JSON merge patch semantics, the status
subresource and the CustomResourceDefinitions themselves, checked with the real kubectl and the Python client."""
from __future__ import annotations

import json

import pytest
import yaml

from ..sim.mesh.helpers import dr, pa, vs
from .manifests import GATEWAY

REVIEWS_V1 = vs("reviews", "default", {"hosts": ["reviews"], "gateways": ["mesh"],
                                       "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]})
MESH_CONFIG = yaml.safe_dump_all([
    REVIEWS_V1,
    dr("reviews", "default", {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}),
    pa("default", "default", {"mtls": {"mode": "STRICT"}}),
    {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "igw", "namespace": "default"},
     "spec": {"selector": {"istio": "ingressgateway"},
              "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}},
])


def _rows(out: str) -> list[list[str]]:
    """A kubectl table split into columns on runs of two or more spaces (cells may hold one space)."""
    import re
    return [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()]


def test_gateway_api_kinds_are_served_from_their_crds(kubectl, lab):
    """Are Gateway API kinds (registered with vendored CRDs) applied, printed with their CRD columns and explained?"""
    kubectl.write("gw.yaml", GATEWAY)
    kubectl.ok("apply", "-f", "gw.yaml")
    route = lab.get("HTTPRoute", "shop")
    assert route["spec"]["rules"][0]["backendRefs"][0]["kind"] == "Service"   # the CRD's default
    gateway = kubectl.ok("get", "gateway").splitlines()
    assert gateway[0].split() == ["NAME", "CLASS", "ADDRESS", "PROGRAMMED", "AGE"]
    status = lab.get("Gateway", "gw")["status"]["conditions"]
    programmed = next(c["status"] for c in status if c["type"] == "Programmed")
    assert gateway[1].split()[:3] == ["gw", "eg", programmed]
    assert kubectl.ok("get", "httproutes").splitlines()[0].split() == ["NAME", "HOSTNAMES", "AGE"]
    assert kubectl.ok("get", "httproute").splitlines()[1].split()[:2] == ["shop", '["shop.example"]']
    assert _rows(kubectl.ok("get", "gc", "-o", "wide"))[0] == ["NAME", "CONTROLLER", "ACCEPTED", "AGE", "DESCRIPTION"]
    explained = kubectl.ok("explain", "httproute.spec.rules")
    assert "KIND:       HTTPRoute" in explained and "backendRefs\t<[]Object>" in explained
    assert "FIELD: hostnames <[]string>" in kubectl.ok("explain", "httproute.spec.hostnames")


def test_istio_kinds_print_their_crd_columns(kubectl):
    """Do VirtualServices, DestinationRules and PeerAuthentications print the columns their CRDs declare, with
    lists as compact JSON and a missing field as an empty cell?"""
    kubectl.write("mesh.yaml", MESH_CONFIG)
    kubectl.ok("apply", "-f", "mesh.yaml")
    virtual = _rows(kubectl.ok("get", "vs"))
    assert virtual[0] == ["NAME", "GATEWAYS", "HOSTS", "AGE"]
    assert virtual[1][:3] == ["reviews", '["mesh"]', '["reviews"]']
    assert _rows(kubectl.ok("get", "dr"))[0] == ["NAME", "HOST", "AGE"]
    assert _rows(kubectl.ok("get", "dr"))[1][:2] == ["reviews", "reviews"]
    assert _rows(kubectl.ok("get", "pa"))[1][:2] == ["default", "STRICT"]
    # Istio's Gateway shares its kind name with Gateway API's: served as gateways.networking.istio.io (gw)
    assert _rows(kubectl.ok("get", "gw"))[0] == ["NAME", "AGE"]
    assert json.loads(kubectl.ok("get", "gateways.networking.istio.io", "igw", "-o", "json"))["kind"] == "Gateway"
    kubectl.write("no-gateways.yaml", yaml.safe_dump(vs("bare", "default", {
        "hosts": ["ratings"], "http": [{"route": [{"destination": {"host": "ratings"}}]}]})))
    kubectl.ok("apply", "-f", "no-gateways.yaml")
    bare = next(r for r in kubectl.ok("get", "vs").splitlines() if r.startswith("bare"))
    assert bare.split()[1] == '["ratings"]'   # no GATEWAYS: an empty cell, as kubectl prints a null


def test_discovery_lists_crd_names_and_categories(kubectl):
    """Does discovery carry each CRD's short names and categories, so `kubectl get istio-io` and
    `kubectl get gateway-api` list every kind in the category, and the preferred version is the newest?"""
    listed = _rows(kubectl.ok("api-resources", "--api-group=networking.istio.io"))
    by_name = {row[0]: row for row in listed[1:]}
    assert set(by_name) == {"destinationrules", "gateways", "serviceentries", "virtualservices"}
    assert by_name["gateways"][1:] == ["gw", "networking.istio.io/v1", "true", "Gateway"]
    linkerd = {row[0]: row for row in _rows(kubectl.ok("api-resources", "--api-group=policy.linkerd.io"))[1:]}
    assert linkerd["servers"][1:3] == ["srv", "policy.linkerd.io/v1beta3"]
    assert linkerd["authorizationpolicies"][1] == "authzpolicy"
    kubectl.write("mesh.yaml", MESH_CONFIG)
    kubectl.write("gw.yaml", GATEWAY)
    kubectl.ok("apply", "-f", "mesh.yaml", "-f", "gw.yaml")
    istio = kubectl.ok("get", "istio-io", "-o", "name").split()
    assert sorted(istio) == ["destinationrule.networking.istio.io/reviews", "gateway.networking.istio.io/igw",
                             "peerauthentication.security.istio.io/default",
                             "virtualservice.networking.istio.io/reviews"]
    assert "httproute.gateway.networking.k8s.io/shop" in kubectl.ok("get", "gateway-api", "-o", "name").split()
    assert "virtualservice" not in kubectl.ok("get", "all", "-o", "name")   # CRDs are not in "all"


def test_get_crd_lists_the_installed_definitions(kubectl):
    """Does `kubectl get crd` list a CustomResourceDefinition per custom kind, with the names, printer columns
    and status subresource the upstream CRD declares?"""
    from kubelab.api import kinds

    table = _rows(kubectl.ok("get", "crd"))
    assert table[0] == ["NAME", "CREATED AT"]
    names = [row[0] for row in table[1:]]
    custom = [k for k in kinds.all_kinds() if not k.openapi_schema]
    assert len(names) == len(custom) and names == sorted(names)
    assert {"httproutes.gateway.networking.k8s.io", "virtualservices.networking.istio.io",
            "gateways.networking.istio.io", "servers.policy.linkerd.io"} <= set(names)
    crd = json.loads(kubectl.ok("get", "crd", "virtualservices.networking.istio.io", "-o", "json"))
    assert crd["spec"]["names"]["shortNames"] == ["vs"]
    assert crd["spec"]["names"]["categories"] == ["istio-io", "networking-istio-io"]
    v1 = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    assert v1["storage"] and v1["subresources"] == {"status": {}}
    assert [c["jsonPath"] for c in v1["additionalPrinterColumns"]] == [
        ".spec.gateways", ".spec.hosts", ".metadata.creationTimestamp"]
    server = json.loads(kubectl.ok("get", "crd", "servers.policy.linkerd.io", "-o", "json"))
    assert "subresources" not in server["spec"]["versions"][0]   # Linkerd's CRDs have none


def test_client_side_apply_uses_json_merge_patch(kubectl, lab):
    """Does re-applying a changed VirtualService replace its lists whole and drop the fields the manifest no
    longer names (JSON merge patch, as kube-apiserver does for custom resources), and is a strategic merge
    patch refused with 415?"""
    two_routes = vs("reviews", "default", {"hosts": ["reviews"], "gateways": ["mesh"], "http": [
        {"match": [{"headers": {"end-user": {"exact": "jason"}}}],
         "route": [{"destination": {"host": "reviews", "subset": "v2"}}]},
        {"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]})
    kubectl.write("vs.yaml", yaml.safe_dump(two_routes))
    kubectl.ok("apply", "-f", "vs.yaml")
    one_route = vs("reviews", "default", {"hosts": ["reviews"], "http": [
        {"route": [{"destination": {"host": "reviews", "subset": "v3"}}]}]})
    kubectl.write("vs.yaml", yaml.safe_dump(one_route))
    assert "virtualservice.networking.istio.io/reviews configured" in kubectl.ok("apply", "-f", "vs.yaml")
    spec = lab.get("VirtualService", "reviews")["spec"]
    assert spec == one_route["spec"]   # the list replaced whole, gateways removed
    result = kubectl("patch", "vs", "reviews", "-p", '{"spec":{"hosts":["ratings"]}}')
    assert result.returncode == 1
    assert ("error: application/strategic-merge-patch+json is not supported by networking.istio.io/v1, "
            "Kind=VirtualService") in result.stderr
    kubectl.ok("patch", "vs", "reviews", "--type=merge", "-p", '{"spec":{"hosts":["ratings"]}}')
    assert lab.get("VirtualService", "reviews")["spec"]["hosts"] == ["ratings"]


def test_server_side_apply_of_a_custom_resource(kubectl, lab):
    """Does `kubectl apply --server-side` create and then update a DestinationRule?"""
    rule = dr("ratings", "default", {"host": "ratings", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]})
    kubectl.write("dr.yaml", yaml.safe_dump(rule))
    assert "serverside-applied" in kubectl.ok("apply", "--server-side", "-f", "dr.yaml")
    rule["spec"]["trafficPolicy"] = {"tls": {"mode": "ISTIO_MUTUAL"}}
    kubectl.write("dr.yaml", yaml.safe_dump(rule))
    kubectl.ok("apply", "--server-side", "-f", "dr.yaml")
    assert lab.get("DestinationRule", "ratings")["spec"]["trafficPolicy"]["tls"]["mode"] == "ISTIO_MUTUAL"
    kubectl.ok("delete", "-f", "dr.yaml")
    with pytest.raises(Exception):
        lab.get("DestinationRule", "ratings")


def test_python_client_custom_objects_and_status(server, lab):
    """Does the official client's CustomObjectsApi create, list, merge-patch and patch the status subresource
    of a VirtualService, with .status ignored on the main resource as a CRD with a status subresource does?"""
    kubernetes = pytest.importorskip("kubernetes")
    config = kubernetes.config.new_client_from_config(str(server.kubeconfig))
    api = kubernetes.client.CustomObjectsApi(config)
    args = ("networking.istio.io", "v1", "default", "virtualservices")
    api.create_namespaced_custom_object(*args, {**REVIEWS_V1, "status": {"validationMessages": ["x"]}})
    assert "status" not in lab.get("VirtualService", "reviews")
    listed = api.list_namespaced_custom_object(*args)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["reviews"]
    api.patch_namespaced_custom_object(*args, "reviews", {"spec": {"hosts": ["reviews", "reviews.example"]}})
    assert lab.get("VirtualService", "reviews")["spec"]["hosts"] == ["reviews", "reviews.example"]
    status = {"status": {"observedGeneration": 1, "conditions": [{"type": "Reconciled", "status": "True"}]}}
    got = api.patch_namespaced_custom_object_status(*args, "reviews", status)
    assert got["status"]["conditions"][0]["type"] == "Reconciled"
    assert lab.get("VirtualService", "reviews")["spec"]["hosts"] == ["reviews", "reviews.example"]
    # a PUT of the main resource keeps the status the subresource wrote
    current = api.get_namespaced_custom_object(*args, "reviews")
    current["status"] = {}
    api.replace_namespaced_custom_object(*args, "reviews", current)
    assert lab.get("VirtualService", "reviews")["status"]["conditions"][0]["status"] == "True"


def test_dynamic_client_discovers_custom_resources(server, lab):
    """Does the DynamicClient (legacy discovery) find Istio's Gateway by its API kind and list it?"""
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes.dynamic import DynamicClient

    client = DynamicClient(kubernetes.config.new_client_from_config(str(server.kubeconfig)))
    lab.apply(list(yaml.safe_load_all(MESH_CONFIG)))
    gateways = client.resources.get(api_version="networking.istio.io/v1", kind="Gateway")
    assert gateways.name == "gateways" and gateways.short_names == ["gw"]
    assert [g.metadata.name for g in gateways.get(namespace="default").items] == ["igw"]
    routes = client.resources.get(api_version="gateway.networking.k8s.io/v1", kind="HTTPRoute")
    assert routes.get(namespace="default").items == []


def test_explain_a_custom_resource_without_a_vendored_schema(kubectl):
    """Does `kubectl explain vs` answer from the served CRD (kind, group, where its fields are documented)
    instead of failing, and Istio's Gateway not borrow Gateway API's schema?"""
    explained = kubectl.ok("explain", "vs")
    assert "KIND:       VirtualService" in explained and "istio.io/latest/docs/reference/config/networking" in explained
    istio_gateway = kubectl.ok("explain", "gateways.networking.istio.io")
    assert "listeners" not in istio_gateway and "KIND:       Gateway" in istio_gateway
    assert "listeners\t<[]Object> -required-" in kubectl.ok("explain", "gateways.gateway.networking.k8s.io.spec")


def test_installing_a_crd_is_refused_with_the_reason(kubectl):
    """Is `kubectl apply` of a CustomResourceDefinition refused with a message saying the cluster brings its
    own CRDs, rather than a bare error?"""
    kubectl.write("crd.yaml", yaml.safe_dump({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object"}}}]}}))
    result = kubectl("apply", "-f", "crd.yaml")
    assert result.returncode == 1
    assert "installs its CustomResourceDefinitions itself" in result.stderr
    assert "widgets.example.com" not in kubectl.ok("get", "crd")
