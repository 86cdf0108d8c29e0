"""What the EndpointSlice controller remembers of each Service's last reconcile, so the next one reads only the
pods that changed since (from the store's change log): after one pod of a 10,000-endpoint Service changed, the
100 slices that do not hold it are kept without being read."""
from __future__ import annotations

from ..net.endpointslices import reconcile_changed_pods, reconcile_endpointslices
from ..net.objects import name_of, namespace_of
from .store import Store

__all__ = ["SliceViews"]


class _Last:
    """One Service's last reconcile: its inputs (by identity), where the pod log was, what it recorded."""

    def __init__(self, service: dict, nodes: list[dict], max_eps: int, cursor: tuple, seen: dict, result: list):
        self.service, self.nodes, self.max_eps = service, tuple(nodes), max_eps
        self.cursor, self.seen, self.result = cursor, seen, result
        self.stored: tuple = ()


def _same(held: tuple, objects: list) -> bool:
    return len(held) == len(objects) and all(a is b for a, b in zip(held, objects))


class SliceViews:
    """Per Service: the last reconcile's result and what reconcile_changed_pods needs to go on from it."""

    def __init__(self, store: Store):
        self.store = store
        self._last: dict[tuple, _Last] = {}

    def desired(self, service: dict, existing: list[dict], nodes: list[dict], pods, max_eps: int, memo: dict,
                cursor: tuple) -> list[dict]:
        """reconcile_endpointslices(service, pods(), existing, ...), where the pods (the Service's selected
        pods, in name order) are read (pods() called) only when the last reconcile cannot be carried on from
        the changed pods. `cursor`: the pod log's, as of the pods the controller sees."""
        key = (namespace_of(service), name_of(service))
        last = self._last.get(key)
        if last is not None and last.service is service and last.max_eps == max_eps \
                and _same(last.nodes, nodes) and _same(last.stored, existing):
            changed = self.store.changed_since("Pod", last.cursor)
            if changed is not None:
                prefix = f"{key[0]}/"
                changed = {k: self.store.get("Pod", k) for k in set(changed) if k.startswith(prefix)}
                result = reconcile_changed_pods(service, existing, changed, last.seen, max_endpoints_per_slice=max_eps,
                                                nodes=nodes, memo=memo) if changed else last.result
                if result is not None:
                    last.cursor, last.result = cursor, result
                    return result
        seen: dict = {}
        result = reconcile_endpointslices(service, pods(), existing, nodes=nodes, max_endpoints_per_slice=max_eps,
                                          memo=memo, seen=seen, selected=True)
        self._last[key] = _Last(service, nodes, max_eps, cursor, seen, result)
        return result

    def stored(self, service: dict) -> None:
        """The controller has stored what desired() returned for the Service: remember the stored objects (the
        next reconcile carries on only if they are still the ones in the store)."""
        last = self._last.get((namespace_of(service), name_of(service)))
        if last is not None:
            ns = namespace_of(service)
            last.stored = tuple(self.store.get("EndpointSlice", Store.key(ns, name))
                                for name in sorted(name_of(s) for s in last.result))
