"""Linkerd's retry budget for ServiceProfile routes marked isRetryable (spec.retryBudget: retryRatio,
minRetriesPerSecond, ttl; defaults 0.2, 10 and 10s), as the proxy keeps it per client and Service.

Sources: linkerd.io/2.19/reference/service-profiles (retryBudget, isRetryable), the proxy API's RetryBudget ("a
retry_ratio of 0.1 means that 1 retry may be attempted for every 10 regular requests"; "the proxy may always
attempt min_retries_per_second retries per second"; "ttl: for how long requests should be considered") and tower's
retry Budget, which linkerd2-proxy uses: every request deposits one token, a retry withdraws 1/retryRatio tokens,
a reserve of minRetriesPerSecond x ttl retries is always there, and deposits and withdrawals older than ttl are
forgotten. A retryable request is retried while its response is a failure (5xx) and the budget allows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .values import duration_ms

__all__ = ["RetryBudget", "retry_budget", "BudgetState", "DEFAULT_RETRY_BUDGET"]


@dataclass(frozen=True)
class RetryBudget:
    retry_ratio: float = 0.2
    min_retries_per_second: int = 10
    ttl_ms: float = 10000.0

    @property
    def withdrawal(self) -> int:
        """Tokens one retry costs: tower's 1/retry_ratio for ratios up to 1, else scaled by 1000."""
        if self.retry_ratio <= 0:
            return 1
        if self.retry_ratio <= 1:
            return int(1 / self.retry_ratio)
        return int(1000 / self.retry_ratio)

    @property
    def deposit(self) -> int:
        """Tokens one request adds (0 when the ratio is 0: only the reserve remains)."""
        if self.retry_ratio <= 0:
            return 0
        return 1 if self.retry_ratio <= 1 else 1000

    @property
    def reserve(self) -> int:
        """minRetriesPerSecond x ttl retries' worth of tokens, always available."""
        return int(self.min_retries_per_second * (self.ttl_ms // 1000) * self.withdrawal)

    def describe(self) -> str:
        return (f"retryBudget retryRatio {self.retry_ratio:g}, minRetriesPerSecond {self.min_retries_per_second}, "
                f"ttl {self.ttl_ms / 1000:g}s")


DEFAULT_RETRY_BUDGET = RetryBudget()


def retry_budget(spec: dict | None) -> RetryBudget:
    """spec.retryBudget with Linkerd's defaults for what it leaves out (no retryBudget: all defaults)."""
    spec = spec or {}
    ttl = duration_ms(spec["ttl"]) if spec.get("ttl") else None
    return RetryBudget(float(spec.get("retryRatio", 0.2)), int(spec.get("minRetriesPerSecond", 10)),
                       ttl if ttl is not None else 10000.0)


@dataclass
class BudgetState:
    """One client proxy's budget for one Service: token movements in the last ttl, and what it allowed."""

    moves: list = field(default_factory=list)          # (time ms, tokens): + deposits, - withdrawals
    retries: int = 0
    refused: int = 0

    def _balance(self, budget: RetryBudget, now: float) -> int:
        self.moves = [(t, n) for t, n in self.moves if t > now - budget.ttl_ms]
        return budget.reserve + sum(n for _, n in self.moves)

    def request(self, budget: RetryBudget, now: float) -> None:
        """An original request deposits its tokens."""
        self._balance(budget, now)
        if budget.deposit:
            self.moves.append((now, budget.deposit))

    def withdraw(self, budget: RetryBudget, now: float) -> bool:
        """May a retry start at `now`? Takes its tokens when it may."""
        if self._balance(budget, now) < budget.withdrawal:
            self.refused += 1
            return False
        self.moves.append((now, -budget.withdrawal))
        self.retries += 1
        return True
