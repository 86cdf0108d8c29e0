"""The capstone's progress in a notebook: which tickets are resolved, which invariants hold, never a cause."""
from __future__ import annotations

import html

__all__ = ["progress_html", "progress_widget"]

_COLOURS = {True: "#1a7f37", False: "#cf222e"}


def progress_html(progress) -> str:
    """A small table: one row per ticket (RESOLVED/OPEN) and per invariant (KEPT/BROKEN), and a bar."""
    rows = [f'<tr><td style="color:{_COLOURS[t.resolved]};font-weight:bold">'
            f'{"RESOLVED" if t.resolved else "OPEN"}</td><td>ticket {t.number}</td><td>{html.escape(t.ticket)}</td></tr>'
            for t in progress.tickets]
    rows += [f'<tr><td style="color:{_COLOURS[ok]};font-weight:bold">{"KEPT" if ok else "BROKEN"}</td>'
             f"<td>invariant</td><td>{html.escape(says)}</td></tr>" for says, ok in progress.invariants]
    total = len(progress.tickets) or 1
    width = round(100 * progress.resolved / total)
    bar = (f'<div style="width:240px;height:10px;background:#eaeef2;border-radius:5px">'
           f'<div style="width:{width}%;height:10px;background:#1a7f37;border-radius:5px"></div></div>')
    return (f'<div class="kubelab-capstone"><b>{progress.resolved}/{len(progress.tickets)} tickets resolved</b>'
            f"{bar}<table>{''.join(rows)}</table></div>")


def progress_widget(scenario):
    """The progress table with a "check again" button that replays the journeys on the learner's cluster."""
    import ipywidgets as widgets

    out = widgets.HTML(progress_html(scenario.progress()))
    button = widgets.Button(description="check again", icon="refresh")

    def refresh(_):
        out.value = progress_html(scenario.progress())

    button.on_click(refresh)
    return widgets.VBox([button, out])
