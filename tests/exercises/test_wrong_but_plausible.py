"""Wrong-but-plausible answers fail, across chapters 01-07 (issue 13): each is the reference with one edit a learner
could make, and each must lose credit while still applying (the check sees the behaviour, not a typo)."""
import pytest

from kubelab.course.exercises import check
from tests.exercises.test_alternatives import REFERENCE

WRONG = {
    "01-pod-on-node-2: pinned to node-1": ("01-pod-on-node-2", "nodeName: node-2", "nodeName: node-1"),
    "01-node-agent: without hostNetwork": ("01-node-agent", "  hostNetwork: true\n", ""),
    "03-api-service: no selector": ("03-api-service", "  selector:\n    app: api\n", ""),
    "03-sticky-sessions: a 60 s timeout": ("03-sticky-sessions", "timeoutSeconds: 600", "timeoutSeconds: 60"),
    "04-nodeport: Service port 8080": ("04-nodeport", "  - port: 80\n", "  - port: 8080\n"),
    "04-client-ip: externalTrafficPolicy Cluster": ("04-client-ip", "externalTrafficPolicy: Local",
                                                   "externalTrafficPolicy: Cluster"),
    "04-headless: a ClusterIP Service": ("04-headless", "  clusterIP: None\n", ""),
    "05-external-slice: label naming another Service": ("05-external-slice", "kubernetes.io/service-name: pg",
                                                        "kubernetes.io/service-name: pgx"),
    "06-db-pod-name: no subdomain": ("06-db-pod-name", "  subdomain: db\n", ""),
    "07-dual-stack-service: PreferDualStack": ("07-dual-stack-service", "RequireDualStack", "PreferDualStack"),
    "07-hostaliases: one entry only": ("07-hostaliases", '  - ip: "10.0.0.50"\n    hostnames:\n    - "cache.local"\n', ""),
}
RIGHT = {
    "06-one-query: ndots 2 (www.example.com has two dots)": ("06-one-query", 'value: "1"', 'value: "2"'),
}


def _edit(exercise_id, old, new):
    answer = REFERENCE[exercise_id]
    assert old in answer, old  # the edit must apply, so a typo in a test cannot pass silently
    return answer.replace(old, new)


@pytest.fixture(autouse=True)
def grading(monkeypatch):
    """Hidden sub-checks count, as when an instructor grades."""
    monkeypatch.setenv("KUBELAB_GRADING", "1")


@pytest.mark.parametrize("case", sorted(WRONG))
def test_wrong_but_plausible_answers_lose_credit(case):
    """Does the edited answer apply and still lose credit?"""
    result = check(WRONG[case][0], _edit(*WRONG[case]))
    assert result.score < 1.0 and not result, str(result)


@pytest.mark.parametrize("case", sorted(RIGHT))
def test_right_answers_that_differ_from_the_reference_pass(case):
    """Does an answer that differs from the reference but meets the brief pass every sub-check?"""
    result = check(RIGHT[case][0], _edit(*RIGHT[case]))
    assert result and result.score == 1.0, str(result)
