"""The `kubernetes` Service answers as the API server; a closed UDP port answers ICMP port unreachable."""
from __future__ import annotations

import json

import kubelab

CLIENT = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "c"},
          "spec": {"containers": [{"name": "c", "image": "curl", "ports": [{"containerPort": 5353, "protocol": "UDP"}]}]}}


def _lab():
    lab = kubelab.connect()
    lab.apply(CLIENT)
    return lab


def test_anonymous_request_to_kubernetes_service_is_forbidden_json_status():
    """GET https://kubernetes/api from a pod: 403 Status for system:anonymous, not an echo reply."""
    response = _lab().http("https://kubernetes.default.svc/api", src="default/c")
    body = json.loads(response.text)
    assert response.status == 403 and body["kind"] == "Status" and body["reason"] == "Forbidden"
    assert body["message"] == 'forbidden: User "system:anonymous" cannot get path "/api"'


def test_unknown_token_is_unauthorized_and_public_paths_answer():
    """An unknown bearer token gets 401; /version and /healthz are public (system:public-info-viewer)."""
    lab = _lab()
    denied = lab.http("https://kubernetes/api", src="default/c", headers={"Authorization": "Bearer x"})
    assert denied.status == 401 and json.loads(denied.text)["reason"] == "Unauthorized"
    assert lab.http("https://kubernetes/healthz", src="default/c").text == "ok"
    assert json.loads(lab.http("https://kubernetes/version", src="default/c").text)["minor"] == "35"


def test_plain_http_to_the_api_server_is_a_400():
    """kube-apiserver speaks only HTTPS."""
    response = _lab().http("http://kubernetes:443/", src="default/c")
    assert response.status == 400 and "HTTP request to an HTTPS server" in response.text


def test_udp_to_a_closed_port_is_icmp_port_unreachable():
    """UDP to a port nothing listens on: ICMP port unreachable; TCP: connection refused."""
    lab = _lab()
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d"},
               "spec": {"containers": [{"name": "d", "image": "x", "ports": [{"containerPort": 80}]}]}})
    udp = lab.reach("default/c", "default/d", 9999, "UDP")
    tcp = lab.reach("default/c", "default/d", 9999, "TCP")
    assert not udp and udp.reason.startswith("ICMP port unreachable")
    assert not tcp and tcp.reason.startswith("connection refused")
