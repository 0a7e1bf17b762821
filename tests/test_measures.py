"""matcher.measures: the one nDCG@10 behind ``matcher eval`` and the reranker's weight validation."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from matcher.measures import evaluate


def _textbook_ndcg(grades_in_run_order: list[int], all_grades: list[int], k: int = 10) -> float:
    disc = [1 / math.log2(i + 2) for i in range(k)]
    dcg = sum(g * d for g, d in zip(grades_in_run_order[:k], disc))
    idcg = sum(g * d for g, d in zip(sorted(all_grades, reverse=True)[:k], disc))
    return dcg / idcg


@settings(max_examples=30, deadline=None)
@given(grades=st.lists(st.integers(0, 4), min_size=1, max_size=25), seed=st.integers(0, 2**16), scale=st.integers(2, 7))
def test_ndcg_has_linear_gains_and_ignores_their_scale(grades, seed, scale):
    # The reranker scores held-out outcomes with whole-number gains that are a multiple of their
    # percentiles; that is sound only because nDCG is linear in the gains and free of their scale.
    assume(any(grades))
    order = np.random.default_rng(seed).permutation(len(grades))
    items = [f"c{i}" for i in range(len(grades))]
    qrels = pd.DataFrame({"brand_id": "b", "creator_id": items, "grade": grades})
    run = pd.DataFrame({"brand_id": "b", "creator_id": [items[i] for i in order], "rank": range(1, len(grades) + 1)})
    expected = _textbook_ndcg([grades[i] for i in order], grades)
    assert evaluate(run, qrels)["nDCG@10"] == pytest.approx(expected, abs=1e-12)
    assert evaluate(run, qrels.assign(grade=qrels["grade"] * scale))["nDCG@10"] == pytest.approx(expected, abs=1e-12)
