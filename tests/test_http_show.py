"""Pictures and the route table of L7 requests (kubelab.show.http, kubelab.show.http_widgets)."""
from __future__ import annotations

import pytest

import kubelab
from kubelab.show.http import describe_status, draw_request_path, plot_split, request_stations
from kubelab.show.http_widgets import explain_url, route_playground

ECHO = "registry.k8s.io/gateway-api/echo-basic:v20240412-v1.0.0"


def _backend(name):
    return [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
             "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 3000}]}},
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"{name}-0", "labels": {"app": name}},
             "spec": {"containers": [{"name": "echo", "image": ECHO, "ports": [{"containerPort": 3000}]}]}}]


SHOP = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "shop"},
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "shop.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
            {"path": "/cart", "pathType": "Prefix", "backend": {"service": {"name": "cart", "port": {"name": "http"}}}},
            {"path": "/cart", "pathType": "Exact", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
        ]}}]}}


@pytest.fixture(scope="module")
def shop():
    lab = kubelab.connect("simulated", ingress_controller="ingress-nginx", seed=0)
    lab.apply(_backend("web") + _backend("cart") + [SHOP])
    address = lab.get("Service", "ingress-nginx-controller", "ingress-nginx")["status"]["loadBalancer"]["ingress"][0]["ip"]
    return lab, address


def test_the_stations_follow_the_hops(shop):
    """Does a request through ingress-nginx read as client, its LoadBalancer Service, the controller pod, the
    backend Service (endpoints picked by nginx) and the pod that answered?"""
    lab, address = shop
    r = lab.http("http://shop.example.com/cart/items", resolve={"shop.example.com": address})
    stations = request_stations(r)
    assert [s.kind for s in stations] == ["client", "service", "proxy", "service", "pod"]
    assert stations[1].title == "Service ingress-nginx/ingress-nginx-controller"
    assert stations[2].title.startswith("pod ingress-nginx/") and "route -> default/cart:http" in stations[2].lines
    assert stations[3].title == "Service default/cart:http" and stations[4].title == f"pod {r.pod}"


def test_a_404_ends_at_the_proxy(shop):
    """Does a host no rule covers end at the controller with its own 404, drawn in red?"""
    lab, address = shop
    r = lab.http("http://other.example.com/", resolve={"other.example.com": address})
    assert [s.kind for s in request_stations(r)] == ["client", "service", "proxy", "answer"]
    fig = draw_request_path(r)
    arrows = [p for p in fig.axes[0].patches if p.get_gid() == "arrow"]
    assert len(arrows) == 3 and all(a.get_edgecolor()[0] > 0.7 for a in arrows)


def test_the_split_chart_marks_the_expected_share():
    """Does plot_split draw one bar per backend and a dashed mark at total x weight for each?"""
    fig = plot_split({"a": 90, "b": 10}, weights={"a": 9, "b": 1})
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == [90, 10] and [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    marks = {c.get_gid(): c.get_segments()[0][0][1] for c in ax.collections}
    assert marks == {"expected:a": 90.0, "expected:b": 10.0}


@pytest.mark.parametrize("path, winner", [("/cart", "rules[0].paths[2]"), ("/cart/", "rules[0].paths[1]"),
                                          ("/cartography", "rules[0].paths[0]")])
def test_the_route_table_marks_the_winner(shop, path, winner):
    """Does the table mark the rule the controller chose: Exact beats Prefix at equal length, /cartography is
    not under the /cart prefix?"""
    lab, address = shop
    explained = explain_url(lab, f"http://shop.example.com{path}", address=address)
    assert [r.where.split(" ")[1] for r in explained.rows if r.wins] == [winner]
    assert explained.status == 200 and "<= wins" in str(explained)


def test_the_route_table_for_an_unknown_host(shop):
    """For a host no rule names, does no row match and the 404 line say why?"""
    lab, address = shop
    explained = explain_url(lab, "http://www.example.com/cart", address=address)
    assert not any(r.host_ok or r.wins for r in explained.rows)
    assert explained.status == 404 and "no rule matches host www.example.com" in explained.route


def test_the_playground_answers_a_typed_url(shop):
    """Typing a URL into the playground shows the table for it."""
    lab, address = shop
    box = route_playground(lab, "http://shop.example.com/", address=address)
    text, out = box.children[0].children[0], box.children[1]
    text.value = "http://shop.example.com/cart/x"
    assert "background:#d3f0da" in out.value and "/cart/x" in out.value


def test_the_split_chart_keeps_the_weights_order():
    """Backends appear in the order the weights list them (the route's order), not alphabetically."""
    fig = plot_split({"web:80": 450, "web-v2:80": 50}, weights={"web:80": 90, "web-v2:80": 10})
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["web:80", "web-v2:80"]


ROUTE = {"kind": "HTTPRoute", "metadata": {"name": "pay", "namespace": "default"},
         "status": {"parents": [{"parentRef": {"name": "shop-gateway", "sectionName": "http"},
                                 "controllerName": "example.com/gateway",
                                 "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted",
                                                 "message": "Route is accepted",
                                                 "lastTransitionTime": "2026-01-01T00:00:48Z"},
                                                {"type": "ResolvedRefs", "status": "False",
                                                 "reason": "RefNotPermitted", "message": "not permitted"}]}]}}


def test_route_status_reads_like_kubectl_describe_without_timestamps():
    """Does a route's status list each parent and its conditions (type, status, reason, message), and no time?"""
    text = describe_status(ROUTE)
    lines = text.splitlines()
    assert lines[0] == "HTTPRoute default/pay"
    assert lines[1] == "  parent Gateway shop-gateway section http (example.com/gateway)"
    assert lines[3].split() == ["ResolvedRefs", "False", "RefNotPermitted", "not", "permitted"]
    assert "2026" not in text


def test_gateway_status_lists_addresses_and_listeners():
    gateway = {"kind": "Gateway", "metadata": {"name": "gw", "namespace": "default"},
               "status": {"addresses": [{"type": "IPAddress", "value": "192.0.2.1"}],
                          "conditions": [{"type": "Programmed", "status": "True", "reason": "Programmed"}],
                          "listeners": [{"name": "http", "attachedRoutes": 2,
                                         "supportedKinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
                                         "conditions": []}]}}
    assert describe_status(gateway).splitlines()[1:4] == [
        "  addresses: 192.0.2.1", "  Programmed    True     Programmed                  ",
        "  listener http: attachedRoutes 2, supportedKinds HTTPRoute"]


def test_an_object_without_status_says_so():
    assert describe_status({"kind": "HTTPRoute", "metadata": {"name": "r", "namespace": "d"}}).splitlines()[1] == \
        "  no status yet: no controller has written one"
