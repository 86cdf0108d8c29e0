"""v1 Endpoints: served (deprecated), kept by the endpoints controller, mirrored into EndpointSlices."""
from __future__ import annotations

import pytest

import kubelab
from kubelab.course.exercises._support import web_deployment, web_service
from kubelab import KubelabError

WEB = [web_deployment(replicas=3, port=8080, port_name="http"), web_service()]
EXTERNAL = """
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: db}
subsets:
- addresses: [{ip: 192.0.2.50}]
  notReadyAddresses: [{ip: 192.0.2.51}]
  ports: [{name: pg, port: 5432}]
"""


def test_endpoints_controller_writes_endpoints_for_a_selector_service():
    """Does a Service with a selector get an Endpoints of the same name listing its ready pods and ports?"""
    lab = kubelab.connect()
    lab.apply(WEB)
    ep = lab.get("Endpoints", "web")
    pod_ips = sorted(p["status"]["podIP"] for p in lab.list("Pod", "default", selector="app=web"))
    (subset,) = ep["subsets"]
    assert sorted(a["ip"] for a in subset["addresses"]) == pod_ips
    assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert all(a["targetRef"]["kind"] == "Pod" for a in subset["addresses"])


def test_not_ready_and_terminating_pods_in_endpoints():
    """Not-ready pods go to notReadyAddresses; terminating pods leave Endpoints (but stay in slices)."""
    lab = kubelab.connect()
    lab.apply(WEB)
    names = sorted(p["metadata"]["name"] for p in lab.list("Pod", "default", selector="app=web"))
    sick = lab.get("Pod", names[0])
    sick["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    lab.apply(sick)
    lab.delete("Pod", names[1])
    (subset,) = lab.get("Endpoints", "web")["subsets"]
    assert [a["targetRef"]["name"] for a in subset["notReadyAddresses"]] == [names[0]]
    listed = {a["targetRef"]["name"] for a in subset["addresses"]}
    assert names[1] not in listed and names[2] in listed


def test_endpoints_truncated_at_1000_with_the_over_capacity_annotation():
    """Over 1,000 endpoints, does Endpoints keep 1,000 and carry endpoints.kubernetes.io/over-capacity?"""
    lab = kubelab.connect(nodes=12)
    lab.apply([web_deployment(replicas=1100, port=8080, port_name="http"), web_service()])
    ep = lab.get("Endpoints", "web")
    assert ep["metadata"]["annotations"]["endpoints.kubernetes.io/over-capacity"] == "truncated"
    assert sum(len(s.get("addresses", [])) for s in ep["subsets"]) == 1000
    slices = lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=web")
    assert sum(len(s["endpoints"]) for s in slices) == 1100   # EndpointSlices are not truncated


def test_applying_endpoints_warns_and_is_mirrored_into_a_slice():
    """Hand-written Endpoints: the deprecation warning, then a mirrored slice kube-proxy uses."""
    lab = kubelab.connect()
    result = lab.apply(EXTERNAL)
    assert "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice" in result.warnings
    (mirror,) = lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=db")
    assert mirror["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == \
        "endpointslicemirroring-controller.k8s.io"
    assert [(e["addresses"][0], e["conditions"]["ready"]) for e in mirror["endpoints"]] == \
        [("192.0.2.50", True), ("192.0.2.51", False)]
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "c"},
               "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    verdict = lab.reach("default/c", "db", 5432)
    assert verdict.candidates == ("192.0.2.50:5432",)


def test_skip_mirror_label_and_service_deletion():
    """skip-mirror keeps Endpoints unmirrored; deleting the Service removes the Endpoints and the mirror."""
    lab = kubelab.connect()
    lab.apply(EXTERNAL.replace("metadata: {name: db}\nsubsets",
                               "metadata: {name: db, labels: {endpointslice.kubernetes.io/skip-mirror: 'true'}}\nsubsets"))
    assert lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=db") == []
    lab.apply(EXTERNAL)
    assert lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=db")
    lab.delete("Service", "db")
    assert lab.list("Endpoints", "default") == [e for e in lab.list("Endpoints", "default") if e["metadata"]["name"] != "db"]
    assert lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=db") == []


def test_bad_endpoints_are_rejected_with_the_field():
    """An address that is not an IP is rejected naming subsets[0].addresses[0].ip."""
    lab = kubelab.connect()
    with pytest.raises(KubelabError, match=r"subsets\[0\]\.addresses\[0\]\.ip"):
        lab.apply(EXTERNAL.replace("192.0.2.50", "db.example.com"))


def test_external_name_service_gets_no_slices_even_with_a_selector():
    """The EndpointSlice controller skips ExternalName Services."""
    lab = kubelab.connect()
    lab.apply(WEB)
    lab.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
               "spec": {"type": "ExternalName", "externalName": "db.example.com", "selector": {"app": "web"}}})
    assert lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=ext") == []
