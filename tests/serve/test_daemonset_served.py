"""A DaemonSet as the real kubectl v1.35 sees it from `kubelab serve`: its status counted over the nodes it belongs
on, the columns of kube-apiserver's printDaemonSet, and `kubectl rollout status` on its defaulted strategy."""
import yaml

AGENT = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      containers: [{name: agent, image: busybox, command: [sleep, infinity]}]
"""


def _rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip().splitlines()]


def test_get_daemonsets_prints_the_status_columns(kubectl):
    """Does `kubectl get ds` print DESIRED CURRENT READY UP-TO-DATE AVAILABLE and NODE SELECTOR, 3 of each on the
    lab's 3 nodes, and -o wide the containers, images and selector?"""
    kubectl.write("agent.yaml", AGENT)
    kubectl.ok("apply", "-f", "agent.yaml")
    header, row = _rows(kubectl.ok("get", "ds"))
    assert header == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR", "AGE"]
    assert row[:7] == ["agent", "3", "3", "3", "3", "3", "kubernetes.io/os=linux"]
    wide = _rows(kubectl.ok("get", "ds", "-o", "wide"))
    assert wide[0][-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"] and wide[1][-3:] == ["agent", "busybox", "app=agent"]


def test_status_counts_only_the_nodes_it_belongs_on(kubectl):
    """With a node selector no node has, is everything 0 (the four required counts present), and once one node is
    labelled, 1 desired, scheduled and ready?"""
    kubectl.write("agent.yaml", AGENT.replace("kubernetes.io/os: linux", "disk: ssd"))
    kubectl.ok("apply", "-f", "agent.yaml")
    status = yaml.safe_load(kubectl.ok("get", "ds", "agent", "-o", "yaml"))["status"]
    assert status == {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                      "numberReady": 0, "observedGeneration": 1}
    kubectl.ok("label", "node", "node-2", "disk=ssd")
    status = yaml.safe_load(kubectl.ok("get", "ds", "agent", "-o", "yaml"))["status"]
    assert (status["desiredNumberScheduled"], status["currentNumberScheduled"], status["numberReady"],
            status["numberAvailable"], status["updatedNumberScheduled"]) == (1, 1, 1, 1, 1)
    assert "numberUnavailable" not in status


def test_rollout_status_of_a_daemonset(kubectl):
    """Does the defaulted RollingUpdate strategy let `kubectl rollout status` report the rollout done?"""
    kubectl.write("agent.yaml", AGENT)
    kubectl.ok("apply", "-f", "agent.yaml")
    spec = yaml.safe_load(kubectl.ok("get", "ds", "agent", "-o", "yaml"))["spec"]
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert "successfully rolled out" in kubectl.ok("rollout", "status", "ds/agent", "--timeout=10s")
