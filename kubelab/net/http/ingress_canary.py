"""ingress-nginx canary Ingresses (nginx.ingress.kubernetes.io/canary: "true"): which requests the canary takes.

A canary Ingress is not routed on its own: its backend is an alternative for the main Ingress's location with the
same host and path, and a canary whose host and path no main Ingress has is skipped. Per request the rules are
tried in the documented order: canary-by-header (or its -value / -pattern), canary-by-cookie, canary-weight.
https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#canary
"""
from __future__ import annotations

import random
import re

from ..shares import even_draw
from .model import HttpRequest

__all__ = ["CANARY", "is_canary", "canary_takes"]

CANARY = "nginx.ingress.kubernetes.io/canary"
_P = CANARY + "-"


def is_canary(ingress: dict) -> bool:
    """annotations.md#canary: an Ingress is a canary when nginx.ingress.kubernetes.io/canary is "true"."""
    return ((ingress.get("metadata") or {}).get("annotations") or {}).get(CANARY) == "true"


def _cookie(request: HttpRequest, name: str) -> str | None:
    for part in (request.header("Cookie") or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value
    return None


def canary_takes(annotations: dict, request: HttpRequest, rng: random.Random) -> tuple[bool, str]:
    """annotations.md#canary: header (always / never, or the -value / -pattern it must equal / match), then cookie
    (always / never), then weight out of canary-weight-total (default 100); any other value falls through."""
    header = annotations.get(_P + "by-header")
    if header:
        got = request.header(header)
        wanted, pattern = annotations.get(_P + "by-header-value"), annotations.get(_P + "by-header-pattern")
        if wanted:
            if got == wanted:
                return True, f"header {header}: {got} equals canary-by-header-value"
        elif pattern:
            if got is not None and re.search(pattern, got):
                return True, f"header {header}: {got} matches canary-by-header-pattern {pattern}"
        elif got in ("always", "never"):
            return got == "always", f"header {header}: {got}"
    cookie = annotations.get(_P + "by-cookie")
    if cookie:
        got = _cookie(request, cookie)
        if got in ("always", "never"):
            return got == "always", f"cookie {cookie}={got}"
    weight = int(annotations.get(_P + "weight") or 0)
    total = int(annotations.get(_P + "weight-total") or 100)
    # balancer.lua: math.random(total) <= weight, so 0 never and total always; draws kept evenly spread per
    # canary (kubelab.net.shares)
    first = (rng.randint(1, total) - 0.5) / total
    drawn = int(even_draw(rng, ("canary", tuple(sorted(annotations.items()))), first) * total) + 1
    return drawn <= weight, f"canary-weight {weight}/{total} (drew {drawn})"
