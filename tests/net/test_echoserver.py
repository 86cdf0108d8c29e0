"""registry.k8s.io/echoserver:1.10, the "Using Source IP" tutorial's image, and nginx reached directly."""
from __future__ import annotations

import kubelab
from kubelab.net import apps
from kubelab.net.listeners import pod_listens

ECHOSERVER = "registry.k8s.io/echoserver:1.10"
DOWNWARD = [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "POD_IP", "value": "10.244.1.7"}]


def pod(image=ECHOSERVER, env=None, name="echo-1", hostname=None, container_port=8080):
    c = {"name": "c", "image": image, "ports": [{"containerPort": container_port}]}
    if env:
        c["env"] = env
    spec = {"nodeName": "node-2", "containers": [c], **({"hostname": hostname} if hostname else {})}
    return {"metadata": {"name": name, "namespace": "ns"}, "spec": spec, "status": {"podIP": "10.244.1.7"}}


def ask(p, path="/", headers=(("Host", "web.ns:80"),), method="GET", body="", port=8080):
    return apps.answer(p, apps.AppRequest(method, "web.ns", path, tuple(headers), body, "10.244.2.5", port))


def lines(answer):
    return answer.text.splitlines()


def test_echoserver_answers_in_its_text_format():
    """Does echoserver answer 200 text/plain: Hostname, Server values, Request Information, Headers, Body?"""
    a = ask(pod(), "/shop/cart?id=7", [("Host", "web.ns:80"), ("User-Agent", "curl/8.11.1"), ("Accept", "*/*")])
    assert (a.status, a.app, dict(a.headers)["Content-Type"]) == (200, "echoserver", "text/plain")
    text = lines(a)
    assert "Hostname: echo-1" in text and "\t-no pod information available-" in text
    assert "\tserver_version=nginx: 1.13.3 - lua: 10008" in text
    info = text[text.index("Request Information:") + 1:text.index("Request Headers:") - 1]
    assert info == ["\tclient_address=10.244.2.5", "\tmethod=GET", "\treal path=/shop/cart", "\tquery=id=7",
                    "\trequest_version=1.1", "\trequest_scheme=http",
                    "\trequest_uri=http://web.ns:8080/shop/cart?id=7"]
    headers = text[text.index("Request Headers:") + 1:text.index("Request Body:") - 1]
    assert headers == ["\taccept=*/*", "\thost=web.ns:80", "\tuser-agent=curl/8.11.1"]   # lower-case, sorted
    assert text[text.index("Request Body:") + 1] == "\t-no body in request-"


def test_echoserver_prints_hostname_pod_information_and_body():
    """Does it print spec.hostname when set, the downward-API pod information, and a request's body?"""
    a = ask(pod(env=DOWNWARD, hostname="db-0"), method="POST", body="a=1")
    text = lines(a)
    assert "Hostname: db-0" in text and "\tmethod=POST" in text and "\ta=1" in text
    assert {"\tnode name:\tnode-2", "\tpod name:\techo-1", "\tpod namespace:\tns", "\tpod IP:\t10.244.1.7"} <= set(text)
    assert "\t-no pod information available-" not in text


def test_echoserver_request_uri_names_its_own_port_for_ipv6_hosts():
    """Is request_uri built from nginx's $host (the Host header without its port) and the port it listens on?"""
    a = ask(pod(), "/", [("Host", "[fd00:10:96::1]:80")])
    assert "\trequest_uri=http://[fd00:10:96::1]:8080/" in lines(a)
    tls = lines(ask(pod(), "/", [("Host", "web.ns")], port=8443))       # its TLS listener
    assert "\trequest_scheme=https" in tls and "\trequest_uri=https://web.ns:8443/" in tls


def test_echoserver_listens_on_8080_whatever_containerport_says():
    """Does echoserver listen on 8080 (and 8443), not on a containerPort it does not serve?"""
    assert pod_listens(pod(), 8080, "TCP")[0] and pod_listens(pod(), 8443, "TCP")[0]
    listens, why = pod_listens(pod(container_port=80), 80, "TCP")
    assert not listens and "echoserver listens on 8080/TCP, 8443/TCP" in why


def test_nginx_reached_directly_answers_as_nginx():
    """Does a pod running nginx, reached with no proxy on the way, answer its welcome page, never an echo?"""
    lab = kubelab.connect(seed=0)
    lab.apply("""
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: echo}
spec:
  containers: [{name: echo, image: registry.k8s.io/echoserver:1.10, ports: [{containerPort: 8080}]}]
""")
    web = lab.get("Pod", "web")["status"]["podIP"]
    home = lab.http(f"http://{web}/")
    assert home.status == 200 and "Welcome to nginx!" in home.text and "client_ip" not in home.text
    assert lab.http(f"http://{web}/missing").status == 404
    echo = lab.http(f"http://{lab.get('Pod', 'echo')['status']['podIP']}:8080/")
    assert echo.status == 200 and "\tclient_address=203.0.113.10" in echo.text.splitlines()
