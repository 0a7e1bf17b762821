"""Checkpoints of a batch run: each finished stage's files, kept so an interrupted run resumes where it stopped."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from matcher.errors import StoreError
from matcher.files import MappedFile, load_confined
from matcher.store.durable import DurableFile, atomic_write, fsync_path, sha256, write_durable

__all__ = ["Checkpoints"]

logger = logging.getLogger(__name__)


class Checkpoints:
    """Outputs of the finished stages of one unfinished run, under ``STORE/work/<key>/``.

    ``key`` hashes everything a run's result depends on, so a rerun that finds checkpoints under the
    same key can take them instead of recomputing. Each stage's files are written and fsynced, then a
    ``<stage>.done.json`` marker listing their checksums is written atomically: a stage counts as done
    only if its marker is there and every file still matches it.
    """

    def __init__(self, work_dir: Path, key: str) -> None:
        self.work_dir = work_dir
        self.key = key
        self.dir = work_dir / key
        self._writer: ThreadPoolExecutor | None = None
        self._pending: list[tuple[str, Future[None]]] = []  # (stage, its save), in the order given

    def open(self, fresh: Mapping[str, Any]) -> dict[str, Any]:
        """Start or resume: returns the run info saved by the first attempt, or saves ``fresh``.

        Checkpoints of any other key are stale (their inputs or settings differ) and are removed.
        """
        if self.work_dir.is_dir():
            for p in self.work_dir.iterdir():
                if p.name != self.key:
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        try:
            info = json.loads((self.dir / "run.json").read_text())
            if info.get("key") == self.key:
                return info
        except (FileNotFoundError, ValueError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        info = {**dict(fresh), "key": self.key}
        atomic_write(self.dir / "run.json", json.dumps(info, sort_keys=True).encode())
        return info

    def path(self, stage: str) -> Path:
        """Directory of a stage's files."""
        return self.dir / stage

    def scratch(self, stage: str) -> Path:
        """An empty directory where stage ``stage`` may make its large files in place while it runs.

        A file made there and handed to :meth:`save` as a :class:`~matcher.files.MappedFile` (by
        :func:`~matcher.files.map_confined`, say) is moved into the checkpoint, not written again:
        its bytes were never in the process's anonymous memory, and are not copied there to be saved.
        """
        d = self._scratch(stage)
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        return d

    def _scratch(self, stage: str) -> Path:
        return self.dir / f"{stage}.scratch"

    def load(self, stage: str) -> tuple[dict[str, bytes], dict[str, Any]] | None:
        """A finished stage's files (verified) and info, or None if the stage has to run.

        Arrays and FAISS indexes (gigabytes at a million creators) are mapped, not read into memory
        (:func:`~matcher.files.load_confined`); the mapping is hashed and checked like other bytes.
        """
        try:
            marker = json.loads((self.dir / f"{stage}.done.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        files: dict[str, bytes] = {}
        sizes = marker.get("bytes", {}) if isinstance(marker.get("bytes"), dict) else {}
        for name, sha in marker.get("files", {}).items():
            try:
                data = load_confined(self.path(stage), name, size=sizes.get(name))
            except StoreError:
                data = None
            if data is None or sha256(data) != sha:
                logger.warning("checkpoint %s/%s is missing or damaged; redoing stage %s", stage, name, stage)
                return None
            files[name] = data
        return files, marker.get("info", {})

    def save(self, stage: str, files: Mapping[str, bytes], info: Mapping[str, Any] | None = None) -> None:
        """Write a stage's files durably, then its done marker.

        A :class:`~matcher.files.MappedFile` made in the stage's :meth:`scratch` directory is moved
        in and fsynced rather than written; it stays mapped at its new place.

        Raises:
            OSError: a write or fsync failed (the stage's partial files are removed).
        """
        d = self.path(stage)
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        try:
            # The bytes are hashed on a second thread while they are written and fsynced: hashing
            # and the disk each take seconds per gigabyte, and both let go of the GIL. A plain
            # thread, not an executor: the batch forks its workers while a save runs, and a child
            # must not inherit the executors' module lock held by this thread.
            sums: dict[str, str] = {}
            hasher = threading.Thread(target=lambda: sums.update((name, sha256(data)) for name, data in files.items()), name="matcher-hash", daemon=True)
            hasher.start()
            scratch = self._scratch(stage)
            try:
                for name, data in files.items():
                    if isinstance(data, MappedFile) and data.path.parent == scratch:
                        # Made in place by the stage: flushed and moved in, its pages never copied.
                        data.flush()
                        os.replace(data.path, d / name)
                        data.path = d / name
                        fsync_path(d / name)
                    else:
                        write_durable(d / name, data)
                fsync_path(d)
            finally:
                hasher.join()
            shutil.rmtree(scratch, ignore_errors=True)
            if len(sums) != len(files):
                raise RuntimeError(f"hashing the checkpoint files of stage {stage} failed; run 'matcher batch' again")
            marker = {
                "files": {name: sums[name] for name in files},
                "bytes": {name: len(data) for name, data in files.items()},
                "info": dict(info or {}),
            }
            atomic_write(self.dir / f"{stage}.done.json", json.dumps(marker, sort_keys=True, default=str).encode())
        except BaseException:
            shutil.rmtree(d, ignore_errors=True)
            raise

    def save_later(self, stage: str, files: Mapping[str, bytes], info: Mapping[str, Any] | None = None, *, then: Callable[[], None] | None = None) -> None:
        """:meth:`save` on a writer thread, while the caller goes on; ``then()`` runs after it, there.

        Saves run one at a time, in the order given. The caller must not change ``files`` and must
        call :meth:`wait` before it relies on a saved stage (a snapshot taking its files); a stage
        whose save has not finished has no done marker, so a run killed meanwhile redoes it.
        """
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher-checkpoint")

        def job() -> None:
            self.save(stage, files, info)
            if then is not None:
                then()

        self._pending.append((stage, self._writer.submit(job)))

    def raise_failed(self) -> None:
        """Raise the error of a background save that has failed, if one has (then after :meth:`wait`); else return at once."""
        for _, got in self._pending:
            if got.done() and got.exception() is not None:
                self.wait()

    def wait(self, *, raise_errors: bool = True) -> None:
        """Wait for every :meth:`save_later`; then raise the first save's error, if one failed.

        Raises:
            OSError: a save failed (its stage's partial files were removed).
        """
        pending, self._pending = self._pending, []
        errors = [e for e in (got.exception() for _, got in pending) if e is not None]
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        if errors and raise_errors:
            raise errors[0]

    def mapped(self, stage: str, name: str) -> MappedFile | bytes:
        """File ``name`` of a finished stage, mapped once its checksum matches the done marker.

        Waits for that stage's :meth:`save_later` if it is still being written (the saves queued
        after it are not waited for). A stage's in-memory output can then be let go of: its pages are
        the file's from here on, which the kernel can drop under memory pressure.

        Raises:
            OSError: the stage's save failed.
            StoreError: the stage has no done marker, or the file is not what it lists.
        """
        listed = self.files(stage)
        if name not in listed:
            raise StoreError(f"{self.path(stage)}: stage {stage} saved no file {name}; run 'matcher batch' again")
        data = load_confined(self.path(stage), name, size=listed[name].bytes)
        if sha256(data) != listed[name].sha256:
            raise StoreError(f"{self.path(stage) / name}: checksum differs from the checkpoint's done marker (altered since it was written); run 'matcher batch' again")
        return data

    def files(self, stage: str) -> dict[str, DurableFile]:
        """A finished stage's files with the checksums and sizes its done marker lists.

        For a stage this run saved, or one :meth:`load` verified: the files then hold those bytes.
        Waits for that stage's :meth:`save_later` if it is still being written (the saves queued
        after it are not waited for).

        Raises:
            OSError: the stage's save failed.
            StoreError: the stage has no done marker.
        """
        for saving, got in reversed(self._pending):
            if saving == stage:
                got.result()
                break
        try:
            marker = json.loads((self.dir / f"{stage}.done.json").read_text())
            sizes = marker.get("bytes") or {}  # markers of older versions list no sizes
            return {
                name: DurableFile(self.path(stage) / name, str(sha), int(sizes[name]) if name in sizes else (self.path(stage) / name).stat().st_size)
                for name, sha in marker["files"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StoreError(f"{self.dir}: stage {stage} has no readable done marker ({exc}); run 'matcher batch' again") from None

    def clear(self) -> None:
        """Remove this run's checkpoints (after it published)."""
        shutil.rmtree(self.dir, ignore_errors=True)
