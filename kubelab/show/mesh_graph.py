"""The service graph a mesh draws from its metrics (like Kiali's): workloads as nodes, who-calls-whom as edges
coloured by success rate, solid where every request was mutual TLS and dashed where some were plaintext.

    from kubelab.sim.mesh import golden_metrics
    from kubelab.show.mesh_graph import draw_service_graph
    draw_service_graph(golden_metrics(lab))
"""
from __future__ import annotations

from .colours import role_colours, role_handles
from .figures import FONT, GREEN, GREY, RED, new_figure

__all__ = ["service_graph", "draw_service_graph", "success_colour", "workload_role"]

AMBER = "#e8590c"


def success_colour(rate: float) -> str:
    """Kiali's thresholds: red below 95 % success, amber below 99.9 %, green above."""
    if rate < 0.95:
        return RED
    if rate < 0.999:
        return AMBER
    return GREEN


def service_graph(metrics):
    """A networkx DiGraph: one node per workload ("namespace/workload"), one edge per caller -> callee with
    requests, success and mtls attributes."""
    import networkx as nx

    graph = nx.DiGraph()
    for edge in metrics.edges():
        for node in (edge["source"], edge["destination"]):
            graph.add_node(node, outside=node.startswith("unknown/"))
        graph.add_edge(edge["source"], edge["destination"], requests=edge["requests"], success=edge["success"],
                       mtls=edge["mtls"])
    return graph


# a destination the proxies could not name ("unknown/unknown": no workload answered) is no pod at all
UNKNOWN = ("white", GREY, "unknown: no workload answered")


def workload_role(graph, node: str) -> str | None:
    """The course's pod role of a workload (kubelab.show.colours), read from the traffic: a workload that
    answered calls is a server (it listens on a port it declares); one that only calls is a client; an
    unknown destination has none."""
    if graph.nodes[node]["outside"]:
        return None
    return "server" if graph.in_degree(node) else "client"


def _node_colours(role: str | None) -> tuple[str, str]:
    return role_colours(role) if role else UNKNOWN[:2]


def _layers(graph) -> dict:
    """Callers left of callees: a node's column is the longest chain of callers in front of it."""
    import networkx as nx

    depth = {}
    order = list(nx.topological_sort(graph)) if nx.is_directed_acyclic_graph(graph) else sorted(graph.nodes)
    for node in order:
        preds = [depth.get(p, 0) for p in graph.predecessors(node) if p in depth]
        depth[node] = max(preds) + 1 if preds else 0
    columns: dict = {}
    for node in sorted(depth):
        columns.setdefault(depth[node], []).append(node)
    pos = {}
    for col, nodes in columns.items():
        for row, node in enumerate(nodes):
            pos[node] = (col * 3.0, -row * 1.4 + (len(nodes) - 1) * 0.7)
    return pos


def draw_service_graph(metrics, title: str = "Service graph"):
    """The graph as a figure: edge colour = success rate, solid = all mTLS, dashed = some plaintext; each edge
    labelled with its request count and success rate."""
    import networkx as nx

    graph = service_graph(metrics)
    pos = _layers(graph)
    cols = max((x for x, _ in pos.values()), default=0) / 3.0 + 1
    rows = max((len([n for n in pos if pos[n][0] == x]) for x in {p[0] for p in pos.values()}), default=1)
    fig = new_figure(max(6.0, 3.2 * cols), max(3.0, 1.3 * rows + 1.2))
    ax = fig.add_subplot(111)
    ax.set_axis_off()
    ax.set_title(title, fontsize=FONT["title"])
    if not graph.nodes:
        ax.text(0.5, 0.5, "no requests recorded", ha="center", va="center", fontsize=FONT["text"])
        return fig
    for style, want in (("solid", True), ("dashed", False)):
        edges = [(u, v) for u, v, d in graph.edges(data=True) if d["mtls"] is want]
        if edges:
            nx.draw_networkx_edges(graph, pos, edgelist=edges, ax=ax, style=style, width=2.2, arrowsize=16,
                                   edge_color=[success_colour(graph.edges[e]["success"]) for e in edges],
                                   node_size=3400, connectionstyle="arc3,rad=0.06")
    roles = {n: workload_role(graph, n) for n in graph.nodes}
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=3400, node_shape="s",
                           node_color=[_node_colours(roles[n])[0] for n in graph.nodes],
                           edgecolors=[_node_colours(roles[n])[1] for n in graph.nodes])
    nx.draw_networkx_labels(graph, pos, ax=ax, labels={n: n.replace("/", "/\n") for n in graph.nodes},
                            font_size=FONT["small"])
    nx.draw_networkx_edge_labels(graph, pos, ax=ax, font_size=FONT["small"], edge_labels={
        (u, v): f"{d['requests']} req, {100 * d['success']:.0f}%{' mTLS' if d['mtls'] else ''}"
        for u, v, d in graph.edges(data=True)})
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    ax.set_xlim(min(xs) - 1.5, max(xs) + 1.5)
    ax.set_ylim(min(ys) - 1.0, max(ys) + 1.0)
    _legend(ax, set(roles.values()))
    fig.tight_layout()
    return fig


def _legend(ax, roles: set) -> None:
    """What the boxes' colours (the course's pod roles) and the arrows' colour and dash mean."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = role_handles(roles - {None})
    if None in roles:
        handles.append(Patch(facecolor=UNKNOWN[0], edgecolor=UNKNOWN[1], label=UNKNOWN[2]))
    handles += [
        Line2D([], [], color=GREEN, lw=2.2, label="success ≥ 99.9 %"),
        Line2D([], [], color=AMBER, lw=2.2, label="success 95–99.9 %"),
        Line2D([], [], color=RED, lw=2.2, label="success < 95 %"),
        Line2D([], [], color="#495057", lw=1.6, ls="--", label="some requests plaintext (solid: all mTLS)")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(4, len(handles)),
              fontsize=FONT["small"], frameon=False)
