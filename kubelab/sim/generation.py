"""metadata.generation as the Kubernetes v1.35 API server keeps it.

A kind's registry strategy (kubernetes pkg/registry/<group>/<kind>/strategy.go) sets Generation = 1 in
PrepareForCreate and adds one in PrepareForUpdate when what it counts as the desired state changed; kinds whose
strategy never mentions it (Service, ConfigMap, Secret, Namespace, Node, Endpoints, ServiceAccount) carry none.
An update cannot set it itself: rest.BeforeUpdate copies the old value before PrepareForUpdate runs. Custom
resources always have it (apiextensions-apiserver pkg/registry/customresource/strategy.go).
"""
from __future__ import annotations

from ..api import kinds
from ..api.crd import has_status_subresource

__all__ = ["tracks", "on_create", "on_update", "on_graceful_delete"]


def _spec(obj: dict):
    """apps/{statefulset,daemonset}, networking/{networkpolicy,ingress,ingressclass}, core/pod: a spec change."""
    return obj.get("spec")


def _spec_and_annotations(obj: dict):
    """apps/deployment: spec or annotation updates (annotations are copied to the ReplicaSets)."""
    return obj.get("spec"), (obj.get("metadata") or {}).get("annotations") or {}


def _all_but_metadata_and_labels(obj: dict):
    """discovery/endpointslice: anything other than metadata, or the labels."""
    return {k: v for k, v in obj.items() if k != "metadata"}, (obj.get("metadata") or {}).get("labels") or {}


def _all_but_metadata(obj: dict):
    """customresource without a status subresource: anything other than metadata, status included."""
    return {k: v for k, v in obj.items() if k != "metadata"}


def _all_but_metadata_and_status(obj: dict):
    """customresource with a status subresource: anything other than metadata (an update keeps the status)."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


# kind -> what PrepareForUpdate compares; Pod's is updatePodGeneration (KEP-5067 pod generation, GA in v1.35)
_DESIRED_STATE = {
    "Deployment": _spec_and_annotations,
    "StatefulSet": _spec,
    "DaemonSet": _spec,
    "NetworkPolicy": _spec,
    "Ingress": _spec,
    "IngressClass": _spec,
    "Pod": _spec,
    "EndpointSlice": _all_but_metadata_and_labels,
}


def _desired_state(kind: str):
    if kind in _DESIRED_STATE:
        return _DESIRED_STATE[kind]
    if not kinds.lookup(kind).openapi_schema:   # a custom resource
        return _all_but_metadata_and_status if has_status_subresource(kind) else _all_but_metadata
    return None


def tracks(kind: str) -> bool:
    """Does the kind's strategy keep metadata.generation (PrepareForCreate sets Generation = 1)?"""
    return _desired_state(kind) is not None


def on_create(kind: str, obj: dict) -> None:
    """PrepareForCreate: Generation = 1 for the kinds that keep it."""
    if tracks(kind):
        obj["metadata"]["generation"] = 1


def on_update(kind: str, old: dict, new: dict) -> None:
    """rest.BeforeUpdate keeps the old generation, then PrepareForUpdate adds one if the desired state changed."""
    meta, generation = new["metadata"], (old.get("metadata") or {}).get("generation")
    state = _desired_state(kind)
    if state is not None and state(old) != state(new):
        generation = (generation or 0) + 1
    if generation is None:
        meta.pop("generation", None)
    else:
        meta["generation"] = generation


def on_graceful_delete(meta: dict) -> None:
    """rest.BeforeDelete: the first graceful deletion (deletionTimestamp set) bumps a generation already set."""
    if "deletionTimestamp" not in meta and meta.get("generation", 0) > 0:
        meta["generation"] += 1
