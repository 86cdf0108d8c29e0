"""Webhook validation of the fields egress, circuit breaking and retry budgets read: bad values are refused at
apply with the object, the field path and the fix, and nothing of the batch is stored."""
from __future__ import annotations

import pytest

from kubelab.errors import KubelabError

from .helpers import dr, mesh_lab, se

SP = {"apiVersion": "linkerd.io/v1alpha2", "kind": "ServiceProfile",
      "metadata": {"name": "web.default.svc.cluster.local", "namespace": "default"}}


@pytest.mark.parametrize("doc, field", [
    (dr("web", "default", {"host": "web", "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": "one"}}}}),
     "spec.trafficPolicy.connectionPool.tcp.maxConnections"),
    (dr("web", "default", {"host": "web", "trafficPolicy": {"connectionPool": {"http": {"http1MaxPendingRequests": -1}}}}),
     "spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests"),
    (dr("web", "default", {"host": "web", "trafficPolicy": {"portLevelSettings": [{"tls": {"mode": "SIMPLE"}}]}}),
     "spec.trafficPolicy.portLevelSettings[0].port.number"),
    (dr("web", "default", {"host": "web", "trafficPolicy": {"portLevelSettings": [
        {"port": {"number": 80}, "tls": {"mode": "SOMETIMES"}}]}}), "spec.trafficPolicy.portLevelSettings[0].tls.mode"),
    (se("ext", "default", {"hosts": ["a.example"], "resolution": "STATIC", "ports": [{"number": 80, "name": "http"}]}),
     "spec.endpoints"),
    (se("ext", "default", {"hosts": ["a.example"], "resolution": "STATIC", "endpoints": [{"address": "a.example"}],
                           "ports": [{"number": 80, "name": "http"}]}), "spec.endpoints[0].address"),
    (se("ext", "default", {"hosts": ["a.example"], "ports": [{"number": 80, "name": "http", "targetPort": 0}]}),
     "spec.ports[0].targetPort"),
    (se("ext", "default", {"hosts": ["a.example"], "exportTo": "."}), "spec.exportTo"),
    ({**SP, "spec": {"routes": [], "retryBudget": {"retryRatio": "lots"}}}, "spec.retryBudget.retryRatio"),
    ({**SP, "spec": {"routes": [], "retryBudget": {"minRetriesPerSecond": 1.5}}},
     "spec.retryBudget.minRetriesPerSecond"),
    ({**SP, "spec": {"routes": [], "retryBudget": {"ttl": "ten seconds"}}}, "spec.retryBudget.ttl"),
    ({**SP, "spec": {"routes": [{"name": "all"}]}}, "spec.routes[0].condition"),
])
def test_bad_field_is_refused_naming_it(doc, field):
    lab = mesh_lab("linkerd" if doc["kind"] == "ServiceProfile" else "istio")
    with pytest.raises(KubelabError) as caught:
        lab.apply([doc])
    assert field in str(caught.value) and doc["metadata"]["name"] in str(caught.value)
    assert lab.list(doc["kind"], "default") == []


def test_good_fields_are_accepted():
    lab = mesh_lab()
    lab.apply([dr("web", "default", {"host": "web", "trafficPolicy": {
        "connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}},
        "portLevelSettings": [{"port": {"number": 80}, "tls": {"mode": "SIMPLE"}}]}}),
               se("ext", "default", {"hosts": ["a.example"], "resolution": "STATIC", "exportTo": ["."],
                                     "endpoints": [{"address": "198.51.100.1"}], "ports": [{"number": 80, "name": "http"}]})])
    assert len(lab.list("ServiceEntry", "default")) == 1
