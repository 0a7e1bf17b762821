"""The embedded store: verified, versioned snapshot directories, an atomic 'current' pointer, checkpoints, a lock, and SQLite for run history.

Every byte of a snapshot, checkpoint or pointer is written through :func:`write_file` and made
durable through :func:`fsync`; fault tests replace those two functions to fail at any call.
"""

from __future__ import annotations

from matcher.store.store import (
    BRAND_NICHES_FILE,
    CRASH_ENV,
    CRASH_POINTS,
    DB_FILE,
    FORMAT,
    FORMAT_VERSION,
    LOCK_FILE,
    MANIFEST,
    MATCHES_FILE,
    MATCH_COLUMNS,
    MAX_MANIFEST_BYTES,
    MAX_POINTER_BYTES,
    POINTER,
    PUBLISHED_FILE,
    TMP_PREFIX,
    Checkpoints,
    Snapshot,
    Store,
    StoreBusyError,
    StoreWriteError,
    atomic_write,
    crash_point,
    fsync,
    index_files,
    match_row,
    matches_frame,
    npy_alloc,
    npy_bytes,
    order_key,
    parquet_bytes,
    read_npy,
    read_parquet_bytes,
    revision_id,
    snapshot_files,
    write_file,
)

__all__ = [
    "FORMAT_VERSION",
    "CRASH_POINTS",
    "Snapshot",
    "Store",
    "Checkpoints",
    "StoreBusyError",
    "StoreWriteError",
    "match_row",
    "matches_frame",
    "snapshot_files",
    "crash_point",
    "npy_bytes",
    "parquet_bytes",
    "read_parquet_bytes",
    "npy_alloc",
    "read_npy",
]
