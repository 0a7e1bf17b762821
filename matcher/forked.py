"""Work split over forked worker processes: the batch ranks brands on every core this way.

:func:`fork_map` runs ``task(i)`` for ``i`` in ``range(tasks)`` in worker processes forked from
the caller, so each worker reads the caller's data (the snapshot, the reranker) where it lies in
memory instead of loading its own copy. A task returns plain bytes (a Parquet file, say), sent back
through a pipe as bytes: no Python object is pickled either way. The answers come back in task
order, whichever worker finished first, so the result does not depend on the number of workers.

Forking needs the ``fork`` start method (Linux, and other POSIX systems where Python offers it);
:func:`can_fork` says whether it is there, and callers run the tasks in-process when it is not.
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from matcher.errors import MatcherError

__all__ = ["WorkerError", "can_fork", "cores", "fork_map"]

logger = logging.getLogger(__name__)


class WorkerError(MatcherError, RuntimeError):
    """A forked worker failed or stopped before sending all its answers."""


def cores() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def can_fork() -> bool:
    """Whether worker processes can be forked here (the ``fork`` start method exists)."""
    return "fork" in multiprocessing.get_all_start_methods()


def _limit_threads() -> None:
    # Each worker has a core of its own: native thread pools (OpenMP in FAISS, BLAS) run one thread,
    # or the workers would oversubscribe the cores. A pool the parent started is not usable after a
    # fork anyway (GNU OpenMP's threads are not copied into the child); one thread never wakes it.
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    threadpool_limits(limits=1)


#: prctl(2)'s option that gives a process the signal it gets when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    # A worker must not outlive the process that forked it: a batch killed mid-run would otherwise
    # leave its workers running, holding the store's lock (inherited with its file) until their task
    # ends. Linux kills the worker when the forking thread dies, and fork_map's thread waits for its
    # workers. Elsewhere a worker stops at its next answer, which has no reader.
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # no prctl in this C library: the fallback above
            pass
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


def _work(task: Callable[[int], Sequence[bytes]], mine: Sequence[int], conn: Connection, parent: int) -> None:
    _die_with(parent)
    _limit_threads()
    i = -1
    try:
        for i in mine:
            parts = task(i)
            conn.send_bytes(json.dumps({"task": i, "parts": len(parts)}).encode())
            for part in parts:
                conn.send_bytes(part)
    except BaseException as exc:  # noqa: BLE001  # reported to the parent, which raises it
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        conn.send_bytes(json.dumps({"task": i, "error": f"{type(exc).__name__}: {exc}", "traceback": detail}).encode())
        raise SystemExit(1) from None
    finally:
        conn.close()


def fork_map(
    task: Callable[[int], Sequence[bytes]], tasks: int, *, workers: int, what: str = "task", progress: Callable[[int], Any] | None = None,
) -> list[list[bytes]]:
    """``task(i)`` for every ``i`` in ``range(tasks)``, in ``workers`` forked processes, in task order.

    Worker ``w`` runs tasks ``w``, ``w + workers``, ... in turn, so neighbouring tasks (of similar
    cost, as neighbouring brands usually are) go to different workers. With one worker, or where
    processes cannot be forked, the tasks run here, in order.

    Args:
        task: returns the answer to one task as a sequence of ``bytes``.
        tasks: how many tasks.
        workers: worker processes (at most ``tasks``).
        what: what a task is, for messages ("brand chunk").
        progress: called with the number of tasks just finished (a progress bar's ``update``).

    Raises:
        WorkerError: a task raised (its error and traceback are in the message), or a worker
            stopped before answering (killed for memory, say: fewer workers need less).
    """
    workers = max(1, min(int(workers), tasks))
    if workers == 1 or not can_fork():
        out = []
        for i in range(tasks):
            out.append(list(task(i)))
            if progress is not None:
                progress(1)
        return out
    ctx = multiprocessing.get_context("fork")
    # Objects that exist now are never collected by a worker: without this, the first collection in
    # each worker would write to every tracked object's header and copy the whole heap.
    gc.freeze()
    procs, conns = [], {}
    try:
        for w in range(workers):
            recv, send = ctx.Pipe(duplex=False)
            p = ctx.Process(target=_work, args=(task, list(range(w, tasks, workers)), send, os.getpid()), name=f"matcher-{what}-{w}", daemon=True)
            p.start()
            send.close()
            procs.append(p)
            conns[recv] = w
        answers: dict[int, list[bytes]] = {}
        while conns:
            for conn in wait(list(conns)):
                w = conns[conn]
                try:
                    head = json.loads(conn.recv_bytes())
                except EOFError:
                    conn.close()
                    del conns[conn]
                    continue
                if "error" in head:
                    raise WorkerError(f"{what} {head['task']} failed in worker {w}: {head['error']}\n{head['traceback']}")
                answers[head["task"]] = [conn.recv_bytes() for _ in range(head["parts"])]
                if progress is not None:
                    progress(1)
        for p in procs:
            p.join()
        missing = sorted(set(range(tasks)) - set(answers))
        if missing:
            codes = ", ".join(f"worker {w}: exit code {p.exitcode}" for w, p in enumerate(procs))
            raise WorkerError(
                f"{len(missing)} of {tasks} {what}s never came back ({codes}); a worker killed by the system (exit code -9) "
                "usually ran out of memory: run with fewer workers"
            )
        return [answers[i] for i in range(tasks)]
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
        for conn in conns:
            conn.close()
        gc.unfreeze()
