"""Right answers written differently pass (issue 13): for every exercise of chapters 00-08 whose answer is YAML, the
reference manifests rewritten as JSON (flow style) and as Python objects pass every sub-check, hidden ones included;
for every function answer, a differently written function passes. The checks test behaviour, not text."""
import ipaddress
import json
import math
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from kubelab.course.exercises import check, registered
from kubelab.course.release import BEGIN_CODE, END_CODE, check_ids, is_check_cell
from tests.exercises.test_ch00 import HELLO

ROOT = Path(__file__).resolve().parents[2]


def _reference_answers() -> dict:
    """exercise id -> the value of the answer variable after the solution notebook's answer cell runs."""
    answers = {}
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        if path.name[:2] > "08":   # chapters 09 on have their own right-answers-written-differently tests
            continue
        cells = nbformat.read(path, as_version=4).cells
        for index, cell in enumerate(cells):
            if cell.cell_type != "code" or not is_check_cell(cell) or not check_ids(cell.source):
                continue
            name = cell.source.split(",", 1)[1].split(")")[0].strip()
            source = next(c.source for c in reversed(cells[:index]) if c.cell_type == "code" and BEGIN_CODE in c.source
                          and name in c.source)
            namespace = {"ipaddress": ipaddress, "math": math}
            exec("\n".join(l for l in source.splitlines() if l.strip() not in (BEGIN_CODE, END_CODE))
                 .split("\n\n\n")[0], namespace)
            answers[check_ids(cell.source)[0]] = namespace[name]
    return answers


REFERENCE = _reference_answers()
REFERENCE["00-first-pod"] = HELLO
YAML_EXERCISES = sorted(e for e, a in REFERENCE.items() if isinstance(a, str) and "kind:" in a)


def _json_text(manifests: str) -> str:
    return "---\n".join(json.dumps(d) + "\n" for d in yaml.safe_load_all(manifests) if d)


def _objects(manifests: str):
    docs = [d for d in yaml.safe_load_all(manifests) if d]
    return docs[0] if len(docs) == 1 else docs


@pytest.fixture(autouse=True)
def grading(monkeypatch):
    """Hidden sub-checks count, as when an instructor grades."""
    monkeypatch.setenv("KUBELAB_GRADING", "1")


def _all_chapters() -> list[str]:
    """Every chapter that has an exercise module (chNN_*.py), so a new chapter is covered or this test fails."""
    import kubelab.course.exercises as package
    return sorted({p.name[2:4] for p in Path(package.__file__).parent.glob("ch[0-9][0-9]_*.py")})


def test_every_exercise_is_covered():
    """Do the tables of right answers written differently (here for chapters 00-08, in test_ch09/test_ch10 and
    below for 09-11) cover every registered exercise of every chapter?"""
    from tests.exercises.test_ch09 import GATEWAY_OTHER, OTHER as INGRESS_OTHER
    from tests.exercises.test_ch10 import DIFFERENT as MESH_DIFFERENT
    all_ids = {e.id for c in _all_chapters() for e in registered(c)}
    assert set(_all_chapters()) >= {f"{n:02d}" for n in range(12)}
    early = {e for e in all_ids if e[:2] <= "08"}
    assert len(early) == 30           # 29 before lesson 03's nftables exercise (issue 14)
    assert set(YAML_EXERCISES) | set(FUNCTIONS) | {"02-policy-overlay", "06-cross-namespace"} == early
    assert set(INGRESS_OTHER) | set(GATEWAY_OTHER) | set(MESH_DIFFERENT) | {"11-capstone"} == all_ids - early


@pytest.mark.parametrize("exercise_id", YAML_EXERCISES)
@pytest.mark.parametrize("form", ["json", "objects"])
def test_yaml_answers_rewritten_pass(exercise_id, form):
    """Does the reference written as JSON documents, or handed in as dicts, pass every sub-check?"""
    answer = _json_text(REFERENCE[exercise_id]) if form == "json" else _objects(REFERENCE[exercise_id])
    result = check(exercise_id, answer)
    assert result and result.score == 1.0, str(result)


def _podcidr_owner(lab, ip):
    address = ipaddress.ip_address(ip)
    owners = [n["metadata"]["name"] for n in lab.list("Node")
              if any(ipaddress.ip_network(c).supernet_of(ipaddress.ip_network(f"{address}/{address.max_prefixlen}"))
                     for c in n["spec"].get("podCIDRs") or [] if ipaddress.ip_network(c).version == address.version)]
    return owners[0] if owners else None


def _pod_mtu(underlay_mtu, encapsulation):
    if encapsulation == "VXLAN":
        return underlay_mtu - 50
    return underlay_mtu - 20 if encapsulation == "IP-in-IP" else underlay_mtu


def _outer_header(trace):
    return next(((h.src, h.dst) for h in trace.hops if h.where == "underlay" and "outer" in h.detail), None)


def _landing_endpoints(lab, service, namespace="default"):
    return sorted(f"{ip}:{s['ports'][0]['port']}"
                  for s in lab.list("EndpointSlice", namespace, selector=f"kubernetes.io/service-name={service}")
                  for e in s["endpoints"] if e["conditions"].get("ready") for ip in e["addresses"])


def _slices_needed(endpoints, max_per_slice):
    return max(1, -(-endpoints // max_per_slice))


def _serving_but_terminating(slices):
    return sorted(ip for s in slices for e in s.get("endpoints") or []
                  if (e.get("conditions") or {}).get("serving", True) is not False
                  and (e.get("conditions") or {}).get("terminating") for ip in e["addresses"])


def _service_ipv6(lab, name, namespace="default"):
    ips = [ip for ip in lab.get("Service", name, namespace)["spec"].get("clusterIPs") or []
           if ipaddress.ip_address(ip).version == 6]
    return ips[0] if ips else None


def _nft_landing(ruleset, cluster_ip, port):
    """The same walk as the reference, with regular expressions over whole chain bodies instead of a line parser."""
    element = re.search(rf"(?<![\d.]){re.escape(cluster_ip)} \. tcp \. {int(port)} : goto ([^,\s}}]+)", ruleset)
    if not element:
        return []
    bodies = dict(re.findall(r"chain (\S+) \{\n(.*?)\n\s*\}", ruleset, flags=re.S))
    arms = re.search(r"numgen random mod \d+ vmap \{(.*)\}", bodies.get(element.group(1), ""))
    chains = re.findall(r"goto (\S+?)(?:,|\s|$)", arms.group(1)) if arms else []
    return sorted({m for chain in chains for m in re.findall(r"dnat to (\S+)", bodies[chain])})


FUNCTIONS = {"01-podcidr-owner": _podcidr_owner, "02-pod-mtu": _pod_mtu, "02-outer-header": _outer_header,
             "03-ready-endpoints": _landing_endpoints, "03-nft-endpoints": _nft_landing, "05-slice-count": _slices_needed,
             "05-serving-terminating": _serving_but_terminating, "07-ipv6-address": _service_ipv6}


@pytest.mark.parametrize("exercise_id", sorted(FUNCTIONS))
def test_functions_written_differently_pass(exercise_id):
    """Does a function that computes the same thing another way pass every sub-check, hidden ones included?"""
    result = check(exercise_id, FUNCTIONS[exercise_id])
    assert result and result.score == 1.0, str(result)


@pytest.mark.parametrize("answer", [{"calico_mode": "ipip", "cni": "calico"}, {"cni": "cilium"}])
def test_policy_overlay_options_in_another_order_or_another_enforcing_overlay_pass(answer):
    """Do the options in another key order, or another overlay that enforces policy, pass?"""
    assert check("02-policy-overlay", answer)


def test_cross_namespace_name_with_surrounding_spaces_passes():
    """Is the fully qualified name accepted with stray spaces around it?"""
    assert check("06-cross-namespace", "  cart.billing.svc.cluster.local \n")


def test_capstone_fixes_in_another_order_as_json_pass():
    """Does the capstone answer pass with its fixes handed in in another order, round-tripped through JSON?"""
    from kubelab.course.capstone import Capstone
    scenario = Capstone("ada@example.org", 2, clock=lambda: 0.0)
    fixes = [doc for fault in reversed(scenario.faults) for doc in reversed(fault.fix(scenario.base))]
    answer = {"format": "kubelab-capstone/v1", "learner": " ada@example.org", "level": 2,
              "changes": json.loads(json.dumps(fixes)), "hints": [], "started_at": 0.0, "answered_at": 1.0}
    result = check("11-capstone", answer)
    assert result and result.score == 1.0, str(result)
