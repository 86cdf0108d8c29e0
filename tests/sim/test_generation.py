"""metadata.generation as the v1.35 API server keeps it: only the kinds whose registry strategy sets it carry it,
and an update bumps it only when what the strategy counts as the desired state changed."""
from __future__ import annotations

import copy

import pytest

import kubelab

IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.53"


def deployment(replicas=1, labels=None, annotations=None):
    meta = {"name": "web", "namespace": "default", "labels": labels or {"tier": "front"}}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": IMAGE,
                                                           "ports": [{"containerPort": 8080}]}]}}}}


def service(labels=None, port=80):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "default", "labels": labels or {}},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": port, "targetPort": 8080}]}}


def policy(labels=None, port=8080):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "only-8080", "namespace": "default", "labels": labels or {}},
            "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
                     "ingress": [{"ports": [{"port": port}]}]}}


def generation_of(lab, kind, name, namespace="default"):
    return lab.get(kind, name, namespace)["metadata"].get("generation")


@pytest.fixture
def lab():
    lab = kubelab.connect()
    lab.apply([deployment(), service(), policy(),
               {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}}])
    return lab


def test_kinds_whose_strategy_has_no_generation_show_none(lab):
    """Do Namespaces, Nodes, Services, ConfigMaps and Endpoints come back without metadata.generation?"""
    for kind in ("Namespace", "Node", "Service", "ConfigMap", "Endpoints"):
        objects = lab.list(kind)
        assert objects, kind
        assert [o["metadata"]["name"] for o in objects if "generation" in o["metadata"]] == [], kind


def test_kinds_whose_strategy_sets_it_start_at_one(lab):
    """Do Deployments, Pods, NetworkPolicies and EndpointSlices start at generation 1?"""
    assert generation_of(lab, "Deployment", "web") == 1
    assert generation_of(lab, "NetworkPolicy", "only-8080") == 1
    assert {p["metadata"]["generation"] for p in lab.list("Pod", "default")} == {1}
    assert generation_of(lab, "EndpointSlice", "kubernetes") == 1


def test_replicas_change_bumps_a_deployment(lab):
    """Does a new spec.replicas take a Deployment from generation 1 to 2?"""
    lab.apply(deployment(replicas=2))
    assert generation_of(lab, "Deployment", "web") == 2
    lab.apply(deployment(replicas=3))
    assert generation_of(lab, "Deployment", "web") == 3


def test_unchanged_apply_does_not_bump(lab):
    """After a scale to 2, is a re-apply of the same manifests "unchanged", every generation as it was?"""
    lab.apply(deployment(replicas=2))
    kinds = ("Deployment", "Pod", "EndpointSlice", "NetworkPolicy")
    before = {k: [o["metadata"].get("generation") for o in lab.list(k)] for k in kinds}
    assert before["Deployment"] == [2, 1]    # default/web, kube-system/coredns
    result = lab.apply([deployment(replicas=2), service(), policy()])
    assert "configured" not in str(result) and "unchanged" in str(result)
    assert {k: [o["metadata"].get("generation") for o in lab.list(k)] for k in kinds} == before


def test_label_only_change_does_not_bump_kinds_that_ignore_metadata(lab):
    """Does a re-apply that only relabels a Deployment or a NetworkPolicy keep the generation it has?"""
    lab.apply([deployment(replicas=2), policy(port=9090)])
    assert "configured" in str(lab.apply([deployment(replicas=2, labels={"tier": "back"}),
                                          policy(labels={"team": "a"}, port=9090)]))
    assert lab.get("Deployment", "web")["metadata"]["labels"] == {"tier": "back"}
    assert generation_of(lab, "Deployment", "web") == 2
    assert generation_of(lab, "NetworkPolicy", "only-8080") == 2


def test_annotation_change_bumps_a_deployment_but_not_a_networkpolicy(lab):
    """Deployment's strategy counts annotations (they are copied to ReplicaSets); NetworkPolicy's only spec."""
    lab.apply(deployment(annotations={"team": "a"}))
    assert generation_of(lab, "Deployment", "web") == 2
    lab.apply({**policy(), "metadata": {**policy()["metadata"], "annotations": {"team": "a"}}})
    assert generation_of(lab, "NetworkPolicy", "only-8080") == 1
    lab.apply(policy(port=9090))
    assert generation_of(lab, "NetworkPolicy", "only-8080") == 2


def test_a_manifest_cannot_set_the_generation(lab):
    """Is a generation written in a manifest ignored on update (rest.BeforeUpdate keeps the stored one)?"""
    doc = deployment(replicas=2)
    doc["metadata"]["generation"] = 40
    lab.apply(doc)
    assert generation_of(lab, "Deployment", "web") == 2


def test_pod_spec_change_bumps_and_graceful_deletion_bumps_again(lab):
    """Pod generation (KEP-5067): a spec change adds one (here the image), and so does the first graceful delete."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solo", "labels": {"run": "solo"}},
           "spec": {"containers": [{"name": "c", "image": IMAGE}]}}
    lab.apply(pod)
    relabelled = copy.deepcopy(pod)
    relabelled["metadata"]["labels"]["extra"] = "yes"
    lab.apply(relabelled)
    assert generation_of(lab, "Pod", "solo") == 1
    changed = copy.deepcopy(relabelled)
    changed["spec"]["containers"][0]["image"] = IMAGE.replace("2.53", "2.54")
    lab.apply(changed)
    assert generation_of(lab, "Pod", "solo") == 2
    lab.delete("Pod", "solo")
    assert generation_of(lab, "Pod", "solo") == 3
    lab.delete("Pod", "solo", grace_period=5)     # a second delete only shortens the grace period
    assert generation_of(lab, "Pod", "solo") == 3


def test_controller_rewriting_an_endpointslice_bumps_it(lab):
    """When the EndpointSlice controller rewrites a Service's slice (a new replica's endpoint), is it bumped?"""
    def slices():
        return lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=web")

    [before] = slices()
    assert before["metadata"]["generation"] == 1 and len(before["endpoints"]) == 1
    lab.apply(deployment(replicas=2))
    [after] = slices()
    assert after["metadata"]["name"] == before["metadata"]["name"] and len(after["endpoints"]) == 2
    assert after["metadata"]["generation"] == 2


def test_relabelling_an_endpointslice_bumps_it(lab):
    """EndpointSlice's strategy counts its labels as well as everything outside metadata."""
    doc = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
           "metadata": {"name": "manual", "labels": {"kubernetes.io/service-name": "ext"}},
           "addressType": "IPv4", "endpoints": [{"addresses": ["192.0.2.10"]}], "ports": [{"port": 80}]}
    lab.apply(doc)
    doc["metadata"]["annotations"] = {"note": "x"}
    lab.apply(doc)
    assert generation_of(lab, "EndpointSlice", "manual") == 1
    doc["metadata"]["labels"]["team"] = "a"
    lab.apply(doc)
    assert generation_of(lab, "EndpointSlice", "manual") == 2


def test_custom_resources_count_everything_but_metadata_and_a_status_subresource():
    """A CR with a status subresource (HTTPRoute) ignores status; one without (ReferenceGrant) does not."""
    from kubelab.sim import generation

    old = {"kind": "HTTPRoute", "metadata": {"generation": 4}, "spec": {"a": 1}, "status": {"x": 1}}
    new = {**old, "metadata": {"labels": {"l": "v"}}, "status": {"x": 2}}
    generation.on_update("HTTPRoute", old, new)
    assert new["metadata"] == {"labels": {"l": "v"}, "generation": 4}
    grant = {"kind": "ReferenceGrant", "metadata": {"generation": 4}, "spec": {"a": 1}}
    regrant = {**grant, "metadata": {}, "status": {"x": 2}}
    generation.on_update("ReferenceGrant", grant, regrant)
    assert regrant["metadata"]["generation"] == 5


def test_httproute_spec_change_bumps_it_and_its_conditions_follow():
    """An HTTPRoute (a CRD with a status subresource): a new rule bumps it to 2 and Envoy Gateway's conditions
    report observedGeneration 2; a relabel leaves both at 2."""
    lab = kubelab.connect("simulated", gateway_controller="envoy-gateway", seed=0)
    ns = "default"
    route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
             "metadata": {"name": "web", "namespace": ns},
             "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]}}
    lab.apply([deployment(), service(),
               {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "gw", "namespace": ns},
                "spec": {"gatewayClassName": "eg", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}},
               route])

    def observed():
        status = lab.get("HTTPRoute", "web", ns)["status"]
        return sorted({c["observedGeneration"] for p in status["parents"] for c in p["conditions"]})

    assert generation_of(lab, "HTTPRoute", "web") == 1 and observed() == [1]
    route["spec"]["hostnames"] = ["web.example"]
    lab.apply(route)
    assert generation_of(lab, "HTTPRoute", "web") == 2 and observed() == [2]
    route["metadata"]["labels"] = {"team": "a"}
    assert "configured" in str(lab.apply(route))
    assert generation_of(lab, "HTTPRoute", "web") == 2 and observed() == [2]
    assert generation_of(lab, "Gateway", "gw") == 1


def test_mirroring_controller_rewriting_a_slice_bumps_it(lab):
    """A selector-less Service's hand-written Endpoints change: is the mirrored EndpointSlice bumped to 2?"""
    external = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"}, "spec": {"ports": [{"port": 5432}]}}
    endpoints = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "db"},
                 "subsets": [{"addresses": [{"ip": "192.0.2.20"}], "ports": [{"port": 5432}]}]}
    lab.apply([external, endpoints])

    def mirrored():
        [only] = lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=db")
        return only

    assert mirrored()["metadata"]["generation"] == 1 and "generation" not in lab.get("Endpoints", "db")["metadata"]
    endpoints["subsets"][0]["addresses"].append({"ip": "192.0.2.21"})
    lab.apply(endpoints)
    assert len(mirrored()["endpoints"]) == 2 and mirrored()["metadata"]["generation"] == 2
