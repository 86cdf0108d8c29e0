"""Do the playgrounds answer when a learner changes a control, and fail politely when they cannot?"""
import sys

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from kubelab import widgets  # noqa: E402
from tests.test_viz import make_lab  # noqa: E402


@pytest.fixture
def lab():
    return make_lab()


def options_by_label(dropdown):
    return dict(dropdown.options)


def png(image) -> bytes:
    """An Image widget's value (ipywidgets keeps it as a memoryview once set)."""
    return bytes(image.value)


# ---------------------------------------------------------------- trace_playground
def test_trace_playground_starts_with_a_learner_pod_and_service(lab):
    """Does the playground open on a meaningful path: the client pod to the web Service on a port it serves
    (not kube-system, not the client to itself), with a verdict and a picture?"""
    box = widgets.trace_playground(lab)
    (src, dst, port, protocol), verdict, picture = box.children[0].children, box.children[1], box.children[2]
    assert src.value == "default/client"
    web = lab.get("Service", "web")["spec"]
    assert dst.value == web["clusterIP"]
    assert (port.value, protocol.value) == (web["ports"][0]["port"], "TCP")
    assert "ALLOWED" in verdict.value
    assert png(picture).startswith(b"\x89PNG")


def test_trace_playground_offers_pods_services_nodes_and_outside(lab):
    """Are sources pods, nodes and the outside, and destinations pods, Services by name and node IPs?"""
    src, dst, port, _ = widgets.trace_playground(lab).children[0].children
    sources, dests = options_by_label(src), options_by_label(dst)
    assert sources["outside the cluster (203.0.113.10)"] == widgets.OUTSIDE
    assert sources["node node-2"] == "node/node-2"
    assert sources["pod default/client"] == "default/client"
    web_vip = lab.get("Service", "web")["spec"]["clusterIP"]
    assert dests[f"Service default/web ({web_vip})"] == web_vip
    assert dests["node node-1 (192.168.0.11)"] == "192.168.0.11"
    assert dests["pod default/client"] == "default/client"
    assert {80, 8080, 30080, 5432}.issubset(port.options)


def test_trace_playground_offers_the_ports_images_listen_on_undeclared():
    """Does a redis pod that declares no port still put 6379 (where redis listens) among the ports?"""
    import kubelab

    lab = kubelab.connect(seed=0)
    lab.apply([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cache"},
                "spec": {"containers": [{"name": "redis", "image": "redis"}]}}])
    _, _, port, _ = widgets.trace_playground(lab).children[0].children
    assert 6379 in port.options


def test_changing_a_dropdown_updates_verdict_and_picture(lab):
    """When the destination, then the port, changes, do the verdict text and the picture change with it?"""
    box = widgets.trace_playground(lab)
    src, dst, port, _ = box.children[0].children
    verdict, picture = box.children[1], box.children[2]
    src.value = "default/client"
    dst.value = lab.get("Service", "web")["spec"]["clusterIP"]
    assert "ALLOWED" in verdict.value
    allowed_png = png(picture)
    port.value = 443
    assert "BLOCKED" in verdict.value and "has no port 443/TCP" in verdict.value
    assert png(picture) != allowed_png and png(picture).startswith(b"\x89PNG")


def test_outside_source_traces_from_outside(lab):
    """Does choosing the outside source trace from a client outside the cluster (src=None) to a NodePort?"""
    box = widgets.trace_playground(lab)
    src, dst, port, _ = box.children[0].children
    src.value = widgets.OUTSIDE
    dst.value = "192.168.0.11"
    port.value = 30080
    assert "ALLOWED" in box.children[1].value and "<code>outside</code>" in box.children[1].value


def test_trace_playground_shows_errors_in_red_not_tracebacks(lab):
    """If the chosen pod has been deleted meanwhile, is the kubelab error shown in red instead of raised?"""
    box = widgets.trace_playground(lab)
    src, dst, port, _ = box.children[0].children
    src.value = "default/client"
    lab.delete("Pod", "client", "default", grace_period=0)
    port.value = 8080
    assert "color:#c92a2a" in box.children[1].value and "client" in box.children[1].value
    assert png(box.children[2]) == b""


# ---------------------------------------------------------------- scale_playground
def slice_addresses(lab):
    return sorted(a for s in lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=web")
                  for e in s["endpoints"] for a in e["addresses"])


def test_scale_slider_reapplies_the_deployment_and_shows_the_slices(lab):
    """Does moving the replicas slider scale the Deployment and list the new endpoints in the slice table?"""
    box = widgets.scale_playground(lab, "web", "web")
    slider, table, picture, client_verdict = box.children
    assert "default/client" in client_verdict.value
    assert slider.value == 4
    before = png(picture)
    slider.value = 6
    assert lab.get("Deployment", "web")["spec"]["replicas"] == 6
    addresses = slice_addresses(lab)
    assert len(addresses) == 6
    assert "<td style='text-align:left;padding-right:1em'>6</td>" in table.value
    assert all(a in table.value for a in addresses)
    assert png(picture) != before and png(picture).startswith(b"\x89PNG")


def test_scale_to_zero_empties_the_slices(lab):
    """Scaled to zero, does the table show no addresses for the Service once the removed pods' grace period
    (which the playground waits out, as `kubectl wait --for=delete` would) has passed?"""
    box = widgets.scale_playground(lab, "web", "web")
    box.children[0].value = 0
    assert slice_addresses(lab) == [] and lab.list("Pod", "default", selector="app=web") == []


# ---------------------------------------------------------------- yaml_playground
GOOD = """
apiVersion: v1
kind: Service
metadata: {name: web2}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""
BAD = GOOD.replace("port: 80,", "port: 99999,")


def test_yaml_apply_shows_what_changed_and_the_check(lab):
    """Does Apply create the object, say so, and show what on_apply(lab) returns?"""
    box = widgets.yaml_playground(lab, GOOD, on_apply=lambda l: l.reach("default/client", "web2", 80))
    editor, button, results = box.children[:3]
    button.click()
    assert "service/web2 created" in results.children[0].value
    assert "ALLOWED" in results.children[1].value
    assert lab.get("Service", "web2")["spec"]["ports"][0]["port"] == 80


def test_yaml_error_is_red_and_names_the_field(lab):
    """Does an invalid manifest show the kubelab error with its field path, in red, and skip on_apply?"""
    called = []
    box = widgets.yaml_playground(lab, BAD, on_apply=called.append)
    box.children[1].click()
    (message,) = box.children[2].children
    assert "color:#c92a2a" in message.value and "spec.ports[0].port" in message.value
    assert called == []


def test_yaml_syntax_error_is_shown_not_raised(lab):
    """Is text that is not YAML reported as a message rather than a traceback?"""
    box = widgets.yaml_playground(lab, "a: [b")
    box.children[1].click()
    assert "not valid YAML" in box.children[2].children[0].value


def test_yaml_edits_are_applied_on_the_next_click(lab):
    """After the learner edits the text and clicks again, is the new text what gets applied?"""
    box = widgets.yaml_playground(lab, BAD)
    editor, button, results = box.children[:3]
    button.click()
    editor.value = GOOD
    button.click()
    assert "created" in results.children[0].value


def test_on_apply_errors_and_figures_are_displayed(lab):
    """Is an on_apply that raises a kubelab error shown in red, and one that returns a figure shown as a PNG?"""
    def failing(l):
        return l.reach("default/nope", "web", 80)

    box = widgets.yaml_playground(lab, GOOD, on_apply=failing)
    box.children[1].click()
    assert "color:#c92a2a" in box.children[2].children[1].value and "nope" in box.children[2].children[1].value

    from kubelab import viz
    box = widgets.yaml_playground(lab, GOOD, on_apply=viz.draw_cluster)
    box.children[1].click()
    assert png(box.children[2].children[1]).startswith(b"\x89PNG")


# ---------------------------------------------------------------- without ipywidgets
def test_without_ipywidgets_each_playground_returns_a_message(monkeypatch, lab):
    """With ipywidgets missing, does every playground return a readable message instead of raising?"""
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    for result in (widgets.trace_playground(lab), widgets.scale_playground(lab, "web", "web"),
                   widgets.yaml_playground(lab, GOOD)):
        assert isinstance(result, widgets.WidgetsUnavailable)
        assert "pip install ipywidgets" in str(result) and "ipywidgets" in result._repr_html_()

