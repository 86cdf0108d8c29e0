"""check() on an answer of the wrong shape (issue 15): every exercise of every chapter prints a FAIL table with a
message a learner can act on, never a raw `AttributeError: 'NoneType' object has no attribute 'get'`."""
import pytest

from kubelab.course.exercises import check, registered

CHAPTERS = ("00", "01", "02", "03", "04", "05", "06", "07", "08")
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
    """Are the 29 exercises of chapters 00-08 all registered (so the table below covers them)?"""
    assert len(EXERCISES) == 29


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
