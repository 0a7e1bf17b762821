"""Admission control: the worker pool, its queue, each request's deadline and load shedding.

A request whose queue ahead cannot finish before its deadline (at the recent time per job, with a
margin) is refused at once with :class:`ServiceOverloaded` instead of waiting the whole deadline
for it; work that does not finish within the deadline raises :class:`ServiceBusy`.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["DEFAULT_TIMEOUT_S", "Admission", "ServiceBusy", "ServiceOverloaded"]

DEFAULT_TIMEOUT_S = 10.0

T = TypeVar("T")

# How much each finished job moves the estimate of a job's time, for load shedding.
_EWMA_ALPHA = 0.1
# The estimate is an average of past jobs, so it lags when the machine slows down (other work on
# the same cores): shedding at this share of the deadline keeps admitted requests from timing out.
_SHED_AT = 0.8


class ServiceBusy(Exception):
    """The work did not finish within the request deadline."""


class ServiceOverloaded(Exception):
    """The requests queued ahead cannot finish before this one's deadline, so it is not started."""

    def __init__(self, queued: int, wait_s: float, limit_s: float) -> None:
        super().__init__(f"{queued} requests queued, about {wait_s:.1f} s of work")
        self.queued = queued
        self.wait_s = wait_s
        # Once the work over the limit has drained, a request sent then is admitted again.
        self.retry_after = max(1, math.ceil(wait_s - limit_s))


class Admission:
    """A pool of ``workers`` threads that runs each job within ``timeout_s``, or refuses it up front.

    Args:
        workers: threads that run jobs side by side.
        timeout_s: each job's deadline, from when it is submitted.
        initializer: run once in each worker thread as it starts.
    """

    def __init__(self, *, workers: int, timeout_s: float, initializer: Callable[[], None] | None = None) -> None:
        self.workers = workers
        self.timeout_s = timeout_s
        self._queue_lock = threading.Lock()
        self._pending = 0
        self._job_s: float | None = None
        self._shed = 0
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="matcher-serve", initializer=initializer)
        # Health checks get a thread of their own, so they answer (and show the queue) while the
        # workers are saturated.
        self.control = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher-health")

    def counts(self) -> tuple[int, int]:
        """Jobs queued or running now, and requests shed so far."""
        with self._queue_lock:
            return self._pending, self._shed

    def _admit(self) -> None:
        """Count one more job in the queue, or raise :class:`ServiceOverloaded`."""
        with self._queue_lock:
            ahead, job_s = self._pending, self._job_s
            # Work left ahead of this request, spread over the workers, plus its own turn (no
            # estimate before the first job has finished).
            wait_s = 0.0 if job_s is None else (ahead // self.workers + 1) * job_s
            if wait_s <= _SHED_AT * self.timeout_s:
                self._pending += 1
                return
            self._shed += 1
        raise ServiceOverloaded(ahead, wait_s, _SHED_AT * self.timeout_s)

    def _timed(self, fn: Callable[..., T], args: tuple[Any, ...], deadline: float) -> T:
        if time.monotonic() > deadline:  # waited out its deadline in the queue: nobody awaits it
            raise ServiceBusy()
        t = time.perf_counter()
        try:
            return fn(*args, deadline)
        finally:
            took = time.perf_counter() - t
            with self._queue_lock:
                self._job_s = took if self._job_s is None else (1 - _EWMA_ALPHA) * self._job_s + _EWMA_ALPHA * took

    def _finished(self, _: Future) -> None:
        with self._queue_lock:
            self._pending -= 1

    async def run(self, fn: Callable[..., T], *args: Any, control: bool = False) -> T:
        """Run ``fn(*args, deadline)`` in the worker pool, or on the health thread if ``control``
        (neither queued behind the workers' jobs nor shed nor counted in the queue).

        Raises:
            ServiceOverloaded: the queue ahead cannot finish before the deadline.
            ServiceBusy: the deadline passed before ``fn`` finished.
        """
        deadline = time.monotonic() + self.timeout_s
        if control:
            try:
                return await asyncio.wait_for(asyncio.wrap_future(self.control.submit(fn, *args, deadline)), timeout=self.timeout_s)
            except asyncio.TimeoutError:
                raise ServiceBusy() from None
        self._admit()
        try:
            future = self.pool.submit(self._timed, fn, args, deadline)
        except BaseException:
            with self._queue_lock:
                self._pending -= 1
            raise
        # Runs once the job is done, or cancelled before it started (a timed-out wait cancels it).
        future.add_done_callback(self._finished)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            raise ServiceBusy() from None
