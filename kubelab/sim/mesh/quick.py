"""Faster constructors for the frozen dataclasses the mesh's data path makes for every request (HttpRequest,
AppRequest, CallResult, Hop): a frozen dataclass's __init__ sets each field through object.__setattr__, which costs
about as much as the rest of a hop; these build the same object with one assignment of its field dict.

quick_maker(cls) has the signature, defaults and default factories of cls; the objects it makes compare, hash and
print as cls(...) would. It refuses classes whose construction does more (__post_init__, slots, InitVar fields),
so a change to such a class fails at import instead of making a different object.
"""
from __future__ import annotations

import dataclasses
import inspect

__all__ = ["quick_maker"]


def quick_maker(cls):
    """A function cls(*args, **kwargs) would be, for a frozen dataclass without __post_init__ or slots."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or hasattr(cls, "__post_init__") or "__slots__" in cls.__dict__:
        raise TypeError(f"quick_maker: {cls.__name__} is not a plain frozen dataclass")
    fields = [f for f in dataclasses.fields(cls)]
    if any(not f.init for f in fields) or len(inspect.signature(cls).parameters) != len(fields):
        raise TypeError(f"quick_maker: {cls.__name__} has fields its __init__ does not take one to one")
    env = {"_new": object.__new__, "_set": object.__setattr__, "_cls": cls, "_MISSING": dataclasses.MISSING}
    params_text, values, kw_only = [], [], False
    for f in fields:
        if f.kw_only and not kw_only:
            params_text.append("*")
            kw_only = True
        if f.default is not dataclasses.MISSING:
            env[f"_d_{f.name}"] = f.default
            params_text.append(f"{f.name}=_d_{f.name}")
            values.append(f"{f.name!r}: {f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            env[f"_f_{f.name}"] = f.default_factory
            params_text.append(f"{f.name}=_MISSING")
            values.append(f"{f.name!r}: _f_{f.name}() if {f.name} is _MISSING else {f.name}")
        else:
            params_text.append(f.name)
            values.append(f"{f.name!r}: {f.name}")
    source = (f"def make({', '.join(params_text)}):\n"
              f"    obj = _new(_cls)\n"
              f"    _set(obj, '__dict__', {{{', '.join(values)}}})\n"
              f"    return obj\n")
    exec(source, env)                      # the same technique dataclasses use to write __init__
    make = env["make"]
    make.__name__ = make.__qualname__ = f"quick_{cls.__name__}"
    make.__doc__ = f"{cls.__name__}(...), made without a frozen __init__ (kubelab.sim.mesh.quick)"
    return make


def _makers():
    from ...net.apps import AppRequest, CallResult
    from ...net.http.model import HttpRequest
    from ...results import Hop
    return quick_maker(Hop), quick_maker(HttpRequest), quick_maker(AppRequest), quick_maker(CallResult)


make_hop, make_http_request, make_app_request, make_call_result = _makers()
__all__ += ["make_hop", "make_http_request", "make_app_request", "make_call_result"]
