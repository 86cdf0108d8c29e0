"""kubelab: a Kubernetes networking course's cluster, simulated or live, behind one Lab API."""
from __future__ import annotations

from .errors import (BackendError, ConflictError, KubelabError, ManifestError, NotFoundError,
                     ProbeError, UnknownKindError, ValidationError)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "KubelabError", "ManifestError", "ValidationError", "UnknownKindError", "ConflictError",
    "NotFoundError", "ProbeError", "BackendError",
]
