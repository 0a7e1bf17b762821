"""The store's run state: run history, the suppression list of erased creators and, in PostgreSQL,
the served matches.

Two implementations share one interface and their SQL: :class:`SqliteState`, the embedded default
(``STORE/matcher.sqlite``), and :class:`PostgresState`, for a deployment where several machines
share one store: the batch, ``matcher forget`` and every ``matcher serve`` replica then read and
write the same database. Statements are written once, with ``?`` placeholders (turned into
psycopg's ``%s`` for PostgreSQL), and upserts use ``ON CONFLICT``, which both dialects speak.

:func:`open_state` picks the implementation from a database URL (``postgresql://...``) or, without
one, the store directory's SQLite file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from matcher.errors import StoreError
from matcher.store.snapshot import MATCH_COLUMNS

__all__ = [
    "DB_ENV",
    "RunState",
    "SqliteState",
    "PostgresState",
    "StateError",
    "open_state",
    "redact_url",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: The environment variable the command line reads the database URL from when ``--db`` is not given.
DB_ENV = "MATCHER_DB"

# The tables both dialects hold. TEXT timestamps (ISO 8601, UTC) sort the same in both.
_COMMON_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    snapshot_id TEXT,
    details TEXT
)""",
    """CREATE TABLE IF NOT EXISTS suppressed (
    key TEXT PRIMARY KEY,
    added_at TEXT NOT NULL
)""",
    # One row per kind of shared state; 'suppressed' counts the changes of the suppression list, so
    # a reader learns of an erasure by reading one row.
    """CREATE TABLE IF NOT EXISTS state_version (
    name TEXT PRIMARY KEY,
    version BIGINT NOT NULL
)""",
)

# The served matches (PostgreSQL only: an embedded store reads them from the snapshot's file).
# A snapshot's rows are copied in one transaction when it is published, together with its row in
# served_snapshots, which says they are complete; deleting that row deletes them.
_FLOAT_COLUMNS = ("score", "topic", "engagement", "trust", "conversation", "fit", "penalty")
_SERVED_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS served_snapshots (
    snapshot_id TEXT PRIMARY KEY,
    matches BIGINT NOT NULL,
    copied_at TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS served_matches (
    snapshot_id TEXT NOT NULL REFERENCES served_snapshots (snapshot_id) ON DELETE CASCADE,
    brand_id TEXT NOT NULL,
    rank BIGINT NOT NULL,
    creator_id TEXT NOT NULL,
    """
    + ",\n    ".join(f"{c} DOUBLE PRECISION" for c in _FLOAT_COLUMNS)
    + """,
    weak BOOLEAN NOT NULL,
    why TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS served_matches_brand ON served_matches (snapshot_id, brand_id, rank)",
    "CREATE INDEX IF NOT EXISTS served_matches_creator ON served_matches (creator_id)",
)

# The dtype text columns read back from Parquet in this pandas (object before pandas 3, str from it).
_TEXT = pd.Series(["x"]).dtype
_RUN_COLUMNS = "run_id, started_at, finished_at, status, snapshot_id, details"
_MATCH_SELECT = ", ".join(MATCH_COLUMNS)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def redact_url(url: str) -> str:
    """A database URL with its password replaced by ``***``, for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


class StateError(StoreError):
    """The run-state database cannot be reached or refused a statement; the message names it and how to fix it."""


class StateBusyError(StateError):
    """Another process, on this machine or another, holds the run lock kept in the run state."""


class RunState:
    """Run history, suppression list and (where kept) served matches: one interface, two databases.

    Attributes:
        kind: ``"sqlite"`` or ``"postgresql"``.
        shared: True when other machines read and write the same state, so a long-lived reader
            (``matcher serve``) checks the suppression list's version on every request.
        serves_matches: True when published snapshots' matches are copied here and read from here.
    """

    kind = "abstract"
    shared = False
    serves_matches = False

    # -- the connection (per implementation) ----------------------------------------------------
    @contextlib.contextmanager
    def _tx(self) -> Iterator[Any]:  # pragma: no cover - implemented by the subclasses
        """A DB-API connection inside one transaction, committed at the end of the block."""
        raise NotImplementedError
        yield

    def _reading(self, read: Callable[[Any], T]) -> T:
        """``read(connection)``: statements that only read (a transaction unless the dialect needs none)."""
        with self._tx() as db:
            return read(db)

    def _q(self, sql: str) -> str:
        """``sql`` in this dialect's placeholder style (written with ``?``)."""
        return sql

    def where(self) -> str:
        """Where the state lives, for messages (no password)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release any connection held open."""

    # -- the run lock ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def run_lock(self) -> Iterator[None]:
        """Hold the run lock kept in the state for the block, on top of the store's own file lock
        (nothing to hold in SQLite: the file lock is the lock).

        Raises:
            StateBusyError: another process holds it.
        """
        yield

    def run_lock_held(self) -> bool:
        """True while some process holds :meth:`run_lock` (always False in SQLite)."""
        return False

    # -- run history ----------------------------------------------------------------------------
    def record_run(
        self, run_id: str, *, status: str, started_at: str, finished_at: str | None = None, snapshot_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert or update a row of the run history."""
        row = (run_id, started_at, finished_at, status, snapshot_id, json.dumps(dict(details or {}), sort_keys=True, default=str))
        with self._tx() as db:
            db.execute(
                self._q(
                    f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
                    "started_at = excluded.started_at, finished_at = excluded.finished_at, status = excluded.status, "
                    "snapshot_id = excluded.snapshot_id, details = excluded.details"
                ),
                row,
            )

    def run_rows(self, limit: int) -> list[tuple[Any, ...]]:
        """The newest ``limit`` rows of the history, newest first: (run_id, started_at, finished_at, status, snapshot_id, details JSON)."""
        query = self._q(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?")
        return self._reading(lambda db: [tuple(r) for r in db.execute(query, (int(limit),)).fetchall()])

    def close_running(self, published: Iterable[str]) -> int:
        """Give the runs still recorded as ``running`` their final status: ``published`` when their
        snapshot is among ``published``, else ``interrupted``. Returns how many."""
        published = set(published)
        with self._tx() as db:
            rows = db.execute("SELECT run_id, snapshot_id FROM runs WHERE status = 'running'").fetchall()
            for run_id, sid in rows:
                db.execute(self._q("UPDATE runs SET status = ? WHERE run_id = ?"), ("published" if sid in published else "interrupted", run_id))
        return len(rows)

    # -- suppression list -----------------------------------------------------------------------
    def suppress(self, keys: Iterable[str], *, creator_ids: Sequence[str] = ()) -> int:
        """Add suppression keys (hashes of creator ids) and bump the list's version when one is new;
        in the same transaction, delete ``creator_ids``' rows from the matches kept here (so every
        reader stops showing them at once). Returns how many keys were not on the list yet."""
        added = 0
        with self._tx() as db:
            if creator_ids:
                self._forget_matches(db, creator_ids)
            for key in sorted(set(keys)):
                cur = db.execute(self._q("INSERT INTO suppressed (key, added_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"), (key, _now()))
                added += max(cur.rowcount, 0)
            if added:
                db.execute(
                    "INSERT INTO state_version (name, version) VALUES ('suppressed', 1) "
                    "ON CONFLICT (name) DO UPDATE SET version = state_version.version + 1"
                )
        return added

    def suppressed_keys(self) -> frozenset[str]:
        """Every suppression key."""
        return self._reading(lambda db: frozenset(k for (k,) in db.execute("SELECT key FROM suppressed").fetchall()))

    def suppression_version(self) -> int:
        """A number that changes whenever the suppression list does (0 for an empty list)."""
        row = self._reading(lambda db: db.execute("SELECT version FROM state_version WHERE name = 'suppressed'").fetchone())
        return int(row[0]) if row else 0

    # -- served matches -------------------------------------------------------------------------
    def publish_matches(self, snapshot_id: str, frame: pd.DataFrame) -> None:
        """Copy a snapshot's stored matches (:data:`MATCH_COLUMNS`) here, in one transaction
        (nothing to do where matches are read from the snapshot's file)."""

    def has_matches(self, snapshot_id: str) -> bool:
        """True when ``snapshot_id``'s matches are here in full."""
        return False

    def read_matches(self, snapshot_id: str, *, brand_id: str | None = None, limit: int | None = None) -> pd.DataFrame | None:
        """A snapshot's stored matches (ordered by brand and rank), or None when they are not kept here."""
        return None

    def prune_matches(self, keep: Iterable[str]) -> list[str]:
        """Delete the matches of every snapshot not in ``keep``. Returns the ids whose rows went."""
        return []

    def forget_matches(self, creator_ids: Sequence[str]) -> int:
        """Delete the creators' rows from the matches kept here (ranks closed up). Returns how many rows."""
        with self._tx() as db:
            return self._forget_matches(db, creator_ids)

    def _forget_matches(self, db: Any, creator_ids: Sequence[str]) -> int:
        return 0


class SqliteState(RunState):
    """The embedded state: ``STORE/matcher.sqlite`` in WAL mode, one connection per operation."""

    kind = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def where(self) -> str:
        return str(self.path)

    def connect(self) -> sqlite3.Connection:
        """Open the database (created on first use), in WAL mode so readers never block."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(";\n".join(_COMMON_SCHEMA) + ";")
        return db

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self.connect()
        try:
            with db:
                yield db
        finally:
            db.close()

    def suppressed_keys(self) -> frozenset[str]:
        if not self.path.exists():  # a store that never erased anyone: nothing to create
            return frozenset()
        return super().suppressed_keys()

    def _forget_matches(self, db: sqlite3.Connection, creator_ids: Sequence[str]) -> int:
        # Stores written before matches moved into snapshots kept them in a table here.
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'matches'").fetchone():
            return 0
        before = db.total_changes
        db.executemany("DELETE FROM matches WHERE creator_id = ?", [(str(i),) for i in creator_ids])
        return db.total_changes - before


# Serialises schema creation between processes that start at once (CREATE ... IF NOT EXISTS is
# not safe against a concurrent CREATE in PostgreSQL); any fixed number, ours by convention.
_SCHEMA_LOCK_ID = 0x6D617463  # "matc"


class PostgresState(RunState):
    """State in PostgreSQL, shared by every machine given the same URL (``--db`` or ``MATCHER_DB``).

    One connection per instance, opened on first use and kept (a long-lived service checks the
    suppression list's version on every request: a round trip, not a new connection), reopened
    when it breaks; the instance's operations take turns on it. The tables live in the
    connection's first schema: give each store its own database, or its own schema with
    ``?options=-csearch_path%3DNAME`` in the URL.

    Raises:
        StateError: psycopg is not installed, or the server cannot be reached.
    """

    kind = "postgresql"
    shared = True
    serves_matches = True

    def __init__(self, url: str, *, connect_timeout: float = 10.0) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._conn: Any = None
        self._schema_ready = False

    def where(self) -> str:
        return redact_url(self.url)

    def _error(self, exc: Exception) -> StateError:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StateError(
            f"{self.where()}: the PostgreSQL run state failed ({text}); check that the server is up, the URL given with --db or "
            f"{DB_ENV} is right and the role may create tables in its schema"
        )

    def _connection(self) -> Any:
        try:
            import psycopg
        except ModuleNotFoundError:
            raise StateError(f"{self.where()}: PostgreSQL needs psycopg; install it with pip install 'matcher[postgres]'") from None
        if self._conn is not None and (self._conn.closed or self._conn.broken):
            self._conn = None
        if self._conn is None:
            try:
                self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(math.ceil(self.connect_timeout))))
            except psycopg.Error as exc:
                raise self._error(exc) from None
        if not self._schema_ready:
            try:
                with self._conn.transaction():
                    self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_ID,))
                    for stmt in (*_COMMON_SCHEMA, *_SERVED_SCHEMA):
                        self._conn.execute(stmt)
            except psycopg.Error as exc:
                raise self._error(exc) from None
            self._schema_ready = True
        return self._conn

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Any]:
        import psycopg

        with self._lock:
            conn = self._connection()
            try:
                with conn.transaction():
                    yield conn
            except psycopg.Error as exc:
                raise self._error(exc) from None

    def _reading(self, read: Callable[[Any], T]) -> T:
        # On the autocommit connection: one round trip a statement, no BEGIN and COMMIT. A
        # connection the server dropped (a restart, a failover, an idle timeout) is only found out
        # by using it: reads are tried once more on a new one, so a replica fails no request for it.
        import psycopg

        with self._lock:
            for attempt in (1, 2):
                conn = self._connection()
                try:
                    return read(conn)
                except psycopg.OperationalError as exc:
                    if attempt == 1 and conn.broken:
                        logger.warning("lost the connection to %s (%s); connecting again", self.where(), str(exc).strip() or type(exc).__name__)
                        self._conn = None
                        continue
                    raise self._error(exc) from None
                except psycopg.Error as exc:
                    raise self._error(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _q(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # A session advisory lock, keyed by the schema the tables are in (stores in separate schemas of
    # one database lock separately); it is released when its connection closes, also when the
    # process holding it dies.
    _RUN_LOCK_KEY = "hashtextextended('matcher.run:' || current_schema(), 0)"

    @contextlib.contextmanager
    def run_lock(self) -> Iterator[None]:
        import psycopg

        self._reading(lambda db: None)  # the schema exists (and the server answers) before locking
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(math.ceil(self.connect_timeout))))
        except psycopg.Error as exc:
            raise self._error(exc) from None
        with conn:
            try:
                got = conn.execute(f"SELECT pg_try_advisory_lock({self._RUN_LOCK_KEY})").fetchone()[0]
            except psycopg.Error as exc:
                raise self._error(exc) from None
            if not got:
                raise StateBusyError(f"{self.where()}: another process holds the store's run lock (a batch, forget or rollback, maybe on another machine)")
            try:
                yield
            finally:
                # Released here, not left to the server noticing the closed connection: the next
                # reader must not see it held a moment longer.
                with contextlib.suppress(psycopg.Error):
                    conn.execute(f"SELECT pg_advisory_unlock({self._RUN_LOCK_KEY})")

    def run_lock_held(self) -> bool:
        key = self._RUN_LOCK_KEY

        def probe(db: Any) -> bool:
            if db.execute(f"SELECT pg_try_advisory_lock({key})").fetchone()[0]:
                db.execute(f"SELECT pg_advisory_unlock({key})")
                return False
            return True

        return self._reading(probe)

    def publish_matches(self, snapshot_id: str, frame: pd.DataFrame) -> None:
        columns = list(MATCH_COLUMNS)
        with self._tx() as db:
            db.execute("DELETE FROM served_snapshots WHERE snapshot_id = %s", (snapshot_id,))
            db.execute("INSERT INTO served_snapshots (snapshot_id, matches, copied_at) VALUES (%s, %s, %s)", (snapshot_id, len(frame), _now()))
            with db.cursor().copy(f"COPY served_matches (snapshot_id, {', '.join(columns)}) FROM STDIN") as copy:
                for row in frame[columns].itertuples(index=False, name=None):
                    copy.write_row((snapshot_id, *(_plain(v) for v in row)))
        logger.info("copied %d stored matches of snapshot %s into %s", len(frame), snapshot_id, self.where())

    def has_matches(self, snapshot_id: str) -> bool:
        return self._reading(lambda db: db.execute("SELECT 1 FROM served_snapshots WHERE snapshot_id = %s", (snapshot_id,)).fetchone() is not None)

    def read_matches(self, snapshot_id: str, *, brand_id: str | None = None, limit: int | None = None) -> pd.DataFrame | None:
        where, params = "snapshot_id = %s", [snapshot_id]
        if brand_id is not None:
            where += " AND brand_id = %s"
            params.append(brand_id)
        tail = ""
        if limit is not None:
            tail = " LIMIT %s"
            params.append(int(limit))
        query = f'SELECT {_MATCH_SELECT} FROM served_matches WHERE {where} ORDER BY brand_id COLLATE "C", rank{tail}'

        def read(db: Any) -> list[Any] | None:
            rows = db.execute(query, params).fetchall()
            # No rows: a brand without matches, or a snapshot whose matches were never copied here.
            if not rows and db.execute("SELECT 1 FROM served_snapshots WHERE snapshot_id = %s", (snapshot_id,)).fetchone() is None:
                return None
            return rows

        rows = self._reading(read)
        return None if rows is None else _matches_frame(rows)

    def prune_matches(self, keep: Iterable[str]) -> list[str]:
        keep = sorted(set(keep))
        with self._tx() as db:
            gone = [r[0] for r in db.execute("DELETE FROM served_snapshots WHERE NOT (snapshot_id = ANY(%s)) RETURNING snapshot_id", (keep,)).fetchall()]
        if gone:
            logger.info("removed the stored matches of %d old snapshot(s) from %s", len(gone), self.where())
        return sorted(gone)

    def _forget_matches(self, db: Any, creator_ids: Sequence[str]) -> int:
        ids = sorted({str(i) for i in creator_ids})
        touched = db.execute("DELETE FROM served_matches WHERE creator_id = ANY(%s) RETURNING snapshot_id, brand_id", (ids,)).fetchall()
        groups = sorted({(str(s), str(b)) for s, b in touched})
        for sid, brand in groups:  # close up the ranks over the removed rows, as the rewritten snapshots do
            db.execute(
                "UPDATE served_matches m SET rank = r.new_rank FROM ("
                " SELECT ctid AS row_ctid, row_number() OVER (ORDER BY rank) AS new_rank FROM served_matches"
                " WHERE snapshot_id = %s AND brand_id = %s) r WHERE m.ctid = r.row_ctid AND m.rank <> r.new_rank",
                (sid, brand),
            )
        for sid in sorted({s for s, _ in groups}):
            db.execute(
                "UPDATE served_snapshots SET matches = (SELECT count(*) FROM served_matches WHERE snapshot_id = %s) WHERE snapshot_id = %s",
                (sid, sid),
            )
        return len(touched)


def _matches_frame(rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Match rows, already ordered by brand (bytewise) and rank, as the frame the snapshot's Parquet
    file reads back as: the dtypes of :func:`~matcher.store.snapshot.matches_frame`, text columns in
    this pandas' string dtype. Built column by column (a brand's 50 rows in well under a millisecond;
    sorting and converting them as a generic frame took about 15 ms)."""
    columns = list(zip(*rows)) if rows else [()] * len(MATCH_COLUMNS)
    data: dict[str, Any] = {}
    for name, values in zip(MATCH_COLUMNS, columns):
        if name in ("brand_id", "creator_id", "why"):
            data[name] = pd.Series(list(values), dtype=_TEXT)
        elif name == "rank":
            data[name] = np.asarray(values, dtype=np.int64)
        elif name == "weak":
            data[name] = np.asarray(values, dtype=bool)
        else:
            data[name] = np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    return pd.DataFrame(data)


def _plain(value: Any) -> Any:
    """A frame cell as a value psycopg adapts: numpy scalars to Python, NaN to NULL."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def open_state(db: str | None, *, sqlite_path: str | Path) -> RunState:
    """The run state of a store: PostgreSQL at ``db`` (``postgresql://...``), or the store's own
    SQLite file at ``sqlite_path`` when ``db`` is None.

    Raises:
        StateError: ``db`` is not a PostgreSQL URL.
    """
    if db is None or not str(db).strip():
        return SqliteState(sqlite_path)
    url = str(db).strip()
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresState(url)
    raise StateError(
        f"--db {redact_url(url)!r}: not a PostgreSQL URL; give postgresql://USER:PASSWORD@HOST:PORT/DATABASE, or leave --db and "
        f"{DB_ENV} unset to keep the run state in the store's own SQLite file"
    )
