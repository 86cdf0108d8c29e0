"""The API server's clock: AGE is creationTimestamp against it, as kube-apiserver prints it; pinned to the
simulated clock by default (deterministic notebooks), or moving with the wall clock (`kubelab serve`)."""
from __future__ import annotations

import datetime

import pytest
import yaml

from kubelab.serve.kubeapi.clock import EPOCH, ServerClock
from kubelab.serve.kubeapi.printers import human_duration

from .conftest import Kubectl


def _pod(name: str) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                           "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}})


def _age(kubectl: Kubectl, name: str) -> str:
    row = next(line for line in kubectl.ok("get", "pods").splitlines() if line.split()[0] == name)
    return row.split()[-1]


@pytest.mark.parametrize("seconds, shown", [(0, "0s"), (5, "5s"), (119, "119s"), (123, "2m3s"), (600, "10m"),
                                            (45 * 60, "45m"), (3 * 3600 + 5 * 60, "3h5m"), (9 * 3600, "9h"),
                                            (51 * 3600, "2d3h"), (10 * 86400, "10d"), (800 * 86400, "2y70d")])
def test_age_format_is_kubectls_duration_printer(seconds, shown):
    """Is AGE written as apimachinery's HumanDuration writes it (5s, 2m3s, 45m, 3h5m, 2d3h, ...)?"""
    assert human_duration(seconds) == shown


def test_pinned_clock_ages_objects_by_the_simulated_clock(kubectl, lab):
    """With the default pinned clock, is AGE the simulated time since creation: one second for the newest
    object, and the seconds lab.advance() lets pass on top?"""
    kubectl.write("a.yaml", _pod("a"))
    kubectl.ok("apply", "-f", "a.yaml")
    assert _age(kubectl, "a") == "1s"
    lab.advance(3 * 3600 + 5 * 60)
    assert _age(kubectl, "a") == "3h5m"
    kubectl.write("b.yaml", _pod("b"))
    kubectl.ok("apply", "-f", "b.yaml")   # made after the advance: stamped with the clock's present
    assert _age(kubectl, "b") == "1s"
    created = lab.get("Pod", "b")["metadata"]["creationTimestamp"]
    assert created == (EPOCH + datetime.timedelta(seconds=lab.cluster.clock + lab.cluster.now)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def test_wall_clock_moves_with_real_time(kubectl_binary, lab, tmp_path):
    """With clock="wall" (kubelab serve), do objects made while served carry the server's time, and does
    their AGE grow with the time that passes (a fake monotonic clock here), whoever made them?"""
    from kubelab.serve.kubeapi import KubeAPIServer

    wall = [1000.0]
    clock = ServerClock(lab.cluster, "wall", monotonic=lambda: wall[0])
    server = KubeAPIServer(lab, clock=clock).start()
    try:
        kubectl = Kubectl(kubectl_binary, server.kubeconfig, tmp_path / "cache", tmp_path)
        kubectl.write("a.yaml", _pod("a"))
        kubectl.ok("apply", "-f", "a.yaml")
        assert _age(kubectl, "a") == "0s"
        wall[0] += 65
        assert _age(kubectl, "a") == "65s"
        lab.apply(yaml.safe_load(_pod("b")))        # the notebook's lab.apply uses the same clock
        wall[0] += 51 * 3600
        assert (_age(kubectl, "a"), _age(kubectl, "b")) == ("2d3h", "2d3h")
        stamps = [lab.get("Pod", p)["metadata"]["creationTimestamp"] for p in ("a", "b")]
        assert stamps[1] > stamps[0]
    finally:
        server.stop()
        server.kubeconfig.unlink(missing_ok=True)
    assert lab.cluster.timestamp_source is None   # an unserved lab is back on its logical clock


def test_unknown_clock_is_a_clear_error(lab):
    """Is a misspelt clock mode refused with the choices named?"""
    from kubelab.errors import KubelabError

    with pytest.raises(KubelabError, match="pinned, wall"):
        lab.serve(clock="real")
