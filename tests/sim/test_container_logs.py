"""Container logs: the apps the simulator routes requests to print what their images print, per container,
stamped with the cluster's clock, in a bounded buffer (lab.logs, what `kubectl logs` reads)."""
from __future__ import annotations

import datetime
import re

import pytest

import kubelab
from kubelab import KubelabError
from kubelab.course.examples import ECHO_IMAGE
from kubelab.sim.logs import ContainerLogs

from ..serve.manifests import APP, NETEXEC

NGINX_MAIN = re.compile(r'^(?P<ip>[\d.]+) - - \[(?P<time>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000)\] '
                        r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+) "(?P<referer>[^"]*)" '
                        r'"(?P<agent>[^"]*)" "(?P<xff>[^"]*)"$')


@pytest.fixture
def lab():
    lab = kubelab.connect()
    lab.apply(APP + "---\n" + NETEXEC)
    return lab


def _served_by(lab, url, **kw):
    response = lab.http(url, src="client", **kw)
    return response, response.pod.split("/")[1]


def test_nginx_logs_each_request_in_its_images_main_format(lab):
    """Does the nginx pod that served a request log it in the image's `main` format (combined plus
    X-Forwarded-For), with the client's address, the request line, status, bytes and User-Agent?"""
    response, pod = _served_by(lab, "http://web/index.html", headers={"User-Agent": "curl/8.5.0",
                                                                         "Referer": "http://shop/"})
    lines = lab.logs(pod).splitlines()
    assert len(lines) == 1
    m = NGINX_MAIN.match(lines[0])
    assert m, lines[0]
    assert m["ip"] == lab.get("Pod", "client")["status"]["podIP"]
    assert (m["request"], m["status"], m["agent"], m["referer"], m["xff"]) == \
        ("GET /index.html HTTP/1.1", str(response.status), "curl/8.5.0", "http://shop/", "-")
    assert int(m["bytes"]) == len(response.text.encode())
    others = [p["metadata"]["name"] for p in lab.list("Pod", selector="app=web") if p["metadata"]["name"] != pod]
    assert lab.logs(others[0]) == ""          # the other replica served nothing


def test_each_container_has_its_own_log(lab):
    """In a two-container pod, does each container log only what it served (agnhost netexec's Go log lines,
    nginx's access lines), and does an unnamed container mean kubectl's default (the first)?"""
    ip = lab.get("Pod", "net")["status"]["podIP"]
    lab.http(f"http://{ip}:8080/echo?msg=hi", src="client")
    lab.http(f"http://{ip}:8080/hostname", src="client")
    lab.http(f"http://{ip}:8080/nothing-here", src="client")    # the mux's 404: netexec logs nothing
    lab.http(f"http://{ip}:80/", src="client")
    netexec = lab.logs("net", container="netexec").splitlines()
    assert [line.split(" ", 2)[2] for line in netexec] == ["GET /echo?msg=hi&code=", "GET /hostname"]
    assert all(re.match(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ", line) for line in netexec)
    assert '"GET / HTTP/1.1"' in lab.logs("net", container="nginx")
    assert lab.logs("net") == lab.logs("net", container="netexec")
    with pytest.raises(KubelabError, match="container sidecar is not valid for pod net"):
        lab.logs("net", container="sidecar")


def test_timestamps_come_from_the_cluster_clock(lab):
    """Are log lines stamped with the cluster's clock (lab.advance moves it), and do tail and timestamps
    work as kubectl's --tail and --timestamps?"""
    ip = lab.get("Pod", "net")["status"]["podIP"]
    lab.http(f"http://{ip}:8080/hostname", src="client")
    lab.advance(90)
    lab.http(f"http://{ip}:8080/clientip", src="client")
    stamped = lab.logs("net", container="netexec", timestamps=True).splitlines()
    times = [datetime.datetime.fromisoformat(line.split(" ", 1)[0][:19]) for line in stamped]
    assert (times[1] - times[0]).total_seconds() == 90
    assert stamped[0].split(" ", 1)[0].endswith(".000000000Z")
    assert lab.logs("net", container="netexec", tail=1).split(" ", 2)[2] == "GET /clientip\n"
    assert lab.logs("net", container="netexec", tail=0) == ""


def test_the_log_buffer_is_bounded():
    """Does a container keep only its last lines, while counting every line written (kubectl logs -f)?"""
    logs = ContainerLogs(limit=3)
    at = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    logs.write("uid", "c", at, [f"line {i}" for i in range(5)])
    assert [line.text for line in logs.read("uid", "c")] == ["line 2", "line 3", "line 4"]
    assert logs.written("uid", "c") == 5 and logs.read("uid", "other") == []


def test_echo_basic_logs_what_the_gateway_api_conformance_tests_grep_for():
    """Does echo-basic print "Echoing back request made to <path> to client (<ip:port>)" per request?"""
    lab = kubelab.connect()
    lab.apply(APP.replace("nginx:1.27", "registry.k8s.io/gateway-api/echo-basic:v20240412-v1.0.0")
              .replace("containerPort: 80", "containerPort: 3000").replace("targetPort: 80", "targetPort: 3000"))
    _, pod = _served_by(lab, "http://web/mirror?x=1")
    started, line = lab.logs(pod).strip().rsplit("\n", 1)
    assert started.splitlines() == ["Starting server, listening on port 3000 (http)",
                                    "Starting server, listening on port 3001 (h2c)"]   # as its process starts
    client = lab.get("Pod", "client")["status"]["podIP"]
    assert re.fullmatch(rf"Echoing back request made to /mirror\?x=1 to client \({re.escape(client)}:\d+\)", line)


def test_a_mirrored_copy_is_logged_by_the_mirror():
    """Does a Gateway API RequestMirror copy reach the mirror Service's pod, which logs it as echo-basic does
    (the line the Gateway API mirror conformance test greps for), while the client gets the main backend's
    answer?"""
    from .test_gateway_lab import NS, address, backend, gateway, route

    lab = kubelab.connect("simulated", gateway_controller="envoy-gateway", seed=0)
    lab.apply(NS + backend("cart") + backend("mirror") + [gateway()])
    lab.apply(route("m", [{"filters": [{"type": "RequestMirror",
                                        "requestMirror": {"backendRef": {"name": "mirror", "port": 8080}}}],
                           "backendRefs": [{"name": "cart", "port": 8080}]}]))
    response = lab.http(f"http://{address(lab)}/mirrored")
    assert response.pod == "shop/cart-0"
    for pod in ("shop/cart-0", "shop/mirror-0"):
        assert lab.logs(pod).splitlines()[2].startswith("Echoing back request made to /mirrored to client (")
    lab.apply(route("m", [{"backendRefs": [{"name": "cart", "port": 8080}]}]))
    lab.http(f"http://{address(lab)}/plain")
    assert "/plain" not in lab.logs("shop/mirror-0")     # no mirror filter: no copy


def test_echo_basic_says_at_start_which_port_it_listens_on():
    """Does echo-basic's log start with the port its process listens on ($HTTP_PORT), so `kubectl logs` shows a
    pod that declares one port and serves another?"""
    lab = kubelab.connect()
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "echo"},
               "spec": {"containers": [{"name": "echo", "image": ECHO_IMAGE,
                                        "env": [{"name": "HTTP_PORT", "value": "8080"}],
                                        "ports": [{"name": "http", "containerPort": 3000}]}]}})
    assert lab.logs("default/echo").splitlines()[0] == "Starting server, listening on port 8080 (http)"
