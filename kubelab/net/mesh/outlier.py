"""Outlier detection as a client proxy runs it for one cluster (DestinationRule trafficPolicy.outlierDetection,
Envoy's consecutive_5xx detector): a host answering consecutive5xxErrors 5xx in a row (connection failures count
too) is ejected for baseEjectionTime x the number of times it was ejected, as long as no more than
maxEjectionPercent of the hosts are out (Envoy ejects at least one regardless).

Istio defaults when the block is present: consecutive5xxErrors 5, interval 10s, baseEjectionTime 30s,
maxEjectionPercent 10 (the DestinationRule reference, OutlierDetection).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .values import duration_ms

__all__ = ["OutlierPolicy", "OutlierDetector", "outlier_policy"]


@dataclass(frozen=True)
class OutlierPolicy:
    consecutive_5xx: int = 5
    consecutive_gateway: int | None = None
    base_ejection_ms: float = 30000
    max_ejection_percent: int = 10


def outlier_policy(spec: dict | None) -> OutlierPolicy | None:
    """The DestinationRule's outlierDetection with Istio's defaults; None when the rule has none."""
    if spec is None:
        return None
    five = spec.get("consecutive5xxErrors", spec.get("consecutiveErrors", 5))
    return OutlierPolicy(int(five) if five is not None else 5,
                         int(spec["consecutiveGatewayErrors"]) if spec.get("consecutiveGatewayErrors") else None,
                         duration_ms(spec.get("baseEjectionTime", "30s")) or 30000.0,
                         int(spec.get("maxEjectionPercent", 10)))


@dataclass
class _Host:
    consecutive_5xx: int = 0
    consecutive_gateway: int = 0
    ejections: int = 0
    ejected_until: float = -1.0


@dataclass
class OutlierDetector:
    """One client proxy's view of one cluster's hosts."""

    hosts: dict = field(default_factory=dict)

    def ejected(self, host: str, now_ms: float) -> bool:
        state = self.hosts.get(host)
        return state is not None and now_ms < state.ejected_until

    def report(self, policy: OutlierPolicy, host: str, status: int, total_hosts: int, now_ms: float) -> str | None:
        """Count one answer from `host` (status < 0: the connection failed); the ejection it causes, if any."""
        state = self.hosts.setdefault(host, _Host())
        failed = status < 0 or status >= 500
        gateway = status < 0 or status in (502, 503, 504)
        state.consecutive_5xx = state.consecutive_5xx + 1 if failed else 0
        state.consecutive_gateway = state.consecutive_gateway + 1 if gateway else 0
        tripped = (policy.consecutive_5xx and state.consecutive_5xx >= policy.consecutive_5xx) or \
            (policy.consecutive_gateway and state.consecutive_gateway >= policy.consecutive_gateway)
        if not tripped or self.ejected(host, now_ms):
            return None
        out = sum(1 for h, s in self.hosts.items() if h != host and now_ms < s.ejected_until)
        if out and 100 * (out + 1) / max(total_hosts, 1) > policy.max_ejection_percent:
            return None
        state.ejections += 1
        state.ejected_until = now_ms + policy.base_ejection_ms * state.ejections
        state.consecutive_5xx = state.consecutive_gateway = 0
        return (f"outlier detection ejects {host} for {policy.base_ejection_ms * state.ejections / 1000:g} s "
                f"(ejection {state.ejections})")
