"""Per-object memos for controllers that walk every object on each reconcile.

Stored objects are replaced, never mutated, so what a controller derived from an object stays right while
the same object (by identity) comes back: a reconcile after one pod changed recomputes that pod only.
"""
from __future__ import annotations

__all__ = ["by_identity", "remember"]

MAX_ENTRIES = 200_000   # a memo is cleared when it grows past this (objects come and go over a session)


def by_identity(memo: dict | None, objects: tuple, extra, compute, *args):
    """compute(*args), remembered in `memo` under the identity of `objects` (plus the hashable `extra`).

    The objects are held in the entry, so their ids are not reused while it exists. Without a memo
    (None), compute(*args) is simply called. An entry is two flat tuples (a large cluster holds one per
    pod, and every container object is one more for the garbage collector to walk)."""
    if memo is None:
        return compute(*args)
    key = (*map(id, objects), extra)
    hit = memo.get(key)
    if hit is not None:
        for held, obj in zip(hit, objects):   # a plain loop: no generator per lookup (10,000s per reconcile)
            if held is not obj:
                break
        else:
            return hit[-1]
    value = compute(*args)
    if len(memo) >= MAX_ENTRIES:
        memo.clear()
    memo[key] = (*objects, value)
    return value


def remember(memo: dict | None, objects: tuple, extra, value) -> None:
    """Record `value` as what by_identity(memo, objects, extra, ...) returns, when the caller already has it."""
    if memo is None:
        return
    if len(memo) >= MAX_ENTRIES:
        memo.clear()
    memo[(*map(id, objects), extra)] = (*objects, value)
