"""Drive a mesh conformance case (samples/mesh/FORMAT.md) through the Lab contract only, as the held-out set
does, and report every probe that does not hold."""
from __future__ import annotations

import copy
from urllib.parse import urlsplit

import kubelab
from kubelab import KubelabError
from kubelab.net.mesh.samples import sample_manifests

SIDECARS = {"istio": "istio-proxy", "linkerd": "linkerd-proxy"}


class Run:
    """One case's lab, and the failed probes collected while it runs (each with the case step and call)."""

    def __init__(self, case: dict):
        self.case = case
        self.failures: list[str] = []
        self.lab = kubelab.connect("simulated", mesh=case["mesh"], seed=0)

    # ---------------------------------------------------------------- setup
    def setup(self) -> None:
        namespaces = []
        for ns in self.case.get("namespaces") or []:
            meta = {"name": ns["name"]}
            for key in ("labels", "annotations"):
                if ns.get(key):
                    meta[key] = dict(ns[key])
            namespaces.append({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})
        if namespaces:
            self.lab.apply(namespaces)
        manifests = []
        for app in self.case.get("apps") or []:
            manifests += sample_manifests(app["sample"], app.get("namespace", "default"), app.get("versions"),
                                          app.get("template"))
        if manifests:
            self.lab.apply(manifests)
        if self.case.get("objects"):
            self.lab.apply(copy.deepcopy(self.case["objects"]))

    def run(self) -> list[str]:
        self.setup()
        self.check_step("step 0", self.case)
        for i, step in enumerate(self.case.get("steps") or [], 1):
            for ref in step.get("delete") or []:
                self.lab.delete(ref["kind"], ref["name"], ref.get("namespace", "default"))
            if step.get("apply"):
                self.lab.apply(copy.deepcopy(step["apply"]))
            self.check_step(f"step {i}", step)
        return self.failures

    def check_step(self, where: str, block: dict) -> None:
        for j, req in enumerate(block.get("requests") or []):
            self.check_request(f"{where} request {j} ({req.get('from', 'outside')} {req['url']})", req)
        for g in block.get("get") or []:
            self.check_get(where, g)
        for inj in block.get("injection") or []:
            self.check_injection(where, inj)
        for k, v in enumerate(block.get("validation") or []):
            self.check_validation(f"{where} validation {k}", v)

    # ---------------------------------------------------------------- probes
    def source(self, ref: str | None) -> str | None:
        if ref is None:
            return None
        ns, _, app = ref.rpartition("/")
        pods = self.lab.list("Pod", ns, selector=f"app={app}")
        if pods:
            return f"{ns}/{sorted(p['metadata']['name'] for p in pods)[0]}"
        return ref

    def call(self, req: dict, src):
        headers = dict(req.get("headers") or {})
        if req.get("login"):
            parts = urlsplit(req["url"])
            login = self.lab.http(f"{parts.scheme}://{parts.netloc}/login?username={req['login']}&passwd=password",
                                  src=src, method="POST", headers=headers)
            cookie = login.headers.get("Set-Cookie", "")
            if cookie:
                headers["Cookie"] = cookie.split(";", 1)[0]
        return self.lab.http(req["url"], src=src, method=req.get("method", "GET"), headers=headers)

    def check_request(self, where: str, req: dict) -> None:
        src = self.source(req.get("from"))
        responses = [self.call(req, src) for _ in range(int(req.get("repeat", 1)))]
        for key, want in (req.get("expect") or {}).items():
            for n, r in enumerate(responses):
                problem = self.problem(key, want, r)
                if problem:
                    self.failures.append(f"{where} call {n}: {key}: {problem}\n    hops: "
                                         + "\n      ".join(h.action for h in r.hops[-12:]))
                    break
        for share in req.get("expect_share") or []:
            hits = sum(1 for r in responses if all(not self.problem(k, v, r) for k, v in share["when"].items()))
            fraction = hits / len(responses)
            low, high = share["between"]
            if not low <= fraction <= high:
                self.failures.append(f"{where}: share of {share['when']} is {fraction:.2f}, not in [{low}, {high}]")

    def problem(self, key: str, want, r) -> str | None:
        """None when the response holds `key: want`, else what was seen instead."""
        if key == "status":
            return None if r.status == want else f"got {r.status} ({r.reason})"
        if key == "backend":
            return None if r.backend == want else f"got {r.backend!r}"
        if key == "server":
            if want is None:
                return None if r.pod is None else f"got pod {r.pod}"
            if r.pod is None:
                return "no pod answered"
            ns, name = r.pod.split("/")
            labels = self.lab.get("Pod", name, ns)["metadata"].get("labels") or {}
            return None if all(labels.get(k) == v for k, v in want.items()) else f"pod {r.pod} has labels {labels}"
        if key == "subset":
            return None if r.subset == want else f"got {r.subset!r}"
        if key == "attempts":
            return None if r.attempts == want else f"got {r.attempts}"
        if key == "elapsed_ms":
            low, high = want
            return None if low <= r.elapsed_ms <= high else f"got {r.elapsed_ms}"
        if key == "mtls":
            return None if r.mtls == want else f"got {r.mtls}"
        if key == "text_contains":
            wants = [want] if isinstance(want, str) else want
            missing = [w for w in wants if w not in r.text]
            return f"missing {missing}" if missing else None
        if key == "text_not_contains":
            wants = [want] if isinstance(want, str) else want
            present = [w for w in wants if w in r.text]
            return f"present {present}" if present else None
        if key == "request_headers":
            seen = r.request.headers if r.request is not None else {}
            for name, spec in want.items():
                value = seen.get(name) if hasattr(seen, "get") else None
                if spec is None:
                    if value is not None:
                        return f"{name} is {value!r}, expected absent"
                elif value is None:
                    return f"{name} absent"
                elif "equals" in spec and value != spec["equals"]:
                    return f"{name} is {value!r}"
                elif any(c not in value for c in spec.get("contains") or []):
                    return f"{name} is {value!r}"
            return None
        if key == "headers":
            for name, spec in want.items():
                value = r.headers.get(name)
                if spec is None and value is not None:
                    return f"{name} is {value!r}"
                if isinstance(spec, str) and value != spec:
                    return f"{name} is {value!r}"
            return None
        return f"unknown expectation key {key!r}"

    def check_get(self, where: str, g: dict) -> None:
        try:
            obj = self.lab.get(g["kind"], g["name"], g.get("namespace", "default"))
        except KubelabError as exc:
            self.failures.append(f"{where} get {g['kind']} {g['name']}: {exc}")
            return
        if not partial_match(g.get("fields") or {}, obj):
            self.failures.append(f"{where} get {g['kind']} {g['name']}: fields differ: {obj}")

    def check_injection(self, where: str, inj: dict) -> None:
        sidecar = SIDECARS[self.case["mesh"]]
        if "pod" in inj:
            ns, name = inj["pod"].split("/")
            pods = [self.lab.get("Pod", name, ns)]
        else:
            ns, app = inj["app"].split("/")
            pods = self.lab.list("Pod", ns, selector=f"app={app}")
            if not pods:
                self.failures.append(f"{where} injection {inj}: no pod labelled app={app}")
        for pod in pods:
            spec = pod["spec"]
            names = [c["name"] for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])]
            if (sidecar in names) != inj["sidecar"]:
                self.failures.append(f"{where} injection {pod['metadata']['name']}: containers {names}, "
                                     f"expected sidecar={inj['sidecar']}")

    def check_validation(self, where: str, v: dict) -> None:
        try:
            self.lab.apply(copy.deepcopy(v["object"]))
        except KubelabError as exc:
            if v["expect_valid"]:
                self.failures.append(f"{where}: rejected: {exc}")
            elif v.get("error_field") and v["error_field"] not in str(exc):
                self.failures.append(f"{where}: error does not name {v['error_field']!r}: {exc}")
            return
        if not v["expect_valid"]:
            self.failures.append(f"{where}: accepted, expected a rejection naming {v.get('error_field')!r}")


def partial_match(want, got) -> bool:
    if isinstance(want, dict):
        return isinstance(got, dict) and all(partial_match(v, got.get(k)) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and len(want) == len(got) and all(partial_match(w, g) for w, g in zip(want, got))
    return want == got
