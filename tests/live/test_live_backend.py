"""connect("live") over the official client, against `kubelab serve` (so these always run): the Lab
contract, namespace ownership, probes by exec with the simulator's prediction beside them."""
import pytest

import kubelab
from kubelab.live import MANAGED_BY_LABEL, ObservedVerdict

from ..serve.manifests import DENY_WEB

APP = """\
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers: [{name: web, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [netexec, --http-port=80],
               ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec:
  containers: [{name: client, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [pause]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""

@pytest.fixture
def cluster():
    """The simulated cluster the live backend talks to, served on loopback."""
    from kubelab.serve.kubeapi import KubeAPIServer

    sim = kubelab.connect()
    server = KubeAPIServer(sim).start()
    yield sim, server
    server.stop()


@pytest.fixture
def live(cluster):
    return kubelab.connect("live", kubeconfig=cluster[1].kubeconfig)


def test_apply_get_list_delete_in_a_namespace_it_owns(live, cluster):
    """Does apply create a kubelab-labelled namespace and objects there, and get/list/delete see them by lesson names?"""
    sim, _ = cluster
    result = live.apply(APP)
    assert [str(c[2]) for c in result.changes] == ["created", "created", "created"]
    ns = sim.get("Namespace", "kubelab-default")
    assert ns["metadata"]["labels"][MANAGED_BY_LABEL] == "kubelab"
    assert live.get("Pod", "web")["metadata"]["namespace"] == "default"
    assert [p["metadata"]["name"] for p in live.list("Pod")] == ["client", "web"]
    assert [p["metadata"]["name"] for p in live.list("Pod", "default", selector="app=web")] == ["web"]
    assert [c[2] for c in live.apply(APP).changes] == ["unchanged", "unchanged", "unchanged"]
    live.delete("Pod", "client")   # as on a real cluster, the pod terminates for its grace period (30 s)
    assert live.get("Pod", "client")["metadata"]["deletionGracePeriodSeconds"] == 30
    live.delete("Pod", "client", grace_period=0)   # a shorter grace period overrides: removed at once
    assert [p["metadata"]["name"] for p in live.list("Pod", "default")] == ["web"]
    with pytest.raises(kubelab.NotFoundError):
        live.get("Pod", "client")


def test_refuses_namespaces_it_does_not_own(live):
    """Is a delete in a namespace kubelab did not create (kube-system) refused?"""
    with pytest.raises(kubelab.BackendError) as err:
        live.delete("Pod", "coredns", "kube-system")
    assert "namespace 'kubelab-kube-system' is not managed by kubelab" in str(err.value)


def test_unprefixed_live_lab_refuses_the_default_namespace(cluster):
    """With namespace_prefix="", is applying into the cluster's own default namespace refused before any write?"""
    sim, server = cluster
    bare = kubelab.connect("live", kubeconfig=server.kubeconfig, namespace_prefix="")
    with pytest.raises(kubelab.BackendError) as err:
        bare.apply(APP)
    assert "'default' exists and is not managed by kubelab" in str(err.value)
    assert [p["metadata"]["name"] for p in sim.list("Pod", "default")] == []


def test_invalid_object_is_a_validation_error_with_the_field(live):
    """Does a 422 from the cluster become a kubelab ValidationError naming the field?"""
    with pytest.raises(kubelab.ValidationError) as err:
        live.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bad"},
                    "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80, "nodePort": 80}]}})
    assert err.value.field == "spec.ports[0].nodePort"


def test_reach_is_observed_by_exec_and_carries_the_prediction(live):
    """Does reach() observe through agnhost connect in the source pod, with an agreeing prediction, before and after a policy?"""
    live.apply(APP)
    before = live.reach("default/client", "web", 80)
    assert isinstance(before, ObservedVerdict) and before.allowed and before.agrees is True
    live.apply(DENY_WEB)
    after = live.reach("default/client", "default/web", 80)
    assert not after.allowed and "timed out" in after.reason
    assert after.predicted is not None and not after.predicted.allowed and after.agrees is True
    assert "NetworkPolicy" in after.predicted.reason or "deny-web" in after.predicted.reason


def test_reachability_matrix_and_diff_with_the_prediction(live):
    """Does reachability() probe every pair and .diff() find no disagreement when the simulator is right?"""
    live.apply(APP)
    live.apply(DENY_WEB)
    matrix = live.reachability(port=80)
    assert matrix["default/client", "default/web"] is False
    assert matrix.predicted["default/client", "default/web"] is False
    assert matrix.diff() == ()


def test_files_and_cleanup(live, cluster):
    """Do resolv_conf/hosts_file read the pod's files, and cleanup() delete only kubelab's namespaces?"""
    sim, _ = cluster
    live.apply(APP)
    assert live.resolv_conf("default/client") == sim.resolv_conf("kubelab-default/client")
    assert "client" in live.hosts_file("default/client")
    with pytest.raises(kubelab.BackendError):
        live.iptables_save("node-1")
    assert live.cleanup() == ["kubelab-default"]
    assert [n["metadata"]["name"] for n in sim.list("Namespace")] == ["default", "kube-node-lease", "kube-public",
                                                                       "kube-system"]


def test_http_and_resolve_are_observed_in_the_pod_with_predictions(live, cluster):
    """Do http() (curl in the pod) and resolve() (nslookup in the pod) observe, and agree with the prediction?"""
    sim, _ = cluster
    live.apply(APP)
    response = live.http("http://web", src="default/client")
    assert response.status == 200 and response.agrees is True
    assert response.predicted.pod == "kubelab-default/web" and response.text == response.predicted.text
    answer = live.resolve("web", "A", src="default/client")
    assert answer.addresses == [sim.get("Service", "web", "kubelab-default")["spec"]["clusterIP"]]
    assert answer.name == "web.kubelab-default.svc.cluster.local" and answer.agrees is True
    missing = live.resolve("nope", src="default/client")
    assert missing.rcode == "NXDOMAIN" and not missing and missing.agrees is True
    live.apply(DENY_WEB)
    blocked = live.http("http://web", src="default/client")
    assert blocked.status == 0 and "timed out" in blocked.reason and blocked.agrees is True
    with pytest.raises(kubelab.BackendError):
        live.trace("default/client", "web")
    assert not live.predicted_trace("default/client", "default/web").verdict


def test_watch_streams_the_namespace(live):
    """Does watch() stream the pods of a lesson namespace (lesson names) until its timeout?"""
    live.apply(APP)
    events = sorted((kind, obj["metadata"]["namespace"], obj["metadata"]["name"])
                    for kind, obj in live.watch("Pod", "default", timeout=1))
    assert events == [("ADDED", "default", "client"), ("ADDED", "default", "web")]


def test_unknown_field_is_a_validation_error(live):
    """Is a misspelt field (strict decoding error on the cluster) a ValidationError naming its path?"""
    with pytest.raises(kubelab.ValidationError) as err:
        live.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "typo"},
                    "spec": {"containers": [{"name": "c", "image": "busybox", "imagee": "x"}]}})
    assert err.value.field == "spec.containers[0].imagee"
