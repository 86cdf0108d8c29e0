"""The troubleshooting capstone's faults (lesson 11): a working shop, the journeys that prove it works, and a
library of documented ways it breaks.

    from kubelab.course.faults import FAULTS, shop_manifests, LAB_OPTIONS
    broken = FAULTS[0].apply(shop_manifests())
"""
from .fault import Fault, key
from .library import FAULTS, LAYERS, by_id
from .shop import INVARIANTS, JOURNEYS, LAB_OPTIONS, Journey, Outcome, probe_pod, shop_manifests

__all__ = ["Fault", "FAULTS", "LAYERS", "by_id", "key", "shop_manifests", "LAB_OPTIONS", "JOURNEYS", "INVARIANTS",
           "Journey", "Outcome", "probe_pod"]
