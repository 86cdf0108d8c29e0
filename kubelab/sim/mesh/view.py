"""What a mesh's proxies know about the cluster between two changes of it (istiod's push): which pods run a
sidecar and under which identity, DNS answers, DestinationRules, endpoints, mTLS modes and policies, each
computed once per cluster generation."""
from __future__ import annotations

from ...net.mesh import injection, linkerd, security
from ...net.mesh.routing import destination_rule_for
from ...net.objects import is_ip, labels_of, namespace_of
from .install import INGRESS_GATEWAY_LABELS

__all__ = ["MeshView", "view_of", "mesh_sidecar", "is_ingress_gateway", "service_account", "identity"]


def is_ingress_gateway(pod: dict | None) -> bool:
    labels = labels_of(pod or {})
    return labels.get("istio") == INGRESS_GATEWAY_LABELS["istio"]


def mesh_sidecar(lab, pod: dict | None) -> str | None:
    """The mesh proxy of a workload pod (memoised per cluster generation)."""
    return view_of(lab).sidecar(pod)


def _mesh_sidecar(lab, pod: dict | None) -> str | None:
    """The mesh proxy of a workload pod (the ingress gateway is a proxy of its own, not a sidecar)."""
    if pod is None or is_ingress_gateway(pod):
        return None
    kind = injection.sidecar_of(pod)
    return kind if kind == lab.config.mesh else None


def service_account(pod: dict) -> str:
    return (pod.get("spec") or {}).get("serviceAccountName") or (pod.get("spec") or {}).get("serviceAccount") \
        or "default"


def identity(lab, pod: dict) -> str:
    """Istio: the SPIFFE principal without the scheme (cluster.local/ns/<ns>/sa/<sa>); Linkerd: the proxy's
    identity <sa>.<ns>.serviceaccount.identity.linkerd.cluster.local."""
    if lab.config.mesh == "linkerd":
        return linkerd.identity(namespace_of(pod), service_account(pod))
    return security.spiffe_id(namespace_of(pod), service_account(pod))[len("spiffe://"):]


class MeshView:
    """What the proxies know between two changes of the cluster (istiod's push): DNS answers, DestinationRules
    per host, endpoints per subset, each workload's mTLS mode and authorization policies. Rebuilt when any object
    changes, so a burst of requests costs one computation per distinct question."""

    def __init__(self, lab):
        self.lab = lab
        self.memo: dict = {}

    def get(self, key, compute):
        try:
            return self.memo[key]
        except KeyError:
            value = self.memo[key] = compute()
            return value

    def of(self, tag: str, obj: dict, compute, *extra):
        """A fact about one stored object, keyed by the object itself (its identity is stable until the next
        change, when the view is rebuilt); the object is kept beside the value so a recycled id never matches."""
        key = (tag, id(obj)) + extra
        entry = self.memo.get(key)
        if entry is None or entry[0] is not obj:
            entry = self.memo[key] = (obj, compute())
        return entry[1]

    def resolve(self, src: str, name: str) -> str | None:
        def compute():
            answer = self.lab.resolve(name, "A", src=src)
            return next((r.value for r in answer.records if r.type == "A"), None)
        return self.get(("dns", src, name), compute)

    def destination_rule(self, host: str, client_namespace: str):
        lab = self.lab
        return self.get(("dr", host, client_namespace), lambda: destination_rule_for(
            host, client_namespace, lab.cluster.items("DestinationRule"), domain=lab.config.cluster_domain))

    def mtls(self, pod: dict, port: int) -> tuple[str, str]:
        return self.of("mtls", pod, lambda: security.effective_mtls(
            pod, port, self.lab.cluster.items("PeerAuthentication")), port)

    def authorization_policies(self, pod: dict) -> list:
        """The AuthorizationPolicies that apply to the workload (its namespace's selecting it, and the root's)."""
        def compute():
            return [p for p in self.lab.cluster.items("AuthorizationPolicy")
                    if p["metadata"].get("namespace") in (namespace_of(pod), security.ROOT_NAMESPACE)
                    and security.selects(p, pod)]
        return self.of("authz", pod, compute)

    def sidecar(self, pod: dict | None) -> str | None:
        if pod is None:
            return None
        return self.of("sidecar", pod, lambda: _mesh_sidecar(self.lab, pod))


def view_of(lab) -> MeshView:
    return lab._view("mesh_view", lambda: MeshView(lab))


def _key(obj: dict) -> str:
    """"namespace/name" of a namespaced object (key_of without its general case, on the hot path)."""
    meta = obj["metadata"]
    return meta["namespace"] + "/" + meta["name"]      # stored namespaced objects always carry their namespace


_IS_IP: dict = {}


def _is_ip(text: str) -> bool:
    """is_ip, remembered (addresses and names repeat across a burst of requests)."""
    known = _IS_IP.get(text)
    if known is None:
        if len(_IS_IP) > 10000:
            _IS_IP.clear()
        known = _IS_IP[text] = is_ip(text)
    return known
