"""Sidecar injection: which pods a mesh's mutating webhook injects, and what it adds to them.

Istio: the four webhooks of the default revision (namespace.sidecar-injector, rev.namespace, rev.object and
object), from manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml, and the injector's
own injectRequired (pkg/kube/inject/inject.go). Linkerd 2.19: features/proxy-injection.
"""
from __future__ import annotations

import copy

from ..objects import labels_of
from .linkerd import PROXY_POLICY_ENV, annotated_inbound_policy

__all__ = ["istio_injects", "linkerd_injects", "inject_istio", "inject_linkerd", "sidecar_of", "has_sidecar",
           "ISTIO_PROXY", "LINKERD_PROXY", "ISTIO_VERSION", "LINKERD_VERSION"]

ISTIO_PROXY = "istio-proxy"
LINKERD_PROXY = "linkerd-proxy"
ISTIO_VERSION = "1.28.0"
LINKERD_VERSION = "edge-25.10.1"             # the build the Linkerd 2.19 stable release ships
INSTALLED_REVISIONS = ("default",)          # istioctl install (default profile) installs revision "default"
ISTIO_IGNORED_NAMESPACES = ("kube-system", "kube-public")
LINKERD_IGNORED_NAMESPACES = ("kube-system", "linkerd")


def _annotations(obj: dict | None) -> dict:
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}


def istio_injects(namespace: dict | None, pod: dict) -> tuple[bool, str]:
    """Istio's injection table: hostNetwork never; a `disabled`/`false` on either side wins; namespace
    istio-injection=enabled beats istio.io/rev; else istio.io/rev naming an installed revision (namespace, then
    pod) injects; else pod label sidecar.istio.io/inject=true; nothing set -> not injected."""
    ns_labels = labels_of(namespace or {})
    pod_labels = labels_of(pod)
    pod_flag = pod_labels.get("sidecar.istio.io/inject", _annotations(pod).get("sidecar.istio.io/inject"))
    ns_name = ((namespace or {}).get("metadata") or {}).get("name", "")
    if (pod.get("spec") or {}).get("hostNetwork"):
        return False, "hostNetwork pods are never injected (they share the node's network namespace)"
    if ns_name in ISTIO_IGNORED_NAMESPACES:
        return False, f"namespace {ns_name} is ignored by the injector"
    if str(pod_flag).lower() == "false":
        return False, "pod label sidecar.istio.io/inject=false opts the pod out"
    ns_flag = ns_labels.get("istio-injection")
    if ns_flag is not None:
        # namespace.sidecar-injector.istio.io: istio-injection=enabled; any istio.io/rev is then ignored
        if ns_flag == "enabled":
            return True, "namespace label istio-injection=enabled"
        return False, f"namespace label istio-injection={ns_flag} (only 'enabled' injects)"
    ns_rev = ns_labels.get("istio.io/rev")
    if ns_rev is not None:
        if ns_rev in INSTALLED_REVISIONS:
            return True, f"namespace label istio.io/rev={ns_rev} names an installed revision"
        return False, f"namespace label istio.io/rev={ns_rev} names no installed revision (installed: default)"
    pod_rev = pod_labels.get("istio.io/rev")
    if pod_rev is not None:
        if pod_rev in INSTALLED_REVISIONS:
            return True, f"pod label istio.io/rev={pod_rev} names an installed revision"
        return False, f"pod label istio.io/rev={pod_rev} names no installed revision"
    if str(pod_flag).lower() == "true":
        return True, "pod label sidecar.istio.io/inject=true"
    return False, "neither the namespace (istio-injection / istio.io/rev) nor the pod asks for injection"


def linkerd_injects(namespace: dict | None, pod: dict) -> tuple[bool, str]:
    """Linkerd's proxy injector: the pod's linkerd.io/inject annotation overrides the namespace's; `enabled` or
    `ingress` injects; hostNetwork pods and the control plane's namespaces are skipped."""
    ns_name = ((namespace or {}).get("metadata") or {}).get("name", "")
    if (pod.get("spec") or {}).get("hostNetwork"):
        return False, "hostNetwork pods are not injected"
    if ns_name in LINKERD_IGNORED_NAMESPACES:
        return False, f"namespace {ns_name} is not injected"
    pod_value = _annotations(pod).get("linkerd.io/inject")
    if pod_value is not None:
        ok = pod_value in ("enabled", "ingress")
        return ok, f"pod annotation linkerd.io/inject={pod_value}"
    ns_value = _annotations(namespace).get("linkerd.io/inject")
    if ns_value is not None:
        return ns_value in ("enabled", "ingress"), f"namespace annotation linkerd.io/inject={ns_value}"
    return False, "no linkerd.io/inject annotation on the pod or its namespace"


def _app_ports(pod: dict) -> list[int]:
    return sorted({p.get("containerPort") for c in (pod.get("spec") or {}).get("containers") or []
                   for p in c.get("ports") or [] if isinstance(p.get("containerPort"), int)})


def inject_istio(pod: dict, reason: str) -> dict:
    """What istio-sidecar-injector adds: istio-init (iptables redirect to 15001/15006) and istio-proxy as a
    native sidecar (an init container with restartPolicy Always, the default since Istio 1.27 on Kubernetes
    >= 1.29), the tlsMode / canonical-name labels and the sidecar.istio.io/status annotation."""
    out = copy.deepcopy(pod)
    meta = out.setdefault("metadata", {})
    labels = meta.setdefault("labels", {})
    labels.setdefault("security.istio.io/tlsMode", "istio")
    labels.setdefault("service.istio.io/canonical-name", labels.get("app.kubernetes.io/name") or labels.get("app")
                      or meta.get("name", ""))
    labels.setdefault("service.istio.io/canonical-revision", labels.get("app.kubernetes.io/version")
                      or labels.get("version") or "latest")
    meta.setdefault("annotations", {})["sidecar.istio.io/status"] = (
        '{"initContainers":["istio-init","istio-proxy"],"containers":null,'
        '"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data",'
        '"istio-podinfo","istio-token","istiod-ca-cert"],"revision":"default"}')
    meta["annotations"]["kubelab.io/injected"] = f"istio: {reason}"
    spec = out.setdefault("spec", {})
    image = f"docker.io/istio/proxyv2:{ISTIO_VERSION}"
    init = {"name": "istio-init", "image": image,
            "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*",
                     "-x", "", "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"]}
    proxy = {"name": ISTIO_PROXY, "image": image, "restartPolicy": "Always",
             "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local"],
             "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
             "securityContext": {"runAsUser": 1337, "runAsGroup": 1337}}
    spec["initContainers"] = [init, proxy] + list(spec.get("initContainers") or [])
    return out


def inject_linkerd(pod: dict, reason: str, namespace: dict | None = None) -> dict:
    """What linkerd-proxy-injector adds: the linkerd-init init container (iptables to 4143/4140) and the
    linkerd-proxy container, first among the containers (proxy-await), with linkerd.io/proxy-version; the
    proxy's default inbound policy comes from the annotations as they are at pod creation."""
    out = copy.deepcopy(pod)
    meta = out.setdefault("metadata", {})
    annotations = meta.setdefault("annotations", {})
    annotations["linkerd.io/proxy-version"] = LINKERD_VERSION
    annotations["linkerd.io/created-by"] = f"linkerd/proxy-injector {LINKERD_VERSION}"
    annotations["kubelab.io/injected"] = f"linkerd: {reason}"
    meta.setdefault("labels", {})["linkerd.io/control-plane-ns"] = "linkerd"
    spec = out.setdefault("spec", {})
    image = f"cr.l5d.io/linkerd/proxy:{LINKERD_VERSION}"
    init = {"name": "linkerd-init", "image": image, "args": ["--incoming-proxy-port", "4143",
                                                               "--outgoing-proxy-port", "4140",
                                                               "--proxy-uid", "2102"]}
    proxy = {"name": LINKERD_PROXY, "image": image,
             "ports": [{"containerPort": 4143, "name": "linkerd-proxy", "protocol": "TCP"},
                       {"containerPort": 4191, "name": "linkerd-admin", "protocol": "TCP"}],
             "env": [{"name": PROXY_POLICY_ENV, "value": annotated_inbound_policy(pod, namespace)[0]}]}
    spec["initContainers"] = [init] + list(spec.get("initContainers") or [])
    spec["containers"] = [proxy] + list(spec.get("containers") or [])
    return out


def sidecar_of(pod: dict | None) -> str | None:
    """"istio" or "linkerd" when the pod runs that mesh's proxy (in containers or as a native sidecar)."""
    if not pod:
        return None
    spec = pod.get("spec") or {}
    names = {c.get("name") for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])}
    if ISTIO_PROXY in names:
        return "istio"
    if LINKERD_PROXY in names:
        return "linkerd"
    return None


def has_sidecar(pod: dict | None) -> bool:
    return sidecar_of(pod) is not None
