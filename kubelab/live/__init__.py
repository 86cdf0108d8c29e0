"""The live backend: the Lab contract on a real cluster (or `kubelab serve`) through the official
`kubernetes` client. Probes observe from inside pods; each carries the simulator's prediction."""
from .lab import LiveLab, MANAGED_BY_LABEL
from .observed import Disagreement, ObservedDnsAnswer, ObservedReachability, ObservedResponse, ObservedVerdict

__all__ = ["LiveLab", "MANAGED_BY_LABEL", "ObservedVerdict", "ObservedReachability", "Disagreement",
           "ObservedResponse", "ObservedDnsAnswer"]
