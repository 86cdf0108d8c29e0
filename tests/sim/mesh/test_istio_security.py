"""Istio security on the simulated cluster: auto mTLS, PeerAuthentication precedence, TLS mismatches,
identities and X-Forwarded-Client-Cert, AuthorizationPolicy, and JWTs at the ingress gateway."""
from __future__ import annotations

import pytest

from kubelab.net.mesh.jwt import Issuer

from .helpers import INJECT, authz, dr, mesh_lab, pa, pod_of, vs

URL = "http://httpbin.foo:8000/headers"


@pytest.fixture()
def lab():
    return mesh_lab(namespaces={"foo": INJECT, "bar": INJECT, "legacy": {}},
                    apps=[("httpbin", "foo"), ("curl", "foo"), ("curl", "bar"), ("curl", "legacy"),
                          ("httpbin", "legacy")])


def test_identity_and_xfcc_from_the_service_account(lab):
    """The server sidecar sets X-Forwarded-Client-Cert with its own and the client's SPIFFE ids."""
    r = lab.http(URL, src=pod_of(lab, "bar", "curl"))
    xfcc = r.request.headers["X-Forwarded-Client-Cert"]
    assert xfcc.startswith("By=spiffe://cluster.local/ns/foo/sa/httpbin;Hash=")
    assert xfcc.endswith('Subject="";URI=spiffe://cluster.local/ns/bar/sa/curl')
    assert r.mtls


def test_plaintext_client_has_no_xfcc(lab):
    r = lab.http(URL, src=pod_of(lab, "legacy", "curl"))
    assert r.status == 200 and not r.mtls and "X-Forwarded-Client-Cert" not in r.request.headers


def test_sidecar_to_a_pod_without_sidecar_is_plaintext(lab):
    """Auto mTLS sends plaintext to a workload without a sidecar."""
    r = lab.http("http://httpbin.legacy:8000/ip", src=pod_of(lab, "foo", "curl"))
    assert r.status == 200 and not r.mtls


def test_istio_mutual_to_a_pod_without_sidecar_is_503(lab):
    """A DestinationRule forcing ISTIO_MUTUAL towards a workload without a sidecar: the TLS handshake fails and
    the client proxy answers 503."""
    lab.apply([dr("httpbin", "legacy", {"host": "httpbin.legacy.svc.cluster.local",
                                        "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}})])
    r = lab.http("http://httpbin.legacy:8000/ip", src=pod_of(lab, "foo", "curl"))
    assert (r.status, r.backend, r.pod) == (503, None, None)


def test_strict_server_with_plaintext_from_client_proxy_is_503(lab):
    """STRICT server, client sidecar told to send plaintext (DestinationRule tls DISABLE): the server resets
    the connection and the client's proxy answers 503 (a client without proxy would see 000)."""
    lab.apply([pa("default", "foo", {"mtls": {"mode": "STRICT"}}),
               dr("httpbin", "bar", {"host": "httpbin.foo.svc.cluster.local",
                                     "trafficPolicy": {"tls": {"mode": "DISABLE"}}})])
    assert lab.http(URL, src=pod_of(lab, "bar", "curl")).status == 503
    assert lab.http(URL, src=pod_of(lab, "legacy", "curl")).status == 0
    assert lab.http(URL, src=pod_of(lab, "foo", "curl")).status == 200       # the DR lives in bar


def test_disable_server_gets_plaintext_from_auto_mtls(lab):
    """PeerAuthentication DISABLE: auto mTLS sends plaintext, so the request works without mTLS."""
    lab.apply([pa("httpbin", "foo", {"selector": {"matchLabels": {"app": "httpbin"}}, "mtls": {"mode": "DISABLE"}})])
    r = lab.http(URL, src=pod_of(lab, "bar", "curl"))
    assert r.status == 200 and not r.mtls


def test_workload_policy_beats_namespace_and_mesh(lab):
    """Mesh STRICT, namespace STRICT, workload PERMISSIVE: the workload level wins, so legacy gets in."""
    lab.apply([pa("default", "istio-system", {"mtls": {"mode": "STRICT"}}),
               pa("default", "foo", {"mtls": {"mode": "STRICT"}}),
               pa("httpbin", "foo", {"selector": {"matchLabels": {"app": "httpbin"}}, "mtls": {"mode": "PERMISSIVE"}})])
    assert lab.http(URL, src=pod_of(lab, "legacy", "curl")).status == 200


def test_unset_inherits_from_the_namespace(lab):
    """A workload policy with mode UNSET inherits the namespace's STRICT."""
    lab.apply([pa("default", "foo", {"mtls": {"mode": "STRICT"}}),
               pa("httpbin", "foo", {"selector": {"matchLabels": {"app": "httpbin"}}, "mtls": {"mode": "UNSET"}})])
    assert lab.http(URL, src=pod_of(lab, "legacy", "curl")).status == 0


def test_port_level_mtls_beats_the_workload_mode(lab):
    """portLevelMtls on the container port 8080 (not the Service port 8000) overrides the workload's STRICT."""
    lab.apply([pa("httpbin", "foo", {"selector": {"matchLabels": {"app": "httpbin"}}, "mtls": {"mode": "STRICT"},
                                     "portLevelMtls": {"8080": {"mode": "DISABLE"}}})])
    assert lab.http(URL, src=pod_of(lab, "legacy", "curl")).status == 200
    lab.apply([pa("httpbin", "foo", {"selector": {"matchLabels": {"app": "httpbin"}}, "mtls": {"mode": "STRICT"},
                                     "portLevelMtls": {"8000": {"mode": "DISABLE"}}})])
    assert lab.http(URL, src=pod_of(lab, "legacy", "curl")).status == 0


def test_peer_authentication_in_another_namespace_does_nothing(lab):
    """STRICT in namespace bar does not protect foo (a classic mistake: the policy in the wrong namespace)."""
    lab.apply([pa("default", "bar", {"mtls": {"mode": "STRICT"}})])
    assert lab.http(URL, src=pod_of(lab, "legacy", "curl")).status == 200


def test_authz_principals_need_mtls(lab):
    """An ALLOW for the principal of curl in bar: bar's curl (mTLS) passes; foo's curl and legacy are denied
    with 403 "RBAC: access denied"."""
    lab.apply([authz("httpbin", "foo", {"selector": {"matchLabels": {"app": "httpbin"}}, "rules": [
        {"from": [{"source": {"principals": ["cluster.local/ns/bar/sa/curl"]}}]}]})])
    assert lab.http(URL, src=pod_of(lab, "bar", "curl")).status == 200
    for ns in ("foo", "legacy"):
        r = lab.http(URL, src=pod_of(lab, ns, "curl"))
        assert (r.status, r.text) == (403, "RBAC: access denied")


def test_authz_to_methods_paths_and_when_headers(lab):
    """ALLOW GET on /headers* only when header x-token is "ok": everything else is denied."""
    lab.apply([authz("httpbin", "foo", {"selector": {"matchLabels": {"app": "httpbin"}}, "rules": [
        {"to": [{"operation": {"methods": ["GET"], "paths": ["/headers*"]}}],
         "when": [{"key": "request.headers[x-token]", "values": ["ok"]}]}]})])
    src = pod_of(lab, "bar", "curl")
    assert lab.http(URL, src=src, headers={"x-token": "ok"}).status == 200
    assert lab.http(URL, src=src, headers={"x-token": "no"}).status == 403
    assert lab.http("http://httpbin.foo:8000/ip", src=src, headers={"x-token": "ok"}).status == 403
    assert lab.http(URL, src=src, method="POST", headers={"x-token": "ok"}).status == 403


def test_authz_ip_blocks_and_not_namespaces(lab):
    """DENY notNamespaces [bar]: everyone but bar's workloads is denied (plaintext has no namespace, so legacy
    is denied too); an ipBlocks ALLOW matches on the source address."""
    lab.apply([authz("deny-others", "foo", {"action": "DENY", "rules": [
        {"from": [{"source": {"notNamespaces": ["bar"]}}]}]})])
    assert lab.http(URL, src=pod_of(lab, "bar", "curl")).status == 200
    assert lab.http(URL, src=pod_of(lab, "foo", "curl")).status == 403
    assert lab.http(URL, src=pod_of(lab, "legacy", "curl")).status == 403
    lab.delete("AuthorizationPolicy", "deny-others", "foo")
    lab.apply([authz("by-ip", "foo", {"rules": [{"from": [{"source": {"ipBlocks": ["192.0.2.0/24"]}}]}]})])
    assert lab.http(URL, src=pod_of(lab, "bar", "curl")).status == 403


def gateway_objects():
    return [
        {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
         "metadata": {"name": "httpbin-gateway", "namespace": "foo"},
         "spec": {"selector": {"istio": "ingressgateway"},
                  "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                               "hosts": ["httpbin.example.com"]}]}},
        vs("httpbin", "foo", {"hosts": ["httpbin.example.com"], "gateways": ["httpbin-gateway"], "http": [
            {"match": [{"uri": {"prefix": "/status"}}, {"uri": {"prefix": "/headers"}}],
             "route": [{"destination": {"host": "httpbin", "port": {"number": 8000}}}]}]}),
    ]


def test_ingress_gateway_routes_by_host(lab):
    """Ingress task: Gateway on port 80 for httpbin.example.com and a VirtualService bound to it; other hosts
    and unrouted paths get 404 from the gateway."""
    lab.apply(gateway_objects())
    gw = "http://istio-ingressgateway.istio-system"
    src = pod_of(lab, "legacy", "curl")
    r = lab.http(f"{gw}/status/200", src=src, headers={"Host": "httpbin.example.com"})
    assert (r.status, r.backend, r.mtls) == (200, "foo/httpbin:8000", True)
    assert lab.http(f"{gw}/status/200", src=src, headers={"Host": "other.example.com"}).status == 404
    assert lab.http(f"{gw}/ip", src=src, headers={"Host": "httpbin.example.com"}).status == 404


def test_installed_ingress_gateway_service():
    """The default profile's istio-ingressgateway Service: 80 -> 8080, 443 -> 8443, 15021."""
    lab = mesh_lab()
    svc = lab.get("Service", "istio-ingressgateway", "istio-system")
    assert {(p["port"], p.get("targetPort")) for p in svc["spec"]["ports"]} == {(80, 8080), (443, 8443),
                                                                                (15021, 15021)}
    assert svc["spec"]["type"] == "LoadBalancer"
    assert lab.list("Pod", "istio-system", selector="app=istiod")


def test_jwt_at_the_gateway(lab):
    """RequestAuthentication on the gateway: no token passes, a valid token passes, a forged or expired one gets
    401; an AuthorizationPolicy requiring a request principal then refuses requests without a token."""
    issuer = Issuer("testing@secure.istio.io")
    forger = Issuer("testing@secure.istio.io")
    lab.apply(gateway_objects() + [{"apiVersion": "security.istio.io/v1", "kind": "RequestAuthentication",
                                    "metadata": {"name": "jwt", "namespace": "istio-system"},
                                    "spec": {"selector": {"matchLabels": {"istio": "ingressgateway"}},
                                             "jwtRules": [{"issuer": "testing@secure.istio.io",
                                                           "jwks": issuer.jwks}]}}])
    gw = "http://istio-ingressgateway.istio-system/headers"
    src = pod_of(lab, "legacy", "curl")
    host = {"Host": "httpbin.example.com"}
    assert lab.http(gw, src=src, headers=host).status == 200
    good = {**host, "Authorization": f"Bearer {issuer.token('alice')}"}
    assert lab.http(gw, src=src, headers=good).status == 200
    assert lab.http(gw, src=src, headers={**host, "Authorization": f"Bearer {forger.token('alice')}"}).status == 401
    expired = {**host, "Authorization": f"Bearer {issuer.token('alice', exp=1)}"}
    assert lab.http(gw, src=src, headers=expired).status == 401
    lab.apply([authz("require-jwt", "istio-system", {"selector": {"matchLabels": {"istio": "ingressgateway"}},
                                                     "rules": [{"from": [{"source": {"requestPrincipals": ["*"]}}]}]})])
    assert lab.http(gw, src=src, headers=host).status == 403
    assert lab.http(gw, src=src, headers=good).status == 200


def test_certificates_from_the_mesh_ca(lab):
    """istiod's CA: a workload certificate with the SPIFFE id as URI SAN, issued by the root whose PEM is in
    ConfigMap istio-ca-root-cert of every namespace; the XFCC Hash is the client certificate's SHA-256."""
    from kubelab.sim.mesh import certificate, mesh_ca
    from kubelab.net.mesh.ca import MeshCA

    curl = pod_of(lab, "bar", "curl")
    info = certificate(lab, curl)
    assert info.uris == ("spiffe://cluster.local/ns/bar/sa/curl",) and info.issuer == "O=cluster.local"
    assert not info.is_ca
    root_pem = lab.get("ConfigMap", "istio-ca-root-cert", "foo")["data"]["root-cert.pem"]
    assert root_pem == MeshCA.pem(mesh_ca(lab.cluster).root)
    assert "istio-ca-root-cert" not in [c["metadata"]["name"] for c in lab.list("ConfigMap", "kube-system")]
    r = lab.http(URL, src=curl)
    assert f"Hash={info.sha256};" in r.request.headers["X-Forwarded-Client-Cert"]


DEMO_JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6IkRIRmJwb0lVcXJZOHQyenBBMnFYZkNtcjVWTzVaRXI0UnpIVV8tZW52dlEiLCJ0eXAiOiJKV1Qi"
            "fQ.eyJleHAiOjQ2ODU5ODk3MDAsImZvbyI6ImJhciIsImlhdCI6MTUzMjM4OTcwMCwiaXNzIjoidGVzdGluZ0BzZWN1cmUuaXN0aW8uaW8"
            "iLCJzdWIiOiJ0ZXN0aW5nQHNlY3VyZS5pc3Rpby5pbyJ9.CfNnxWP2tcnR9q0vxyxweaF3ovQYHYZl82hAUsn21bwQd9zP7c-LS9qd_vpd"
            "LG4Tn1A15NxfCjp5f7QNBUo-KC9PJqYpgGbaXhaGx7bEdFWjcwv3nZzvc7M__ZpaCERdwU7igUmJqYGBYQ51vr2njU9ZimyKkfDe3axcyiB"
            "Zde7G6dabliUosJvvKOPcKIWPccCgefSj_GNfwIip3-SsFdlR7BtbVUcqR-yv-XOxJ3Uc1MI0tz3uMiiZcyPV7sNCU4KRnemRIMHVOfuvHs"
            "U60_GhGbiSFzgPTAa9WTltbnarTbxudb_YEOx12JiwYToeX0DCPb43W1tzIBxgm8NxUg")   # istio/istio samples demo.jwt
GROUPS_JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6IkRIRmJwb0lVcXJZOHQyenBBMnFYZkNtcjVWTzVaRXI0UnpIVV8tZW52dlEiLCJ0eXAiOiJKV1"
              "QifQ.eyJleHAiOjM1MzczOTExMDQsImdyb3VwcyI6WyJncm91cDEiLCJncm91cDIiXSwiaWF0IjoxNTM3MzkxMTA0LCJpc3MiOiJ0ZXN0a"
              "W5nQHNlY3VyZS5pc3Rpby5pbyIsInNjb3BlIjpbInNjb3BlMSIsInNjb3BlMiJdLCJzdWIiOiJ0ZXN0aW5nQHNlY3VyZS5pc3Rpby5pbyJ9"
              ".EdJnEZSH6X8hcyEii7c8H5lnhgjB5dwo07M5oheC8Xz8mOllyg--AHCFWHybM48reunF--oGaG6IXVngCEpVF0_P5DwsUoBgpPmK1JOaKN"
              "6_pe9sh0ZwTtdgK_RP01PuI7kUdbOTlkuUi2AO-qUyOm7Art2POzo36DLQlUXv8Ad7NBOqfQaKjE9ndaPWT7aexUsBHxmgiGbz1SyLH879"
              "f7uHYPbPKlpHU6P9S-DaKnGLaEchnoKnov7ajhrEhGXAQRukhDPKUHO9L30oPIr5IJllEQfHYtt6IZvlNUGeLUcif3wpry1R5tBXRicx2s"
              "XMQ7LyuDremDbcNy_iE76Upg")
JWKS_URI = "https://raw.githubusercontent.com/istio/istio/release-1.28/security/tools/jwt/samples/jwks.json"


def test_authorization_with_jwt_task(lab):
    """Istio's "Authorization with JWT" task on httpbin.foo: an invalid token is 401, no token passes until an
    ALLOW for the request principal exists, then only the demo token passes; a `when` on the groups claim admits
    the token whose groups include group1."""
    ra = {"apiVersion": "security.istio.io/v1", "kind": "RequestAuthentication",
          "metadata": {"name": "jwt-example", "namespace": "foo"},
          "spec": {"selector": {"matchLabels": {"app": "httpbin"}},
                   "jwtRules": [{"issuer": "testing@secure.istio.io", "jwksUri": JWKS_URI}]}}
    lab.apply([ra])
    src = pod_of(lab, "foo", "curl")
    assert lab.http(URL, src=src, headers={"Authorization": "Bearer invalidToken"}).status == 401
    assert lab.http(URL, src=src).status == 200
    lab.apply([authz("require-jwt", "foo", {"selector": {"matchLabels": {"app": "httpbin"}}, "action": "ALLOW",
                                            "rules": [{"from": [{"source": {"requestPrincipals": [
                                                "testing@secure.istio.io/testing@secure.istio.io"]}}]}]})])
    assert lab.http(URL, src=src, headers={"Authorization": f"Bearer {DEMO_JWT}"}).status == 200
    assert lab.http(URL, src=src).status == 403
    lab.apply([authz("require-jwt", "foo", {"selector": {"matchLabels": {"app": "httpbin"}}, "action": "ALLOW",
                                            "rules": [{"from": [{"source": {"requestPrincipals": [
                                                "testing@secure.istio.io/testing@secure.istio.io"]}}],
                                                "when": [{"key": "request.auth.claims[groups]",
                                                          "values": ["group1"]}]}]})])
    assert lab.http(URL, src=src, headers={"Authorization": f"Bearer {GROUPS_JWT}"}).status == 200
    assert lab.http(URL, src=src, headers={"Authorization": f"Bearer {DEMO_JWT}"}).status == 403


def test_unfetchable_jwks_rejects_every_token(lab):
    lab.apply([{"apiVersion": "security.istio.io/v1", "kind": "RequestAuthentication",
                "metadata": {"name": "jwt", "namespace": "foo"},
                "spec": {"jwtRules": [{"issuer": "testing@secure.istio.io", "jwksUri": "https://example.invalid/jwks"}]}}])
    r = lab.http(URL, src=pod_of(lab, "foo", "curl"), headers={"Authorization": f"Bearer {DEMO_JWT}"})
    assert r.status == 401


@pytest.mark.parametrize("port", [80, 8080])
def test_bookinfo_through_the_gateway_on_service_or_pod_port(port):
    """bookinfo-gateway.yaml has named port 80 (older samples) and 8080 (newer): both reach productpage."""
    lab = mesh_lab(namespaces={"default": INJECT, "legacy": {}}, apps=[("bookinfo", "default"), ("curl", "legacy")])
    lab.apply([{"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "bookinfo-gateway"},
                "spec": {"selector": {"istio": "ingressgateway"},
                         "servers": [{"port": {"number": port, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}},
               vs("bookinfo", "default", {"hosts": ["*"], "gateways": ["bookinfo-gateway"], "http": [
                   {"match": [{"uri": {"exact": "/productpage"}}, {"uri": {"prefix": "/api/v1/products"}}],
                    "route": [{"destination": {"host": "productpage", "port": {"number": 9080}}}]}]})])
    r = lab.http("http://istio-ingressgateway.istio-system/productpage", src=pod_of(lab, "legacy", "curl"))
    assert r.status == 200 and r.backend == "default/productpage:9080" and "Book Details" in r.text
    assert lab.http("http://istio-ingressgateway.istio-system/other", src=pod_of(lab, "legacy", "curl")).status == 404


def test_gateway_bound_virtual_service_does_not_touch_mesh_traffic(lab):
    """gateways: [httpbin-gateway] applies at the gateway only; adding "mesh" applies it to sidecars too."""
    objects = gateway_objects()
    objects[1]["spec"]["hosts"] = ["httpbin.example.com", "httpbin.foo.svc.cluster.local"]
    lab.apply(objects)
    src = pod_of(lab, "bar", "curl")
    assert lab.http("http://httpbin.foo:8000/ip", src=src).status == 200         # the VS routes /status and /headers only
    objects[1]["spec"]["gateways"] = ["httpbin-gateway", "mesh"]
    lab.apply(objects)
    assert lab.http("http://httpbin.foo:8000/ip", src=src).status == 404
    assert lab.http("http://httpbin.foo:8000/headers", src=src).status == 200
