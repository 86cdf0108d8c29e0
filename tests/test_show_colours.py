"""One colour rule for pods in every figure of the course: a pod's colour says its role (client, server, proxy,
system, outside), whichever figure draws it, and each figure's legend says so."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

import kubelab  # noqa: E402
from kubelab.course.examples import echo_app  # noqa: E402
from kubelab.net.mesh.samples import sample_manifests  # noqa: E402
from kubelab.show import viz  # noqa: E402
from kubelab.show.colours import LINE_COLOURS, ROLES, pod_role  # noqa: E402
from kubelab.show.http import draw_request_path, plot_split  # noqa: E402
from kubelab.show.mesh_graph import draw_service_graph, service_graph  # noqa: E402

CLIENT = """
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {containers: [{name: c, image: busybox}]}
"""

INGRESS = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
"""


def _pod(lab, namespace, selector=None):
    pods = lab.list("Pod", namespace, selector=selector)
    return f"{namespace}/{pods[0]['metadata']['name']}"


@pytest.fixture(scope="module")
def shop():
    """A client pod, a web Deployment behind a Service and an Ingress, ingress-nginx, CoreDNS."""
    lab = kubelab.connect(seed=0, ingress_controller="ingress-nginx")
    lab.apply([CLIENT, *echo_app("web"), INGRESS])
    return lab


def _patch_colours(fig, prefix: str) -> dict:
    """gid -> (fill, edge) of every patch whose gid starts with `prefix`."""
    return {p.get_gid(): (to_hex(p.get_facecolor()), to_hex(p.get_edgecolor()))
            for ax in fig.axes for p in ax.patches if (p.get_gid() or "").startswith(prefix)}


def _legend_texts(fig) -> set:
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
    return {t.get_text() for legend in legends for t in legend.get_texts()}


def _role(name):
    return (ROLES[name].fill, ROLES[name].edge)


def test_roles_come_from_the_pod_objects(shop):
    """Is a pod with no port a client, one with a containerPort a server, ingress-nginx's controller a proxy,
    CoreDNS a system pod, and does an injected sidecar's port not make a client a server?"""
    by_key = {f"{p['metadata']['namespace']}/{p['metadata']['name']}": p for p in shop.list("Pod")}
    assert pod_role(by_key["default/client"]) == "client"
    assert pod_role(by_key[_pod(shop, "default", "app=web")]) == "server"
    assert pod_role(by_key[_pod(shop, "ingress-nginx")]) == "proxy"
    assert pod_role(by_key[_pod(shop, "kube-system", "k8s-app=kube-dns")]) == "system"
    linkerd_client = {"metadata": {"name": "c", "namespace": "default"},
                      "spec": {"containers": [{"name": "linkerd-proxy", "ports": [{"containerPort": 4143}]},
                                              {"name": "app", "image": "curl"}]}}
    assert pod_role(linkerd_client) == "client"


def _load_balancer_ip(lab):
    svc = lab.get("Service", "ingress-nginx-controller", "ingress-nginx")
    return svc["status"]["loadBalancer"]["ingress"][0]["ip"]


def test_the_same_pod_has_the_same_colour_in_every_figure(shop):
    """Do the cluster picture, a trace over it and a request's path give the client, the web pod that answered
    and the ingress controller the same (fill, edge), that of their role?"""
    client, proxy = "default/client", _pod(shop, "ingress-nginx")
    dns = _pod(shop, "kube-system", "k8s-app=kube-dns")
    via_ingress = shop.http("http://shop.example.com/", resolve={"shop.example.com": _load_balancer_ip(shop)})
    inside = shop.http("http://web/", src=client)
    web, web_too = via_ingress.pod, inside.pod
    cluster = _patch_colours(viz.draw_cluster(shop, show_system=True), "pod:")
    trace = _patch_colours(viz.draw_trace(shop, shop.trace(client, web_too, 8080)), "pod:")
    path = _patch_colours(draw_request_path(via_ingress), "station:")
    inside_path = _patch_colours(draw_request_path(inside), "station:")
    expected = {client: _role("client"), web: _role("server"), web_too: _role("server"), proxy: _role("proxy"),
                dns: _role("system")}
    for key, colours in expected.items():
        assert cluster[f"pod:{key}"] == colours, key
    for key in (client, web_too):
        assert trace[f"pod:{key}"] == expected[key], key
    assert path[f"station:pod:pod {web}"] == expected[web]
    assert path[f"station:proxy:pod {proxy}"] == expected[proxy]
    assert inside_path[f"station:client:pod {client}"] == expected[client]
    assert inside_path[f"station:pod:pod {web_too}"] == expected[web_too]
    # a client outside the cluster: the outside colour in the request's path and in a trace from outside
    outside_path = [v for k, v in path.items() if k.startswith("station:client:")]
    outside_trace = _patch_colours(viz.draw_trace(shop, shop.trace(None, _load_balancer_ip(shop), 80)), "outside:")
    assert outside_path == [_role("outside")] and set(outside_trace.values()) == {_role("outside")}


def test_the_mesh_graph_colours_workloads_by_the_same_rule():
    """In the mesh's service graph, is curl (no port) the client colour and every Bookinfo service (which
    declare ports) the server colour, as in the cluster picture of the same lab?"""
    lab = kubelab.connect("simulated", mesh="istio", seed=0)
    lab.apply({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "default", "labels": {"istio-injection": "enabled"}}})
    lab.apply(sample_manifests("curl") + sample_manifests("bookinfo"))
    curl = _pod(lab, "default", "app=curl")
    for _ in range(3):
        lab.http("http://productpage:9080/productpage", src=curl)
    fig = draw_service_graph(lab.golden_metrics())
    nodes = next(c for c in fig.axes[0].collections if len(c.get_offsets()) == len(c.get_facecolors()) > 1)
    graph_nodes = list(service_graph(lab.golden_metrics()).nodes)      # the order the nodes are drawn in
    colours = dict(zip(graph_nodes, zip(map(to_hex, nodes.get_facecolors()), map(to_hex, nodes.get_edgecolors()))))
    picture = _patch_colours(viz.draw_cluster(lab, namespaces=["default"]), "pod:")
    assert colours["default/curl"] == picture[f"pod:{curl}"] == _role("client")
    productpage = _pod(lab, "default", "app=productpage")
    assert colours["default/productpage-v1"] == picture[f"pod:{productpage}"] == _role("server")


def test_every_figure_has_a_legend_naming_the_roles_it_shows(shop):
    """Does each figure's legend name exactly the roles it colours (and no group names that change meaning)?"""
    cluster = _legend_texts(viz.draw_cluster(shop, show_system=True))
    assert {ROLES[r].legend for r in ("client", "server", "proxy", "system")} <= cluster
    assert ROLES["outside"].legend not in cluster and not any(t.startswith("app=") for t in cluster)
    client = "default/client"
    path = _legend_texts(draw_request_path(shop.http("http://web/", src=client)))
    assert path == {ROLES["client"].legend, ROLES["server"].legend}


def test_services_and_series_never_wear_a_role_colour(shop):
    """Are Service outlines and bars per Service drawn from LINE_COLOURS, none of which is a role's colour?"""
    role_colours = {c for r in ROLES.values() for c in (r.fill, r.edge)}
    assert not role_colours & set(LINE_COLOURS)
    services = _patch_colours(viz.draw_cluster(shop, show_system=True), "svc:")
    assert services and {edge for _, edge in services.values()} <= set(LINE_COLOURS) | {"#343a40"}
    bars = plot_split({"default/a:80": 3, "default/b:80": 1}).axes[0].patches
    assert len(bars) == 2 and {to_hex(p.get_facecolor()[:3]) for p in bars} <= set(LINE_COLOURS)
