"""The API server's defaults for the apps/v1 workloads (pkg/apis/apps/v1/defaults.go): what a Deployment,
StatefulSet or DaemonSet written without them is stored with, and what a manifest sets is kept."""
from __future__ import annotations

import kubelab

TEMPLATE = {"metadata": {"labels": {"app": "a"}},
            "spec": {"containers": [{"name": "a", "image": "busybox", "command": ["sleep", "infinity"]}]}}


def _apply(kind: str, **spec) -> dict:
    lab = kubelab.connect(seed=0)
    extra = {"serviceName": "a"} if kind == "StatefulSet" else {}
    lab.apply({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "a"},
               "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": TEMPLATE, **extra, **spec}})
    return lab.get(kind, "a")["spec"]


def test_deployment_defaults():
    spec = _apply("Deployment")
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert (spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (10, 600)


def test_deployment_keeps_what_it_sets():
    spec = _apply("Deployment", strategy={"rollingUpdate": {"maxSurge": 2}}, revisionHistoryLimit=3)
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 2}}
    assert spec["revisionHistoryLimit"] == 3
    assert _apply("Deployment", strategy={"type": "Recreate"})["strategy"] == {"type": "Recreate"}


def test_daemonset_defaults():
    spec = _apply("DaemonSet")
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert spec["revisionHistoryLimit"] == 10
    assert _apply("DaemonSet", updateStrategy={"type": "OnDelete"})["updateStrategy"] == {"type": "OnDelete"}


def test_statefulset_defaults():
    spec = _apply("StatefulSet")
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 1}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert (spec["replicas"], spec["revisionHistoryLimit"]) == (1, 10)
    assert _apply("StatefulSet", podManagementPolicy="Parallel",
                  updateStrategy={"type": "OnDelete"})["updateStrategy"] == {"type": "OnDelete"}


def test_a_reapplied_workload_is_unchanged():
    """Defaults are part of what is stored: applying the same manifest again changes nothing."""
    lab = kubelab.connect(seed=0)
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"},
                "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": TEMPLATE}}
    lab.apply(manifest)
    assert "unchanged" in str(lab.apply(manifest))
    assert lab.get("Deployment", "a")["metadata"]["generation"] == 1
