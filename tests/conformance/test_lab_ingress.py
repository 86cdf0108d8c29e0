"""The Ingress conformance sample (samples/ingress/FORMAT.md), driven through the Lab exactly as
../shared/conformance-sample/README.md says the held-out checks drive kubelab."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import kubelab
from kubelab import KubelabError
from kubelab.net.http.tls import make_tls_secret

from .scenario import load_cases

CONTROLLERS = {"k8s.io/ingress-nginx": "ingress-nginx", "traefik.io/ingress-controller": "traefik"}
# the shared sample, then kubelab's own cases in the same format (cases/ingress/README.md)
OWN = Path(__file__).parent / "cases" / "ingress"
CASES = load_cases("ingress") + [yaml.safe_load(p.read_text()) for p in sorted(OWN.glob("*.yaml"))]


def _marks(case, item):
    if item.get("implementation_specific") or case.get("implementation_specific"):
        return [pytest.mark.implementation_specific]
    return []


def _params(key):
    for case in CASES:
        for i, item in enumerate(case.get(key) or []):
            yield pytest.param(case, item, id=f"{case['id']}[{i}]", marks=_marks(case, item))


_LABS: dict = {}


def _lab(case):
    """The case's cluster with every Ingress applied in order (built once per case; probes only read it)."""
    if case["id"] in _LABS:
        return _LABS[case["id"]]
    cluster = case["cluster"]
    lab = kubelab.connect("simulated", ingress_controller=CONTROLLERS[cluster["controller"]], seed=0)
    namespaces = {ing["metadata"].get("namespace", "default") for ing in case.get("ingresses") or []}
    namespaces |= {s.get("namespace", "default") for s in (cluster.get("services") or []) + (cluster.get("secrets") or [])}
    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
            for ns in sorted(namespaces - {"default"})]
    docs += list(cluster.get("ingress_classes") or [])
    for s in cluster.get("services") or []:
        docs.append({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": s["name"], "namespace": s.get("namespace", "default")},
                     "spec": {"ports": [{"name": p.get("name"), "port": p["port"]} if p.get("name") else {"port": p["port"]}
                                        for p in s["ports"]]}})
    for s in cluster.get("secrets") or []:
        docs.append(make_tls_secret(s["name"], s.get("namespace", "default"), s["cert_hosts"]))
    lab.apply(docs)
    if not case.get("validation"):
        for ing in case.get("ingresses") or []:
            lab.apply(ing)
    _LABS[case["id"]] = lab
    return lab


def _address(lab, controller):
    from kubelab.net.http.ingress_controllers import PROFILES

    p = PROFILES[controller]
    return lab.get("Service", p.service, p.namespace)["status"]["loadBalancer"]["ingress"][0]["ip"]


def _send(case, req):
    lab = _lab(case)
    addr = _address(lab, CONTROLLERS[case["cluster"]["controller"]])
    scheme = req.get("scheme", "http")
    headers = {}
    if scheme == "https":
        sni = req.get("sni") or req["host"]
        if req.get("host") and req["host"] != sni:
            headers["Host"] = req["host"]
        return lab.http(f"https://{sni}{req['path']}", method=req.get("method", "GET"), headers=headers,
                        resolve={sni: addr})
    if req.get("host"):
        headers["Host"] = req["host"]
    return lab.http(f"http://{addr}{req['path']}", method=req.get("method", "GET"), headers=headers)


@pytest.mark.parametrize("case,req", list(_params("requests")))
def test_request_lands_where_the_case_says(case, req):
    """Does the request reach the backend the case names (as the Ingress writes it), or get the 404?"""
    r = _send(case, req)
    if "expect_backend" in req:
        assert r.backend is not None and r.backend.split("/", 1)[1] == req["expect_backend"], r
    else:
        assert r.status == req["expect_status"], r
        if req["expect_status"] == 404:
            assert r.backend is None, r


@pytest.mark.parametrize("case,item", list(_params("tls")))
def test_sni_picks_the_secret(case, item):
    """Does an https request with SNI = host terminate TLS with the case's Secret (or the default certificate)?"""
    lab = _lab(case)
    addr = _address(lab, CONTROLLERS[case["cluster"]["controller"]])
    r = lab.http(f"https://{item['host']}/", resolve={item["host"]: addr})
    if item["tls_secret"] is None:
        assert r.tls_secret is None, r
    else:
        namespace = next(s.get("namespace", "default") for s in case["cluster"]["secrets"]
                         if s["name"] == item["tls_secret"])
        assert r.tls_secret == f"{namespace}/{item['tls_secret']}", r


@pytest.mark.parametrize("case,item", list(_params("assigned_class")))
def test_class_after_admission(case, item):
    """Is spec.ingressClassName what the DefaultIngressClass admission leaves?"""
    ns, name = item["ingress"].split("/")
    assert _lab(case).get("Ingress", name, ns)["spec"].get("ingressClassName") == item["class"]


@pytest.mark.parametrize("case,item", list(_params("status")))
def test_status_address(case, item):
    """Does status.loadBalancer carry the controller's address only for Ingresses it serves?"""
    ns, name = item["ingress"].split("/")
    lb = _lab(case).get("Ingress", name, ns)["status"]["loadBalancer"]
    assert bool(lb.get("ingress")) is item["load_balancer_address_populated"]


@pytest.mark.parametrize("case,item", list(_params("validation")))
def test_validation(case, item):
    """Is each Ingress accepted or rejected as the API server does, naming the field?"""
    lab = _lab(case)
    ns, name = item["ingress"].split("/")
    ingress = next(i for i in case["ingresses"] if i["metadata"]["name"] == name
                   and i["metadata"].get("namespace", "default") == ns)
    if item["expect_valid"]:
        lab.apply(ingress)
        return
    with pytest.raises(KubelabError) as err:
        lab.apply(ingress)
    if item.get("error_field"):
        assert item["error_field"] in str(err.value)
