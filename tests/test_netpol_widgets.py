"""Does the NetworkPolicy playground show, after each Apply, what changed, the matrix and lint's findings?"""
import sys

import pytest

import kubelab
from kubelab import widgets
from kubelab.show.netpol_widgets import PolicyReport, policy_playground

PODS = """
apiVersion: v1
kind: Namespace
metadata: {name: backend}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: backend, labels: {app: api}}
spec: {containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {role: client}}
spec: {containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 80}]}]}
"""
DENY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: backend}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""
TYPO = DENY.replace("podSelector: {}", "podSelector: {matchLabels: {app: apii}}")


@pytest.fixture
def lab():
    lab = kubelab.connect(seed=0)
    lab.apply(PODS)
    return lab


def results(box):
    return box.children[2].children


def test_apply_shows_the_changed_cell_the_matrix_and_no_findings(lab):
    """After applying a default deny, does the report name the newly denied cell and show the matrix?"""
    box = policy_playground(lab, DENY)
    box.children[1].click()
    created, report = results(box)
    assert "networkpolicy/deny created" in created.value
    assert "default/client -&gt; backend/api: . -&gt; X (now denied)" in report.value
    assert "<table>" in report.value and "no findings" in report.value


def test_changes_are_counted_from_the_previous_apply(lab):
    """Does a second Apply of the same policy report no change (the diff is against the last apply)?"""
    box = policy_playground(lab, DENY)
    box.children[1].click()
    box.children[1].click()
    assert "no change" in results(box)[1].value


def test_lint_findings_are_listed(lab):
    """Is a policy whose selector matches no pod shown with lint's selects-no-pods finding?"""
    box = policy_playground(lab, TYPO)
    box.children[1].click()
    assert "[selects-no-pods]" in results(box)[1].value


def test_invalid_policy_is_shown_in_red_without_a_report(lab):
    """Does a policy the API server rejects show the field in red, and no report?"""
    box = policy_playground(lab, DENY.replace("[Ingress]", "[ingress]"))
    box.children[1].click()
    (message,) = results(box)
    assert "color:#c92a2a" in message.value and "spec.policyTypes[0]" in message.value


def test_report_text_reads_like_the_widget(lab):
    """Does str(PolicyReport) carry the diff, the truth table and the lint lines?"""
    before = lab.reachability()
    lab.apply(TYPO)
    text = str(PolicyReport(before, lab.reachability(), tuple(lab.lint())))
    assert text.startswith("changed since the last apply:\nno change")
    assert "Reachability TCP/80" in text and "[selects-no-pods]" in text


def test_without_ipywidgets_a_message_is_returned(monkeypatch, lab):
    """With ipywidgets missing, does the playground return the readable message instead of raising?"""
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    assert isinstance(policy_playground(lab, DENY), widgets.WidgetsUnavailable)


def test_every_matrix_cell_has_a_hover_tooltip_with_the_verdicts_reason(lab):
    """Does each cell of the playground's matrix carry a tooltip (title) saying which policy decided and
    whether the destination listens, matching lab.reach()'s verdict?"""
    import re

    lab.apply(DENY)
    matrix = lab.reachability(port=80, externals=["192.0.2.1"])
    titles = re.findall(r'title="([^"]*)"', matrix._repr_html_())
    assert len(titles) == 9 and all(titles)
    denied = matrix.reason("default/client", "backend/api")
    assert matrix["default/client", "backend/api"] is False and "isolated for ingress by" in denied
    assert "deny" in denied and "listens on 80/TCP" in denied
    assert "listens on 80/TCP" in matrix.reason("backend/api", "default/client")
    assert "outside the cluster" in matrix.reason("192.0.2.1", "192.0.2.1")
    assert "does not listen on 443/TCP" in lab.reachability(port=443).reason("backend/api", "default/client")
