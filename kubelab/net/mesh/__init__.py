"""Service-mesh semantics (Istio, Linkerd) as pure functions: injection, validation, routing, resilience, security."""
