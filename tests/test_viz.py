"""Do the pictures show the cluster that is there, the path a packet takes, and the same bytes every run?"""
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import kubelab  # noqa: E402
from kubelab import viz  # noqa: E402

SCENARIO = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginxinc/nginx-unprivileged, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: api, ports: [{containerPort: 9000}]}]
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  type: NodePort
  selector: {app: api}
  ports: [{port: 80, targetPort: 9000, nodePort: 30080}]
---
apiVersion: v1
kind: Namespace
metadata: {name: data}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: data}
spec:
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres, ports: [{containerPort: 5432}]}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec:
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec:
  containers: [{name: c, image: busybox}]
"""

DENY_DB = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-deny, namespace: data}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
"""


def make_lab(**options):
    lab = kubelab.connect(**options)
    lab.apply(SCENARIO)
    return lab


@pytest.fixture
def lab():
    return make_lab()


def gids(fig, prefix):
    """gids of every artist (patches and texts) in the figure's first axes that start with prefix."""
    ax = fig.axes[0]
    found = [a.get_gid() for a in list(ax.patches) + list(ax.texts)]
    return sorted(g for g in found if g and g.startswith(prefix))


def texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def user_pods(lab):
    return [p for p in lab.list("Pod") if p["metadata"]["namespace"] != "kube-system"]


# ---------------------------------------------------------------- draw_cluster
def test_cluster_has_one_box_per_node_and_one_label_per_pod(lab):
    """Does the cluster picture draw every node once and label every learner pod, hiding kube-system?"""
    fig = viz.draw_cluster(lab)
    assert gids(fig, "node:") == ["node:node-1", "node:node-2", "node:node-3"]
    pods = user_pods(lab)
    assert len(pods) == 10
    assert gids(fig, "label:pod:") == sorted(f"label:pod:{p['metadata']['namespace']}/{p['metadata']['name']}"
                                             for p in pods)
    assert not any("coredns" in t for t in texts(fig))


def test_nodes_show_name_internal_ip_and_pod_cidr(lab):
    """Does each node box carry its name, InternalIP and podCIDR?"""
    shown = texts(viz.draw_cluster(lab))
    for node in lab.list("Node"):
        ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        assert node["metadata"]["name"] in shown
        assert f"InternalIP {ip}" in shown
        assert f"podCIDR {node['spec']['podCIDR']}" in shown


def test_pods_show_their_ip(lab):
    """Is every pod's IP written under its name?"""
    shown = "\n".join(texts(viz.draw_cluster(lab)))
    for pod in user_pods(lab):
        assert pod["status"]["podIP"] in shown


def test_show_system_adds_coredns_and_the_kubernetes_service(lab):
    """With show_system=True, do the CoreDNS pods and the kube-dns / kubernetes Services appear?"""
    fig = viz.draw_cluster(lab, show_system=True)
    assert len(gids(fig, "label:pod:kube-system/coredns")) == 2
    assert "svc:kube-system/kube-dns" in gids(fig, "svc:")
    assert "svc:default/kubernetes" in gids(fig, "svc:")


def test_namespaces_limit_what_is_drawn(lab):
    """Does namespaces=["data"] draw only the data namespace's pods and Services (but every node)?"""
    fig = viz.draw_cluster(lab, namespaces=["data"])
    assert len(gids(fig, "node:")) == 3
    assert all(g.startswith("label:pod:data/") for g in gids(fig, "label:pod:"))
    assert gids(fig, "svc:") == ["svc:data/db"]


def test_one_arrow_per_service_endpoint(lab):
    """Does every Service get a box and one arrow per endpoint its EndpointSlices list?"""
    fig = viz.draw_cluster(lab)
    assert gids(fig, "svc:") == ["svc:data/db", "svc:default/api", "svc:default/web"]
    arrows = gids(fig, "endpoint:")
    assert len(arrows) == 4 + 3 + 2
    assert sum(a.startswith("endpoint:default/web->") for a in arrows) == 4


def test_not_ready_endpoint_arrow_is_dotted():
    """Is the arrow to a not-ready endpoint drawn dotted, unlike ready ones?"""
    lab = kubelab.connect()
    lab.apply("""
apiVersion: v1
kind: Pod
metadata: {name: slow, labels: {app: slow}}
spec:
  nodeName: node-1
  containers: [{name: c, image: x, ports: [{containerPort: 80}]}]
status:
  podIP: 10.244.0.50
  phase: Running
  conditions: [{type: Ready, status: "False"}]
---
apiVersion: v1
kind: Service
metadata: {name: slow}
spec:
  selector: {app: slow}
  ports: [{port: 80}]
""")
    arrows = [p for p in viz.draw_cluster(lab).axes[0].patches if (p.get_gid() or "").startswith("endpoint:")]
    assert len(arrows) == 1
    assert arrows[0].get_linestyle() == ":"


@pytest.mark.parametrize("cni, mode, words", [
    ("calico", "bgp", ["BGP routes, no encapsulation", "MTU 1500"]),
    ("flannel", "vxlan", ["VXLAN VNI 1 UDP 8472", "MTU 1450"]),
    ("calico", "ipip", ["IP-in-IP", "tunl0", "MTU 1480"]),
])
def test_underlay_is_labelled_with_the_cni_mode(cni, mode, words):
    """Does the line between the nodes say how the CNI carries pod traffic (encapsulation, port, MTU)?"""
    lab = make_lab(cni=cni, calico_mode=mode)
    label = next(t.get_text() for t in viz.draw_cluster(lab).axes[0].texts if t.get_gid() == "label:underlay")
    for word in words:
        assert word in label


def test_flannel_draws_bridge_and_tunnel_calico_bgp_draws_routes_only():
    """Does flannel show cni0 and flannel.1 in every node, and Calico BGP a routing table and no tunnel?"""
    flannel = texts(viz.draw_cluster(make_lab(cni="flannel")))
    assert flannel.count("cni0 bridge") == 3
    assert flannel.count("flannel.1 (VXLAN)") == 3
    fig = viz.draw_cluster(make_lab(cni="calico"))
    assert sum("routing table" in t for t in texts(fig)) == 3
    assert gids(fig, "dev:node-1:tunnel") == []


def test_cluster_graph_vertices_and_edges(lab):
    """Does cluster_graph give networkx vertices for nodes, pods, veths, devices and Services, with edges?"""
    g = viz.cluster_graph(lab)
    kinds = {}
    for _, d in g.nodes(data=True):
        kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
    assert kinds["node"] == 3 and kinds["pod"] == 10 and kinds["veth"] == 10 and kinds["service"] == 3
    assert kinds["device"] == 3 * 3          # kube-proxy, routing table, eth0 per node (no tunnel with BGP)
    assert sum(1 for *_, e in g.edges(data=True) if e["kind"] == "endpoint") == 9


def test_no_two_labels_overlap(lab):
    """In a 3-node cluster with 12 pods (system pods shown), does every text stay clear of every other?"""
    fig = viz.draw_cluster(lab, show_system=True)
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in fig.axes[0].texts if t.get_text()]
    pods = [t for t, _ in boxes if re.match(r"(default|kube-system|data)/(web|api|db|coredns|client)\b", t)]
    assert len(pods) == 12                                # named ns/name: several namespaces show
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1:]:
            assert not box_a.overlaps(box_b), (a, b)


def test_labels_stay_inside_their_boxes(lab):
    """Does each pod's and Service's text fit inside its box?"""
    fig = viz.draw_cluster(lab, show_system=True)
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    patches = {p.get_gid(): p.get_window_extent(renderer) for p in ax.patches if p.get_gid()}
    for t in ax.texts:
        gid = t.get_gid() or ""
        if gid.startswith(("label:pod:", "label:svc:")):
            box, text = patches[gid[6:]], t.get_window_extent(renderer)
            assert box.x0 <= text.x0 and text.x1 <= box.x1, gid


def test_empty_cluster_says_so():
    """With no nodes, does the picture say what to do instead of failing?"""
    fig = viz.draw_cluster(kubelab.connect(nodes=0))
    assert any("no nodes" in t for t in texts(fig))


# ---------------------------------------------------------------- draw_trace
def test_trace_draws_numbered_arrows_for_each_move(lab):
    """Does a ClusterIP trace draw one numbered arrow per hop that moves the packet, and note the DNAT?"""
    trace = lab.trace("default/client", "web", 80)
    fig = viz.draw_trace(lab, trace)
    anchors = viz._trace_anchors(viz.cluster_graph(lab), trace)
    moves = [i + 1 for i in range(1, len(anchors)) if anchors[i] != anchors[i - 1]]
    assert gids(fig, "trace:") == sorted(f"trace:{i}" for i in moves)
    assert set(gids(fig, "step:")) == {"step:1"} | {f"step:{i}" for i in moves}
    notes = [t.get_text() for t in fig.axes[0].texts if (t.get_gid() or "").startswith("note:")]
    assert len(notes) == 1 and "DNAT" in notes[0] and trace.verdict.endpoint in notes[0]
    assert any(g.startswith("nat-tag:") for g in gids(fig, "nat-tag:"))


def test_trace_title_is_the_verdict_and_reason(lab):
    """Is the title the verdict line plus its reason, green when allowed?"""
    trace = lab.trace("default/client", "web", 80)
    title = viz.draw_trace(lab, trace).axes[0].title
    assert title.get_text().startswith("ALLOWED default/client → web:80/TCP")
    assert trace.verdict.reason.split()[0] in title.get_text()
    assert title.get_color() == viz.GREEN
    assert gids(viz.draw_trace(lab, trace), "failure") == []


def test_nodeport_from_outside_shows_client_snat_and_tunnel():
    """From outside to a NodePort on flannel: is the client drawn, and are DNAT, SNAT and VXLAN noted?"""
    lab = make_lab(cni="flannel")
    trace = lab.trace(None, "192.168.0.11", 30080)
    fig = viz.draw_trace(lab, trace)
    assert "outside:src" in gids(fig, "outside:")
    assert "client 203.0.113.10" in texts(fig)
    notes = " ".join(t.get_text() for t in fig.axes[0].texts if (t.get_gid() or "").startswith("note:"))
    assert "DNAT" in notes and "SNAT" in notes and "VXLAN VNI 1, UDP 8472" in notes


def test_policy_denied_trace_marks_the_last_hop_red(lab):
    """When a NetworkPolicy blocks the packet, is the last arrow red, the pod marked, and the reason the title?"""
    lab.apply(DENY_DB)
    trace = lab.trace("default/client", "db.data", 5432)
    assert not trace.verdict.allowed
    fig = viz.draw_trace(lab, trace)
    ax = fig.axes[0]
    arrows = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("trace:")}
    last = max(arrows, key=lambda g: int(g.split(":")[1]))
    assert matplotlib.colors.to_hex(arrows[last].get_edgecolor()) == viz.RED
    assert "failure-mark" in gids(fig, "failure")
    assert ax.title.get_color() == viz.RED and "db-deny" in ax.title.get_text()


def test_blocked_before_any_hop_points_at_the_service(lab):
    """A port the Service does not offer gives no hops: is a dashed red arrow drawn to the Service and marked?"""
    trace = lab.trace("default/client", "web", 81)
    assert trace.hops == ()
    fig = viz.draw_trace(lab, trace)
    assert gids(fig, "trace:") == ["trace:blocked"]
    assert "failure-mark" in gids(fig, "failure")
    assert "has no port 81/TCP" in fig.axes[0].title.get_text()


def test_trace_to_a_system_pod_draws_it(lab):
    """Is a kube-system pod on the path drawn even though system pods are hidden by default?"""
    trace = lab.trace("default/client", "kube-dns.kube-system", 53, "UDP")
    endpoint_pod = next(h.where[4:] for h in reversed(trace.hops) if h.where.startswith("pod "))
    assert f"label:pod:{endpoint_pod}" in gids(viz.draw_trace(lab, trace), "label:pod:")


def test_step_badges_do_not_overlap(lab):
    """Are the numbered badges of a long trace placed apart from each other?"""
    trace = make_lab(cni="flannel").trace(None, "192.168.0.11", 30080)
    fig = viz.draw_trace(make_lab(cni="flannel"), trace)
    renderer = fig.canvas.get_renderer()
    badges = [t.get_window_extent(renderer) for t in fig.axes[0].texts if (t.get_gid() or "").startswith("step:")]
    assert len(badges) >= 8
    for i, a in enumerate(badges):
        for b in badges[i + 1:]:
            assert not a.overlaps(b)


# ---------------------------------------------------------------- determinism and display
def test_same_lab_gives_byte_identical_pngs(tmp_path):
    """Do two fresh labs built the same way give byte-identical PNGs for the cluster and a trace?"""
    outputs = []
    for run in range(2):
        lab = make_lab()
        cluster = viz.save_png(viz.draw_cluster(lab), tmp_path / f"cluster-{run}.png")
        trace = viz.save_png(viz.draw_trace(lab, lab.trace("default/client", "web", 80)), tmp_path / f"trace-{run}.png")
        outputs.append((open(cluster, "rb").read(), open(trace, "rb").read()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0].startswith(b"\x89PNG")


def test_figures_display_once_without_pyplot(lab):
    """Does a figure render itself as PNG for the notebook while leaving pyplot's figure list empty?"""
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = viz.draw_cluster(lab)
    assert fig._repr_png_().startswith(b"\x89PNG")
    assert plt.get_fignums() == before


def test_draws_into_a_given_axes(lab):
    """Can a notebook pass its own Axes and get that figure back?"""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 8))
    ax = fig.add_subplot(1, 1, 1)
    assert viz.draw_cluster(lab, ax=ax) is fig
    assert len(gids(fig, "node:")) == 3


def test_importing_viz_does_not_load_matplotlib():
    """Does `import kubelab.show.viz` stay light until a figure is drawn?"""
    code = "import sys, kubelab.show.viz; print(any(m in sys.modules for m in ('matplotlib', 'networkx')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


# ---------------------------------------------------------------- charts
def test_distribution_has_a_bar_per_endpoint_and_the_even_share_line():
    """Does plot_distribution draw one bar per endpoint, label counts, and a dashed line at total/n?"""
    counts = {"10.244.1.3:8080": 322, "10.244.0.3:8080": 341, "10.244.2.3:8080": 337}
    fig = viz.plot_distribution(counts, title="iptables mode")
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    assert [round(p.get_height()) for p in ax.patches] == [341, 322, 337]      # sorted by endpoint
    ideal = next(line for line in ax.lines if line.get_gid() == "ideal")
    assert ideal.get_ydata()[0] == pytest.approx(1000 / 3)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0] == "10.244.0.3:8080\n341 (34%)"
    assert ax.get_title() == "iptables mode (1000 total)"


def test_series_draws_one_line_per_key_with_log_axes():
    """Does plot_series draw each series (sorted by name) on the requested log axes with a legend?"""
    x = [10, 100, 1000]
    fig = viz.plot_series(x, {"Endpoints": [1, 100, 10000], "EndpointSlices": [1, 10, 100]},
                          "endpoints", "bytes", "watch cost", logx=True, logy=True)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["EndpointSlices", "Endpoints"]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_legend() is not None and ax.get_title() == "watch cost"


def test_long_service_lines_stay_inside_their_box():
    """A LoadBalancer with two node ports (an Ingress controller's Service) gets one port per line, and a
    long namespace/name is shortened, so no text runs out of the Service box; short lines are unchanged."""
    from kubelab.show.cluster import _SVC_CHARS, _service_lines, _service_title

    svc = {"spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1",
                    "ports": [{"port": 80, "nodePort": 31450, "targetPort": "http"},
                              {"port": 443, "nodePort": 31085, "targetPort": "https"}]},
           "status": {"loadBalancer": {"ingress": [{"ip": "172.18.255.200"}]}}}
    lines = _service_lines(svc)
    assert lines[1:3] == ["LoadBalancer 80:31450→http/TCP", "443:31085→https/TCP"]
    assert all(len(line) <= _SVC_CHARS for line in lines)
    assert _service_lines({"spec": {"clusterIP": "10.0.0.2", "ports": [{"port": 80, "targetPort": 8080}]}}) == \
        ["ClusterIP 10.0.0.2", "80→8080/TCP"]
    assert _service_title("default/web") == "svc default/web"
    assert len(_service_title("ingress-nginx/ingress-nginx-controller")) <= 28


def test_trace_limited_to_namespaces_draws_their_pods_and_what_the_trace_touches(lab):
    """With namespaces=[...], are other namespaces' pods left out, while the trace's own ends are drawn?"""
    trace = lab.trace("default/client", "db.data", 5432)
    everything = viz.draw_trace(lab, trace)
    limited = viz.draw_trace(lab, trace, namespaces=["nowhere"])
    drawn = lambda fig: {g for g in gids(fig, "pod:")}
    assert drawn(limited) < drawn(everything)
    landed = {g for g in drawn(limited) if g.startswith("pod:data/")}
    assert "pod:default/client" in drawn(limited) and len(landed) == 1   # the client and the pod it reached
    assert limited.get_size_inches()[0] * limited.get_size_inches()[1] < \
        everything.get_size_inches()[0] * everything.get_size_inches()[1]
