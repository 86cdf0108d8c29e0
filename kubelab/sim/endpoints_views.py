"""What the endpoints controller keeps of each Service's pods between reconciles (kubelab.net.endpoints
.PodAddresses), brought up to date from the store's change log: after one pod of 10,000 changed, the v1
Endpoints are rebuilt without reading the others."""
from __future__ import annotations

from ..net.endpoints import PodAddresses
from ..net.objects import name_of, namespace_of
from .store import Store

__all__ = ["EndpointsViews"]


class EndpointsViews:
    """Per Service: its PodAddresses and where the pod log was when they were last brought up to date."""

    def __init__(self, store: Store):
        self.store = store
        self._last: dict[tuple, tuple[PodAddresses, tuple]] = {}

    def addresses(self, service: dict, pods, memo: dict, cursor: tuple) -> tuple[PodAddresses, bool]:
        """The Service's PodAddresses as of `cursor` (the pod log's now), and whether they may differ from the
        last call's: a Service seen for the first time or changed, or a pod of its namespace changed. pods() is
        called (every pod read) only when they cannot be carried on from the change log."""
        key = (namespace_of(service), name_of(service))
        last = self._last.get(key)
        if last is not None and last[0].service is service:
            changed = self.store.changed_since("Pod", last[1])
            if changed is not None:
                prefix = f"{key[0]}/"
                names = {k[len(prefix):] for k in changed if k.startswith(prefix)}
                for name in names:
                    last[0].update(name, self.store.get("Pod", Store.key(key[0], name)))
                self._last[key] = (last[0], cursor)
                return last[0], bool(names)
        addresses = PodAddresses(service, pods(), memo)
        self._last[key] = (addresses, cursor)
        return addresses, True
