"""Ingress in a simulated cluster: the installed controllers, admission, status and requests hop by hop."""
from __future__ import annotations

import pytest

import kubelab
from kubelab import KubelabError, ValidationError
from kubelab.net.http.tls import make_tls_secret

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: echo
        image: registry.k8s.io/gateway-api/echo-basic:v20240412-v1.0.0
        ports: [{name: http, containerPort: 3000}]
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  ingressClassName: nginx
  tls: [{hosts: [shop.example.com], secretName: shop-tls}]
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
"""


@pytest.fixture
def nginx_lab():
    lab = kubelab.connect("simulated", ingress_controller="ingress-nginx", seed=0)
    lab.apply([make_tls_secret("shop-tls", "default", ["shop.example.com"]), APP])
    return lab


def _addr(lab, ns="ingress-nginx", name="ingress-nginx-controller"):
    return lab.get("Service", name, ns)["status"]["loadBalancer"]["ingress"][0]["ip"]


def test_connect_installs_ingress_nginx_as_its_manifests_do():
    """Are the namespace, controller pod, LoadBalancer Service and non-default IngressClass there?"""
    lab = kubelab.connect("simulated", ingress_controller="ingress-nginx")
    svc = lab.get("Service", "ingress-nginx-controller", "ingress-nginx")
    assert svc["spec"]["type"] == "LoadBalancer" and svc["status"]["loadBalancer"]["ingress"]
    cls = lab.get("IngressClass", "nginx", None)
    assert cls["spec"]["controller"] == "k8s.io/ingress-nginx"
    assert "ingressclass.kubernetes.io/is-default-class" not in (cls["metadata"].get("annotations") or {})
    assert [p["status"]["phase"] for p in lab.list("Pod", "ingress-nginx")] == ["Running"]


def test_connect_installs_traefik():
    """Does traefik come as namespace traefik, Service traefik/traefik and IngressClass traefik?"""
    lab = kubelab.connect("simulated", ingress_controller="traefik")
    assert lab.get("Service", "traefik", "traefik")["spec"]["type"] == "LoadBalancer"
    assert lab.get("IngressClass", "traefik", None)["spec"]["controller"] == "traefik.io/ingress-controller"


def test_no_controller_by_default_and_a_bad_name_is_refused():
    """Does a plain connect() install no controller, and an unknown controller name raise a clear error?"""
    assert not kubelab.connect().list("IngressClass")
    with pytest.raises(kubelab.BackendError, match="ingress-nginx"):
        kubelab.connect("simulated", ingress_controller="haproxy")


def test_https_request_end_to_end(nginx_lab):
    """Does https://shop reach a web pod through the controller, with the Secret, route and hops?"""
    r = nginx_lab.http("https://shop.example.com/cart?x=1", resolve={"shop.example.com": _addr(nginx_lab)})
    assert r.status == 200 and r.backend == "default/web:http" and r.pod.startswith("default/web-")
    assert r.tls_secret == "default/shop-tls" and "spec.rules[0].http.paths[0]" in r.route
    assert r.request.path == "/cart?x=1" and r.request.headers["X-Forwarded-Proto"] == "https"
    assert r.json()["pod"] == r.pod.split("/")[1]
    devices = [h.device for h in r.hops]
    assert "ingress-nginx" in devices
    assert any(h.where.startswith("pod ingress-nginx/") for h in r.hops)


def test_http_to_a_tls_host_is_redirected(nginx_lab):
    """Does plain http to the TLS host get ingress-nginx's 308 with the https Location?"""
    r = nginx_lab.http("http://shop.example.com/a?b=1", resolve={"shop.example.com": _addr(nginx_lab)})
    assert r.status == 308 and r.headers["location"] == "https://shop.example.com/a?b=1" and r.backend is None


def test_client_address_is_kept_through_the_local_policy_load_balancer(nginx_lab):
    """With the controller Service's externalTrafficPolicy Local, does the backend see the client in X-Forwarded-For?"""
    r = nginx_lab.http("https://shop.example.com/", resolve={"shop.example.com": _addr(nginx_lab)})
    assert r.request.headers["X-Forwarded-For"] == "203.0.113.10"


def test_ingress_status_follows_the_controller(nginx_lab):
    """Does the served Ingress carry the LB address, and lose it when its class changes to another controller?"""
    assert nginx_lab.get("Ingress", "shop")["status"]["loadBalancer"]["ingress"] == [{"ip": _addr(nginx_lab)}]
    ing = nginx_lab.get("Ingress", "shop")
    ing["spec"]["ingressClassName"] = "elsewhere"
    nginx_lab.apply(ing)
    assert nginx_lab.get("Ingress", "shop")["status"]["loadBalancer"] == {}
    r = nginx_lab.http("https://shop.example.com/", resolve={"shop.example.com": _addr(nginx_lab)})
    assert r.status == 404 and r.tls_secret is None
    assert ("Ingress default/shop has a rule for shop.example.com but is not served: spec.ingressClassName "
            "'elsewhere' names no IngressClass") in r.route


def test_a_stopped_controller_serves_nothing(nginx_lab):
    """With the controller scaled to zero, is the Ingress unserved and the address unreachable?"""
    dep = nginx_lab.get("Deployment", "ingress-nginx-controller", "ingress-nginx")
    dep["spec"]["replicas"] = 0
    nginx_lab.apply(dep)
    nginx_lab.advance(300)   # the controller pods terminate gracefully before they are gone
    assert nginx_lab.get("Ingress", "shop")["status"]["loadBalancer"] == {}
    r = nginx_lab.http("http://shop.example.com/", resolve={"shop.example.com": _addr(nginx_lab)})
    assert r.status == 0 and r.reason


def test_networkpolicy_between_controller_and_backend(nginx_lab):
    """Does a policy admitting only the ingress-nginx namespace let the proxy through and stop a pod elsewhere?"""
    nginx_lab.apply("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-ingress}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {containers: [{name: c, image: busybox}]}
""")
    assert nginx_lab.http("https://shop.example.com/", resolve={"shop.example.com": _addr(nginx_lab)}).status == 200
    direct = nginx_lab.http("http://web/", src="default/client")
    assert direct.status == 0 and "from-ingress" in direct.reason


def test_backend_without_ready_endpoints_is_503(nginx_lab):
    """Does the proxy answer 503 when the backend Service has no ready endpoints?"""
    dep = nginx_lab.get("Deployment", "web")
    dep["spec"]["replicas"] = 0
    nginx_lab.apply(dep)
    r = nginx_lab.http("https://shop.example.com/", resolve={"shop.example.com": _addr(nginx_lab)})
    assert r.status == 503 and r.backend == "default/web:http" and r.pod is None


def test_default_class_admission_in_the_lab():
    """Is a class-less Ingress given the default class on create, and refused with two defaults?"""
    lab = kubelab.connect("simulated", ingress_controller="ingress-nginx")
    cls = lab.get("IngressClass", "nginx", None)
    cls["metadata"]["annotations"] = {"ingressclass.kubernetes.io/is-default-class": "true"}
    lab.apply(cls)
    ing = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "a"},
           "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}
    lab.apply(ing)
    assert lab.get("Ingress", "a")["spec"]["ingressClassName"] == "nginx"
    lab.apply(ing)   # re-applying the manifest (no class in it) keeps the assigned class, as kubectl apply does
    assert lab.get("Ingress", "a")["spec"]["ingressClassName"] == "nginx"
    lab.apply({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
               "metadata": {"name": "second", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
               "spec": {"controller": "example.com/second"}})
    with pytest.raises(ValidationError, match="2 default IngressClasses") as err:
        lab.apply({**ing, "metadata": {"name": "b"}})
    assert err.value.field == "spec.ingressClassName"


def test_removed_api_version_is_named_as_removed():
    """Is extensions/v1beta1 Ingress refused as removed in v1.22, pointing to networking.k8s.io/v1?"""
    lab = kubelab.connect()
    with pytest.raises(KubelabError, match="removed in Kubernetes v1.22.*networking.k8s.io/v1"):
        lab.apply({"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": {"name": "old"},
                   "spec": {"backend": {"serviceName": "web", "servicePort": 80}}})


def test_apply_is_all_or_nothing_with_a_bad_ingress(nginx_lab):
    """Does one invalid Ingress in an apply leave the Service beside it uncreated?"""
    with pytest.raises(ValidationError, match=r"spec.rules\[0\].http.paths\[0\].pathType"):
        nginx_lab.apply("""
apiVersion: v1
kind: Service
metadata: {name: extra}
spec: {ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bad}
spec:
  rules:
  - http:
      paths: [{path: /, backend: {service: {name: extra, port: {number: 80}}}}]
""")
    assert not [s for s in nginx_lab.list("Service", "default") if s["metadata"]["name"] == "extra"]


def test_tls_secret_validation():
    """Is a kubernetes.io/tls Secret without tls.key refused at data[tls.key], and stringData merged into data?"""
    lab = kubelab.connect()
    with pytest.raises(ValidationError) as err:
        lab.apply({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": "s"},
                   "stringData": {"tls.crt": "x"}})
    assert err.value.field == "data[tls.key]"
    lab.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "o"}, "stringData": {"k": "v"}})
    assert lab.get("Secret", "o")["data"] == {"k": "dg=="} and lab.get("Secret", "o")["type"] == "Opaque"


def test_traefik_routes_through_its_entrypoint_ports():
    """Does a request to traefik's Service port 80 reach the web entrypoint (8000) and then the backend?"""
    lab = kubelab.connect("simulated", ingress_controller="traefik", seed=0)
    lab.apply(APP.replace("ingressClassName: nginx", "ingressClassName: traefik"))
    r = lab.http("http://shop.example.com/x", resolve={"shop.example.com": _addr(lab, "traefik", "traefik")})
    assert r.status == 200 and r.backend == "default/web:http"
    assert r.request.headers["X-Forwarded-Server"] == "traefik"
    assert any(":8000 (" in h.action for h in r.hops)   # kube-proxy DNAT to the web entrypoint


def test_same_seed_same_output():
    """Do two labs with one seed print the same response, hops included?"""
    outs = []
    for _ in range(2):
        lab = kubelab.connect("simulated", ingress_controller="ingress-nginx", seed=3)
        lab.apply([make_tls_secret("shop-tls", "default", ["shop.example.com"]), APP])
        r = lab.http("https://shop.example.com/", resolve={"shop.example.com": _addr(lab)})
        outs.append(str(r) + "\n".join(f"{h.where} {h.action}" for h in r.hops))
    assert outs[0] == outs[1]


def test_requests_spread_over_backend_pods(nginx_lab):
    """Does the controller spread new requests over every ready backend pod (seeded, so reproducible)?"""
    addr = _addr(nginx_lab)
    pods = {nginx_lab.http("https://shop.example.com/", resolve={"shop.example.com": addr}).pod for _ in range(60)}
    assert len(pods) == 2


def test_a_policy_applied_later_takes_effect_on_the_next_request(nginx_lab):
    """After a deny-all policy on the backends is applied, does the next request get 504 from the proxy?"""
    addr = _addr(nginx_lab)
    assert nginx_lab.http("https://shop.example.com/", resolve={"shop.example.com": addr}).status == 200
    nginx_lab.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny"},
                     "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}})
    r = nginx_lab.http("https://shop.example.com/", resolve={"shop.example.com": addr})
    assert r.status == 504 and "default/deny" in r.reason


def test_scheme_and_port_must_agree(nginx_lab):
    """Does plain HTTP to port 443 get nginx's 400, and TLS to port 80 no HTTP answer at all?"""
    addr = _addr(nginx_lab)
    r = nginx_lab.http(f"http://{addr}:443/", headers={"Host": "shop.example.com"})
    assert r.status == 400 and "plain HTTP request was sent to HTTPS port" in r.text
    r = nginx_lab.http("https://shop.example.com:80/", resolve={"shop.example.com": addr})
    assert r.status == 0 and "wrong version number" in r.reason


def test_from_a_pod_through_the_controllers_dns_name(nginx_lab):
    """Does a pod reach the backend through the controller Service's DNS name, with the Host header picking the rule?"""
    nginx_lab.apply("""
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {containers: [{name: c, image: curlimages/curl}]}
""")
    r = nginx_lab.http("https://ingress-nginx-controller.ingress-nginx.svc.cluster.local/",
                       src="default/client", headers={"Host": "shop.example.com"})
    assert r.status == 200 and r.backend == "default/web:http"
    assert r.tls_secret is None        # SNI is the URL host, which no spec.tls entry lists


def test_externalname_backend_is_reached_by_its_name():
    """Does a route to an ExternalName Service send the proxy to the name's address outside the cluster?"""
    lab = kubelab.connect("simulated", ingress_controller="ingress-nginx", seed=0,
                          external_dns={"api.example.org": {"A": ["192.0.2.50"]}})
    lab.apply("""
apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {type: ExternalName, externalName: api.example.org, ports: [{port: 443}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ext}
spec:
  ingressClassName: nginx
  rules:
  - host: ext.example.com
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: ext, port: {number: 443}}}}]
""")
    r = lab.http(f"http://{_addr(lab)}/", headers={"Host": "ext.example.com"})
    assert r.status == 200 and r.backend == "default/ext:443" and r.pod is None
    assert r.hops[-1].dst == "192.0.2.50"


def test_v1beta1_fields_in_a_v1_ingress_are_named():
    """Is v1beta1's serviceName/servicePort in a v1 Ingress reported as an unknown field at its path?"""
    lab = kubelab.connect()
    with pytest.raises(ValidationError) as err:
        lab.apply({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "old-style"},
                   "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                                                           "backend": {"serviceName": "web", "servicePort": 80}}]}}]}})
    assert err.value.field == "spec.rules[0].http.paths[0].backend.serviceName"
    assert "unknown field" in str(err.value)


def test_deleting_the_secret_or_the_class_takes_effect(nginx_lab):
    """After the TLS Secret is deleted is the fake certificate served; after the IngressClass goes, nothing?"""
    addr = _addr(nginx_lab)
    url, resolve = "https://shop.example.com/", {"shop.example.com": addr}
    assert nginx_lab.http(url, resolve=resolve).tls_secret == "default/shop-tls"
    nginx_lab.delete("Secret", "shop-tls")
    r = nginx_lab.http(url, resolve=resolve)
    assert r.status == 200 and r.tls_secret is None and "does not exist" in r.route
    nginx_lab.delete("IngressClass", "nginx", None)
    assert nginx_lab.http(url, resolve=resolve).status == 404
    assert nginx_lab.get("Ingress", "shop")["status"]["loadBalancer"] == {}
    assert [i["metadata"]["name"] for i in nginx_lab.list("Ingress")] == ["shop"]
