"""Lesson 04 exercises: the reference answers pass, the classic mistakes are named, wrong answers fail."""
from __future__ import annotations

import pytest

from kubelab.course.exercises import check

from .helpers import blocked, failed, hint_of, mistakes, not_reached

NODEPORT = """
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
    nodePort: 30080
"""

CLIENT_IP = """
apiVersion: v1
kind: Service
metadata:
  name: web-service
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector:
    app: web
  ports:
  - protocol: TCP
    port: 80
    targetPort: 8080
"""

EXTERNALNAME = """
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  type: ExternalName
  externalName: my.database.example.com
"""

HEADLESS = """
apiVersion: v1
kind: Service
metadata:
  name: web-peers
spec:
  clusterIP: None
  selector:
    app: web
  ports:
  - port: 8080
"""

REFERENCE = {"04-nodeport": NODEPORT, "04-client-ip": CLIENT_IP, "04-externalname": EXTERNALNAME,
             "04-headless": HEADLESS}


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_reference_answer_passes_every_sub_check(exercise_id):
    """Does the reference answer pass every sub-check, with no mistake named?"""
    result = check(exercise_id, REFERENCE[exercise_id])
    assert bool(result), str(result)
    assert result.total >= 4 and not mistakes(result)


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_bad_yaml_fails_cleanly(exercise_id):
    """Does YAML that does not parse give one failed sub-check that quotes the parser, not a traceback?"""
    result = check(exercise_id, "kind: [oops")
    assert not result
    assert blocked(result) == ["your manifests apply"] and result.passed == 0
    assert "not valid YAML" in hint_of(result, "your manifests apply")


@pytest.mark.parametrize("exercise_id", sorted(REFERENCE))
def test_empty_answer_fails(exercise_id):
    """Does an answer with no manifest at all fail at once, saying there is nothing to apply yet?"""
    result = check(exercise_id, "# YOUR CODE HERE\n")
    assert not result and result.passed == 0
    assert blocked(result) == ["your manifests apply"] and result.passed == 0 and "holds no object yet" in hint_of(result, "your manifests apply")


def test_node_port_outside_the_range_is_named():
    """Is a nodePort of 80 named as outside 30000-32767, and the API server's rejection shown?"""
    result = check("04-nodeport", NODEPORT.replace("nodePort: 30080", "nodePort: 80"))
    assert "nodePort outside 30000-32767" in mistakes(result)
    assert blocked(result) == ["your manifests apply"] and result.passed == 0
    assert "30000-32767" in hint_of(result, "your manifests apply")


def test_target_port_mix_up_is_named():
    """Is targetPort 80 (the Service's port instead of the container's 8080) named as port vs targetPort?"""
    result = check("04-nodeport", NODEPORT.replace("targetPort: 8080", "targetPort: 80"))
    assert "port vs targetPort" in mistakes(result)
    assert "a client outside reaches a web pod through node-1:30080" in failed(result)


def test_node_port_used_as_service_port_is_named():
    """Is `port: 30080` (with a random nodePort) named, and the node port check failed?"""
    answer = NODEPORT.replace("    nodePort: 30080\n", "").replace("- port: 80", "- port: 30080")
    result = check("04-nodeport", answer)
    assert "30080 used as the Service port" in mistakes(result)
    assert "Service web opens node port 30080" in failed(result)


def test_selector_matching_no_pod_is_named():
    """Is a selector that matches no web pod named, and the outside client's check failed?"""
    result = check("04-nodeport", NODEPORT.replace("app: web", "app: website"))
    assert "selector matches no pod" in mistakes(result)
    assert "every node answers on 30080, even a node without a web pod" in failed(result)


def test_wrong_namespace_is_named():
    """Is a Service put in another namespace named, even though the namespace does not exist?"""
    result = check("04-nodeport", NODEPORT.replace("  name: web\n", "  name: web\n  namespace: prod\n"))
    assert "Service in another namespace" in mistakes(result)
    assert not result


def test_cluster_ip_service_is_not_reachable_from_outside():
    """Does a plain ClusterIP Service fail the type and outside-client checks?"""
    answer = NODEPORT.replace("  type: NodePort\n", "").replace("    nodePort: 30080\n", "")
    result = check("04-nodeport", answer)
    assert {"Service web is of type NodePort", "a client outside reaches a web pod through node-1:30080"} \
        <= set(failed(result))


def test_cluster_policy_hides_the_client_ip():
    """Without externalTrafficPolicy Local, is the masquerade named and the source-IP and drop checks failed?"""
    result = check("04-client-ip", CLIENT_IP.replace("  externalTrafficPolicy: Local\n", ""))
    assert "externalTrafficPolicy Cluster" in mistakes(result)
    assert set(failed(result)) == {"the web pod sees the client's own address 203.0.113.10",
                                   "a node without a web pod drops traffic on the node port",
                                   "the health check answers 200 on nodes with a web pod and 503 on the others"}


def test_internal_traffic_policy_is_named():
    """Is internalTrafficPolicy: Local (the wrong field) named as such, not as the Cluster policy?"""
    result = check("04-client-ip", CLIENT_IP.replace("externalTrafficPolicy", "internalTrafficPolicy"))
    assert mistakes(result) == ["internalTrafficPolicy instead of externalTrafficPolicy"]
    assert not result


def test_node_port_service_gets_no_load_balancer():
    """Does a NodePort Service (no cloud load balancer) fail the external-IP check?"""
    result = check("04-client-ip", CLIENT_IP.replace("LoadBalancer", "NodePort"))
    assert "the cloud gives web-service an external IP" in failed(result)


def test_load_balancer_with_wrong_target_port_is_named():
    """Is targetPort 80 on the LoadBalancer Service named as port vs targetPort?"""
    result = check("04-client-ip", CLIENT_IP.replace("targetPort: 8080", "targetPort: 80"))
    assert "port vs targetPort" in mistakes(result)
    assert "a client outside reaches a web pod at the external IP, port 80" in failed(result)


def test_url_as_external_name_is_named():
    """Is a URL in externalName named, and the API server's rejection shown?"""
    result = check("04-externalname", EXTERNALNAME.replace("my.database", "https://my.database"))
    assert "a URL instead of a DNS name" in mistakes(result)
    assert blocked(result) == ["your manifests apply"] and result.passed == 0


def test_ip_as_external_name_is_named():
    """Is an IP in externalName named, and do the resolution and connection checks fail?"""
    result = check("04-externalname", EXTERNALNAME.replace("my.database.example.com", "192.0.2.20"))
    assert "an IP address as externalName" in mistakes(result)
    assert "from pod client, db resolves to 192.0.2.20" in failed(result)


def test_external_name_without_the_type_is_named():
    """Is externalName without type ExternalName named?"""
    result = check("04-externalname", EXTERNALNAME.replace("  type: ExternalName\n", ""))
    assert "externalName without type ExternalName" in mistakes(result)
    assert not result


def test_wrong_service_name_fails():
    """Does an ExternalName Service with another name fail, since pods ask for db?"""
    result = check("04-externalname", EXTERNALNAME.replace("name: db", "name: database"))
    assert failed(result)[0] == "Service db exists in namespace default" and result.passed == 0
    assert not_reached(result) == failed(result)[1:] and result.total == 6


def test_service_with_cluster_ip_is_not_headless():
    """Is a Service without clusterIP: None named as having a cluster IP, and the DNS check failed?"""
    result = check("04-headless", HEADLESS.replace("  clusterIP: None\n", ""))
    assert "a cluster IP was assigned" in mistakes(result)
    assert "web-peers resolves to the IP of every web pod, and nothing else" in failed(result)


def test_headless_selector_matching_nothing_is_named():
    """Is a headless Service whose selector matches no pod named?"""
    result = check("04-headless", HEADLESS.replace("app: web", "app: peers"))
    assert "selector matches no pod" in mistakes(result)
    assert not result
