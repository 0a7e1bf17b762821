"""The embedded store: verified, versioned snapshot directories, an atomic 'current' pointer and
rollback, the lock, and SQLite for run history and the suppression list.

Durable writes and crash hooks are in :mod:`matcher.store.durable`, file bytes in
:mod:`matcher.store.formats`, the in-memory snapshot in :mod:`matcher.store.snapshot`, a run's
checkpoints in :mod:`matcher.store.checkpoints`.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from matcher.audience import CREATORS_FILE as AUDIENCE_CREATORS
from matcher.audience import MANIFEST_FIELD as AUDIENCE_FIELD
from matcher.audience import SIGNATURES_FILE as AUDIENCE_SIGNATURES
from matcher.audience import AudienceSketch
from matcher.errors import StoreError
from matcher.files import check_name, read_confined, sha256_confined
from matcher.index import IDS_FILE, INDEX_FILE, META_FILE, VECTORS_FILE, VectorIndex
from matcher.niches import MODEL_FILE as NICHE_MODEL_FILE
from matcher.niches import NicheModel
from matcher.prices import creator_plan
from matcher.store.checkpoints import Checkpoints
from matcher.store.durable import TMP_PREFIX, atomic_write, crash_point, fsync_dir, sha256, sha256_file, write_durable
from matcher.store.formats import read_parquet_bytes
from matcher.store.snapshot import (
    BRAND_NICHES_FILE,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MATCH_COLUMNS,
    MATCHES_FILE,
    SHORTLIST_PICKS_FILE,
    SHORTLISTS_FILE,
    Snapshot,
    order_key,
    snapshot_files,
)

__all__ = [
    "POINTER",
    "PUBLISHED_FILE",
    "LOCK_FILE",
    "DB_FILE",
    "MAX_MANIFEST_BYTES",
    "MAX_POINTER_BYTES",
    "Store",
    "StoreBusyError",
    "StoreWriteError",
]

logger = logging.getLogger(__name__)

POINTER = "CURRENT"
PUBLISHED_FILE = "published.json"
LOCK_FILE = "batch.lock"
DB_FILE = "matcher.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    snapshot_id TEXT,
    details TEXT
);
CREATE TABLE IF NOT EXISTS suppressed (
    key TEXT PRIMARY KEY,
    added_at TEXT NOT NULL
);
"""

# The manifest and the small store-level files are JSON of a few kB; a larger one is not ours.
MAX_MANIFEST_BYTES = 64 << 20
MAX_POINTER_BYTES = 4096

T = TypeVar("T")


class StoreBusyError(StoreError):
    """Another process holds the store's lock (a batch, forget or rollback is running)."""


class StoreWriteError(StoreError):
    """Writing to the store failed (disk full, permissions, I/O error); nothing was published."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# How long taking the lock waits for a reader's probe (:meth:`Store.locked`) to let go: a probe
# holds it for microseconds, a run for minutes.
_LOCK_PATIENCE_S = 0.5


def _flock_soon(fd: int) -> None:
    """Take the exclusive lock, retrying briefly; raises BlockingIOError if another process keeps it."""
    deadline = time.monotonic() + _LOCK_PATIENCE_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


class Store:
    """A directory holding snapshots, the pointer to the published one, checkpoints and ``matcher.sqlite``.

    Layout::

        STORE/CURRENT                    id of the published snapshot (swapped atomically)
        STORE/published.json             ids of the retained snapshots that passed audit and were published
        STORE/snapshots/<id>/            one complete snapshot: manifest.json + plain files (never changed
                                         after it is written; erasure writes a new revision <id>-r<n>)
        STORE/work/<key>/                checkpoints of an unfinished batch run
        STORE/batch.lock                 held (flock) while a batch, forget or rollback runs
        STORE/matcher.sqlite             run history, suppression list (WAL mode)
        STORE/cache/embeddings.sqlite    embedding cache keyed by content hash
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._matches_cache: dict[str, tuple[tuple[int, int], pd.DataFrame]] = {}

    # -- paths ------------------------------------------------------------------------------
    @property
    def snapshots_dir(self) -> Path:
        """Directory of snapshot directories."""
        return self.root / "snapshots"

    @property
    def cache_path(self) -> Path:
        """Path of the embedding cache."""
        return self.root / "cache" / "embeddings.sqlite"

    @property
    def work_dir(self) -> Path:
        """Directory of checkpoints of unfinished runs."""
        return self.root / "work"

    def connect(self) -> sqlite3.Connection:
        """Open the store database (created on first use), in WAL mode so readers never block."""
        self.root.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.root / DB_FILE, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
        return db

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = self.connect()
        try:
            with db:
                yield db
        finally:
            db.close()

    # -- lock -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, purpose: str = "batch") -> Iterator[None]:
        """Hold the store's exclusive lock (``flock``) for the block; released even if the process dies.

        Raises:
            StoreBusyError: another process holds it; the message names that process.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreWriteError(f"{self.root / LOCK_FILE}: cannot open the store's lock file ({exc.strerror or exc}); check that {self.root} is a writable directory") from None
        try:
            try:
                _flock_soon(fd)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
                raise StoreBusyError(
                    f"{self.root}: the store is locked by {holder}; batch runs never overlap. Wait for it to "
                    f"finish (or stop that process), then run again"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"'{purpose}' (pid {os.getpid()}, since {_now()})\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def locked(self) -> bool:
        """True while some process holds the store's lock (a batch, forget or rollback is running).

        Probes with a shared lock taken and released at once; :meth:`lock` waits out such a probe.
        """
        try:
            fd = os.open(self.root / LOCK_FILE, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # releases the probe's lock, if it was taken
        return False

    def clean_temporaries(self) -> int:
        """Remove temporaries left by a killed process (call with the lock held). Returns how many."""
        removed = 0
        parents = [self.root, self.snapshots_dir]
        if self.work_dir.is_dir():
            parents += [self.work_dir, *(p for p in self.work_dir.rglob("*") if p.is_dir())]
        for parent in parents:
            if not parent.is_dir():
                continue
            for p in list(parent.iterdir()):
                if not p.name.startswith(TMP_PREFIX):
                    continue
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
                removed += 1
        if removed:
            logger.info("removed %d temporary file(s) left by an interrupted run", removed)
        return removed

    # -- writing ----------------------------------------------------------------------------
    def write_snapshot_files(self, snapshot_id: str, files: Mapping[str, bytes | Path], *, fields: Mapping[str, Any] | None = None) -> Path:
        """Write a complete snapshot directory (not yet published). Returns its path.

        Files are given as bytes, or as paths of already durable files (checkpoints), which are
        hard-linked when possible. Everything goes to a temporary directory, is fsynced and listed in
        the manifest with its sha256 and size; the directory is renamed into place last.

        Raises:
            OSError: a write, link or fsync failed (the temporary directory is removed).
        """
        self.snapshots_dir.mkdir(parents=True, exist_ok=True)
        final = self.snapshots_dir / snapshot_id
        tmp = self.snapshots_dir / (TMP_PREFIX + snapshot_id)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        try:
            listing: dict[str, dict[str, Any]] = {}
            for name in sorted(files):
                src = files[name]
                if isinstance(src, Path):
                    try:
                        os.link(src, tmp / name)
                    except OSError:
                        write_durable(tmp / name, src.read_bytes())
                    listing[name] = {"sha256": sha256_file(tmp / name), "bytes": (tmp / name).stat().st_size}
                else:
                    write_durable(tmp / name, src)
                    listing[name] = {"sha256": sha256(src), "bytes": len(src)}
            crash_point("snapshot-files")
            manifest = {
                **dict(fields or {}),
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "snapshot_id": snapshot_id,
                "created_at": _now(),
                "files": listing,
            }
            write_durable(tmp / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str).encode())
            fsync_dir(tmp)
            if final.exists():
                self._remove_snapshot_dir(final)
            os.replace(tmp, final)
            fsync_dir(self.snapshots_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        crash_point("snapshot-renamed")
        return final

    def write_snapshot(self, snap: Snapshot, *, extra_files: Mapping[str, bytes] | None = None, meta: Mapping[str, Any] | None = None) -> Path:
        """Write an in-memory snapshot (plus ``extra_files``, e.g. ``matches.parquet``) as a snapshot directory."""
        files: dict[str, bytes | Path] = {**snapshot_files(snap), **dict(extra_files or {})}
        fields = {
            "counts": {"creators": len(snap.creators), "posts": len(snap.posts), "brands": len(snap.brands)},
            "index": {"kind": snap.index.kind_, "size": snap.index.size, "dim": snap.index.dim},
            **({AUDIENCE_FIELD: snap.audience.manifest_field()} if snap.audience is not None else {}),
            **dict(meta or {}),
        }
        path = self.write_snapshot_files(snap.snapshot_id, files, fields=fields)
        snap.manifest = self.read_manifest(snap.snapshot_id)
        return path

    def _read_published(self) -> list[str]:
        try:
            data = json.loads(read_confined(self.root, PUBLISHED_FILE, size=None, max_bytes=MAX_MANIFEST_BYTES))
            return [str(x) for x in data["snapshots"]]
        except (FileNotFoundError, StoreError) as exc:
            if (self.root / PUBLISHED_FILE).exists() or (self.root / PUBLISHED_FILE).is_symlink():
                logger.warning("%s cannot be read (%s); treating only the current snapshot as published", self.root / PUBLISHED_FILE, exc)
            # A store written before the list existed: its published snapshot is the only one known good.
            cur = self.current_or_none()
            return [cur] if cur else []
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("%s is unreadable (%s); treating only the current snapshot as published", self.root / PUBLISHED_FILE, exc)
            cur = self.current_or_none()
            return [cur] if cur else []

    def _write_published(self, ids: Iterable[str]) -> None:
        keep = sorted({i for i in ids if (self.snapshots_dir / i / MANIFEST).exists()}, key=order_key)
        atomic_write(self.root / PUBLISHED_FILE, json.dumps({"format": "matcher.published", "snapshots": keep}, indent=1).encode())

    def published_ids(self) -> list[str]:
        """Ids of the retained snapshots that passed audit and were published, oldest first."""
        return sorted({i for i in self._read_published() if (self.snapshots_dir / i / MANIFEST).exists()}, key=order_key)

    def snapshot_ids(self) -> list[str]:
        """Ids of every complete snapshot directory (published or not), oldest first."""
        if not self.snapshots_dir.is_dir():
            return []
        return sorted((p.name for p in self.snapshots_dir.iterdir() if not p.name.startswith(".") and (p / MANIFEST).exists()), key=order_key)

    def publish(self, snapshot_id: str, *, replaces: str | None = None) -> None:
        """Make ``snapshot_id`` the one readers see: verify it, list it as published, swap the pointer.

        The pointer is replaced by an atomic rename and its directory fsynced; if that fsync fails the
        previous pointer is put back, so a failed publish leaves the previous snapshot published.

        Args:
            replaces: a published id that ``snapshot_id`` supersedes (an erasure revision).

        Raises:
            StoreError: the snapshot does not exist or fails verification.
            OSError: the list or the pointer could not be written.
        """
        self.verify(snapshot_id)  # never point readers at something that does not verify
        previous = self.current_or_none()
        ids = [i for i in self.published_ids() if i != replaces] + [snapshot_id]
        self._write_published(ids)
        crash_point("published-list")
        self._swap_pointer(snapshot_id, previous)
        logger.info("published snapshot %s", snapshot_id)

    def _swap_pointer(self, snapshot_id: str, previous: str | None) -> None:
        tmp = self.root / (TMP_PREFIX + POINTER)
        try:
            write_durable(tmp, (snapshot_id + "\n").encode())
            crash_point("pointer-written")
            os.replace(tmp, self.root / POINTER)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        crash_point("pointer-swapped")
        try:
            fsync_dir(self.root)
        except OSError:
            # The new pointer is visible but may not survive a power cut: put the old one back so that
            # a run reporting failure has published nothing.
            try:
                if previous is None:
                    (self.root / POINTER).unlink(missing_ok=True)
                else:
                    atomic_write(self.root / POINTER, (previous + "\n").encode())
            except OSError as exc:
                logger.error("could not restore the pointer to snapshot %s (%s); check %s", previous, exc, self.root / POINTER)
            raise

    def replace_published(self, old: str, new: str) -> None:
        """List ``new`` as published in place of ``old`` (used when erasure rewrites a snapshot)."""
        self._write_published([i for i in self.published_ids() if i != old] + [new])

    def prune(self, keep: int) -> list[str]:
        """Delete snapshot directories beyond the newest ``keep`` published ones (the current one always stays).

        Unpublished leftovers (from failed or interrupted runs) are deleted too. Call with the lock held.
        Returns the ids removed.
        """
        if not self.snapshots_dir.is_dir():
            return []
        current = self.current_or_none()
        kept = set(self.published_ids()[-keep:]) | ({current} if current else set())
        removed = []
        for p in sorted(self.snapshots_dir.iterdir()):
            if p.name in kept or p.name.startswith(".") or not p.is_dir():
                continue
            self._remove_snapshot_dir(p)
            removed.append(p.name)
        if removed:
            logger.info("removed %d old snapshot(s), keeping the newest %d", len(removed), keep)
        return removed

    def remove_snapshot(self, snapshot_id: str) -> None:
        """Delete a snapshot's directory (whether or not it verifies); the caller holds the lock and
        has made sure nothing published points at it."""
        check_name(snapshot_id, self.snapshots_dir)
        self._remove_snapshot_dir(self.snapshots_dir / snapshot_id)

    def _remove_snapshot_dir(self, path: Path) -> None:
        # The manifest goes first, so a half-removed directory can never pass for a snapshot.
        (path / MANIFEST).unlink(missing_ok=True)
        shutil.rmtree(path, ignore_errors=True)

    def rollback(self, to: str | None = None) -> tuple[str, str]:
        """Publish an earlier retained snapshot again, without recomputing anything.

        Args:
            to: the snapshot id to return to; default: the newest published one older than the current one
                that verifies.

        Returns:
            ``(previous_id, new_id)``.

        Raises:
            StoreError: nothing is published, ``to`` is not a retained published snapshot, it fails
                verification, or no earlier snapshot exists.
            StoreBusyError: a batch run holds the lock.
        """
        with self.lock("rollback"):
            current = self.current_id()
            published = self.published_ids()
            if to is None:
                target = None
                for sid in self._older(current, published):
                    try:
                        self.verify(sid)
                    except StoreError as exc:
                        logger.warning("skipping snapshot %s: %s", sid, exc)
                        continue
                    target = sid
                    break
                if target is None:
                    raise StoreError(f"{self.root}: no earlier snapshot to roll back to (retained: {', '.join(published) or 'none'})")
            else:
                if to not in published:
                    raise StoreError(
                        f"{self.root}: '{to}' is not a retained published snapshot; choose one of: {', '.join(published) or 'none'} "
                        "('matcher runs' shows which run made each)"
                    )
                self.verify(to)
                target = to
            if target != current:
                self._swap_pointer(target, current)
        logger.info("rolled back from snapshot %s to %s", current, target)
        self.record_run(f"rollback-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}", status="rollback", started_at=_now(), finished_at=_now(), snapshot_id=target, details={"from": current, "to": target})
        return current, target

    # -- reading ----------------------------------------------------------------------------
    def current_id(self) -> str:
        """The published snapshot's id.

        Raises:
            StoreError: nothing has been published in this store.
        """
        try:
            if not (self.root / POINTER).exists() and not (self.root / POINTER).is_symlink():
                raise FileNotFoundError(self.root / POINTER)
            value = read_confined(self.root, POINTER, size=None, max_bytes=MAX_POINTER_BYTES).decode("utf-8", "replace").strip()
        except FileNotFoundError:
            raise StoreError(
                f"{self.root}: no published snapshot; run 'matcher batch --store {self.root} ...' first"
            ) from None
        if not value or "/" in value or "\\" in value or "\x00" in value or value.startswith("."):
            raise StoreError(f"{self.root / POINTER}: does not name a snapshot; run 'matcher batch' again")
        return value

    def current_or_none(self) -> str | None:
        """The published snapshot's id, or None when nothing is published (or the pointer is unreadable)."""
        try:
            return self.current_id()
        except StoreError:
            return None

    def read_manifest(self, snapshot_id: str) -> dict[str, Any]:
        """Read and check a snapshot's manifest (format and version first).

        Raises:
            StoreError: missing, unreadable, or written by an incompatible version.
        """
        check_name(snapshot_id, self.snapshots_dir)
        path = self.snapshots_dir / snapshot_id / MANIFEST
        try:
            if not path.exists() and not path.is_symlink():
                raise FileNotFoundError(path)
            manifest = json.loads(read_confined(path.parent, MANIFEST, size=None, max_bytes=MAX_MANIFEST_BYTES))
        except FileNotFoundError:
            raise StoreError(f"{path}: snapshot manifest missing; run 'matcher batch' again") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StoreError(f"{path}: manifest is not valid JSON ({exc}); run 'matcher batch' again") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            got = manifest if not isinstance(manifest, dict) else manifest.get("format_version")
            raise StoreError(
                f"{path}: format version {got!r}; this matcher reads {FORMAT!r} version {FORMAT_VERSION}: "
                "rebuild the store with 'matcher batch'"
            )
        if not isinstance(manifest.get("files"), dict):
            raise StoreError(f"{path}: manifest lists no files; run 'matcher batch' again")
        # Every name is a plain file of the snapshot directory, with a stated size and checksum,
        # before anything it names is opened.
        for name, meta in manifest["files"].items():
            check_name(name, path.parent)
            if name == MANIFEST or not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str) or isinstance(meta.get("bytes"), bool) or not isinstance(meta.get("bytes"), int) or meta["bytes"] < 0:
                raise StoreError(f"{path}: the entry for {name!r} has no valid size and sha256; run 'matcher batch' again")
        return manifest

    def verify(self, snapshot_id: str) -> dict[str, Any]:
        """Check that every file of a snapshot is present with the manifest's size and sha256. Returns the manifest.

        Raises:
            StoreError: the manifest is bad, or a file is missing, truncated or altered.
        """
        manifest = self.read_manifest(snapshot_id)
        d = self.snapshots_dir / snapshot_id
        for name, meta in manifest["files"].items():
            path = d / name
            if not path.exists() and not path.is_symlink():
                raise StoreError(f"{path}: missing from snapshot {snapshot_id}; run 'matcher batch' again or 'matcher rollback'")
            if sha256_confined(d, name, size=meta["bytes"]) != meta["sha256"]:
                raise StoreError(f"{path}: checksum differs from the manifest (corrupt, truncated or altered); run 'matcher batch' again or 'matcher rollback'")
        return manifest

    def _older(self, current: str, published: list[str] | None = None) -> list[str]:
        published = self.published_ids() if published is None else published
        return sorted((i for i in published if order_key(i) < order_key(current)), key=order_key, reverse=True)

    def _first_good(self, read: Callable[[str], T]) -> tuple[str, T]:
        """``read`` the published snapshot, or else the newest earlier one that reads, with a warning."""
        current = self.current_id()
        try:
            return current, read(current)
        except StoreError as exc:
            first = exc
        logger.warning("published snapshot %s cannot be served: %s", current, first)
        for sid in self._older(current):
            try:
                value = read(sid)
            except StoreError as exc:
                logger.warning("earlier snapshot %s cannot be served either: %s", sid, exc)
                continue
            logger.warning(
                "serving the earlier snapshot %s instead of %s; run 'matcher batch' to publish a good one, "
                "or 'matcher rollback' to make this one current", sid, current,
            )
            return sid, value
        raise StoreError(f"{first}; no earlier snapshot verifies either") from None

    def resolve(self) -> str:
        """Id of the snapshot readers are served (see :meth:`served`).

        Raises:
            StoreError: nothing published, or no retained snapshot can be served.
        """
        return self.served().snapshot_id

    def served(self) -> Snapshot:
        """The snapshot every reader serves: the published one if it loads, else the newest earlier one that does.

        This is the one decision of what is served: ``recommend()``, the HTTP service, ``matcher
        export``, ``matcher matches``, ``read_matches()`` and ``evaluate_store`` all take it from
        here. A snapshot is good when every file matches its checksum *and* parses (the ``.npy``
        arrays as plain arrays, the Parquet tables, the FAISS index, sizes that agree); a published
        snapshot that fails either test is skipped with a warning. ``served_for`` names the
        published id.

        Raises:
            StoreError: nothing published, or no retained snapshot can be served.
        """
        current = self.current_id()
        _, snap = self._first_good(self._load)
        snap.served_for = current
        return snap

    def load(self, snapshot_id: str | None = None) -> Snapshot:
        """Load and verify a snapshot.

        Without ``snapshot_id``: the published snapshot, or, if it fails verification, the newest earlier
        published one that passes (with a warning); ``served_for`` then names the published id. With
        ``snapshot_id``: exactly that snapshot. Every file's sha256 is checked against the manifest
        before it is parsed; no pickle is ever read (``.npy`` with ``allow_pickle=False``, Parquet, JSON,
        FAISS from the verified bytes).

        Raises:
            StoreError: nothing published, or the snapshot (and every fallback) is missing, altered or truncated.
        """
        if snapshot_id is not None:
            return self._load(snapshot_id)
        return self.served()

    def blob_reader(self, sid: str, manifest: Mapping[str, Any]) -> Callable[[str], bytes]:
        """A function giving the bytes of one of snapshot ``sid``'s files, read inside the snapshot
        and checked against ``manifest`` (its checksum and size).

        The function raises :class:`StoreError` when the file is not in the manifest or its bytes differ.
        """
        d = self.snapshots_dir / sid
        sums = {name: meta["sha256"] for name, meta in manifest["files"].items()}
        sizes = {name: meta["bytes"] for name, meta in manifest["files"].items()}

        def blob(name: str) -> bytes:
            if name not in sums:
                raise StoreError(f"{d / name}: not listed in the manifest of snapshot {sid}; run 'matcher batch' again")
            data = read_confined(d, name, size=sizes[name])
            if sha256(data) != sums[name]:
                raise StoreError(f"{d / name}: checksum differs from the manifest (corrupt or altered); run 'matcher batch' again or 'matcher rollback'")
            return data

        return blob

    def _load(self, sid: str) -> Snapshot:
        manifest = self.read_manifest(sid)
        d = self.snapshots_dir / sid
        blob = self.blob_reader(sid, manifest)
        sums = {name: meta["sha256"] for name, meta in manifest["files"].items()}
        sizes = {name: meta["bytes"] for name, meta in manifest["files"].items()}

        def npy(name: str) -> np.ndarray:
            try:
                return np.load(io.BytesIO(blob(name)), allow_pickle=False)
            except ValueError as exc:
                raise StoreError(f"{d / name}: not a plain .npy array ({exc}); run 'matcher batch' again") from None

        def parquet(name: str) -> pd.DataFrame:
            data = blob(name)
            try:
                return read_parquet_bytes(data)
            except Exception as exc:  # pyarrow raises several types for a malformed file
                raise StoreError(f"{d / name}: not a readable Parquet file ({type(exc).__name__}); run 'matcher batch' again") from None

        for name in manifest["files"]:
            if not (d / name).exists() and not (d / name).is_symlink():
                raise StoreError(f"{d / name}: missing from snapshot {sid}; run 'matcher batch' again or 'matcher rollback'")
        index_files_names = {INDEX_FILE, VECTORS_FILE, IDS_FILE, META_FILE}
        try:
            index = VectorIndex.load(d, checksums=sums, sizes=sizes)
        except (RuntimeError, ValueError, KeyError) as exc:
            raise StoreError(f"{d}: the index cannot be read ({exc}); run 'matcher batch' again") from None
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
            niche_model=NicheModel.from_files(blob, where=str(d)) if NICHE_MODEL_FILE in manifest["files"] else None,
            brand_niches=parquet(BRAND_NICHES_FILE) if BRAND_NICHES_FILE in manifest["files"] else None,
            audience=AudienceSketch.from_files(blob, manifest.get(AUDIENCE_FIELD) or {}, where=str(d)) if AUDIENCE_SIGNATURES in manifest["files"] else None,
        )
        if len(snap.creators) != index.size or len(snap.post_offsets) != len(snap.creators) + 1:
            raise StoreError(f"{d}: creators, index and posts disagree in size; run 'matcher batch' again")
        # The files not parsed here (matches, quarantine, config) are checked too, so that every
        # reader agrees on whether a snapshot is good.
        parsed = {"creators.parquet", "signals.parquet", "posts.parquet", "post_vectors.npy", "post_offsets.npy", "brands.parquet", BRAND_NICHES_FILE, *index_files_names}
        if snap.audience is not None:
            parsed |= {AUDIENCE_SIGNATURES, AUDIENCE_CREATORS}
        for name in manifest["files"]:
            if name not in parsed:
                blob(name)
        return snap

    def _matches(self, sid: str, *, full_check: bool = False) -> pd.DataFrame:
        manifest_path = self.snapshots_dir / sid / MANIFEST
        try:
            st = manifest_path.stat()
        except FileNotFoundError:
            raise StoreError(f"{manifest_path}: snapshot manifest missing; run 'matcher batch' again") from None
        stamp = (st.st_ino, st.st_mtime_ns)
        cached = self._matches_cache.get(sid)
        if cached is not None and cached[0] == stamp and not full_check:
            return cached[1]
        manifest = self.verify(sid) if full_check else self.read_manifest(sid)
        if MATCHES_FILE not in manifest["files"]:
            raise StoreError(f"{self.snapshots_dir / sid}: snapshot has no stored matches; run 'matcher batch' again")
        frame = read_parquet_bytes(self.blob_reader(sid, manifest)(MATCHES_FILE))
        if "weak" not in frame.columns:  # written before the relevance floor existed
            frame.insert(list(MATCH_COLUMNS).index("weak"), "weak", False)
        if len(self._matches_cache) >= 4:
            self._matches_cache.pop(next(iter(self._matches_cache)))
        self._matches_cache[sid] = (stamp, frame)
        return frame

    def creator_plan(self, snapshot_id: str) -> pd.DataFrame:
        """Each creator's price range and trust confidence (:func:`matcher.prices.creator_plan`) from
        snapshot ``snapshot_id``'s per-creator table, checked against its manifest."""
        import pyarrow.parquet as pq

        manifest = self.read_manifest(snapshot_id)
        data = self.blob_reader(snapshot_id, manifest)("signals.parquet")
        try:
            names = set(pq.ParquetFile(io.BytesIO(data)).schema_arrow.names)
            wanted = ["creator_id", "price_low", "price_high", "price_basis", "trust_confidence", "n_posts", "comments_seen", "history_days"]
            frame = pd.read_parquet(io.BytesIO(data), columns=[c for c in wanted if c in names])
        except Exception as exc:  # pyarrow raises several types for a malformed file
            raise StoreError(f"{self.snapshots_dir / snapshot_id / 'signals.parquet'}: not a readable Parquet file ({type(exc).__name__}); run 'matcher batch' again") from None
        return creator_plan(frame)

    def read_matches(self, snapshot_id: str | None = None, *, brand_id: str | None = None) -> pd.DataFrame:
        """Stored matches of a snapshot, ordered by brand and rank.

        Without ``snapshot_id``: those of the snapshot readers are served (:meth:`served`).
        With it: that snapshot's ``matches.parquet``, checked against its manifest.

        Raises:
            StoreError: nothing published, or the matches fail verification.
        """
        frame = self._matches(self.resolve() if snapshot_id is None else snapshot_id)
        if brand_id is not None:
            return frame[frame["brand_id"] == brand_id].reset_index(drop=True)
        return frame.copy()

    # -- run history ------------------------------------------------------------------------
    def read_shortlists(self, snapshot_id: str | None = None, *, brand_id: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The nightly batch's shortlists: one row per brand with a budget, and one row per pick
        (:func:`~matcher.store.snapshot.shortlist_frames`), each checked against the manifest.

        Raises:
            StoreError: nothing published, the snapshot has no shortlists (written before they
                existed), or a file fails verification.
        """
        sid = self.resolve() if snapshot_id is None else snapshot_id
        manifest = self.read_manifest(sid)
        if SHORTLISTS_FILE not in manifest["files"]:
            raise StoreError(f"{self.snapshots_dir / sid}: snapshot has no stored shortlists (written before they existed); run 'matcher batch' again")
        blob = self.blob_reader(sid, manifest)
        summary, picks = read_parquet_bytes(blob(SHORTLISTS_FILE)), read_parquet_bytes(blob(SHORTLIST_PICKS_FILE))
        if brand_id is not None:
            summary = summary[summary["brand_id"] == brand_id].reset_index(drop=True)
            picks = picks[picks["brand_id"] == brand_id].reset_index(drop=True)
        return summary, picks

    def record_run(self, run_id: str, *, status: str, started_at: str, finished_at: str | None = None, snapshot_id: str | None = None, details: Mapping[str, Any] | None = None) -> None:
        """Insert or update a row of the run history."""
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs (run_id, started_at, finished_at, status, snapshot_id, details) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, started_at, finished_at, status, snapshot_id, json.dumps(dict(details or {}), sort_keys=True, default=str)),
            )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest ``limit`` rows of the run history (batch runs, rollbacks, erasures), newest first.

        A run recorded as ``running`` while nobody holds the store's lock was killed (its lock died
        with it): it is shown as ``interrupted`` at once, as the next run will record it.
        """
        query = "SELECT run_id, started_at, finished_at, status, snapshot_id, details FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?"
        with self._db() as db:
            rows = db.execute(query, (int(limit),)).fetchall()
        running = {r[0] for r in rows if r[3] == "running"}
        if running and not self.locked():
            # Read again after the probe: a run that finished in between has its final status by now,
            # and one read as 'running' before the probe that still is has lost its lock, so its
            # process is gone (a run started after the probe is not among them).
            with self._db() as db:
                rows = db.execute(query, (int(limit),)).fetchall()
            published = set(self._read_published())
            rows = [
                (*r[:3], "published" if r[4] in published else "interrupted", *r[4:]) if r[3] == "running" and r[0] in running else r
                for r in rows
            ]
        out = []
        for run_id, started, finished, status, sid, details in rows:
            try:
                parsed = json.loads(details) if details else {}
            except json.JSONDecodeError:
                parsed = {}
            out.append({"run_id": run_id, "started_at": started, "finished_at": finished, "status": status, "snapshot_id": sid, "details": parsed})
        return out

    def mark_interrupted(self) -> int:
        """Close the history rows of runs that died while 'running' (call with the lock held). Returns how many."""
        published = set(self._read_published())
        with self._db() as db:
            rows = db.execute("SELECT run_id, snapshot_id FROM runs WHERE status = 'running'").fetchall()
            for run_id, sid in rows:
                status = "published" if sid in published else "interrupted"
                db.execute("UPDATE runs SET status = ? WHERE run_id = ?", (status, run_id))
        return len(rows)

    # -- suppression (erased creators) ------------------------------------------------------
    @staticmethod
    def suppression_key(creator_id: str) -> str:
        """The hash under which a forgotten creator is kept out (the list never spells out ids)."""
        return sha256(("matcher.suppressed\x00" + str(creator_id)).encode("utf-8", "surrogatepass"))

    def suppress(self, creator_ids: Iterable[str]) -> int:
        """Add creators to the suppression list. Returns how many were not on it yet."""
        keys = {self.suppression_key(c) for c in creator_ids}
        with self._db() as db:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO suppressed (key, added_at) VALUES (?, ?)", [(k, _now()) for k in sorted(keys)])
            return db.total_changes - before

    def suppressed_keys(self) -> frozenset[str]:
        """Hashes of every suppressed creator id."""
        if not (self.root / DB_FILE).exists():
            return frozenset()
        with self._db() as db:
            return frozenset(k for (k,) in db.execute("SELECT key FROM suppressed"))

    def forget_legacy_matches(self, creator_ids: Iterable[str]) -> None:
        """Delete the creators' rows from the SQLite matches table of stores written before matches
        moved into snapshots (nothing to do in a newer store)."""
        with self._db() as db:
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'matches'").fetchone():
                db.executemany("DELETE FROM matches WHERE creator_id = ?", [(str(i),) for i in creator_ids])

    # -- checkpoints ------------------------------------------------------------------------
    def checkpoints(self, key: str) -> Checkpoints:
        """The checkpoints of the run identified by ``key`` (see :class:`Checkpoints`)."""
        return Checkpoints(self.work_dir, key)

    def clear_checkpoints(self) -> None:
        """Discard the checkpoints of every unfinished run."""
        shutil.rmtree(self.work_dir, ignore_errors=True)
