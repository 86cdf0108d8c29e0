"""Draws for configured shares (kubelab.net.shares): evenly spread per decision point, independent across points,
and taking from the generator exactly what the caller draws."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from kubelab.net.mesh.routing import Destination, pick_weighted
from kubelab.net.shares import even_draw


@pytest.mark.parametrize("share", [0.1, 0.25, 0.5, 0.7, 0.9])
@pytest.mark.parametrize("seed", range(5))
def test_every_run_of_requests_gets_its_share_within_a_few_requests(share, seed):
    rng = random.Random(seed)
    hits = 0
    for n in range(1, 201):
        hits += even_draw(rng, "point", rng.random()) < share
        assert abs(hits - share * n) <= 3.5, (n, hits)   # independent draws stray by ~sqrt(n): 7 at 200


def test_the_generator_advances_as_if_the_caller_drew_alone():
    ours, plain = random.Random(3), random.Random(3)
    for _ in range(50):
        even_draw(ours, ("a",), ours.random())
        plain.random()
    assert ours.random() == plain.random()


def test_two_points_drawn_together_are_independent():
    """A 50 % fault and a 50/50 split on the same requests: each of the four combinations about a quarter."""
    rng = random.Random(0)
    pairs = Counter((even_draw(rng, "fault", rng.random()) < 0.5, even_draw(rng, "split", rng.random()) < 0.5)
                    for _ in range(400))
    assert all(80 <= pairs[(a, b)] <= 120 for a in (True, False) for b in (True, False)), pairs


def test_points_are_kept_per_generator():
    first, second = random.Random(1), random.Random(1)
    assert [even_draw(first, "p", first.random()) for _ in range(5)] == \
        [even_draw(second, "p", second.random()) for _ in range(5)]


def test_a_weighted_split_shows_its_weights_in_ten_requests():
    v1, v2 = Destination("reviews.default.svc.cluster.local", "v1", weight=70), \
        Destination("reviews.default.svc.cluster.local", "v2", weight=30)
    rng = random.Random(0)
    picks = Counter(pick_weighted((v1, v2), rng).subset for _ in range(10))
    assert picks in (Counter(v1=7, v2=3), Counter(v1=6, v2=4), Counter(v1=8, v2=2))
    picks += Counter(pick_weighted((v1, v2), rng).subset for _ in range(90))
    assert 69 <= picks["v1"] <= 71
