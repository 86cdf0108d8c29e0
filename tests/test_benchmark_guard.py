"""The benchmark guard's verdicts (benchmarks/guard.py): which figures it calls a regression, and that
its per-pair NetworkPolicy reference is a faithful yardstick. Speed itself is measured by the script."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def guard():
    spec = importlib.util.spec_from_file_location("guard", ROOT / "benchmarks" / "guard.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["guard"] = module           # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


RECORDED = {"apply": {"ratio": 3.0, "exponent": 1.1}, "dns-pod": {"ratio": 10.0, "exponent": 0.0}}


def _measured(**figures):
    base = {"apply": {"ratio": 3.0, "exponent": 1.1}, "dns-pod": {"ratio": 10.0, "exponent": 0.0}}
    for name, values in figures.items():
        base[name] = {**base[name], **values}
    return base


def test_within_the_slack_is_no_regression(guard):
    """A ratio up to 2x the recorded one and an exponent up to 0.3 above it pass; so does an improvement."""
    assert guard.compare(RECORDED, _measured(apply={"ratio": 5.9, "exponent": 1.39})) == []
    assert guard.compare(RECORDED, _measured(**{"dns-pod": {"ratio": 1.0, "exponent": -0.5}})) == []


def test_a_slower_ratio_is_a_regression_naming_the_figure(guard):
    """More than 2x the recorded ratio fails, and the message names the figure and both ratios."""
    problems = guard.compare(RECORDED, _measured(**{"dns-pod": {"ratio": 20.5}}))
    assert len(problems) == 1 and problems[0].startswith("dns-pod: ratio") and "10" in problems[0]


def test_steeper_growth_is_a_regression_naming_the_figure(guard):
    """An exponent more than 0.3 above the recorded one fails even when the ratio is within its slack."""
    problems = guard.compare(RECORDED, _measured(apply={"exponent": 1.5}))
    assert len(problems) == 1 and problems[0].startswith("apply: growth exponent 1.50")


def test_an_unmeasurable_figure_fails(guard):
    problems = guard.compare(RECORDED, _measured(apply={"error": "RuntimeError: boom"}))
    assert problems == ["apply: could not be measured (RuntimeError: boom)"]


def test_the_apply_regression_of_f3dfbe6_would_have_been_caught(guard):
    """The figures the quick guard measured at f3dfbe6 ("Warnings on apply...", which made apply
    quadratic; recorded in BENCHMARKS.md) fail against the recorded figures, on both counts."""
    recorded = json.loads((ROOT / "benchmarks" / "guard_recorded.json").read_text())["quick"]
    at_f3dfbe6 = {"apply": {"ratio": 28.5, "exponent": 1.93}}
    problems = guard.compare(recorded, at_f3dfbe6)
    assert [p.split(":")[0] for p in problems] == ["apply", "apply"]


def test_recorded_figures_cover_every_figure(guard):
    """Every figure the guard measures has a recorded quick ratio and exponent to be checked against."""
    recorded = json.loads((ROOT / "benchmarks" / "guard_recorded.json").read_text())["quick"]
    assert set(recorded) == set(guard.FIGURES) == set(guard.SIZES["quick"])


def test_per_pair_reference_agrees_with_the_policy_engine(guard):
    """The reachability figure's yardstick: the per-pair evaluator gives kubelab's verdict on every pair
    of a small seeded cluster (so its time is the time of the same job)."""
    import kubelab

    namespaces, pods, policies = guard.policy_cluster(60, seed=3)
    lab = kubelab.connect(seed=0)
    lab.apply(namespaces + pods + policies)
    matrix = lab.reachability(port=80)
    reference = guard.PerPairReference(namespaces, pods, policies)
    keys = sorted(reference.pods)
    verdicts = {(s, d): reference.allowed(s, d) for s in keys for d in keys}
    assert all(matrix[pair] == allowed for pair, allowed in verdicts.items())
    assert 0 < sum(verdicts.values()) < len(verdicts)          # both verdicts occur
