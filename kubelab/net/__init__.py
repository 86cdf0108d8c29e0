"""Networking semantics: pure functions over Kubernetes-shaped dicts, no I/O, shared by both backends."""
