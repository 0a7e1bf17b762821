"""Engagement, trust, conversation, focus and brand-account signals per creator, each with reason codes and details."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from matcher.config import FitConfig, SignalConfig

__all__ = [
    "POST_SIGNAL_COLUMNS",
    "split_flags",
    "post_signals_reusing",
    "TIERS",
    "REASONS",
    "AUTHENTICITY_FLAGS",
    "SEVERITY",
    "ENGAGEMENT_BENCHMARKS",
    "PER_VIEW_BENCHMARK",
    "tier_of",
    "benchmark_rate",
    "is_disclosed",
    "is_commercial",
    "post_signals",
    "compute_signals",
    "conversation_signals",
    "topical_focus",
    "band_fit",
    "parse_reasons",
    "CONFIDENCE_LEVELS",
    "trust_confidence",
]

logger = logging.getLogger(__name__)

#: Follower tiers: (name, lower bound inclusive, upper bound exclusive).
TIERS: tuple[tuple[str, float, float], ...] = (
    ("nano", 0, 10_000),
    ("micro", 10_000, 100_000),
    ("mid", 100_000, 500_000),
    ("macro", 500_000, 1_000_000),
    ("mega", 1_000_000, float("inf")),
)

#: Every reason code a creator can carry, and what it means.
REASONS: dict[str, str] = {
    "ENGAGEMENT_FAR_BELOW_TIER": "engagement rate far below the median of the creator's tier (bought or inactive followers)",
    "ENGAGEMENT_FAR_ABOVE_TIER": "engagement rate far above the median of the creator's tier (bought likes or views)",
    "INTERACTIONS_ABOVE_FOLLOWERS": "most posts draw more likes and comments than the account has followers (implausible without bought likes)",
    "NEAR_ZERO_COMMENTS_PER_LIKE": "thousands of likes with almost no comments (under 1 per 1,000 likes): likes without an audience",
    "FEW_COMMENTS_PER_LIKE": "comments per like under a quarter of the collection's median (likes without conversation)",
    "FOLLOWS_MORE_THAN_FOLLOWED": "follows at least as many accounts as follow it, and 1,000 or more (follow-for-follow growth)",
    "ENGAGEMENT_BURST": "a post drew many times the account's median interactions (a purchased spike)",
    "ENGAGEMENT_POD": "the same group of commenters, who are regulars of other creators too, comments on most posts",
    "MOSTLY_GENERIC_COMMENTS": "most audience comments are generic ('nice pic', emoji only)",
    "UNDISCLOSED_SPONSORSHIP": "sponsored posts (discount codes, affiliate links) without any #ad or paid-partnership label",
    "LATE_OR_VAGUE_DISCLOSURE": "sponsorship disclosed only late in the text or vaguely (#sp, #collab), against FTC guidance",
    "RARELY_ANSWERS": "answers few of the audience's questions",
    "BIO_NOT_SUPPORTED_BY_POSTS": "the bio is about something the posts are not (keyword stuffing); the bio is ignored for matching",
    "BRAND_ACCOUNT": "the account is a brand or shop, not a person",
    "UNSAFE_CONTENT": "posts use words from a brand-safety category",
    "NO_ENGAGEMENT_DATA": "no follower count and no views: engagement cannot be measured",
    "NO_COMMENT_DATA": "no comments table: the conversation signal is unavailable, not guessed",
    "NO_POSTS": "the creator has no posts to measure",
}

#: Flags that lower trust: each multiplies authenticity by its severity's penalty, in proportion to
#: the evidence it rests on (see :func:`compute_signals`).
AUTHENTICITY_FLAGS = (
    "INTERACTIONS_ABOVE_FOLLOWERS",
    "NEAR_ZERO_COMMENTS_PER_LIKE",
    "ENGAGEMENT_FAR_BELOW_TIER",
    "ENGAGEMENT_FAR_ABOVE_TIER",
    "FEW_COMMENTS_PER_LIKE",
    "FOLLOWS_MORE_THAN_FOLLOWED",
    "ENGAGEMENT_BURST",
    "ENGAGEMENT_POD",
    "MOSTLY_GENERIC_COMMENTS",
)

#: How much each flag says against a creator. "severe": figures no genuine audience produces (one
#: such flag makes the creator doubtful); "major": a strong sign of bought or traded engagement, or
#: of hidden sponsorship; "minor": worth a look, common among honest creators too (on a real
#: Instagram collection about one creator in ten carries each of these). Flags not listed inform
#: without judging (no data, brand accounts, brand safety, which has its own penalty).
SEVERITY: dict[str, str] = {
    "INTERACTIONS_ABOVE_FOLLOWERS": "severe",
    "NEAR_ZERO_COMMENTS_PER_LIKE": "severe",
    "ENGAGEMENT_FAR_ABOVE_TIER": "major",
    "FEW_COMMENTS_PER_LIKE": "major",
    "FOLLOWS_MORE_THAN_FOLLOWED": "major",
    "ENGAGEMENT_BURST": "major",
    "ENGAGEMENT_POD": "major",
    "UNDISCLOSED_SPONSORSHIP": "major",
    "ENGAGEMENT_FAR_BELOW_TIER": "minor",
    "MOSTLY_GENERIC_COMMENTS": "minor",
    "LATE_OR_VAGUE_DISCLOSURE": "minor",
    "RARELY_ANSWERS": "minor",
}

#: Published median engagement rates ((likes + comments) / followers per post) by platform and
#: follower tier, used where a collection holds too few creators of a tier to set its own median:
#: the mid-points of the "average" ranges in Untapper's "Influencer Marketing Benchmarks & KPIs"
#: (2026; Instagram and TikTok tables, which split micro at 50k where matcher's tiers split at
#: 100k), in line with HypeAuditor's "State of Influencer Marketing" (nano creators: about 2.8% on
#: Instagram, far higher on TikTok) and Later x Fohr's tiered Instagram study (2021). Other platforms
#: use the Instagram figures.
ENGAGEMENT_BENCHMARKS: dict[str, dict[str, float]] = {
    "instagram": {"nano": 0.040, "micro": 0.0275, "mid": 0.020, "macro": 0.014, "mega": 0.0095},
    "tiktok": {"nano": 0.080, "micro": 0.055, "mid": 0.040, "macro": 0.0275, "mega": 0.015},
}
#: Median (likes + comments) / views on YouTube, about 3% ("YouTube Engagement Rate: Benchmarks and
#: Data-Driven Improvement", TubeAI, 2026); used for every per-view rate.
PER_VIEW_BENCHMARK = 0.03
# Spread of engagement rates around a tier's median, as the standard deviation of their logarithm:
# with 0.6, a quarter of creators engage above 1.5x the median, as the "good" bands of the sources
# above put it.
_BENCHMARK_SPREAD = 0.6

# Clear labels, per the FTC's guidance and the platforms' paid-partnership tools.
_CLEAR = re.compile(
    r"(?<![\w#])#(?:ad|ads|advert|advertisement|sponsored|paidpartnership|paidpartner)\b"
    r"|^\W{0,3}(?:ad|advert|advertisement|sponsored)\s*[:|\-]"
    r"|\bpaid partnership\b|\bsponsored by\b|\bthis post is sponsored\b|\bin paid partnership with\b",
    re.IGNORECASE,
)
# Vague labels: they say something, but not clearly enough.
_VAGUE = re.compile(
    r"(?<![\w#])#(?:sp|spon|collab|partner|gifted|ambassador)\b|\bthanks to \S.{0,40} for (?:sponsoring|partnering)\b",
    re.IGNORECASE,
)
# Commercial cues that mark a post as sponsored whether or not it says so.
_COMMERCIAL = re.compile(
    r"\b(?:use|with) (?:my |the )?code\b|\b(?:discount|promo|coupon) code\b|\bcode [A-Z0-9]{4,}\b"
    r"|[?&](?:ref|aff|affiliate|tag|utm_source)=|\baffiliate link\b|\b\d{1,2}% off\b",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    r"\?|^\s*(?:how|what|which|where|when|why|who|is|are|can|could|do|does|did|should|would|will|any)\b",
    re.IGNORECASE,
)
_GENERIC_WORDS = {
    "nice", "pic", "pics", "photo", "love", "this", "it", "great", "post", "amazing", "awesome", "cool", "so",
    "wow", "beautiful", "gorgeous", "cute", "fire", "lit", "yes", "omg", "perfect", "goals", "as", "always",
    "stunning", "lovely", "good", "the", "best", "wonderful", "fab", "insane", "sick", "dope", "one", "content",
    "keep", "up", "work", "!", "queen", "king", "slay", "obsessed", "vibes", "follow", "me", "back", "check", "dm",
}
_WORD = re.compile(r"[a-z']+")
_BRAND_HANDLE = re.compile(r"(?:official|_shop\b|shop$|store$|_hq$|\bhq\b|_brand$|_co$|\binc$)", re.IGNORECASE)
_BRAND_BIO = re.compile(
    r"\bofficial (?:account|page|store|home|site|shop)\b|\bofficial\.|\bdesigned in-house\b|\bfree (?:returns|shipping)\b"
    r"|\bshop (?:now|our|the)\b|\bour (?:new )?(?:collection|products?|store|range)\b"
    r"|\bcustomer (?:service|care)\b|\bworldwide shipping\b|\bwe (?:make|ship|design|create)\b",
    re.IGNORECASE,
)
_PROMO = re.compile(
    r"\bshop (?:now|the|our)\b|\bnew collection\b|\bavailable now\b|\bfree shipping\b|\border (?:now|today|yours)\b|\bin stock\b"
    r"|\bour (?:new|latest|best)\b|\blink in bio to (?:shop|order)\b|\blimited edition\b|\brestock",
    re.IGNORECASE,
)


#: How sure a trust figure is, from the least to the most evidence.
CONFIDENCE_LEVELS = ("low", "medium", "high")


def trust_confidence(posts: np.ndarray, comments: np.ndarray | None, days: np.ndarray, cfg: SignalConfig) -> np.ndarray:
    """"high", "medium" or "low" per creator, from the posts, audience comments and days of posting
    history its trust figure rests on (thresholds ``confidence_*`` of :class:`SignalConfig`).

    "high" needs every high bar, "medium" every medium bar, anything less is "low". ``comments``
    None means there is no comments table: the comment checks could not run, so at most "medium".
    A creator with a handful of posts and no comments is "low", whatever its trust score says.
    """
    p = np.nan_to_num(np.asarray(posts, dtype="float64"))
    d = np.nan_to_num(np.asarray(days, dtype="float64"))
    if comments is None:
        c_high = np.zeros(len(p), dtype=bool)
        c_med = np.ones(len(p), dtype=bool)
    else:
        c = np.nan_to_num(np.asarray(comments, dtype="float64"))
        c_high, c_med = c >= cfg.confidence_high_comments, c >= cfg.confidence_medium_comments
    high = (p >= cfg.confidence_high_posts) & (d >= cfg.confidence_high_days) & c_high
    medium = (p >= cfg.confidence_medium_posts) & (d >= cfg.confidence_medium_days) & c_med
    return np.where(high, "high", np.where(medium, "medium", "low")).astype(object)


def tier_of(followers: pd.Series) -> pd.Series:
    """Tier name per follower count; "unknown" where the count is missing."""
    f = pd.to_numeric(followers, errors="coerce").astype("float64")
    out = pd.Series("unknown", index=followers.index, dtype=object)
    for name, lo, hi in TIERS:
        out[(f >= lo) & (f < hi)] = name
    return out


def benchmark_rate(platform: str, tier: str) -> float:
    """The published median engagement rate for a platform and tier (per view for ``tier="per_view"``)."""
    if tier == "per_view":
        return PER_VIEW_BENCHMARK
    table = ENGAGEMENT_BENCHMARKS.get(str(platform).strip().lower(), ENGAGEMENT_BENCHMARKS["instagram"])
    return table.get(tier, float("nan"))


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(z)


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("").astype(str)


def is_disclosed(text: pd.Series) -> pd.Series:
    """Boolean Series: the text carries a sponsorship label, clear or vague."""
    t = _text(text)
    return t.str.contains(_CLEAR) | t.str.contains(_VAGUE)


def is_commercial(text: pd.Series) -> pd.Series:
    """Boolean Series: the text carries a commercial cue (discount code, affiliate link, % off)."""
    return _text(text).str.contains(_COMMERCIAL)


def _phrase(words: str) -> str:
    """A word or phrase as a pattern; inside a phrase, any run of spaces, hyphens or nothing
    separates the words ("food porn", "food-porn", "#foodporn")."""
    return r"[\s\-]*".join(re.escape(w) for w in words.split())


def post_signals(
    posts: pd.DataFrame,
    *,
    early_chars: int = 100,
    unsafe_words: Mapping[str, tuple[str, ...]] | None = None,
    safe_phrases: Sequence[str] = (),
) -> pd.DataFrame:
    """Per-post sponsorship, disclosure quality and brand-safety, aligned with ``posts``.

    ``disclosure`` is 1.0 for the platform's paid-partnership flag or a clear label within the first
    ``early_chars`` characters; 0.5 for a clear label later in the text, or a vague one (#sp, #collab);
    0.0 for a sponsored post with no label; NaN for posts that are not sponsored. ``unsafe`` lists
    the categories of ``unsafe_words`` whose whole words or phrases a post contains, after removing
    the harmless ``safe_phrases`` ("food porn", "massage gun").
    """
    text = _text(posts["text"]) if "text" in posts else pd.Series("", index=posts.index)
    flag = posts["sponsored"].astype("boolean").fillna(False).to_numpy(dtype=bool) if "sponsored" in posts else np.zeros(len(posts), bool)
    clear_at = np.array([m.start() if (m := _CLEAR.search(t)) else -1 for t in text.tolist()], dtype=np.int64)
    vague = text.str.contains(_VAGUE).to_numpy(dtype=bool)
    commercial = text.str.contains(_COMMERCIAL).to_numpy(dtype=bool)
    clear = clear_at >= 0
    sponsored = flag | clear | vague | commercial
    quality = np.where(flag | (clear & (clear_at < early_chars)), 1.0, np.where(clear | vague, 0.5, 0.0))
    out = pd.DataFrame(
        {
            "is_sponsored": sponsored,
            "disclosure": np.where(sponsored, quality, np.nan),
            "is_promo": text.str.contains(_PROMO).to_numpy(dtype=bool),
        },
        index=posts.index,
    )
    unsafe = np.full(len(posts), "", dtype=object)
    checked = text
    if safe_phrases and unsafe_words:
        safe = re.compile(r"(?<![\w#])#?(?:" + "|".join(_phrase(p) for p in safe_phrases) + r")\b", re.IGNORECASE)
        checked = text.str.replace(safe, " ", regex=True)
    for category, words in (unsafe_words or {}).items():
        if not words:
            continue
        pat = re.compile(r"(?<![\w#])#?(?:" + "|".join(_phrase(w) for w in words) + r")\b", re.IGNORECASE)
        hit = checked.str.contains(pat).to_numpy(dtype=bool)
        unsafe = np.where(hit & (unsafe == ""), category, np.where(hit, unsafe + "," + category, unsafe))
    out["unsafe"] = unsafe
    return out



#: The per-post signals :func:`post_signals` gives, stored with a snapshot's posts.
POST_SIGNAL_COLUMNS = ("is_sponsored", "disclosure", "is_promo", "unsafe")


def post_signals_reusing(
    posts: pd.DataFrame,
    previous: pd.DataFrame | None,
    *,
    early_chars: int = 100,
    unsafe_words: Mapping[str, tuple[str, ...]] | None = None,
    safe_phrases: Sequence[str] = (),
    compute: Callable[..., pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, int]:
    """:func:`post_signals` of ``posts`` (aligned by position), taking unchanged posts' rows from ``previous``.

    ``compute`` replaces :func:`post_signals` for the posts left to do (same arguments, a frame
    aligned with the posts given): :mod:`matcher.distributed` runs it per creator on Ray.

    ``previous`` holds earlier posts (``post_id``, ``text``, ``sponsored``) with their
    :data:`POST_SIGNAL_COLUMNS`, computed with the same settings (the caller makes sure of that):
    a post whose id, text and paid-partnership flag are unchanged keeps its row; only the others
    go through the patterns (minutes at millions of posts, and a night changes a few percent).

    Returns:
        The signals, and how many rows came from ``previous``.
    """
    todo = np.ones(len(posts), dtype=bool)
    cols: dict[str, np.ndarray] = {
        "is_sponsored": np.zeros(len(posts), dtype=bool),
        "disclosure": np.full(len(posts), np.nan),
        "is_promo": np.zeros(len(posts), dtype=bool),
        "unsafe": np.full(len(posts), "", dtype=object),
    }
    if previous is not None and len(posts):
        at = pd.Index(previous["post_id"].astype(str)).get_indexer(posts["post_id"].astype(str))
        known = np.flatnonzero(at >= 0)
        if len(known):
            was = previous.iloc[at[known]]
            now = posts.iloc[known]
            same = (_texts(now) == _texts(was)) & (_paid_flags(now) == _paid_flags(was))
            for col, values in cols.items():
                values[known[same]] = was[col].to_numpy(dtype=values.dtype)[same]
            todo[known[same]] = False
    if todo.any():
        fresh = (compute or post_signals)(posts.iloc[np.flatnonzero(todo)], early_chars=early_chars, unsafe_words=unsafe_words, safe_phrases=safe_phrases)
        for col, values in cols.items():
            values[todo] = fresh[col].to_numpy(dtype=values.dtype)
    return pd.DataFrame(cols, index=posts.index), int(len(posts) - todo.sum())


def _texts(posts: pd.DataFrame) -> np.ndarray:
    return posts["text"].fillna("").astype(str).to_numpy(dtype=object) if "text" in posts else np.full(len(posts), "", dtype=object)


def split_flags(value: object) -> list[str]:
    """The flag codes of a creator's ``flags`` value (``|``-joined, as :func:`compute_signals` writes
    them); none for a missing value."""
    return [f for f in value.split("|") if f] if isinstance(value, str) else []


def _paid_flags(posts: pd.DataFrame) -> np.ndarray:
    """The paid-partnership flag as 1 / 0 / -1 (missing), for comparing two frames."""
    if "sponsored" not in posts:
        return np.full(len(posts), -1, dtype=np.int8)
    f = posts["sponsored"].astype("boolean")
    return np.where(f.isna().to_numpy(), -1, f.fillna(False).to_numpy(dtype=bool).astype(np.int8)).astype(np.int8)

def _is_generic(text: pd.Series) -> np.ndarray:
    """Generic comment: emoji or punctuation only, or at most five words all from a generic vocabulary."""
    out = np.zeros(len(text), dtype=bool)
    for i, t in enumerate(_text(text).str.lower().tolist()):
        words = _WORD.findall(t)
        out[i] = not words or (len(words) <= 5 and all(w in _GENERIC_WORDS for w in words))
    return out


def conversation_signals(comments: pd.DataFrame, posts: pd.DataFrame, cfg: SignalConfig) -> pd.DataFrame:
    """Conversation per creator from the comments table.

    * questions: audience comments that ask (a ``?`` or a leading question word);
    * answered: a question counts as answered when a creator reply on the same post follows it (each
      reply answers the earliest open question before it); ``answer_rate`` = answered / questions;
    * ``median_reply_hours``: median delay from question to its answer;
    * ``generic_share``: share of audience comments that are generic;
    * pods: "regulars" comment on at least ``pod_regular_share`` of a creator's commented posts; a
      creator with ``pod_min_regulars`` regulars who are also regulars of other creators is in a pod.

    Returns a frame indexed by creator_id.
    """
    creator_of = pd.Series(posts["creator_id"].astype(str).to_numpy(), index=posts["post_id"].astype(str).to_numpy())
    c = pd.DataFrame(
        {
            "post_id": comments["post_id"].astype(str).to_numpy(),
            "author_id": comments["author_id"].astype(str).to_numpy(),
            "created_at": pd.to_datetime(comments["created_at"], utc=True).array,
            "reply": comments["is_creator_reply"].astype("boolean").fillna(False).to_numpy(dtype=bool)
            if "is_creator_reply" in comments
            else np.zeros(len(comments), bool),
        }
    )
    c["creator_id"] = c["post_id"].map(creator_of)
    c = c[c["creator_id"].notna()]
    c["reply"] = c["reply"] | (c["author_id"] == c["creator_id"])
    text = comments.loc[c.index, "text"] if "text" in comments else pd.Series("", index=c.index)
    c["question"] = ~c["reply"] & _text(text).str.contains(_QUESTION).to_numpy(dtype=bool)
    c["generic"] = ~c["reply"] & _is_generic(text)

    # Match replies to questions post by post, in time order.
    c = c.sort_values(["post_id", "created_at"], kind="mergesort", na_position="last")
    answered = np.zeros(len(c), dtype=bool)
    delay = np.full(len(c), np.nan)
    posts_arr = c["post_id"].to_numpy()
    q_arr, r_arr = c["question"].to_numpy(), c["reply"].to_numpy()
    t_arr = c["created_at"].to_numpy(dtype="datetime64[ns]")
    open_q: list[int] = []
    current = None
    for i in range(len(c)):
        if posts_arr[i] != current:
            current, open_q = posts_arr[i], []
        if q_arr[i]:
            open_q.append(i)
        elif r_arr[i] and open_q:
            j = open_q.pop(0)
            answered[j] = True
            if not (np.isnat(t_arr[i]) or np.isnat(t_arr[j])):
                delay[j] = (t_arr[i] - t_arr[j]) / np.timedelta64(1, "h")
    c["answered"] = answered
    c["delay_h"] = delay

    aud = c[~c["reply"]]
    g = aud.groupby("creator_id")
    out = pd.DataFrame(
        {
            "comments_seen": g.size(),
            "questions": g["question"].sum(),
            "answered": g["answered"].sum(),
            "generic_share": g["generic"].mean(),
        }
    )
    out["median_reply_hours"] = c[c["answered"]].groupby("creator_id")["delay_h"].median()
    out["answer_rate"] = out["answered"] / out["questions"].where(out["questions"] > 0)

    # Regulars: authors commenting on a large share of a creator's commented posts.
    per_post = aud.drop_duplicates(["creator_id", "post_id", "author_id"])
    n_posts = per_post.groupby("creator_id")["post_id"].nunique()
    by_author = per_post.groupby(["creator_id", "author_id"]).size().rename("posts").reset_index()
    by_author["share"] = by_author["posts"] / by_author["creator_id"].map(n_posts)
    regular = by_author[(by_author["share"] >= cfg.pod_regular_share) & (by_author["creator_id"].map(n_posts) >= 3)]
    creators_per_regular = regular.groupby("author_id")["creator_id"].nunique()
    shared = regular[regular["author_id"].map(creators_per_regular) >= 2]
    out["pod_regulars"] = shared.groupby("creator_id").size()
    pod_authors = set(zip(shared["creator_id"], shared["author_id"]))
    if pod_authors:
        key = list(zip(aud["creator_id"], aud["author_id"]))
        in_pod = np.fromiter((k in pod_authors for k in key), dtype=bool, count=len(key))
        out["pod_share"] = pd.Series(in_pod, index=aud.index).groupby(aud["creator_id"]).mean()
    else:
        out["pod_share"] = 0.0
    out["pod_regulars"] = out["pod_regulars"].fillna(0).astype("int64")
    out["pod_share"] = out["pod_share"].fillna(0.0)
    return out


def post_sums(post_vecs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Float64 sum of each creator's post vectors (posts grouped by creator, ``offsets`` from 0).

    Adds the i-th post of every creator that has one, i = 0, 1, ...: the same additions in the same
    order as ``np.add.at`` (bit-identical sums), at about twice its speed.
    """
    counts = np.diff(offsets)
    n, d = len(counts), post_vecs.shape[1]
    if n == 0:
        return np.zeros((0, d), dtype=np.float64)
    # Creators by post count, most first: those with an i-th post are then the first rows, and the
    # i-th posts are added into a contiguous slice instead of scattered rows.
    order = np.argsort(-counts, kind="stable")
    most = counts[order]
    first = offsets[:-1][order]
    acc = np.zeros((n, d), dtype=np.float64)
    for i in range(int(most[0])):
        m = int(np.searchsorted(-most, -i, side="left"))  # creators with more than i posts
        acc[:m] += post_vecs[first[:m] + i]
    sums = np.empty_like(acc)
    sums[order] = acc
    return sums


def topical_focus(bio_vecs: np.ndarray, has_bio: np.ndarray, post_vecs: np.ndarray, offsets: np.ndarray, *, sums: np.ndarray | None = None) -> pd.DataFrame:
    """Topical focus and bio–posts agreement per creator row, from unit vectors.

    ``focus`` is the length of the mean of the creator's post vectors (1: every post on one topic;
    near 0: scattered); ``bio_agreement`` is the cosine between the bio and the mean post vector
    (NaN without a bio or posts). ``sums``: :func:`post_sums` of these posts, when the caller has them.
    """
    counts = np.diff(offsets)
    sums = post_sums(post_vecs, offsets) if sums is None else sums
    means = np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)
    focus = np.linalg.norm(means, axis=1)
    unit = np.divide(means, focus[:, None], out=np.zeros_like(means), where=focus[:, None] > 0)
    agreement = np.einsum("ij,ij->i", unit, bio_vecs.astype(np.float64))
    ok = has_bio & (counts > 0)
    return pd.DataFrame({"focus": np.where(counts > 0, focus, np.nan), "bio_agreement": np.where(ok, agreement, np.nan)})


def band_fit(followers: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """1 inside the follower band [lo, hi]; outside, falling by 1 per factor of 10 away; NaN if unknown."""
    f = np.asarray(followers, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        below = np.log10(np.maximum(lo, 1) / np.maximum(f, 1))
        above = np.log10(np.maximum(f, 1) / max(hi, 1))
    dist = np.where(f < lo, below, np.where(f > hi, above, 0.0))
    return np.where(np.isnan(f), np.nan, np.clip(1.0 - dist, 0.0, 1.0))


def compute_signals(
    creators: pd.DataFrame,
    posts: pd.DataFrame,
    config: SignalConfig | None = None,
    *,
    comments: pd.DataFrame | None = None,
    focus: pd.DataFrame | None = None,
    fit: FitConfig | None = None,
    post_table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Compute every creator signal, one row per creator, aligned with ``creators``.

    Formulas are documented in docs/signals.md. The main outputs:

    * ``engagement_score`` = 0.7 × percentile + 0.15 × consistency + 0.15 × recency (weights
      renormalised over the parts available), where the percentile is that of the credible rate
      (likes that fail the authenticity checks removed) within its platform and tier, blended with
      its place in the published benchmark while the tier holds fewer than
      ``benchmark_full_at`` creators; NaN (unknown) without followers or views, or with fewer than
      ``min_engagement_posts`` posts;
    * ``authenticity`` = the product over authenticity flags of ``1 - (1 - penalty) × evidence``,
      with the penalty of the flag's severity (:data:`SEVERITY`) and evidence in [0, 1] from the
      posts or comments the flag rests on;
    * ``credibility`` = "doubtful" with a severe flag, two major ones or three of any kind, else "ok";
    * ``transparency`` = mean disclosure quality of sponsored posts (NaN with none);
    * ``trust_score`` = authenticity × (0.5 + 0.5 × transparency), or authenticity alone; NaN
      without posts;
    * ``trust_confidence`` = "high", "medium" or "low": how sure the trust score is, from the posts,
      audience comments and ``history_days`` it rests on (:func:`trust_confidence`);
    * ``conversation_score`` = weighted answer rate, reply speed and non-generic share (NaN without comments);
    * ``flags`` (``|``-joined codes) and ``reasons`` (JSON: code → detail with the numbers).

    Args:
        creators: canonical creators frame.
        posts: canonical posts frame.
        config: signal thresholds.
        comments: optional comments table (canonical); without it conversation is unavailable.
        focus: optional output of :func:`topical_focus`, aligned with ``creators``.
        fit: brand-safety word lists.
        post_table: optional :func:`post_signals` of ``posts`` (same settings, aligned by position),
            already computed: the batch takes unchanged posts' rows from its previous snapshot.
    """
    cfg = config or SignalConfig()
    fit = fit or FitConfig()
    ids = creators["creator_id"].astype(str).reset_index(drop=True)
    out = pd.DataFrame({"creator_id": ids})
    followers = pd.to_numeric(creators["followers"], errors="coerce").astype("float64").reset_index(drop=True)
    following = (
        pd.to_numeric(creators["following"], errors="coerce").astype("float64").reset_index(drop=True)
        if "following" in creators
        else pd.Series(np.nan, index=out.index)
    )
    out["followers"] = followers
    out["following"] = following
    out["tier"] = tier_of(followers).to_numpy()

    ps = post_table if post_table is not None else post_signals(posts, early_chars=cfg.early_chars, unsafe_words=fit.unsafe_words, safe_phrases=fit.safe_phrases)
    p = pd.DataFrame({"creator_id": posts["creator_id"].astype(str).to_numpy()})
    for col in ("likes", "comments", "shares", "views"):
        p[col] = pd.to_numeric(posts[col], errors="coerce").astype("float64").to_numpy() if col in posts else np.nan
    p["posted_at"] = pd.to_datetime(posts["posted_at"], utc=True).array if "posted_at" in posts else pd.NaT
    for col in ("is_sponsored", "disclosure", "is_promo", "unsafe"):
        p[col] = ps[col].to_numpy()
    p["interactions"] = p[["likes", "comments", "shares"]].sum(axis=1, min_count=1)

    # Newest first; the newest `recent_posts` per creator define engagement.
    p = p.sort_values(["creator_id", "posted_at"], ascending=[True, False], na_position="last", kind="mergesort")
    p["recency_rank"] = p.groupby("creator_id").cumcount()
    recent = p[p["recency_rank"] < cfg.recent_posts].copy()
    recent["per_view"] = recent["interactions"] / recent["views"].where(recent["views"] > 0)
    shown = pd.Series(followers.to_numpy(), index=ids.to_numpy())
    recent["above_followers"] = recent[["likes", "comments"]].sum(axis=1, min_count=1) > recent["creator_id"].map(shown).where(lambda f: f > 0)

    g_all = p.groupby("creator_id")
    g = recent.groupby("creator_id")
    spons = p[p["is_sponsored"]]
    gs = spons.groupby("creator_id")
    agg = pd.DataFrame(
        {
            "n_posts": g_all.size(),
            "last_post_at": g_all["posted_at"].max(),
            "first_post_at": g_all["posted_at"].min(),
            "median_interactions": g["interactions"].median(),
            "mean_interactions": g["interactions"].mean(),
            "std_interactions": g["interactions"].std(ddof=0),
            "max_interactions": g["interactions"].max(),
            "median_per_view": g["per_view"].median(),
            "likes_sum": g["likes"].sum(min_count=1),
            "comments_sum": g["comments"].sum(min_count=1),
            "engagement_posts": g["interactions"].count(),
            "view_posts": g["per_view"].count(),
            "posts_above_followers": g["above_followers"].sum(),
            "sponsored_posts": gs.size(),
            "disclosed_posts": (spons["disclosure"] > 0).groupby(spons["creator_id"]).sum(),
            "clear_disclosures": (spons["disclosure"] >= 1).groupby(spons["creator_id"]).sum(),
            "undisclosed_posts": (spons["disclosure"] == 0).groupby(spons["creator_id"]).sum(),
            "transparency": gs["disclosure"].mean(),
            "promo_share": g_all["is_promo"].mean(),
            "unsafe_posts": (p["unsafe"] != "").groupby(p["creator_id"]).sum(),
        }
    )
    unsafe_cats = p[p["unsafe"] != ""].groupby("creator_id")["unsafe"].agg(lambda s: ",".join(sorted({c for v in s for c in v.split(",")})))
    out = out.merge(agg, how="left", left_on="creator_id", right_index=True)
    out["unsafe_categories"] = out["creator_id"].map(unsafe_cats.astype(object) if len(unsafe_cats) else {}).astype(object).fillna("")
    for col in ("n_posts", "sponsored_posts", "disclosed_posts", "clear_disclosures", "undisclosed_posts", "unsafe_posts", "engagement_posts", "view_posts", "posts_above_followers"):
        out[col] = out[col].fillna(0).astype("int64")
    out["sponsored_share"] = out["sponsored_posts"] / out["n_posts"].where(out["n_posts"] > 0)
    newest = p["posted_at"].max()
    out["days_since_last_post"] = (newest - out["last_post_at"]).dt.total_seconds() / 86400.0 if pd.notna(newest) else np.nan
    # Days of posting history, first post to last (0 with one dated post, NaN with none).
    out["history_days"] = ((out["last_post_at"] - out["first_post_at"]).dt.total_seconds() / 86400.0).astype("float64")
    out = out.drop(columns=["first_post_at"])

    # -- engagement ---------------------------------------------------------------------------
    platform = (
        creators["platform"].astype("string").str.strip().str.lower().fillna("").reset_index(drop=True)
        if "platform" in creators
        else pd.Series("", index=out.index, dtype="string")
    )
    by_followers = (followers > 0) & out["median_interactions"].notna()
    by_views = ~by_followers & out["median_per_view"].notna()
    rate = np.where(by_followers, out["median_interactions"] / followers.where(followers > 0), np.where(by_views, out["median_per_view"], np.nan))
    out["engagement_rate"] = rate.astype("float64")
    out["engagement_basis"] = np.where(by_followers, "followers", np.where(by_views, "views", "none"))
    measurable = out["engagement_basis"] != "none"
    # The posts the rate rests on.
    out["engagement_posts"] = np.where(by_followers, out["engagement_posts"], np.where(by_views, out["view_posts"], 0)).astype("int64")
    # Compare like with like: per-follower rates within a platform and tier, per-view rates among
    # themselves; a group's median leans on the published benchmark until the group holds
    # ``benchmark_full_at`` creators.
    tier_key = np.where(by_followers, out["tier"], np.where(by_views, "per_view", "none"))
    plat_key = np.where(by_followers, platform.to_numpy(dtype=object), "")
    out["_group"] = pd.Series(plat_key, dtype=object).astype(str) + ":" + pd.Series(tier_key, dtype=object).astype(str)
    prior = np.array([benchmark_rate(pl, t) if t != "none" else np.nan for pl, t in zip(plat_key, tier_key)], dtype="float64")
    grp = out[measurable & (out["engagement_rate"] > 0)].groupby("_group")["engagement_rate"]
    own_median, own_n = out["_group"].map(grp.median()).astype("float64"), out["_group"].map(grp.size()).fillna(0).astype("float64")
    weight = np.minimum(1.0, own_n / cfg.benchmark_full_at).where(own_median > 0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_median = weight * np.log(own_median.where(own_median > 0, 1.0)) + (1.0 - weight) * np.log(prior)
    out["tier_median_rate"] = np.where(measurable, np.exp(log_median), np.nan)
    out["benchmark_weight"] = np.where(measurable, 1.0 - weight, np.nan)
    out["engagement_ratio"] = out["engagement_rate"] / out["tier_median_rate"].where(out["tier_median_rate"] > 0)
    cv = out["std_interactions"] / out["mean_interactions"].where(out["mean_interactions"] > 0)
    out["consistency"] = (1.0 / (1.0 + cv)).where(out["n_posts"] >= 2)
    out["recency"] = np.exp(-out["days_since_last_post"] / cfg.recency_days)
    out["comment_like_ratio"] = out["comments_sum"] / out["likes_sum"].where(out["likes_sum"] > 0)
    out["burst_ratio"] = out["max_interactions"] / out["median_interactions"].where(out["median_interactions"] > 0)

    # -- conversation -------------------------------------------------------------------------
    conv_cols = ["comments_seen", "questions", "answered", "answer_rate", "median_reply_hours", "generic_share", "pod_regulars", "pod_share"]
    if comments is not None:
        conv = conversation_signals(comments, posts, cfg)
        out = out.merge(conv[conv_cols], how="left", left_on="creator_id", right_index=True)
        for col in ("comments_seen", "questions", "answered", "pod_regulars"):
            out[col] = out[col].fillna(0).astype("int64")
        speed = np.exp(-out["median_reply_hours"] / cfg.reply_hours)
        parts = pd.DataFrame({"a": out["answer_rate"], "s": speed.where(out["answered"] > 0, 0.0).where(out["questions"] > 0), "g": 1.0 - out["generic_share"]})
        wts = pd.Series({"a": 0.5, "s": 0.3, "g": 0.2})
        num = (parts * wts).sum(axis=1, min_count=1)
        den = parts.notna().mul(wts).sum(axis=1)
        out["conversation_score"] = (num / den.where(den > 0)).where(out["comments_seen"] > 0).astype("float64")
    else:
        for col in conv_cols:
            out[col] = np.nan
        out["conversation_score"] = np.nan

    # -- focus --------------------------------------------------------------------------------
    if focus is not None:
        # One or two posts always look focused: focus needs three to mean anything.
        out["focus"] = np.where(out["n_posts"].to_numpy() >= 3, focus["focus"].to_numpy(dtype="float64"), np.nan)
        out["bio_agreement"] = focus["bio_agreement"].to_numpy()
    else:
        out["focus"] = np.nan
        out["bio_agreement"] = np.nan

    # -- brand accounts -----------------------------------------------------------------------
    handle_cue = creators["handle"].astype("string").fillna("").str.contains(_BRAND_HANDLE).to_numpy(dtype=bool) if "handle" in creators else np.zeros(len(out), bool)
    bio_cue = creators["bio"].astype("string").fillna("").str.contains(_BRAND_BIO).to_numpy(dtype=bool) if "bio" in creators else np.zeros(len(out), bool)
    promo_cue = (out["promo_share"].fillna(0.0) >= 0.5).to_numpy()
    brand = (handle_cue.astype(int) + bio_cue.astype(int) + promo_cue.astype(int)) >= 2
    out["is_brand_account"] = brand

    # -- flags and their details --------------------------------------------------------------
    median_clr = out["comment_like_ratio"].median()
    false = pd.Series(False, index=out.index)
    flags: dict[str, pd.Series] = {
        # Implausible whatever the collection holds: no genuine audience produces these figures.
        "INTERACTIONS_ABOVE_FOLLOWERS": (out["posts_above_followers"] >= 3) & (out["posts_above_followers"] > 0.5 * out["engagement_posts"]),
        "NEAR_ZERO_COMMENTS_PER_LIKE": (out["likes_sum"] >= cfg.near_zero_min_likes) & (out["comment_like_ratio"] < cfg.near_zero_comments_per_like),
        "ENGAGEMENT_FAR_BELOW_TIER": out["engagement_ratio"] < cfg.low_engagement_ratio,
        "ENGAGEMENT_FAR_ABOVE_TIER": out["engagement_ratio"] > cfg.high_engagement_ratio,
        "FEW_COMMENTS_PER_LIKE": ((out["likes_sum"] >= 100) & (out["comment_like_ratio"] < 0.25 * median_clr)) if pd.notna(median_clr) else false,
        "FOLLOWS_MORE_THAN_FOLLOWED": (following >= 1000) & (following >= followers),
        "ENGAGEMENT_BURST": (out["n_posts"] >= 5) & (out["burst_ratio"] >= cfg.burst_ratio),
        "ENGAGEMENT_POD": (out["pod_regulars"] >= cfg.pod_min_regulars) & (out["pod_share"] >= 0.4),
        "MOSTLY_GENERIC_COMMENTS": (out["comments_seen"] >= 10) & (out["generic_share"] > cfg.generic_share_max),
        # A brand promoting its own products is not sponsored content.
        "UNDISCLOSED_SPONSORSHIP": (out["undisclosed_posts"] > 0) & ~out["is_brand_account"],
        "LATE_OR_VAGUE_DISCLOSURE": (out["disclosed_posts"] > out["clear_disclosures"]) & ~out["is_brand_account"],
        "RARELY_ANSWERS": (out["questions"] >= 5) & (out["answer_rate"] < 0.2),
        "BIO_NOT_SUPPORTED_BY_POSTS": (out["n_posts"] >= 3) & (out["bio_agreement"] < cfg.min_bio_agreement),
        "BRAND_ACCOUNT": out["is_brand_account"],
        "UNSAFE_CONTENT": out["unsafe_posts"] > 0,
        "NO_ENGAGEMENT_DATA": (out["n_posts"] > 0) & ~measurable,
        "NO_COMMENT_DATA": pd.Series(comments is None, index=out.index),
        "NO_POSTS": out["n_posts"] == 0,
    }
    fmat = pd.DataFrame({k: v.fillna(False).astype(bool).to_numpy() for k, v in flags.items()})
    codes = np.array(list(flags))

    # -- credible engagement ------------------------------------------------------------------
    # Likes that fail the authenticity checks do not count: with too few comments per like, the
    # likes are those the comments imply at the collection's typical ratio; a rate far above the
    # tier, or above the follower count, counts as the tier's median at most.
    likes_doubtful = (fmat["FEW_COMMENTS_PER_LIKE"] | fmat["NEAR_ZERO_COMMENTS_PER_LIKE"]).to_numpy()
    ref_clr = float(median_clr) if pd.notna(median_clr) and median_clr > 0 else np.nan
    implied = np.clip(out["comment_like_ratio"].to_numpy(dtype="float64") / ref_clr, 0.0, 1.0) if np.isfinite(ref_clr) else np.zeros(len(out))
    credible = out["engagement_rate"].to_numpy(dtype="float64").copy()
    credible = np.where(likes_doubtful, credible * np.nan_to_num(implied), credible)
    capped = (fmat["ENGAGEMENT_FAR_ABOVE_TIER"] | fmat["INTERACTIONS_ABOVE_FOLLOWERS"]).to_numpy()
    credible = np.where(capped, np.minimum(credible, out["tier_median_rate"].to_numpy(dtype="float64")), credible)
    out["credible_engagement_rate"] = credible
    # The percentile of the credible rate within its group, blended with its place in the
    # published distribution as the group's median is.
    enough = measurable & (out["engagement_posts"] >= cfg.min_engagement_posts)
    own_pct = out["credible_engagement_rate"].where(enough).groupby(out["_group"]).rank(pct=True, method="average")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(np.maximum(credible, 1e-12)) - np.log(prior)) / _BENCHMARK_SPREAD
    prior_pct = _normal_cdf(z)
    w = np.nan_to_num(weight.to_numpy(dtype="float64"))
    pct = w * own_pct.to_numpy(dtype="float64") + (1.0 - w) * prior_pct
    out["engagement_percentile"] = np.where(enough, pct, np.nan)
    # How many creators of the group the percentile is taken among (the published benchmark fills in the rest).
    out["engagement_peers"] = pd.Series(np.asarray(enough, dtype=bool), index=out.index).groupby(out["_group"]).transform("sum").where(enough).astype("Int64")
    parts = pd.DataFrame({"p": out["engagement_percentile"], "c": out["consistency"], "r": out["recency"]})
    wts = pd.Series({"p": 0.7, "c": 0.15, "r": 0.15})
    num = (parts * wts).sum(axis=1, min_count=1)
    den = parts.notna().mul(wts).sum(axis=1)
    # Unmeasurable engagement (no followers and no views, or fewer than ``min_engagement_posts``
    # posts) is unknown, never evidence either way.
    out["engagement_score"] = (num / den.where(den > 0)).where(enough).clip(0.0, 1.0).astype("float64")

    # -- authenticity, credibility and trust ---------------------------------------------------
    # Each flag weighs in proportion to the evidence it rests on: the posts measured for
    # engagement flags, the comments read for comment flags.
    posts_ev = np.minimum(1.0, out["engagement_posts"].to_numpy(dtype="float64") / cfg.evidence_posts)
    comments_ev = np.minimum(1.0, np.nan_to_num(out["comments_seen"].to_numpy(dtype="float64")) / cfg.evidence_comments)
    evidence = {code: posts_ev for code in AUTHENTICITY_FLAGS}
    questions_ev = np.minimum(1.0, np.nan_to_num(out["questions"].to_numpy(dtype="float64")) / 10.0)
    sponsored_ev = np.minimum(1.0, out["sponsored_posts"].to_numpy(dtype="float64") / 2.0)
    evidence.update({
        "FOLLOWS_MORE_THAN_FOLLOWED": np.ones(len(out)), "ENGAGEMENT_POD": comments_ev, "MOSTLY_GENERIC_COMMENTS": comments_ev,
        "RARELY_ANSWERS": questions_ev, "UNDISCLOSED_SPONSORSHIP": sponsored_ev, "LATE_OR_VAGUE_DISCLOSURE": sponsored_ev,
    })
    penalty = {"minor": cfg.minor_flag_penalty, "major": cfg.flag_penalty, "severe": cfg.severe_flag_penalty}
    authenticity = np.ones(len(out))
    severe = np.zeros(len(out), dtype=bool)
    majors = np.zeros(len(out), dtype=np.int64)
    minors = np.zeros(len(out), dtype=np.int64)
    for code in SEVERITY:
        raised = fmat[code].to_numpy()
        sev = SEVERITY[code]
        ev = evidence.get(code, posts_ev)
        if code in AUTHENTICITY_FLAGS:
            authenticity *= np.where(raised, 1.0 - (1.0 - penalty[sev]) * ev, 1.0)
        # Only flags resting on at least half the full evidence make a creator doubtful.
        firm = raised & (ev >= 0.5)
        severe |= firm & (sev == "severe")
        majors += firm & (sev == "major")
        minors += firm & (sev == "minor")
    out["authenticity"] = authenticity.astype("float64")
    # Doubtful: one severe flag, two major ones, or three of any kind, each on firm evidence. The
    # reranker ranks doubtful creators below clean creators of comparable topical fit
    # (``rank.doubtful_penalty``).
    doubtful = severe | (majors >= 2) | (majors + minors >= 3)
    out["credibility"] = np.where(doubtful, "doubtful", "ok")
    out["flags"] = ["|".join(codes[row]) for row in fmat.to_numpy()]
    # Records of the columns the details read only: building them over every column was half of this function.
    details = out.loc[:, [c for c in _DETAIL_FIELDS if c in out.columns]].to_dict("records")
    out["reasons"] = [json.dumps(_details(r, codes[m], cfg), sort_keys=True) for r, m in zip(details, fmat.to_numpy())]
    transparency = out["transparency"].to_numpy(dtype="float64")
    trust = np.where(np.isnan(transparency), out["authenticity"], out["authenticity"] * (0.5 + 0.5 * np.nan_to_num(transparency)))
    # Nothing to judge (no posts): trust is unknown, not a clean bill of health.
    out["trust_score"] = np.where(out["n_posts"].to_numpy() > 0, trust, np.nan)
    # How sure that figure is: the posts, audience comments and days of history it rests on.
    out["trust_confidence"] = trust_confidence(
        out["n_posts"].to_numpy(), None if comments is None else out["comments_seen"].to_numpy(), out["history_days"].to_numpy(), cfg
    )
    out = out.drop(columns=["_group"])
    n_auth = fmat[list(AUTHENTICITY_FLAGS)].sum(axis=1).to_numpy()
    logger.info(
        "signals: %d creators, %d with measurable engagement, %d with authenticity flags, %d doubtful, %d brand accounts",
        len(out), int(enough.sum()), int((n_auth > 0).sum()), int(doubtful.sum()), int(brand.sum()),
    )
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def parse_reasons(raw: object) -> dict[str, str]:
    """A creator's ``reasons`` cell as stored (JSON text) as a dict: flag code -> detail; ``{}`` when blank."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if not isinstance(raw, str) or not raw.strip():
        return {}
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}


#: The signal columns :func:`_details` reads (a test holds this list to its code).
_DETAIL_FIELDS = (
    "answered", "benchmark_weight", "bio_agreement", "burst_ratio", "clear_disclosures", "comment_like_ratio",
    "comments_seen", "comments_sum", "disclosed_posts", "engagement_basis", "engagement_posts", "engagement_rate",
    "engagement_ratio", "followers", "following", "generic_share", "likes_sum", "max_interactions",
    "median_interactions", "pod_regulars", "pod_share", "posts_above_followers", "promo_share", "questions",
    "sponsored_posts", "tier", "tier_median_rate", "undisclosed_posts", "unsafe_categories", "unsafe_posts",
)


def _details(r: dict, codes: np.ndarray, cfg: SignalConfig) -> dict[str, str]:
    """A human-readable detail, with the creator's own numbers, for each raised code."""
    d: dict[str, str] = {}
    for code in codes:
        if code in ("ENGAGEMENT_FAR_BELOW_TIER", "ENGAGEMENT_FAR_ABOVE_TIER"):
            where = f"{r['tier']} tier" if r["engagement_basis"] == "followers" else "per-view creators"
            basis = " (published benchmark)" if r["benchmark_weight"] >= 0.999 else f" ({100 * r['benchmark_weight']:.0f}% published benchmark)" if r["benchmark_weight"] > 0.001 else ""
            d[code] = f"engagement {_pct(r['engagement_rate'])} is {r['engagement_ratio']:.2f}x the {where} median {_pct(r['tier_median_rate'])}{basis}"
        elif code == "INTERACTIONS_ABOVE_FOLLOWERS":
            d[code] = f"{int(r['posts_above_followers'])} of {int(r['engagement_posts'])} recent posts drew more likes and comments than its {int(r['followers']):,} followers"
        elif code == "NEAR_ZERO_COMMENTS_PER_LIKE":
            d[code] = f"{int(r['comments_sum']):,} comments on {int(r['likes_sum']):,} likes over the recent posts"
        elif code == "FEW_COMMENTS_PER_LIKE":
            d[code] = f"{r['comment_like_ratio']:.4f} comments per like over the recent posts"
        elif code == "FOLLOWS_MORE_THAN_FOLLOWED":
            fol = "unknown" if pd.isna(r["followers"]) else f"{int(r['followers']):,}"
            d[code] = f"follows {int(r['following']):,} accounts with {fol} followers"
        elif code == "ENGAGEMENT_BURST":
            d[code] = f"best post drew {r['burst_ratio']:.1f}x the median interactions ({r['max_interactions']:,.0f} vs {r['median_interactions']:,.0f})"
        elif code == "ENGAGEMENT_POD":
            d[code] = f"{int(r['pod_regulars'])} regular commenters shared with other creators write {_pct(r['pod_share'])} of comments"
        elif code == "MOSTLY_GENERIC_COMMENTS":
            d[code] = f"{_pct(r['generic_share'])} of {int(r['comments_seen'])} audience comments are generic"
        elif code == "UNDISCLOSED_SPONSORSHIP":
            d[code] = f"{int(r['undisclosed_posts'])} of {int(r['sponsored_posts'])} sponsored posts carry no disclosure"
        elif code == "LATE_OR_VAGUE_DISCLOSURE":
            d[code] = f"{int(r['disclosed_posts'] - r['clear_disclosures'])} of {int(r['sponsored_posts'])} sponsored posts disclose late (after {cfg.early_chars} characters) or vaguely"
        elif code == "RARELY_ANSWERS":
            d[code] = f"answered {int(r['answered'])} of {int(r['questions'])} audience questions"
        elif code == "BIO_NOT_SUPPORTED_BY_POSTS":
            d[code] = f"bio-to-posts similarity {r['bio_agreement']:.2f} is below {cfg.min_bio_agreement:.2f}"
        elif code == "BRAND_ACCOUNT":
            d[code] = f"brand-like handle/bio and {_pct(r['promo_share'] if pd.notna(r['promo_share']) else 0.0)} promotional posts"
        elif code == "UNSAFE_CONTENT":
            d[code] = f"{int(r['unsafe_posts'])} posts in: {r['unsafe_categories']}"
        else:
            d[code] = REASONS[code]
    return d
