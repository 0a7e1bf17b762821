"""Engagement and trust signals per creator, computed from the creator's own posts, each with reason codes."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from matcher.config import SignalConfig

__all__ = ["TIERS", "tier_of", "compute_signals", "is_disclosed", "is_commercial", "REASONS"]

logger = logging.getLogger(__name__)

#: Follower tiers: (name, lower bound inclusive, upper bound exclusive).
TIERS: tuple[tuple[str, float, float], ...] = (
    ("nano", 0, 10_000),
    ("micro", 10_000, 100_000),
    ("mid", 100_000, 500_000),
    ("macro", 500_000, 1_000_000),
    ("mega", 1_000_000, float("inf")),
)

#: Reason codes a creator can carry, and what each means.
REASONS: dict[str, str] = {
    "ENGAGEMENT_FAR_BELOW_TIER": "engagement rate is below {low}x the median of the creator's tier (bought or inactive followers)",
    "ENGAGEMENT_FAR_ABOVE_TIER": "engagement rate is above {high}x the median of the creator's tier (bought likes or views)",
    "FEW_COMMENTS_PER_LIKE": "comments per like are under a quarter of the collection's median (likes without conversation)",
    "FOLLOWS_MORE_THAN_FOLLOWED": "follows at least as many accounts as follow it, and 1,000 or more (follow-for-follow growth)",
    "ENGAGEMENT_BURST": "a post drew {burst}x or more the account's median interactions (a purchased spike)",
    "UNDISCLOSED_SPONSORSHIP": "sponsored posts (discount codes, affiliate links, platform flag) without a clear #ad or paid-partnership label",
    "NO_ENGAGEMENT_DATA": "no follower count and no views: engagement cannot be measured",
    "NO_POSTS": "the creator has no posts to measure",
}

# Disclosure labels recognised by the FTC's guidance and the platforms' paid-partnership tools.
_DISCLOSURE = re.compile(
    r"(?<![\w#])#(?:ad|ads|advert|advertisement|sponsored|sponsor|partner|paidpartnership|paidpartner|gifted|sp|collab)\b"
    r"|\bpaid partnership\b|\bsponsored by\b|\bin partnership with\b|\bthanks to .{1,40} for sponsoring\b",
    re.IGNORECASE,
)
# Commercial cues that mark a post as sponsored whether or not it says so.
_COMMERCIAL = re.compile(
    r"\b(?:use|with) (?:my |the )?code\b|\b(?:discount|promo|coupon) code\b|\bcode [A-Z0-9]{4,}\b"
    r"|[?&](?:ref|aff|affiliate|tag|utm_source)=|\baffiliate link\b|\b\d{1,2}% off\b",
    re.IGNORECASE,
)


def is_disclosed(text: pd.Series) -> pd.Series:
    """Boolean Series: the text carries a clear sponsorship disclosure."""
    return text.fillna("").astype(str).str.contains(_DISCLOSURE)


def is_commercial(text: pd.Series) -> pd.Series:
    """Boolean Series: the text carries a commercial cue (discount code, affiliate link, % off)."""
    return text.fillna("").astype(str).str.contains(_COMMERCIAL)


def tier_of(followers: pd.Series) -> pd.Series:
    """Tier name per follower count; "unknown" where the count is missing."""
    f = pd.to_numeric(followers, errors="coerce").astype("float64")
    out = pd.Series("unknown", index=followers.index, dtype=object)
    for name, lo, hi in TIERS:
        out[(f >= lo) & (f < hi)] = name
    return out


def compute_signals(creators: pd.DataFrame, posts: pd.DataFrame, config: SignalConfig | None = None) -> pd.DataFrame:
    """Compute engagement and trust signals, one row per creator, aligned with ``creators``.

    Definitions (documented in the README):

    * interactions of a post = likes + comments + shares (missing counts as 0 when any is present);
    * engagement rate = median interactions over the ``recent_posts`` most recent posts / followers;
      when followers are unknown or 0, the median of interactions / views over posts with views;
    * engagement score = percentile of the rate among creators of the same tier (same basis);
    * trust score = ``flag_penalty`` ** (authenticity flags) × (0.5 + 0.5 × disclosure rate) when the
      creator has sponsored posts, else ``flag_penalty`` ** (authenticity flags).

    Args:
        creators: canonical creators frame (``creator_id``, ``followers``, ``following``).
        posts: canonical posts frame (``creator_id``, ``text``, ``posted_at``, counts, ``sponsored``).
        config: thresholds; defaults when None.

    Returns:
        DataFrame with ``creator_id``, numeric signals, ``flags`` (``|``-joined reason codes),
        ``engagement_score`` and ``trust_score`` in [0, 1].
    """
    cfg = config or SignalConfig()
    ids = creators["creator_id"].astype(str).reset_index(drop=True)
    out = pd.DataFrame({"creator_id": ids})
    followers = pd.to_numeric(creators["followers"], errors="coerce").astype("float64").reset_index(drop=True)
    following = pd.to_numeric(creators.get("following", pd.Series(np.nan, index=creators.index)), errors="coerce").astype("float64").reset_index(drop=True)
    out["followers"] = followers
    out["tier"] = tier_of(followers).values

    p = pd.DataFrame({"creator_id": posts["creator_id"].astype(str).values})
    for col in ("likes", "comments", "shares", "views"):
        p[col] = pd.to_numeric(posts[col], errors="coerce").astype("float64").values if col in posts else np.nan
    p["posted_at"] = pd.to_datetime(posts["posted_at"], utc=True).array if "posted_at" in posts else pd.NaT
    text = posts["text"].astype(str) if "text" in posts else pd.Series("", index=posts.index)
    flag = posts["sponsored"].astype("boolean").fillna(False).astype(bool).values if "sponsored" in posts else False
    disclosed_text = is_disclosed(text).values
    p["disclosed"] = disclosed_text | flag
    p["sponsored"] = p["disclosed"] | is_commercial(text).values
    counts = p[["likes", "comments", "shares"]]
    p["interactions"] = counts.sum(axis=1, min_count=1)

    # Most recent first; the newest `recent_posts` per creator define engagement.
    p = p.sort_values(["creator_id", "posted_at"], ascending=[True, False], na_position="last", kind="mergesort")
    p["recency_rank"] = p.groupby("creator_id").cumcount()
    recent = p[p["recency_rank"] < cfg.recent_posts].copy()
    recent["per_view"] = recent["interactions"] / recent["views"].where(recent["views"] > 0)

    g_all = p.groupby("creator_id")
    g = recent.groupby("creator_id")
    agg = pd.DataFrame(
        {
            "n_posts": g_all.size(),
            "last_post_at": g_all["posted_at"].max(),
            "median_interactions": g["interactions"].median(),
            "max_interactions": g["interactions"].max(),
            "median_views": g["views"].median(),
            "median_per_view": g["per_view"].median(),
            "likes_sum": g["likes"].sum(min_count=1),
            "comments_sum": g["comments"].sum(min_count=1),
            "sponsored_posts": g_all["sponsored"].sum(),
            "disclosed_posts": (p["sponsored"] & p["disclosed"]).groupby(p["creator_id"]).sum(),
        }
    )
    out = out.merge(agg, how="left", left_on="creator_id", right_index=True)
    out["n_posts"] = out["n_posts"].fillna(0).astype("int64")
    out["sponsored_posts"] = out["sponsored_posts"].fillna(0).astype("int64")
    out["disclosed_posts"] = out["disclosed_posts"].fillna(0).astype("int64")
    newest = p["posted_at"].max()
    out["days_since_last_post"] = (newest - out["last_post_at"]).dt.total_seconds() / 86400.0 if pd.notna(newest) else np.nan

    by_followers = (followers > 0) & out["median_interactions"].notna()
    by_views = ~by_followers & out["median_per_view"].notna()
    rate = np.where(by_followers, out["median_interactions"] / followers.where(followers > 0), np.where(by_views, out["median_per_view"], np.nan))
    out["engagement_rate"] = rate.astype("float64")
    out["engagement_basis"] = np.where(by_followers, "followers", np.where(by_views, "views", "none"))
    # Compare like with like: per-follower rates within a tier, per-view rates among themselves.
    group = np.where(by_followers, out["tier"], np.where(by_views, "per_view", "none"))
    out["_group"] = group
    measurable = out["engagement_basis"] != "none"
    out["engagement_percentile"] = np.nan
    out.loc[measurable, "engagement_percentile"] = out[measurable].groupby("_group")["engagement_rate"].rank(pct=True, method="average")
    tier_median = out[measurable].groupby("_group")["engagement_rate"].median()
    out["tier_median_rate"] = out["_group"].map(tier_median).astype("float64")
    out["engagement_ratio"] = out["engagement_rate"] / out["tier_median_rate"].where(out["tier_median_rate"] > 0)
    out["comment_like_ratio"] = out["comments_sum"] / out["likes_sum"].where(out["likes_sum"] > 0)
    out["burst_ratio"] = out["max_interactions"] / out["median_interactions"].where(out["median_interactions"] > 0)
    out["disclosure_rate"] = np.where(out["sponsored_posts"] > 0, out["disclosed_posts"] / out["sponsored_posts"].clip(lower=1), np.nan)

    median_clr = out["comment_like_ratio"].median()
    flags: dict[str, pd.Series] = {
        "ENGAGEMENT_FAR_BELOW_TIER": out["engagement_ratio"] < cfg.low_engagement_ratio,
        "ENGAGEMENT_FAR_ABOVE_TIER": out["engagement_ratio"] > cfg.high_engagement_ratio,
        "FEW_COMMENTS_PER_LIKE": (out["likes_sum"] >= 100) & (out["comment_like_ratio"] < 0.25 * median_clr) if pd.notna(median_clr) else pd.Series(False, index=out.index),
        "FOLLOWS_MORE_THAN_FOLLOWED": (following >= 1000) & (following >= followers),
        "ENGAGEMENT_BURST": (out["n_posts"] >= 5) & (out["burst_ratio"] >= cfg.burst_ratio),
        "UNDISCLOSED_SPONSORSHIP": out["disclosed_posts"] < out["sponsored_posts"],
        "NO_ENGAGEMENT_DATA": (out["n_posts"] > 0) & ~measurable,
        "NO_POSTS": out["n_posts"] == 0,
    }
    authenticity = ["ENGAGEMENT_FAR_BELOW_TIER", "ENGAGEMENT_FAR_ABOVE_TIER", "FEW_COMMENTS_PER_LIKE", "FOLLOWS_MORE_THAN_FOLLOWED", "ENGAGEMENT_BURST"]
    fmat = pd.DataFrame({k: v.fillna(False).astype(bool).values for k, v in flags.items()})
    codes = np.array(list(flags))
    out["flags"] = ["|".join(codes[row]) for row in fmat.to_numpy()]
    n_auth = fmat[authenticity].sum(axis=1).to_numpy()
    trust = np.power(cfg.flag_penalty, n_auth)
    disclosure = out["disclosure_rate"].to_numpy()
    trust = np.where(np.isnan(disclosure), trust, trust * (0.5 + 0.5 * np.nan_to_num(disclosure)))
    out["trust_score"] = trust.astype("float64")
    out["engagement_score"] = out["engagement_percentile"].fillna(0.0).astype("float64")
    out = out.drop(columns=["_group"])
    logger.info(
        "signals: %d creators, %d with measurable engagement, %d flagged for authenticity",
        len(out), int(measurable.sum()), int((n_auth > 0).sum()),
    )
    return out
