"""Rerank topical candidates by engagement, trust, conversation and fit; explain every score; learn weights from outcomes."""

from __future__ import annotations

import json
import logging
import math
import os
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.collaborations import MAX_LISTED, BrandNames, brand_key, collection_collaborations, empty_collaborations, post_tokens
from matcher.config import Config, FitConfig, RankConfig, Weights
from matcher.errors import ConfigError, StoreError
from matcher.measures import evaluate
from matcher.niches import niche_arrays
from matcher.schema import Brand, Collaboration, Evidence, Hit, Match, PriceEstimate, TrustConfidence
from matcher.signals import SEVERITY, band_fit, parse_reasons, post_signals, split_flags
from matcher.text import brief_text

__all__ = [
    "COMPONENTS",
    "topic_score",
    "topic_scores",
    "calibrate_topic",
    "topic_anchor",
    "combine",
    "combine_many",
    "Reranker",
    "match_columns",
    "explain",
    "worked_with",
    "worked_with_column",
    "collaborations_of",
    "engagement_standing",
    "train_weights",
    "save_weights",
    "load_weights",
    "load_reranker",
    "WEIGHTS_FILE",
]

logger = logging.getLogger(__name__)

COMPONENTS = ("topic", "engagement", "trust", "conversation", "fit")
WEIGHTS_FILE = "weights.json"
WEIGHTS_FORMAT = "matcher.weights"
WEIGHTS_VERSION = 1

# Share of the topic score that comes from the creator's best-matching posts (the rest: the
# creator's whole-profile vector). Posts carry the specific evidence a brief is judged on.
POST_SHARE = 0.5


def topic_score(profile_similarity: float, post_similarities: np.ndarray, *, top: int = 3) -> float:
    """Topical fit in [0, 1] from the profile's cosine similarity and the best posts' similarities.

    ``(1 - POST_SHARE) * profile + POST_SHARE * mean(top posts)``, clipped to [0, 1]; with no posts,
    the profile similarity alone. One creator's :func:`topic_scores`.
    """
    sims = np.asarray(post_similarities)
    return float(topic_scores(np.array([float(profile_similarity)]), sims, np.array([sims.size]), top=top)[0])


def topic_scores(profile_similarities: np.ndarray, post_similarities: np.ndarray, counts: np.ndarray, *, top: int = 3) -> np.ndarray:
    """:func:`topic_score` of many creators at once.

    ``post_similarities`` holds every creator's post similarities one creator after another,
    ``counts[i]`` of them for creator ``i``. The best ``top`` of each are summed in their own dtype
    (at least float32) and divided by their number in float64.
    """
    profile = np.asarray(profile_similarities, dtype=np.float64).copy()
    counts = np.asarray(counts, dtype=np.int64)
    sims = np.asarray(post_similarities)
    dtype = np.result_type(sims.dtype, np.float32)
    width = int(counts.max()) if len(counts) else 0
    if width:
        ends = np.cumsum(counts)
        grid = np.full((len(counts), width), -np.inf, dtype=dtype)
        grid[np.repeat(np.arange(len(counts)), counts), np.arange(int(ends[-1])) - np.repeat(ends - counts, counts)] = sims
        k = min(top, width)
        best = np.sort(grid, axis=1)[:, ::-1][:, :k]
        best = np.where(np.isneginf(best), dtype.type(0), best)
        used = np.minimum(counts, k)
        has = used > 0
        means = (best.sum(axis=1, dtype=dtype).astype(np.float64)[has] / used[has]).astype(dtype)
        profile[has] = (1 - POST_SHARE) * profile[has] + POST_SHARE * means.astype(np.float64)
    return np.minimum(1.0, np.maximum(0.0, profile))


def topic_anchor(topic: np.ndarray, rank: RankConfig, *, reference: np.ndarray | None = None) -> tuple[float, float]:
    """``(best, tau)`` of one brief, from the topical scores of its candidates.

    ``best`` is the highest topical score among the ``reference`` candidates (all when None; the
    reranker passes the creators that are not doubtful, so a doubtful creator whose posts copy the
    brief gains nothing over the best clean one), ``tau = max(rank.topic_scale × std,
    rank.min_topic_scale)`` with ``std`` the standard deviation of the ``rank.calibration_top`` best
    reference scores.
    """
    t = np.nan_to_num(np.asarray(topic, dtype="float64"), nan=0.0)
    if t.size == 0:
        return 0.0, rank.min_topic_scale
    ref = t if reference is None or not np.any(reference) else t[np.asarray(reference, dtype=bool)]
    top = np.sort(ref)[::-1][: rank.calibration_top]
    return float(top[0]), max(rank.topic_scale * float(top.std()), rank.min_topic_scale)


def calibrate_topic(
    topic: np.ndarray, rank: RankConfig, *, reference: np.ndarray | None = None, anchor: tuple[float, float] | None = None
) -> np.ndarray:
    """Topical fit of each candidate relative to one brief's best candidates, in (0, 1].

    ``exp(min(0, topic - best) / tau)`` with ``(best, tau)`` the ``anchor`` when given (the
    engine passes the brief's anchor over the whole collection, :meth:`Reranker.anchor`, so a
    filter or a larger ``k`` never changes a creator's score), else :func:`topic_anchor` of these
    candidates. With ``rank.calibration == "none"`` the raw scores come back unchanged.
    """
    t = np.nan_to_num(np.asarray(topic, dtype="float64"), nan=0.0)
    if rank.calibration == "none" or t.size == 0:
        return t
    best, tau = anchor if anchor is not None else topic_anchor(t, rank, reference=reference)
    return np.exp(np.minimum(0.0, t - best) / tau)


def _num(v: Any) -> float | None:
    """A float, or None for missing, NaN and non-numbers."""
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _value(v: Any) -> float | None:
    """A component value clipped to [0, 1], or None when it is unavailable (missing or not finite)."""
    f = _num(v)
    return None if f is None or not math.isfinite(f) else min(1.0, max(0.0, f))


def combine(components: Mapping[str, float | None], weights: Weights, *, multiplier: float = 1.0) -> tuple[float, dict[str, float]]:
    """Score one creator: topical fit, scaled by how well its other signals hold up.

    With ``share = w_topic / Σ w`` and ``quality`` the weighted mean of the other components that
    are available (each value clipped to [0, 1])::

        score = multiplier × topic × (share + (1 - share) × quality)

    A creator whose other signals are all perfect keeps its whole topical score; the other
    components together can take away at most ``1 - share`` of it. Scaling topic rather than
    adding to it keeps trust and engagement from lifting an off-topic creator over an on-topic
    one: they reorder creators of similar topical fit. A component that is None or not finite is
    unavailable and left out of ``quality`` (as if it equalled the others' mean: a missing signal
    neither helps nor hurts); with none available, ``quality`` is 1. An unavailable topic counts
    as 0: without topical evidence there is no match. ``multiplier`` (fit penalties) scales the
    score; the loss appears as a negative ``penalty`` contribution.

    Returns:
        ``(score, contributions)``: ``topic × share`` for topic, ``topic × (1 - share) × w_n / Σ w_available × value_n``
        for each other component, plus the penalty; they sum to ``score``.
    """
    row = np.array([[np.nan if (v := _num(components.get(n))) is None else v for n in COMPONENTS]], dtype="float64")
    scores, contrib = combine_many(row, weights, np.array([multiplier], dtype="float64"))
    out = {n: float(contrib[0, j]) for j, n in enumerate(COMPONENTS)}
    if contrib[0, -1] != 0.0:
        out["penalty"] = float(contrib[0, -1])
    return float(scores[0]), out


def combine_many(
    values: np.ndarray, weights: Weights, multipliers: np.ndarray | None = None, *, topic_fit: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`combine` for many creators at once.

    Args:
        values: ``(n, 5)`` component values in :data:`COMPONENTS` order; NaN or infinite marks a
            component unavailable for that creator.
        weights: the component weights.
        multipliers: ``(n,)`` fit-penalty multipliers (default 1), clipped to [0, 1].
        topic_fit: ``(n,)`` calibrated topical fit (:func:`calibrate_topic`) to scale instead of
            the raw topic value.

    Returns:
        ``(scores, contributions)``: ``(n,)`` scores and ``(n, 6)`` contributions, one column per
        component then the (non-positive) penalty; each row sums to its score.
    """
    X = np.asarray(values, dtype="float64").reshape(-1, len(COMPONENTS))
    w = weights.normalized()
    W = np.array([w[n] for n in COMPONENTS])
    share = W[0]
    avail = np.isfinite(X)
    V = np.clip(np.where(avail, X, 0.0), 0.0, 1.0)
    topic = V[:, 0] if topic_fit is None else np.clip(np.nan_to_num(np.asarray(topic_fit, dtype="float64")), 0.0, 1.0)
    wo = W[1:] * (avail[:, 1:] & (W[1:] > 0))
    wsum = wo.sum(axis=1)
    has = wsum > 0
    frac = np.divide(wo, wsum[:, None], out=np.zeros_like(wo), where=has[:, None])
    contrib = np.zeros((len(X), len(COMPONENTS) + 1))
    contrib[:, 0] = np.where(has, topic * share, topic)
    contrib[:, 1 : len(COMPONENTS)] = (topic * (1.0 - share))[:, None] * frac * V[:, 1:]
    base = contrib[:, : len(COMPONENTS)].sum(axis=1)
    m = np.ones(len(X)) if multipliers is None else np.clip(np.nan_to_num(np.asarray(multipliers, dtype="float64"), nan=1.0), 0.0, 1.0)
    contrib[:, -1] = base * m - base
    return base + contrib[:, -1], contrib


class Reranker:
    """Scores topical candidates against a snapshot's signals and builds explained :class:`Match` objects."""

    def __init__(self, weights: Weights | None = None, *, fit: FitConfig | None = None, rank: RankConfig | None = None, evidence_posts: int = 3) -> None:
        self.weights = weights or Weights()
        self.fit = fit or FitConfig()
        self.rank_config = rank or RankConfig()
        self.evidence_posts = evidence_posts

    @classmethod
    def from_config(cls, config: Config, weights: Weights | None = None) -> Reranker:
        """The reranker a config describes, with ``weights`` (learned ones, say) in place of its own."""
        return cls(weights or config.weights, fit=config.fit, rank=config.rank, evidence_posts=config.evidence_posts)

    # -- components -----------------------------------------------------------------------------
    def _topics(self, snapshot: Any, query: np.ndarray, rows: np.ndarray, profile_sims: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """The topic component of each row (:func:`topic_scores`) and its posts' similarities to
        ``query``, all rows' posts in one product with the query."""
        offsets = np.asarray(snapshot.post_offsets, dtype=np.int64)
        rows = np.asarray(rows, dtype=np.int64)
        lo, counts = offsets[rows], offsets[rows + 1] - offsets[rows]
        total = int(counts.sum())
        ends = np.cumsum(counts)
        if total:
            at = np.arange(total, dtype=np.int64) + np.repeat(lo - (ends - counts), counts)
            sims = np.asarray(snapshot.post_vectors[at] @ query, dtype=np.float32)
        else:
            sims = np.zeros(0, dtype=np.float32)
        post_sims = np.split(sims, ends[:-1]) if len(rows) else []
        return topic_scores(profile_sims, sims, counts, top=self.evidence_posts), post_sims

    @staticmethod
    def _doubtful(snapshot: Any, rows: np.ndarray) -> np.ndarray:
        # From the per-snapshot match columns: no conversion of the whole column per query.
        cols = match_columns(snapshot)
        return cols["s:credibility"][rows] == "doubtful" if "s:credibility" in cols else np.zeros(len(rows), bool)

    def anchor(self, snapshot: Any, query: np.ndarray, hits: Sequence[Hit]) -> tuple[float, float]:
        """The brief's calibration anchor ``(best, tau)`` (:func:`topic_anchor`) over ``hits``, its
        candidates in the whole collection; its clean creators set it."""
        rows = np.array([h.row for h in hits], dtype=np.int64)
        topic, _ = self._topics(snapshot, query, rows, np.array([h.score for h in hits]))
        return topic_anchor(topic, self.rank_config, reference=~self._doubtful(snapshot, rows))

    def components(
        self, snapshot: Any, query: np.ndarray, rows: np.ndarray, profile_sims: np.ndarray, *, brand: Brand | None = None,
        anchor: tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        """Component values (arrays over ``rows``), the post similarities and the fit penalties.

        Returns a dict with one array per component name (NaN: unavailable), ``post_sims`` (a list of
        arrays), ``multiplier`` (fit and credibility penalties), ``conflicts`` (competitor names per
        row), ``doubtful`` and ``topic_fit`` (topic calibrated by ``anchor``, or over these
        candidates when it is None; see :func:`calibrate_topic`).
        """
        sig = snapshot.signals
        topic, post_sims = self._topics(snapshot, query, rows, profile_sims)
        lo_f = brand.min_followers if brand is not None and brand.min_followers is not None else self.fit.min_followers
        hi_f = brand.max_followers if brand is not None and brand.max_followers is not None else self.fit.max_followers
        band = band_fit(sig["followers"].to_numpy(dtype="float64")[rows], lo_f, hi_f)
        focus = sig["focus"].to_numpy(dtype="float64")[rows] if "focus" in sig else np.full(len(rows), np.nan)
        parts = np.vstack([band, focus])
        known = np.isfinite(parts).sum(axis=0)
        # The mean of what is known; unknown (NaN) when neither the band nor focus can be measured.
        fit = np.where(known > 0, np.nansum(parts, axis=0) / np.maximum(known, 1), np.nan)
        conflicts = self._conflicts(snapshot, rows, brand)
        unsafe = sig["unsafe_posts"].to_numpy()[rows] > 0 if "unsafe_posts" in sig else np.zeros(len(rows), bool)
        multiplier = np.where([bool(c) for c in conflicts], self.fit.conflict_penalty, 1.0) * np.where(unsafe, self.fit.unsafe_penalty, 1.0)
        conv = sig["conversation_score"].to_numpy(dtype="float64")[rows] if "conversation_score" in sig else np.full(len(rows), np.nan)
        doubtful = self._doubtful(snapshot, rows)
        multiplier = multiplier * np.where(doubtful, self.rank_config.doubtful_penalty, 1.0)
        return {
            "topic": topic,
            "engagement": sig["engagement_score"].to_numpy(dtype="float64")[rows],
            "trust": sig["trust_score"].to_numpy(dtype="float64")[rows],
            "conversation": conv,
            "fit": fit,
            "post_sims": post_sims,
            "multiplier": multiplier,
            "conflicts": conflicts,
            "doubtful": doubtful,
            "topic_fit": calibrate_topic(topic, self.rank_config, reference=~doubtful, anchor=anchor),
        }

    def _conflicts(self, snapshot: Any, rows: np.ndarray, brand: Brand | None) -> list[tuple[Collaboration, ...]]:
        """Each creator's collaborations with the brand's competitors within ``fit.competitor_days``
        of the collection's newest post: the newest one per competitor, named as the brand lists it.

        A collaboration is one of the creator's stored collaborations (:mod:`matcher.collaborations`)
        whose brand is a competitor by :func:`~matcher.collaborations.brand_key`, or a sponsored post
        of the creator that names a competitor the collection did not know when it was stored.
        An undated post is never recent.
        """
        if brand is None or not brand.competitors:
            return [() for _ in rows]
        cols = match_columns(snapshot)
        wanted: dict[str, str] = {}
        for c in brand.competitors:
            wanted.setdefault(brand_key(c), c)
        wanted.pop("", None)
        names = BrandNames().add(brand.competitors)
        # Per-snapshot arrays: converting every post's date for each brand cost ~50 ms per brand at 1M creators.
        when, newest = cols["post_when"], cols["newest_post"][0]
        cutoff = newest - np.timedelta64(self.fit.competitor_days, "D") if not np.isnat(newest) else None
        c_off, c_key, c_when = cols["collab_offsets"], cols["collab_key"], cols["collab_when"]
        if cutoff is None:  # no dated post: nothing is recent
            return [() for _ in rows]
        # Most creators have neither a collaboration nor a sponsored post since the cutoff: skipped at once.
        rows = np.asarray(rows, dtype=np.int64)
        newest = cols.get("sponsored_newest")
        maybe = (c_off[rows + 1] > c_off[rows]) | (newest[rows] >= cutoff if newest is not None else True)
        out = []
        for row, look in zip(rows.tolist(), maybe.tolist()):
            if not look:
                out.append(())
                continue
            found: dict[str, Collaboration] = {}
            lo, hi = int(c_off[row]), int(c_off[row + 1])
            for j in range(lo, hi):  # newest first
                key = c_key[j]
                if key in wanted and key not in found and cutoff is not None and c_when[j] >= cutoff:
                    found[key] = _collaboration(cols, j, name=wanted[key])
            lo, hi = int(snapshot.post_offsets[row]), int(snapshot.post_offsets[row + 1])
            if hi > lo and cutoff is not None and len(found) < len(wanted):
                pick = np.flatnonzero(cols["post_sponsored"][lo:hi] & (when[lo:hi] >= cutoff))  # NaT compares False
                for j in pick[np.argsort(-when[lo:hi][pick].astype("int64"), kind="stable")]:
                    for key in names.find(post_tokens(cols["post_text"][lo + j])):
                        if key in wanted and key not in found:
                            found[key] = Collaboration(
                                brand=wanted[key], date=_day(when[lo + j]), disclosed=bool(cols["post_disclosed"][lo + j]),
                                source="name", post_id=str(cols["post_id"][lo + j]),
                            )
            out.append(tuple(found[k] for k in wanted if k in found))
        return out

    # -- ranking --------------------------------------------------------------------------------
    def rank(
        self,
        snapshot: Any,
        query: np.ndarray,
        hits: Sequence[Hit],
        k: int,
        *,
        weights: Weights | None = None,
        brand: Brand | None = None,
        diversity: float = 0.0,
        anchor: tuple[float, float] | None = None,
    ) -> list[Match]:
        """Rerank ``hits`` for one unit-length ``query`` vector and return the top ``k`` matches.

        Args:
            snapshot: a :class:`matcher.store.Snapshot`.
            query: the brief's vector.
            hits: topical candidates from the index.
            k: matches wanted.
            weights: per-call override of the configured weights.
            brand: the brand, for its follower band and competitors.
            diversity: 0 (off) to 1; above 0, maximal marginal relevance trades score for
                dissimilarity to the creators already chosen, among the relevant ones only (the
                ``k + ceil(k × rank.diversity_depth × diversity)`` best that are not weak); the
                others follow in score order.
            anchor: the brief's calibration anchor (:meth:`anchor`); None: calibrate over ``hits``.
        """
        if not hits:
            return []
        weights = weights or self.weights
        rows = np.array([h.row for h in hits], dtype=np.int64)
        comps = self.components(snapshot, query, rows, np.array([h.score for h in hits]), brand=brand, anchor=anchor)
        X = np.column_stack([np.asarray(comps[n], dtype="float64") for n in COMPONENTS])
        scores, contribs = combine_many(X, weights, np.asarray(comps["multiplier"], dtype="float64"), topic_fit=comps["topic_fit"])
        # Ties break on creator id so rankings are reproducible. Only the top k become Match
        # objects: building dicts for all candidates cost more than scoring them.
        scored = sorted(((float(scores[i]), hit.id, i) for i, hit in enumerate(hits)), key=lambda t: (-t[0], t[1]))
        # Below the relevance floor the creator's content is off the brief's topic: marked, or left out.
        weak = np.nan_to_num(X[:, 0], nan=0.0) < self.rank_config.relevance_floor
        if self.rank_config.weak_matches == "drop":
            scored = [t for t in scored if not weak[t[2]]]
        if diversity > 0 and len(scored) > 1:
            # Only relevant creators compete for diversity: not weak, and near the top of the ranking.
            depth = k + math.ceil(k * self.rank_config.diversity_depth * diversity)
            relevant = [t for t in scored if not weak[t[2]]][:depth]
            chosen = self._mmr(snapshot, relevant, rows, k, diversity) if len(relevant) > 1 else relevant
            picked = {t[2] for t in chosen}
            scored = chosen + [t for t in scored if t[2] not in picked]
        top = scored[:k]
        picked = np.array([i for _, _, i in top], dtype=np.int64)
        cols = match_columns(snapshot)
        # The picked creators' columns gathered once, as Python values, instead of cell by cell per match.
        at = rows[picked]
        fields = [(n, _signal_values(cols["s:" + n][at])) for n in self._SIGNAL_FIELDS if "s:" + n in cols]
        niches = snapshot.niche_model.records(cols["niche_ids"][at], cols["niche_conf"][at]) if "niche_ids" in cols else [()] * len(top)
        Xl, Cl = X[picked].tolist(), contribs[picked].tolist()
        out = []
        for j, (score, _cid, i) in enumerate(top):
            values = {n: (None if math.isnan(x) else x) for n, x in zip(COMPONENTS, Xl[j])}
            contrib = dict(zip(COMPONENTS, Cl[j]))
            if Cl[j][-1] != 0.0:
                contrib["penalty"] = Cl[j][-1]
            signals = {n: v[j] for n, v in fields}
            out.append(
                self._match(
                    snapshot, cols, j + 1, score, hits[i], values, contrib, comps["post_sims"][i], comps["conflicts"][i],
                    topic_fit=float(comps["topic_fit"][i]), doubtful=bool(comps["doubtful"][i]), weak=bool(weak[i]),
                    signals=signals, niches=niches[j],
                )
            )
        return out

    @staticmethod
    def _mmr(snapshot: Any, scored: list, rows: np.ndarray, k: int, diversity: float) -> list:
        lam = 1.0 - min(1.0, max(0.0, diversity))
        vecs = snapshot.index.vectors_[rows[[t[2] for t in scored]]]
        scores = np.array([t[0] for t in scored])
        chosen: list[int] = []
        best_sim = np.full(len(scored), -np.inf)
        for _ in range(min(k, len(scored))):
            gain = lam * scores - (1 - lam) * np.where(np.isinf(best_sim), 0.0, best_sim)
            gain[chosen] = -np.inf
            j = int(np.argmax(gain))
            chosen.append(j)
            best_sim = np.maximum(best_sim, vecs @ vecs[j])
        return [scored[j] for j in chosen]

    _SIGNAL_FIELDS = (
        "tier", "engagement_rate", "engagement_basis", "engagement_percentile", "consistency", "recency",
        "n_posts", "sponsored_posts", "disclosed_posts", "clear_disclosures", "transparency", "authenticity",
        "days_since_last_post", "answer_rate", "median_reply_hours", "generic_share", "focus", "bio_agreement",
        "credibility", "credible_engagement_rate", "tier_median_rate", "benchmark_weight", "engagement_peers",
        "trust_confidence", "history_days", "comments_seen",
    )

    def _match(
        self, snapshot: Any, cols: Mapping[str, np.ndarray], rank: int, score: float, hit: Hit, comps: dict[str, float | None], contrib: dict[str, float],
        post_sims: np.ndarray, conflicts: tuple[Collaboration, ...], *, topic_fit: float, doubtful: bool, weak: bool,
        signals: dict[str, Any], niches: tuple[Any, ...],
    ) -> Match:
        """One :class:`Match`; ``signals`` holds the creator's signal fields (:func:`_signal_value`), ``niches`` its niche records."""
        row = hit.row
        lo = int(snapshot.post_offsets[row])
        order = np.argsort(-post_sims, kind="stable")[: self.evidence_posts]
        evidence = tuple(
            Evidence(post_id=str(cols["post_id"][lo + j]), text=str(cols["post_text"][lo + j]), similarity=round(float(post_sims[j]), 4))
            for j in order
        )
        flags_raw = cols["flags"][row]
        flags = split_flags(flags_raw)
        reasons_raw = cols["reasons"][row]
        reasons = parse_reasons(reasons_raw)
        if conflicts:
            flags.append("COMPETITOR_CONFLICT")
            reasons["COMPETITOR_CONFLICT"] = (
                f"worked with competitor(s) in the last {self.fit.competitor_days} days: "
                + ", ".join(f"{c.brand} ({_collab_note(c)})" for c in conflicts)
                + f"; score x {self.fit.conflict_penalty:g}"
            )
        if doubtful and self.rank_config.doubtful_penalty < 1.0:
            serious = [f for f in flags if SEVERITY.get(f) in ("severe", "major")] or [f for f in flags if f in SEVERITY]
            reasons["RANKED_DOWN"] = (
                f"doubtful credibility ({', '.join(serious)}): score x {self.rank_config.doubtful_penalty:g}, "
                "below clean creators of comparable topical fit"
            )
        followers = _num(cols["followers"][row])
        signals = {"profile_similarity": round(hit.score, 4), "topic_fit": round(topic_fit, 4), "reasons": reasons, **signals}
        signals["engagement_standing"] = engagement_standing(signals)
        country, language, source = cols["country"][row], cols["language"][row], cols["language_source"][row]
        return Match(
            rank=rank,
            creator_id=hit.id,
            score=round(score, 6),
            components={k: (None if v is None else round(v, 6)) for k, v in comps.items()},
            contributions={k: round(v, 6) for k, v in contrib.items()},
            handle=str(cols["handle"][row] or ""),
            platform=str(cols["platform"][row] or ""),
            followers=None if followers is None else int(followers),
            country=None if country is None else str(country),
            language=None if language is None else str(language),
            language_source=None if source is None else str(source),
            flags=tuple(flags),
            signals=signals,
            evidence=evidence,
            why=explain(comps, signals, flags, evidence) + (f"; weak match: topic below the relevance floor {self.rank_config.relevance_floor:g}" if weak else ""),
            niches=niches,
            weak=weak,
            collaborations=_collaborations_at(cols, row),
            price=_price(cols, row),
            trust_confidence=_confidence(signals),
        )


def _day(stamp: np.datetime64) -> str | None:
    return None if np.isnat(stamp) else str(np.datetime_as_string(stamp, unit="D"))


def _collaboration(cols: Mapping[str, np.ndarray], j: int, *, name: str | None = None) -> Collaboration:
    return Collaboration(
        brand=name or str(cols["collab_brand"][j]), date=_day(cols["collab_when"][j]), disclosed=bool(cols["collab_disclosed"][j]),
        source=str(cols["collab_source"][j]), post_id=str(cols["collab_post"][j]),
    )


_SOURCE_WORDS = {"sponsor": "paid-partnership sponsor", "mention": "@mention", "name": "named"}


def _collab_note(c: Collaboration) -> str:
    parts = [c.date or "undated", _SOURCE_WORDS.get(c.source, c.source)]
    if not c.disclosed:
        parts.append("undisclosed")
    return ", ".join(parts) + (f", post {c.post_id}" if c.post_id else "")


def collaborations_of(snapshot: Any, row: int) -> tuple[Collaboration, ...]:
    """The collaborations of the creator at ``row``, newest post first, at most :data:`~matcher.collaborations.MAX_LISTED`."""
    return _collaborations_at(match_columns(snapshot), row)


def _collaborations_at(cols: Mapping[str, np.ndarray], row: int) -> tuple[Collaboration, ...]:
    lo, hi = int(cols["collab_offsets"][row]), int(cols["collab_offsets"][row + 1])
    return tuple(_collaboration(cols, j) for j in range(lo, min(hi, lo + MAX_LISTED)))


def _signal_values(column: np.ndarray) -> list[Any]:
    """:func:`_signal_value` of every cell of a column, converted a whole column at a time."""
    values = column.tolist()
    kind = column.dtype.kind
    if kind == "f":
        return [None if v != v else v for v in values]
    if kind in "iu":
        return values
    if kind == "b":
        return [int(v) for v in values]
    return [_signal_value(v) for v in values]


def _signal_value(v: Any) -> Any:
    """A signal cell as a match shows it: text as is, whole numbers as int, other numbers as float, missing as None."""
    t = type(v)
    if t is float:
        return None if v != v else v
    if t is str or v is None:
        return v
    return int(v) if isinstance(v, (int, np.integer)) else _num(v)


def worked_with(collaborations: Sequence[Collaboration], *, limit: int = 5) -> str:
    """The "worked with" line of a card or an export: each brand once, most collaborations first,
    with its count, newest date and how many went undisclosed (``"Summit Trail Co (3, latest
    2026-10-02), Peakline (1, latest 2026-08-11, 1 undisclosed)"``); empty with none."""
    by: dict[str, list[Collaboration]] = {}
    for c in collaborations:
        by.setdefault(c.brand, []).append(c)
    ranked = sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0].lower()))
    parts = []
    for name, cs in ranked[:limit]:
        dates = [c.date for c in cs if c.date]
        hidden = sum(not c.disclosed for c in cs)
        note = f"{len(cs)}" + (f", latest {max(dates)}" if dates else "") + (f", {hidden} undisclosed" if hidden else "")
        parts.append(f"{name} ({note})")
    more = len(ranked) - limit
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def worked_with_column(collaborations: pd.DataFrame | None, creator_ids: pd.Series) -> pd.Series:
    """The :func:`worked_with` line of each of ``creator_ids`` from a stored collaborations table
    (all of a creator's collaborations); empty strings when there is none or no table."""
    lines: dict[str, str] = {}
    if collaborations is not None and len(collaborations):
        when = pd.to_datetime(collaborations["posted_at"], utc=True)
        days = when.dt.strftime("%Y-%m-%d").where(when.notna(), None)
        frame = collaborations.assign(day=days)
        wanted = set(creator_ids.astype(str))
        for cid, grp in frame[frame["creator_id"].astype(str).isin(wanted)].groupby("creator_id", sort=False):
            lines[str(cid)] = worked_with([
                Collaboration(brand=str(r.brand), date=r.day, disclosed=bool(r.disclosed), source=str(r.source), post_id=str(r.post_id))
                for r in grp.itertuples(index=False)
            ])
    return pd.Series([lines.get(str(c), "") for c in creator_ids], index=creator_ids.index, dtype=object)


_INFO_FLAGS = {"NO_ENGAGEMENT_DATA", "NO_POSTS", "NO_COMMENT_DATA"}


def _confidence(signals: Mapping[str, Any]) -> TrustConfidence | None:
    """How sure the trust figure is, from the creator's signals; None in snapshots written before it existed."""
    level = signals.get("trust_confidence")
    if not isinstance(level, str):
        return None
    days, comments = _num(signals.get("history_days")), signals.get("comments_seen")
    # comments_seen is NaN (None here) without a comments table: no comment was read at all.
    return TrustConfidence(
        level=level,
        posts=int(signals.get("n_posts") or 0),
        comments=None if comments is None else int(comments),
        days=None if days is None else int(round(days)),
    )


def _price(cols: Mapping[str, np.ndarray], row: int) -> PriceEstimate | None:
    """The creator's price range from the snapshot's per-creator table; None when unknown (or the
    snapshot was written before prices existed)."""
    if "price_mid" not in cols:
        return None
    low, mid, high = (_num(cols[c][row]) for c in ("price_low", "price_mid", "price_high"))
    if low is None or mid is None or high is None:
        return None
    return PriceEstimate(low=round(low, 2), mid=round(mid, 2), high=round(high, 2), currency="USD", basis=str(cols["price_basis"][row] or ""))


def engagement_standing(signals: Mapping[str, Any]) -> str | None:
    """Where a creator's engagement stands, in the one wording the why line, the API and the page use.

    ``"better than 16% of nano creators"`` (the share of the creator's tier on its platform, per
    follower, that it beats), ``"better than 16% of creators measured per view"``, or for the only
    measured creator of its tier ``"only nano creator here; better than 16% by published
    benchmarks"``. None when engagement could not be measured.
    """
    pct = signals.get("engagement_percentile")
    if pct is None or (isinstance(pct, float) and math.isnan(pct)):
        return None
    better = min(99, max(0, int(round(100 * float(pct)))))
    if signals.get("engagement_basis") != "followers":
        return f"better than {better}% of creators measured per view"
    tier = signals.get("tier") or "their tier's"
    if signals.get("engagement_peers") == 1:
        return f"only {tier} creator here; better than {better}% by published benchmarks"
    return f"better than {better}% of {tier} creators"


# The match columns of each live snapshot, keyed by its id() and dropped when it is collected (the
# way engine.filter_columns keeps its filter columns): serving threads that answer from two
# snapshots at once, or rerankers with different weights, each find theirs instead of rebuilding
# one shared slot in turn.
_columns_by_snapshot: dict[int, tuple[weakref.ref, tuple[Any, ...], dict[str, np.ndarray]]] = {}


def match_columns(snapshot: Any) -> dict[str, np.ndarray]:
    """Plain arrays of the columns a match reads, built on first use and kept while ``snapshot`` lives.

    Cell-by-cell pandas look-ups cost milliseconds per match, which would dominate a request.
    """
    key = id(snapshot)
    sources = (snapshot.creators, snapshot.signals, snapshot.posts, getattr(snapshot, "niche_model", None), getattr(snapshot, "collaborations", None))
    entry = _columns_by_snapshot.get(key)
    # The tables are compared too: a snapshot whose tables were replaced gets fresh columns.
    if entry is not None and entry[0]() is snapshot and all(a is b for a, b in zip(entry[1], sources)):
        return entry[2]
    cols = _build_columns(snapshot)
    try:
        ref = weakref.ref(snapshot, lambda dead, key=key: _forget_columns(key, dead))
    except TypeError:  # an object that cannot be weakly referenced is served uncached
        return cols
    _columns_by_snapshot[key] = (ref, sources, cols)
    return cols


def _forget_columns(key: int, dead: weakref.ref) -> None:
    entry = _columns_by_snapshot.get(key)
    if entry is not None and entry[0] is dead:
        del _columns_by_snapshot[key]


def _build_columns(snapshot: Any) -> dict[str, np.ndarray]:
    c, s, p = snapshot.creators, snapshot.signals, snapshot.posts
    table = p if {"is_sponsored", "disclosure"} <= set(p.columns) else post_signals(p)
    if table is not p and "is_sponsored" in p:  # the stored flag wins over computing it again
        table = table.assign(is_sponsored=p["is_sponsored"].to_numpy(dtype=bool))
    # UTC instants without their zone (numpy has none); NaT where a post has no date.
    when = pd.to_datetime(p["posted_at"], utc=True).dt.tz_localize(None).to_numpy(dtype="datetime64[ns]") if "posted_at" in p else np.full(len(p), np.datetime64("NaT", "ns"))
    cols: dict[str, np.ndarray] = {
        "post_id": p["post_id"].astype(str).to_numpy(),
        "post_text": p["text"].astype(str).to_numpy(),
        "post_sponsored": table["is_sponsored"].to_numpy(dtype=bool),
        "post_disclosed": np.nan_to_num(table["disclosure"].to_numpy(dtype="float64"), nan=0.0) > 0,
        "post_when": when,
        "newest_post": np.array([dated.max() if len(dated := when[~np.isnat(when)]) else np.datetime64("NaT", "ns")], dtype="datetime64[ns]"),
        "flags": s["flags"].to_numpy(dtype=object),
        "reasons": s["reasons"].to_numpy(dtype=object) if "reasons" in s else np.full(len(s), None, dtype=object),
        "followers": pd.to_numeric(c["followers"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan),
    }
    if getattr(snapshot, "post_offsets", None) is not None:
        cols["sponsored_newest"] = _newest_sponsored(when, cols["post_sponsored"], snapshot.post_offsets)
    for name in ("country", "language", "handle", "platform"):
        cols[name] = c[name].astype(object).where(c[name].notna(), None).to_numpy(dtype=object)
    # Snapshots written before language detection have no source column.
    source = c["language_source"] if "language_source" in c else pd.Series(None, index=c.index, dtype=object)
    cols["language_source"] = source.astype(object).where(source.notna(), None).to_numpy(dtype=object)
    for name in Reranker._SIGNAL_FIELDS:
        if name in s:
            cols["s:" + name] = s[name].astype(object).where(s[name].notna(), None).to_numpy(dtype=object)
    if "price_mid" in s:
        for name in ("price_low", "price_mid", "price_high"):
            cols[name] = s[name].to_numpy(dtype="float64", na_value=np.nan)
        cols["price_basis"] = s["price_basis"].astype(object).where(s["price_basis"].notna(), None).to_numpy(dtype=object)
    model = getattr(snapshot, "niche_model", None)
    if model is not None:
        cols["niche_ids"], cols["niche_conf"] = niche_arrays(s, model.taxonomy_)
    cols.update(_collaboration_columns(snapshot, c, p, table))
    return cols


def _newest_sponsored(when: np.ndarray, sponsored: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each creator's newest dated sponsored post (NaT: none), from its posts ``offsets[row]:offsets[row + 1]``."""
    offsets = np.asarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    if n <= 0 or len(when) == 0:
        return np.full(max(n, 0), np.datetime64("NaT", "ns"))
    t = when.astype("datetime64[ns]").view("int64")
    nat = np.iinfo(np.int64).min  # NaT's own integer: below every date
    t = np.append(np.where(sponsored & ~np.isnat(when), t, nat), nat)  # a last element, so no segment start is out of range
    best = np.maximum.reduceat(t, np.minimum(offsets[:-1], len(t) - 1))
    best[offsets[1:] == offsets[:-1]] = nat  # reduceat gives an empty segment its first element
    return best.view("datetime64[ns]")


def _collaboration_columns(snapshot: Any, creators: pd.DataFrame, posts: pd.DataFrame, table: pd.DataFrame) -> dict[str, np.ndarray]:
    """The snapshot's collaborations grouped by creator row (``collab_offsets``), newest first.

    A snapshot written before collaborations were stored gets them from its posts, as the batch finds them.
    """
    frame = getattr(snapshot, "collaborations", None)
    if frame is None:
        owned = "creator_id" in posts and "post_id" in posts
        frame = collection_collaborations(creators, posts, table, getattr(snapshot, "brands", None)) if owned else empty_collaborations()
    rows = pd.Index(creators["creator_id"].astype(str)).get_indexer(frame["creator_id"].astype(str))
    keep = np.flatnonzero(rows >= 0)
    order = keep[np.argsort(rows[keep], kind="stable")]  # the stored order (newest first) within each creator
    counts = np.bincount(rows[order], minlength=len(creators)) if len(order) else np.zeros(len(creators), dtype=np.int64)
    offsets = np.zeros(len(creators) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    f = frame.iloc[order]
    when = pd.to_datetime(f["posted_at"], utc=True).dt.tz_localize(None).to_numpy(dtype="datetime64[ns]") if len(f) else np.zeros(0, dtype="datetime64[ns]")
    return {
        "collab_offsets": offsets,
        "collab_brand": f["brand"].astype(str).to_numpy(dtype=object),
        "collab_key": f["brand_key"].astype(str).to_numpy(dtype=object),
        "collab_when": when,
        "collab_disclosed": f["disclosed"].to_numpy(dtype=bool),
        "collab_source": f["source"].astype(str).to_numpy(dtype=object),
        "collab_post": f["post_id"].astype(str).to_numpy(dtype=object),
    }


def explain(comps: Mapping[str, float | None], signals: Mapping[str, Any], flags: Sequence[str], evidence: Sequence[Evidence]) -> str:
    """One line a marketer can read: topical fit with the best post, engagement in its tier, trust, flags."""
    parts = [f"topic {comps['topic']:.2f}"]
    if evidence:
        text = evidence[0].text
        parts[0] += f' (best post: "{text[:70]}{"…" if len(text) > 70 else ""}")'
    rate, standing = signals.get("engagement_rate"), engagement_standing(signals)
    if rate is not None and standing is not None:
        parts.append(f"engagement {100 * rate:.1f}% ({standing})")
    else:
        parts.append("engagement unmeasured")
    trust = f"trust {comps['trust']:.2f}" if comps.get("trust") is not None else "trust n/a"
    sp, dp = signals.get("sponsored_posts") or 0, signals.get("disclosed_posts") or 0
    if sp:
        trust += f", discloses {dp}/{sp} sponsored posts"
    parts.append(trust)
    if comps.get("conversation") is not None and signals.get("answer_rate") is not None:
        parts.append(f"answers {100 * signals['answer_rate']:.0f}% of questions")
    bad = [f for f in flags if f not in _INFO_FLAGS]
    if bad:
        parts.append(f"flags: {', '.join(bad)}")
    reasons = signals.get("reasons") or {}
    if isinstance(reasons, Mapping) and "RANKED_DOWN" in reasons:
        parts.append("ranked down: " + str(reasons["RANKED_DOWN"]))
    return "; ".join(parts)


# -- learning weights from campaign outcomes ------------------------------------------------------
def _features(snapshot: Any, reranker: Reranker, brand_vecs: Mapping[str, np.ndarray], brands: Mapping[str, Brand], pairs: pd.DataFrame) -> np.ndarray:
    """Component values for each (brand_id, creator_id) pair; unavailable components as NaN."""
    X = np.full((len(pairs), len(COMPONENTS)), np.nan)
    for b, grp in pairs.groupby("brand_id", sort=True):
        q = brand_vecs[b]
        rows = grp["_row"].to_numpy(dtype=np.int64)
        sims = snapshot.index.vectors_[rows] @ q
        comps = reranker.components(snapshot, q, rows, sims, brand=brands[b])
        for j, n in enumerate(COMPONENTS):
            X[grp.index.to_numpy(), j] = comps[n]
    return X


def _linear_features(X: np.ndarray) -> np.ndarray:
    """Features in which :func:`combine` is linear in the weights: ``topic`` and ``topic × value``.

    With every component available, ``score = Σ w_n × feature_n`` for weights summing to 1. An
    unavailable value is filled with the mean of the creator's available non-topic values (1 when
    there are none), which is how :func:`combine` treats it.
    """
    V = np.where(np.isfinite(X), np.clip(X, 0.0, 1.0), np.nan)
    topic = np.nan_to_num(V[:, 0], nan=0.0)
    others = V[:, 1:]
    any_ = np.isfinite(others).any(axis=1)
    fill = np.ones(len(V))
    fill[any_] = np.nanmean(others[any_], axis=1)
    others = np.where(np.isfinite(others), others, fill[:, None])
    return np.column_stack([topic, topic[:, None] * others])


def _score_with(X: np.ndarray, w: Weights) -> np.ndarray:
    return combine_many(X, w)[0]


def train_weights(
    snapshot: Any,
    encoder: Any,
    outcomes: pd.DataFrame,
    *,
    reranker: Reranker,
    test_size: float = 0.25,
    seed: int = 0,
    max_text_chars: int = 2000,
) -> dict[str, Any]:
    """Learn component weights from past campaign outcomes.

    Each outcome row (brand_id, creator_id, outcome) becomes the component values matcher would
    give that creator for that brand's brief. The target is the outcome's percentile within its
    brand (so brands of different sizes weigh alike); a non-negative linear model
    (scikit-learn ``LinearRegression(positive=True)``) over ``topic`` and ``topic × value`` of each
    other component (the features in which the score is linear in its weights, see
    :func:`combine`) is fitted on a split of brands and validated
    on the held-out brands (nDCG@10 of the outcomes, learned vs default weights, and Spearman).
    Each brand's brief is prepared as ``recommend()`` prepares it (:func:`matcher.text.brief_text`,
    cut to ``max_text_chars``) and encoded by ``encoder``.

    Returns:
        A JSON-ready dict: format, model version, features, weights, validation report.

    Raises:
        ConfigError: too few usable rows or brands to train and validate.
    """
    from scipy.stats import spearmanr
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import GroupShuffleSplit

    brands = {str(r["brand_id"]): Brand.from_record(r) for r in snapshot.brands.to_dict("records")}
    row_of = {cid: i for i, cid in enumerate(snapshot.creators["creator_id"].astype(str))}
    o = outcomes.copy()
    o["brand_id"], o["creator_id"] = o["brand_id"].astype(str), o["creator_id"].astype(str)
    known = o["brand_id"].isin(brands) & o["creator_id"].isin(row_of)
    skipped = int((~known).sum())
    o = o[known].reset_index(drop=True)
    o["_row"] = o["creator_id"].map(row_of)
    if o["brand_id"].nunique() < 4 or len(o) < 40:
        raise ConfigError(
            f"outcomes: {len(o)} usable rows over {o['brand_id'].nunique()} brands (after skipping {skipped} whose brand or "
            "creator is not in the store); need at least 40 rows over 4 brands to train and validate"
        )
    used = sorted(o["brand_id"].unique())
    vecs = encoder.encode([brief_text(brands[b], max_chars=max_text_chars) for b in used])
    brand_vecs = dict(zip(used, vecs))
    X = _features(snapshot, reranker, brand_vecs, brands, o)
    y = o.groupby("brand_id")["outcome"].rank(pct=True).to_numpy()
    Xf = _linear_features(X)
    split = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    tr, te = next(split.split(Xf, y, groups=o["brand_id"]))
    model = LinearRegression(positive=True).fit(Xf[tr], y[tr])
    coef = np.clip(model.coef_, 0.0, None)
    if coef.sum() <= 0:
        raise ConfigError("outcomes: no component predicts the outcomes (all learned weights are 0); keep the default weights")
    learned = Weights(**{n: float(c / coef.sum()) for n, c in zip(COMPONENTS, coef)})

    def report(idx: np.ndarray) -> dict[str, float]:
        part = o.iloc[idx]
        # Each outcome row is one judged item, its gain the outcome's rank within the brand (as
        # whole numbers: twice the average rank; nDCG does not change when a brand's gains are
        # scaled, so this equals ranking by the outcome percentile).
        items = part.index.astype(str)
        qrels = pd.DataFrame({"brand_id": part["brand_id"], "creator_id": items, "grade": (2 * part.groupby("brand_id")["outcome"].rank()).round().astype(int)})
        res: dict[str, float] = {}
        for tag, w in (("learned", learned), ("default", reranker.weights)):
            s = pd.Series(_score_with(X[idx], w), index=part.index)
            # Ties keep the rows' order, as a stable sort by score would.
            ranks = s.groupby(part["brand_id"]).rank(method="first", ascending=False, na_option="bottom")
            run = pd.DataFrame({"brand_id": part["brand_id"], "creator_id": items, "rank": ranks.astype(int)})
            res[f"ndcg@10_{tag}"] = evaluate(run, qrels)["nDCG@10"]
            rhos = [spearmanr(s[g.index], g["outcome"]).statistic if len(g) > 2 else np.nan for _, g in part.groupby("brand_id")]
            res[f"spearman_{tag}"] = float(np.nanmean(rhos))
        order = ("ndcg@10_learned", "ndcg@10_default", "spearman_learned", "spearman_default")
        return {k: round(float(res[k]), 4) for k in order}

    return {
        "format": WEIGHTS_FORMAT,
        "model_version": WEIGHTS_VERSION,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "snapshot_id": snapshot.snapshot_id,
        "features": list(COMPONENTS),
        "target": "outcome percentile within brand",
        "model": "sklearn LinearRegression(positive=True) over topic and topic x component, coefficients normalised to sum to 1",
        "weights": {n: round(getattr(learned, n), 6) for n in COMPONENTS},
        "coefficients": {n: round(float(c), 6) for n, c in zip(COMPONENTS, model.coef_)},
        "intercept": round(float(model.intercept_), 6),
        "rows": {"train": int(len(tr)), "test": int(len(te)), "skipped": skipped},
        "brands": {"train": int(o.iloc[tr]["brand_id"].nunique()), "test": int(o.iloc[te]["brand_id"].nunique())},
        "r2": {"train": round(float(model.score(Xf[tr], y[tr])), 4), "test": round(float(model.score(Xf[te], y[te])), 4)},
        "validation": report(te),
    }


def save_weights(path: str | Path, trained: Mapping[str, Any]) -> Path:
    """Write trained weights as JSON (atomically: temp file, fsync, rename). Returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    with open(tmp, "w") as fh:
        json.dump(dict(trained), fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, p)
    return p


def load_weights(path: str | Path) -> Weights | None:
    """Read weights written by :func:`save_weights`; None when the file does not exist.

    Raises:
        StoreError: the file is not a matcher weights file of a supported version.
    """
    p = Path(path)
    if not p.exists():
        return None
    try:
        data = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{p}: not valid JSON ({exc}); retrain with 'matcher train' or delete the file") from None
    if data.get("format") != WEIGHTS_FORMAT or data.get("model_version") != WEIGHTS_VERSION:
        raise StoreError(f"{p}: not a {WEIGHTS_FORMAT} v{WEIGHTS_VERSION} file; retrain with 'matcher train' or delete it")
    return Weights.from_mapping(data.get("weights", {}), source=str(p))


def load_reranker(store: str | Path, config: Config) -> tuple[Reranker, str]:
    """The reranker that ranks for ``store``: the weights learned by ``matcher train`` (the store's
    :data:`WEIGHTS_FILE`) if there are any, else the config's; the rest from the config.

    ``recommend()``, the HTTP API and the nightly batch all make their reranker here, so they rank
    with the same weights.

    Returns:
        The reranker, and where its weights came from: ``"learned"`` or ``"config"``.

    Raises:
        StoreError: the weights file is not a matcher weights file of a supported version.
    """
    path = Path(store) / WEIGHTS_FILE
    learned = load_weights(path)
    if learned is not None:
        logger.info("ranking with learned weights from %s", path)
    return Reranker.from_config(config, learned), "learned" if learned is not None else "config"
