"""Pods a Deployment stamps out of its template share the template's parts (stored objects are never changed in
place) and are not checked again for what the template's admission checked: each pod still behaves as its own
object, and every mistake is still caught, at the Deployment."""
from __future__ import annotations

import pytest

import kubelab
from kubelab.errors import KubelabError

from .test_endpoint_memo import APP


def _pods(lab):
    return sorted(lab.list("Pod", "default", selector="app=web"), key=lambda p: p["metadata"]["name"])


def test_changing_one_stamped_pod_leaves_its_siblings_alone():
    lab = kubelab.connect(seed=0)
    lab.apply(APP)
    first, second = _pods(lab)[:2]
    first["spec"]["containers"][0]["image"] = "nginxinc/nginx-unprivileged:1.27"   # a mutable field of a pod
    lab.apply(first)
    images = {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in _pods(lab)}
    assert images[first["metadata"]["name"]] == "nginxinc/nginx-unprivileged:1.27"
    assert images[second["metadata"]["name"]] == "nginxinc/nginx-unprivileged"
    assert lab.get("Deployment", "web")["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "nginxinc/nginx-unprivileged"


def test_a_copy_handed_out_is_the_callers_own():
    lab = kubelab.connect(seed=0)
    lab.apply(APP)
    pod = _pods(lab)[0]
    pod["spec"]["containers"][0]["ports"][0]["containerPort"] = 1
    pod["metadata"]["labels"]["app"] = "changed"
    assert {p["spec"]["containers"][0]["ports"][0]["containerPort"] for p in _pods(lab)} == {8080}
    assert len(_pods(lab)) == 7


def test_stamped_pods_get_the_defaults_a_pod_written_by_hand_gets():
    lab = kubelab.connect(seed=0)
    lab.apply(APP)
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "by-hand", "labels": {"app": "web"}},
               "spec": {"containers": [{"name": "c", "image": "nginxinc/nginx-unprivileged",
                                        "ports": [{"name": "http", "containerPort": 8080}]}]}})
    stamped, by_hand = _pods(lab)[0], lab.get("Pod", "by-hand")
    for field in ("dnsPolicy", "restartPolicy", "enableServiceLinks", "terminationGracePeriodSeconds"):
        assert stamped["spec"][field] == by_hand["spec"][field]
    assert stamped["spec"]["containers"][0]["ports"] == by_hand["spec"]["containers"][0]["ports"] == \
        [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]


@pytest.mark.parametrize("old, new, path", [
    ("{name: c,", "{name: 'c_1',", "spec.template.spec.containers[0].name"),   # not a DNS label
    ("metadata: {labels: {app: web}}", "metadata: {labels: {app: web, tier: 'front end'}}",
     "spec.template.metadata.labels.tier"),                                    # a space in a label value
])
def test_a_template_mistake_is_caught_at_the_deployment(old, new, path):
    lab = kubelab.connect(seed=0)
    assert old in APP
    with pytest.raises(KubelabError) as caught:
        lab.apply(APP.replace(old, new))
    assert path in str(caught.value)
    assert lab.list("Pod", "default", selector="app=web") == []


def test_a_label_checked_once_is_still_checked_in_every_other_pairing():
    """Label pairs found valid are remembered; a bad value under the same key, or a value that is not a string,
    is still refused with the field path."""
    lab = kubelab.connect(seed=0)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "labels": {"tier": "front"}},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    lab.apply(pod)
    for bad in ("front end", ["front"], 7):
        pod = {**pod, "metadata": {"name": "b", "labels": {"tier": bad}}}
        with pytest.raises(KubelabError) as caught:
            lab.apply(pod)
        assert "metadata.labels.tier" in str(caught.value)
