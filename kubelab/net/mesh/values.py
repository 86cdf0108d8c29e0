"""Small value parsers shared by the mesh rules: durations, host names, percentages."""
from __future__ import annotations

import re

__all__ = ["duration_ms", "fqdn", "host_matches", "percentage", "DURATION"]

DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns))+$")
_UNITS = {"h": 3600000.0, "m": 60000.0, "s": 1000.0, "ms": 1.0, "us": 0.001, "µs": 0.001, "ns": 0.000001}


def duration_ms(text) -> float | None:
    """A protobuf Duration as Istio writes it ("1.5s", "500ms", "1m"); None when it is not one."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return None
    text = str(text).strip()
    if not text or not DURATION.match(text):
        return None
    return sum(float(n) * _UNITS[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)", text))


def fqdn(host: str, namespace: str, domain: str = "cluster.local") -> str:
    """A short Service name in a VirtualService/DestinationRule means the Service in the config's own namespace
    ("reviews" in default -> reviews.default.svc.cluster.local); names with dots are taken as written."""
    host = str(host).lower().rstrip(".")
    if host == "*" or host.startswith("*."):
        return host
    if "." not in host:
        return f"{host}.{namespace}.svc.{domain}"
    parts = host.split(".")
    if len(parts) == 2:                                   # "reviews.default"
        return f"{host}.svc.{domain}"
    if len(parts) == 3 and parts[2] == "svc":             # "reviews.default.svc"
        return f"{host}.{domain}"
    return host


def host_matches(pattern: str, host: str) -> bool:
    """Istio host matching: exact, or a "*." wildcard covering any deeper name; "*" matches every host."""
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return pattern == host


def percentage(spec: dict | None, default: float = 0.0) -> float:
    """A Percent ({value: 12.5}) as a fraction 0..1; unset -> `default`."""
    if not isinstance(spec, dict) or "value" not in spec:
        return default
    try:
        return max(0.0, min(100.0, float(spec["value"]))) / 100.0
    except (TypeError, ValueError):
        return default
