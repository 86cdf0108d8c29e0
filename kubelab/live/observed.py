"""Live results: what a probe observed on the cluster, set beside what the simulator predicts for the
same cluster state, so a learner can see where the simulator (or the CNI) differs."""
from __future__ import annotations

from dataclasses import dataclass

from ..net.dns.answer import DnsAnswer
from ..results import Reachability, Response, Verdict

__all__ = ["ObservedVerdict", "ObservedReachability", "Disagreement", "ObservedResponse", "ObservedDnsAnswer"]


@dataclass(frozen=True)
class ObservedVerdict(Verdict):
    """A Verdict observed on the cluster; `.predicted` is the simulator's Verdict for the same probe."""

    predicted: Verdict | None = None

    @property
    def agrees(self) -> bool | None:
        """True when the simulator predicted the same answer (None: no prediction was possible)."""
        return None if self.predicted is None else bool(self.predicted) == self.allowed

    def __str__(self) -> str:
        text = Verdict.__str__(self)
        if self.predicted is not None:
            word = "ALLOWED" if self.predicted.allowed else "BLOCKED"
            text += f"\n  predicted: {word} ({'agrees' if self.agrees else 'DISAGREES'}): {self.predicted.reason}"
        return text

    __repr__ = __str__


@dataclass(frozen=True)
class Disagreement:
    """One cell where observation and prediction differ, with each side's reason."""

    src: str
    dst: str
    observed: bool
    predicted: bool
    observed_reason: str
    predicted_reason: str

    def __str__(self) -> str:
        word = {True: "allowed", False: "denied"}
        return (f"{self.src} -> {self.dst}: observed {word[self.observed]} ({self.observed_reason}); "
                f"predicted {word[self.predicted]} ({self.predicted_reason})")


class ObservedReachability(Reachability):
    """A matrix probed on the cluster. `.predicted` is the simulator's matrix for the same state;
    `.diff()` with no argument lists the cells where they disagree."""

    def __init__(self, *args, predicted: Reachability | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.predicted = predicted

    def diff(self, other: Reachability | None = None):
        if other is not None:
            return super().diff(other)
        if self.predicted is None:
            return ()
        out = []
        for s in self.sources:
            for d in self.destinations:
                try:
                    predicted = self.predicted[s, d]
                except KeyError:
                    continue
                if predicted is not None and self[s, d] is not None and predicted != self[s, d]:
                    out.append(Disagreement(s, d, self[s, d], predicted, self.reason(s, d) or "",
                                            self.predicted.reason(s, d) or ""))
        return tuple(out)


@dataclass(frozen=True)
class ObservedResponse(Response):
    """An HTTP response a pod got (curl through exec); `.predicted` is the simulator's Response."""

    predicted: Response | None = None

    @property
    def agrees(self) -> bool | None:
        return None if self.predicted is None else self.predicted.status == self.status


@dataclass(frozen=True)
class ObservedDnsAnswer(DnsAnswer):
    """A lookup a pod made (nslookup through exec); `.predicted` is the simulator's DnsAnswer."""

    predicted: DnsAnswer | None = None

    @property
    def agrees(self) -> bool | None:
        return None if self.predicted is None else sorted(self.predicted.addresses) == sorted(self.addresses)
