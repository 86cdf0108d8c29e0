"""Is each learner's capstone their own, rebuilt exactly from their id, and graded by behaviour: tickets resolved
by fixing the cause count, wrong fixes that break an invariant do not?"""
import copy
import json
import os
import subprocess
import sys

import pytest

import kubelab
from kubelab.course.capstone import LEVELS, Capstone, draw, seed_of
from kubelab.course.faults import FAULTS, INVARIANTS, JOURNEYS, by_id

LEARNER = "ada@example.org"


def _learner_with(fault_id: str) -> str:
    """The first learner id (learner-0, learner-1, ...) whose level-3 draw holds the fault."""
    for n in range(2000):
        if fault_id in {f.id for f in draw(f"learner-{n}", 3)}:
            return f"learner-{n}"
    raise AssertionError(f"no learner among 2000 draws {fault_id}")


@pytest.fixture(scope="module")
def scenario():
    return Capstone(LEARNER, 2, clock=lambda: 0.0)


def _answer(scenario, changes=(), hints=()):
    return {"format": "kubelab-capstone/v1", "learner": scenario.learner_id, "level": scenario.level,
            "changes": copy.deepcopy(list(changes)), "hints": list(hints), "started_at": 0.0, "answered_at": 60.0}


def _fixes(scenario):
    return [doc for fault in scenario.faults for doc in fault.fix(scenario.base)]


def _line(result, prefix):
    return [c for c in result.checks if c.name.startswith(prefix)]


def test_seed_is_the_same_in_every_process():
    """Is the seed the same in processes with different hash salts (hashlib, not hash())?"""
    code = "from kubelab.course.capstone import seed_of; print(seed_of('ada@example.org'))"
    seeds = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONHASHSEED": salt}).stdout.strip() for salt in ("1", "2")}
    assert seeds == {str(seed_of(LEARNER))}
    assert seed_of(LEARNER) == seed_of(" ada@example.org ") and seed_of("a") != seed_of("b")


@pytest.mark.parametrize("learner", [f"learner-{n}" for n in range(12)])
def test_combined_faults_break_only_their_journeys_and_all_fixes_clear_them(learner):
    """With 5 faults together, is each ticket's journey broken (and nothing else), and do the fixes clear all?"""
    s = Capstone(learner, 3, clock=lambda: 0.0)
    everything = {**JOURNEYS, **INVARIANTS}
    assert {n for n, j in everything.items() if not j.run(s.lab).ok} == {j for f in s.faults for j in f.breaks}
    s.apply(_fixes(s))
    assert {n for n, j in everything.items() if not j.run(s.lab).ok} == set()


def test_same_learner_same_scenario_byte_for_byte(scenario):
    """Does rebuilding a learner's scenario give the same manifests, tickets and cluster, byte for byte?"""
    again = Capstone(LEARNER, 2, clock=lambda: 0.0)
    assert json.dumps(again.manifests, sort_keys=True) == json.dumps(scenario.manifests, sort_keys=True)
    assert again.tickets == scenario.tickets
    pods = lambda s: json.dumps(sorted((p["metadata"]["name"], p["status"].get("podIP"))
                                       for p in s.lab.list("Pod")))
    assert pods(again) == pods(scenario)


def test_different_learners_get_different_fault_sets():
    """Do ten learners get (almost all) different fault sets, and every level its number of faults?"""
    sets = {tuple(sorted(f.id for f in draw(f"learner-{n}", 2))) for n in range(10)}
    assert len(sets) >= 9
    for level, count in LEVELS.items():
        faults = draw(LEARNER, level)
        assert len(faults) == count
        journeys = [j for f in faults for j in f.breaks]
        targets = [t for f in faults for t in f.targets]
        assert len(journeys) == len(set(journeys)) and len(targets) == len(set(targets))


def test_a_fault_added_to_the_library_keeps_the_draws_it_does_not_join(monkeypatch):
    """Does adding a fault leave every learner's draw alone unless the new fault is in it (so an instructor
    rebuilds an old scenario after the library grew)?"""
    import kubelab.course.capstone as capstone_module

    for newest in (FAULTS[-1], FAULTS[len(FAULTS) // 2]):
        after = {n: draw(f"learner-{n}", 3) for n in range(60)}
        monkeypatch.setattr(capstone_module, "FAULTS", tuple(f for f in FAULTS if f is not newest))
        before = {n: draw(f"learner-{n}", 3) for n in range(60)}
        monkeypatch.undo()
        kept = [n for n in after if newest not in after[n]]
        assert kept and all(after[n] == before[n] for n in kept)
        assert any(newest in after[n] for n in after)    # and it does reach some learners


def test_every_fault_is_drawn_for_some_learner():
    """Can every fault of the library end up in a learner's scenario?"""
    for fault in FAULTS:
        assert _learner_with(fault.id)


def test_the_scenario_is_broken_exactly_as_its_tickets_say(scenario):
    """Are the journeys the faults declare broken, and every other journey and invariant working?"""
    broken = {name for name, j in {**JOURNEYS, **INVARIANTS}.items() if not j.run(scenario.lab).ok}
    assert broken == {j for f in scenario.faults for j in f.breaks}
    assert scenario.progress().resolved == 0


def test_tickets_and_progress_never_name_a_cause(scenario):
    """Do the tickets and the progress view say symptoms only (no fault id, no object of the cause)?"""
    text = "\n".join(scenario.tickets) + str(scenario.progress()) + scenario.progress()._repr_html_()
    for fault in scenario.faults:
        assert fault.id not in text and fault.effect not in text


def test_hints_escalate_and_are_recorded():
    """Do hints go symptom -> layer -> object, and does the answer record each one?"""
    s = Capstone(LEARNER, 1, clock=lambda: 0.0)
    first, second, third = s.hint(1), s.hint(1), s.hint(1)
    fault = s.faults[0]
    assert "Reproduce" in first and fault.layer in second and fault.targets[0][2] in third
    assert s.answer()["hints"] == [{"ticket": 1, "level": 1}, {"ticket": 1, "level": 2}, {"ticket": 1, "level": 3}]
    with pytest.raises(kubelab.KubelabError, match="ticket must be"):
        s.hint(9)


def test_an_empty_answer_scores_nothing(scenario):
    result = kubelab.check("11-capstone", _answer(scenario))
    assert result.total == len(scenario.faults) and result.passed == 0


def test_the_documented_fixes_score_everything_and_progress_shows_it():
    """Do the faults' fixes, applied to the learner's cluster and collected by answer(), earn full marks?"""
    s = Capstone(LEARNER, 2, clock=lambda: 0.0)
    s.apply(_fixes(s))
    assert s.progress().resolved == len(s.faults)
    answer = json.loads(json.dumps(s.answer()))            # plain data, as a grader outside the kernel gets it
    result = kubelab.check("11-capstone", answer)
    assert bool(result), str(result)


def test_partial_credit_per_fault(scenario):
    result = kubelab.check("11-capstone", _answer(scenario, scenario.faults[0].fix(scenario.base)))
    assert result.passed == 1 and result.total == len(scenario.faults)
    assert _line(result, "ticket 1 resolved")[0].ok


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
def test_the_grader_detects_every_fault_and_accepts_its_fix(fault):
    """In a learner's scenario holding the fault, is its ticket failed before the fix and passed after?"""
    learner = _learner_with(fault.id)
    s = Capstone(learner, 3, clock=lambda: 0.0)
    n = [f.id for f in s.faults].index(fault.id) + 1
    before = kubelab.check("11-capstone", _answer(s))
    after = kubelab.check("11-capstone", _answer(s, fault.fix(s.base)))
    assert not _line(before, f"ticket {n} resolved")[0].ok
    assert _line(after, f"ticket {n} resolved")[0].ok


# ---------------------------------------------------------------- wrong fixes fail the invariants
def _allow_all(namespace="shop"):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": namespace},
            "spec": {"podSelector": {}, "ingress": [{}], "policyTypes": ["Ingress"]}}


def _failed_requirements(result):
    return [c.name for c in result.checks if c.kind in ("check", "blocked") and not c.ok
            and not c.name.startswith("ticket")]


def test_an_allow_all_policy_fails_the_invariants(scenario):
    result = kubelab.check("11-capstone", _answer(scenario, _fixes(scenario) + [_allow_all()]))
    assert "invariant: no NetworkPolicy lets every pod in" in _failed_requirements(result)
    assert not result
    # every ticket is fixed, but a fix that breaks an invariant earns nothing, over the same denominator
    assert result.passed == 0 and result.total == len(scenario.faults)
    tickets = [c for c in result.checks if c.name.startswith("ticket")]
    assert tickets and not any(c.ok for c in tickets)
    # a ticket the allow-all does not reopen is fixed, and says what the change broke
    assert any("your changes broke: invariant: no NetworkPolicy lets every pod in" in c.hint for c in tickets)


def _learner_without(journey: str, level: int = 2) -> str:
    """The first learner id whose draw leaves `journey` alone (so it is graded as an invariant, not a ticket)."""
    return next(f"learner-{n}" for n in range(2000)
                if not any(journey in f.breaks for f in draw(f"learner-{n}", level)))


def test_deleting_every_network_policy_fails_the_database_invariant():
    scenario = Capstone(_learner_without("db-isolated"), 2, clock=lambda: 0.0)
    deletes = [{"delete": {"kind": "NetworkPolicy", "namespace": d["metadata"]["namespace"],
                           "name": d["metadata"]["name"]}}
               for d in scenario.base if d["kind"] == "NetworkPolicy"]
    result = kubelab.check("11-capstone", _answer(scenario, deletes))
    assert "invariant: the database refuses everyone but the cart" in _failed_requirements(result)
    assert "invariant: CoreDNS talks only to its two upstream resolvers" in _failed_requirements(result)


def test_disabling_mtls_fails_the_invariants(scenario):
    permissive = {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                  "metadata": {"name": "default", "namespace": "shop"}, "spec": {"mtls": {"mode": "PERMISSIVE"}}}
    result = kubelab.check("11-capstone", _answer(scenario, _fixes(scenario) + [permissive]))
    assert "invariant: mTLS stays STRICT in shop" in _failed_requirements(result)


def test_deleting_the_mesh_fails_the_invariants(scenario):
    out_of_mesh = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {}}}
    result = kubelab.check("11-capstone", _answer(scenario, _fixes(scenario) + [out_of_mesh]))
    assert "invariant: the shop stays in the mesh" in _failed_requirements(result)


def test_a_bare_list_of_manifests_is_refused_with_what_to_hand_in(scenario):
    result = kubelab.check("11-capstone", _fixes(scenario))
    assert result.passed == 0 and "scenario.answer()" in result.checks[0].hint


@pytest.mark.parametrize("peer", [{"podSelector": {}}, {"namespaceSelector": {}}, {"ipBlock": {"cidr": "0.0.0.0/0"}}],
                         ids=["all-pods", "all-namespaces", "all-addresses"])
def test_every_spelling_of_allow_all_fails_the_invariant(scenario, peer):
    """Is an added rule admitting every pod, namespace or address to the API recognised as allow-all?"""
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "open-api", "namespace": "shop"},
              "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "ingress": [{"from": [peer]}],
                       "policyTypes": ["Ingress"]}}
    result = kubelab.check("11-capstone", _answer(scenario, _fixes(scenario) + [policy]))
    assert "invariant: no NetworkPolicy lets every pod in" in _failed_requirements(result)
