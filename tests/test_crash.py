"""The nightly batch under SIGKILL and failing writes: readers keep the last good snapshot, reruns finish the job.

Each kill runs a real ``matcher batch`` process on a private copy of a store that serves night A,
with night B as input, and kills it (at a named step, at the n-th write, or after a random delay).
Afterwards a fresh reader must get A's exact export (or B's, if the kill came after the pointer
swap), no temporary file may be left behind once a run has finished, and the next run must
produce exactly the export of an uninterrupted run.
"""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import tinystore
from tinystore import cli, cli_env, export_bytes, temporaries

from matcher.batch import run_batch
from matcher.config import Config
from matcher.store import CRASH_POINTS, Store

pytestmark = pytest.mark.slow

# Steps after which the new snapshot is the published one.
AFTER_SWAP = {"pointer-swapped", "pruned", "recorded"}
RANDOM_KILLS = int(os.environ.get("MATCHERTEST_RANDOM_KILLS", "30"))


@pytest.fixture(scope="module")
def world(tmp_path_factory, encoder):
    return tinystore.world(tmp_path_factory, encoder)


def _served(store, out) -> bytes:
    return export_bytes(store, out)


def _resume_and_check(world, store, tmp_path, label: str) -> None:
    """A rerun finishes with exactly the uninterrupted export and leaves no temporaries."""
    res = run_batch(world.b["creators"], world.b["posts"], world.b["brands"], store, config=Config.load(), progress=False)
    assert res.encoded == 0, label
    assert _served(store, tmp_path / "resumed.csv") == world.export_b, f"{label}: the resumed run's export differs from an uninterrupted run"
    assert not temporaries(store), f"{label}: temporaries left: {temporaries(store)}"
    assert not (store / "work").exists() or not any((store / "work").iterdir()), f"{label}: checkpoints left after publishing"
    statuses = [r["status"] for r in Store(store).runs(50)]
    assert "running" not in statuses, label


def test_uninterrupted_subprocess_matches_the_reference(world, tmp_path):
    store = world.copy(tmp_path / "store")
    p = cli(*world.batch_args(store))
    assert p.returncode == 0, p.stderr
    assert "encoded 0 new texts" in p.stdout
    assert _served(store, tmp_path / "x.csv") == world.export_b


@pytest.mark.parametrize("step", CRASH_POINTS)
def test_kill_at_every_named_step(world, tmp_path, step):
    store = world.copy(tmp_path / "store")
    p = cli(*world.batch_args(store), env=cli_env(MATCHERTEST_CRASH_AT=step))
    assert p.returncode == -signal.SIGKILL, f"the run never reached step {step!r} (exit {p.returncode}): {p.stderr[-2000:]}"
    # A fresh process serves a complete snapshot: A's until the pointer swap, B's from then on.
    reader = cli("export", "--store", str(store), "--out", str(tmp_path / "served.csv"))
    assert reader.returncode == 0, reader.stderr
    expected = world.export_b if step in AFTER_SWAP else world.export_a
    assert (tmp_path / "served.csv").read_bytes() == expected, f"killed at {step}: the reader got a wrong snapshot"
    if step not in AFTER_SWAP:
        assert Store(store).current_id() == world.snapshot_a
    _resume_and_check(world, store, tmp_path, f"killed at {step}")


def test_kill_at_random_points(world, tmp_path):
    seed = int(os.environ.get("MATCHERTEST_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    # How long an uninterrupted run takes here, so the random delays cover all of it.
    probe = world.copy(tmp_path / "probe")
    t = time.perf_counter()
    assert cli(*world.batch_args(probe)).returncode == 0
    duration = time.perf_counter() - t
    outcomes = {"killed before publishing": 0, "killed after publishing": 0, "finished": 0}
    for i in range(RANDOM_KILLS):
        store = world.copy(tmp_path / f"s{i}")
        if i % 3 == 2:
            how = f"io:{rng.randint(1, 70)}"  # the n-th write or fsync
            proc = subprocess.Popen([sys.executable, "-m", "matcher.cli", "-q", *world.batch_args(store)], env=cli_env(MATCHERTEST_CRASH_AT=how), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            proc.wait(timeout=300)
        else:
            delay = rng.uniform(0.2, 1.05) * duration
            how = f"after {delay:.2f} s"
            proc = subprocess.Popen([sys.executable, "-m", "matcher.cli", "-q", *world.batch_args(store)], env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        label = f"kill {i} ({how}, seed {seed})"
        served = _served(store, tmp_path / f"served{i}.csv")
        if Store(store).current_id() == world.snapshot_a:
            assert served == world.export_a, f"{label}: the reader did not get night A's exact export"
            outcomes["killed before publishing"] += 1
        else:
            assert served == world.export_b, f"{label}: a new snapshot was served that is not night B's complete result"
            outcomes["killed after publishing" if proc.returncode == -signal.SIGKILL else "finished"] += 1
        _resume_and_check(world, store, tmp_path, label)
    print(f"random kills (seed {seed}, run {duration:.1f} s): {outcomes}")
    assert outcomes["killed before publishing"] >= RANDOM_KILLS // 3, f"too few kills landed inside the run: {outcomes} (seed {seed})"


def test_kth_write_or_fsync_fails_for_every_k(world, tmp_path, monkeypatch, capsys):
    import matcher.store.durable as store_mod
    from matcher.cli import main

    real_write, real_fsync = store_mod.write_file, store_mod.fsync
    calls = {"n": 0, "fail_at": 0}

    def counted(real):
        def wrapper(*args):
            calls["n"] += 1
            if calls["n"] == calls["fail_at"]:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(*args)

        return wrapper

    monkeypatch.setattr(store_mod, "write_file", counted(real_write))
    monkeypatch.setattr(store_mod, "fsync", counted(real_fsync))

    probe = world.copy(tmp_path / "probe")
    assert main(["-q", *world.batch_args(probe)]) == 0
    total = calls["n"]
    assert total >= 30, f"only {total} writes and fsyncs in a run: is everything going through the seam?"
    capsys.readouterr()
    for k in range(1, total + 1):
        store = world.copy(tmp_path / f"k{k}")
        calls.update(n=0, fail_at=k)
        rc = main(["-q", *world.batch_args(store)])
        err = capsys.readouterr().err
        assert rc == 1, f"write {k} of {total} failed but the run exited {rc}"
        assert "No space left on device" in err and "Nothing was published" in err and "Traceback" not in err, err
        assert Store(store).current_id() == world.snapshot_a, f"write {k}: the pointer moved"
        calls["fail_at"] = 0
        assert _served(store, tmp_path / f"k{k}.csv") == world.export_a, f"write {k}: readers no longer get night A"
        assert not temporaries(store), f"write {k}: temporaries left: {temporaries(store)}"
        assert [r["status"] for r in Store(store).runs(1)] == ["failed"]
        if k % 7 == 0 or k == total:  # the next run still finishes the job
            _resume_and_check(world, store, tmp_path, f"after write {k} failed")
