"""Where containers listen: well-known images where they really listen (Kubernetes does not enforce
containerPort), images kubelab does not know on their declared containerPorts (a simulator convention)."""
import copy

import pytest

import kubelab
from kubelab.net import apps
from kubelab.net.listeners import container_listeners, pod_listens

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53"
ECHO = "registry.k8s.io/gateway-api/echo-basic:v20240412-v1.0.0"
TCP, UDP, SCTP = "TCP", "UDP", "SCTP"


def _pod(*containers, name="p", init=()):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": list(containers), **({"initContainers": list(init)} if init else {})}}


def _c(image, ports=(), name="c", **fields):
    declared = [{"containerPort": p} if isinstance(p, int) else {"containerPort": p[0], "protocol": p[1]}
                for p in ports]
    return {"name": name, "image": image, **({"ports": declared} if declared else {}), **fields}


def _env(**values):
    return [{"name": k, "value": v} for k, v in values.items()]


# (image, other container fields, declared ports) -> where the container listens
TABLE = [
    ("nginx", {}, [8080], {(80, TCP)}),
    ("nginx:1.27", {}, [], {(80, TCP)}),
    ("docker.io/library/nginx:1.28", {}, [443], {(80, TCP)}),
    ("nginxinc/nginx-unprivileged", {}, [80], {(8080, TCP)}),
    ("nginx", {"volumeMounts": [{"name": "conf", "mountPath": "/etc/nginx/conf.d"}]}, [8081], {(8081, TCP)}),
    ("bitnami/nginx", {}, [8080], {(8080, TCP)}),                       # another image: the convention
    (AGNHOST, {"args": ["netexec"]}, [], {(8080, TCP), (8081, UDP)}),
    (AGNHOST, {"args": ["netexec", "--http-port=9376"]}, [8080], {(9376, TCP), (8081, UDP)}),
    (AGNHOST, {"command": ["/agnhost", "netexec", "--http-port", "8000", "--udp-port", "9000", "--sctp-port=9001"]},
     [], {(8000, TCP), (9000, UDP), (9001, SCTP)}),
    (AGNHOST, {"args": ["serve-hostname"]}, [80], {(9376, TCP)}),
    (AGNHOST, {"args": ["serve-hostname", "--udp", "--http=false"]}, [], {(9376, UDP)}),
    (AGNHOST, {"args": ["serve-hostname", "--tcp", "--http=false", "--port", "9000"]}, [], {(9000, TCP)}),
    (AGNHOST, {"args": ["porter"], "env": _env(SERVE_PORT_80="80", SERVE_TLS_PORT_443="443")}, [],
     {(80, TCP), (443, TCP)}),
    (AGNHOST, {"args": ["pause"]}, [80], set()),
    (AGNHOST, {}, [80, (53, UDP)], {(80, TCP), (53, UDP)}),              # no subcommand: the convention
    ("kennethreitz/httpbin", {}, [8080], {(80, TCP)}),
    ("docker.io/mccutchen/go-httpbin:v2.15.0", {}, [80], {(8080, TCP)}),
    ("mccutchen/go-httpbin", {"env": _env(PORT="9000")}, [], {(9000, TCP)}),
    ("mccutchen/go-httpbin", {"args": ["-port", "7000"], "env": _env(PORT="9000")}, [], {(7000, TCP)}),
    (ECHO, {}, [8080], {(3000, TCP), (3001, TCP)}),
    (ECHO, {"env": _env(HTTP_PORT="8080")}, [], {(8080, TCP), (3001, TCP)}),
    (ECHO, {"env": _env(TLS_SERVER_CERT="/c", TLS_SERVER_PRIVKEY="/k")}, [], {(3000, TCP), (3001, TCP), (8443, TCP)}),
    ("docker.io/istio/examples-helloworld-v1:1.0", {}, [80], {(5000, TCP)}),
    ("docker.io/istio/examples-bookinfo-reviews-v2:1.20.2", {}, [], {(9080, TCP)}),
    ("redis:7", {}, [6380], {(6379, TCP)}),
    ("postgres:17", {}, [5433], {(5432, TCP)}),
    ("postgres", {"args": ["-p", "5433"]}, [5432], {(5433, TCP)}),
    ("postgres", {"args": ["-c", "port=6543"]}, [], {(6543, TCP)}),
    ("mysql:8", {}, [], {(3306, TCP), (33060, TCP)}),
    ("registry.k8s.io/coredns/coredns:v1.12.0", {}, [(53, UDP)],
     {(53, UDP), (53, TCP), (8080, TCP), (8181, TCP), (9153, TCP)}),
    ("prom/node-exporter", {}, [], {(9100, TCP)}),
    ("prom/node-exporter", {"args": ["--web.listen-address=:9200"]}, [9100], {(9200, TCP)}),
    ("quay.io/prometheuscommunity/postgres-exporter", {}, [], {(9187, TCP)}),
    ("busybox", {"command": ["sleep", "infinity"]}, [80], set()),
    ("busybox", {}, [8080], set()),
    ("busybox:1.36", {"command": ["sh", "-c", "nc -lk -p 8080 -e echo hello"]}, [], {(8080, TCP)}),
    ("busybox", {"command": ["sh", "-c", "echo start; nc -lu -p 5353 && sleep 1"]}, [], {(5353, UDP)}),
    ("busybox", {"command": ["httpd", "-f", "-p", "0.0.0.0:8000", "-h", "/www"]}, [], {(8000, TCP)}),
    ("busybox", {"command": ["sh", "-c", "httpd -f"]}, [], {(80, TCP)}),
    ("busybox", {"command": ["sh", "-c", "nc -p 8080 web 80"]}, [], set()),   # a client, not a server
    ("docker.io/curlimages/curl:8.16.0", {"command": ["/bin/sleep", "infinity"]}, [80], set()),
    ("docker.io/istio/proxyv2:1.28.0", {"args": ["proxy", "sidecar"]}, [15090],
     {(15001, TCP), (15006, TCP), (15020, TCP), (15021, TCP), (15090, TCP)}),
    ("docker.io/istio/proxyv2:1.28.0", {"args": ["proxy", "router"]}, [8080, 8443], {(8080, TCP), (8443, TCP)}),
    ("cr.l5d.io/linkerd/proxy:edge-25.1.1", {}, [4143], {(4143, TCP), (4191, TCP)}),
    ("example/api:1.0", {}, [8080, (53, UDP)], {(8080, TCP), (53, UDP)}),
]


@pytest.mark.parametrize("image,fields,declared,listening", TABLE)
def test_where_each_image_listens(image, fields, declared, listening):
    """Does the container listen where its image (with these args and env) listens, whatever it declares?"""
    (listener,) = container_listeners(_pod(_c(image, declared, **fields)))
    assert set(listener.ports) == listening


def test_a_declared_port_the_image_does_not_listen_on_is_refused_and_says_why():
    """Is nginx declaring 8080 refused on 8080 with the reason naming nginx's port and containerPort's role?"""
    ok, why = pod_listens(_pod(_c("nginx", [8080])), 8080, TCP)
    assert not ok
    assert "nginx listens on 80/TCP" in why and "containerPort 8080 is only documentation" in why
    assert "does not enforce containerPort" in why
    ok, why = pod_listens(_pod(_c("nginx", [8080])), 80, TCP)
    assert ok and "nginx listens on 80/TCP" in why


def test_unknown_images_follow_the_simulator_convention():
    """Does an image kubelab does not know listen exactly on its declared ports, with the convention named?"""
    pod = _pod(_c("example/api:1.0", [8080]))
    ok, why = pod_listens(pod, 8080, TCP)
    assert ok and "simulator convention" in why
    ok, why = pod_listens(pod, 8081, TCP)
    assert not ok and "simulator convention" in why and "8080/TCP" in why
    ok, why = pod_listens(_pod(_c("example/worker:1.0")), 80, TCP)
    assert not ok and "it declares none" in why


def test_containers_of_a_pod_share_its_ports_and_native_sidecars_listen():
    """Does the pod listen where any of its containers (and a restartPolicy Always init container) listens?"""
    sidecar = _c("prom/node-exporter", name="exporter", restartPolicy="Always")
    one_shot = _c("redis", name="migrate")                              # an ordinary init container has exited
    pod = _pod(_c("busybox", [80], name="shell", command=["sleep", "infinity"]), _c("nginx", name="web"),
               init=[sidecar, one_shot])
    assert pod_listens(pod, 80, TCP)[0] and pod_listens(pod, 9100, TCP)[0]
    assert not pod_listens(pod, 6379, TCP)[0]


def test_the_app_that_answers_http_is_the_container_that_listens():
    """Is HTTP on port 80 answered by nginx, not by the busybox container that declares 80?"""
    pod = _pod(_c("busybox", [80], name="shell", command=["sleep", "infinity"]), _c("nginx", name="web"))
    app, container = apps.app_for(pod, 80)
    assert app.name == "nginx" and container["name"] == "web"


def test_listeners_are_cached_per_spec_and_deterministic():
    """Does the same container spec give the same (cached) answer, and a changed spec a new one?"""
    pod = _pod(_c(AGNHOST, args=["netexec", "--http-port=9376"]))
    assert container_listeners(pod) is container_listeners(copy.deepcopy(pod))
    changed = copy.deepcopy(pod)
    changed["spec"]["containers"][0]["args"] = ["netexec"]
    assert {p for p, _ in container_listeners(changed)[0].ports} == {8080, 8081}


@pytest.fixture
def lab():
    lab = kubelab.connect(seed=0)
    lab.apply([_pod(_c("busybox", command=["sleep", "infinity"]), name="client"),
               _pod(_c("nginx", [8080]), name="web"),
               _pod(_c("example/api:1.0", [9000]), name="api"),
               _pod(_c(AGNHOST, args=["netexec", "--http-port=9376"]), name="netexec"),
               {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}])
    pod = lab.get("Pod", "web")
    pod["metadata"]["labels"] = {"app": "web"}
    lab.apply(pod)
    return lab


def test_probes_allow_and_refuse_where_the_program_listens(lab):
    """Do reach() verdicts follow the image: nginx on 80 not 8080, netexec on 9376 and 8081/UDP, api on 9000?"""
    cases = [("default/web", 80, TCP, True), ("default/web", 8080, TCP, False),
             ("default/netexec", 9376, TCP, True), ("default/netexec", 8081, UDP, True),
             ("default/netexec", 8080, TCP, False), ("default/api", 9000, TCP, True), ("default/api", 80, TCP, False)]
    got = [(dst, port, protocol, bool(lab.reach("default/client", dst, port, protocol))) for dst, port, protocol, _ in cases]
    assert got == cases
    refused = lab.reach("default/client", "default/web", 8080)
    assert refused.reason.startswith("connection refused:") and "nginx listens on 80/TCP" in refused.reason
    assert "simulator convention" in lab.reach("default/client", "default/api", 80).reason


def test_a_udp_probe_to_a_busybox_pod_gets_port_unreachable(lab):
    """Is UDP to a pod whose program listens nowhere answered with ICMP port unreachable?"""
    verdict = lab.reach("default/web", "default/client", 53, UDP)
    assert not verdict and verdict.reason.startswith("ICMP port unreachable:") and "busybox" in verdict.reason


def test_a_service_whose_target_port_the_image_does_not_listen_on_is_refused(lab):
    """Does a Service sending to targetPort 8080 of nginx pods end refused, and the matrix agree?"""
    verdict = lab.reach("default/client", "web", 80)
    assert not verdict and "nginx listens on 80/TCP" in verdict.reason
    matrix = lab.reachability(pods=["default/client", "default/web"], port=8080)
    assert not matrix["default/client", "default/web"]
