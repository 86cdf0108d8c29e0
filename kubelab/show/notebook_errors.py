"""kubelab's errors in a notebook: the message alone (what, where, fix), not 30-60 lines of traceback
through kubelab's internals. The full traceback stays one call away: ``%tb``.

Registered with IPython's custom exception hook when kubelab is imported inside IPython; other
exceptions (the learner's own bugs) keep IPython's usual traceback.
"""
from __future__ import annotations

import sys

__all__ = ["install", "uninstall", "short_traceback", "TB_HINT"]

TB_HINT = "(kubelab hid its own frames; run %tb for the full traceback)"


def short_traceback(etype, value) -> list[str]:
    """The lines shown for a kubelab error: `Type: message` (red, as IPython shows exception names) and the hint."""
    return [f"\x1b[0;31m{etype.__name__}\x1b[0m: {value}", TB_HINT]


def _show(shell, etype, value, tb, tb_offset=None):
    # %tb and %debug read the last exception from here, so the whole traceback is still one call away
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    if hasattr(sys, "last_exc"):
        sys.last_exc = value
    stb = short_traceback(etype, value)
    shell._showtraceback(etype, value, stb)   # the kernel sends it as the cell's error output
    return stb


def install(shell=None) -> bool:
    """Show KubelabErrors as their message in this IPython session; True when a shell was found."""
    from ..errors import KubelabError

    if shell is None:
        ipython = sys.modules.get("IPython")   # never import IPython just to look: plain Python stays light
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if KubelabError in getattr(shell, "custom_exceptions", ()):
        return True
    if getattr(shell, "custom_exceptions", ()):
        return False   # someone else's handler is in place: leave it alone
    shell.set_custom_exc((KubelabError,), _show)
    return True


def uninstall(shell=None) -> None:
    """Back to IPython's full tracebacks for kubelab errors too."""
    from ..errors import KubelabError

    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and KubelabError in getattr(shell, "custom_exceptions", ()):
        shell.set_custom_exc((), None)
