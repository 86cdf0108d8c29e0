"""metadata.generation and status.observedGeneration as the real kubectl v1.35 sees them from `kubelab serve`."""
import yaml

from .manifests import WEB_DEPLOYMENT, WEB_SERVICE


def _get(kubectl, *what) -> dict:
    return yaml.safe_load(kubectl.ok("get", *what, "-o", "yaml"))


def _generations(kubectl) -> tuple:
    deployment = _get(kubectl, "deployment", "web")
    return deployment["metadata"]["generation"], deployment["status"]["observedGeneration"]


def test_scale_bumps_the_deployment_and_observed_generation_follows(kubectl):
    """Does `kubectl scale` (the Scale subresource) bump the Deployment to 2, with status.observedGeneration 2,
    `kubectl label` leave both, a changed annotation bump both, and a re-apply of the same file leave both?"""
    kubectl.write("web.yaml", WEB_DEPLOYMENT + "---\n" + WEB_SERVICE)
    kubectl.ok("apply", "-f", "web.yaml")
    assert _generations(kubectl) == (1, 1)
    kubectl.ok("scale", "deployment/web", "--replicas=3")
    assert _get(kubectl, "deployment", "web")["spec"]["replicas"] == 3
    assert _generations(kubectl) == (2, 2)
    kubectl.ok("label", "deployment/web", "team=a")
    assert _generations(kubectl) == (2, 2)
    # replicas already 3: only kubectl's last-applied-configuration annotation changes, which Deployment counts
    kubectl.write("web3.yaml", WEB_DEPLOYMENT.replace("replicas: 2", "replicas: 3"))
    assert kubectl.ok("apply", "-f", "web3.yaml").strip() == "deployment.apps/web configured"
    assert _generations(kubectl) == (3, 3)
    assert kubectl.ok("apply", "-f", "web3.yaml").strip() == "deployment.apps/web unchanged"
    assert _generations(kubectl) == (3, 3)

def test_get_yaml_shows_generation_only_on_kinds_that_keep_it(kubectl):
    """Does `kubectl get -o yaml` show no generation on a Service, ConfigMap, Namespace or Node, and one on the
    Service's EndpointSlice, bumped when the controller rewrote it for a new pod?"""
    kubectl.write("web.yaml", WEB_DEPLOYMENT.replace("replicas: 2", "replicas: 1") + "---\n" + WEB_SERVICE)
    kubectl.ok("apply", "-f", "web.yaml")
    for what in (("service", "web"), ("configmap", "coredns", "-n", "kube-system"), ("namespace", "default"), ("node", "node-1")):
        assert "generation" not in _get(kubectl, *what)["metadata"], what
    [web_slice] = _get(kubectl, "endpointslices", "-l", "kubernetes.io/service-name=web")["items"]
    assert web_slice["metadata"]["generation"] == 1
    kubectl.ok("scale", "deployment/web", "--replicas=2")
    [web_slice] = _get(kubectl, "endpointslices", "-l", "kubernetes.io/service-name=web")["items"]
    assert len(web_slice["endpoints"]) == 2 and web_slice["metadata"]["generation"] == 2


POD = """\
apiVersion: v1
kind: Pod
metadata: {name: solo}
spec:
  nodeSelector: {disk: %s}
  containers: [{name: c, image: nginx:1.27}]
"""


def test_pod_status_reports_the_generation_the_kubelet_acted_on(kubectl, lab):
    """Pod generation (KEP-5067, GA in v1.35): does a running pod's status.observedGeneration and every condition's
    follow metadata.generation (1, then 2 after an image change), while a pod no node took has only the
    scheduler's PodScheduled condition stamped?"""
    for node in lab.list("Node"):
        lab.apply({**node, "metadata": {**node["metadata"], "labels": {"disk": "ssd"}}})
    kubectl.write("pod.yaml", POD % "ssd")
    kubectl.ok("apply", "-f", "pod.yaml")
    pod = _get(kubectl, "pod", "solo")
    assert (pod["metadata"]["generation"], pod["status"]["observedGeneration"]) == (1, 1)
    assert {c["type"]: c["observedGeneration"] for c in pod["status"]["conditions"]} == {
        "PodScheduled": 1, "Initialized": 1, "ContainersReady": 1, "Ready": 1}
    kubectl.ok("set", "image", "pod/solo", "c=nginx:1.28")
    pod = _get(kubectl, "pod", "solo")
    assert (pod["metadata"]["generation"], pod["status"]["observedGeneration"]) == (2, 2)
    assert {c["observedGeneration"] for c in pod["status"]["conditions"]} == {2}
    kubectl.write("stuck.yaml", (POD % "nvme").replace("name: solo", "name: stuck"))
    kubectl.ok("apply", "-f", "stuck.yaml")
    stuck = _get(kubectl, "pod", "stuck")
    assert "observedGeneration" not in stuck["status"]
    assert [(c["type"], c["observedGeneration"]) for c in stuck["status"]["conditions"]] == [("PodScheduled", 1)]
