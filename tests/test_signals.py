import json
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
    # Unmeasurable engagement is unknown (left out of the score), never counted as zero.
    assert np.isnan(s.loc["zero", "engagement_score"])


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
    # No posts: nothing to judge, so trust is unknown rather than perfect.
    assert np.isnan(s.loc["none", "trust_score"])
    known = s.loc[["one", "big"], "trust_score"]
    assert np.isfinite(known).all() and ((known >= 0) & (known <= 1)).all()
    # One post is too little to measure engagement: unknown, not evidence.
    assert np.isnan(s.loc["one", "engagement_score"]) and np.isnan(s.loc["one", "engagement_percentile"])


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
    assert (clean["flags"] == "NO_COMMENT_DATA").all()
    assert (clean["trust_score"] == 1.0).all()
    for cid in ("bought_f", "follow4follow", "burst"):
        assert s.loc[cid, "trust_score"] < 1.0


# -- transparency, brand accounts, conversation, focus, fit -----------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from matcher.config import SignalConfig  # noqa: E402
from matcher.signals import band_fit, conversation_signals, post_signals, topical_focus  # noqa: E402


def test_disclosure_quality_early_late_vague_and_flag():
    posts = pd.DataFrame(
        {
            "text": [
                "#ad Loving the new Summit shoes",  # clear and early: 1
                "Ad: my honest take on the Summit vest",  # clear prefix: 1
                "Long run today " + "x " * 80 + "#ad",  # clear but late: 0.5
                "Thanks to Summit for the vest #sp",  # vague: 0.5
                "use code RUN15 for 15% off",  # undisclosed: 0
                "morning run",  # not sponsored
                "new vest from Summit",  # platform flag: 1
            ],
            "sponsored": pd.array([None, None, None, None, False, None, True], dtype="boolean"),
        }
    )
    ps = post_signals(posts, early_chars=100)
    assert ps["is_sponsored"].tolist() == [True, True, True, True, True, False, True]
    np.testing.assert_array_equal(ps["disclosure"].to_numpy(), [1.0, 1.0, 0.5, 0.5, 0.0, np.nan, 1.0])


def test_transparency_and_trust_formula_with_late_disclosure():
    c = _creators([("late", 5_000, 10)])
    p = _posts(
        [
            ("l1", "late", "Thanks to Summit for the vest #sp", "2026-10-01", 250, 10, None, None, None),
            ("l2", "late", "#ad Summit vest", "2026-10-02", 250, 10, None, None, None),
        ]
    )
    s = compute_signals(c, p).iloc[0]
    assert s["transparency"] == pytest.approx(0.75)
    assert s["trust_score"] == pytest.approx(0.5 + 0.5 * 0.75)
    assert "LATE_OR_VAGUE_DISCLOSURE" in s["flags"] and "UNDISCLOSED_SPONSORSHIP" not in s["flags"]
    reasons = json.loads(s["reasons"])
    assert "1 of 2 sponsored posts" in reasons["LATE_OR_VAGUE_DISCLOSURE"]


def test_brand_accounts_need_two_cues():
    c = pd.DataFrame(
        {
            "creator_id": ["shop", "person", "fan"],
            "handle": ["summitgear_official", "anna_runs", "anna_official"],
            "bio": ["Official account of Summit Gear. Shop our new collection. Free shipping.", "Ultrarunner in Colorado", "Runner, coach"],
            "followers": pd.array([20_000, 20_000, 20_000], dtype="Int64"),
            "following": pd.array([10, 10, 10], dtype="Int64"),
        }
    )
    p = _posts(
        [("s1", "shop", "New collection available now. Shop now!", "2026-10-01", 100, 2, None, None, None)]
        + [("p1", "person", "Shop now for our new collection? no, just a run", "2026-10-01", 100, 2, None, None, None)]
        + [("f1", "fan", "long run", "2026-10-01", 100, 2, None, None, None)]
    )
    s = compute_signals(c, p).set_index("creator_id")
    assert s["is_brand_account"].tolist() == [True, False, False]
    assert "BRAND_ACCOUNT" in s.loc["shop", "flags"]


def _comments(rows):
    df = pd.DataFrame(rows, columns=["comment_id", "post_id", "author_id", "text", "created_at", "is_creator_reply"])
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    df["is_creator_reply"] = df["is_creator_reply"].astype("boolean")
    return df


def test_conversation_hand_computed():
    posts = _posts(
        [
            ("p1", "a", "x", "2026-10-01T00:00:00Z", 10, 5, None, None, None),
            ("p2", "a", "x", "2026-10-02T00:00:00Z", 10, 5, None, None, None),
        ]
    )
    comments = _comments(
        [
            ("k1", "p1", "u1", "Which shoes are these?", "2026-10-01T01:00:00Z", None),
            ("k2", "p1", "u2", "nice pic 🔥", "2026-10-01T01:30:00Z", None),
            ("k3", "p1", "a", "The Ridgeline 4!", "2026-10-01T03:00:00Z", None),  # creator by author id: answers k1 after 2 h
            ("k4", "p2", "u3", "How far was this?", "2026-10-02T01:00:00Z", None),
            ("k5", "p2", "u1", "🔥🔥🔥", "2026-10-02T02:00:00Z", None),
            ("k6", "p2", "u4", "Where is this trail?", "2026-10-02T03:00:00Z", None),
            ("k7", "p2", "a", "21 km!", "2026-10-02T07:00:00Z", True),  # answers k4 after 6 h; k6 stays open
        ]
    )
    conv = conversation_signals(comments, posts, SignalConfig()).loc["a"]
    assert conv["questions"] == 3 and conv["answered"] == 2
    assert conv["answer_rate"] == pytest.approx(2 / 3)
    assert conv["median_reply_hours"] == pytest.approx(4.0)
    assert conv["generic_share"] == pytest.approx(2 / 5)

    c = _creators([("a", 5_000, 10)])
    s = compute_signals(c, posts, comments=comments).iloc[0]
    expected = (0.5 * (2 / 3) + 0.3 * np.exp(-4 / 24) + 0.2 * (1 - 2 / 5)) / 1.0
    assert s["conversation_score"] == pytest.approx(expected)
    assert "NO_COMMENT_DATA" not in s["flags"]
    without = compute_signals(c, posts).iloc[0]
    assert np.isnan(without["conversation_score"]) and "NO_COMMENT_DATA" in without["flags"]


def test_engagement_pod_is_shared_regulars_across_creators():
    rows, posts = [], []
    pod = [f"pod{i}" for i in range(6)]
    for cid in ("m1", "m2", "solo"):
        for j in range(6):
            pid = f"{cid}-{j}"
            posts.append((pid, cid, "x", f"2026-10-{j + 1:02d}", 100, 10, None, None, None))
            if cid == "solo":  # loyal fans of one creator only: not a pod
                authors = [f"fan{i}" for i in range(6)]
            else:
                authors = pod
            for a in authors:
                rows.append((f"{pid}-{a}", pid, a, "Amazing as always!!", f"2026-10-{j + 1:02d}T05:00:00Z", False))
    posts = _posts(posts)
    conv = conversation_signals(_comments(rows), posts, SignalConfig())
    assert conv.loc["m1", "pod_regulars"] == 6 and conv.loc["m1", "pod_share"] == pytest.approx(1.0)
    assert conv.loc["solo", "pod_regulars"] == 0
    s = compute_signals(_creators([("m1", 5_000, 10), ("m2", 5_000, 10), ("solo", 5_000, 10)]), posts, comments=_comments(rows)).set_index("creator_id")
    assert "ENGAGEMENT_POD" in s.loc["m1", "flags"] and "ENGAGEMENT_POD" not in s.loc["solo", "flags"]
    assert s.loc["m1", "authenticity"] < s.loc["solo", "authenticity"]


def test_topical_focus_and_bio_agreement():
    e = np.eye(4, dtype=np.float32)
    bio = np.stack([e[0], e[0], np.zeros(4, np.float32)])
    posts = np.stack([e[0], e[0], e[1], e[1], e[2]])
    offsets = np.array([0, 2, 4, 5])  # row 0: on-topic, row 1: posts elsewhere, row 2: no bio
    f = topical_focus(bio, np.array([True, True, False]), posts, offsets)
    assert f["focus"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert f["bio_agreement"].iloc[0] == pytest.approx(1.0)
    assert f["bio_agreement"].iloc[1] == pytest.approx(0.0)
    assert np.isnan(f["bio_agreement"].iloc[2])
    scattered = topical_focus(e[:1], np.array([True]), np.stack([e[0], e[1]]), np.array([0, 2]))
    assert scattered["focus"].iloc[0] == pytest.approx(np.sqrt(0.5))


def test_band_fit_values():
    got = band_fit(np.array([5_000, 1_000, 100_000, 100, 1_000_000, np.nan]), 1_000, 100_000)
    np.testing.assert_allclose(got[:5], [1.0, 1.0, 1.0, 0.0, 0.0], atol=1e-12)
    assert np.isnan(got[5])
    assert band_fit(np.array([316_228.0]), 1_000, 100_000)[0] == pytest.approx(0.5, abs=1e-3)


@settings(max_examples=100)
@given(st.lists(st.floats(min_value=0, max_value=1e12, allow_nan=False), min_size=1, max_size=20), st.integers(min_value=0, max_value=10**7), st.integers(min_value=1, max_value=10**7))
def test_band_fit_is_bounded(followers, lo, width):
    got = band_fit(np.array(followers), lo, lo + width)
    assert ((got >= 0) & (got <= 1)).all()


def test_unsafe_content_is_flagged_with_category():
    from matcher.config import FitConfig

    c = _creators([("a", 5_000, 10), ("b", 5_000, 10)])
    p = _posts(
        [
            ("p1", "a", "Weekend at the casino, betting on red", "2026-10-01", 100, 2, None, None, None),
            ("p2", "b", "Gunnison trail run, guns n roses on repeat", "2026-10-01", 100, 2, None, None, None),
        ]
    )
    s = compute_signals(c, p, fit=FitConfig()).set_index("creator_id")
    assert "UNSAFE_CONTENT" in s.loc["a", "flags"] and s.loc["a", "unsafe_categories"] == "gambling"
    assert s.loc["b", "unsafe_categories"] == "weapons"  # whole words only: "Gunnison" does not match


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Harmless idioms and product names that contain an unsafe word (real post texts in this
        # style were flagged before the safe phrases existed).
        ("food porn cooking chef kitchen recipe", ""),
        ("Sunday brunch #food-porn", ""),
        ("Recovery day with my massage gun and a hot glue gun craft", ""),
        ("Thanks for all the hugs xxx", ""),
        ("Shooting 35mm film at golden hour", ""),
        ("Weed killer that is safe for pets", ""),
        # The words themselves are still caught, also next to a safe phrase.
        ("Range day: new rifle and a massage gun after", "weapons"),
        ("Food porn and real porn are not the same", "adult"),
        ("Vigil after the school shooting", "violence"),
        ("#poker night", "gambling"),
    ],
)
def test_safe_phrases_are_not_unsafe(text, expected):
    from matcher.config import FitConfig

    fit = FitConfig()
    ps = post_signals(pd.DataFrame({"text": [text]}), unsafe_words=fit.unsafe_words, safe_phrases=fit.safe_phrases)
    assert ps["unsafe"].iloc[0] == expected


# ---------------------------------------------------------------- trust confidence

from matcher.signals import CONFIDENCE_LEVELS, trust_confidence  # noqa: E402


def test_confidence_levels_from_evidence_counts():
    cfg = SignalConfig()  # high: 20 posts, 100 comments, 90 days; medium: 8, 20, 30
    posts = np.array([3, 8, 20, 20, 20, 8, 40, 0])
    comments = np.array([0, 20, 100, 99, 100, 500, 500, 0])
    days = np.array([400.0, 30.0, 90.0, 200.0, 89.0, 29.0, np.nan, np.nan])
    got = trust_confidence(posts, comments, days, cfg).tolist()
    assert got == ["low", "medium", "high", "medium", "medium", "low", "low", "low"]
    # Without a comments table the comment checks never ran: at most medium.
    assert trust_confidence(np.array([50, 8]), None, np.array([365.0, 30.0]), cfg).tolist() == ["medium", "medium"]
    strict = SignalConfig(confidence_medium_posts=10, confidence_high_posts=10)
    assert trust_confidence(np.array([9, 10]), np.array([500, 500]), np.array([365.0, 365.0]), strict).tolist() == ["low", "high"]


@settings(max_examples=200, deadline=None)
@given(
    posts=st.integers(0, 60), comments=st.integers(0, 400), days=st.floats(0, 800),
    more_posts=st.integers(0, 30), more_comments=st.integers(0, 200), more_days=st.floats(0, 300),
)
def test_more_evidence_never_lowers_confidence(posts, comments, days, more_posts, more_comments, more_days):
    cfg = SignalConfig()
    a = trust_confidence(np.array([posts]), np.array([comments]), np.array([days]), cfg)[0]
    b = trust_confidence(np.array([posts + more_posts]), np.array([comments + more_comments]), np.array([days + more_days]), cfg)[0]
    assert CONFIDENCE_LEVELS.index(b) >= CONFIDENCE_LEVELS.index(a)


def test_thin_evidence_is_low_confidence_even_with_a_clean_trust_score():
    # Three clean posts and no comments: nothing is flagged, so trust is 1.0, but it rests on
    # almost nothing and says so.
    c = _creators([("thin", 5_000, 100), ("long", 5_000, 100)])
    rows = [(f"t{i}", "thin", "morning run", f"2026-09-0{i + 1}T10:00:00Z", 200, 20, None, None, False) for i in range(3)]
    rows += [(f"l{i}", "long", "morning run", (pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(days=7 * i)).isoformat(), 200, 20, None, None, False) for i in range(25)]
    p = _posts(rows)
    comments = _comments(
        [(f"k{j}", f"l{j % 25}", f"u{j}", "great tips on pacing, thanks", "2026-06-01T10:00:00Z", False) for j in range(120)]
    )
    s = compute_signals(c, p, comments=comments).set_index("creator_id")
    assert s.loc["thin", "trust_score"] == pytest.approx(1.0)
    assert s.loc["thin", "trust_confidence"] == "low"
    assert s.loc["thin", "history_days"] == pytest.approx(2.0)
    assert s.loc["long", "history_days"] == pytest.approx(168.0)
    assert s.loc["long", "comments_seen"] == 120
    assert s.loc["long", "trust_confidence"] == "high"
    # The same creators without a comments table: the long one drops to medium.
    assert compute_signals(c, p).set_index("creator_id")["trust_confidence"].tolist() == ["low", "medium"]


def test_confidence_thresholds_are_validated():
    from matcher.errors import ConfigError

    with pytest.raises(ConfigError, match="confidence_high_posts"):
        SignalConfig(confidence_high_posts=5, confidence_medium_posts=8)


def test_detail_fields_are_the_columns_the_details_read():
    """compute_signals hands the flag details only the columns in _DETAIL_FIELDS: a detail that reads
    another column would fail on the first creator it flags, so the list is held to the code here."""
    import inspect
    import re

    from matcher.signals import _DETAIL_FIELDS, _details

    read = set(re.findall(r"""\br\[["'](\w+)["']\]""", inspect.getsource(_details)))
    assert read and read == set(_DETAIL_FIELDS)
    assert "r.get(" not in inspect.getsource(_details)


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(0, 9), min_size=0, max_size=40), seed=st.integers(0, 2**31 - 1))
def test_post_sums_add_each_creators_posts_in_order_as_np_add_at_does(counts, seed):
    """Bit for bit the float64 sums of np.add.at (the same additions in the same order), creators without posts included."""
    from matcher.signals import post_sums

    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    posts = rng.standard_normal((int(offsets[-1]), 5)).astype(np.float32)
    posts[rng.random(posts.shape) < 0.1] = -0.0  # a negative zero stays a sum of +0.0, as np.add.at makes it
    want = np.zeros((len(counts), 5), dtype=np.float64)
    np.add.at(want, np.repeat(np.arange(len(counts)), counts), posts)
    got = post_sums(posts, offsets)
    assert got.dtype == np.float64 and got.tobytes() == want.tobytes()
