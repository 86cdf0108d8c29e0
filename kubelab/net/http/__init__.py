"""The L7 layer: HTTP requests and the edges that route them (Ingress controllers, Gateways, mesh proxies).

`model` holds the shared request/decision types; each edge turns an HttpRequest into a RouteDecision and
`lab.http` walks the hops (every hop an L4 connection through the existing engine).
"""
