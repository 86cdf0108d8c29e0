"""Is a learner's lesson-11 notebook graded the honest way: run in the sandbox only to hand out the scenario's final
state as plain data, scored in a clean process on a scenario rebuilt from the learner id?

Fixture notebooks are named for what they do: an honest fixer, a fixer that also deletes every NetworkPolicy,
and a forger that prints a pass and hands in an answer claiming every ticket fixed."""
import csv
import json
from pathlib import Path

import nbformat

from kubelab import cli
from kubelab.course.capstone import ANSWER_FORMAT, Capstone, draw
from kubelab.course.capstone_report import report

ROOT = Path(__file__).resolve().parents[2]
LESSON = "11-troubleshooting.ipynb"
# a learner whose tickets leave the database alone, so "the database refuses everyone but the cart" is an invariant
LEARNER = next(f"learner-{n}@example.org" for n in range(2000)
               if not any("db-isolated" in f.breaks for f in draw(f"learner-{n}@example.org", 2)))

HONEST = "for fault in mine.faults:\n    mine.apply(fault.fix(mine.base))"
NO_POLICIES = HONEST + "\nfor pol in lab.list('NetworkPolicy', 'shop'):\n    lab.delete('NetworkPolicy', pol['metadata']['name'], 'shop')"
FORGED = ("print('11-capstone: 9/9 checks passed')\n"
          "_real = mine.answer\n"
          "mine.answer = lambda: {**_real(), 'fixed': [1, 2, 3, 4], 'score': 1.0, 'passed': True}\n"
          "def check(*args, **kwargs):\n    print('[PASS] every ticket resolved')")


def _notebook(code: str) -> nbformat.NotebookNode:
    """The released exercise notebook of lesson 11 with LEARNER's id and `code` in the fix cell."""
    nb = nbformat.read(ROOT / "exercises" / LESSON, 4)
    setup = next(c for c in nb.cells if c.cell_type == "code" and "MY_ID =" in c.source)
    setup.source = setup.source.replace('"learner@example.org"', repr(LEARNER))
    stubs = [c for c in nb.cells if c.cell_type == "code" and "NotImplementedError" in c.source]
    stubs[0].source = "print(mine.progress())"
    stubs[-1].source = code
    return nb


def _db_is_not_a_ticket() -> Capstone:
    scenario = Capstone(LEARNER, 2)
    assert not any("db-isolated" in f.breaks for f in scenario.faults)
    return scenario


def test_kubelab_grade_scores_a_capstone_notebook_by_behaviour(tmp_path):
    """Does `kubelab grade` give the honest notebook full marks, the policy-deleting one less (an invariant broke),
    and the forger nothing for its printed pass and claimed fixes?"""
    _db_is_not_a_ticket()
    for learner, code in (("honest", HONEST), ("no-policies", NO_POLICIES), ("forger", FORGED)):
        (tmp_path / "subs" / learner).mkdir(parents=True)
        nbformat.write(_notebook(code), tmp_path / "subs" / learner / LESSON)
    out = tmp_path / "out" / "grades.csv"
    assert cli.main(["grade", str(tmp_path / "subs"), "--out", str(out), "--reference", str(ROOT / "solutions"),
                     "--timeout", "120"]) == 0
    rows = {r["learner"]: r for r in csv.DictReader(out.open())}
    assert rows["honest"]["11-capstone"] == "1.00"
    assert float(rows["no-policies"]["11-capstone"]) < 1.0
    feedback = (out.parent / "feedback" / "no-policies.txt").read_text()
    assert "[FAIL] invariant: the database refuses everyone but the cart" in feedback
    forged = (out.parent / "feedback" / "forger.txt").read_text()
    assert float(rows["forger"]["11-capstone"]) < 0.5
    assert "[FAIL] ticket 1 resolved" in forged


def test_capstone_report_reads_notebooks_and_ignores_what_an_answer_claims(tmp_path, capsys):
    """Does `kubelab capstone report` grade notebooks from the sandbox's plain answer, and does a JSON answer that
    claims every ticket fixed (while its state fixes nothing) get no ticket?"""
    scenario = _db_is_not_a_ticket()
    nbformat.write(_notebook(HONEST), tmp_path / "honest.ipynb")
    nbformat.write(_notebook(NO_POLICIES), tmp_path / "no-policies.ipynb")
    forged = {**scenario.answer(), "fixed": [1, 2, 3, 4], "score": 1.0, "changes": []}
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    rows = {r.file: r for r in report(tmp_path, ROOT / "solutions" / LESSON)}
    faults = tuple(f.id for f in scenario.faults)
    assert rows["honest.ipynb"].learner == LEARNER and rows["honest.ipynb"].fixed == faults
    assert rows["honest.ipynb"].broken_invariants == ()
    assert "the database refuses everyone but the cart" in rows["no-policies.ipynb"].broken_invariants
    assert rows["forged.json"].fixed == () and rows["forged.json"].faults == faults
    assert cli.main(["capstone", "report", str(tmp_path), "--reference", str(ROOT / "solutions" / LESSON)]) == 0
    assert f"{LEARNER} (level 2, honest.ipynb): {len(faults)}/{len(faults)} fixed" in capsys.readouterr().out


def test_the_final_state_is_what_is_graded():
    """Is an answer's state (not its diff) applied to the rebuilt scenario: a state that keeps the fix passes even
    with an empty diff, and the answer says its format?"""
    scenario = Capstone(LEARNER, 1)
    fault = scenario.faults[0]
    scenario.apply(fault.fix(scenario.base))
    answer = {**scenario.answer(), "changes": []}
    assert answer["format"] == ANSWER_FORMAT and answer["state"]
    rebuilt = Capstone(LEARNER, 1)
    assert not fault.is_fixed(rebuilt.lab)
    rebuilt.restore(answer)
    assert fault.is_fixed(rebuilt.lab)
