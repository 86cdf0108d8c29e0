"""Playgrounds for JupyterLab (ipywidgets 8): change a control, see the cluster answer.

    from kubelab import widgets
    widgets.trace_playground(lab)                       # pick source, destination, port, protocol
    widgets.scale_playground(lab, "web", "web")         # slide replicas, watch the EndpointSlices
    widgets.yaml_playground(lab, manifest_text)         # edit YAML, Apply, see what happened

Each function returns its top-level widget. Pictures are PNG bytes in an `Image` widget and text
is an `HTML` widget, so every update is plain widget state: no pyplot, no output capture, and the
same values can be read back in tests. Without ipywidgets each returns a short text message instead.
"""
from __future__ import annotations

import html

from ..errors import KubelabError

__all__ = ["trace_playground", "scale_playground", "yaml_playground", "WidgetsUnavailable"]

OUTSIDE = "outside"        # the source dropdown's value for a client outside the cluster (src=None)
_ERROR = "<pre style='color:#c92a2a;white-space:pre-wrap;margin:0'>{}</pre>"


class WidgetsUnavailable:
    """What a playground returns when ipywidgets cannot be imported: a message, not a traceback."""

    def __init__(self, playground: str, problem: str):
        self.message = (f"{playground} needs ipywidgets 8 ({problem}); install it with "
                        "`pip install ipywidgets` and reopen the notebook in JupyterLab")

    def __str__(self) -> str:
        return self.message

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<p style='color:#c92a2a'>{html.escape(self.message)}</p>"


def _ipywidgets():
    """The ipywidgets module, or the reason it cannot be used."""
    try:
        import ipywidgets
    except ImportError as exc:
        return None, str(exc) or "not installed"
    return ipywidgets, None


def _error_html(exc: Exception) -> str:
    """A learner's mistake in red; anything else is labelled as kubelab's own fault, still without a traceback."""
    if isinstance(exc, KubelabError):
        return _ERROR.format(html.escape(str(exc)))
    return _ERROR.format(html.escape(f"unexpected {type(exc).__name__} inside kubelab: {exc}"))


def _png(fig) -> bytes:
    from .viz import figure_png

    return figure_png(fig, dpi=90)


def _image(w):
    return w.Image(value=b"", format="png", layout=w.Layout(width="100%", max_width="1200px"))


# ---------------------------------------------------------------- trace
def _trace_choices(lab):
    """(label, value) options for sources, destinations and ports, from what is in the cluster now."""
    from ..net.objects import container_ports, key_of, name_of, pod_host_network

    nodes = sorted(lab.list("Node"), key=name_of)
    pods = sorted(lab.list("Pod"), key=key_of)
    services = sorted(lab.list("Service"), key=key_of)
    sources = [("outside the cluster (203.0.113.10)", OUTSIDE)]
    sources += [(f"node {name_of(n)}", f"node/{name_of(n)}") for n in nodes]
    sources += [(f"pod {key_of(p)}", key_of(p)) for p in pods if not pod_host_network(p)]
    dests = []
    for s in services:
        spec = s.get("spec") or {}
        vip = spec.get("clusterIP")
        if vip and vip != "None":
            dests.append((f"Service {key_of(s)} ({vip})", vip))
        for ing in ((s.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
            if ing.get("ip"):
                dests.append((f"Service {key_of(s)} load balancer ({ing['ip']})", ing["ip"]))
    dests += [(f"pod {key_of(p)}", key_of(p)) for p in pods if not pod_host_network(p)]
    for n in nodes:
        for a in (n.get("status") or {}).get("addresses") or []:
            if a.get("type") == "InternalIP":
                dests.append((f"node {name_of(n)} ({a['address']})", a["address"]))
    ports = {53, 80, 443}
    for s in services:
        for p in (s.get("spec") or {}).get("ports") or []:
            ports.update(x for x in (p.get("port"), p.get("nodePort")) if isinstance(x, int))
    for p in pods:
        ports.update(cp["containerPort"] for cp in container_ports(p) if isinstance(cp["containerPort"], int))
        ports.update(port for port, _ in _listening(p))
    return sources, dests, sorted(ports)


def _listening(pod) -> list:
    """Where the pod's containers listen (its image's ports; declared ones for an unknown image)."""
    from ..net.listeners import container_listeners

    return sorted({pp for c in container_listeners(pod) for pp in c.ports if isinstance(pp[0], int)})


def _first_user(options, fallback, avoid=()):
    """The first option that is the learner's own (not kube-system, not the API server's Service)."""
    for label, value in options:
        if label.startswith(("pod ", "Service ")) and " kube-system/" not in label \
                and " default/kubernetes " not in label and value not in avoid:
            return value
    return fallback


def _opening_path(lab, sources, dests, ports):
    """Where the playground opens: from a pod named `client` (else the first user pod) to a user Service or
    another pod (a `web` one first), on a port that destination serves, so the first picture is a real path."""

    src = next((v for _l, v in sources if v.endswith("/client")), None) or _first_user(sources, OUTSIDE)
    user = [(label, value) for label, value in dests
            if _first_user([(label, value)], None, avoid=(src,)) is not None]
    webs = [(label, value) for label, value in user if "/web" in label]
    label, dst = (webs or user or dests)[0]
    port = 80
    if label.startswith("Service "):
        service = next((s for s in lab.list("Service") if (s.get("spec") or {}).get("clusterIP") == dst), None)
        numbers = [p.get("port") for p in ((service or {}).get("spec") or {}).get("ports") or []]
    else:
        namespace, _, name = dst.rpartition("/")
        numbers = [port for port, _ in _listening(lab.get("Pod", name, namespace or "default"))]
    numbers = [n for n in numbers if n in ports]
    if numbers and 80 not in numbers:
        port = numbers[0]
    return src, dst, port


def trace_playground(lab):
    """Dropdowns for source, destination, port and protocol; shows the Verdict and the traced path.

    Children: [controls HBox (from, to, port, protocol), HTML verdict, Image of draw_trace]."""
    w, problem = _ipywidgets()
    if w is None:
        return WidgetsUnavailable("trace_playground", problem)
    from .viz import draw_trace

    sources, dests, ports = _trace_choices(lab)
    dests = dests or [("(nothing to reach)", "")]
    style = {"description_width": "initial"}
    start_src, start_dst, start_port = _opening_path(lab, sources, dests, ports) if dests[0][1] else \
        (_first_user(sources, OUTSIDE), "", 80)
    src = w.Dropdown(options=sources, value=start_src, description="from", style=style)
    dst = w.Dropdown(options=dests, value=start_dst, description="to", style=style)
    port = w.Dropdown(options=ports, value=start_port, description="port", style=style,
                      layout=w.Layout(width="150px"))
    protocol = w.Dropdown(options=["TCP", "UDP", "SCTP"], value="TCP", description="protocol", style=style,
                          layout=w.Layout(width="170px"))
    verdict = w.HTML()
    picture = _image(w)

    def update(_change=None):
        if not dst.value:
            verdict.value, picture.value = _ERROR.format("apply a Service or a Pod first"), b""
            return
        try:
            trace = lab.trace(None if src.value == OUTSIDE else src.value, dst.value, port.value, protocol.value)
            verdict.value = trace.verdict._repr_html_()
            picture.value = _png(draw_trace(lab, trace))
        except Exception as exc:   # shown in the widget: a callback's traceback would only reach the log
            verdict.value, picture.value = _error_html(exc), b""

    for control in (src, dst, port, protocol):
        control.observe(update, names="value")
    update()
    return w.VBox([w.HBox([src, dst, port, protocol]), verdict, picture])


# ---------------------------------------------------------------- scale
def _slices_html(lab, service: str, namespace: str) -> str:
    """One row per EndpointSlice of the Service: name, number of endpoints, addresses (not-ready marked)."""
    slices = sorted(lab.list("EndpointSlice", namespace, selector=f"kubernetes.io/service-name={service}"),
                    key=lambda s: s["metadata"]["name"])
    rows = []
    for s in slices:
        addresses = []
        for e in s.get("endpoints") or []:
            ready = (e.get("conditions") or {}).get("ready") is not False
            addresses += [a if ready else f"{a} (not ready)" for a in e.get("addresses") or []]
        rows.append((s["metadata"]["name"], str(len(s.get("endpoints") or [])), ", ".join(addresses) or "—"))
    head = "".join(f"<th style='text-align:left;padding-right:1em'>{h}</th>"
                   for h in ("EndpointSlice", "endpoints", "addresses"))
    body = "".join("<tr>" + "".join(f"<td style='text-align:left;padding-right:1em'>{html.escape(c)}</td>"
                                    for c in row) + "</tr>" for row in rows)
    caption = (f"<caption style='text-align:left'><b>{len(slices)}</b> EndpointSlice(s) for Service "
               f"{html.escape(namespace)}/{html.escape(service)}</caption>")
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _client_of(lab, deployment: dict, namespace: str) -> str | None:
    """A pod to connect from: one named `client` if there is one, else the first pod the Deployment does not own."""
    from ..net.labels import parse_label_selector
    from ..net.objects import key_of, labels_of

    owned = parse_label_selector((deployment.get("spec") or {}).get("selector"))
    others = sorted(key_of(p) for p in lab.list("Pod", namespace) if not owned.matches(labels_of(p)))
    named = [k for k in others if k.endswith("/client")]
    return (named or others or [None])[0]


def _client_verdict_html(lab, client, service: str, namespace: str) -> str:
    """What a client gets from the Service's first port now, as a Verdict (ALLOWED / BLOCKED and why)."""
    ports = (lab.get("Service", service, namespace).get("spec") or {}).get("ports") or []
    if not ports:
        return ""
    verdict = lab.reach(client, f"{service}.{namespace}", port=ports[0]["port"], protocol=ports[0].get("protocol", "TCP"))
    who = f"pod {client}" if client else "a client outside the cluster"
    return f"<div><b>What {html.escape(who)} gets:</b></div>" + verdict._repr_html_()


def scale_playground(lab, deployment: str, service: str, namespace: str = "default", max_replicas: int = 10):
    """A replicas slider that re-applies the Deployment; shows the Service's EndpointSlices, the cluster, and
    what a client gets from the Service (a pod named `client`, else another pod, else one outside).

    Children: [IntSlider replicas, HTML slice table, Image of draw_cluster, HTML client verdict]."""
    w, problem = _ipywidgets()
    if w is None:
        return WidgetsUnavailable("scale_playground", problem)
    from .viz import draw_cluster

    owner = lab.get("Deployment", deployment, namespace)
    current = owner["spec"].get("replicas", 1)
    client = _client_of(lab, owner, namespace)
    slider = w.IntSlider(value=current, min=0, max=max(max_replicas, current), description="replicas",
                         continuous_update=False)
    table = w.HTML()
    picture = _image(w)
    verdict = w.HTML()

    def show():
        table.value = _slices_html(lab, service, namespace)
        picture.value = _png(draw_cluster(lab, namespaces=[namespace]))
        try:
            verdict.value = _client_verdict_html(lab, client, service, namespace)
        except Exception as exc:
            verdict.value = _error_html(exc)

    def rescale(change):
        try:
            obj = lab.get("Deployment", deployment, namespace)
            obj["spec"]["replicas"] = change["new"]
            obj.pop("status", None)
            lab.apply(obj)
            if change["new"] < change["old"]:
                # removed pods terminate for their grace period, serving meanwhile; the playground shows the
                # cluster once they are gone, as `kubectl scale` then `kubectl wait --for=delete` would
                grace = ((obj["spec"].get("template") or {}).get("spec") or {}).get("terminationGracePeriodSeconds")
                lab.advance(30 if grace is None else grace)
            show()
        except Exception as exc:
            table.value, picture.value = _error_html(exc), b""

    slider.observe(rescale, names="value")
    show()
    return w.VBox([slider, table, picture, verdict])


# ---------------------------------------------------------------- YAML
def _result_widget(w, value):
    """on_apply's return value as a widget: a figure as an image, HTML when it has it, else text."""
    if value is None:
        return w.HTML("")
    if hasattr(value, "savefig"):
        picture = _image(w)
        picture.value = _png(value)
        return picture
    if hasattr(value, "_repr_html_"):
        return w.HTML(value._repr_html_())
    return w.HTML(f"<pre style='margin:0'>{html.escape(str(value))}</pre>")


def yaml_playground(lab, initial_yaml: str, on_apply=None):
    """A YAML editor with an Apply button: shows what apply() did or the error in red, then what
    `on_apply(lab)` returns (a Verdict, a table, a figure...). An object whose edit cannot be made in
    place (a Pod's ports, a Service's clusterIP) is replaced, as `kubectl replace --force` does, and the
    result says so.

    Children: [Textarea, Button, VBox of results]."""
    w, problem = _ipywidgets()
    if w is None:
        return WidgetsUnavailable("yaml_playground", problem)

    editor = w.Textarea(value=initial_yaml, layout=w.Layout(width="100%", height="260px"))
    editor.add_class("kubelab-yaml")      # Textarea has no font style trait: monospace comes from CSS
    css = w.HTML("<style>.kubelab-yaml textarea {font-family: monospace; font-size: 13px}</style>")
    button = w.Button(description="Apply", button_style="primary", icon="check")
    results = w.VBox()

    last_applied: dict = {}
    try:   # what the lesson applied before showing the playground: edits are compared with it
        from ..api.manifests import load_manifests
        from .replace import object_key

        last_applied.update((object_key(d), d) for d in load_manifests(initial_yaml))
    except Exception:
        pass   # a broken initial text shows its error on the first Apply

    def apply(_button=None):
        from .replace import apply_or_replace

        try:
            outcome = apply_or_replace(lab, editor.value, last_applied)
        except Exception as exc:
            results.children = [w.HTML(_error_html(exc))]
            return
        shown = [w.HTML("<pre style='color:#2b8a3e;margin:0;white-space:pre-wrap'>"
                        f"{html.escape(chr(10).join(outcome.lines()))}</pre>")]
        if on_apply is not None:
            try:
                shown.append(_result_widget(w, on_apply(lab)))
            except Exception as exc:
                shown.append(w.HTML(_error_html(exc)))
        results.children = shown

    button.on_click(apply)
    return w.VBox([editor, button, results, css])
