"""Pictures of the cluster: nodes, pods, the CNI's wiring, Services, and a packet's path over them.

    from kubelab import viz
    viz.draw_cluster(lab)                     # nodes, pods, bridge/routes, tunnel, Services
    viz.draw_trace(lab, lab.trace("default/client", "web", 80))
    viz.plot_distribution({"10.244.0.3:8080": 34, ...})

One name for the lessons: the drawing lives in cluster.py, trace.py, series.py and matrix.py beside this.
"""
from __future__ import annotations

from .cluster import cluster_graph, draw_cluster, underlay_label
from .figures import GREEN, RED, figure_png, new_figure, save_png
from .matrix import draw_reachability
from .series import plot_distribution, plot_series
from .trace import _trace_anchors, draw_trace

__all__ = ["cluster_graph", "draw_cluster", "draw_trace", "plot_distribution", "plot_series", "save_png",
           "figure_png", "underlay_label", "new_figure", "draw_reachability", "GREEN", "RED"]
