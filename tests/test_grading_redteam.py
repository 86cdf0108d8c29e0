"""Red team: `kubelab grade` on a class mixing honest and hostile submissions (tests/fixtures/grading/hostile/,
one per attack of issue 13, named after it). Every hostile submission earns nothing, changes no file and leaves
the honest learners' grades alone; the gradebook states the isolation in force.

The attacks do succeed without a sandbox (reading the solutions or a classmate's notebook, importing the check
module's helpers, rewriting files): this suite needs bubblewrap (`apt-get install bubblewrap`; .ci/run installs it).
"""
import csv
import os
import shutil
import time
from pathlib import Path

import pytest

from kubelab import cli
from kubelab.course.intake import fingerprints

FIXTURES = Path(__file__).parent / "fixtures" / "grading"
HOSTILE = FIXTURES / "hostile"
ROOT = Path(__file__).resolve().parents[1]
ATTACKS = sorted(p.stem for p in HOSTILE.glob("*.ipynb"))
REFUSED = {"symlink-to-solutions": "is a symbolic link", "number-as-cell-source": "is not a valid notebook",
           "fifo": "is not a regular file", "folder-named-like-a-notebook": "is not a regular file"}

pytestmark = pytest.mark.skipif(not shutil.which("bwrap"),
                                reason="the red-team suite needs bubblewrap: apt-get install bubblewrap")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("redteam")
    klass = base / "redteam-class"  # the attacks look for a folder of this name
    klass.mkdir()
    for path in HOSTILE.glob("*.ipynb"):
        shutil.copy(path, klass / path.name, follow_symlinks=False)
    (klass / "symlink-to-solutions.ipynb").unlink()
    (klass / "symlink-to-solutions.ipynb").symlink_to(FIXTURES / "reference" / "99-gradingtest.ipynb")
    shutil.copy(FIXTURES / "good.ipynb", klass / "good.ipynb")
    shutil.copy(FIXTURES / "partial.ipynb", klass / "partial.ipynb")
    os.mkfifo(klass / "fifo.ipynb")
    (klass / "folder-named-like-a-notebook.ipynb").mkdir()
    (klass / "zz-late").mkdir()  # a second notebook of learner good for the same lesson, after the first
    shutil.copy(HOSTILE / "blank-other-notebooks.ipynb", klass / "zz-late" / "good.ipynb")
    out = base / "gradebook" / "grades.csv"
    out.parent.mkdir()
    out.write_text("learner,total\nearlier,1.00\n")  # an earlier gradebook the attacks try to rewrite
    watched = [klass, FIXTURES, ROOT / "solutions", ROOT / "kubelab"]
    before = fingerprints(watched)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KUBELAB_EXERCISE_PATH", str(FIXTURES / "exercises"))
        code = cli.main(["grade", str(klass), "--out", str(out), "--reference", str(FIXTURES / "reference"),
                         "--timeout", "10"])
    written = out.read_text()
    time.sleep(5)  # a process left behind would rewrite the gradebook 3 s after its cell ran
    return {"code": code, "rows": {r["learner"]: r for r in csv.DictReader(out.open())}, "written": written,
            "out": out, "before": before, "after": fingerprints(watched),
            "report": (out.parent / "grading-report.txt").read_text()}


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a not in REFUSED] + ["zz-late/good (duplicate)"])
def test_each_hostile_submission_earns_nothing(graded, attack):
    """Does every attack score 0 on every exercise (an untouched exercise notebook scores 0 too)?"""
    learner = attack.split("/")[0] if "/" not in attack else None
    if learner is None:  # the duplicate is not graded at all: learner good keeps the grade of good.ipynb
        assert "zz-late/good.ipynb is a second notebook for 99-gradingtest" in graded["rows"]["good"]["notes"]
        return
    row = graded["rows"][learner]
    assert (row["99-double"], row["99-web-labels"], row["total"]) == ("0.00", "0.00", "0.00"), row


@pytest.mark.parametrize("learner", sorted(REFUSED))
def test_files_that_are_not_notebooks_get_a_zero_row_with_the_reason(graded, learner):
    """Are the symlink, the FIFO, the folder and the invalid notebook each a zero row naming why?"""
    row = graded["rows"][learner]
    assert row["total"] == "0.00" and REFUSED[learner] in row["notes"]


def test_honest_learners_keep_their_grades(graded):
    """Do the honest learners graded beside the attacks get exactly what they get alone?"""
    rows = graded["rows"]
    assert (rows["good"]["99-double"], rows["good"]["99-web-labels"]) == ("1.00", "1.00")
    assert (rows["partial"]["99-double"], rows["partial"]["99-web-labels"]) == ("0.33", "0.50")


def test_no_file_changed_and_the_gradebook_is_the_graders(graded):
    """Are the class folder, the references, the solutions and kubelab byte-identical, the report clean, and
    the gradebook what the grader wrote (no process rewrote it afterwards)?"""
    assert graded["after"] == graded["before"]
    assert graded["out"].read_text() == graded["written"]
    assert "no reference, submitted or gradebook file changed while grading" in graded["report"]
    assert graded["code"] == 0


def test_the_gradebook_states_the_isolation(graded):
    """Does every row and the report name the sandbox that was in force?"""
    assert {r["isolation"] for r in graded["rows"].values()} == {"bubblewrap"}
    assert graded["report"].startswith("isolation: bubblewrap (")


def test_a_fork_bomb_is_capped_earns_nothing_and_the_next_learners_are_graded(graded):
    """Does the fork bomb (run as root too: the tree is dropped to uid 65534, where RLIMIT_NPROC binds) score 0,
    leave grading to finish, and leave the learners graded after it (good, partial) their grades? Its line in
    the report states the process cap that held."""
    row = graded["rows"]["fork-bomb"]
    assert row["total"] == "0.00"
    assert graded["rows"]["good"]["99-double"] == "1.00" and graded["rows"]["partial"]["99-double"] == "0.33"
    assert "256 processes (runs as uid" in graded["report"].splitlines()[0]
