"""Every suggestion a lesson prints next to a playground, tried on that playground.

Each lesson is run up to its playground cell in an IPython shell (as in JupyterLab), the suggested
edit is made in the widget and Apply is pressed (or a control is changed), and the result must be
what the prose promises: no "Forbidden" for an edit a playground can make by replacing the object,
the promised error where the text says "read the error", a visible answer where it asks a question.
The suggestions' wording is checked to be in the lesson, so prose and test stay together.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("IPython")

ROOT = Path(__file__).resolve().parents[1]
_RUNS: dict = {}


def run_lesson_to(lesson: str, needle: str):
    """Run `lesson`'s code cells up to the first one containing `needle`; return (widget, namespace, prose)."""

    nb = nbformat.read(ROOT / "notebooks" / lesson, 4)
    cwd = os.getcwd()   # the lesson runs in notebooks/, as in JupyterLab; pytest's own cwd is restored after
    try:
        return _run_cells(nb, needle, lesson)
    finally:
        os.chdir(cwd)


def _run_cells(nb, needle: str, lesson: str):
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    shell.run_cell("import os; os.chdir(%r)" % str(ROOT / "notebooks"))
    prose = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            prose.append(cell.source)
            continue
        result = shell.run_cell(cell.source, store_history=False)
        assert result.success, (lesson, cell.source[:200], result.error_in_exec)
        if needle in cell.source:
            widget = result.result
            ns = dict(shell.user_ns)
            InteractiveShell.clear_instance()
            return widget, ns, "\n".join(prose)
    raise AssertionError(f"{lesson}: no cell with {needle!r}")


def edit_and_apply(playground, edit) -> str:
    """Change the YAML playground's text with `edit(text)`, press Apply, return the results as text."""
    editor, button, results = playground.children[:3]
    editor.value = edit(editor.value)
    button.click()
    import html

    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", c.value) for c in results.children
                                  if isinstance(getattr(c, "value", None), str)))


def is_error(text_html: str) -> bool:
    return "c92a2a" in text_html


def results_html(playground) -> str:
    return " ".join(c.value for c in playground.children[2].children if isinstance(getattr(c, "value", None), str))


# ------------------------------------------------------------------ lesson 00
@pytest.fixture(scope="module")
def welcome():
    return run_lesson_to("00-welcome.ipynb", "yaml_playground")


def test_00_removing_ports_replaces_the_pod_and_it_still_answers(welcome):
    """'Try removing the `ports` section (the pod still answers)': the pod is replaced (pods cannot change in
    place), and nginx-unprivileged still listens on 8080, since Kubernetes does not enforce containerPort."""
    playground, _, prose = welcome
    assert "Try removing the `ports` section (the pod still answers" in prose
    first = edit_and_apply(playground, lambda t: t)          # the learner's first Apply creates hello
    assert "pod/hello created" in first and "ALLOWED" in first
    out = edit_and_apply(playground, lambda t: re.sub(r"\n\s*ports:\n\s*- containerPort: 8080", "", t))
    assert not is_error(results_html(playground)), out
    assert "replaced" in out and "kubectl replace --force" in out
    assert "ALLOWED" in out and "nginx-unprivileged listens on 8080/TCP" in out


def test_00_an_unknown_image_without_ports_is_refused_by_the_convention(welcome):
    """'an image kubelab does not know': without ports it listens nowhere, and the verdict names the convention."""
    playground, _, prose = welcome
    assert "an image kubelab does not know" in prose
    out = edit_and_apply(playground, lambda t: re.sub(r"\n\s*ports:\n\s*- containerPort: 8080", "", t).replace(
        "nginxinc/nginx-unprivileged", "example/hello:1.0"))
    assert not is_error(results_html(playground)), out
    assert "BLOCKED" in out and "simulator convention" in out


def test_00_mistyped_field_names_the_field(welcome):
    """'or a mistyped field name': the error names the unknown field and its path."""
    playground, _, prose = welcome
    assert "a mistyped field name" in prose
    out = edit_and_apply(playground, lambda t: t.replace("containers:", "contianers:"))
    assert is_error(results_html(playground)) and "unknown field" in out and "contianers" in out


# ------------------------------------------------------------------ lesson 04
@pytest.fixture(scope="module")
def exposing():
    return run_lesson_to("04-exposing-services.ipynb", "yaml_playground")


@pytest.mark.parametrize("suggestion, edit, expect", [
    ("`externalTrafficPolicy: Local`", lambda t: t.replace("externalTrafficPolicy: Cluster",
                                                           "externalTrafficPolicy: Local"), "no answer"),
    ("a `nodePort` of 80", lambda t: t.replace("nodePort: 30080", "nodePort: 80"), "30000-32767"),
    ("`targetPort: 80`", lambda t: t.replace("targetPort: 8080", "targetPort: 80"), "no answer"),
    ("`type: ClusterIP`", lambda t: t.replace("type: NodePort", "type: ClusterIP").replace("    nodePort: 30080\n", ""),
     "no node port"),
], ids=["local", "nodeport-80", "targetport-80", "clusterip"])
def test_04_service_playground_suggestions(exposing, suggestion, edit, expect):
    playground, _, prose = exposing
    assert suggestion in prose
    editor = playground.children[0]
    original = editor.value
    try:
        out = edit_and_apply(playground, edit)
        assert expect in out, out
        if expect != "30000-32767":
            assert not is_error(results_html(playground)), out
    finally:
        edit_and_apply(playground, lambda _t: original)


# ------------------------------------------------------------------ lesson 06
@pytest.fixture(scope="module")
def dns_lesson():
    return run_lesson_to("06-dns.ipynb", "yaml_playground")


def test_06_removing_headless_makes_a_clusterip_service(dns_lesson):
    """'remove `clusterIP: None`': the Service is replaced and api.shop now answers with one ClusterIP
    (not a silent "unchanged")."""
    playground, _, prose = dns_lesson
    assert "remove `clusterIP: None`" in prose
    original = playground.children[0].value
    try:
        out = edit_and_apply(playground, lambda t: t.replace("  clusterIP: None\n", ""))
        assert not is_error(results_html(playground)), out
        assert "service/api replaced" in out and "service/api created" not in out
        import ipaddress

        line = re.search(r"api\.shop\s+A\s+([\d., ]+)", out).group(1)
        assert "," not in line and ipaddress.ip_address(line.strip()) in ipaddress.ip_network("10.96.0.0/12")
    finally:
        edit_and_apply(playground, lambda _t: original)


def test_06_subdomain_mismatch_loses_the_pod_name(dns_lesson):
    """'change a pod's `subdomain`': the pod is replaced and its hostname name no longer resolves."""
    playground, _, prose = dns_lesson
    assert "change a pod's\n`subdomain`" in prose or "change a pod's `subdomain`" in prose
    original = playground.children[0].value
    try:
        out = edit_and_apply(playground, lambda t: t.replace("hostname: blue\n  subdomain: api",
                                                             "hostname: blue\n  subdomain: apx"))
        assert not is_error(results_html(playground)), out
        assert "pod/api-a" in out and "replaced" in out
        assert "blue.api.shop" not in out
    finally:
        edit_and_apply(playground, lambda _t: original)


def test_06_unnamed_port_has_no_srv(dns_lesson):
    """'remove the port's `name`': the SRV record goes away."""
    playground, _, prose = dns_lesson
    assert "remove the port's `name`" in prose
    original = playground.children[0].value
    try:
        out = edit_and_apply(playground, lambda t: t.replace("  - name: http\n    port: 8080", "  - port: 8080"))
        assert not is_error(results_html(playground)), out
        assert "_http._tcp" not in out
    finally:
        edit_and_apply(playground, lambda _t: original)


def test_06_not_ready_pod_leaves_the_answers(dns_lesson):
    """'pin a pod to `Ready: "False"`': its address leaves the headless answer."""
    playground, _, prose = dns_lesson
    assert 'Ready: "False"' in prose
    original = playground.children[0].value
    pinned = 'status:\n  phase: Running\n  conditions:\n  - type: Ready\n    status: "False"\n'
    try:
        before = edit_and_apply(playground, lambda t: t)
        out = edit_and_apply(playground, lambda t: t.rstrip("\n") + "\n" + pinned)
        assert not is_error(results_html(playground)), out
        count = lambda text: len(re.search(r"api\.shop\s+A\s+([\d., ]+)", text).group(1).split(","))  # noqa: E731
        assert count(out) == count(before) - 1
    finally:
        edit_and_apply(playground, lambda _t: original)


# ------------------------------------------------------------------ lesson 07
@pytest.fixture(scope="module")
def dual_stack():
    return run_lesson_to("07-hostaliases-and-dual-stack.ipynb", "yaml_playground")


def test_07_single_stack_ipv6(dual_stack):
    """'`SingleStack` with `ipFamilies: [IPv6]`': replaced, one IPv6 ClusterIP, AAAA answers and A does not."""
    playground, _, prose = dual_stack
    assert "`SingleStack` with `ipFamilies: [IPv6]`" in prose
    original = playground.children[0].value
    try:
        out = edit_and_apply(playground, lambda t: t.replace("PreferDualStack", "SingleStack")
                             .replace("[IPv4, IPv6]", "[IPv6]"))
        assert not is_error(results_html(playground)), out
        assert "replaced" in out and "ipFamilies ['IPv6']" in out
        assert "AAAA           ['fd00:10:96::" in out and "A              NOERROR" in out
    finally:
        edit_and_apply(playground, lambda _t: original)


def test_07_reversed_families(dual_stack):
    """'reversing the order of `ipFamilies`': replaced, IPv6 first (no error about clusterIPs never written)."""
    playground, _, prose = dual_stack
    assert "reversing the order of\n`ipFamilies`" in prose or "reversing the order of `ipFamilies`" in prose
    original = playground.children[0].value
    try:
        out = edit_and_apply(playground, lambda t: t.replace("[IPv4, IPv6]", "[IPv6, IPv4]"))
        assert not is_error(results_html(playground)), out
        assert "ipFamilies ['IPv6', 'IPv4']" in out
    finally:
        edit_and_apply(playground, lambda _t: original)


def test_07_two_families_without_policy_is_the_promised_error(dual_stack):
    """'two `ipFamilies` without an `ipFamilyPolicy` (read the error)': an error naming ipFamilyPolicy, and the
    Service is left as it was."""
    playground, ns, prose = dual_stack
    assert "without an `ipFamilyPolicy` (read the error)" in prose
    lab = ns["dual"]
    before = lab.get("Service", "playground")
    out = edit_and_apply(playground, lambda t: t.replace("  ipFamilyPolicy: PreferDualStack\n", ""))
    assert is_error(results_html(playground)) and "ipFamilyPolicy" in out, out
    after = lab.get("Service", "playground")
    assert after["spec"] == before["spec"]


# ------------------------------------------------------------------ lesson 03
def test_03_scaling_to_zero_says_what_a_client_gets():
    """'Try 0: what would a client get?': at 0 replicas the playground shows a verdict, and it is a refusal."""
    playground, _, prose = run_lesson_to("03-services.ipynb", "scale_playground")
    assert "Try 0: what would a client get?" in prose
    slider = playground.children[0]
    slider.value = 0
    verdict = playground.children[-1].value
    assert "BLOCKED" in verdict or "no endpoints" in verdict.lower(), verdict
    slider.value = 3
    assert "ALLOWED" in playground.children[-1].value


# ------------------------------------------------------------------ lessons 01 and 02: trace playgrounds
@pytest.mark.parametrize("lesson", ["01-pod-networking.ipynb", "02-cni-and-overlays.ipynb"])
def test_trace_playground_opens_on_client_to_web(lesson):
    """Does the trace playground open on a meaningful path: client to a web pod on the port it listens on,
    allowed (not client to itself on port 80, blocked)?"""
    playground, _, _ = run_lesson_to(lesson, "trace_playground")
    src, dst, port, _protocol = playground.children[0].children
    assert src.value == "default/client"
    assert "web" in dst.value or dst.label.startswith("Service default/web") or "web" in dst.label
    assert port.value == 8080
    assert "ALLOWED" in playground.children[1].value


def test_01_trace_suggestions_give_verdicts():
    """Lesson 01's suggestions (node-1 pod to node-3 pod, node-2 to a pod, client to node-1:9100, a port no one
    listens on) each give a verdict, not an error."""
    playground, _, prose = run_lesson_to("01-pod-networking.ipynb", "trace_playground")
    assert "a port\nno one listens on" in prose or "a port no one listens on" in prose
    src, dst, port, _protocol = playground.children[0].children
    options = dict((label, value) for label, value in dst.options)
    node1 = next(v for label, v in options.items() if label.startswith("node node-1"))
    for source, destination, number in [("default/client", "default/web-3", 8080),
                                        ("node/node-2", "default/web-2", 8080),
                                        ("default/client", node1, 9100),
                                        ("default/client", "default/web-2", 81 if 81 in port.options else 443)]:
        src.value, dst.value, port.value = source, destination, number
        shown = playground.children[1].value
        assert not is_error(shown) and ("ALLOWED" in shown or "BLOCKED" in shown), shown
