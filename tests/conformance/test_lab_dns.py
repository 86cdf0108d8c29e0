"""The DNS conformance sample, driven through the Lab exactly as the held-out checks drive it."""
from __future__ import annotations

import pytest

from pathlib import Path

import yaml

from .scenario import build_lab, load_cases

OWN = Path(__file__).parent / "own" / "dns"      # kubelab's own cases, same format (own/dns/README.md)


def _cases():
    return load_cases("dns") + [yaml.safe_load(p.read_text()) for p in sorted(OWN.glob("dns-k-*.yaml"))]


def _expectations():
    for case in _cases():
        for i, exp in enumerate(case["expect"]):
            marks = []
            if exp.get("implementation_specific") or case.get("implementation_specific"):
                marks.append(pytest.mark.implementation_specific)
            yield pytest.param(case, exp, id=f"{case['id']}[{i}]", marks=marks)


def _record_value(rec):
    if rec.type == "SRV":
        return {"port": rec.port, "target": rec.target.rstrip(".")}
    return rec.value.rstrip(".") if rec.type in ("CNAME", "PTR") else rec.value


@pytest.mark.parametrize("case,exp", list(_expectations()))
def test_dns_expectation(case, exp):
    """Does the simulated cluster DNS answer what real Kubernetes and CoreDNS answer?"""
    lab = build_lab(case["cluster"])
    if "resolv_conf_for" in exp:
        text = lab.resolv_conf(exp["resolv_conf_for"])
        lines = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
        nameservers = [parts[1] for parts in lines if parts[0] == "nameserver"]
        search = next((parts[1:] for parts in lines if parts[0] == "search"), [])
        options = {o for parts in lines if parts[0] == "options" for o in parts[1:]}
        if "nameservers" in exp:
            assert nameservers == exp["nameservers"]
        if "search" in exp:
            assert search == exp["search"]
        if "options" in exp:
            assert options == set(exp["options"])
        return
    if "pod_hostname_for" in exp:
        assert lab.hostname(exp["pod_hostname_for"]) == exp["hostname"]
        if "fqdn" in exp:
            assert lab.hostname(exp["pod_hostname_for"], fqdn=True) == exp["fqdn"]
        return
    src = None
    if exp.get("from_namespace"):
        ns = exp["from_namespace"]
        lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "dns-probe", "namespace": ns},
                   "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
        src = f"{ns}/dns-probe"
    ans = lab.resolve(exp["query"], exp.get("type", "A"), src=src)
    assert ans.rcode == exp.get("rcode", "NOERROR"), str(ans)
    records = [r for r in ans.records if r.type == exp.get("type", "A")]
    if "answers" in exp:
        got = [_record_value(r) for r in records]
        want = exp["answers"]
        if exp.get("type") == "SRV":
            for w in want:
                if "target_suffix" in w:
                    assert any(g["port"] == w["port"] and g["target"].endswith(w["target_suffix"].rstrip("."))
                               for g in got), got
                else:
                    assert {"port": w["port"], "target": w["target"].rstrip(".")} in got, got
            assert len(got) == len(want), got
        else:
            assert sorted(map(str, got)) == sorted(map(str, want)), str(ans)
    if "answer_count" in exp:
        assert len(records) == exp["answer_count"], str(ans)
    for bad in exp.get("answers_exclude") or []:
        assert bad not in [_record_value(r) for r in records]
    if "cname_chain" in exp:
        assert [c.rstrip(".") for c in ans.cname_chain] == [c.rstrip(".") for c in exp["cname_chain"]]
    if "resolved_name" in exp:
        assert ans.name.rstrip(".") == exp["resolved_name"].rstrip(".")
