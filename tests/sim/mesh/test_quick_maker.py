"""The mesh's fast constructors make the very objects the dataclasses' own constructors make."""
from __future__ import annotations

import dataclasses
import inspect

import pytest

from kubelab.net.apps import AppRequest, CallResult
from kubelab.net.http.model import HttpRequest
from kubelab.results import Hop, Response
from kubelab.sim.mesh.quick import (make_app_request, make_call_result, make_hop, make_http_request,
                                    quick_maker)

CASES = [
    (Hop, make_hop, ("pod a/b", "istio-proxy", "route"), {"detail": "x"}),
    (HttpRequest, make_http_request, ("GET", "http", "h", "/p?q=1", 80), {"headers": (("Host", "h"),)}),
    (AppRequest, make_app_request, ("GET", "h", "/p", (("a", "b"),), "", "10.0.0.1", 8080), {"call": print}),
    (CallResult, make_call_result, (200, "ok", 5), {}),
]


@pytest.mark.parametrize("cls, make, args, kwargs", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_same_object_as_the_constructor(cls, make, args, kwargs):
    made, built = make(*args, **kwargs), cls(*args, **kwargs)
    assert type(made) is cls and made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert vars(made) == vars(built)
    assert inspect.signature(make).parameters.keys() == inspect.signature(cls).parameters.keys()
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.__setattr__(dataclasses.fields(cls)[0].name, None)


def test_defaults_and_factories_are_fresh():
    @dataclasses.dataclass(frozen=True)
    class Thing:
        a: int
        items: list = dataclasses.field(default_factory=list)
        b: str = "x"
    make = quick_maker(Thing)
    one, two = make(1), make(2, b="y")
    assert (one, two) == (Thing(1), Thing(2, b="y")) and one.items is not two.items


def test_classes_that_do_more_are_refused():
    """Response converts its headers in __post_init__: a quick maker would skip that, so there is none."""
    with pytest.raises(TypeError):
        quick_maker(Response)
    with pytest.raises(TypeError):
        quick_maker(dict)
