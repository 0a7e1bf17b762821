"""The embedded store: verified, versioned snapshot directories, an atomic 'current' pointer, checkpoints, a lock, and the run state.

``store`` holds :class:`Store`, ``state`` the run history and suppression list (SQLite in the
store, or PostgreSQL shared by several machines), ``snapshot`` the in-memory :class:`Snapshot` and the stored
matches' rows, ``checkpoints`` a run's :class:`Checkpoints`, ``formats`` the bytes of ``.npy`` and
Parquet files, and ``durable`` the durable writes: every byte of a snapshot, checkpoint or pointer
is written through :func:`~matcher.store.durable.write_file` and made durable through
:func:`~matcher.store.durable.fsync`; fault tests replace those two functions there to fail at any call.
"""

from __future__ import annotations

from matcher.store.checkpoints import Checkpoints
from matcher.store.durable import (
    CRASH_ENV,
    CRASH_POINTS,
    TMP_PREFIX,
    DurableFile,
    atomic_write,
    crash_point,
    fsync,
    write_file,
)
from matcher.store.formats import (
    npy_map,
    npy_bytes,
    parquet_bytes,
    read_npy,
    read_parquet_bytes,
    read_parquet_frame,
)
from matcher.store.snapshot import (
    BRAND_NICHES_FILE,
    COLLABORATIONS_FILE,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MATCHES_FILE,
    MATCH_COLUMNS,
    SHORTLIST_PICKS_FILE,
    SHORTLISTS_FILE,
    Snapshot,
    index_files,
    match_row,
    matches_frame,
    order_key,
    revision_id,
    shortlist_frames,
    snapshot_files,
)
from matcher.store.state import (
    DB_ENV,
    PostgresState,
    RunState,
    SqliteState,
    StateBusyError,
    StateError,
    open_state,
    redact_url,
)
from matcher.store.store import (
    DB_FILE,
    LOCK_FILE,
    MAX_MANIFEST_BYTES,
    MAX_POINTER_BYTES,
    POINTER,
    PUBLISHED_FILE,
    Store,
    StoreBusyError,
    StoreWriteError,
)

__all__ = [
    "FORMAT_VERSION",
    "CRASH_POINTS",
    "Snapshot",
    "Store",
    "Checkpoints",
    "DurableFile",
    "StoreBusyError",
    "StoreWriteError",
    "StateError",
    "StateBusyError",
    "RunState",
    "SqliteState",
    "PostgresState",
    "open_state",
    "match_row",
    "matches_frame",
    "snapshot_files",
    "shortlist_frames",
    "SHORTLISTS_FILE",
    "SHORTLIST_PICKS_FILE",
    "crash_point",
    "npy_bytes",
    "parquet_bytes",
    "read_parquet_bytes",
    "read_parquet_frame",
    "npy_map",
    "read_npy",
]
