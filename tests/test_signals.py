import numpy as np
import pandas as pd
import pytest

from matcher.signals import compute_signals, is_commercial, is_disclosed, tier_of


def _creators(rows):
    df = pd.DataFrame(rows, columns=["creator_id", "followers", "following"])
    df["followers"] = df["followers"].astype("Int64")
    df["following"] = df["following"].astype("Int64")
    return df


def _posts(rows):
    df = pd.DataFrame(rows, columns=["post_id", "creator_id", "text", "posted_at", "likes", "comments", "views", "shares", "sponsored"])
    df["posted_at"] = pd.to_datetime(df["posted_at"], utc=True)
    for c in ("likes", "comments", "views", "shares"):
        df[c] = df[c].astype("Int64")
    df["sponsored"] = df["sponsored"].astype("boolean")
    return df


def test_tiers():
    t = tier_of(pd.Series([0, 9_999, 10_000, 99_999, 100_000, 500_000, 1_000_000, None], dtype="Float64"))
    assert t.tolist() == ["nano", "nano", "micro", "micro", "mid", "macro", "mega", "unknown"]


def test_engagement_rate_by_followers_is_median_interactions_over_followers():
    c = _creators([("a", 20_000, 300)])
    p = _posts(
        [
            ("p1", "a", "x", "2026-10-01", 400, 20, None, None, None),  # 420
            ("p2", "a", "x", "2026-10-02", 500, 40, None, 10, None),  # 550
            ("p3", "a", "x", "2026-10-03", 600, 60, None, None, None),  # 660
        ]
    )
    s = compute_signals(c, p).iloc[0]
    assert s["engagement_basis"] == "followers"
    assert s["engagement_rate"] == pytest.approx(550 / 20_000)
    assert s["n_posts"] == 3 and s["tier"] == "micro"
    assert s["comment_like_ratio"] == pytest.approx(120 / 1500)


def test_per_view_when_followers_unknown_or_zero():
    c = _creators([("yt", None, None), ("zero", 0, None)])
    p = _posts(
        [
            ("p1", "yt", "x", "2026-10-01", 90, 10, 1000, None, None),  # 0.10
            ("p2", "yt", "x", "2026-10-02", 30, 10, 2000, None, None),  # 0.02
            ("p3", "zero", "x", "2026-10-02", 5, 0, None, None, None),
        ]
    )
    s = compute_signals(c, p).set_index("creator_id")
    assert s.loc["yt", "engagement_basis"] == "views"
    assert s.loc["yt", "engagement_rate"] == pytest.approx(0.06)
    assert s.loc["zero", "engagement_basis"] == "none"
    assert np.isnan(s.loc["zero", "engagement_rate"])
    assert "NO_ENGAGEMENT_DATA" in s.loc["zero", "flags"]
    assert s.loc["zero", "engagement_score"] == 0.0


def test_one_post_no_posts_and_huge_counts():
    c = _creators([("one", 5_000, 10), ("none", 5_000, 10), ("big", 900_000_000, 10)])
    p = _posts(
        [
            ("p1", "one", "x", "2026-10-01", 250, 0, None, None, None),
            ("p2", "big", "x", "2026-10-01", 4_000_000_000, 9_000_000_000, None, None, None),
        ]
    )
    s = compute_signals(c, p).set_index("creator_id")
    assert s.loc["one", "engagement_rate"] == pytest.approx(0.05)
    assert s.loc["none", "n_posts"] == 0 and "NO_POSTS" in s.loc["none", "flags"]
    assert s.loc["big", "engagement_rate"] == pytest.approx(13e9 / 9e8)
    assert np.isfinite(s["trust_score"]).all()
    assert ((s["trust_score"] >= 0) & (s["trust_score"] <= 1)).all()


def test_disclosure_and_commercial_cues():
    texts = pd.Series(
        [
            "#ad Loving my new shoes",
            "Paid partnership with Summit",
            "new serum, use code GLOW15 for 15% off",
            "shop here https://shop.example/x?ref=anna",
            "just a run #adventure",
            "sponsored by Acme",
        ]
    )
    assert is_disclosed(texts).tolist() == [True, True, False, False, False, True]
    assert is_commercial(texts).tolist() == [False, False, True, True, False, False]


def test_undisclosed_sponsorship_lowers_trust_by_the_documented_formula():
    c = _creators([("honest", 5_000, 10), ("hidden", 5_000, 10)])
    p = _posts(
        [
            ("h1", "honest", "#ad new bottle, use code RUN10", "2026-10-01", 250, 10, None, None, True),
            ("h2", "honest", "morning run", "2026-10-02", 250, 10, None, None, None),
            ("x1", "hidden", "new bottle, use code RUN10", "2026-10-01", 250, 10, None, None, None),
            ("x2", "hidden", "morning run", "2026-10-02", 250, 10, None, None, False),
        ]
    )
    s = compute_signals(c, p).set_index("creator_id")
    assert s.loc["honest", "sponsored_posts"] == 1 and s.loc["honest", "disclosed_posts"] == 1
    assert s.loc["honest", "trust_score"] == pytest.approx(1.0)
    assert "UNDISCLOSED_SPONSORSHIP" in s.loc["hidden", "flags"]
    assert s.loc["hidden", "trust_score"] == pytest.approx(0.5)


def test_fake_engagement_patterns_are_flagged_and_lower_trust():
    rng = np.random.default_rng(0)
    creators, posts = [], []
    for i in range(40):  # ordinary micro creators at ~3% engagement
        creators.append((f"n{i}", 50_000, 500))
        for j in range(10):
            likes = int(1_500 * rng.uniform(0.8, 1.2))
            posts.append((f"n{i}-{j}", f"n{i}", "x", f"2026-10-{j + 1:02d}", likes, likes // 25, None, None, None))
    creators += [("bought_f", 80_000, 300), ("follow4follow", 6_000, 7_000), ("burst", 50_000, 400)]
    for j in range(10):
        posts.append((f"bf-{j}", "bought_f", "x", f"2026-10-{j + 1:02d}", 300, 12, None, None, None))
        posts.append((f"ff-{j}", "follow4follow", "x", f"2026-10-{j + 1:02d}", 300, 12, None, None, None))
        likes = 60_000 if j in (3, 7) else 1_500
        posts.append((f"bu-{j}", "burst", "x", f"2026-10-{j + 1:02d}", likes, 60, None, None, None))
    s = compute_signals(_creators(creators), _posts(posts)).set_index("creator_id")
    assert "ENGAGEMENT_FAR_BELOW_TIER" in s.loc["bought_f", "flags"]
    assert "FOLLOWS_MORE_THAN_FOLLOWED" in s.loc["follow4follow", "flags"]
    assert "ENGAGEMENT_BURST" in s.loc["burst", "flags"]
    clean = s.loc[[f"n{i}" for i in range(40)]]
    assert (clean["flags"] == "").all()
    assert (clean["trust_score"] == 1.0).all()
    for cid in ("bought_f", "follow4follow", "burst"):
        assert s.loc[cid, "trust_score"] < 1.0
