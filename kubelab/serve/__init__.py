"""Servers over a Lab: cluster DNS on a real socket (and the Kubernetes API for kubectl)."""
