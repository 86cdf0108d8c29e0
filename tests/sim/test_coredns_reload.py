"""A broken Corefile is stored; CoreDNS logs the error and keeps serving the last good configuration."""
from __future__ import annotations

import kubelab


def _coredns_pod(lab):
    return "kube-system/" + lab.list("Pod", "kube-system", selector="k8s-app=kube-dns")[0]["metadata"]["name"]


def _corefile(lab, old, new):
    cm = lab.get("ConfigMap", "coredns", "kube-system")
    cm["data"]["Corefile"] = cm["data"]["Corefile"].replace(old, new)
    return cm


def test_broken_corefile_is_accepted_logged_and_ignored():
    """The apply succeeds, the CoreDNS log shows the error, and the old config keeps answering."""
    lab = kubelab.connect()
    unknown_pod_ip = "10-244-9-9.default.pod.cluster.local"
    assert lab.resolve(unknown_pod_ip).rcode == "NOERROR"           # pods insecure
    assert "configured" in str(lab.apply(_corefile(lab, "pods insecure", "pods secure")))
    assert "pods secure" in lab.get("ConfigMap", "coredns", "kube-system")["data"]["Corefile"]
    log = lab.logs(_coredns_pod(lab))
    assert "[ERROR] Restart failed: Corefile:8 - Error during parsing:" in log and "secure" in log
    assert lab.resolve(unknown_pod_ip).rcode == "NOERROR"           # still the last good Corefile


def test_a_good_corefile_after_a_bad_one_is_loaded():
    """A valid edit is loaded (reload logs it) and takes effect."""
    lab = kubelab.connect()
    lab.apply(_corefile(lab, "pods insecure", "pods secure"))
    lab.apply(_corefile(lab, "pods secure", "pods verified"))
    assert lab.logs(_coredns_pod(lab)).rstrip().endswith("[INFO] Reloading complete")
    assert lab.resolve("10-244-9-9.default.pod.cluster.local").rcode == "NXDOMAIN"


def test_other_pods_have_empty_logs():
    """An image that prints nothing per request (busybox sleeping) has an empty log."""
    lab = kubelab.connect()
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    assert lab.logs("default/p") == ""
