"""What a client proxy does around one upstream request: fault injection, retries with Envoy's jittered
back-off, per-try and route timeouts.

Sources: Istio pilot/pkg/networking/core/route/retry/retry.go (the default policy and retryOn parsing), the
VirtualService reference (HTTPRetry, HTTPFaultInjection), and Envoy's router filter (x-envoy-retry-on,
back-off "randomly chosen from [0, (2^N-1) * 25ms]", capped at 250 ms).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..shares import even_draw
from .values import duration_ms, percentage

__all__ = ["RetryPolicy", "retry_policy", "should_retry", "backoff_ms", "fault_decision", "FaultDecision",
           "DEFAULT_RETRY_ON", "CONNECT_FAILURE"]

# Istio >= 1.24: retriable-status-codes is listed but no status code is (EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY)
DEFAULT_RETRY_ON = ("connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes")
BASE_INTERVAL_MS = 25
MAX_INTERVAL_MS = 250
CONNECT_FAILURE = -1          # a "status" standing for a failed connection (no HTTP answer at all)
RESET = -2                    # a connection reset after it was established (e.g. mTLS refused)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int                           # retries, so up to 1 + attempts requests
    retry_on: tuple
    status_codes: tuple = ()
    per_try_timeout_ms: float | None = None
    source: str = "Istio's default retry policy"
    budgeted: bool = False                  # no count: a retry budget decides (Linkerd's isRetryable routes)
    retry_timeouts: bool = False            # a per-try timeout is retried whatever retry_on says (Linkerd)

    def describe(self) -> str:
        codes = f", status codes {list(self.status_codes)}" if self.status_codes else ""
        per_try = f", perTryTimeout {self.per_try_timeout_ms:g} ms" if self.per_try_timeout_ms else ""
        count = "retries while the budget allows" if self.budgeted else f"{self.attempts} retries"
        return f"{self.source}: {count} on {','.join(self.retry_on)}{codes}{per_try}"


def retry_policy(retries: dict | None) -> RetryPolicy:
    """ConvertPolicy: no `retries` -> the default policy (2 retries on connect-failure, refused-stream,
    unavailable, cancelled, retriable-status-codes with no codes); attempts 0 -> no retries; retryOn entries that
    are integers become retriable status codes."""
    if retries is None:
        return RetryPolicy(2, DEFAULT_RETRY_ON)
    attempts = int(retries.get("attempts", 0) or 0)
    if attempts == 0:
        return RetryPolicy(0, (), source="retries.attempts 0 (retries off)")
    on, codes = [], []
    text = retries.get("retryOn")
    for part in (str(text).split(",") if text else list(DEFAULT_RETRY_ON)):
        part = part.strip()
        if part.isdigit():
            codes.append(int(part))
        elif part:
            on.append(part)
    if codes and "retriable-status-codes" not in on:
        on.append("retriable-status-codes")
    per_try = duration_ms(retries["perTryTimeout"]) if retries.get("perTryTimeout") else None
    return RetryPolicy(attempts, tuple(on), tuple(codes), per_try, source="the route's retries")


def should_retry(policy: RetryPolicy, status: int, method: str = "GET") -> bool:
    """x-envoy-retry-on: 5xx (any 5xx, or no answer), gateway-error (502/503/504), connect-failure and
    refused-stream / reset (no answer), retriable-4xx (409), retriable-status-codes (the listed codes)."""
    on = set(policy.retry_on)
    if status == CONNECT_FAILURE:
        return bool(on & {"5xx", "gateway-error", "connect-failure", "reset", "reset-before-request"})
    if status == RESET:
        return bool(on & {"5xx", "reset"})
    if "5xx" in on and 500 <= status <= 599:
        return True
    if "gateway-error" in on and status in (502, 503, 504):
        return True
    if "retriable-4xx" in on and status == 409:
        return True
    if "retriable-status-codes" in on and status in policy.status_codes:
        return True
    return False


def backoff_ms(retry_number: int, rng) -> int:
    """Envoy's jittered exponential back-off before retry N (1-based): uniform in [0, (2^N - 1) * 25 ms], at most
    250 ms."""
    ceiling = min((2 ** retry_number - 1) * BASE_INTERVAL_MS, MAX_INTERVAL_MS)
    return int(rng.random() * ceiling)


@dataclass(frozen=True)
class FaultDecision:
    delay_ms: float = 0.0
    abort_status: int | None = None
    why: str = ""


def fault_decision(fault: dict | None, rng, point="fault") -> FaultDecision:
    """HTTPFaultInjection applied by the client's proxy: a delay and/or an abort, each on `percentage` of the
    requests; an unset percentage injects into no request ("If not specified, no request will be aborted").
    `point` names the route (see kubelab.net.shares)."""
    if not fault:
        return FaultDecision()
    delay_ms, abort, notes = 0.0, None, []
    delay = fault.get("delay")
    if delay and "fixedDelay" in delay:
        share = percentage(delay.get("percentage"), 0.0) if "percentage" in delay \
            else float(delay.get("percent", 0)) / 100.0
        if share > 0 and even_draw(rng, (point, "delay"), rng.random()) < share:
            delay_ms = duration_ms(delay["fixedDelay"]) or 0.0
            notes.append(f"delayed {delay['fixedDelay']} ({share:.0%} of requests)")
        else:
            notes.append(f"no delay this time ({share:.0%} of requests are delayed)")
    abort_spec = fault.get("abort")
    if abort_spec and "httpStatus" in abort_spec:
        share = percentage(abort_spec.get("percentage"), 0.0)
        if share > 0 and even_draw(rng, (point, "abort"), rng.random()) < share:
            abort = int(abort_spec["httpStatus"])
            notes.append(f"aborted with {abort} ({share:.0%} of requests)")
        else:
            notes.append(f"no abort this time ({share:.0%} of requests are aborted)")
    return FaultDecision(delay_ms, abort, "fault injection: " + "; ".join(notes) if notes else "")
