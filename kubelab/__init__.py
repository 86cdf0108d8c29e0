"""kubelab: a Kubernetes networking course's cluster, simulated or live, behind one Lab API.

    import kubelab
    lab = kubelab.connect()            # a simulated cluster, nothing to install
    lab.apply(manifests); lab.reach("default/a", "web", port=80)

Heavy modules (matplotlib, the kubernetes client, ipywidgets) load only when used.
"""
from __future__ import annotations

from .errors import (BackendError, ConflictError, KubelabError, ManifestError, NotFoundError,
                     ProbeError, UnknownKindError, ValidationError)
from .lab import Lab, connect
from .results import ApplyResult, Hop, Response, Trace, Verdict
from . import _aliases

_aliases.install()


def _show_errors_briefly_in_ipython() -> None:
    """Inside IPython/Jupyter, kubelab errors print as their one-line message (%tb shows the rest)."""
    import os

    if "IPython" in __import__("sys").modules and not os.environ.get("KUBELAB_FULL_TRACEBACKS"):
        from .show.notebook_errors import install
        install()


_show_errors_briefly_in_ipython()

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "connect", "Lab", "check", "capstone",
    "Verdict", "Trace", "Hop", "Response", "ApplyResult",
    "KubelabError", "ManifestError", "ValidationError", "UnknownKindError", "ConflictError",
    "NotFoundError", "ProbeError", "BackendError",
]


def check(exercise_id: str, answer=None):
    """Grade one exercise: builds a fresh cluster, applies `answer`, probes it, reports each sub-check."""
    from .course.exercises import check as _check
    return _check(exercise_id, answer)


def capstone(learner_id: str, level: int = 2):
    """Lesson 11: your own broken shop, 3-5 faults drawn from your learner id (see kubelab.course.capstone)."""
    from .course.capstone import capstone as _capstone
    return _capstone(learner_id, level)
