"""Check every pair of capstone faults that a draw may put together: both applied to the shop must break exactly
the union of their journeys, and fixing one must leave the other's ticket open. Run it after adding a fault
(about 4 minutes on 2 cores; the test suite checks 12 learners' whole draws instead).

    python tools/check_fault_pairs.py [--jobs 2]

A pair that interacts needs one fault's `masks` to name the other (so draws keep them apart), or a change to
the shop that separates them.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from concurrent.futures import ProcessPoolExecutor


def drawable_pairs():
    from kubelab.course.faults import FAULTS

    return [(a.id, b.id) for a, b in itertools.combinations(FAULTS, 2)
            if not set(a.breaks) & set(b.breaks) and not set(a.targets) & set(b.targets)
            and a.id not in b.masks and b.id not in a.masks]


def check(pair) -> str | None:
    """What is wrong with the pair, or None."""
    import kubelab
    from kubelab.course.faults import INVARIANTS, JOURNEYS, LAB_OPTIONS, by_id, shop_manifests

    a, b = by_id(pair[0]), by_id(pair[1])
    base = shop_manifests()
    lab = kubelab.connect("simulated", **LAB_OPTIONS)
    lab.apply(b.apply(a.apply(base)))
    everything = {**JOURNEYS, **INVARIANTS}
    broken = {name for name, j in everything.items() if not j.run(lab).ok}
    if broken != set(a.breaks) | set(b.breaks):
        return f"{a.id} + {b.id}: broken {sorted(broken)}, expected {sorted(set(a.breaks) | set(b.breaks))}"
    lab.apply(a.fix(base))
    if not a.is_fixed(lab) or b.is_fixed(lab):
        return f"{a.id} + {b.id}: after fixing {a.id}, fixed: {a.is_fixed(lab)} / {b.is_fixed(lab)}"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="processes to use (default 2)")
    args = parser.parse_args(argv)
    pairs = drawable_pairs()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        problems = [p for p in pool.map(check, pairs, chunksize=8) if p]
    print(f"{len(pairs)} drawable pairs checked: {len(problems)} interacting")
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
