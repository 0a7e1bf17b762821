"""Work over forked processes: answers in task order, failures named, nothing lost silently."""

from __future__ import annotations

import os
import signal

import pytest

from matcher.errors import MatcherError
from matcher.forked import WorkerError, can_fork, fork_map

pytestmark = pytest.mark.skipif(not can_fork(), reason="worker processes need the fork start method")


def _square(i: int) -> list[bytes]:
    # A worker's pid goes with its answer, to tell which process answered.
    return [str(i * i).encode(), str(os.getpid()).encode()]


@pytest.mark.parametrize("workers", [1, 2, 3, 7])
def test_answers_come_back_in_task_order_whatever_the_workers(workers):
    done = []
    out = fork_map(_square, 7, workers=workers, progress=done.append)
    assert [int(a[0]) for a in out] == [i * i for i in range(7)]
    assert sum(done) == 7
    pids = {int(a[1]) for a in out}
    if workers == 1:
        assert pids == {os.getpid()}  # one worker runs the tasks here
    else:
        assert os.getpid() not in pids and len(pids) == min(workers, 7)


def test_a_worker_reads_the_callers_data_in_place():
    data = bytes(range(256)) * 1000  # made after import, before the fork

    def task(i: int) -> list[bytes]:
        return [data[i * 1000 : (i + 1) * 1000]]

    assert b"".join(a[0] for a in fork_map(task, 256, workers=2)) == data


def test_a_task_that_raises_is_reported_with_its_error():
    def task(i: int) -> list[bytes]:
        if i == 3:
            raise ValueError("brand b3 has no vector")
        return [b"ok"]

    with pytest.raises(WorkerError, match=r"brand chunk 3 failed in worker 1: ValueError: brand b3 has no vector") as err:
        fork_map(task, 6, workers=2, what="brand chunk")
    assert isinstance(err.value, MatcherError) and isinstance(err.value, RuntimeError)


def test_a_worker_killed_midway_is_an_error_not_a_short_answer():
    def task(i: int) -> list[bytes]:
        if i == 4:
            os.kill(os.getpid(), signal.SIGKILL)  # as the system's out-of-memory killer would
        return [b"ok"]

    with pytest.raises(WorkerError, match=r"never came back .*exit code -9.*fewer workers"):
        fork_map(task, 8, workers=2)


def test_no_tasks_and_more_workers_than_tasks():
    assert fork_map(_square, 0, workers=4) == []
    assert [int(a[0]) for a in fork_map(_square, 2, workers=8)] == [0, 1]
