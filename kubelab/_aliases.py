"""Old flat module names (``kubelab.viz``, ``kubelab.exercises``, ...) kept importable after the move into
``api/``, ``show/``, ``course/`` and ``serve/``: lessons and learners' notebooks import them.

An alias is the very module object of its new home (no second copy, so registries are not built twice).
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

# old name -> new home; a prefix match also covers submodules (kubelab.exercises.ch08_network_policies)
ALIASES = {
    "kubelab.kinds": "kubelab.api.kinds",
    "kubelab.manifests": "kubelab.api.manifests",
    "kubelab.schema": "kubelab.api.schema",
    "kubelab.viz": "kubelab.show.viz",
    "kubelab.widgets": "kubelab.show.widgets",
    "kubelab.netpol_widgets": "kubelab.show.netpol_widgets",
    "kubelab.exercises": "kubelab.course.exercises",
    "kubelab.grading": "kubelab.course.grading",
    "kubelab.release": "kubelab.course.release",
    "kubelab.dnsserver": "kubelab.serve.dns",
    "kubelab.reachability": "kubelab.results",
}


def new_home(fullname: str) -> str | None:
    """The module an old name now lives in, or None when the name is not an old one."""
    for old, new in ALIASES.items():
        if fullname == old or fullname.startswith(old + "."):
            return new + fullname[len(old):]
    return None


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if new_home(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(new_home(spec.name))
        self._own_spec = module.__spec__   # the import system overwrites __spec__ with the alias's
        return module

    def exec_module(self, module):
        """Nothing to run (the module was executed under its new name); give it back its own spec."""
        module.__spec__ = self._own_spec


def install() -> None:
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
