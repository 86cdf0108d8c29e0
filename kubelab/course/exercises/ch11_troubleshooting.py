"""Checks for lesson 11 · the troubleshooting capstone: the learner's scenario is rebuilt from the learner id in
the answer, their changes are replayed on it, and the shop's user journeys and invariants are run again.

The answer is plain data (Capstone.answer(): the learner id, level, hints, timestamps and the final state of
the scenario's objects), so grading runs outside the learner's kernel: the scenario is rebuilt from the id and
brought to that state here; nothing the answer claims about itself is read.
"""
from __future__ import annotations

from ...errors import KubelabError
from ..capstone import ANSWER_FORMAT, Capstone
from ..faults import INVARIANTS, JOURNEYS
from . import SubCheck, exercise

LESSON = "11-troubleshooting"


def _answer_problem(answer) -> str | None:
    if not isinstance(answer, dict) or answer.get("format") != ANSWER_FORMAT:
        return "hand in scenario.answer() (a dict of format kubelab-capstone/v1), not the manifests alone"
    if not isinstance(answer.get("learner"), str) or not answer["learner"].strip():
        return "the answer names no learner: use the answer() of the scenario capstone(your_id) gave you"
    if answer.get("level") not in (1, 2, 3):
        return "the answer's level must be 1, 2 or 3"
    if not isinstance(answer.get("changes", []), list):
        return "the answer's changes must be a list"
    if "state" in answer and not isinstance(answer["state"], list):
        return "the answer's state must be a list of manifests"
    return None


@exercise("11-capstone", title="Fix your own broken shop", lesson=LESSON)
def capstone_check(answer, ctx):
    problem = _answer_problem(answer)
    if not ctx.require("the answer is a capstone answer", problem is None, problem or ""):
        return
    scenario = Capstone(answer["learner"], answer["level"])
    lab = scenario.lab
    # one scored line per ticket of this learner's scenario, whatever the changes do
    tickets = [f"ticket {n} resolved: {'; '.join(j.says for j in fault.journeys())}"
               for n, fault in enumerate(scenario.faults, 1)]
    ctx.plan(*tickets)
    try:
        scenario.restore(answer)
    except KubelabError as exc:
        ctx.require("your changes apply", False, str(exc).splitlines()[0])
        return
    ctx.require("your changes apply", True, "")
    # what worked before must still work, and invariants a fix must not break (deleting every policy or the mesh
    # does not pass): a ticket counts only with both intact, so breaking something costs credit
    broken = sorted(name for name, j in JOURNEYS.items()
                    if not any(name in f.breaks for f in scenario.faults) and not j.run(lab).ok)
    invariants = [(f"invariant: {invariant.says}", invariant.run(lab)) for name, invariant in INVARIANTS.items()
                  if not any(name in f.breaks for f in scenario.faults)]
    regression = ([JOURNEYS[b].says for b in broken] + [line for line, outcome in invariants if not outcome.ok])
    for line, fault in zip(tickets, scenario.faults):
        fixed = fault.is_fixed(lab)
        ctx.expect(line, fixed and not regression,
                   f"fixed, but your changes broke: {'; '.join(regression)}" if fixed
                   else "replay the journey from the ticket and bisect: DNS, Service, endpoints, policy, L7, mesh")
    ctx.require("everything that worked still works", not broken,
                f"your changes broke: {', '.join(JOURNEYS[b].says for b in broken)}")
    for line, outcome in invariants:
        ctx.require(line, outcome.ok, outcome.seen)
    hints = answer.get("hints") or []
    ctx.checks.append(SubCheck(f"hints used: {len(hints)} (highest level "
                               f"{max((h.get('level', 0) for h in hints if isinstance(h, dict)), default=0)})",
                               True, kind="given"))
