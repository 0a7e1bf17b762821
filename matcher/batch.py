"""The nightly batch: ingest, embed (cached), index, signals, rank every brand, audit, publish a snapshot.

A run holds the store's lock for its whole length, so two runs never overlap. Each stage writes its
output as a checkpoint under ``STORE/work/<key>/`` (``key`` hashes the inputs, settings, model,
:data:`OUTPUT_VERSION`, suppression list and the snapshot it builds on); a run that was killed resumes from the last
finished stage and gives the same result as an uninterrupted one. Nothing readers see changes
until the audit has passed and the finished snapshot is published by one atomic pointer swap.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from matcher.audience import MANIFEST_FIELD as AUDIENCE_FIELD
from matcher.audience import AudienceSketch
from matcher.config import Config
from matcher.embed import EMBED_CHUNK, EmbeddingCache, Encoder, embed_groups
from matcher.engine import Searched, query_searches, rank_snapshot, shortlist_matches
from matcher.erasure import drop_creators
from matcher.errors import ConfigError, InputFileError, MatcherError, StoreError
from matcher.forked import can_fork, cores, fork_map
from matcher.index import DEAD_IDS_FILE, IDS_FILE, INDEX_FILE, META_FILE, VECTORS_FILE, IndexUpdate, VectorIndex, normalize_rows, plan_update
from matcher.fetch import FetchedFile, fetch, folder_digest, is_url, part_files, side_by_side
from matcher.files import load_confined
from matcher.ingest import BLANKED, CREATOR_COLUMNS, POST_COLUMNS, load_dataset, table_format
from matcher.language import detect_creator_languages
from matcher.niches import NicheModel, Taxonomy, load_taxonomy, niche_columns, post_means, read_niche_labels
from matcher.prices import PRICE_COLUMNS, PriceCalibration, estimate_prices, load_price_calibration, price_inputs
from matcher.rerank import WEIGHTS_FILE, load_reranker
from matcher.schema import Brand
from matcher.collaborations import collection_collaborations
from matcher.signals import POST_SIGNAL_COLUMNS, compute_signals, post_signals_reusing, post_sums, topical_focus
from matcher.store import (
    BRAND_NICHES_FILE,
    COLLABORATIONS_FILE,
    FORMAT_VERSION,
    MATCHES_FILE,
    SHORTLIST_PICKS_FILE,
    SHORTLISTS_FILE,
    Checkpoints,
    DurableFile,
    Snapshot,
    StateError,
    Store,
    StoreWriteError,
    TMP_PREFIX,
    crash_point,
    index_files,
    match_row,
    matches_frame,
    npy_map,
    npy_bytes,
    parquet_bytes,
    read_npy,
    read_parquet_bytes,
    read_parquet_frame,
    shortlist_frames,
)
from matcher.text import brief_text, move_contacts, redact_contacts, spreadsheet_safe_frame

if TYPE_CHECKING:  # Ray is an optional extra: matcher.distributed is imported only by a run on Ray
    from matcher.distributed import RayStages

__all__ = ["BatchResult", "AuditError", "run_batch", "creator_vectors", "audit", "output_fingerprint", "OUTPUT_VERSION", "focus_and_profiles"]

logger = logging.getLogger(__name__)
#: Each stage as it starts and ends (and the embedding's time left); the command line shows it unless -q.
progress_logger = logging.getLogger("matcher.progress")

#: Stages whose outputs are checkpointed, in order.
STAGES = ("ingest", "embed", "index", "signals", "rank")
#: The ingest checkpoint's comments table, read by the signals stage alone.
COMMENTS_FILE = "comments.parquet"
#: The version of what a run writes from given inputs, config and model: the scores, signals,
#: niches and file layouts. Raise it with any change to the code that changes a run's outputs; runs
#: of another version then resume no checkpoint and reuse no post signal. (Code changes that leave
#: the outputs as they are, such as docs or speed, keep it.)
OUTPUT_VERSION = 4  # 4: collaborations, prices, trust confidence, audience signatures and shortlists together


class AuditError(MatcherError):
    """The finished run failed its audit, so nothing was published; the message lists every failed check."""


@dataclass(frozen=True)
class BatchResult:
    """What a batch run did: ids, row counts, how much it encoded, timings, audit and where quarantine went.

    ``counts`` holds, per input table, ``read = accepted + quarantined + suppressed`` (suppressed:
    rows of creators erased with ``matcher forget``). ``resumed`` names the stages taken from the
    checkpoints of an interrupted run; ``index_build`` is ``reused``, ``extended``, ``updated`` or ``rebuilt``
    (see :class:`~matcher.index.IndexUpdate`).
    """

    run_id: str
    snapshot_id: str
    store: Path | str
    counts: dict[str, dict[str, int]]
    encoded: int
    matches: int
    timings: dict[str, float] = field(default_factory=dict)
    quarantine_path: Path | str | None = None
    resumed: tuple[str, ...] = ()
    index_build: str = "rebuilt"
    audit: dict[str, Any] = field(default_factory=dict)
    pruned: tuple[str, ...] = ()
    niches: dict[str, Any] = field(default_factory=dict)


def _fingerprint(inputs: Mapping[str, Path | FetchedFile]) -> str:
    """What the run reads: each input's role, name and SHA-256 (a fetched file's as it arrived; a
    folder's, its :func:`~matcher.fetch.folder_digest`)."""
    h = hashlib.sha256()
    for name, p in inputs.items():
        if isinstance(p, FetchedFile):
            digest = p.sha256
        elif Path(p).is_dir():
            digest = folder_digest([(part.name, _sha256_of(part, name)) for part in part_files(Path(p), str(p))])
        else:
            digest = _sha256_of(Path(p), name)
        h.update(f"{name}\x00{Path(p).name}\x00{digest}\x00".encode())
    return h.hexdigest()


def _sha256_of(path: Path, name: str) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror or exc}); check the path of the {name} file") from None
    return h.hexdigest()


def output_fingerprint(config: Config, model_id: str) -> str:
    """What decides a run's outputs besides its input files: :data:`OUTPUT_VERSION`, the store's
    format, the config and the embedding model. Checkpoints and post signals are only reused
    between runs with the same fingerprint."""
    parts = {"output_version": OUTPUT_VERSION, "format": FORMAT_VERSION, "config": config.fingerprint(), "model": model_id}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


#: Brands per task of the rank stage: the unit the worker processes share out (``batch.workers``).
RANK_CHUNK = 32
#: On the Ray engine, chunks of brands whose searches the driver makes before the workers rank them.
RAY_SEARCH_BLOCK = 64


def _packed(files: Mapping[str, bytes]) -> list[bytes]:
    """Named files as a list of bytes: their names (JSON), then each file's bytes in that order."""
    names = list(files)
    return [json.dumps(names).encode(), *(files[n] for n in names)]


def _unpacked(parts: list[bytes]) -> dict[str, bytes]:
    """The files :func:`_packed` listed."""
    names = json.loads(parts[0])
    return dict(zip(names, parts[1:]))


def _joined(frames: list[pd.DataFrame], empty: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Frames of consecutive brand chunks as the one frame a single pass makes: joined, then sorted stably by ``by``."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty
    return pd.concat(frames, ignore_index=True).sort_values(by, kind="mergesort").reset_index(drop=True)


#: Creators per block in the profile-vector and focus computations, so their float64 temporaries
#: stay small (a few hundred MB) whatever the number of creators.
ROW_BLOCK = 65_536


def creator_vectors(bio_vecs: np.ndarray, has_bio: np.ndarray, post_vecs: np.ndarray, offsets: np.ndarray, bio_weight: float) -> np.ndarray:
    """One unit vector per creator: ``bio_weight`` × bio + (1 − ``bio_weight``) × mean of post vectors.

    A creator with only a bio or only posts gets that part alone; with neither, a zero vector
    (similarity 0 to every brief). Computed in blocks of creators (every step is per creator).
    """
    n, d = bio_vecs.shape
    out = np.empty((n, d), dtype=np.float32)
    for lo in range(0, n, ROW_BLOCK):
        hi = min(n, lo + ROW_BLOCK)
        off = offsets[lo : hi + 1] - offsets[lo]
        out[lo:hi] = _profile_block(bio_vecs[lo:hi], has_bio[lo:hi], post_sums(post_vecs[offsets[lo] : offsets[hi]], off), np.diff(off), bio_weight)
    return out


def _profile_block(bio_vecs: np.ndarray, has_bio: np.ndarray, sums: np.ndarray, counts: np.ndarray, bio_weight: float) -> np.ndarray:
    """:func:`creator_vectors` of one block of creators, from the sums of their post vectors."""
    means = np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)
    means = normalize_rows(means)
    has_posts = counts > 0
    wb = np.where(has_bio & has_posts, bio_weight, np.where(has_bio, 1.0, 0.0))[:, None]
    mixed = wb * bio_vecs + (1.0 - wb) * np.where(has_posts[:, None], means, 0.0)
    return normalize_rows(mixed)


#: A creator with at least this many posts whose bio disagrees with them (``bio_agreement`` below
#: ``signals.min_bio_agreement``) gets a profile vector without the bio.
MIN_POSTS_TO_DOUBT_A_BIO = 3


def focus_and_profiles(
    bio_vecs: np.ndarray, has_bio: np.ndarray, post_vecs: np.ndarray, offsets: np.ndarray, *, bio_weight: float, min_bio_agreement: float,
    out: np.ndarray | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`topical_focus` and the creators' profile vectors, in one pass over the post vectors.

    A bio the creator's own posts do not support (keyword stuffing: ``bio_agreement`` below
    ``min_bio_agreement`` over :data:`MIN_POSTS_TO_DOUBT_A_BIO` posts or more) is left out of the
    profile vector; the signal flags it. In blocks of creators, so the float64 temporaries stay
    small; each block's post sums serve both, with the same bits as :func:`topical_focus` and
    :func:`creator_vectors` computed apart.

    ``out``: a float32 array of the profiles' shape to fill (front to back) and return, such as a
    mapped file's (:func:`~matcher.store.formats.npy_map`).
    """
    n, d = bio_vecs.shape
    if out is not None and (out.shape != (n, d) or out.dtype != np.float32):
        raise ValueError(f"out must be a float32 array of shape {(n, d)}, got {out.dtype} {out.shape}")
    profiles = np.empty((n, d), dtype=np.float32) if out is None else out
    parts = []
    for lo in range(0, max(n, 1), ROW_BLOCK):
        hi = min(n, lo + ROW_BLOCK)
        off = offsets[lo : hi + 1] - offsets[lo]
        posts = post_vecs[offsets[lo] : offsets[hi]]
        sums = post_sums(posts, off)
        focus = topical_focus(bio_vecs[lo:hi], has_bio[lo:hi], posts, off, sums=sums)
        counts = np.diff(off)
        unsupported = (counts >= MIN_POSTS_TO_DOUBT_A_BIO) & (focus["bio_agreement"].to_numpy() < min_bio_agreement)
        profiles[lo:hi] = _profile_block(bio_vecs[lo:hi], has_bio[lo:hi] & ~unsupported, sums, counts, bio_weight)
        parts.append(focus)
    return (parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)), profiles


def audit(
    *,
    counts: Mapping[str, Mapping[str, int]],
    previous_counts: Mapping[str, Mapping[str, int]] | None,
    n_creators: int,
    index_size: int,
    brand_ids: list[str],
    matches: pd.DataFrame,
    max_quarantine_rate: float,
    max_shrink: float,
) -> dict[str, Any]:
    """Check a finished run before it may be published.

    Checks: accepted rows have not fallen by more than ``max_shrink`` against the previous run; the
    index holds exactly the accepted creators; every accepted brand has matches; quarantined ÷ read
    over all tables is at most ``max_quarantine_rate``. Only rejected rows count as quarantined:
    optional values left blank (``blanked``) cost no row, and the detail only reports them.

    Returns:
        ``{"passed": bool, "checks": [{"check", "ok", "detail"}, ...]}``.
    """
    checks: list[dict[str, Any]] = []

    def check(name: str, ok: bool, detail: str) -> None:
        checks.append({"check": name, "ok": bool(ok), "detail": detail})

    if previous_counts:
        for table, c in counts.items():
            before = (previous_counts.get(table) or {}).get("accepted")
            if not before:
                continue
            now = c["accepted"]
            drop = (before - now) / before
            check(
                f"{table}_count",
                drop <= max_shrink,
                f"accepted {table} {before} -> {now} ({-drop:+.1%}; at most -{max_shrink:.0%} allowed): "
                + ("ok" if drop <= max_shrink else "check that the input file is complete, or raise batch.max_shrink"),
            )
    check("index_size", index_size == n_creators, f"index holds {index_size} creators, {n_creators} accepted")
    with_matches = set(matches["brand_id"].astype(str)) if len(matches) else set()
    missing = [b for b in brand_ids if b not in with_matches]
    check(
        "brands_matched",
        bool(brand_ids) and not missing,
        "no brand was accepted; check the brands file" if not brand_ids
        else f"{len(brand_ids) - len(missing)} of {len(brand_ids)} brands have matches"
        + (f"; none for {', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}: loosen their filters or check the creators file" if missing else ""),
    )
    read = sum(c["read"] for c in counts.values())
    quarantined = sum(c["quarantined"] for c in counts.values())
    rate = quarantined / read if read else 0.0
    per_table = ", ".join(f"{t} {c['quarantined']}/{c['read']}" for t, c in counts.items())
    blanked = sum(c.get("blanked", 0) for c in counts.values())
    check(
        "quarantine_rate",
        rate <= max_quarantine_rate,
        f"{quarantined} of {read} rows quarantined ({rate:.2%}; ceiling {max_quarantine_rate:.0%}; {per_table})"
        + (f"; {blanked} unreadable optional values left blank, rows kept" if blanked else "")
        + ("" if rate <= max_quarantine_rate else ": fix the rows listed in the quarantine report, or raise batch.max_quarantine_rate"),
    )
    return {"passed": all(c["ok"] for c in checks), "checks": checks}


#: Tables a run cannot do without: no creator means nothing to match, no brand nothing to match for.
REQUIRED_ROWS = {"creators": "creator", "brands": "brand"}


def _require_rows(ds: Any) -> None:
    """Stop with one line naming the file when a required table has no accepted row.

    Raises:
        InputFileError: the file holds no rows (only a header), or every row was quarantined.
    """
    for report in ds.reports:
        noun = REQUIRED_ROWS.get(report.name)
        if noun is None or report.accepted > 0:
            continue
        if report.read == 0:
            raise InputFileError(
                f"{report.path}: holds no {report.name} (a header, but no rows); give the file with at least one {noun} "
                "(check that the export finished)"
            )
        first = next((r for r in ds.rejections if r.file == report.path), None)
        why = f"; row {first.row}: {first.reason}" if first is not None else ""
        raise InputFileError(
            f"{report.path}: none of its {report.read} {report.name} rows can be used, every one was quarantined{why}; "
            "fix the rows as the reason says and run again"
        )


def run_batch(
    creators: str | Path,
    posts: str | Path,
    brands: str | Path,
    store: str | Path | Store,
    *,
    comments: str | Path | None = None,
    niche_labels: str | Path | None = None,
    config: Config | None = None,
    encoder: Encoder | None = None,
    progress: bool = True,
    db: str | None = None,
    engine: str | RayStages = "local",
    ray_address: str | None = None,
) -> BatchResult:
    """Run the nightly job once: build, audit and publish a new snapshot, resuming an interrupted run.

    Args:
        creators, posts, brands: input tables (CSV, JSON Lines or Parquet), as paths or fsspec URLs
            (``s3://bucket/creators.csv``, with the ``s3`` extra): a URL is fetched once, under the
            store's lock and before the first stage, into a temporary folder of the store's local
            directory (the store, or a URL store's work directory), removed once the tables are read.
        comments: optional comments table (a path or URL); without it the conversation signal is unavailable.
        niche_labels: optional table (a path or URL) of ``creator_id, niche`` examples that refine the niche
            assignment (see :class:`matcher.niches.NicheModel`); checked before anything runs.
        store: store directory (created if needed), an fsspec URL such as ``s3://bucket/prefix``
            (docs/object-storage.md), or a :class:`~matcher.store.Store` (to give a URL store its
            ``work_dir``).
        config: settings; defaults when None.
        encoder: a loaded or unloaded :class:`Encoder` to reuse; one is made from the config, and only
            loaded when some text is not in the embedding cache.
        progress: show progress bars (only ever on a terminal).
        db: PostgreSQL URL (``postgresql://...``) of the run state shared by several machines: the
            run history, the suppression list and the served matches; None keeps them in the
            store's own SQLite file.
        engine: ``"local"`` (this process) or ``"ray"``: embedding, post signals and the brands'
            candidate search on a Ray cluster (``pip install 'matcher[ray]'``), with the same
            snapshot as a result; or a configured :class:`matcher.distributed.RayStages`.
        ray_address: the Ray cluster to join (``"auto"``: the one started with ``ray start``);
            None starts Ray on this machine for the run.

    Returns:
        A :class:`BatchResult`.

    Raises:
        InputFileError: an input file cannot be read, or its URL cannot be fetched.
        SchemaError: a row of the niche labels file is invalid (file, row and field named).
        ConfigError: the niche taxonomy file (``niches.taxonomy``) is missing or invalid, or
            ``engine`` is unknown or Ray is not installed.
        AuditError: the run failed its audit; nothing was published.
        StoreBusyError: another batch run (or forget, rollback) holds the store's lock.
        StoreWriteError: writing to the store failed (e.g. disk full); nothing was published.
    """
    given = {"creators": creators, "posts": posts, "brands": brands, "comments": comments, "niche_labels": niche_labels}
    locations = {name: where for name, where in given.items() if where is not None}
    for where in locations.values():
        table_format(where)  # an unknown file type fails before anything is fetched or run
    cfg = config or Config()
    taxonomy = load_taxonomy(cfg.niches.taxonomy)
    labels = None
    if niche_labels is not None and not is_url(niche_labels):
        # Bad labels fail now, before the store is touched; labels at a URL, as soon as they are fetched.
        labels = read_niche_labels(niche_labels, taxonomy)
    stages = _engine_stages(engine, ray_address)
    st = Store.of(store, db=db)
    with st.lock("matcher batch"), stages or nullcontext():
        crash_point("locked")
        return _Run(st, locations, cfg, encoder=encoder, progress=progress, taxonomy=taxonomy, labels=labels, stages=stages).execute()


def _local_inputs(locations: Mapping[str, str | Path], spool: Path) -> dict[str, Path | FetchedFile]:
    """The input files as local paths: those given as URLs fetched side by side, each into its own
    folder of ``spool`` (created when a URL is given)."""
    urls = {name: str(where) for name, where in locations.items() if is_url(where)}
    if urls:
        spool.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()  # one failed fetch ends the others at their next chunk
    fetched = dict(zip(urls, side_by_side([(partial(fetch, stop=stop), (url, spool / name)) for name, url in urls.items()], stop=stop)))
    return {name: fetched[name] if name in fetched else Path(where) for name, where in locations.items()}


def _engine_stages(engine: str | RayStages, address: str | None) -> RayStages | None:
    """None for the local engine, else the object that runs the heavy steps elsewhere (see :func:`run_batch`)."""
    if isinstance(engine, str) and engine == "local":
        if address is not None:
            raise ConfigError("ray_address (--address) is only used with engine='ray' (--engine ray)")
        return None
    if isinstance(engine, str) and engine == "ray":
        from matcher.distributed import RayStages  # Ray is imported only by a run that asks for it

        return RayStages(address=address)
    if isinstance(engine, str):
        raise ConfigError(f"unknown engine {engine!r}; use 'local' (the default) or 'ray'")
    return engine


class _Run:
    """One attempt at a batch run; stages read their inputs from the previous stage's checkpoint."""

    def __init__(
        self, st: Store, locations: Mapping[str, str | Path], cfg: Config, *, encoder: Encoder | None, progress: bool, taxonomy: Taxonomy, labels: pd.DataFrame | None,
        stages: RayStages | None = None,
    ) -> None:
        self.st = st
        self.stages = stages  # None: every step here; else the engine reading the input parts and running embedding, post signals and search
        self.taxonomy = taxonomy
        self.labels = labels
        self.locations = locations  # the inputs as given: paths or URLs
        self.inputs: Mapping[str, Path | FetchedFile] = {}  # as read: paths, or the URLs' local copies
        self.cfg = cfg
        self.encoder = encoder
        self.show = progress and sys.stderr.isatty()
        self.started = datetime.now(timezone.utc)
        self.run_id = self.started.strftime("%Y%m%dT%H%M%S%fZ")
        self.timings: dict[str, float] = {}
        self.resumed: list[str] = []
        self.encoded = 0

    # -- set-up ------------------------------------------------------------------------------
    def _previous(self) -> tuple[str, dict[str, Any]] | None:
        try:
            sid = self.st.resolve()
        except StoreError as exc:
            if "no published snapshot" not in str(exc):
                logger.warning("no earlier snapshot verifies (%s); this run is checked without one", exc)
            return None
        return sid, self.st.read_manifest(sid)

    def _model_id(self) -> str:
        return (self.encoder or Encoder(self.cfg.embed)).model_id

    def _weights_bytes(self) -> bytes | None:
        try:
            return (self.st.root / WEIGHTS_FILE).read_bytes()
        except FileNotFoundError:
            return None

    def _price_calibration(self) -> PriceCalibration | None:
        """The store's price calibration (``matcher train``), read once per run."""
        if not hasattr(self, "price_calibration"):
            self.price_calibration = load_price_calibration(self.st.root, config=self.cfg.prices)
        return self.price_calibration

    def _key(self) -> str:
        weights = self._weights_bytes()
        calibration = self._price_calibration()
        parts = {
            "output": output_fingerprint(self.cfg, self._model_id()),
            "inputs": self.input_fingerprint,
            "suppressed": hashlib.sha256("\n".join(sorted(self.suppressed)).encode()).hexdigest(),
            "previous": self.previous[0] if self.previous else None,
            "weights": hashlib.sha256(weights).hexdigest() if weights is not None else None,
            "price_calibration": calibration.digest() if calibration is not None else None,
            # The taxonomy's content, not only its path: an edited file must not reuse checkpoints.
            "taxonomy": hashlib.sha256(json.dumps(self.taxonomy.to_dict(), sort_keys=True).encode()).hexdigest(),
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]

    def _encoder(self) -> Encoder:
        if self.encoder is None:
            self.encoder = Encoder(self.cfg.embed)
        if not hasattr(self.encoder, "model_"):
            self.encoder.load()
        return self.encoder

    def _record(self, status: str, **details: Any) -> None:
        try:
            self.st.record_run(
                self.run_id,
                status=status,
                started_at=self.started.isoformat(timespec="seconds"),
                finished_at=None if status == "running" else datetime.now(timezone.utc).isoformat(timespec="seconds"),
                snapshot_id=self.snapshot_id,
                details=details,
            )
        except (sqlite3.Error, StateError) as exc:  # the history must never hide the run's own outcome
            logger.error("could not record run %s as %s: %s", self.run_id, status, exc)

    # -- the run ----------------------------------------------------------------------------
    def execute(self) -> BatchResult:
        st, cfg = self.st, self.cfg
        self.snapshot_id: str | None = None
        # Inputs given as URLs are fetched next to the store, on the disk that holds its cache and
        # checkpoints; a killed run's copies are temporaries that the next run's clean-up removes.
        self.spool = st.root / f"{TMP_PREFIX}inputs-{self.run_id}"
        try:
            st.clean_temporaries()
            st.mark_interrupted()
            self.previous = self._previous()
            st.carry_over_suppressed()
            self.suppressed = st.suppressed_keys()
            self.inputs = _local_inputs(self.locations, self.spool)
            if self.labels is None and "niche_labels" in self.inputs:
                self.labels = read_niche_labels(self.inputs["niche_labels"], self.taxonomy)
            self.input_fingerprint = _fingerprint(self.inputs)
            key = self._key()
            self.ck: Checkpoints = st.checkpoints(key)
            info = self.ck.open({"snapshot_id": self.run_id, "first_attempt": self.run_id})
            self.snapshot_id = str(info["snapshot_id"])
            if info["first_attempt"] != self.run_id:
                logger.info("resuming the interrupted run that started as %s", info["first_attempt"])
            self._record("running")
            try:
                return self._stages()
            except BaseException:
                self.ck.wait(raise_errors=False)  # no checkpoint is still being written once the run has failed
                raise
        except AuditError as exc:
            self._record("audit-failed", error=str(exc), timings=self.timings)
            raise
        except (OSError, sqlite3.OperationalError) as exc:
            self._record("failed", error=str(exc), timings=self.timings)
            served = self.st.current_or_none()
            raise StoreWriteError(
                f"the batch run failed on a file operation in {st.location}: {exc}. Nothing was published"
                + (f"; readers still get snapshot {served}" if served else "")
                + ". Free disk space or fix permissions, then run 'matcher batch' again: it resumes from its checkpoints"
            ) from exc
        except BaseException as exc:
            self._record("failed", error=str(exc) or type(exc).__name__, timings=self.timings)
            raise
        finally:
            shutil.rmtree(self.spool, ignore_errors=True)

    def _stage(self, name: str, compute: Callable[[], tuple[dict[str, bytes], dict[str, Any]]]) -> tuple[dict[str, bytes], dict[str, Any]]:
        self.ck.raise_failed()  # an earlier stage's checkpoint could not be written: stop here
        t = time.perf_counter()
        got = self.ck.load(name)
        if got is not None:
            self.resumed.append(name)
            files, info = got
            progress_logger.info("%s: taken from the interrupted run's checkpoint", name)
            crash_point(name)
        else:
            progress_logger.info("%s ...", name)
            files, info = compute()
            # Written and fsynced while the next stage runs: at a million creators the checkpoints
            # are ~10 GB, and the disk, not the CPU, is what writing them waits for.
            self.ck.save_later(name, files, info, then=lambda: crash_point(name))
            progress_logger.info("%s: done in %.1f s", name, time.perf_counter() - t)
        self.timings[f"{name}_s"] = round(time.perf_counter() - t, 4)
        return files, info

    def _stages(self) -> BatchResult:
        st, cfg = self.st, self.cfg
        ingest, ingest_info = self._stage("ingest", self._ingest)
        shutil.rmtree(self.spool, ignore_errors=True)  # the inputs fetched from URLs are read: free their disk
        # The comments feed only the signals stage: they are read from the ingest checkpoint there,
        # not held through the embed and index stages (on real collections the largest table).
        tables = {
            name[: -len(".parquet")]: read_parquet_bytes(data) for name, data in ingest.items() if name.endswith(".parquet") and name != COMMENTS_FILE
        }
        has_comments = COMMENTS_FILE in ingest
        # Each stage's bytes are dropped once parsed (their checkpoint files stay on disk), and the
        # vectors are read-only views of the embed stage's bytes: at a million creators every copy
        # of them is gigabytes.
        del ingest
        counts: dict[str, dict[str, int]] = ingest_info["counts"]
        cr = tables["creators"]

        embedded, embed_info = self._stage("embed", lambda: self._embed(tables))
        # The embedded posts (the served ones) are read back from the checkpoint where the signals
        # stage adds their columns, not held through the index stage. The vectors are mapped files
        # (made in place, or a resumed run's checkpoint): their pages are not the process's memory.
        offsets = read_npy(embedded["post_offsets.npy"])
        bio_vecs = read_npy(embedded["bio_vectors.npy"])
        post_vecs = read_npy(embedded["post_vectors.npy"])
        brand_vecs = read_npy(embedded["brand_vectors.npy"])
        niche_vecs = read_npy(embedded["niche_vectors.npy"])
        del embedded
        dim = int(post_vecs.shape[1])
        has_bio = cr["bio"].fillna("").astype(str).str.strip().ne("").to_numpy(dtype=bool)
        # The profile vectors (1.5 GB at a million creators) are filled in a mapped file of the run's
        # work directory, as the embed stage's vectors are: the index stage reads them, and their pages
        # are the file's, not the process's memory, while the index stage holds the graph twice.
        profiles_dir = self.ck.scratch("profiles")
        focus, profiles = focus_and_profiles(
            bio_vecs, has_bio, post_vecs, offsets, bio_weight=self.cfg.embed.bio_weight, min_bio_agreement=self.cfg.signals.min_bio_agreement,
            out=npy_map(profiles_dir / "profiles.npy", (len(cr), dim), np.float32)[1],
        )

        indexed, index_info = self._stage("index", lambda: self._index(cr, profiles))
        # The bios only feed focus and the profile vectors. The index is not searched before the rank
        # stage: the one built here (1.9 GB at a million creators) is let go rather than held through
        # the signals stage, and read back from its checkpoint for ranking.
        del indexed, bio_vecs, profiles
        shutil.rmtree(profiles_dir, ignore_errors=True)  # the index checkpoint holds what they became

        def signals_stage() -> tuple[dict[str, bytes], dict[str, Any]]:
            if has_comments:
                tables["comments"] = read_parquet_bytes(self.ck.mapped("ingest", COMMENTS_FILE))
            return self._signals(tables, focus, post_vecs, offsets, brand_vecs, niche_vecs)

        signalled, signals_info = self._stage("signals", signals_stage)
        signals = read_parquet_bytes(signalled["signals.parquet"])
        posts = read_parquet_bytes(signalled["posts.parquet"])
        collaborations = read_parquet_bytes(signalled[COLLABORATIONS_FILE])
        audience = AudienceSketch.from_files(signalled.__getitem__, signals_info[AUDIENCE_FIELD], where=str(self.ck.path("signals")))
        del signalled
        tables.pop("comments", None)
        tables.pop("posts", None)  # the snapshot serves the embedded posts, read back just above

        saved = self.ck.files("index")  # once the index stage's own save is written
        index = VectorIndex.load(self.ck.path("index"), checksums={n: f.sha256 for n, f in saved.items()}, sizes={n: f.bytes for n, f in saved.items()})
        brands = tables.get("brands", pd.DataFrame())
        snap = Snapshot(self.snapshot_id, cr, signals, posts, post_vecs, offsets, index, brands, manifest={}, collaborations=collaborations, audience=audience)
        ranked, rank_info = self._stage("rank", lambda: self._rank(snap, brand_vecs))
        matches = read_parquet_bytes(ranked[MATCHES_FILE])

        t = time.perf_counter()
        prev_manifest = self.previous[1] if self.previous else None
        report = audit(
            counts=counts,
            previous_counts=prev_manifest.get("ingest") if prev_manifest else None,
            n_creators=len(cr),
            index_size=index.size,
            brand_ids=brands["brand_id"].astype(str).tolist() if len(brands) else [],
            matches=matches,
            max_quarantine_rate=cfg.batch.max_quarantine_rate,
            max_shrink=cfg.batch.max_shrink,
        )
        if not report["passed"]:
            failed = [c["detail"] for c in report["checks"] if not c["ok"]]
            raise AuditError(
                "audit failed, nothing was published: " + "; ".join(failed)
                + f" (quarantine report: {self.ck.path('ingest') / 'quarantine.csv'})"
            )
        crash_point("audited")
        self.timings["audit_s"] = round(time.perf_counter() - t, 4)

        t = time.perf_counter()
        files = self._snapshot_files()
        fields = {
            "run_id": self.run_id,
            "run_key": self.ck.key,
            "parent": self.previous[0] if self.previous else None,
            "counts": {
                "creators": len(cr),
                "posts": len(posts),
                "brands": len(brands),
                "matches": len(matches),
                "quarantined": sum(c["quarantined"] for c in counts.values()),
                "blanked": sum(c.get("blanked", 0) for c in counts.values()),
                "suppressed": sum(c.get("suppressed", 0) for c in counts.values()),
            },
            "index": {"kind": index.kind_, "size": index.size, "dim": index.dim, "build": index_info["build"], "dead": index.dead},
            "model": {"name": cfg.embed.model, "id": self._model_id(), "dim": dim},
            "config_hash": cfg.fingerprint(),
            "output_fingerprint": output_fingerprint(cfg, self._model_id()),
            "input_fingerprint": self.input_fingerprint,
            "inputs": {k: str(v) for k, v in self.inputs.items()},
            "ingest": counts,
            "weights": rank_info["weights"],
            "prices": {
                "calibration": self._price_calibration().digest() if self._price_calibration() is not None else None,
                "calibrated_on": self._price_calibration().n_prices_ if self._price_calibration() is not None else 0,
            },
            "niches": signals_info.get("niches", {}),
            AUDIENCE_FIELD: signals_info[AUDIENCE_FIELD],
            "shortlists": rank_info.get("shortlists", 0),
            "audit": report,
        }
        sid = self.snapshot_id
        try:
            reuse = st.verify(sid).get("run_key") == self.ck.key
        except StoreError:
            reuse = False
        if not reuse:  # else a killed attempt already wrote this very snapshot
            st.write_snapshot_files(sid, files, fields=fields)
        self.timings["write_s"] = round(time.perf_counter() - t, 4)

        t = time.perf_counter()
        st.publish(sid)
        pruned = st.prune(cfg.batch.keep_snapshots)
        crash_point("pruned")
        self.timings["publish_s"] = round(time.perf_counter() - t, 4)
        self.timings["total_s"] = round((datetime.now(timezone.utc) - self.started).total_seconds(), 4)
        self._record(
            "published",
            counts=counts,
            encoded=self.encoded,
            matches=len(matches),
            timings=self.timings,
            resumed=self.resumed,
            index_build=index_info["build"],
            engine=self.stages.name if self.stages is not None else "local",
        )
        crash_point("recorded")
        self.ck.clear()
        logger.info(
            "batch %s published snapshot %s: %d creators, %d brands, %d matches, %d texts encoded%s",
            self.run_id, sid, len(cr), len(brands), len(matches), self.encoded,
            f" (resumed: {', '.join(self.resumed)})" if self.resumed else "",
        )
        return BatchResult(
            run_id=self.run_id,
            snapshot_id=sid,
            store=st.location,
            counts=counts,
            encoded=self.encoded,
            matches=len(matches),
            timings=self.timings,
            quarantine_path=st.snapshot_location(sid, "quarantine.csv"),
            resumed=tuple(self.resumed),
            index_build=index_info["build"],
            audit=report,
            pruned=tuple(pruned),
            niches=signals_info.get("niches", {}),
        )

    def _snapshot_files(self) -> dict[str, bytes | DurableFile]:
        """The snapshot's files: the stages' checkpoint files, listed with the checksums they were
        saved with (each was hashed once, as it was written), and the run's config."""
        ck = self.ck
        ck.wait()
        ingest, embed, signals, rank = (ck.files(stage) for stage in ("ingest", "embed", "signals", "rank"))
        files: dict[str, bytes | DurableFile] = {
            "creators.parquet": ingest["creators.parquet"],
            "brands.parquet": ingest["brands.parquet"],
            "quarantine.csv": ingest["quarantine.csv"],
            "post_offsets.npy": embed["post_offsets.npy"],
            "post_vectors.npy": embed["post_vectors.npy"],
            "posts.parquet": signals["posts.parquet"],
            "signals.parquet": signals["signals.parquet"],
            MATCHES_FILE: rank[MATCHES_FILE],
            SHORTLISTS_FILE: rank[SHORTLISTS_FILE],
            SHORTLIST_PICKS_FILE: rank[SHORTLIST_PICKS_FILE],
            "config.json": json.dumps(self.cfg.to_dict(), indent=2, sort_keys=True).encode(),
        }
        files.update(ck.files("index"))
        for name, f in signals.items():  # the niche model and the brands' niches
            files.setdefault(name, f)
        return files

    # -- stages -----------------------------------------------------------------------------
    def _ingest(self) -> tuple[dict[str, bytes], dict[str, Any]]:
        cfg = self.cfg
        ds = load_dataset(
            self.inputs["creators"], self.inputs["posts"], self.inputs["brands"],
            comments=self.inputs.get("comments"), max_text_chars=cfg.max_text_chars,
            map_parts=self.stages.map_parts if self.stages is not None else None,
        )
        _require_rows(ds)
        counts = {
            r.name: {"read": r.read, "accepted": r.accepted, "quarantined": r.quarantined, "duplicates": r.duplicates, "suppressed": 0, "blanked": r.blanked}
            for r in ds.reports
        }
        tables: dict[str, pd.DataFrame] = {"creators": ds.creators.reset_index(drop=True), "posts": ds.posts.reset_index(drop=True)}
        tables["brands"] = ds.brands.reset_index(drop=True) if ds.brands is not None else pd.DataFrame({"brand_id": pd.Series(dtype="string")})
        if getattr(ds, "comments", None) is not None:
            tables["comments"] = ds.comments.reset_index(drop=True)
        quarantine = ds.quarantine_frame()
        if self.suppressed:
            tables, quarantine = self._suppress(tables, quarantine, counts, {f: r.name for r in ds.reports for f in r.files})
        # Before contacts are moved out of the texts: detection reads the creators' own words.
        tables["creators"] = detect_creator_languages(tables["creators"], tables["posts"], config=cfg.language)
        tables["creators"], tables["posts"] = move_contacts(tables["creators"], tables["posts"], creator_columns=CREATOR_COLUMNS, post_columns=POST_COLUMNS)
        if "comments" in tables and "text" in tables["comments"]:
            # Commenters are third parties: their contact details are dropped, not kept.
            tables["comments"] = tables["comments"].assign(
                text=pd.array([redact_contacts("" if pd.isna(t) else str(t)) for t in tables["comments"]["text"].tolist()], dtype="string")
            )
        quarantine["reason"] = [redact_contacts(str(r)) for r in quarantine["reason"].tolist()]
        buf = io.StringIO()
        spreadsheet_safe_frame(quarantine).to_csv(buf, index=False)
        files = {f"{name}.parquet": parquet_bytes(frame) for name, frame in tables.items()}
        files["quarantine.csv"] = buf.getvalue().encode()
        return files, {"counts": counts}

    def _suppress(
        self, tables: dict[str, pd.DataFrame], quarantine: pd.DataFrame, counts: dict[str, dict[str, int]], table_of_file: Mapping[str, str]
    ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        """Drop erased creators with their posts (and comments on those posts), counting what was dropped."""
        keys = self.suppressed

        def gone(value: object) -> bool:
            return not pd.isna(value) and Store.suppression_key(str(value)) in keys

        dropped = drop_creators(
            gone, creators=tables["creators"], posts=tables["posts"], brands=tables["brands"], quarantine=quarantine, comments=tables.get("comments")
        )
        tables["creators"], tables["posts"], tables["brands"] = dropped.creators, dropped.posts, dropped.brands
        drop_c, drop_p, q_drop = dropped.creator_rows, dropped.post_rows, dropped.quarantine_rows
        for table, n in (("creators", int(drop_c.sum())), ("posts", int(drop_p.sum()))):
            counts[table]["accepted"] -= n
            counts[table]["suppressed"] += n
        if dropped.comments is not None and dropped.comment_rows is not None:
            tables["comments"] = dropped.comments
            if "comments" in counts:
                counts["comments"]["accepted"] -= int(dropped.comment_rows.sum())
                counts["comments"]["suppressed"] += int(dropped.comment_rows.sum())
        for f, action in zip(quarantine.loc[q_drop, "file"].tolist(), quarantine.loc[q_drop, "action"].tolist()):
            table = table_of_file.get(f)
            if table is None:
                continue
            if action == BLANKED:  # a value of an accepted row: the row is counted as suppressed above
                counts[table]["blanked"] -= 1
            else:
                counts[table]["quarantined"] -= 1
                counts[table]["suppressed"] += 1
        n = int(drop_c.sum())
        if n or q_drop.any():
            logger.info("left out %d erased creator(s) with %d post(s); they stay out until removed from the suppression list", n, int(drop_p.sum()))
        return tables, dropped.quarantine

    def _embed(self, tables: dict[str, pd.DataFrame]) -> tuple[dict[str, bytes], dict[str, Any]]:
        cfg = self.cfg
        cr = tables["creators"]
        row_of = pd.Series(np.arange(len(cr)), index=cr["creator_id"].astype(str))
        po = tables["posts"].copy()
        po["_row"] = po["creator_id"].astype(str).map(row_of).astype("int64")
        # Newest posts first within each creator; the newest `max_posts` represent the creator.
        po = po.sort_values(["_row", "posted_at", "post_id"], ascending=[True, False, True], na_position="last", kind="mergesort")
        po = po[po.groupby("_row").cumcount() < cfg.embed.max_posts].reset_index(drop=True)
        offsets = np.zeros(len(cr) + 1, dtype=np.int64)
        np.cumsum(np.bincount(po["_row"].to_numpy(), minlength=len(cr)), out=offsets[1:])

        bios = cr["bio"].fillna("").astype(str).tolist()
        post_texts = po["text"].fillna("").astype(str).tolist()
        # Prepared as recommend() prepares a brief, so a brand's stored matches are its recommend() answer.
        brand_texts = [brief_text(Brand.from_record(r), max_chars=cfg.max_text_chars) for r in tables["brands"].to_dict("records")] if len(tables["brands"]) else []
        niche_texts = [n.description for n in self.taxonomy.niches]
        dim = self._dim_hint()
        if dim is None:  # no earlier snapshot of this model says it: the model has to tell
            dim = int(self._encoder().dim_)
        # Vectors are written straight into their .npy checkpoint files, mapped: held once, and as the
        # files' pages, which the kernel can write back and drop, not the process's memory (6.1 GB at a
        # million creators). They arrive all over the files (in the cache's key order), so embed_groups
        # sorts them by position on disk first and writes each file front to back: filled as they came,
        # the pages were written back again and again, which cost the rerun at a million creators 53 s.
        scratch = self.ck.scratch("embed")
        blobs = {
            name: npy_map(scratch / name, (len(texts), dim), np.float32)
            for name, texts in (("bio_vectors.npy", bios), ("post_vectors.npy", post_texts), ("brand_vectors.npy", brand_texts), ("niche_vectors.npy", niche_texts))
        }
        with EmbeddingCache(self.st.cache_path) as cache:
            self.encoded = embed_groups(
                [bios, post_texts, brand_texts, niche_texts], [arr for _, arr in blobs.values()],
                cache=cache, model_id=self._model_id(), encoder=self._encoder, chunk=EMBED_CHUNK, progress=self.show,
                encode_parts=self.stages.encode_parts(self.encoder.config if self.encoder is not None else cfg.embed) if self.stages is not None else None,
                spill=scratch / "sorting",
            )
        bio_vecs = blobs["bio_vectors.npy"][1]
        if len(bio_vecs):
            bio_vecs[~np.array([bool(b.strip()) for b in bios], dtype=bool)] = 0.0
        files: dict[str, bytes] = {
            "posts.parquet": parquet_bytes(po.drop(columns=["_row"])),
            "post_offsets.npy": npy_bytes(offsets),
            **{name: buf for name, (buf, _) in blobs.items()},  # type: ignore[dict-item]  # a mapped file: bytes-like
        }
        return files, {"encoded": self.encoded, "dim": dim}

    def _dim_hint(self) -> int | None:
        if self.encoder is not None and hasattr(self.encoder, "dim_"):
            return int(self.encoder.dim_)
        model = (self.previous[1].get("model") or {}) if self.previous else {}
        if model.get("id") == self._model_id() and model.get("dim"):
            return int(model["dim"])
        return None

    def _index(self, cr: pd.DataFrame, vecs: np.ndarray) -> tuple[dict[str, bytes], dict[str, Any]]:
        """The index stage over the creators' profile vectors (:func:`focus_and_profiles`)."""
        cfg = self.cfg
        stored = normalize_rows(vecs)  # what VectorIndex.build keeps, so it compares with a built index bit for bit
        ids = cr["creator_id"].astype(str).tolist()
        params = {"exact_max": cfg.index.exact_max, "hnsw_m": cfg.index.hnsw_m, "ef_construction": cfg.index.ef_construction, "ef_search": cfg.index.ef_search}
        kind = "hnsw" if len(ids) > cfg.index.exact_max else "flat"
        plan, vectors_header = self._index_plan(params, kind, ids, stored)
        if plan is not None and plan.action == "reused":
            # Nothing changed: the previous snapshot's index files, as they are (verified bytes).
            sid, manifest = self.previous  # type: ignore[misc]
            blob = self.st.blob_reader(sid, manifest)
            names = [n for n in (INDEX_FILE, VECTORS_FILE, IDS_FILE, META_FILE, DEAD_IDS_FILE) if n in manifest["files"]]
            return {name: blob(name) for name in names}, {"build": "reused"}
        del stored  # gigabytes at a million creators: freed before an index is loaded or built
        if plan is not None and plan.action != "rebuilt":
            prev = self._previous_index(params, vectors_header)
            if prev is not None:
                # New and changed creators go into the previous graph; replaced ones are left in it dead.
                prev.update(vecs, ids, max_dead_fraction=cfg.index.max_dead_fraction, plan=plan)
                return index_files(prev, into=self.ck.scratch("index")), {"build": plan.action, "added": plan.added, "replaced": plan.replaced, "removed": plan.removed, "dead": plan.dead}
        index = VectorIndex(**params).build(vecs, ids)
        del vecs
        return index_files(index, into=self.ck.scratch("index")), {"build": "rebuilt"}

    def _index_plan(
        self, params: Mapping[str, int], kind: str, ids: list[str], stored: np.ndarray
    ) -> tuple[IndexUpdate | None, tuple[tuple[int, ...], np.dtype] | None]:
        """How the previous snapshot's index becomes this run's (:func:`plan_update`), from its ids and
        vectors alone, with the shape and dtype of those checked vectors; ``(None, None)`` when there is
        no usable previous index.

        Loading the index itself (the HNSW graph: gigabytes at a million creators) is only worth it
        when it can be reused or updated; the caller loads it then, without reading the vectors again.
        """
        if self.previous is None:
            return None, None
        sid, manifest = self.previous
        try:
            blob = self.st.blob_reader(sid, manifest)
            meta = json.loads(blob(META_FILE))
            if any(meta.get(k) != v for k, v in params.items()):
                return None, None
            old_ids = read_npy(blob(IDS_FILE))
            old_vectors = read_npy(blob(VECTORS_FILE))  # checked against the manifest as it is read
            plan = plan_update(
                old_ids, old_vectors, ids, stored,
                old_kind=str(meta["kind"]), old_nodes=int(meta.get("nodes", meta["size"])), kind=kind,
                max_dead_fraction=self.cfg.index.max_dead_fraction,
            )
            return plan, (old_vectors.shape, old_vectors.dtype)
        except (StoreError, ValueError, KeyError, TypeError) as exc:
            logger.warning("cannot reuse the index of snapshot %s (%s); rebuilding", sid, exc)
            return None, None

    def _previous_index(self, params: Mapping[str, int], vectors_header: tuple[tuple[int, ...], np.dtype] | None) -> VectorIndex | None:
        if self.previous is None:
            return None
        sid, manifest = self.previous
        try:
            prev = VectorIndex.load(
                self.st.snapshot_source(sid),
                checksums={n: m["sha256"] for n, m in manifest["files"].items()},
                sizes={n: m["bytes"] for n, m in manifest["files"].items()},
                vectors_header=vectors_header,  # _index_plan read and checked that file
            )
        except (StoreError, RuntimeError, ValueError, KeyError) as exc:
            logger.warning("cannot reuse the index of snapshot %s (%s); rebuilding", sid, exc)
            return None
        if any(getattr(prev, k) != v for k, v in params.items()):
            return None
        return prev

    def _signals(
        self, tables: dict[str, pd.DataFrame], focus: pd.DataFrame,
        post_vecs: np.ndarray, offsets: np.ndarray, brand_vecs: np.ndarray, niche_vecs: np.ndarray,
    ) -> tuple[dict[str, bytes], dict[str, Any]]:
        cfg = self.cfg
        previous = self._previous_posts() if len(tables["posts"]) else None
        table, reused = post_signals_reusing(
            tables["posts"], previous, early_chars=cfg.signals.early_chars, unsafe_words=cfg.fit.unsafe_words, safe_phrases=cfg.fit.safe_phrases,
            compute=self.stages.post_signals if self.stages is not None else None,
        )
        # The previous snapshot's posts with their texts (hundreds of MB at a million creators) are
        # not held through the signal parts below, nor inherited by their workers.
        del previous
        creators = tables["creators"]

        # Four parts that need only the tables: the creator signals (and prices, from them), the
        # collaborations, the audience sketch and the niches, each answered as bytes (Parquet, plain
        # files, JSON). Worker processes take them side by side; one process takes them in turn.
        def part(i: int) -> list[bytes]:
            if i == 0:
                sig = compute_signals(creators, tables["posts"], cfg.signals, comments=tables.get("comments"), focus=focus, fit=cfg.fit, post_table=table)
                return [parquet_bytes(sig.reset_index(drop=True)), parquet_bytes(self._prices(creators, sig))]
            if i == 1:
                return [parquet_bytes(self._collaborations(tables, table))]
            if i == 2:
                # Who commented where, as MinHash signatures: the audience overlap between creators.
                audience = AudienceSketch(cfg.audience).fit(tables.get("comments"), tables["posts"])
                return [json.dumps(audience.manifest_field()).encode(), *_packed(audience.to_files())]
            model, columns, brand_niches, niche_info = self._niches(tables, post_vecs, offsets, brand_vecs, niche_vecs)
            return [parquet_bytes(columns), parquet_bytes(brand_niches), json.dumps(niche_info).encode(), *_packed(model.to_files())]

        workers = self._workers(4)
        sig_part, collab_part, audience_part, niche_part = fork_map(part, 4, workers=workers, what="signals part")
        sig = pd.concat([read_parquet_frame(sig_part[0]), read_parquet_frame(niche_part[0]), read_parquet_frame(sig_part[1])], axis=1)
        collaborations = read_parquet_frame(collab_part[0])
        audience_field, audience_files = json.loads(audience_part[0]), _unpacked(audience_part[1:])
        brand_niches, niche_info, model_files = read_parquet_frame(niche_part[1]), json.loads(niche_part[2]), _unpacked(niche_part[3:])
        # The served posts carry their post signals: the reranker reads is_sponsored, and the next
        # run takes the rows of unchanged posts from here instead of matching every pattern again.
        posts = read_parquet_bytes(self.ck.mapped("embed", "posts.parquet"))
        at = pd.Index(tables["posts"]["post_id"].astype(str)).get_indexer(posts["post_id"].astype(str))
        for col in POST_SIGNAL_COLUMNS:
            posts[col] = table[col].to_numpy()[at]
        files = {
            "signals.parquet": parquet_bytes(sig), "posts.parquet": parquet_bytes(posts), BRAND_NICHES_FILE: parquet_bytes(brand_niches),
            COLLABORATIONS_FILE: parquet_bytes(collaborations), **model_files, **audience_files,
        }
        return files, {"post_signals_reused": reused, "niches": niche_info, "collaborations": len(collaborations), AUDIENCE_FIELD: audience_field}

    @staticmethod
    def _collaborations(tables: dict[str, pd.DataFrame], post_table: pd.DataFrame) -> pd.DataFrame:
        """Every creator's past collaborations, from its sponsored posts (:mod:`matcher.collaborations`)."""
        return collection_collaborations(tables["creators"], tables["posts"], post_table, tables["brands"])

    def _prices(self, creators: pd.DataFrame, sig: pd.DataFrame) -> pd.DataFrame:
        """Each creator's per-post price range (:func:`matcher.prices.estimate_prices`), aligned with ``sig``."""
        prices = estimate_prices(price_inputs(creators, sig), config=self.cfg.prices, calibration=self._price_calibration())
        return prices.reset_index(drop=True).loc[:, list(PRICE_COLUMNS)]

    def _niches(
        self, tables: dict[str, pd.DataFrame], post_vecs: np.ndarray, offsets: np.ndarray, brand_vecs: np.ndarray, niche_vecs: np.ndarray
    ) -> tuple[NicheModel, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
        """Fit the niche model (on the labels, if given) and assign every creator (from its posts) and brand."""
        means = post_means(post_vecs, offsets)
        vectors = labels = None
        info: dict[str, Any] = {"taxonomy": f"{self.taxonomy.name} {self.taxonomy.version}", "labels": 0}
        if self.labels is not None:
            at = pd.Index(tables["creators"]["creator_id"].astype(str)).get_indexer(self.labels["creator_id"])
            missing = self.labels.loc[at < 0, "creator_id"].tolist()
            if missing:
                logger.warning(
                    "niche labels: %d of %d rows name creators not in this run (e.g. %s); they are not used",
                    len(missing), len(at), ", ".join(repr(c) for c in missing[:3]),
                )
            vectors, labels = means[at[at >= 0]], self.labels.loc[at >= 0, "niche"].tolist()
            info.update(labels=len(labels), labels_unmatched=len(missing))
        model = NicheModel(self.taxonomy, config=self.cfg.niches).fit(vectors, labels, niche_vectors=niche_vecs)
        ids, conf = model.top(means)
        b_ids, b_conf = model.top(brand_vecs)
        brand_ids = tables["brands"]["brand_id"].astype(str).tolist() if len(tables["brands"]) else []
        rows = [
            (b, j + 1, self.taxonomy.ids[int(n)], float(c))
            for b, row_ids, row_conf in zip(brand_ids, b_ids, b_conf)
            for j, (n, c) in enumerate(zip(row_ids, row_conf))
            if n >= 0
        ]
        brand_niches = pd.DataFrame(rows, columns=["brand_id", "rank", "niche_id", "confidence"]).astype({"brand_id": str, "rank": "int64", "niche_id": str, "confidence": "float32"})
        info.update(
            learned=list(model.classes_),
            temperature=round(model.temperature_, 6),
            creators_with_niche=int((ids[:, 0] >= 0).sum()) if len(ids) else 0,
        )
        return model, niche_columns(model, ids, conf), brand_niches, info

    def _previous_posts(self) -> pd.DataFrame | None:
        """The previous snapshot's posts (id, text, flag and post signals), verified, if a run of the same
        :func:`output_fingerprint` wrote them (the patterns and word lists decide the values); else None."""
        if self.previous is None:
            return None
        sid, manifest = self.previous
        if manifest.get("output_fingerprint") != output_fingerprint(self.cfg, self._model_id()) or "posts.parquet" not in manifest.get("files", {}):
            return None
        want = ["post_id", "text", "sponsored", *POST_SIGNAL_COLUMNS]
        try:
            import pyarrow.parquet as pq

            data = self.st.blob_reader(sid, manifest)("posts.parquet")
            names = set(pq.ParquetFile(io.BytesIO(data)).schema_arrow.names)
            if not {"post_id", *POST_SIGNAL_COLUMNS} <= names:
                return None
            frame = pd.read_parquet(io.BytesIO(data), columns=[c for c in want if c in names])
        except Exception as exc:  # a damaged previous snapshot only costs the reuse
            logger.warning("cannot reuse the post signals of snapshot %s (%s); computing them all", sid, exc)
            return None
        return frame if frame["post_id"].is_unique else None

    def _workers(self, tasks: int) -> int:
        """Processes for ``tasks`` tasks: ``batch.workers`` (0: one per core), at most one per task,
        one where processes cannot be forked."""
        return max(1, min(self.cfg.batch.workers or cores(), tasks)) if can_fork() else 1

    def _rank(self, snap: Snapshot, brand_vecs: np.ndarray) -> tuple[dict[str, bytes], dict[str, Any]]:
        cfg = self.cfg
        # Weights learned by 'matcher train' (kept in the store) replace the configured defaults.
        reranker, weights = load_reranker(self.st.root, cfg)
        brand_records = [Brand.from_record(r) for r in snap.brands.to_dict("records")] if len(snap.brands) else []
        index = None
        if self.stages is not None:
            # The shard actors take the index as its checkpoint files, mapped: each actor checks them
            # against the done marker's checksums before loading, and the driver makes no copy.
            saved = self.ck.files("index")
            files = {name: load_confined(self.ck.path("index"), name, size=f.bytes) for name, f in saved.items()}
            index = self.stages.ranking_index(snap, cfg.index, files=files, checksums={name: f.sha256 for name, f in saved.items()})
            del files

        searched: dict[int, Searched] = {}  # the Ray engine's searches, made here, by brand position

        def rank_chunk(c: int) -> tuple[bytes, bytes, bytes]:
            rows: list[tuple[Any, ...]] = []
            shortlists = []
            lo = c * RANK_CHUNK
            for i, (b, q) in enumerate(zip(brand_records[lo : lo + RANK_CHUNK], brand_vecs[lo : lo + RANK_CHUNK]), start=lo):
                known = [searched[i]] if i in searched else None
                ms = rank_snapshot(
                    snap, q[None, :], cfg.top_k, filters=[b.filters()], reranker=reranker, candidates=cfg.index.candidates, brands=[b], index=index, searched=known,
                )[0]
                rows.extend(match_row(b.brand_id, m) for m in ms)
                if b.budget is not None:
                    # The candidates shortlist() ranks for this brand: its own number of them, not top_k.
                    pool = rank_snapshot(snap, q[None, :], cfg.shortlist.candidates, filters=[b.filters()], reranker=reranker, candidates=cfg.index.candidates, brands=[b])[0]
                    shortlists.append(shortlist_matches(snap, pool, budget=b.budget, config=cfg.shortlist, brand_id=b.brand_id))
            summary, picks = shortlist_frames(shortlists)
            return parquet_bytes(matches_frame(rows)), parquet_bytes(summary), parquet_bytes(picks)

        chunks = -(-len(brand_records) // RANK_CHUNK)
        workers = self._workers(chunks - 1)
        logger.info("ranking %d brands in %d process(es)", len(brand_records), workers)
        with tqdm(total=chunks, desc="ranking brands", unit="chunk", disable=not self.show) as bar:
            # The first chunk here: the look-ups ranking builds on first use (filter and match columns)
            # are then built once, before the workers fork, and shared by all of them.
            answers = [rank_chunk(0)] if chunks else []
            bar.update(len(answers))
            if index is None or workers == 1:
                answers += fork_map(lambda c: rank_chunk(c + 1), chunks - len(answers), workers=workers, what="brand chunk", progress=bar.update)
            else:
                # The Ray engine's searches go to its shard actors, which a forked process cannot reach:
                # they are made here, a block of brands at a time, and the workers rank their answers.
                for first in range(len(answers), chunks, RAY_SEARCH_BLOCK):
                    last = min(chunks, first + RAY_SEARCH_BLOCK)
                    block = range(first * RANK_CHUNK, min(len(brand_records), last * RANK_CHUNK))
                    searched.clear()
                    searched.update(zip(block, query_searches(
                        snap, brand_vecs[block.start : block.stop], cfg.top_k, filters=[brand_records[i].filters() for i in block],
                        reranker=reranker, candidates=cfg.index.candidates, index=index,
                    )))
                    answers += fork_map(lambda c, first=first: rank_chunk(first + c), last - first, workers=workers, what="brand chunk", progress=bar.update)
        # Each chunk's frames are sorted already; joined in brand order and sorted again (stably),
        # they are the frames one process would have made.
        matches = _joined([read_parquet_frame(a[0]) for a in answers], matches_frame([]), ["brand_id", "rank"])
        summary = _joined([read_parquet_frame(a[1]) for a in answers], shortlist_frames([])[0], ["brand_id"])
        picks = _joined([read_parquet_frame(a[2]) for a in answers], shortlist_frames([])[1], ["brand_id", "position"])
        shortlists = len(summary)
        files = {MATCHES_FILE: parquet_bytes(matches), SHORTLISTS_FILE: parquet_bytes(summary), SHORTLIST_PICKS_FILE: parquet_bytes(picks)}
        return files, {"weights": weights, "shortlists": shortlists}
