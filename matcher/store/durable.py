"""Durable writes: every byte the store writes goes through :func:`write_file` and is made durable
through :func:`fsync`; fault tests replace those two functions (here, in ``matcher.store.durable``)
to fail at any call. Also the crash-test hooks and the SHA-256 digests the manifests hold.
"""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path
from typing import IO, NamedTuple

__all__ = [
    "TMP_PREFIX",
    "CRASH_POINTS",
    "CRASH_ENV",
    "crash_point",
    "count_object",
    "write_file",
    "fsync",
    "fsync_path",
    "write_durable",
    "atomic_write",
    "sha256",
    "DurableFile",
]

TMP_PREFIX = ".tmp-"

#: Named steps at which ``MATCHERTEST_CRASH_AT=<step>`` makes the process kill itself (SIGKILL), so the
#: crash tests can stop a run exactly there. ``MATCHERTEST_CRASH_AT=io:<n>`` stops it at the n-th write
#: or fsync instead, and ``MATCHERTEST_CRASH_AT=object:<n>`` at the n-th object written to object storage.
#: A stage name (ingest … rank) is the moment right after that stage's checkpoint is saved.
CRASH_POINTS: tuple[str, ...] = (
    "locked",
    "ingest",
    "embed",
    "index",
    "signals",
    "rank",
    "audited",
    "snapshot-files",
    "snapshot-renamed",
    "published-list",
    "pointer-written",
    "pointer-swapped",
    "pruned",
    "recorded",
)
CRASH_ENV = "MATCHERTEST_CRASH_AT"

_io_calls = 0
_object_calls = 0


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL when ``MATCHERTEST_CRASH_AT`` names step ``name`` (a crash-test hook)."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _count_io() -> None:
    global _io_calls
    _io_calls += 1
    target = os.environ.get(CRASH_ENV, "")
    if target.startswith("io:") and target[3:] == str(_io_calls):
        os.kill(os.getpid(), signal.SIGKILL)


def count_object() -> None:
    """Count one object written to object storage (a crash-test hook: ``MATCHERTEST_CRASH_AT=object:<n>``)."""
    global _object_calls
    _object_calls += 1
    if os.environ.get(CRASH_ENV, "") == f"object:{_object_calls}":
        os.kill(os.getpid(), signal.SIGKILL)


def write_file(fh: IO[bytes], data: bytes) -> None:
    """Write ``data`` to an open file. Every store write goes through here."""
    _count_io()
    fh.write(data)


def fsync(fd: int) -> None:
    """Flush a file or directory to disk. Every store fsync goes through here."""
    _count_io()
    os.fsync(fd)


def fsync_path(path: Path) -> None:
    """:func:`fsync` of the file or directory at ``path``."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fsync(fd)
    finally:
        os.close(fd)


def write_durable(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        write_file(fh, data)
        fh.flush()
        fsync(fh.fileno())


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: a temporary file, fsync, rename, fsync of the directory."""
    tmp = path.with_name(TMP_PREFIX + path.name)
    try:
        write_durable(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DurableFile(NamedTuple):
    """A file this process wrote durably, with the sha256 and size of the bytes it wrote there.

    A stage's checkpoint files are hashed once, from the bytes in memory as they are written
    (:meth:`Checkpoints.save <matcher.store.checkpoints.Checkpoints.save>`); a snapshot that takes
    them lists those checksums instead of reading the files again. The manifest then names what
    was meant to be written: if the file on disk differs by the time it is read, the reader refuses it.
    """

    path: Path
    sha256: str
    bytes: int
