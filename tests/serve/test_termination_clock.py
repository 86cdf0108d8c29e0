"""The served lab's termination clock: simulated time follows given wall times only while a pod terminates."""
import kubelab
from kubelab.serve.kubeapi.clock import TerminationClock

from .manifests import APP


def test_clock_advances_by_whole_elapsed_seconds_only_while_a_pod_terminates():
    """Does tick() leave the clock alone with nothing terminating, then advance it by the wall seconds passed
    since the deletion was noticed, removing the pod once its grace period is over?"""
    lab = kubelab.connect()
    lab.apply(APP)
    clock = TerminationClock(lab, lab.lock)
    start = lab.cluster.now
    assert clock.tick(100.0) == [] and lab.cluster.now == start   # nothing terminating: time stands still
    lab.delete("Pod", "client", grace_period=2)
    assert clock.tick(200.0) == []                                # the stretch begins here
    assert clock.tick(201.5) == [] and lab.cluster.now == start + 1
    assert clock.tick(202.2) == ["default/client"] and lab.cluster.now == start + 2
    assert clock.tick(300.0) == [] and lab.cluster.now == start + 2   # nothing left terminating


def test_served_lab_stops_its_clock_with_the_server():
    """Does stopping the API server stop the termination clock's thread?"""
    from kubelab.serve.kubeapi import KubeAPIServer
    server = KubeAPIServer(kubelab.connect()).start()
    assert server.clock._thread.is_alive()
    server.stop()
    server.kubeconfig.unlink(missing_ok=True)
    assert not server.clock._thread.is_alive()
