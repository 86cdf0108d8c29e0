"""A lab's lifetime: one a notebook drops is freed at once (no reference cycle left for the cyclic garbage
collector, which would otherwise walk every object of a large cluster), and a copy probes its own cluster."""
from __future__ import annotations

import copy
import gc
import weakref

import kubelab

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
       "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


def test_a_dropped_lab_is_freed_without_a_garbage_collection():
    """Is a used lab (applied, probed, resolved from) gone as soon as the last name for it is?"""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        lab = kubelab.connect(seed=0)
        lab.apply(POD)
        assert lab.reach("default/client", "kubernetes", 443)
        lab.resolve("kubernetes", src="default/client")
        lab_ref, cluster_ref = weakref.ref(lab), weakref.ref(lab.cluster)
        del lab
        assert lab_ref() is None and cluster_ref() is None
    finally:
        if was_enabled:
            gc.enable()


def test_a_copied_lab_probes_its_own_cluster():
    """Does a deep copy (a fork of the cluster) answer from the copy, not from the original?"""
    lab = kubelab.connect(seed=0)
    lab.apply(POD)
    fork = copy.deepcopy(lab)
    fork.delete("Pod", "client", grace_period=0)
    assert fork.prober.lab is fork and fork.prober.cluster is fork.cluster
    assert lab.reach("default/client", "kubernetes", 443)
    assert not lab.list("Pod", "default") == fork.list("Pod", "default")


class _Node:
    pass


def test_what_a_large_apply_built_is_promoted_and_cycles_are_still_collected():
    """After an apply of thousands of pods, are the cluster's objects in the oldest generation (so the young
    generations' collections do not walk them), and is a reference cycle dropped meanwhile still collected?"""
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], 1_000_000, 1_000_000)   # only young collections: nothing ages on its own
    try:
        lab = kubelab.connect(seed=0)
        cycle = _Node()
        cycle.self = cycle
        cycle_ref = weakref.ref(cycle)
        del cycle
        lab.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                   "spec": {"replicas": 2000, "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
        pod = lab.cluster.items("Pod", "default")[0]
        assert [g for g in range(3) if any(obj is pod for obj in gc.get_objects(generation=g))] == [2]
    finally:
        gc.set_threshold(*thresholds)
    gc.collect()
    assert cycle_ref() is None
