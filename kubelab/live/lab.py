"""LiveLab: the Lab contract over the official `kubernetes` client (kubeconfig, any cluster).

Writes are server-side apply with field manager "kubelab", and only ever into namespaces kubelab
created and labelled (app.kubernetes.io/managed-by=kubelab); `cleanup()` deletes those namespaces.
Probes run in the source pod through exec (`/agnhost connect`, as the upstream e2e tests probe),
and every result carries the simulator's prediction for the same cluster state.
"""
from __future__ import annotations

import json

from ..api import kinds
from ..errors import BackendError, KubelabError, NotFoundError, ProbeError, ValidationError, object_ref
from ..lab import Lab
from ..api.manifests import load_manifests, ref_of
from ..net.labels import parse_selector_string
from ..results import ApplyResult
from .namespaces import MANAGED_BY_LABEL, MANAGED_BY_VALUE, NamespaceMap
from .observed import ObservedDnsAnswer, ObservedReachability, ObservedResponse, ObservedVerdict

__all__ = ["LiveLab", "MANAGED_BY_LABEL"]

FIELD_MANAGER = "kubelab"


class LiveLab(Lab):
    """A real cluster from kubeconfig: `connect("live", context=None, namespace_prefix="kubelab-")`.

    `kubeconfig=` picks the file (default: $KUBECONFIG or ~/.kube/config); `predict=` gives the
    simulator what a live cluster does not say about itself, e.g. `predict={"cni": "flannel",
    "proxy_mode": "ipvs"}` (default Calico, iptables)."""

    backend = "live"

    def __init__(self, context: str | None = None, namespace_prefix: str = "kubelab-", kubeconfig=None,
                 predict: dict | None = None):
        try:
            from kubernetes import config
            from kubernetes.dynamic import DynamicClient
        except ImportError as exc:   # pragma: no cover - kubernetes is a dependency
            raise BackendError(f"connect('live') needs the kubernetes package: {exc}") from None
        try:
            self.api_client = config.new_client_from_config(config_file=str(kubeconfig) if kubeconfig else None,
                                                            context=context)
        except Exception as exc:
            raise BackendError(f"connect('live'): no usable kubeconfig ({_short(exc)}); set KUBECONFIG or pass "
                               "kubeconfig=... (and context= to pick a context), or use connect() for the "
                               "simulated cluster") from None
        self.context = context
        self.namespaces = NamespaceMap(namespace_prefix)
        self.predict_options = dict(predict or {})
        try:
            self.dynamic = DynamicClient(self.api_client)
        except Exception as exc:
            raise BackendError(f"connect('live'): the cluster at {self.api_client.configuration.host} "
                               f"did not answer discovery ({_short(exc)})") from None

    def __repr__(self) -> str:
        return f"<kubelab live lab: {self.api_client.configuration.host}, namespaces prefixed {self.namespaces.prefix!r}>"

    # ------------------------------------------------------------ plumbing
    def _resource(self, kind: str, api_version: str | None = None):
        k = kinds.lookup(kind) if api_version is None else None
        try:
            if k is not None:
                return self.dynamic.resources.get(api_version=k.api_version, kind=k.kind), k.kind
            return self.dynamic.resources.get(api_version=api_version, kind=kind), kind
        except Exception as exc:
            raise BackendError(f"the cluster does not serve kind {kind!r} ({_short(exc)})") from None

    def _call(self, what: str, fn, *args, **kwargs):
        from kubernetes.client.exceptions import ApiException
        from kubernetes.dynamic.exceptions import DynamicApiError

        try:
            return fn(*args, **kwargs)
        except (ApiException, DynamicApiError) as exc:
            status = getattr(exc, "status", None)
            body = {}
            try:
                body = json.loads(getattr(exc, "body", None) or "{}")
            except (TypeError, ValueError):
                pass
            message = body.get("message") or _short(exc)
            if status == 404:
                raise NotFoundError(f"{what}: {message}") from None
            if status == 400 and 'unknown field "' in message:   # strict field validation
                field = message.split('unknown field "', 1)[1].split('"', 1)[0]
                raise ValidationError(what, field, f"unknown field {field!r}",
                                      "check spelling and indentation; `kubectl explain` lists the fields") from None
            if status == 422:
                causes = (body.get("details") or {}).get("causes") or [{}]
                raise ValidationError(what, causes[0].get("field", "?"), causes[0].get("message", message)) from None
            raise BackendError(f"{what}: the cluster answered {status}: {message}") from None

    def _managed(self, cluster_namespace: str) -> bool | None:
        """True: kubelab's; False: exists and not kubelab's; None: does not exist."""
        ns_resource, _ = self._resource("Namespace")
        try:
            ns = self._call(f"Namespace {cluster_namespace}", ns_resource.get, name=cluster_namespace)
        except NotFoundError:
            return None
        return (ns.metadata.labels or {}).get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE

    def _claim_namespace(self, cluster_namespace: str, ref: str) -> None:
        state = self._managed(cluster_namespace)
        if state is False:
            raise BackendError(f"{ref}: namespace {cluster_namespace!r} exists and is not managed by kubelab "
                               f"(no label {MANAGED_BY_LABEL}={MANAGED_BY_VALUE}); kubelab changes only namespaces "
                               "it created: pick another namespace or another namespace_prefix")
        if state is None:
            ns_resource, _ = self._resource("Namespace")
            self._call(f"Namespace {cluster_namespace}", self.dynamic.server_side_apply, ns_resource,
                       body={"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": cluster_namespace, "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE}}},
                       field_manager=FIELD_MANAGER, force_conflicts=True)

    # ------------------------------------------------------------ objects
    def apply(self, manifests) -> ApplyResult:
        """Server-side apply of every object, after a dry run of all of them (so a rejected object
        leaves nothing half-applied); namespaces are created and labelled as kubelab's."""
        docs = load_manifests(manifests)
        plan = []
        for doc in docs:
            ref = ref_of(doc)
            resource, kind = self._resource(doc["kind"], doc["apiVersion"])
            if not resource.namespaced and kind != "Namespace":
                raise BackendError(f"{ref}: kubelab does not change cluster-scoped {kind} objects on a live cluster")
            body = self.namespaces.object_to_cluster(doc, resource.namespaced)
            if kind == "Namespace" and self._managed(body["metadata"]["name"]) is False:
                raise BackendError(f"{ref}: namespace {body['metadata']['name']!r} exists and is not managed by kubelab")
            plan.append((ref, resource, kind, body))
        for ref, resource, kind, body in plan:
            if resource.namespaced:
                self._claim_namespace(body["metadata"]["namespace"], ref)
            self._call(ref, self.dynamic.server_side_apply, resource, body=body, field_manager=FIELD_MANAGER,
                       force_conflicts=True, dry_run="All")
        changes = []
        for ref, resource, kind, body in plan:
            meta = body["metadata"]
            before = self._find(resource, meta["name"], meta.get("namespace"))
            after = self._call(ref, self.dynamic.server_side_apply, resource, body=body,
                               field_manager=FIELD_MANAGER, force_conflicts=True)
            verb = "created" if before is None else \
                "unchanged" if before.metadata.resourceVersion == after.metadata.resourceVersion else "configured"
            key = f"{self.namespaces.to_lesson(meta['namespace'])}/{meta['name']}" if resource.namespaced \
                else self.namespaces.to_lesson(meta["name"])
            changes.append((kind, key, verb))
        return ApplyResult(tuple(changes))

    def _find(self, resource, name: str, namespace: str | None):
        from kubernetes.dynamic.exceptions import NotFoundError as DynamicNotFound
        try:
            return resource.get(name=name, namespace=namespace)
        except DynamicNotFound:
            return None

    def get(self, kind: str, name: str, namespace: str = "default") -> dict:
        resource, kind = self._resource(kind)
        cluster_name = self.namespaces.to_cluster(name) if kind == "Namespace" else name
        ns = self.namespaces.to_cluster(namespace) if resource.namespaced else None
        obj = self._call(object_ref(kind, name, namespace if resource.namespaced else None),
                         resource.get, name=cluster_name, namespace=ns)
        return self.namespaces.object_to_lesson(obj.to_dict())

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        """Objects of a kind in one lesson namespace, or (namespace None) in every kubelab namespace;
        cluster-scoped kinds are listed whole (Namespaces: only kubelab's)."""
        parse_selector_string(selector)   # a bad selector is a kubelab error before any request
        resource, kind = self._resource(kind)
        if kind == "Namespace":
            selector = ",".join(filter(None, [selector, f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"]))
        ns = self.namespaces.to_cluster(namespace) if resource.namespaced and namespace is not None else None
        items = self._call(f"list {kind}", resource.get, namespace=ns, label_selector=selector).to_dict()["items"]
        if resource.namespaced and namespace is None:
            mine = {o["metadata"]["name"] for o in self._managed_namespaces()}
            items = [o for o in items if o["metadata"].get("namespace") in mine]
        for o in items:
            o.setdefault("kind", kind)
            o.setdefault("apiVersion", resource.group_version)
        out = [self.namespaces.object_to_lesson(o) for o in items]
        return sorted(out, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def _managed_namespaces(self) -> list[dict]:
        resource, _ = self._resource("Namespace")
        return resource.get(label_selector=f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}").to_dict()["items"]

    def delete(self, kind: str, name: str, namespace: str = "default", grace_period: int | None = None) -> str:
        """Delete an object, as lab.delete: a pod terminates for its grace period (DeleteOptions.gracePeriodSeconds
        when grace_period is given; 0 removes it at once)."""
        resource, kind = self._resource(kind)
        if kind == "Namespace":
            cluster_ns = self.namespaces.to_cluster(name)
        elif resource.namespaced:
            cluster_ns = self.namespaces.to_cluster(namespace)
        else:
            raise BackendError(f"{object_ref(kind, name)}: kubelab does not delete cluster-scoped {kind} objects")
        if not self._managed(cluster_ns):
            raise BackendError(f"{object_ref(kind, name, namespace)}: namespace {cluster_ns!r} is not managed by "
                               "kubelab; kubelab deletes only in namespaces it created")
        self._call(object_ref(kind, name, namespace), resource.delete,
                   name=self.namespaces.to_cluster(name) if kind == "Namespace" else name,
                   namespace=None if kind == "Namespace" else cluster_ns,
                   **({} if grace_period is None else {"grace_period_seconds": grace_period}))
        return f'{kind.lower()} "{name}" deleted'

    def watch(self, kind: str, namespace: str | None = None, timeout: int = 5):
        """(type, object) events for a kind in a lesson namespace, ending after `timeout` seconds."""
        resource, kind = self._resource(kind)
        ns = self.namespaces.to_cluster(namespace) if resource.namespaced and namespace else None
        for event in self.dynamic.watch(resource, namespace=ns, timeout=timeout):
            yield event["type"], self.namespaces.object_to_lesson(event["raw_object"])

    def cleanup(self) -> list[str]:
        """Delete every namespace kubelab created (and so everything in them); returns their names."""
        resource, _ = self._resource("Namespace")
        names = sorted(o["metadata"]["name"] for o in self._managed_namespaces())
        for name in names:
            self._call(f"Namespace {name}", resource.delete, name=name)
        return names

    # ------------------------------------------------------------ probes
    def exec(self, pod: str, command: list[str], container: str | None = None) -> tuple[str, str, int]:
        """Run `command` in a pod ("namespace/name" in lesson names): (stdout, stderr, exit code)."""
        from kubernetes import client
        from kubernetes.stream import stream

        namespace, name = _split_pod(pod)
        v1 = client.CoreV1Api(self.api_client)
        kwargs = {"container": container} if container else {}
        resp = self._call(f"Pod {pod}", stream, v1.connect_get_namespaced_pod_exec, name,
                          self.namespaces.to_cluster(namespace), command=list(command), stderr=True, stdout=True,
                          stdin=False, tty=False, _preload_content=False, **kwargs)
        resp.run_forever(timeout=30)
        code = resp.returncode
        return resp.read_stdout() or "", resp.read_stderr() or "", 0 if code is None else code

    def _target(self, dst) -> str:
        """A "namespace/pod" destination becomes its IP; names and IPs go to the probe as they are."""
        text = str(dst)
        if "/" in text and text.count("/") == 1 and "." not in text.split("/")[0]:
            ns, name = _split_pod(text)
            ip = (self.get("Pod", name, ns).get("status") or {}).get("pod_ip") or \
                (self.get("Pod", name, ns).get("status") or {}).get("podIP")
            if not ip:
                raise ProbeError(f"pod {text} has no IP yet")
            return ip
        return text

    def reach(self, src, dst, port: int = 80, protocol: str = "TCP") -> ObservedVerdict:
        """Observed from inside `src` with `/agnhost connect DST:PORT` (the e2e probe); the result
        carries the simulator's Verdict for the same cluster state as `.predicted`."""
        if src is None:
            raise ProbeError("the live backend probes from inside a pod: give src='namespace/pod' "
                             "(a pod running registry.k8s.io/e2e-test-images/agnhost)")
        target = self._target(dst)
        host = f"[{target}]" if ":" in target else target
        out, err, code = self.exec(str(src), ["/agnhost", "connect", f"{host}:{port}", "--timeout=1s",
                                              f"--protocol={protocol.lower()}"])
        if code == 127:
            raise ProbeError(f"pod {src} has no /agnhost: run probes from pods with the image "
                             "registry.k8s.io/e2e-test-images/agnhost")
        word = err.strip().split(":", 1)[0] or "OK"
        reason = {"OK": "connected", "TIMEOUT": "timed out (dropped on the way)",
                  "REFUSED": "connection refused (nothing listens, or rejected)",
                  "DNS": "the name did not resolve"}.get(word, err.strip())
        predicted = self._predict(lambda sim: sim.reach(self._sim_pod(src), self._sim_target(dst, target), port, protocol))
        return ObservedVerdict(code == 0, f"observed from {src} with agnhost connect: {reason}", str(src), str(dst),
                               port, protocol.upper(), predicted=predicted)

    def reachability(self, pods=None, port: int = 80, protocol: str = "TCP") -> ObservedReachability:
        """The matrix probed pod to pod (as cyclonus does), with the simulator's matrix as `.predicted`."""
        chosen = list(pods) if pods is not None else \
            [f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in self.list("Pod")]
        self._pinned_prediction = self._prediction_lab()   # one prediction for the whole matrix
        try:
            return self._reachability(chosen, port, protocol)
        finally:
            self._pinned_prediction = None

    def _reachability(self, chosen: list[str], port: int, protocol: str) -> ObservedReachability:
        observed, reasons = [], []
        for src in chosen:
            row, why = [], []
            for dst in chosen:
                v = self.reach(src, dst, port, protocol)
                row.append(v.allowed)
                why.append(v.reason)
            observed.append(row)
            reasons.append(why)
        predicted = None
        sim_reasons = None
        sim = self._prediction_lab()
        if sim is not None:
            cells = [[sim.reach(self._sim_pod(s), self._sim_pod(d), port, protocol) for d in chosen] for s in chosen]
            sim_reasons = [[c.reason for c in row] for row in cells]
            from ..results import Reachability
            predicted = Reachability(chosen, chosen, [[bool(c) for c in row] for row in cells], port, protocol,
                                     reasons=sim_reasons)
        return ObservedReachability(chosen, chosen, observed, port, protocol, reasons=reasons, predicted=predicted)

    def http(self, url: str, src=None, headers: dict | None = None, method: str = "GET") -> ObservedResponse:
        """An HTTP request from inside `src` (curl through exec), with the simulator's Response as `.predicted`."""
        from .parse import http_response

        if src is None:
            raise ProbeError("the live backend sends requests from inside a pod: give src='namespace/pod'")
        command = ["curl", "-s", "-i", "-m", "5", "-X", method]
        for key, value in sorted((headers or {}).items()):
            command += ["-H", f"{key}: {value}"]
        out, err, code = self.exec(str(src), command + [url])
        if code == 127:
            raise ProbeError(f"pod {src} has no curl; send HTTP probes from a pod whose image has it")
        status, got_headers, body, why = http_response(out, code)
        predicted = self._predict(lambda sim: sim.http(url, src=self._sim_pod(src), headers=headers, method=method))
        return ObservedResponse(status, body, got_headers, url, None, f"observed from {src} with curl: {why}",
                                predicted=predicted)

    def resolve(self, name: str, rtype: str = "A", src=None) -> ObservedDnsAnswer:
        """A lookup from inside `src` (nslookup through exec, the pod's own resolv.conf), with the
        simulator's DnsAnswer as `.predicted`."""
        from .parse import dns_answer

        if src is None:
            raise ProbeError("the live backend resolves from inside a pod: give src='namespace/pod'")
        rtype = rtype.upper()
        out, err, code = self.exec(str(src), ["nslookup", f"-type={rtype}", name])
        if code == 127:
            raise ProbeError(f"pod {src} has no nslookup; resolve from a pod whose image has it (e.g. dnsutils)")
        answer = dns_answer(out, code, name, rtype, str(src))
        predicted = self._predict(lambda sim: sim.resolve(name, rtype, src=self._sim_pod(src)))
        return ObservedDnsAnswer(**{f: getattr(answer, f) for f in answer.__dataclass_fields__}, predicted=predicted)

    def trace(self, src, dst, port: int = 80, protocol: str = "TCP"):
        """A real cluster does not show the hops a packet takes; the simulator's trace for the same
        state is `lab.reach(...).predicted` plus `predicted_trace()`."""
        raise BackendError("trace(): a live cluster does not show a packet's hops; use lab.reach(src, dst) to "
                           "observe, and lab.predicted_trace(src, dst) for the simulator's hop-by-hop prediction")

    def predicted_trace(self, src, dst, port: int = 80, protocol: str = "TCP"):
        """The simulator's Trace for this cluster's current state (cluster names)."""
        sim = self._prediction_lab()
        if sim is None:
            raise BackendError("predicted_trace(): the simulator could not model this cluster's state")
        target = self._target(dst)
        return sim.trace(self._sim_pod(src), self._sim_target(dst, target), port, protocol)

    def resolv_conf(self, pod: str) -> str:
        return self._read_file(pod, "/etc/resolv.conf")

    def hosts_file(self, pod: str) -> str:
        return self._read_file(pod, "/etc/hosts")

    def _read_file(self, pod: str, path: str) -> str:
        out, err, code = self.exec(pod, ["cat", path])
        if code != 0:
            raise ProbeError(f"pod {pod}: cat {path} failed ({err.strip()})")
        return out

    def iptables_save(self, node: str) -> str:
        raise BackendError(f"iptables_save({node!r}): the live backend has no access to nodes; on a cluster that "
                           "allows it, run `kubectl debug node/<node> --image=...` and iptables-save there")

    def ipvsadm(self, node: str) -> str:
        raise BackendError(f"ipvsadm({node!r}): the live backend has no access to nodes; on a cluster that "
                           "allows it, run `kubectl debug node/<node> --image=...` and ipvsadm -Ln there")

    # ------------------------------------------------------------ prediction
    def _sim_pod(self, ref) -> str:
        ns, name = _split_pod(str(ref))
        return f"{self.namespaces.to_cluster(ns)}/{name}"

    def _sim_target(self, dst, target: str) -> str:
        return self._sim_pod(dst) if target != str(dst) else target

    def _predict(self, probe):
        sim = self._prediction_lab()
        if sim is None:
            return None
        try:
            return probe(sim)
        except KubelabError:
            return None

    def _prediction_lab(self):
        """A simulated cluster holding what the live cluster holds (cluster names, pinned addresses)."""
        from .predict import prediction_lab
        if getattr(self, "_pinned_prediction", None) is not None:
            return self._pinned_prediction
        try:
            return prediction_lab(self, **self.predict_options)
        except KubelabError:
            return None


def _split_pod(ref: str) -> tuple[str, str]:
    if "/" in ref:
        ns, name = ref.split("/", 1)
        return ns, name
    return "default", ref


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
