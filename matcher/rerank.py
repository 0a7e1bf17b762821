"""Rerank topical candidates by engagement and trust, and explain every score with its components and evidence."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from matcher.config import Weights
from matcher.index import Hit
from matcher.schema import Evidence, Match

__all__ = ["COMPONENTS", "topic_score", "combine", "Reranker"]

COMPONENTS = ("topic", "engagement", "trust")

# Share of the topic score that comes from the creator's best-matching posts (the rest: the
# creator's whole-profile vector). Posts carry the specific evidence a brief is judged on.
POST_SHARE = 0.5


def topic_score(profile_similarity: float, post_similarities: np.ndarray, *, top: int = 3) -> float:
    """Topical fit in [0, 1] from the profile's cosine similarity and the best posts' similarities.

    ``(1 - POST_SHARE) * profile + POST_SHARE * mean(top posts)``, clipped to [0, 1]; with no posts,
    the profile similarity alone.
    """
    p = float(profile_similarity)
    if post_similarities.size:
        best = np.sort(post_similarities)[::-1][:top]
        p = (1 - POST_SHARE) * p + POST_SHARE * float(best.mean())
    return min(1.0, max(0.0, p))


def combine(components: dict[str, float], weights: Weights) -> tuple[float, dict[str, float]]:
    """Weighted sum of component values (each clipped to [0, 1]).

    Returns:
        ``(score, contributions)`` where contributions are weight × value and sum to ``score``.
    """
    w = weights.normalized()
    contrib = {}
    for name in COMPONENTS:
        v = components.get(name, 0.0)
        v = 0.0 if v is None or not math.isfinite(v) else min(1.0, max(0.0, float(v)))
        contrib[name] = w[name] * v
    return float(sum(contrib.values())), contrib


def _num(v: Any) -> float | None:
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


class Reranker:
    """Scores topical candidates against a snapshot's signals and builds explained :class:`Match` objects."""

    def __init__(self, weights: Weights | None = None, *, evidence_posts: int = 3) -> None:
        self.weights = weights or Weights()
        self.evidence_posts = evidence_posts

    def rank(self, snapshot: Any, query: np.ndarray, hits: Sequence[Hit], k: int, *, weights: Weights | None = None) -> list[Match]:
        """Rerank ``hits`` for one unit-length ``query`` vector and return the top ``k`` matches.

        Args:
            snapshot: a :class:`matcher.store.Snapshot`.
            query: the brief's vector.
            hits: topical candidates from the index.
            k: matches wanted.
            weights: per-call override of the configured weights.
        """
        weights = weights or self.weights
        sig = snapshot.signals
        offsets = snapshot.post_offsets
        scored = []
        for hit in hits:
            lo, hi = int(offsets[hit.row]), int(offsets[hit.row + 1])
            post_sims = snapshot.post_vectors[lo:hi] @ query if hi > lo else np.zeros(0, dtype=np.float32)
            topic = topic_score(hit.score, post_sims, top=self.evidence_posts)
            comps = {
                "topic": topic,
                "engagement": float(sig["engagement_score"].iat[hit.row]),
                "trust": float(sig["trust_score"].iat[hit.row]),
            }
            score, contrib = combine(comps, weights)
            scored.append((score, hit.id, hit, comps, contrib, post_sims, lo))
        # Ties break on creator id so rankings are reproducible.
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [self._match(snapshot, rank, *item) for rank, item in enumerate(scored[:k], start=1)]

    def _match(self, snapshot: Any, rank: int, score: float, cid: str, hit: Hit, comps: dict[str, float], contrib: dict[str, float], post_sims: np.ndarray, lo: int) -> Match:
        c = snapshot.creators
        s = snapshot.signals
        row = hit.row
        order = np.argsort(-post_sims, kind="stable")[: self.evidence_posts]
        posts = snapshot.posts
        evidence = tuple(
            Evidence(post_id=str(posts["post_id"].iat[lo + j]), text=str(posts["text"].iat[lo + j]), similarity=round(float(post_sims[j]), 4))
            for j in order
        )
        flags_raw = s["flags"].iat[row]
        flags = tuple(f for f in str(flags_raw).split("|") if f) if isinstance(flags_raw, str) else ()
        followers = _num(c["followers"].iat[row])
        signals = {
            "tier": str(s["tier"].iat[row]),
            "engagement_rate": _num(s["engagement_rate"].iat[row]),
            "engagement_basis": str(s["engagement_basis"].iat[row]),
            "engagement_percentile": _num(s["engagement_percentile"].iat[row]),
            "n_posts": int(s["n_posts"].iat[row]),
            "sponsored_posts": int(s["sponsored_posts"].iat[row]),
            "disclosed_posts": int(s["disclosed_posts"].iat[row]),
            "days_since_last_post": _num(s["days_since_last_post"].iat[row]),
            "profile_similarity": round(hit.score, 4),
        }
        country = c["country"].iat[row]
        language = c["language"].iat[row]
        return Match(
            rank=rank,
            creator_id=cid,
            score=round(score, 6),
            components={k: round(v, 6) for k, v in comps.items()},
            contributions={k: round(v, 6) for k, v in contrib.items()},
            handle=str(c["handle"].iat[row] or ""),
            platform=str(c["platform"].iat[row] or ""),
            followers=None if followers is None else int(followers),
            country=None if pd.isna(country) else str(country),
            language=None if pd.isna(language) else str(language),
            flags=flags,
            signals=signals,
            evidence=evidence,
            why=explain(comps, signals, flags, evidence),
        )


def explain(comps: dict[str, float], signals: dict[str, Any], flags: Sequence[str], evidence: Sequence[Evidence]) -> str:
    """One line a marketer can read: topical fit with the best post, engagement in its tier, trust."""
    parts = [f"topic {comps['topic']:.2f}"]
    if evidence:
        text = evidence[0].text
        parts[0] += f' (best post: "{text[:70]}{"…" if len(text) > 70 else ""}")'
    rate, pct, basis = signals.get("engagement_rate"), signals.get("engagement_percentile"), signals.get("engagement_basis")
    if rate is not None and pct is not None:
        where = f"{signals['tier']} tier" if basis == "followers" else "per view"
        parts.append(f"engagement {100 * rate:.1f}% (top {max(1, round(100 * (1 - pct)))}% {where})")
    else:
        parts.append("engagement unmeasured")
    sp, dp = signals.get("sponsored_posts", 0), signals.get("disclosed_posts", 0)
    trust = f"trust {comps['trust']:.2f}"
    if sp:
        trust += f", discloses {dp}/{sp} sponsored posts"
    bad = [f for f in flags if f not in ("NO_ENGAGEMENT_DATA", "NO_POSTS")]
    if bad:
        trust += f"; flags: {', '.join(bad)}"
    parts.append(trust)
    return "; ".join(parts)
