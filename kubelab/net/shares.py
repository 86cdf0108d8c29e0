"""Per-request draws for a configured share: a weighted split (VirtualService, HTTPRoute, Linkerd HTTPRoute), a
fault's percentage, a mirror's fraction, a canary's weight.

The proxies draw a random number per request, so a share shows only on average. The simulator keeps each
decision point's draws evenly spread instead: the n-th draw of a point is frac(u0 + n * step), where u0 is the
point's first draw from the lab's seeded generator and step an irrational of its own (the fractional part of the
square root of a prime, a Kronecker sequence). Over N requests each outcome then comes up within two or three
requests of its share (independent draws stray by about the square root of N), as a learner who sends 10
requests to a 70/30 split expects to see about 7 and 3; and points with different steps do not move in lockstep
(a 50 % fault and a 50/50 split stay independent).

Each call still takes exactly the draw the caller made from the generator, so everything else that draws from
it (endpoint choice, retry back-off, request ids) sees the same numbers.
"""
from __future__ import annotations

import math
import weakref

__all__ = ["even_draw"]

# generator -> decision point -> (first draw, draws so far, step)
_POINTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def even_draw(rng, point, drawn: float) -> float:
    """A number in [0, 1) for this request at decision point `point` (any hashable naming it, stable from one
    request to the next), given `drawn`, the number in [0, 1) the caller just drew from `rng` for it."""
    points = _POINTS.setdefault(rng, {})
    first, count, step = points.get(point) or (drawn, 0, _step(len(points)))
    points[point] = (first, count + 1, step)
    return (first + count * step) % 1.0


def _step(index: int) -> float:
    """The index-th decision point's step: frac(sqrt(p)) for the index-th prime (1, and these, are linearly
    independent over the rationals, so the points' draws are jointly evenly spread too)."""
    root = math.sqrt(_prime(index))
    return root - math.floor(root)


def _prime(index: int) -> int:
    while len(_PRIMES) <= index:
        candidate = _PRIMES[-1] + 2
        while any(candidate % p == 0 for p in _PRIMES if p * p <= candidate):
            candidate += 2
        _PRIMES.append(candidate)
    return _PRIMES[index]


_PRIMES = [2, 3]
