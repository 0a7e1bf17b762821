"""Work over forked processes: answers in task order, failures named, nothing lost silently."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

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


def _alive(pid: int) -> bool:
    # A process that has exited but is not yet reaped (a zombie) is gone for this purpose.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads process states from /proc")
def test_workers_die_with_the_process_that_forked_them(tmp_path):
    """A batch killed mid-run must leave no worker behind: a worker holds the store's lock file
    (inherited with the fork), so the next run would find the store locked until its task ended."""
    script = (
        "import os, sys, time\n"
        "from matcher.forked import fork_map\n"
        "def task(i):\n"
        f"    open(os.path.join({str(tmp_path)!r}, f'worker-{{os.getpid()}}'), 'w').close()\n"
        "    time.sleep(120)\n"
        "    return [b'late']\n"
        "fork_map(task, 2, workers=2)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("worker-*"))) < 2:
            assert time.monotonic() < deadline and parent.poll() is None, "the workers never started"
            time.sleep(0.05)
        workers = [int(p.name.split("-")[1]) for p in tmp_path.glob("worker-*")]
        assert all(_alive(w) for w in workers)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers), "a worker outlived the killed process that forked it"
