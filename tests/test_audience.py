"""Audience overlap: MinHash estimates against exact Jaccard, unknown audiences, and the stored signatures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from matcher.audience import AudienceSketch, commenters_by_creator, exact_jaccard
from matcher.config import AudienceConfig
from matcher.errors import StoreError


def _sets(seed: int, n: int = 12) -> dict[str, set[str]]:
    """Creators drawing commenters from a shared pool, so overlaps range from none to large."""
    rng = np.random.default_rng(seed)
    pool = [f"u{i:05d}" for i in range(3000)]
    out = {}
    for k in range(n):
        lo = int(rng.integers(0, 2000))
        size = int(rng.integers(40, 400))
        out[f"c{k:03d}"] = {pool[(lo + j) % len(pool)] for j in range(size)} | {f"own{k}-{j}" for j in range(int(rng.integers(0, 50)))}
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_estimate_within_minhash_bound_of_exact_jaccard(seed: int) -> None:
    sets = _sets(seed)
    cfg = AudienceConfig(num_perm=256, seed=seed + 1)
    sk = AudienceSketch(cfg).fit_sets(list(sets), list(sets.values()))
    ids = list(sets)
    est = sk.overlaps(ids)
    errs = []
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            exact = exact_jaccard(sets[ids[i]], sets[ids[j]])
            sd = math.sqrt(max(exact * (1 - exact), 1e-12) / cfg.num_perm)
            # Four standard errors (plus one position for a zero overlap): a seeded bound that holds.
            assert abs(est[i, j] - exact) <= 4 * sd + 1 / cfg.num_perm, (ids[i], ids[j], est[i, j], exact)
            errs.append(abs(est[i, j] - exact))
    assert np.mean(errs) <= 0.5 / math.sqrt(cfg.num_perm)
    assert np.allclose(np.diag(est), 1.0)


def test_distinct_share_tracks_exact_union() -> None:
    sets = _sets(7, n=6)
    sk = AudienceSketch(AudienceConfig(num_perm=512)).fit_sets(list(sets), list(sets.values()))
    rep = sk.report(list(sets))
    exact = len(set().union(*sets.values())) / sum(len(s) for s in sets.values())
    assert rep.distinct_share == pytest.approx(exact, abs=0.06)
    assert rep.commenters == sum(len(s) for s in sets.values())
    assert len(rep.pairs) == 15 and rep.unknown == ()


def test_identical_and_disjoint_audiences() -> None:
    a = {f"u{i}" for i in range(100)}
    b = {f"v{i}" for i in range(100)}
    sk = AudienceSketch().fit_sets(["x", "y", "z"], [a, a, b])
    assert sk.overlap("x", "y") == 1.0
    assert sk.overlap("x", "z") == 0.0
    assert sk.report(["x", "y"]).distinct_share == pytest.approx(0.5)
    assert sk.report(["x", "z"]).distinct_share == pytest.approx(1.0, abs=0.05)


def test_too_few_commenters_or_no_comments_is_unknown() -> None:
    cfg = AudienceConfig(min_commenters=10)
    sk = AudienceSketch(cfg).fit_sets(["big", "small"], [{f"u{i}" for i in range(50)}, {f"u{i}" for i in range(9)}])
    assert sk.overlap("big", "small") is None
    assert sk.overlap("big", "nobody") is None
    rep = sk.report(["big", "small"])
    assert rep.unknown == ("small",) and rep.pairs[0].jaccard is None and rep.max_jaccard is None
    empty = AudienceSketch(cfg).fit(None, pd.DataFrame({"post_id": [], "creator_id": []}))
    assert empty.overlap("big", "small") is None
    assert empty.report(["big"]).distinct_share is None


def test_commenters_leave_out_the_creators_own_replies() -> None:
    posts = pd.DataFrame({"post_id": ["p1", "p2", "p3"], "creator_id": ["a", "a", "b"]})
    comments = pd.DataFrame(
        {
            "post_id": ["p1", "p1", "p2", "p2", "p3", "p3"],
            "author_id": ["u1", "a", "u1", "u2", "u2", "x"],
            "is_creator_reply": [False, None, False, False, False, True],
        }
    )
    got = commenters_by_creator(comments, posts)
    assert got.to_dict() == {"a": ["u1", "u2"], "b": ["u2"]}


def test_files_round_trip_and_refuse_a_mismatch() -> None:
    sets = _sets(3, n=5)
    sk = AudienceSketch(AudienceConfig(num_perm=64, seed=9)).fit_sets(list(sets), list(sets.values()))
    files = sk.to_files()
    assert np.load(__import__("io").BytesIO(files["audience_signatures.npy"]), allow_pickle=False).dtype == np.uint64
    field = sk.manifest_field()
    assert field["num_perm"] == 64 and field["seed"] == 9 and field["scheme"] == "affine64"
    back = AudienceSketch.from_files(files.__getitem__, field)
    np.testing.assert_array_equal(back.overlaps(list(sets)), sk.overlaps(list(sets)))
    with pytest.raises(StoreError, match="audience signatures"):
        AudienceSketch.from_files(files.__getitem__, {**field, "num_perm": 128})
    gone = sk.without(["c000"])
    assert gone.commenters("c000") == 0 and gone.commenters("c001") == sk.commenters("c001")


def test_estimates_on_the_sample_comments_are_within_the_bound_of_exact_jaccard(sample) -> None:
    """The sample's real comment structure (regulars, one-off accounts, engagement pods) against exact Jaccard."""
    comments = pd.read_csv(sample.comments, dtype=str, keep_default_na=False)
    posts = pd.read_csv(sample.posts, dtype=str, keep_default_na=False)
    sets = commenters_by_creator(comments, posts)
    cfg = AudienceConfig()
    sets = sets[sets.map(len) >= cfg.min_commenters]
    ids = sets.index.tolist()
    sk = AudienceSketch(cfg).fit(comments, posts)
    est = sk.overlaps(ids)
    members = [set(sets[c]) for c in ids]
    iu = np.triu_indices(len(ids), 1)
    exact = np.array([exact_jaccard(members[i], members[j]) for i, j in zip(*iu)])
    err = np.abs(est[iu] - exact)
    sd = np.sqrt(exact * (1 - exact) / cfg.num_perm)
    assert (exact > 0).sum() >= 20  # pods and shared accounts: some pairs do overlap
    assert err.mean() <= 0.01
    assert np.mean(err <= 3 * sd + 1 / cfg.num_perm) >= 0.99
    assert err.max() <= 0.5 / math.sqrt(cfg.num_perm) * 3
