"""What a mesh's proxies know about the cluster between two changes of it (istiod's push): which pods run a
sidecar and under which identity, DNS answers, DestinationRules, endpoints, mTLS modes and policies, each
computed once per cluster generation."""
from __future__ import annotations

from functools import cached_property

from ...net import apps
from ...net.mesh import injection, linkerd, security
from ...net.mesh.egress import ServiceEntryTable, outbound_traffic_policy
from ...net.mesh.routing import destination_rule_for
from ...net.objects import is_ip, labels_of, namespace_of
from .install import INGRESS_GATEWAY_LABELS, MESH_CONFIG_MAP

__all__ = ["MeshView", "PodFacts", "view_of", "mesh_sidecar", "is_ingress_gateway", "service_account", "identity"]


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

    def facts(self, pod: dict) -> "PodFacts":
        """Everything the proxies ask about one pod, gathered on one object (one lookup per exchange and pod)."""
        entry = self.memo.get(id(pod))
        if entry is None or entry.pod is not pod:
            entry = self.memo[id(pod)] = PodFacts(self, pod)
        return entry

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
        return self.facts(pod).mtls(port)

    def service_entries(self) -> ServiceEntryTable:
        """Every ServiceEntry's hosts and ports (istiod's registry beside the cluster's Services)."""
        found = self.memo.get("service-entries")
        if found is None:
            lab = self.lab
            found = self.memo["service-entries"] = ServiceEntryTable(lab.cluster.items("ServiceEntry"),
                                                                     lab.config.cluster_domain)
        return found

    def outbound_traffic_policy(self) -> tuple[str, str]:
        """meshConfig.outboundTrafficPolicy.mode as istiod reads it from ConfigMap istio-system/istio (key mesh)."""
        found = self.memo.get("outbound-traffic-policy")
        if found is None:
            config = self.lab.cluster.find("ConfigMap", f"{MESH_CONFIG_MAP[0]}/{MESH_CONFIG_MAP[1]}")
            found = self.memo["outbound-traffic-policy"] = outbound_traffic_policy(
                ((config or {}).get("data") or {}).get("mesh"))
        return found

    def authorization_policies(self, pod: dict) -> list:
        return self.facts(pod).authorization_policies

    def sidecar(self, pod: dict | None) -> str | None:
        if pod is None:
            return None
        return self.facts(pod).sidecar


class PodFacts:
    """What the proxies know of one pod until the next change of the cluster: its sidecar, identity, labels,
    mTLS mode per port, the policies that select it, its app per port. Each fact is computed on first use."""

    def __init__(self, view: MeshView, pod: dict):
        self.view = view
        self.pod = pod
        self.key = _key(pod)
        self._mtls: dict = {}
        self._apps: dict = {}

    @cached_property
    def sidecar(self) -> str | None:
        return _mesh_sidecar(self.view.lab, self.pod)

    @cached_property
    def labels(self) -> tuple:
        return tuple(sorted(labels_of(self.pod).items()))

    @cached_property
    def identity(self) -> str:
        return identity(self.view.lab, self.pod)

    @cached_property
    def spiffe(self) -> str:
        return security.spiffe_id(namespace_of(self.pod), service_account(self.pod),
                                  self.view.lab.config.cluster_domain)

    @cached_property
    def authorization_policies(self) -> list:
        """The AuthorizationPolicies that apply to the workload (its namespace's selecting it, and the root's)."""
        pod = self.pod
        return [p for p in self.view.lab.cluster.items("AuthorizationPolicy")
                if p["metadata"].get("namespace") in (namespace_of(pod), security.ROOT_NAMESPACE)
                and security.selects(p, pod)]

    @cached_property
    def request_authentications(self) -> list:
        """The RequestAuthentications that apply to the workload (its namespace's selecting it, and the root's)."""
        pod = self.pod
        return [p for p in self.view.lab.cluster.items("RequestAuthentication")
                if namespace_of(p) in (namespace_of(pod), security.ROOT_NAMESPACE) and security.selects(p, pod)]

    @cached_property
    def client(self):
        """The HTTP client the pod's app calls other services with."""
        from .appclient import mesh_client      # the client walks the mesh, which reads these facts
        return mesh_client(self.view.lab, self.pod)

    def mtls(self, port: int) -> tuple[str, str]:
        """The PeerAuthentication mode in force on the port, and why."""
        found = self._mtls.get(port)
        if found is None:
            found = self._mtls[port] = security.effective_mtls(self.pod, port,
                                                               self.view.lab.cluster.items("PeerAuthentication"))
        return found

    def app(self, port: int) -> tuple:
        """The app (and its container) that listens on the port."""
        found = self._apps.get(port)
        if found is None:
            found = self._apps[port] = apps.app_for(self.pod, port)
        return found


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
