"""The endpoints' bodies, run in the worker pool: snapshot rows turned into response models."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from matcher.engine import filter_columns
from matcher.rerank import collaborations_of, worked_with
from matcher.schema import Match, Shortlist
from matcher.serve.models import (
    BrandMatchesResponse,
    BrandOut,
    CreatorProfile,
    CreatorResponse,
    HealthResponse,
    MatchOut,
    NicheOut,
    NichesResponse,
    NicheScoreOut,
    PostOut,
    PriceOut,
    SafeJSONResponse,
    SeriesPoint,
    ShortlistResponse,
    StoredMatch,
    TrustConfidenceOut,
)
from matcher.prices import price_text
from matcher.serve.service import Service
from matcher.signals import parse_reasons, split_flags
from matcher.store import Snapshot

__all__ = [
    "plain",
    "match_out",
    "shortlist_out",
    "price_out",
    "creator",
    "brand_matches",
    "niches",
    "unknown_niches",
    "health",
    "field_path",
]


def plain(value: Any) -> Any:
    """A JSON-ready Python value: numpy scalars unwrapped, NaN/NA to None, timestamps to ISO-8601."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _int(value: Any) -> int | None:
    v = plain(value)
    if v is None or isinstance(v, str):
        return None
    return int(v)


def _str(value: Any) -> str | None:
    v = plain(value)
    return None if v is None else str(v)


def match_out(m: Match) -> MatchOut:
    d = m.to_dict()
    d["signals"] = {k: plain(v) for k, v in d["signals"].items()}
    d["flags"] = list(d["flags"])
    d["evidence"] = list(d["evidence"])
    d["niches"] = list(d["niches"])
    d["collaborations"] = list(d["collaborations"])
    d["worked_with"] = worked_with(m.collaborations)
    d["price"] = price_out(m.price.low, m.price.high, m.price.basis) if m.price is not None else None
    return MatchOut.model_validate(d)


def price_out(low: Any, high: Any, basis: Any) -> PriceOut | None:
    """A price range as the API gives it (no mid: a range is never shown as one figure); None when unknown."""
    lo, hi = plain(low), plain(high)
    if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)):
        return None
    return PriceOut(low=round(float(lo), 2), high=round(float(hi), 2), currency="USD", basis=_str(basis) or "", text=price_text(float(lo), float(hi)))


def _confidence_out(s: Mapping[str, Any]) -> TrustConfidenceOut | None:
    level = _str(s.get("trust_confidence"))
    if level is None:
        return None
    days = plain(s.get("history_days"))
    return TrustConfidenceOut(level=level, posts=_int(s.get("n_posts")) or 0, comments=_int(s.get("comments_seen")), days=None if days is None else int(round(days)))



def shortlist_out(snapshot_id: str, sl: Shortlist, took_ms: float) -> ShortlistResponse:
    """The response body of ``POST /shortlist``: the shortlist with each pick's full match."""
    d = sl.to_dict()
    d["picks"] = [{**pd_, "match": match_out(p.match)} for pd_, p in zip(d["picks"], sl.picks)]
    return ShortlistResponse.model_validate({"snapshot_id": snapshot_id, "took_ms": took_ms, **d})


def creator(service: Service, creator_id: str, n_posts: int, deadline: float) -> CreatorResponse | None:
    snap, _ = service.snapshot(deadline)
    row = snap.index.row_of(creator_id)
    if row is None or creator_id in service.matcher.erased(snap):
        return None
    c = snap.creators.iloc[row]
    s = snap.signals.iloc[row]
    followers = _int(c.get("followers"))
    lo, hi = int(snap.post_offsets[row]), int(snap.post_offsets[row + 1])
    posts = snap.posts.iloc[lo:hi]
    basis = "followers" if followers else "views"

    def num(col: str) -> pd.Series:
        return pd.to_numeric(posts[col], errors="coerce").astype("float64") if col in posts else pd.Series(np.nan, index=posts.index)

    inter = pd.concat([num("likes"), num("comments"), num("shares")], axis=1).sum(axis=1, min_count=1)
    views = num("views")
    if followers:
        eng = inter / followers
    else:
        eng = inter / views.where(views > 0)
    if eng.notna().sum() == 0:
        basis = "none"
    when = pd.to_datetime(posts["posted_at"], utc=True, errors="coerce") if "posted_at" in posts else pd.Series(pd.NaT, index=posts.index)
    out_posts: list[PostOut] = []
    series: list[SeriesPoint] = []
    for i in range(len(posts)):
        p = posts.iloc[i]
        at = plain(when.iat[i])
        interactions, engagement = _int(inter.iat[i]), plain(eng.iat[i])
        if i < n_posts:
            sponsored = plain(p.get("sponsored"))
            out_posts.append(
                PostOut(
                    post_id=str(p["post_id"]),
                    text=_str(p.get("text")) or "",
                    posted_at=at,
                    likes=_int(p.get("likes")),
                    comments=_int(p.get("comments")),
                    views=_int(p.get("views")),
                    shares=_int(p.get("shares")),
                    sponsored=None if sponsored is None else bool(sponsored),
                    interactions=interactions,
                    engagement=engagement,
                )
            )
        if at is not None:
            series.append(SeriesPoint(post_id=str(p["post_id"]), posted_at=at, interactions=interactions, engagement=engagement))
    series.sort(key=lambda x: x.posted_at)
    # The price goes out as a range with its basis (below), never as the single mid figure.
    signals = {k: plain(v) for k, v in s.items() if k not in ("creator_id", "flags", "price_low", "price_mid", "price_high", "price_basis")}
    if "reasons" in signals:  # stored as JSON text; an object here, as in /recommend
        signals["reasons"] = parse_reasons(signals["reasons"])
    return CreatorResponse(
        snapshot_id=snap.snapshot_id,
        creator=CreatorProfile(
            creator_id=str(c["creator_id"]),
            handle=_str(c.get("handle")) or "",
            platform=_str(c.get("platform")) or "",
            bio=_str(c.get("bio")) or "",
            followers=followers,
            following=_int(c.get("following")),
            country=_str(c.get("country")),
            language=_str(c.get("language")),
            language_source=_str(c.get("language_source")),
        ),
        signals=signals,
        flags=split_flags(s.get("flags")),
        engagement_basis=basis,
        posts=out_posts,
        series=series,
        price=price_out(s.get("price_low"), s.get("price_high"), s.get("price_basis")),
        trust_confidence=_confidence_out(s),
    )


def brand_matches(service: Service, brand_id: str, k: int, deadline: float) -> BrandMatchesResponse | None:
    snap, view = service.snapshot(deadline)
    if brand_id not in view.brand_ids:
        return None
    b = snap.brands[snap.brands["brand_id"].astype(str) == brand_id].iloc[0]
    frame = service.store.read_matches(snap.snapshot_id, brand_id=brand_id)
    erased = service.matcher.erased(snap)
    if erased:  # rows kept in PostgreSQL went with the erasure; a snapshot's own file still has them
        frame = frame[~frame["creator_id"].astype(str).isin(erased)]
    frame = frame.head(k)
    # The stored columns besides these are the score components (and the penalty, when stored).
    parts = [col for col in frame.columns if col not in ("brand_id", "rank", "creator_id", "score", "why", "penalty", "weak")]
    matches = []
    for r in frame.to_dict("records"):
        row = snap.index.row_of(str(r["creator_id"]))
        c = snap.creators.iloc[row] if row is not None else None
        s = snap.signals.iloc[row] if row is not None else None
        matches.append(
            StoredMatch(
                rank=int(r["rank"]),
                creator_id=str(r["creator_id"]),
                handle=_str(c.get("handle")) if c is not None else None,
                platform=_str(c.get("platform")) if c is not None else None,
                followers=_int(c.get("followers")) if c is not None else None,
                score=float(r["score"]),
                components={p: plain(r[p]) for p in parts},
                penalty=plain(r.get("penalty")),
                weak=bool(r.get("weak", False)),
                why=str(r["why"]),
                worked_with=worked_with(collaborations_of(snap, row)) if row is not None else "",
                price=price_out(s.get("price_low"), s.get("price_high"), s.get("price_basis")) if s is not None else None,
                trust_confidence=_confidence_out(s) if s is not None else None,
            )
        )
    return BrandMatchesResponse(
        snapshot_id=snap.snapshot_id,
        brand=BrandOut(brand_id=brand_id, name=_str(b.get("name")) or "", description=_str(b.get("description")) or "", niches=_brand_niches(snap, brand_id)),
        matches=matches,
    )


def niches(service: Service, deadline: float) -> NichesResponse | None:
    snap, _ = service.snapshot(deadline)
    model = snap.niche_model
    if model is None:
        return None
    ids = filter_columns(snap).niche_ids
    taxonomy = model.taxonomy_
    counts = np.zeros(len(taxonomy.niches), dtype=np.int64)
    for j in range(ids.shape[1]):
        col = ids[:, j]
        counts += np.bincount(col[col >= 0], minlength=len(taxonomy.niches))
    return NichesResponse(
        snapshot_id=snap.snapshot_id,
        taxonomy=taxonomy.name,
        version=taxonomy.version,
        based_on=taxonomy.based_on,
        niches=[NicheOut(id=n.id, name=n.name, iab_parent=n.iab_parent, description=n.description, creators=int(c)) for n, c in zip(taxonomy.niches, counts)],
    )


def unknown_niches(service: Service, niches: list[str]) -> SafeJSONResponse | None:
    """A 422 naming each ``filters.niches`` entry the served snapshot's taxonomy does not have, or None."""
    if not niches:
        return None
    model = service.current().snapshot.niche_model
    if model is None:
        msg = "the served snapshot has no niches (written before niches existed); run 'matcher batch' again to filter by niche"
        return SafeJSONResponse({"detail": [{"loc": ["body", "filters", "niches"], "msg": msg, "type": "value_error"}], "message": f"filters.niches: {msg}"}, status_code=422)
    known = set(model.taxonomy_.ids)
    errors = [
        {"loc": ["body", "filters", "niches", i], "msg": f"unknown niche {n!r}; GET /niches (or 'matcher niches') lists the valid ids", "type": "value_error"}
        for i, n in enumerate(niches)
        if n.lower() not in known
    ]
    if not errors:
        return None
    return SafeJSONResponse({"detail": errors, "message": "; ".join(f"{field_path(e['loc'])}: {e['msg']}" for e in errors[:5])}, status_code=422)


def _brand_niches(snap: Snapshot, brand_id: str) -> list[NicheScoreOut]:
    frame, model = snap.brand_niches, snap.niche_model
    if frame is None or model is None:
        return []
    names = {n.id: n.name for n in model.taxonomy_.niches}
    rows = frame[frame["brand_id"].astype(str) == brand_id].sort_values("rank")
    return [NicheScoreOut(niche_id=str(r.niche_id), name=names.get(str(r.niche_id), str(r.niche_id)), confidence=round(float(r.confidence), 4)) for r in rows.itertuples()]


def health(service: Service, deadline: float) -> HealthResponse:
    snap, view = service.snapshot(deadline)
    counts = snap.manifest.get("counts", {})
    model = snap.manifest.get("model", {})
    published = getattr(snap, "served_for", None) or snap.snapshot_id
    degraded = published != snap.snapshot_id
    return HealthResponse(
        status="degraded" if degraded else "ok",
        snapshot_id=snap.snapshot_id,
        published_id=published,
        detail=(
            f"the published snapshot {published} fails verification, so {snap.snapshot_id} is served; "
            "run 'matcher batch' again or 'matcher rollback'"
        )
        if degraded
        else None,
        created_at=snap.manifest.get("created_at"),
        creators=int(counts.get("creators", len(snap.creators))),
        posts=int(counts.get("posts", len(snap.posts))),
        brands=int(counts.get("brands", len(snap.brands))),
        model=model.get("name") if isinstance(model, dict) else None,
        platforms=view.platforms,
        countries=view.countries,
        load=service.load(),
    )


def field_path(loc: Any) -> str:
    """``["body", "filters", "countries", 0]`` -> ``filters.countries.0``; a JSON syntax error's offset -> ``body``."""
    loc = list(loc) if isinstance(loc, (list, tuple)) else [loc]
    if loc and loc[0] == "body":
        loc = loc[1:]
        if len(loc) == 1 and isinstance(loc[0], int):
            return f"body (character {loc[0]})"
    return ".".join(str(p) for p in loc) or "body"
