import gc
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.config import FitConfig, Weights
from matcher.rerank import Reranker, combine, match_columns, topic_score
from matcher.schema import Brand, Hit

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


def test_unavailable_components_share_out_their_weight():
    w = Weights(topic=0.6, engagement=0.1, trust=0.1, conversation=0.1, fit=0.1)
    full, _ = combine({"topic": 0.5, "engagement": 0.5, "trust": 0.5, "conversation": 0.5, "fit": 0.5}, w)
    missing, contrib = combine({"topic": 0.5, "engagement": 0.5, "trust": 0.5, "conversation": None, "fit": float("nan")}, w)
    # 0.5 × (0.6 + 0.4 × 0.5): topic keeps its 60% share, the others' mean (0.5) scales the rest.
    assert full == pytest.approx(0.4) and missing == pytest.approx(0.4)  # no penalty for a missing signal
    assert contrib["conversation"] == 0.0 and contrib["topic"] == pytest.approx(0.5 * 0.6)
    assert contrib["engagement"] == pytest.approx(0.5 * 0.4 * 0.5 * 0.5)


def test_hand_computed_score_with_default_weights():
    w = Weights(topic=0.4, engagement=0.1, trust=0.1, conversation=0.2, fit=0.2)
    score, contrib = combine({"topic": 0.6, "engagement": 0.2, "trust": 1.0, "conversation": None, "fit": 0.5}, w)
    quality = (0.1 * 0.2 + 0.1 * 1.0 + 0.2 * 0.5) / 0.4
    assert score == pytest.approx(0.6 * (0.4 + 0.6 * quality))
    assert contrib["trust"] == pytest.approx(0.6 * 0.6 * 0.25 * 1.0)
    # Perfect other signals keep the whole topical score; no other signal at all keeps it too.
    assert combine({"topic": 0.6, "engagement": 1.0, "trust": 1.0, "conversation": 1.0, "fit": 1.0}, w)[0] == pytest.approx(0.6)
    assert combine({"topic": 0.6}, w)[0] == pytest.approx(0.6)
    assert combine({"topic": None, "trust": 1.0}, w)[0] == 0.0


comps5 = st.fixed_dictionaries({n: st.one_of(st.none(), unit) for n in ["topic", "engagement", "trust", "conversation", "fit"]})
weights5 = st.tuples(unit, unit, unit, unit, unit).filter(lambda t: sum(t) > 0.01)


@given(comps=comps5, wt=weights5)
def test_other_signals_only_scale_topic(comps, wt):
    w = Weights(*wt)
    share = w.normalized()["topic"]
    score, _ = combine(comps, w)
    topic = comps["topic"] or 0.0
    assert share * topic - 1e-9 <= score <= topic + 1e-9


@given(a=comps5, b=comps5, wt=weights5)
def test_other_signals_cannot_lift_a_far_weaker_topical_match(a, b, wt):
    # Whatever their trust and engagement, a creator whose topical score is below the topic share
    # of another's never outranks it.
    w = Weights(*wt)
    share = w.normalized()["topic"]
    ta, tb = a["topic"] or 0.0, b["topic"] or 0.0
    if share * ta >= tb:
        assert combine(a, w)[0] >= combine(b, w)[0] - 1e-9


@given(
    rows=st.lists(st.tuples(anyfloat, anyfloat, anyfloat, anyfloat, anyfloat, st.floats(allow_nan=True)), min_size=1, max_size=12),
    wt=weights5,
)
def test_batch_scoring_equals_single_calls(rows, wt):
    from matcher.rerank import COMPONENTS, combine_many

    w = Weights(*wt)
    X = np.array([r[:5] for r in rows], dtype="float64")
    m = np.array([r[5] for r in rows], dtype="float64")
    scores, contrib = combine_many(X, w, m)
    for i, r in enumerate(rows):
        one, parts = combine(dict(zip(COMPONENTS, r[:5])), w, multiplier=1.0 if np.isnan(r[5]) else r[5])
        assert scores[i] == pytest.approx(one, abs=1e-12)
        assert contrib[i].sum() == pytest.approx(one, abs=1e-9)
        assert contrib[i, -1] == pytest.approx(parts.get("penalty", 0.0), abs=1e-12)


def test_penalty_is_a_negative_contribution():
    score, contrib = combine({"topic": 0.8, "engagement": 0.4, "trust": 1.0}, Weights(), multiplier=0.5)
    base, _ = combine({"topic": 0.8, "engagement": 0.4, "trust": 1.0}, Weights())
    assert score == pytest.approx(base * 0.5)
    assert contrib["penalty"] == pytest.approx(-base * 0.5)
    assert sum(contrib.values()) == pytest.approx(score)


@given(
    comps=st.fixed_dictionaries({n: st.one_of(st.none(), unit) for n in ["topic", "engagement", "trust", "conversation", "fit"]}),
    mult=unit,
)
def test_any_availability_keeps_score_bounded_and_additive(comps, mult):
    score, contrib = combine(comps, Weights(), multiplier=mult)
    assert -1e-9 <= score <= 1.0 + 1e-9
    assert abs(score - sum(contrib.values())) < 1e-9


def test_weights_roundtrip_as_plain_json(tmp_path):
    import json

    from matcher.errors import StoreError
    from matcher.rerank import load_weights, save_weights

    assert load_weights(tmp_path / "none.json") is None
    data = {"format": "matcher.weights", "model_version": 1, "weights": {"topic": 0.5, "engagement": 0.2, "trust": 0.3, "conversation": 0.0, "fit": 0.0}}
    p = save_weights(tmp_path / "w.json", data)
    w = load_weights(p)
    assert (w.topic, w.engagement, w.trust) == (0.5, 0.2, 0.3)
    p.write_text(json.dumps({**data, "model_version": 99}))
    with pytest.raises(StoreError, match="retrain"):
        load_weights(p)


@pytest.mark.slow
def test_train_learns_weights_that_beat_defaults_on_held_out_brands(built, sample, encoder, tmp_path):
    import json

    from matcher.ingest import load_outcomes
    from matcher.rerank import Reranker, load_weights, save_weights, train_weights
    from matcher.store import Store

    assert sample.outcomes is not None
    frame, _, report = load_outcomes(sample.outcomes)
    assert report.accepted > 200
    snap = Store(built.store).load()
    trained = train_weights(snap, encoder, frame, reranker=Reranker(), test_size=0.3, seed=1)
    assert trained["features"] == ["topic", "engagement", "trust", "conversation", "fit"]
    w = trained["weights"]
    # Each of the five weights is rounded to 6 decimals, so their sum is 1 within 5 x 0.5e-6.
    assert abs(sum(w.values()) - 1) <= 2.5e-6 + 1e-12 and all(v >= 0 for v in w.values())
    # The sample's outcomes multiply niche fit by audience genuineness and engagement level
    # (matcher.sample's outcome model): with topic already a factor of every score, the learner
    # must give trust and engagement real weight.
    assert w["trust"] >= 0.1 and w["engagement"] >= 0.1
    v = trained["validation"]
    assert v["spearman_learned"] > 0.3
    assert v["ndcg@10_learned"] >= v["ndcg@10_default"] - 0.05
    path = save_weights(tmp_path / "weights.json", trained)
    text = path.read_text()
    assert json.loads(text)["model_version"] == 1  # plain JSON, no pickle
    back = load_weights(path)
    assert back.topic == pytest.approx(w["topic"])


@pytest.mark.slow
def test_train_refuses_too_little_data(built, encoder):
    import pandas as pd

    from matcher.errors import ConfigError
    from matcher.rerank import Reranker, train_weights
    from matcher.store import Store

    snap = Store(built.store).load()
    few = pd.DataFrame({"brand_id": ["b001"] * 3, "creator_id": snap.creators["creator_id"].head(3), "outcome": [1.0, 2.0, 3.0]})
    with pytest.raises(ConfigError, match="need at least"):
        train_weights(snap, encoder, few, reranker=Reranker())


@pytest.mark.parametrize(
    ("signals", "said"),
    [
        ({"engagement_percentile": 0.16, "engagement_basis": "followers", "tier": "nano", "engagement_peers": 40}, "better than 16% of nano creators"),
        ({"engagement_percentile": 0.999, "engagement_basis": "followers", "tier": "micro", "engagement_peers": 3}, "better than 99% of micro creators"),
        ({"engagement_percentile": 0.51, "engagement_basis": "followers", "tier": "nano", "engagement_peers": 1}, "only nano creator here; better than 51% by published benchmarks"),
        ({"engagement_percentile": 0.3, "engagement_basis": "views", "tier": None, "engagement_peers": 12}, "better than 30% of creators measured per view"),
        ({"engagement_percentile": None, "engagement_basis": "followers", "tier": "nano"}, None),
        ({"engagement_percentile": float("nan"), "engagement_basis": "followers", "tier": "nano"}, None),
    ],
)
def test_engagement_standing_has_one_wording(signals, said):
    from matcher.rerank import engagement_standing

    assert engagement_standing(signals) == said


@dataclass
class _Served:
    """The part of a snapshot a match reads (a dataclass, as the store's Snapshot is)."""

    snapshot_id: str
    creators: pd.DataFrame
    signals: pd.DataFrame
    posts: pd.DataFrame
    niche_model: Any = None


def _served(name: str) -> _Served:
    creators = pd.DataFrame({
        "creator_id": [f"{name}1", f"{name}2"], "handle": [f"@{name}1", f"@{name}2"], "followers": [1200, None],
        "country": ["US", None], "language": ["en", "de"], "platform": ["instagram", "youtube"],
    })
    signals = pd.DataFrame({"flags": ["", "NO_POSTS"], "tier": ["micro", None]})
    posts = pd.DataFrame({
        "post_id": [f"{name}p1", f"{name}p2"], "text": ["trail shoes", "camp stove"], "is_sponsored": [True, False],
        "posted_at": ["2026-01-02T10:00:00Z", None],
    })
    return _Served(name, creators, signals, posts)


def test_match_columns_are_kept_per_snapshot():
    a, b = _served("a"), _served("b")
    ca, cb = match_columns(a), match_columns(b)
    assert list(ca["handle"]) == ["@a1", "@a2"] and list(cb["handle"]) == ["@b1", "@b2"]
    assert ca["followers"][0] == 1200 and np.isnan(ca["followers"][1])
    assert list(ca["post_sponsored"]) == [True, False] and list(ca["s:tier"]) == ["micro", None]
    for _ in range(3):  # requests alternating between two snapshots reuse both, rebuilding neither
        assert match_columns(a) is ca
        assert match_columns(b) is cb
    a.creators = a.creators.assign(handle=["@x", "@y"])  # replaced tables get fresh columns
    fresh = match_columns(a)
    assert fresh is not ca and list(fresh["handle"]) == ["@x", "@y"]
    posts = weakref.ref(b.posts)
    del b, cb
    gc.collect()
    assert posts() is None  # a collected snapshot takes its cached columns with it


def test_load_reranker_takes_the_stores_learned_weights_over_the_configs(tmp_path):
    from matcher.config import Config, FitConfig
    from matcher.rerank import WEIGHTS_FILE, load_reranker, save_weights

    cfg = Config(fit=FitConfig(min_followers=2_000))
    reranker, source = load_reranker(tmp_path, cfg)
    assert source == "config" and reranker.weights == cfg.weights and reranker.fit == cfg.fit
    learned = {"topic": 0.5, "engagement": 0.2, "trust": 0.1, "conversation": 0.1, "fit": 0.1}
    save_weights(tmp_path / WEIGHTS_FILE, {"format": "matcher.weights", "model_version": 1, "weights": learned})
    reranker, source = load_reranker(tmp_path, cfg)
    assert source == "learned" and reranker.weights == Weights.from_mapping(learned) and reranker.fit == cfg.fit
    assert reranker.rank_config == cfg.rank and reranker.evidence_posts == cfg.evidence_posts


# -- past collaborations and competitor conflicts ----------------------------------------------
def _collab_snapshot():
    """Three creators of one post each: c1 a recent paid partnership with Peakline (as its
    @handle), c2 one more than 90 days before the newest post, c3 names Peakline unsponsored."""
    from matcher.collaborations import collection_collaborations
    from matcher.index import VectorIndex
    from matcher.signals import post_signals
    from matcher.store import Snapshot

    ids = ["c1", "c2", "c3"]
    creators = pd.DataFrame({
        "creator_id": ids, "handle": ["jo", "sam", "kim"], "platform": "instagram", "followers": [5_000, 5_000, 5_000],
        "country": "US", "language": "en",
    })
    signals = pd.DataFrame({
        "creator_id": ids, "followers": [5_000, 5_000, 5_000], "engagement_score": 0.5, "trust_score": 0.5,
        "flags": "", "is_brand_account": False,
    })
    posts = pd.DataFrame({
        "post_id": ["p1", "p2", "p3"], "creator_id": ids,
        "text": ["Morning miles on the ridge", "Morning miles in the snow", "Morning miles, Peakline shoes as always"],
        "posted_at": pd.to_datetime(["2026-10-01", "2026-06-01", "2026-09-30"], utc=True),
        "sponsored": pd.array([True, True, False], dtype="boolean"),
        "sponsor": pd.array(["@peakline", "Peakline", None], dtype="string"),
    })
    posts = pd.concat([posts, post_signals(posts)], axis=1)
    vecs = np.eye(3, 4, dtype=np.float32) + 0.5
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    snap = Snapshot(
        snapshot_id="collab", creators=creators, signals=signals, posts=posts, post_vectors=vecs,
        post_offsets=np.arange(4, dtype=np.int64), index=VectorIndex().build(vecs, ids), brands=pd.DataFrame(), manifest={},
        collaborations=collection_collaborations(creators, posts, posts),
    )
    return snap, vecs


def test_competitor_conflict_is_a_recent_collaboration_with_a_listed_competitor():
    snap, vecs = _collab_snapshot()
    query = vecs.mean(axis=0) / np.linalg.norm(vecs.mean(axis=0))
    hits = [Hit(id=c, row=i, score=float(vecs[i] @ query)) for i, c in enumerate(["c1", "c2", "c3"])]
    plain = {m.creator_id: m for m in Reranker().rank(snap, query, hits, 3, brand=Brand(brand_id="x", description="shoes"))}
    rival = Brand(brand_id="y", description="shoes", competitors=("Peakline Inc.",))
    got = {m.creator_id: m for m in Reranker().rank(snap, query, hits, 3, brand=rival)}
    assert "COMPETITOR_CONFLICT" in got["c1"].flags
    assert got["c1"].signals["reasons"]["COMPETITOR_CONFLICT"] == (
        "worked with competitor(s) in the last 90 days: Peakline Inc. (2026-10-01, paid-partnership sponsor, post p1); score x 0.5"
    )
    assert got["c1"].score == pytest.approx(plain["c1"].score * 0.5, abs=1e-6)
    # Outside the window, and a mention in an unsponsored post, are no conflict.
    assert "COMPETITOR_CONFLICT" not in got["c2"].flags and got["c2"].score == plain["c2"].score
    assert "COMPETITOR_CONFLICT" not in got["c3"].flags and got["c3"].score == plain["c3"].score
    # Every match says whom the creator worked with.
    assert [(c.brand, c.date, c.disclosed, c.source, c.post_id) for c in got["c1"].collaborations] == [("Peakline", "2026-10-01", True, "sponsor", "p1")]
    assert [c.date for c in got["c2"].collaborations] == ["2026-06-01"] and got["c3"].collaborations == ()
    wider = Reranker(fit=FitConfig(competitor_days=200)).rank(snap, query, hits, 3, brand=rival)
    assert {m.creator_id for m in wider if "COMPETITOR_CONFLICT" in m.flags} == {"c1", "c2"}


def test_worked_with_names_each_brand_once_with_its_count_latest_date_and_undisclosed_posts():
    from matcher.rerank import worked_with
    from matcher.schema import Collaboration

    cs = [
        Collaboration(brand="Peakline", date="2026-10-01", disclosed=True, source="sponsor", post_id="p1"),
        Collaboration(brand="Scree Running", date="2026-09-01", disclosed=False, source="name", post_id="p2"),
        Collaboration(brand="Peakline", date="2026-08-01", disclosed=False, source="mention", post_id="p3"),
        Collaboration(brand="Vertfuel", date=None, disclosed=True, source="name", post_id="p4"),
    ]
    assert worked_with(cs) == "Peakline (2, latest 2026-10-01, 1 undisclosed), Scree Running (1, latest 2026-09-01, 1 undisclosed), Vertfuel (1)"
    assert worked_with(cs, limit=1) == "Peakline (2, latest 2026-10-01, 1 undisclosed) and 2 more"
    assert worked_with([]) == ""


@pytest.mark.parametrize(
    "column",
    [
        np.array([0.5, np.nan, -2.0], dtype="float64"),
        np.array([0.25, np.nan], dtype="float32"),
        np.array([3, -1, 0], dtype="int64"),
        np.array([7], dtype="uint16"),
        np.array([True, False]),
        np.array(["micro", None, 4, 2.5, np.nan], dtype=object),
    ],
)
def test_signal_columns_convert_as_each_cell_does(column):
    """A match's signal fields are converted a picked column at a time; the values and their types
    are those of converting each cell alone."""
    from matcher.rerank import _signal_value, _signal_values

    got, want = _signal_values(column), [_signal_value(v) for v in column.tolist()]
    assert [(type(v), v) for v in got] == [(type(v), v) for v in want]
    assert None in got or column.dtype.kind not in "fO"  # missing values become None, not NaN
