"""Does `kubelab capstone report` list, per learner, the faults they had, which they fixed, hints and time?"""
import json

from kubelab.cli import main
from kubelab.course.capstone import Capstone
from kubelab.course.capstone_report import report


def _submit(folder, learner, fix_first: bool, hints: int = 0):
    clock = iter([1000.0, 1000.0 + 3720.0])
    s = Capstone(learner, 1, clock=lambda: next(clock))
    for _ in range(hints):
        s.hint(1)
    if fix_first:
        s.apply(s.faults[0].fix(s.base))
    return s, s.save(folder / f"{learner}.json")


def test_report_lists_faults_fixed_hints_and_time(tmp_path, capsys):
    ada, _ = _submit(tmp_path, "ada", fix_first=True, hints=2)
    bob, _ = _submit(tmp_path, "bob", fix_first=False)
    (tmp_path / "junk.json").write_text("{not json")
    rows = {r.learner or r.file: r for r in report(tmp_path)}
    assert rows["ada"].faults == tuple(f.id for f in ada.faults)
    assert rows["ada"].fixed == (ada.faults[0].id,) and rows["bob"].fixed == ()
    assert rows["ada"].hints == ((1, 1), (1, 2)) and rows["ada"].seconds == 3720.0
    assert "not a capstone answer" in rows["junk.json"].error
    assert main(["capstone", "report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"ada (level 1, ada.json): 1/3 fixed, hints 2 (#1:1, #1:2), time 1h02m" in out
    assert f"  [FIXED] {ada.faults[0].id}" in out and f"  [OPEN ] {bob.faults[0].id}" in out


def test_a_broken_invariant_shows_in_the_report(tmp_path):
    s = Capstone("carol", 1, clock=lambda: 0.0)
    s.apply({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
             "metadata": {"name": "default", "namespace": "shop"}, "spec": {"mtls": {"mode": "DISABLE"}}})
    s.save(tmp_path / "carol.json")
    (row,) = report(tmp_path)
    assert "mTLS stays STRICT in shop" in row.broken_invariants


def test_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["capstone", "report", str(tmp_path / "nope")]) == 1
    assert "is not a folder of submissions" in capsys.readouterr().err
