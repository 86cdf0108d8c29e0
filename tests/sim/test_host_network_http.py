"""Does a Service whose pods run with hostNetwork reach them (endpoints are their node's address and the
container's port), with the pod's own app answering, from a pod and through a NodePort from outside?"""
import kubelab
from kubelab.course.examples import ECHO_IMAGE
from kubelab.course.exercises._support import client_pod


def _lab():
    lab = kubelab.connect(nodes=3)
    lab.apply([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "agent"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "agent"}},
                         "template": {"metadata": {"labels": {"app": "agent"}},
                                      "spec": {"hostNetwork": True, "containers": [
                                          {"name": "agent", "image": ECHO_IMAGE,
                                           "ports": [{"name": "http", "containerPort": 3000}]}]}}}},
               {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "agent"},
                "spec": {"type": "NodePort", "selector": {"app": "agent"},
                         "ports": [{"port": 80, "targetPort": "http", "nodePort": 30111}]}},
               client_pod()])
    return lab


def test_a_service_reaches_its_host_network_pod_and_the_pod_answers():
    lab = _lab()
    agent = lab.list("Pod", "default", selector="app=agent")[0]
    response = lab.http("http://agent/", src="default/client")
    assert response.status == 200 and response.pod == f"default/{agent['metadata']['name']}"
    assert response.reason.startswith("Service default/agent sent it to ") and agent["status"]["podIP"] in \
        response.reason


def test_a_node_port_reaches_the_host_network_pod_from_outside():
    lab = _lab()
    agent = lab.list("Pod", "default", selector="app=agent")[0]
    other = next(n for n in lab.list("Node") if n["metadata"]["name"] != agent["spec"]["nodeName"])
    address = next(a["address"] for a in other["status"]["addresses"] if a["type"] == "InternalIP")
    response = lab.http(f"http://{address}:30111/")
    assert response.status == 200 and response.pod == f"default/{agent['metadata']['name']}"


def test_a_port_no_host_network_pod_listens_on_is_refused_by_the_node():
    lab = _lab()
    node_ip = lab.list("Pod", "default", selector="app=agent")[0]["status"]["podIP"]
    response = lab.http(f"http://{node_ip}:9999/", src="default/client")
    assert response.status == 0 and response.pod is None and "listens on 9999" in response.reason
