"""A NetworkPolicy playground: edit a policy, apply it, see who can reach whom and what lint says.

    from kubelab.show.netpol_widgets import policy_playground
    policy_playground(lab, policy_yaml, port=80)

It is `widgets.yaml_playground` with a fixed report after every apply: the cells of the
reachability matrix that changed since the previous apply, the whole matrix, and `lab.lint()`'s
findings. The report is a plain object (`PolicyReport`), so it can be read in tests without a
browser; ipywidgets is imported only by `yaml_playground`, when the playground is built.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from . import widgets

__all__ = ["policy_playground", "PolicyReport"]


@dataclass(frozen=True)
class PolicyReport:
    """What one apply changed: the matrix before and after, and the lint findings after."""

    before: object          # Reachability
    after: object           # Reachability
    findings: tuple = ()    # netpol_explain.Finding, sorted

    @property
    def diff(self):
        return self.before.diff(self.after)

    def _findings_lines(self) -> list[str]:
        return [str(f) for f in self.findings] or ["no findings"]

    def __str__(self) -> str:
        changed = str(self.diff)
        return "\n".join([f"changed since the last apply:\n{changed}", "", str(self.after), "",
                          "lint:", *self._findings_lines()])

    def _repr_html_(self) -> str:
        changes = "".join(f"<li>{html.escape(line)}</li>" for line in str(self.diff).splitlines())
        lint = "".join(f"<li>{html.escape(line)}</li>" for line in self._findings_lines())
        return (f"<p><b>Changed since the last apply</b></p><ul>{changes}</ul>"
                f"{self.after._repr_html_()}"
                f"<p><b>lab.lint()</b></p><ul>{lint}</ul>")


def policy_playground(lab, initial_yaml: str, port: int = 80, protocol: str = "TCP", pods=None, externals=()):
    """A YAML editor for NetworkPolicies; after each Apply shows a PolicyReport for `port`/`protocol`
    over `pods` (default: every pod outside kube-system) and the `externals` IPs.

    Children: those of `widgets.yaml_playground` ([Textarea, Button, VBox of results, style])."""
    state = {"matrix": lab.reachability(pods=pods, port=port, protocol=protocol, externals=externals)}

    def report(lab):
        after = lab.reachability(pods=pods, port=port, protocol=protocol, externals=externals)
        result = PolicyReport(state["matrix"], after, tuple(lab.lint()))
        state["matrix"] = after
        return result

    return widgets.yaml_playground(lab, initial_yaml, on_apply=report)
