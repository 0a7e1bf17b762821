"""Erase creators: from every retained snapshot (rewritten as a new, verifiable revision), the embedding cache, checkpoints, and every later run."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.embed import EmbeddingCache
from matcher.errors import MatcherError, StoreError
from matcher.store import (
    MATCHES_FILE,
    SHORTLIST_PICKS_FILE,
    SHORTLISTS_FILE,
    Snapshot,
    Store,
    matches_frame,
    parquet_bytes,
    read_parquet_bytes,
    revision_id,
    snapshot_files,
)
from matcher.text import content_hash, spreadsheet_safe, spreadsheet_safe_frame

__all__ = ["ForgetResult", "forget", "Dropped", "drop_creators"]

logger = logging.getLogger(__name__)

_QUOTED_RE = re.compile(r"'([^']{1,200})'")
_MANIFEST_OWN = ("format", "format_version", "snapshot_id", "created_at", "files")


class ForgetError(MatcherError, ValueError):
    """The erasure request itself is unusable (no creator ids)."""


@dataclass(frozen=True)
class ForgetResult:
    """What an erasure did.

    ``rewritten`` maps each snapshot that held the creators to the revision that replaced it;
    ``removed`` lists unpublished or unreadable snapshots deleted outright.
    """

    requested: int
    found: int
    rewritten: dict[str, str] = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    cache_entries: int = 0
    current: str | None = None
    #: Requested ids found in no snapshot (perhaps mistyped); they are on the suppression list all the same.
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dropped:
    """What :func:`drop_creators` left out: the remaining tables, and masks of the dropped rows of the inputs."""

    creators: pd.DataFrame
    posts: pd.DataFrame
    brands: pd.DataFrame
    quarantine: pd.DataFrame | None
    comments: pd.DataFrame | None
    creator_rows: np.ndarray
    post_rows: np.ndarray
    quarantine_rows: np.ndarray | None
    comment_rows: np.ndarray | None


def drop_creators(
    gone: Callable[[object], bool],
    *,
    creators: pd.DataFrame,
    posts: pd.DataFrame,
    brands: pd.DataFrame,
    quarantine: pd.DataFrame | None = None,
    comments: pd.DataFrame | None = None,
    quarantined_id: Callable[[object], bool] | None = None,
) -> Dropped:
    """Leave erased creators out of every table: the nightly batch and :func:`forget` both drop them here.

    A creator is erased when ``gone(creator_id)``. Dropped: its creator row, its posts, comments on
    those posts, its id in brands' ``exclude_creators``, and the quarantine rows that are its own
    (``quarantined_id(id)``, default ``gone``) or whose reason quotes its id. The remaining rows
    keep their order, with a fresh index.
    """
    quarantined_id = quarantined_id or gone
    drop_c = creators["creator_id"].map(gone).to_numpy(dtype=bool)
    drop_p = posts["creator_id"].map(gone).to_numpy(dtype=bool)
    out_comments = drop_co = None
    if comments is not None:
        drop_co = np.zeros(len(comments), dtype=bool)
        if "post_id" in comments:
            dropped_posts = set(posts.loc[drop_p, "post_id"].astype(str))
            drop_co = comments["post_id"].astype(str).isin(dropped_posts).to_numpy(dtype=bool)
        out_comments = comments[~drop_co].reset_index(drop=True)
    if "exclude_creators" in brands:
        brands = brands.copy()
        brands["exclude_creators"] = [
            [x for x in v if not gone(x)] if isinstance(v, (list, tuple, np.ndarray)) else v for v in brands["exclude_creators"].tolist()
        ]
    out_q = drop_q = None
    if quarantine is not None:
        drop_q = np.array(
            [quarantined_id(i) or any(gone(m) for m in _QUOTED_RE.findall(str(r))) for i, r in zip(quarantine["id"].tolist(), quarantine["reason"].tolist())],
            dtype=bool,
        )
        out_q = quarantine[~drop_q].reset_index(drop=True)
    return Dropped(
        creators=creators[~drop_c].reset_index(drop=True),
        posts=posts[~drop_p].reset_index(drop=True),
        brands=brands,
        quarantine=out_q,
        comments=out_comments,
        creator_rows=drop_c,
        post_rows=drop_p,
        quarantine_rows=drop_q,
        comment_rows=drop_co,
    )


def forget(store: str | Path | Store, creator_ids: Iterable[str], *, db: str | None = None) -> ForgetResult:
    """Remove creators from the store for good.

    The ids go on the suppression list first (so even if this is interrupted, no later run brings
    them back; rerunning ``forget`` finishes the job). Then every snapshot holding them is rewritten
    without their rows, posts, vectors and matches (ranks closed up, index rebuilt, new manifest with
    checksums) under a new revision id; the published pointer moves to the revision of the current
    snapshot. Their texts' vectors leave the embedding cache, and unfinished runs' checkpoints are
    discarded.

    With a PostgreSQL run state (``db``) the suppression list and the served matches' rows change in
    one transaction, so every ``matcher serve`` sharing it leaves the creators out from its next
    request on, before the snapshots are rewritten.

    Args:
        store: the store directory.
        creator_ids: ids as given in the creators file.
        db: PostgreSQL URL of the shared run state; None: the store's own SQLite file.

    Returns:
        A :class:`ForgetResult`.

    Raises:
        ForgetError: no creator id was given.
        StoreBusyError: a batch run (or another forget/rollback) holds the store's lock.
    """
    ids = sorted({str(c).strip() for c in creator_ids if str(c).strip()})
    if not ids:
        raise ForgetError("give at least one creator id to forget")
    st = Store.of(store, db=db)
    started = datetime.now(timezone.utc)
    with st.lock("matcher forget"):
        st.carry_over_suppressed()
        st.suppress(ids)
        st.clear_checkpoints()
        current = st.current_or_none()
        published = set(st.published_ids())
        found: set[str] = set()
        texts: dict[str, set[str]] = {}
        rewritten: dict[str, str] = {}
        removed: list[str] = []
        for sid in st.snapshot_ids():
            try:
                snap = st.load(sid)
                matches = st.snapshot_matches(sid)
                quarantine = _blob(st, snap, "quarantine.csv")
                config = _blob(st, snap, "config.json")
                shortlists = {name: _blob(st, snap, name) for name in (SHORTLISTS_FILE, SHORTLIST_PICKS_FILE)}
            except StoreError as exc:
                # Unreadable means it cannot be checked for these creators; it cannot be served either.
                logger.warning("deleting snapshot %s, which cannot be read to erase from: %s", sid, exc)
                st.remove_snapshot(sid)
                removed.append(sid)
                continue
            rows = snap.creators["creator_id"].astype(str).isin(ids).to_numpy(dtype=bool)
            in_matches = matches["creator_id"].astype(str).isin(ids).any()
            in_brands = any(set(ids) & set(_as_list(v)) for v in snap.brands.get("exclude_creators", pd.Series(dtype=object)).tolist())
            # A creator changed or gone since may still have an old vector in a dead node of the graph;
            # the rewrite rebuilds the index, which drops every dead node.
            in_dead = bool(set(ids) & set(snap.index.dead_ids_.tolist()))
            if not (rows.any() or in_matches or in_brands or in_dead):
                continue
            found |= set(snap.creators.loc[rows, "creator_id"].astype(str))
            model_id = (snap.manifest.get("model") or {}).get("id")
            if model_id:
                texts.setdefault(model_id, set()).update(_texts_of(snap, rows))
            if sid not in published and sid != current:
                st.remove_snapshot(sid)
                removed.append(sid)
                continue
            new_sid = revision_id(sid, st.snapshot_ids())
            files, fields = _without(snap, rows, matches, quarantine, config, set(ids))
            files.update(_shortlists_without(shortlists, set(ids)))
            fields["revision_of"] = sid
            st.write_snapshot_files(new_sid, files, fields=fields)
            if sid == current:
                st.publish(new_sid, replaces=sid)
                current = new_sid
            else:
                st.replace_published(sid, new_sid)
            st.remove_snapshot(sid)
            rewritten[sid] = new_sid
        cache_entries = _forget_vectors(st, texts)
        st.forget_legacy_matches(ids)  # stores written before matches moved into snapshots
        st.record_run(
            f"forget-{started.strftime('%Y%m%dT%H%M%S%fZ')}",
            status="forget",
            started_at=started.isoformat(timespec="seconds"),
            finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            snapshot_id=current,
            details={"requested": len(ids), "found": len(found), "rewritten": rewritten, "removed": removed, "cache_entries": cache_entries},
        )
    logger.info("forgot %d of %d creator(s): %d snapshot(s) rewritten, %d removed, %d cached vector(s) deleted", len(found), len(ids), len(rewritten), len(removed), cache_entries)
    return ForgetResult(
        requested=len(ids), found=len(found), rewritten=rewritten, removed=tuple(removed), cache_entries=cache_entries, current=current,
        missing=tuple(i for i in ids if i not in found),
    )


def _blob(st: Store, snap: Snapshot, name: str) -> bytes | None:
    if name not in snap.manifest["files"]:
        return None
    return st.blob_reader(snap.snapshot_id, snap.manifest)(name)


def _as_list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(x) for x in value]
    return []


def _texts_of(snap: Snapshot, rows: np.ndarray) -> set[str]:
    """The bios and post texts of the given creator rows, as they were embedded."""
    out = {str(b) for b in snap.creators.loc[rows, "bio"].tolist() if not pd.isna(b)}
    counts = np.diff(snap.post_offsets)
    post_rows = np.repeat(rows, counts)
    out |= {str(t) for t in snap.posts.loc[post_rows, "text"].tolist() if not pd.isna(t)}
    out.discard("")  # shared by every creator without a bio; not theirs
    return out


def _without(
    snap: Snapshot, rows: np.ndarray, matches: pd.DataFrame, quarantine: bytes | None, config: bytes | None, ids: set[str]
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The files and manifest fields of ``snap`` with the creators at ``rows`` removed everywhere."""
    removed = set(snap.creators.loc[rows, "creator_id"].astype(str))
    in_quarantine = ids | {spreadsheet_safe(i) for i in ids}  # ids are stored as written to a spreadsheet-safe CSV ("=x" as "'=x")
    q = pd.read_csv(io.BytesIO(quarantine), dtype=str, keep_default_na=False) if quarantine is not None else None
    dropped = drop_creators(
        lambda v: not pd.isna(v) and str(v) in ids,
        creators=snap.creators, posts=snap.posts, brands=snap.brands, quarantine=q if q is not None and len(q) else None,
        quarantined_id=lambda v: not pd.isna(v) and str(v) in in_quarantine,
    )
    keep = ~rows
    counts = np.diff(snap.post_offsets)
    post_keep = ~dropped.post_rows
    offsets = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.cumsum(counts[keep], out=offsets[1:])
    brands = dropped.brands
    slim = Snapshot(
        snapshot_id=snap.snapshot_id,
        creators=dropped.creators,
        signals=snap.signals[keep].reset_index(drop=True),
        posts=dropped.posts,
        post_vectors=snap.post_vectors[post_keep],
        post_offsets=offsets,
        index=snap.index.remove(removed),
        brands=brands,
        manifest={},
        niche_model=snap.niche_model,
        brand_niches=snap.brand_niches,
        collaborations=None if snap.collaborations is None else snap.collaborations[~snap.collaborations["creator_id"].astype(str).isin(sorted(removed))].reset_index(drop=True),
        audience=snap.audience.without(removed) if snap.audience is not None else None,
    )
    index = slim.index
    files = snapshot_files(slim)
    m = matches[~matches["creator_id"].astype(str).isin(ids)].sort_values(["brand_id", "rank"], kind="mergesort").copy()
    m["rank"] = m.groupby("brand_id").cumcount() + 1  # ranks close up over the removed rows
    files[MATCHES_FILE] = parquet_bytes(matches_frame(m.itertuples(index=False, name=None)))
    if q is not None:
        if dropped.quarantine is not None:
            q = dropped.quarantine
        files["quarantine.csv"] = spreadsheet_safe_frame(q).to_csv(index=False).encode()
    if config is not None:
        files["config.json"] = config
    fields = {k: v for k, v in snap.manifest.items() if k not in _MANIFEST_OWN}
    erased = int(rows.sum())
    fields["counts"] = {
        **fields.get("counts", {}),
        "creators": len(slim.creators),
        "posts": len(slim.posts),
        "brands": len(brands),
        "matches": len(m),
    }
    fields["index"] = {"kind": index.kind_, "size": index.size, "dim": index.dim, "build": "rebuilt"}
    fields["erased"] = int(fields.get("erased", 0)) + erased
    return files, fields


def _shortlists_without(stored: dict[str, bytes | None], ids: set[str]) -> dict[str, bytes]:
    """The stored shortlists less every brand's whose set names an erased creator (as a pick, left
    out, or in an explanation): the next batch picks those brands' sets again."""
    summary_bytes, picks_bytes = stored.get(SHORTLISTS_FILE), stored.get(SHORTLIST_PICKS_FILE)
    if summary_bytes is None or picks_bytes is None:
        return {}
    summary, picks = read_parquet_bytes(summary_bytes), read_parquet_bytes(picks_bytes)
    pattern = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    word = re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])") if pattern else None

    def names(text: object) -> bool:
        return word is not None and isinstance(text, str) and word.search(text) is not None

    touched = set(picks.loc[picks["creator_id"].astype(str).isin(ids) | picks["why"].map(names).astype(bool), "brand_id"].astype(str))
    touched |= set(summary.loc[summary["left_out"].map(names).astype(bool) | summary["why"].map(names).astype(bool), "brand_id"].astype(str))
    summary = summary[~summary["brand_id"].astype(str).isin(touched)].reset_index(drop=True)
    picks = picks[~picks["brand_id"].astype(str).isin(touched)].reset_index(drop=True)
    return {SHORTLISTS_FILE: parquet_bytes(summary), SHORTLIST_PICKS_FILE: parquet_bytes(picks)}


def _forget_vectors(st: Store, texts: dict[str, set[str]]) -> int:
    """Delete the cached vectors of the erased creators' texts. Returns how many keys were asked to go."""
    if not st.cache_path.exists():
        return 0
    keys = [content_hash(t, namespace=model_id) for model_id, ts in texts.items() for t in sorted(ts)]
    if keys:
        with EmbeddingCache(st.cache_path) as cache:
            before = len(cache)
            cache.delete(keys)
            return before - len(cache)
    return 0

