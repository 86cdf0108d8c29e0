"""The kubelab error hierarchy: every learner mistake becomes one of these.

Messages name the object (``Kind namespace/name``), the field path and what to change, in the
API server's style: ``Service default/web: spec.ports[0].nodePort: 80 is outside 30000-32767``.
"""
from __future__ import annotations

__all__ = [
    "KubelabError",
    "ManifestError",
    "ValidationError",
    "UnknownKindError",
    "ConflictError",
    "NotFoundError",
    "ProbeError",
    "BackendError",
]


def object_ref(kind: str, name: str | None, namespace: str | None = None) -> str:
    """``Kind ns/name`` (or ``Kind name`` for cluster-scoped objects) as messages show it."""
    name = name or "<unnamed>"
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


class KubelabError(Exception):
    """Base class of every error kubelab raises on purpose."""


class ManifestError(KubelabError):
    """The text or structure handed to apply() is not a Kubernetes object at all (bad YAML, not a mapping)."""


class ValidationError(KubelabError):
    """An object is well-formed but the API server would reject a field of it."""

    def __init__(self, obj_ref: str, field: str, problem: str, fix: str | None = None):
        self.object = obj_ref
        self.field = field
        self.problem = problem
        self.fix = fix
        message = f"{obj_ref}: {field}: {problem}"
        if fix:
            message += f" ({fix})"
        super().__init__(message)


class UnknownKindError(ValidationError):
    """apiVersion/kind names no kind that kubelab (or the cluster) knows."""


class ConflictError(ValidationError):
    """The object asks for something another object already holds (an IP, a NodePort)."""


class NotFoundError(KubelabError):
    """get/delete/probe named an object that does not exist."""


class ProbeError(KubelabError):
    """A reach/trace/resolve call names a source or destination kubelab cannot interpret."""


class BackendError(KubelabError):
    """The chosen backend cannot be used (no kubeconfig, unknown backend name, unsupported option)."""
