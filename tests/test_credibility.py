"""Credibility that bites: credible engagement, published tier benchmarks, implausible figures,
graded flags and the demotion of doubtful creators, down to a planted bought-likes creator."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.config import RankConfig, SignalConfig
from matcher.rerank import calibrate_topic
from matcher.signals import ENGAGEMENT_BENCHMARKS, SEVERITY, AUTHENTICITY_FLAGS, benchmark_rate, compute_signals


def _frames(creators: list[tuple], posts: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    c = pd.DataFrame(creators, columns=["creator_id", "platform", "followers", "following"])
    c["followers"] = c["followers"].astype("Int64")
    c["following"] = c["following"].astype("Int64")
    p = pd.DataFrame(posts, columns=["post_id", "creator_id", "text", "posted_at", "likes", "comments", "views"])
    p["posted_at"] = pd.to_datetime(p["posted_at"], utc=True)
    for col in ("likes", "comments", "views"):
        p[col] = p[col].astype("Int64")
    return c, p


def _planted_posts(cid: str, n: int = 8) -> list[tuple]:
    # 5,000 followers; every post 48,000 likes, 3 comments, 50,000 views.
    return [(f"{cid}-{j}", cid, "x", f"2026-10-{j + 1:02d}", 48_000, 3, 50_000) for j in range(n)]


def _honest(rng: np.random.Generator, cid: str, followers: int, rate: float, n: int = 8) -> list[tuple]:
    out = []
    for j in range(n):
        likes = int(followers * rate * rng.uniform(0.8, 1.2))
        out.append((f"{cid}-{j}", cid, "x", f"2026-10-{j + 1:02d}", likes, max(1, likes // 30), likes * 8))
    return out


def test_a_small_tier_of_bought_likes_cannot_set_its_own_median():
    # The nano tier holds four creators, all of the planted kind: alone, they would be their own
    # median. The published benchmark carries the tier until it fills.
    creators = [(f"bot{i}", "instagram", 5_000, 7_500) for i in range(4)]
    posts = [p for i in range(4) for p in _planted_posts(f"bot{i}")]
    s = compute_signals(*_frames(creators, posts)).set_index("creator_id")
    own = 4 / SignalConfig().benchmark_full_at
    w = 1 - own
    expected = np.exp(own * np.log(48_003 / 5_000) + w * np.log(ENGAGEMENT_BENCHMARKS["instagram"]["nano"]))
    assert s["tier_median_rate"].to_numpy() == pytest.approx(np.full(4, expected))
    assert s["benchmark_weight"].to_numpy() == pytest.approx(np.full(4, w))
    for code in ("ENGAGEMENT_FAR_ABOVE_TIER", "INTERACTIONS_ABOVE_FOLLOWERS", "NEAR_ZERO_COMMENTS_PER_LIKE", "FOLLOWS_MORE_THAN_FOLLOWED"):
        assert (s["flags"].str.contains(code)).all(), code
    assert (s["credibility"] == "doubtful").all()
    reasons = json.loads(s.loc["bot0", "reasons"])
    assert "published benchmark" in reasons["ENGAGEMENT_FAR_ABOVE_TIER"]
    assert "8 of 8 recent posts" in reasons["INTERACTIONS_ABOVE_FOLLOWERS"]


def test_a_full_tier_uses_its_own_median_and_the_benchmark_only_in_between():
    rng = np.random.default_rng(0)
    full = SignalConfig().benchmark_full_at
    creators = [(f"m{i}", "tiktok", 40_000, 300) for i in range(full + 10)] + [(f"n{i}", "tiktok", 4_000, 300) for i in range(10)]
    posts = [p for i in range(full + 10) for p in _honest(rng, f"m{i}", 40_000, 0.02)]
    posts += [p for i in range(10) for p in _honest(rng, f"n{i}", 4_000, 0.08)]
    s = compute_signals(*_frames(creators, posts)).set_index("creator_id")
    micro = s.loc[[f"m{i}" for i in range(full + 10)]]
    assert (micro["benchmark_weight"] == 0).all()
    assert micro["tier_median_rate"].iloc[0] == pytest.approx(micro["engagement_rate"].median())
    nano = s.loc[[f"n{i}" for i in range(10)]]
    assert nano["benchmark_weight"].iloc[0] == pytest.approx(1 - 10 / full)
    # 2% on TikTok's micro tier is below the benchmark, but no one is far below their own tier.
    assert not micro["flags"].str.contains("ENGAGEMENT_FAR").any()
    assert benchmark_rate("TikTok", "micro") == ENGAGEMENT_BENCHMARKS["tiktok"]["micro"]
    assert benchmark_rate("mastodon", "nano") == ENGAGEMENT_BENCHMARKS["instagram"]["nano"]


def test_bought_likes_do_not_raise_the_engagement_component():
    rng = np.random.default_rng(1)
    creators = [(f"h{i}", "instagram", 5_000, 300) for i in range(60)] + [("bot", "instagram", 5_000, 7_500)]
    posts = [p for i in range(60) for p in _honest(rng, f"h{i}", 5_000, 0.04)] + _planted_posts("bot")
    s = compute_signals(*_frames(creators, posts)).set_index("creator_id")
    honest = s.loc[[f"h{i}" for i in range(60)]]
    bot = s.loc["bot"]
    # Its raw rate is 24x the others'; its credible rate is what its three comments support.
    assert bot["engagement_rate"] > 20 * honest["engagement_rate"].median()
    assert bot["credible_engagement_rate"] < honest["engagement_rate"].median()
    assert bot["engagement_score"] < honest["engagement_score"].median()
    assert bot["authenticity"] < 0.05 and bot["credibility"] == "doubtful"
    assert (honest["credibility"] == "ok").all() and (honest["authenticity"] == 1.0).all()


def test_flags_weigh_by_severity_and_evidence():
    cfg = SignalConfig()
    rng = np.random.default_rng(2)
    creators = [(f"h{i}", "instagram", 50_000, 300) for i in range(60)]
    creators += [("f4f_thin", "instagram", 3_000, 4_000), ("f4f", "instagram", 3_000, 4_000), ("low", "instagram", 50_000, 300), ("low_thin", "instagram", 50_000, 300)]
    posts = [p for i in range(60) for p in _honest(rng, f"h{i}", 50_000, 0.03)]
    posts += _honest(rng, "f4f_thin", 3_000, 0.05, n=2) + _honest(rng, "f4f", 3_000, 0.05, n=10)
    posts += _honest(rng, "low", 50_000, 0.002, n=10) + _honest(rng, "low_thin", 50_000, 0.002, n=2)
    s = compute_signals(*_frames(creators, posts)).set_index("creator_id")
    # Following is a profile figure: full evidence at once, the major penalty.
    assert s.loc["f4f", "authenticity"] == pytest.approx(cfg.flag_penalty)
    assert s.loc["f4f_thin", "authenticity"] == pytest.approx(cfg.flag_penalty)
    # Engagement far below the tier is minor, and weighs by the posts it rests on.
    assert "ENGAGEMENT_FAR_BELOW_TIER" in s.loc["low", "flags"] and "ENGAGEMENT_FAR_BELOW_TIER" in s.loc["low_thin", "flags"]
    assert s.loc["low", "authenticity"] == pytest.approx(cfg.minor_flag_penalty)
    assert s.loc["low_thin", "authenticity"] == pytest.approx(1 - (1 - cfg.minor_flag_penalty) * 2 / cfg.evidence_posts)
    # One minor or one major flag leaves a creator credible; the planted kind does not.
    assert (s.loc[["f4f", "low", "low_thin"], "credibility"] == "ok").all()
    assert set(SEVERITY) >= set(AUTHENTICITY_FLAGS) and {SEVERITY[f] for f in AUTHENTICITY_FLAGS} <= {"minor", "major", "severe"}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=80),
    st.floats(0.05, 8),
)
def test_calibrated_topic_is_bounded_monotone_and_one_at_the_best(topic, scale):
    t = np.array(topic)
    fit = calibrate_topic(t, RankConfig(topic_scale=scale))
    assert ((fit > 0) & (fit <= 1)).all()
    assert fit[np.argmax(t)] == pytest.approx(1.0)
    order = np.argsort(t, kind="stable")
    assert (np.diff(fit[order]) >= -1e-12).all()


def test_calibration_uses_each_briefs_own_spread():
    # Two briefs, the same order, scales three times apart: the calibrated fit is the same (above
    # the floor of rank.min_topic_scale).
    a = np.array([0.60, 0.58, 0.55, 0.50, 0.40])
    b = 0.3 + (a - 0.3) / 3
    cfg = RankConfig()
    assert calibrate_topic(a, cfg) == pytest.approx(calibrate_topic(b, cfg), rel=1e-6)
    # The best clean candidate sets the reference: a doubtful one above it gains nothing.
    t = np.array([0.95, 0.60, 0.58])
    fit = calibrate_topic(t, cfg, reference=np.array([False, True, True]))
    assert fit[0] == pytest.approx(1.0) and fit[1] == pytest.approx(1.0)
    assert calibrate_topic(t, RankConfig(calibration="none")) == pytest.approx(t)


# -- the planted creator, in a collection shaped like real data ------------------------------------
@pytest.fixture(scope="module")
def planted(sample, built, encoder, tmp_path_factory):
    """The sample with one creator planted: 5,000 followers, following 7,500, every post 48,000
    likes, 3 comments and 50,000 views, and posts that copy the brands' own descriptions."""
    from matcher.batch import run_batch

    root = tmp_path_factory.mktemp("planted")
    store = root / "store"
    shutil.copytree(built.store, store)  # its embedding cache: only the planted posts are new
    creators = pd.read_csv(sample.creators, dtype=str, keep_default_na=False)
    posts = pd.read_csv(sample.posts, dtype=str, keep_default_na=False)
    brands = pd.read_csv(sample.brands, dtype=str, keep_default_na=False)
    row = {c: "" for c in creators.columns}
    row.update(creator_id="planted", handle="daily_picks", platform="instagram", bio="Sharing what I love", followers="5000", following="7500", country="US", language="en")
    creators = pd.concat([creators, pd.DataFrame([row])], ignore_index=True)
    newest = pd.to_datetime(posts["posted_at"], utc=True, errors="coerce").max()
    extra = []
    for j, b in enumerate(brands.itertuples()):
        p = {c: "" for c in posts.columns}
        when = (newest - pd.Timedelta(days=j)).isoformat()
        p.update(post_id=f"planted-{j}", creator_id="planted", text=f"{b.name}. {b.description}", posted_at=when, likes="48000", comments="3", views="50000")
        extra.append(p)
    posts = pd.concat([posts, pd.DataFrame(extra)], ignore_index=True)
    files = {name: root / f"{name}.csv" for name in ("creators", "posts")}
    creators.to_csv(files["creators"], index=False)
    posts.to_csv(files["posts"], index=False)
    run_batch(files["creators"], files["posts"], sample.brands, store, comments=sample.comments, encoder=encoder, progress=False)
    return store, brands


@pytest.mark.slow
def test_planted_bought_likes_creator_reaches_no_top_10(planted, encoder):
    from matcher.config import Config
    from matcher.engine import Matcher
    from matcher.schema import Brand

    store, brands = planted
    m = Matcher(store, encoder=encoder).load()
    sig = m.snapshot_.signals.set_index("creator_id")
    assert sig.loc["planted", "credibility"] == "doubtful"
    assert {"INTERACTIONS_ABOVE_FOLLOWERS", "NEAR_ZERO_COMMENTS_PER_LIKE"} <= set(sig.loc["planted", "flags"].split("|"))
    records = [Brand.from_record(r) for r in m.snapshot_.brands.to_dict("records")]
    # Its posts copy the briefs, so the brief, not the brand's own filters, is what it games.
    briefs = [r.query_text for r in records]
    tops = m.recommend_many(briefs, k=10)
    assert all("planted" not in {x.creator_id for x in top} for top in tops)
    # Without the demotion it would reach many top 10s: the test can fail.
    soft = Matcher(store, config=Config.from_dict({"rank": {"doubtful_penalty": 1.0}}), encoder=encoder).load()
    reached = sum("planted" in {x.creator_id for x in top} for top in soft.recommend_many(briefs, k=10))
    assert reached >= len(briefs) // 2
    # And where it does appear, the why line says what happened.
    deep = m.recommend(briefs[0], k=200)
    mine = [x for x in deep if x.creator_id == "planted"]
    assert mine and "ranked down" in mine[0].why and mine[0].contributions["penalty"] < 0
