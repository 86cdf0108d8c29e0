"""check() on an answer of the wrong shape (issue 15): every exercise of every chapter prints a FAIL table with a
message a learner can act on, never a raw `AttributeError: 'NoneType' object has no attribute 'get'`."""
from pathlib import Path

import pytest

import kubelab.course.exercises as exercises_package
from kubelab.course.exercises import check, registered

# every chapter with an exercise module (chNN_*.py), so a new chapter is covered without editing this list
CHAPTERS = tuple(sorted({p.name[2:4] for p in Path(exercises_package.__file__).parent.glob("ch[0-9][0-9]_*.py")}))
EXERCISES = sorted(e.id for chapter in CHAPTERS for e in registered(chapter))
WRONG_SHAPES = {
    "None": None,
    "an empty string": "",
    "a Pod with an empty spec": "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n",
    "an empty dict": {},
    "a number": 42,
    "a list holding None": [None],
    "a function of no arguments": lambda: None,
}


def test_every_chapter_registers_its_exercises():
    """Are the 42 exercises of chapters 00-11 all registered (so the table below covers them)?"""
    assert CHAPTERS == tuple(f"{n:02d}" for n in range(12))
    assert all(registered(chapter) for chapter in CHAPTERS)
    assert len(EXERCISES) == 42       # 00-08: 30 (with 03-nft-endpoints); 09: 6; 10: 5; 11: 1


@pytest.mark.parametrize("exercise_id", EXERCISES)
@pytest.mark.parametrize("shape", sorted(WRONG_SHAPES))
def test_a_wrong_shape_gives_a_clear_fail(exercise_id, shape):
    """Does the answer fail with no credit and no raw Python error message in the table?"""
    result = check(exercise_id, WRONG_SHAPES[shape])
    text = str(result) + result._repr_html_()
    assert result.passed == 0 and not result
    assert "[FAIL]" in text
    for raw in ("object has no attribute", "'NoneType'", "is not subscriptable", "is not iterable", "Traceback"):
        assert raw not in text, text
