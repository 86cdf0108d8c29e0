"""DaemonSets (one pod per eligible node, taints and tolerations) and pods beyond a node's capacity."""
from __future__ import annotations

import kubelab

DS = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: exporter, namespace: kube-system}
spec:
  selector: {matchLabels: {app: exporter}}
  template:
    metadata: {labels: {app: exporter}}
    spec:
      hostNetwork: true
      containers: [{name: e, image: prom/node-exporter, ports: [{containerPort: 9100}]}]
"""
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def _daemon_pods(lab):
    return sorted((p["spec"]["nodeName"], p["status"]["podIP"]) for p in lab.list("Pod", "kube-system",
                                                                              selector="app=exporter"))


def _node_ip(lab, name):
    return next(a["address"] for a in lab.get("Node", name, None)["status"]["addresses"] if a["type"] == "InternalIP")


def test_daemonset_runs_one_pod_per_node_with_the_node_ip():
    """Does a hostNetwork DaemonSet run exactly one pod on each node, each with its node's IP?"""
    lab = kubelab.connect(nodes=3)
    assert str(lab.apply(DS)) == "daemonset/exporter created"
    pods = _daemon_pods(lab)
    assert pods == [(f"node-{i}", _node_ip(lab, f"node-{i}")) for i in (1, 2, 3)]
    assert all(p["spec"]["tolerations"] for p in lab.list("Pod", "kube-system", selector="app=exporter"))
    assert lab.reach("node/node-2", f"{_node_ip(lab, 'node-2')}", 9100)


def test_daemonset_follows_new_nodes_and_taints():
    """A new node gets a daemon pod; a tainted node gets none unless the DaemonSet tolerates the taint."""
    lab = kubelab.connect(nodes=2)
    lab.apply(DS)
    lab.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp-1"},
               "spec": {"taints": [CONTROL_PLANE_TAINT]}})
    assert [n for n, _ in _daemon_pods(lab)] == ["node-1", "node-2"]
    ds = lab.get("DaemonSet", "exporter", "kube-system")
    ds["spec"]["template"]["spec"]["tolerations"] = [{"key": "node-role.kubernetes.io/control-plane",
                                                     "operator": "Exists", "effect": "NoSchedule"}]
    lab.apply(ds)
    lab.advance(30)   # pods of the old template finish terminating
    assert [n for n, _ in _daemon_pods(lab)] == ["cp-1", "node-1", "node-2"]


def test_plain_pods_avoid_untolerated_taints():
    """The scheduler's TaintToleration filter keeps an ordinary pod off a tainted node."""
    lab = kubelab.connect(nodes=0)
    lab.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp-1"},
               "spec": {"taints": [CONTROL_PLANE_TAINT]}})
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    pod = lab.get("Pod", "p")
    assert pod["status"]["phase"] == "Pending"
    assert "untolerated taint {node-role.kubernetes.io/control-plane}" in pod["status"]["conditions"][0]["message"]


def test_pods_beyond_max_pods_stay_pending_with_the_schedulers_reason():
    """Past the kubelet's maxPods (capacity.pods), new pods stay Pending: "Too many pods"; apply succeeds."""
    lab = kubelab.connect(nodes=1)
    node = lab.get("Node", "node-1", None)
    system = len([p for p in lab.list("Pod") if p["spec"].get("nodeName") == "node-1"])
    node["status"]["capacity"] = {"pods": str(system + 2)}
    lab.apply(node)
    lab.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "many"},
               "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "many"}},
                        "template": {"metadata": {"labels": {"app": "many"}},
                                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    phases = sorted(p["status"]["phase"] for p in lab.list("Pod", "default", selector="app=many"))
    assert phases == ["Pending", "Pending", "Running", "Running"]
    pending = next(p for p in lab.list("Pod", "default", selector="app=many") if p["status"]["phase"] == "Pending")
    assert pending["status"]["conditions"][0]["message"] == "0/1 nodes are available: 1 Too many pods."


def test_default_max_pods_is_110():
    """Without a capacity the kubelet's default of 110 pods per node applies."""
    lab = kubelab.connect(nodes=1)
    lab.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "many"},
               "spec": {"replicas": 115, "selector": {"matchLabels": {"app": "many"}},
                        "template": {"metadata": {"labels": {"app": "many"}},
                                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    on_node = [p for p in lab.list("Pod") if p["status"]["phase"] == "Running"]
    assert len(on_node) == 110


def test_exhausted_pod_cidr_leaves_pods_pending_not_a_failed_apply():
    """A /29 podCIDR holds few pods; the rest stay Pending with the CNI's IPAM error, and apply succeeds."""
    lab = kubelab.connect(nodes=0)
    lab.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "small"},
               "spec": {"podCIDR": "10.244.9.0/29", "podCIDRs": ["10.244.9.0/29"]}})
    lab.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "many"},
               "spec": {"replicas": 8, "selector": {"matchLabels": {"app": "many"}},
                        "template": {"metadata": {"labels": {"app": "many"}},
                                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    pods = lab.list("Pod", "default", selector="app=many")
    pending = [p for p in pods if p["status"]["phase"] == "Pending"]
    running = [p for p in pods if p["status"]["phase"] == "Running"]
    assert running and pending
    assert "no IP addresses available in range set" in pending[0]["status"]["message"]
