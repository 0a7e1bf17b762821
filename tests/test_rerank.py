import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.config import Weights
from matcher.rerank import combine, topic_score

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
anyfloat = st.floats(allow_nan=True, allow_infinity=True)


@given(t=anyfloat, e=anyfloat, r=anyfloat, wt=unit, we=unit, wr=st.floats(min_value=0.01, max_value=1.0))
def test_score_is_bounded_and_equals_sum_of_contributions(t, e, r, wt, we, wr):
    w = Weights(topic=wt, engagement=we, trust=wr)
    score, contrib = combine({"topic": t, "engagement": e, "trust": r}, w)
    assert 0.0 <= score <= 1.0 + 1e-9
    assert abs(score - sum(contrib.values())) < 1e-9


@given(base=st.tuples(unit, unit, unit), bump=st.floats(min_value=0.0, max_value=1.0), which=st.sampled_from(["topic", "engagement", "trust"]))
def test_score_is_monotone_in_each_component(base, bump, which):
    comps = dict(zip(["topic", "engagement", "trust"], base))
    higher = dict(comps)
    higher[which] = min(1.0, comps[which] + bump)
    w = Weights()
    assert combine(higher, w)[0] >= combine(comps, w)[0] - 1e-12


@settings(max_examples=200)
@given(profile=st.floats(min_value=-1, max_value=1), posts=st.lists(st.floats(min_value=-1, max_value=1), max_size=20))
def test_topic_score_bounded_and_uses_best_posts(profile, posts):
    arr = np.array(posts, dtype=np.float32)
    t = topic_score(profile, arr)
    assert 0.0 <= t <= 1.0
    if posts:
        # Adding a weaker post than the current top three never raises the score.
        weaker = np.append(arr, min(posts) - 0.1 if min(posts) > -0.9 else -1.0)
        assert topic_score(profile, weaker) <= t + 1e-6 or len(posts) < 3


def test_topic_score_hand_computed():
    import pytest

    assert topic_score(0.4, np.array([0.9, 0.1, 0.8, 0.7], dtype=np.float32)) == pytest.approx(0.5 * 0.4 + 0.5 * 0.8, abs=1e-6)
    assert topic_score(0.3, np.zeros(0, dtype=np.float32)) == 0.3
    assert topic_score(-0.2, np.zeros(0, dtype=np.float32)) == 0.0
