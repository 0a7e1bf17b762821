"""The embedded store: verified, versioned snapshot directories, an atomic 'current' pointer, and SQLite for matches and runs."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.errors import StoreError
from matcher.index import VectorIndex

__all__ = ["FORMAT_VERSION", "Snapshot", "Store"]

logger = logging.getLogger(__name__)

FORMAT = "matcher.snapshot"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
POINTER = "CURRENT"
DB_FILE = "matcher.sqlite"
MATCH_COLUMNS = ("brand_id", "rank", "creator_id", "score", "topic", "engagement", "trust", "why")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    snapshot_id TEXT,
    details TEXT
);
CREATE TABLE IF NOT EXISTS matches (
    snapshot_id TEXT NOT NULL,
    brand_id TEXT NOT NULL,
    rank INTEGER NOT NULL,
    creator_id TEXT NOT NULL,
    score REAL NOT NULL,
    topic REAL NOT NULL,
    engagement REAL NOT NULL,
    trust REAL NOT NULL,
    why TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, brand_id, rank)
);
"""


@dataclass
class Snapshot:
    """Everything needed to serve matches, held in memory.

    Rows of ``creators``, ``signals`` and the index are aligned. Posts are grouped by creator row:
    the posts of creator row ``i`` are ``posts[post_offsets[i]:post_offsets[i + 1]]``, aligned
    with ``post_vectors``.
    """

    snapshot_id: str
    creators: pd.DataFrame
    signals: pd.DataFrame
    posts: pd.DataFrame
    post_vectors: np.ndarray
    post_offsets: np.ndarray
    index: VectorIndex
    brands: pd.DataFrame
    manifest: dict[str, Any]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


class Store:
    """A directory holding snapshots, the pointer to the published one, and ``matcher.sqlite``.

    Layout::

        STORE/CURRENT                    name of the published snapshot (swapped atomically)
        STORE/snapshots/<id>/            one complete snapshot: manifest.json + plain files
        STORE/matcher.sqlite             matches per snapshot, run history (WAL mode)
        STORE/cache/embeddings.sqlite    embedding cache keyed by content hash
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- paths ------------------------------------------------------------------------------
    @property
    def snapshots_dir(self) -> Path:
        """Directory of snapshot directories."""
        return self.root / "snapshots"

    @property
    def cache_path(self) -> Path:
        """Path of the embedding cache."""
        return self.root / "cache" / "embeddings.sqlite"

    def connect(self) -> sqlite3.Connection:
        """Open the store database (created on first use), in WAL mode so readers never block."""
        self.root.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.root / DB_FILE, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
        return db

    # -- writing ----------------------------------------------------------------------------
    def write_snapshot(self, snap: Snapshot, *, extra_files: Mapping[str, bytes] | None = None, meta: Mapping[str, Any] | None = None) -> Path:
        """Write ``snap`` as a complete snapshot directory (not yet published). Returns its path.

        Every file is written to a temporary directory, fsynced, listed in the manifest with its
        sha256 and size, and the directory is renamed into place last.
        """
        self.snapshots_dir.mkdir(parents=True, exist_ok=True)
        final = self.snapshots_dir / snap.snapshot_id
        tmp = self.snapshots_dir / f".tmp-{snap.snapshot_id}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        try:
            index_files = snap.index.save(tmp)
            files: dict[str, bytes] = {
                "creators.parquet": _parquet_bytes(snap.creators),
                "signals.parquet": _parquet_bytes(snap.signals),
                "posts.parquet": _parquet_bytes(snap.posts),
                "brands.parquet": _parquet_bytes(snap.brands),
                "post_vectors.npy": _npy_bytes(np.ascontiguousarray(snap.post_vectors, dtype=np.float32)),
                "post_offsets.npy": _npy_bytes(np.asarray(snap.post_offsets, dtype=np.int64)),
            }
            files.update(extra_files or {})
            for name, data in files.items():
                _write_bytes(tmp / name, data)
            listing: dict[str, dict[str, Any]] = {}
            for name in sorted(list(files) + index_files):
                data = (tmp / name).read_bytes()
                if name in index_files:  # written by FAISS/numpy directly: make them durable too
                    _write_bytes(tmp / name, data)
                listing[name] = {"sha256": _sha256(data), "bytes": len(data)}
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "snapshot_id": snap.snapshot_id,
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "counts": {"creators": len(snap.creators), "posts": len(snap.posts), "brands": len(snap.brands)},
                "index": {"kind": snap.index.kind_, "size": snap.index.size, "dim": snap.index.dim},
                **dict(meta or {}),
                "files": listing,
            }
            _write_bytes(tmp / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
            _fsync_dir(tmp)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
            _fsync_dir(self.snapshots_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        snap.manifest = manifest
        return final

    def write_matches(self, snapshot_id: str, rows: Iterable[tuple[Any, ...]]) -> int:
        """Store match rows (in :data:`MATCH_COLUMNS` order) for ``snapshot_id``; returns the count."""
        rows = list(rows)
        with self.connect() as db:
            db.execute("DELETE FROM matches WHERE snapshot_id = ?", (snapshot_id,))
            db.executemany(
                f"INSERT INTO matches (snapshot_id, {', '.join(MATCH_COLUMNS)}) VALUES (?, {', '.join('?' * len(MATCH_COLUMNS))})",
                [(snapshot_id, *r) for r in rows],
            )
        return len(rows)

    def publish(self, snapshot_id: str) -> None:
        """Make ``snapshot_id`` the one readers see, by an atomic rename of the pointer file.

        Raises:
            StoreError: the snapshot does not exist or fails verification.
        """
        self.read_manifest(snapshot_id)  # never point readers at something that does not verify
        tmp = self.root / f".{POINTER}.tmp"
        _write_bytes(tmp, (snapshot_id + "\n").encode())
        os.replace(tmp, self.root / POINTER)
        _fsync_dir(self.root)
        logger.info("published snapshot %s", snapshot_id)

    # -- reading ----------------------------------------------------------------------------
    def current_id(self) -> str:
        """The published snapshot's id.

        Raises:
            StoreError: nothing has been published in this store.
        """
        try:
            value = (self.root / POINTER).read_text().strip()
        except FileNotFoundError:
            raise StoreError(
                f"{self.root}: no published snapshot; run 'matcher batch --store {self.root} ...' first"
            ) from None
        if not value or "/" in value or value.startswith("."):
            raise StoreError(f"{self.root / POINTER}: does not name a snapshot; run 'matcher batch' again")
        return value

    def read_manifest(self, snapshot_id: str) -> dict[str, Any]:
        """Read and check a snapshot's manifest (format and version first).

        Raises:
            StoreError: missing, unreadable, or written by an incompatible version.
        """
        path = self.snapshots_dir / snapshot_id / MANIFEST
        try:
            manifest = json.loads(path.read_text())
        except FileNotFoundError:
            raise StoreError(f"{path}: snapshot manifest missing; run 'matcher batch' again") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StoreError(f"{path}: manifest is not valid JSON ({exc}); run 'matcher batch' again") from None
        if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            raise StoreError(
                f"{path}: format {manifest.get('format')!r} version {manifest.get('format_version')!r}; this matcher "
                f"reads {FORMAT!r} version {FORMAT_VERSION}: rebuild the store with 'matcher batch'"
            )
        return manifest

    def load(self, snapshot_id: str | None = None) -> Snapshot:
        """Load and verify a snapshot (the published one by default).

        Every file's sha256 is checked against the manifest before it is parsed; no pickle is
        ever read (``.npy`` with ``allow_pickle=False``, Parquet, JSON, FAISS).

        Raises:
            StoreError: nothing published, or a file is missing, altered or truncated.
        """
        sid = snapshot_id or self.current_id()
        manifest = self.read_manifest(sid)
        d = self.snapshots_dir / sid
        sums = {name: meta["sha256"] for name, meta in manifest["files"].items()}

        def blob(name: str) -> bytes:
            try:
                data = (d / name).read_bytes()
            except FileNotFoundError:
                raise StoreError(f"{d / name}: missing from snapshot {sid}; run 'matcher batch' again") from None
            if name not in sums or _sha256(data) != sums[name]:
                raise StoreError(f"{d / name}: checksum differs from the manifest (corrupt or altered); run 'matcher batch' again")
            return data

        def npy(name: str) -> np.ndarray:
            return np.load(io.BytesIO(blob(name)), allow_pickle=False)

        def parquet(name: str) -> pd.DataFrame:
            return pd.read_parquet(io.BytesIO(blob(name)))

        index = VectorIndex.load(d, checksums=sums)
        snap = Snapshot(
            snapshot_id=sid,
            creators=parquet("creators.parquet"),
            signals=parquet("signals.parquet"),
            posts=parquet("posts.parquet"),
            post_vectors=npy("post_vectors.npy"),
            post_offsets=npy("post_offsets.npy"),
            index=index,
            brands=parquet("brands.parquet"),
            manifest=manifest,
        )
        if len(snap.creators) != index.size or len(snap.post_offsets) != len(snap.creators) + 1:
            raise StoreError(f"{d}: creators, index and posts disagree in size; run 'matcher batch' again")
        return snap

    def read_matches(self, snapshot_id: str | None = None, *, brand_id: str | None = None) -> pd.DataFrame:
        """Stored matches of a snapshot (the published one by default), ordered by brand and rank."""
        sid = snapshot_id or self.current_id()
        query = f"SELECT {', '.join(MATCH_COLUMNS)} FROM matches WHERE snapshot_id = ?"
        params: list[Any] = [sid]
        if brand_id is not None:
            query += " AND brand_id = ?"
            params.append(brand_id)
        with self.connect() as db:
            rows = db.execute(query + " ORDER BY brand_id, rank", params).fetchall()
        return pd.DataFrame(rows, columns=list(MATCH_COLUMNS))

    # -- run history ------------------------------------------------------------------------
    def record_run(self, run_id: str, *, status: str, started_at: str, finished_at: str | None = None, snapshot_id: str | None = None, details: Mapping[str, Any] | None = None) -> None:
        """Insert or update a row of the run history."""
        with self.connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs (run_id, started_at, finished_at, status, snapshot_id, details) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, started_at, finished_at, status, snapshot_id, json.dumps(dict(details or {}), sort_keys=True, default=str)),
            )
