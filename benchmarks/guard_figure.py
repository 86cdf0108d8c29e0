"""What the guard times: a Figure pairs kubelab's job with a reference doing the same job, at one size."""
from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Callable

__all__ = ["Figure", "timed"]


@dataclass
class Figure:
    """One figure at one size: kubelab's job and the reference's, each timed per `per` units of work."""

    subject: Callable[[], object]
    reference: Callable[[], object]
    per: int = 1                      # divide by this (per lookup, per query)
    reference_scale: float = 1.0      # multiply the reference's time by this (timed on a sample)
    min_time: float = 0.0             # loop each timing until it took this long (tiny jobs)
    close: Callable[[], None] = lambda: None
    setup: Callable[[], None] | None = None             # untimed, before each run of subject (a fresh lab)
    reference_setup: Callable[[], None] | None = None   # the same for the reference


def timed(fn, min_time: float = 0.0, per: int = 1, setup=None) -> float:
    """Seconds per unit of one run of fn(), looped until the runs took at least min_time; setup() runs
    untimed before each run. Garbage is collected first, so no run pays for what an earlier one left
    (a reference made slower by the subject's leftovers would make kubelab look faster)."""
    gc.collect()
    loops, spent = 0, 0.0
    while True:
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        spent += time.perf_counter() - start
        loops += 1
        if spent >= min_time:
            return spent / loops / per
