"""Drive kubelab with a Gateway API conformance case exactly as ../shared/conformance-sample/gateway/FORMAT.md says:
connect(gateway_controller="envoy-gateway"), the base infrastructure, the case's manifests in one apply, then
requests through lab.http and status read back with lab.get."""
from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import urlsplit

import yaml

import kubelab
from kubelab.net.http.tls import make_tls_secret

SAMPLES = Path(__file__).parent / "samples" / "gateway"
OWN = Path(__file__).parent / "own" / "gateway"      # kubelab's own cases, same format, ids gwk-NNN


def load_gateway_cases() -> list[dict]:
    files = sorted(SAMPLES.glob("gw-*.yaml")) + sorted(OWN.glob("gwk-*.yaml"))
    return [yaml.safe_load(p.read_text()) for p in files]


@functools.lru_cache(maxsize=1)
def infra() -> dict:
    return yaml.safe_load((SAMPLES / "base" / "conformance-infra.yaml").read_text())


def infra_manifests() -> list[dict]:
    """Namespaces (labels as listed), echo-basic backends as ready pods <name>-0.. behind their Services, the TLS
    Secrets with real certificates for their hosts, and the base Gateways."""
    base = infra()
    docs = []
    for ns in base["namespaces"]:
        labels = {k: v for k, v in ns["labels"].items() if k != "kubernetes.io/metadata.name"}
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns["name"], "labels": labels}})
    for svc in base["services"]:
        selector = {"app": svc["name"]}
        docs.append({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": svc["name"], "namespace": svc["namespace"]},
                     "spec": {"selector": selector, "ports": svc["ports"]}})
        targets = sorted({p["targetPort"] for p in svc["ports"]})
        for i in range(svc["replicas"]):
            docs.append({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": f"{svc['name']}-{i}", "namespace": svc["namespace"], "labels": selector},
                         "spec": {"containers": [{"name": "echo", "image": base["backend_image"],
                                                  "ports": [{"containerPort": t} for t in targets]}]}})
    for i, secret in enumerate(base["secrets"]):
        docs.append(make_tls_secret(secret["name"], secret["namespace"], secret["cert_hosts"], seed=i))
    docs += base["gateways"]
    return docs


def build_lab(case: dict):
    lab = kubelab.connect("simulated", gateway_controller="envoy-gateway", seed=0)
    if (case.get("cluster") or {}).get("base") == "conformance-infra":
        lab.apply(infra_manifests())
    if case.get("manifests"):
        lab.apply(case["manifests"])
    return lab


def split(ref: str) -> tuple[str, str]:
    ns, _, name = ref.partition("/")
    return ns, name


def gateway_address(lab, gateway: str) -> str:
    ns, name = split(gateway)
    return lab.get("Gateway", name, ns)["status"]["addresses"][0]["value"]


def send(lab, case: dict, req: dict):
    """One request as the upstream suite sends it: to the Gateway's address, Host as given (or the address)."""
    addr = gateway_address(lab, req.get("gateway") or case["gateway"])
    scheme = req.get("scheme", "http")
    port = req.get("port") or (443 if scheme == "https" else 80)
    default = port == (443 if scheme == "https" else 80)
    headers = dict(req.get("headers") or {})
    if req.get("backend_response_headers"):
        headers["X-Echo-Set-Header"] = ",".join(f"{k}:{v}" for k, v in req["backend_response_headers"].items())
    host = req.get("host")
    path = req.get("path", "/")
    if scheme == "https":
        sni = req.get("sni") or host
        name = sni or addr
        if host and sni and host != sni:
            headers["Host"] = host
        url = f"https://{name}{'' if default else f':{port}'}{path}"
        return lab.http(url, method=req.get("method", "GET"), headers=headers or None,
                        resolve={name: addr} if name != addr else None), host or addr
    if host:
        headers["Host"] = host
    url = f"http://{addr}{'' if default else f':{port}'}{path}"
    return lab.http(url, method=req.get("method", "GET"), headers=headers or None), _host_only(host or addr)


def _host_only(host: str) -> str:
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def header_list(value) -> list[str]:
    """Header values compare as comma-separated lists, whitespace around commas ignored."""
    if value is None:
        return []
    return [v.strip() for v in str(value).split(",")]


def received_header(request, name: str):
    return request.headers.get(name)


def location_parts(location: str) -> dict:
    parts = urlsplit(location)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = parts.port if parts.port != default else None
    return {"scheme": parts.scheme, "host": parts.hostname, "port": port, "path": parts.path or "/"}


def conditions_hold(want: list[dict], have: list[dict]) -> list[str]:
    """Each wanted condition (type, status, reason if given) must be present; returns what is missing."""
    missing = []
    for w in want or []:
        got = next((c for c in have or [] if c.get("type") == w["type"]), None)
        if got is None or got.get("status") != w["status"] or ("reason" in w and got.get("reason") != w["reason"]):
            missing.append(f"{w} (have {got})")
    return missing
