"""connect(gateway_controller="envoy-gateway") end to end: what Envoy Gateway installs and creates, status kept
current on apply and delete, and lab.http through a Gateway (grants, mirrors, TLS, splits)."""
from __future__ import annotations

import collections

import pytest

import kubelab
from kubelab.net.http.tls import make_tls_secret

ECHO = "registry.k8s.io/gateway-api/echo-basic:v1.5.1"
EG_NS = "envoy-gateway-system"


def backend(name, ns="shop", replicas=1):
    docs = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
             "spec": {"selector": {"app": name}, "ports": [{"port": 8080, "targetPort": 3000}]}}]
    docs += [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"{name}-{i}", "namespace": ns, "labels": {"app": name}},
              "spec": {"containers": [{"name": "echo", "image": ECHO, "ports": [{"containerPort": 3000}]}]}}
             for i in range(replicas)]
    return docs


def gateway(name="gw", ns="shop", listeners=None):
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": name, "namespace": ns},
            "spec": {"gatewayClassName": "eg",
                     "listeners": listeners or [{"name": "http", "port": 80, "protocol": "HTTP"}]}}


def route(name, rules, ns="shop", parent="gw", parent_ns=None, hostnames=None):
    ref = {"name": parent}
    if parent_ns:
        ref["namespace"] = parent_ns
    spec = {"parentRefs": [ref], "rules": rules}
    if hostnames:
        spec["hostnames"] = hostnames
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": name, "namespace": ns},
            "spec": spec}


NS = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in ("shop", "web")]


@pytest.fixture
def lab():
    lab = kubelab.connect("simulated", gateway_controller="envoy-gateway", seed=0)
    lab.apply(NS + backend("cart") + backend("web", "web") + backend("mirror") + [gateway()])
    return lab


def address(lab, name="gw", ns="shop"):
    return lab.get("Gateway", name, ns)["status"]["addresses"][0]["value"]


def test_connect_installs_envoy_gateway_and_the_eg_class():
    lab = kubelab.connect("simulated", gateway_controller="envoy-gateway", seed=0)
    gc = lab.get("GatewayClass", "eg", None)
    assert gc["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    assert gc["status"]["conditions"][0]["status"] == "True"
    assert [d["metadata"]["name"] for d in lab.list("Deployment", EG_NS)] == ["envoy-gateway"]
    with pytest.raises(kubelab.NotFoundError):
        kubelab.connect("simulated", seed=0).get("GatewayClass", "eg", None)
    with pytest.raises(kubelab.BackendError, match="gateway_controller"):
        kubelab.connect("simulated", gateway_controller="istio")


def test_each_gateway_gets_envoys_service_and_proxy(lab):
    """Envoy Gateway's infra: envoy-<ns>-<name>-<hash> in envoy-gateway-system, LoadBalancer, owning-gateway labels,
    listener port 80 to Envoy's 10080; the address lands in the Gateway's status.addresses."""
    selector = "gateway.envoyproxy.io/owning-gateway-name=gw,gateway.envoyproxy.io/owning-gateway-namespace=shop"
    services = lab.list("Service", EG_NS, selector=selector)
    assert len(services) == 1
    svc = services[0]
    assert svc["metadata"]["name"].startswith("envoy-shop-gw-") and len(svc["metadata"]["name"]) == len("envoy-shop-gw-") + 8
    assert svc["spec"]["type"] == "LoadBalancer" and svc["spec"]["externalTrafficPolicy"] == "Local"
    assert [(p["name"], p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [("http-80", 80, 10080)]
    assert len(lab.list("Pod", EG_NS, selector=selector)) == 1
    assert address(lab) == svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    listeners = [{"name": "http", "port": 80, "protocol": "HTTP"}, {"name": "alt", "port": 8080, "protocol": "HTTP"}]
    lab.apply(gateway(listeners=listeners))            # a new listener port reaches the Service, same address
    svc2 = lab.list("Service", EG_NS, selector=selector)[0]
    assert [(p["name"], p["port"], p["targetPort"]) for p in svc2["spec"]["ports"]] == [("http-80", 80, 10080),
                                                                                     ("http-8080", 8080, 8080)]
    assert svc2["spec"]["clusterIP"] == svc["spec"]["clusterIP"] and address(lab) == svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    lab.delete("Gateway", "gw", "shop")
    assert lab.list("Service", EG_NS, selector=selector) == []
    assert lab.list("Pod", EG_NS, selector=selector) == []


def test_without_a_controller_the_gateway_stays_pending():
    lab = kubelab.connect("simulated", seed=0)
    lab.apply(NS + [gateway()])
    conditions = lab.get("Gateway", "gw", "shop")["status"]["conditions"]
    assert {(c["type"], c["status"], c["reason"]) for c in conditions} == {("Accepted", "Unknown", "Pending"),
                                                                           ("Programmed", "Unknown", "Pending")}


def test_revoking_a_grant_takes_effect_on_the_next_request(lab):
    grant = {"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
             "metadata": {"name": "shop-to-web", "namespace": "web"},
             "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "shop"}],
                      "to": [{"group": "", "kind": "Service"}]}}
    lab.apply([grant, route("to-web", [{"backendRefs": [{"name": "web", "namespace": "web", "port": 8080}]}])])
    url = f"http://{address(lab)}/"
    r = lab.http(url)
    assert (r.status, r.backend, r.pod) == (200, "web/web:8080", "web/web-0")
    assert r.request.headers["X-Forwarded-Proto"] == "http" and r.request.headers["X-Forwarded-For"]
    lab.delete("ReferenceGrant", "shop-to-web", "web")
    r = lab.http(url)
    assert (r.status, r.backend) == (500, None)
    parent = lab.get("HTTPRoute", "to-web", "shop")["status"]["parents"][0]
    assert {c["type"]: c["reason"] for c in parent["conditions"]}["ResolvedRefs"] == "RefNotPermitted"


def test_status_follows_the_backend_service(lab):
    lab.apply(route("r", [{"backendRefs": [{"name": "cart", "port": 8080}]}]))
    reasons = lambda: {c["type"]: c["reason"] for c in lab.get("HTTPRoute", "r", "shop")["status"]["parents"][0]["conditions"]}
    assert reasons()["ResolvedRefs"] == "ResolvedRefs"
    lab.delete("Service", "cart", "shop")
    assert reasons()["ResolvedRefs"] == "BackendNotFound"
    assert lab.http(f"http://{address(lab)}/").status == 500


def test_mirrored_copies_are_visible(lab):
    lab.apply(route("m", [{"filters": [{"type": "RequestMirror",
                                        "requestMirror": {"backendRef": {"name": "mirror", "port": 8080}}}],
                           "backendRefs": [{"name": "cart", "port": 8080}]}]))
    r = lab.http(f"http://{address(lab)}/x")
    assert r.backend == "shop/cart:8080" and r.mirrors == ("shop/mirror:8080",)


def test_https_listener_terminates_with_its_secret(lab):
    lab.apply([make_tls_secret("shop-cert", "shop", ["shop.example.com"]),
               gateway("tls", listeners=[{"name": "https", "port": 443, "protocol": "HTTPS",
                                          "hostname": "shop.example.com",
                                          "tls": {"certificateRefs": [{"name": "shop-cert"}]}}]),
               route("secure", [{"backendRefs": [{"name": "cart", "port": 8080}]}], parent="tls")])
    addr = address(lab, "tls")
    r = lab.http("https://shop.example.com/", resolve={"shop.example.com": addr})
    assert (r.status, r.backend, r.tls_secret) == (200, "shop/cart:8080", "shop/shop-cert")
    assert lab.http(f"http://{addr}/").status == 0       # no plain-HTTP listener on the Gateway
    r = lab.http("https://other.example.com/", resolve={"other.example.com": addr})
    assert r.status == 0 and "closed the connection" in r.reason    # no listener for that SNI: no handshake


def test_split_is_seeded_and_each_request_a_new_draw():
    def run():
        lab = kubelab.connect("simulated", gateway_controller="envoy-gateway", seed=7)
        lab.apply(NS + backend("cart") + backend("cart-v2") + [gateway(), route("canary", [{"backendRefs": [
            {"name": "cart", "port": 8080, "weight": 90}, {"name": "cart-v2", "port": 8080, "weight": 10}]}])])
        url = f"http://{address(lab)}/"
        return [lab.http(url).backend for _ in range(500)]
    first = run()
    counts = collections.Counter(first)
    assert abs(counts["shop/cart-v2:8080"] / 500 - 0.1) <= 0.05
    assert run() == first


def test_route_line_names_the_rule_and_the_tie_breaker(lab):
    lab.apply(route("r", [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                           "backendRefs": [{"name": "cart", "port": 8080}]},
                          {"matches": [{"path": {"type": "Exact", "value": "/cart"}}],
                           "backendRefs": [{"name": "cart", "port": 8080}]}]))
    r = lab.http(f"http://{address(lab)}/cart")
    assert "HTTPRoute shop/r rules[1].matches[0]" in r.route and "path match type" in r.route


def test_static_addresses_become_external_ips():
    """Gateway spec.addresses (IPAddress) are given to the Envoy Service as externalIPs and published in status;
    a Hostname address cannot be used (Programmed False, AddressNotUsable)."""
    lab = kubelab.connect("simulated", gateway_controller="envoy-gateway", seed=0)
    gw = gateway()
    gw["spec"]["addresses"] = [{"type": "IPAddress", "value": "192.0.2.80"}]
    lab.apply(NS + backend("cart") + [gw, route("r", [{"backendRefs": [{"name": "cart", "port": 8080}]}])])
    status = lab.get("Gateway", "gw", "shop")["status"]
    assert status["addresses"] == [{"type": "IPAddress", "value": "192.0.2.80"}]
    assert {c["type"]: c["status"] for c in status["conditions"]}["Programmed"] == "True"
    svc = lab.list("Service", EG_NS, selector="gateway.envoyproxy.io/owning-gateway-name=gw")[0]
    assert svc["spec"]["externalIPs"] == ["192.0.2.80"]
    assert lab.http("http://192.0.2.80/", src="shop/cart-0").backend == "shop/cart:8080"   # kube-proxy takes it in-cluster
    gw["spec"]["addresses"] = [{"type": "IPAddress", "value": "192.0.2.81"}]
    lab.apply(gw)                                      # a changed spec reaches the Service and the status
    svc = lab.list("Service", EG_NS, selector="gateway.envoyproxy.io/owning-gateway-name=gw")[0]
    assert svc["spec"]["externalIPs"] == ["192.0.2.81"]
    assert lab.get("Gateway", "gw", "shop")["status"]["addresses"] == [{"type": "IPAddress", "value": "192.0.2.81"}]
    named = gateway("named")
    named["spec"]["addresses"] = [{"type": "Hostname", "value": "gw.example.com"}]
    lab.apply(named)
    conditions = {c["type"]: c for c in lab.get("Gateway", "named", "shop")["status"]["conditions"]}
    assert conditions["Programmed"]["reason"] == "AddressNotUsable"


def test_an_address_without_a_value_publishes_the_cluster_ip():
    """GatewayOptionalAddressValue: spec.addresses [{type: IPAddress}] with no value: Envoy Gateway publishes the
    Service's ClusterIP (UpdateGatewayStatusProgrammedCondition)."""
    lab = kubelab.connect("simulated", gateway_controller="envoy-gateway", seed=0)
    gw = gateway()
    gw["spec"]["addresses"] = [{"type": "IPAddress"}]
    lab.apply(NS + [gw])
    svc = lab.list("Service", EG_NS, selector="gateway.envoyproxy.io/owning-gateway-name=gw")[0]
    assert "externalIPs" not in svc["spec"]
    assert lab.get("Gateway", "gw", "shop")["status"]["addresses"] == [{"type": "IPAddress",
                                                                       "value": svc["spec"]["clusterIP"]}]


def test_a_certificate_in_another_namespace_needs_a_grant(lab):
    """A listener's certificateRef into another namespace resolves only while a ReferenceGrant there allows
    Gateways of this namespace to refer to the Secret; revoking it takes the listener down on the next request."""
    grant = {"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
             "metadata": {"name": "gateways-to-cert", "namespace": "web"},
             "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "shop"}],
                      "to": [{"group": "", "kind": "Secret", "name": "web-cert"}]}}
    lab.apply([make_tls_secret("web-cert", "web", ["*.example.com"]), grant,
               gateway("tls", listeners=[{"name": "https", "port": 443, "protocol": "HTTPS",
                                          "tls": {"certificateRefs": [{"name": "web-cert", "namespace": "web"}]}}]),
               route("secure", [{"backendRefs": [{"name": "cart", "port": 8080}]}], parent="tls")])
    addr = address(lab, "tls")
    r = lab.http("https://a.example.com/", resolve={"a.example.com": addr})
    assert (r.status, r.tls_secret) == (200, "web/web-cert")
    lab.delete("ReferenceGrant", "gateways-to-cert", "web")
    listener = lab.get("Gateway", "tls", "shop")["status"]["listeners"][0]
    assert {c["type"]: c["reason"] for c in listener["conditions"]}["ResolvedRefs"] == "RefNotPermitted"
    assert lab.http("https://a.example.com/", resolve={"a.example.com": addr}).status == 0
