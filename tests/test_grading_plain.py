"""The answer bridge's plain data: only exact built-in types cross, tuples survive, nothing else does."""
import pytest

from kubelab.course.plain import NotPlain, dumps, from_plain, loads, to_plain


@pytest.mark.parametrize("value", [None, True, 3, 2.5, "x", [1, "a"], ("a", ("b", 1)), {"k": [None, {"n": (1,)}]}])
def test_plain_values_round_trip(value):
    """Does every plain value come back equal and of the same types, tuples included?"""
    assert loads(dumps(value)) == value and type(loads(dumps(value))) is type(value)


class AlwaysEqual(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


@pytest.mark.parametrize("value", [AlwaysEqual("x"), [AlwaysEqual("x")], {"k": object()}, {1: "int key"},
                                   float("nan"), {"$tuple": [1]}, lambda: None])
def test_anything_else_is_refused(value):
    """Are a str subclass with a lying ==, objects, non-str keys, NaN and a forged tuple tag refused?"""
    with pytest.raises(NotPlain):
        to_plain(value)


def test_deep_nesting_is_refused():
    """Is a value nested deeper than the limit refused rather than recursing without bound?"""
    value: list = []
    for _ in range(200):
        value = [value]
    with pytest.raises(NotPlain):
        to_plain(value)
    assert from_plain([[1]]) == [[1]]
