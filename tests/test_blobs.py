"""A store on object storage, against a real S3-compatible server on loopback (moto's server mode).

Nothing of the store is mocked: the batch, the readers and a killed batch process talk S3 over
HTTP to a ``ThreadedMotoServer`` on 127.0.0.1, started once per session. Skipped when the ``s3``
extra (s3fs) or moto's server are not installed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest

pytest.importorskip("s3fs", reason="the s3 extra is not installed: pip install 'matcher[s3]'")
pytest.importorskip("moto.server", reason="moto's server mode is not installed: pip install 'moto[server]'")

import tinystore  # noqa: E402
from tinystore import cli, cli_env, export_bytes  # noqa: E402

from matcher.batch import run_batch  # noqa: E402
from matcher.errors import StoreError  # noqa: E402
from matcher.store import MANIFEST, POINTER, Store, StoreBusyError  # noqa: E402
from matcher.store.blobs import LEASE_FILE, FsspecBlobs, Lease, default_work_dir  # noqa: E402

BUCKET = "matcher-test"  # made by the s3 fixture (conftest.py)


def _url() -> str:
    return f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"


def _objects(fs, url: str) -> dict[str, str]:
    """Every object below ``url`` and the sha256 of its bytes."""
    base = url.removeprefix("s3://")
    fs.invalidate_cache()
    return {p[len(base) + 1:]: hashlib.sha256(fs.cat_file(p)).hexdigest() for p in fs.find(base)}


# -- the storage layer on its own ----------------------------------------------------------------
def test_write_dir_writes_the_manifest_last_after_checking_every_object(s3, tmp_path):
    blobs = FsspecBlobs(_url())
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(300_000))
    seen: list[dict] = []

    def finish(listing):
        seen.append(dict(listing))
        # Every object is in the store, complete, before the manifest is made.
        assert not blobs.exists("snapshots/s1/" + MANIFEST)
        assert all(blobs.read(f"snapshots/s1/{n}", size=m["bytes"]) for n, m in listing.items())
        return json.dumps({"files": listing}).encode()

    from matcher.store.durable import DurableFile

    durable = DurableFile(big, hashlib.sha256(big.read_bytes()).hexdigest(), 300_000)
    blobs.write_dir("snapshots/s1", {"a.bin": b"alpha", "big.bin": durable}, last=MANIFEST, finish=finish)
    assert seen[0] == {
        "a.bin": {"sha256": hashlib.sha256(b"alpha").hexdigest(), "bytes": 5},
        "big.bin": {"sha256": hashlib.sha256(big.read_bytes()).hexdigest(), "bytes": 300_000},
    }
    assert json.loads(blobs.read("snapshots/s1/" + MANIFEST, size=None, max_bytes=1 << 20))["files"] == seen[0]
    assert blobs.dirs("snapshots") == ["s1"]
    # A read is bounded by the stated size: a file of another size is refused, not read.
    with pytest.raises(StoreError, match="holds 5 bytes, not the 4"):
        blobs.read("snapshots/s1/a.bin", size=4)
    # A prefix without its manifest is a temporary the next run removes; a complete one stays.
    blobs.replace("snapshots/s2/a.bin", b"half")
    assert blobs.clean_temporaries("snapshots", complete=MANIFEST) == 1
    assert blobs.dirs("snapshots") == ["s1"]


def test_a_checkpoint_file_is_uploaded_under_its_stated_checksum_and_refused_if_it_no_longer_holds_it(s3, tmp_path):
    """A DurableFile is not hashed before its upload: the object read back must have the checksum
    the file was written with, so a file changed since its checkpoint never reaches a manifest."""
    from matcher.store.durable import DurableFile

    blobs = FsspecBlobs(_url())
    path = tmp_path / "v.bin"
    data = os.urandom(200_000)
    path.write_bytes(data)
    stated = DurableFile(path, hashlib.sha256(data).hexdigest(), len(data))
    blobs.write_dir("snapshots/s1", {"v.bin": stated}, last=MANIFEST, finish=lambda listing: json.dumps({"files": listing}).encode())
    assert json.loads(blobs.read("snapshots/s1/" + MANIFEST, size=None, max_bytes=1 << 20))["files"] == {"v.bin": {"sha256": stated.sha256, "bytes": len(data)}}
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(OSError, match="read back after writing, its sha256 differs"):
        blobs.write_dir("snapshots/s2", {"v.bin": stated}, last=MANIFEST, finish=lambda listing: json.dumps({"files": listing}).encode())
    assert not blobs.exists("snapshots/s2/" + MANIFEST)


def test_the_lease_keeps_a_second_batch_out_across_work_directories(s3, tmp_path):
    url = _url()
    first = Store(url, work_dir=tmp_path / "host-a")
    other = Store(url, work_dir=tmp_path / "host-b")  # another machine: its own flock, the same bucket
    with first.lock("matcher batch"):
        assert other.locked()
        with pytest.raises(StoreBusyError, match=r"leased by 'matcher batch' \(pid %d" % os.getpid()):
            with other.lock("matcher batch"):
                pass
    assert not other.locked()
    with other.lock("matcher batch"):  # released: the other one gets it
        pass
    assert not other.blobs.exists(LEASE_FILE)


def test_a_lease_left_by_a_dead_process_is_taken_over(s3, tmp_path):
    url = _url()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    st = Store(url, work_dir=tmp_path / "w")
    left = {"purpose": "matcher batch", "host": socket.gethostname(), "pid": pid, "token": "x", "since": "earlier", "expires": 4e9}
    st.blobs.replace(LEASE_FILE, json.dumps(left).encode())
    assert Lease.stale(left) and not st.locked()
    with st.lock("matcher batch"):
        assert Lease.read(st.blobs)["pid"] == os.getpid()
    # A live holder elsewhere (not expired, another host) is respected.
    live = {**left, "host": "elsewhere", "pid": 1}
    st.blobs.replace(LEASE_FILE, json.dumps(live).encode())
    with pytest.raises(StoreBusyError, match="on elsewhere"):
        with st.lock("matcher batch"):
            pass


@pytest.mark.parametrize("scheme", ["memory", "file", "s3"])
def test_publish_verify_and_prune_on_every_file_system(s3, tmp_path, scheme):
    url = {"memory": f"memory://store-{uuid.uuid4().hex[:8]}", "file": f"file://{tmp_path}/bucket", "s3": _url()}[scheme]
    st = Store(url, work_dir=tmp_path / "work")
    with st.lock("test"):
        for i in range(3):
            st.write_snapshot_files(f"2026120{i}T000000000000Z", {"a.txt": f"night {i}".encode(), "b.bin": os.urandom(1000)})
            st.publish(f"2026120{i}T000000000000Z")
        assert st.current_id() == "20261202T000000000000Z"
        assert st.prune(2) == ["20261200T000000000000Z"]
    assert st.published_ids() == st.snapshot_ids() == ["20261201T000000000000Z", "20261202T000000000000Z"]
    assert st.blob_reader(st.current_id(), st.read_manifest(st.current_id()))("a.txt") == b"night 2"
    # An altered object is refused by verify(); an unlisted one is never read.
    st.blobs.replace(f"snapshots/{st.current_id()}/a.txt", b"night 9")
    with pytest.raises(StoreError, match="checksum differs"):
        st.verify(st.current_id())
    with pytest.raises(StoreError, match="not listed in the manifest"):
        st.blob_reader(st.current_id(), st.read_manifest(st.current_id()))("../CURRENT")
    assert not (tmp_path / "work" / "snapshots").exists()  # nothing of the snapshots is kept locally


def test_a_run_that_lost_its_lease_publishes_nothing(s3, tmp_path):
    st = Store(_url(), work_dir=tmp_path / "w")
    with st.lock("first"):
        st.write_snapshot_files("20261201T000000000000Z", {"a.txt": b"one"})
        st.publish("20261201T000000000000Z")
    with pytest.raises(StoreBusyError, match="lease was lost"):
        with st.lock("matcher batch"):
            st.write_snapshot_files("20261202T000000000000Z", {"a.txt": b"two"})
            # Another machine took the store over meanwhile (this process was paused past the lease).
            other = {"purpose": "matcher batch", "host": "elsewhere", "pid": 1, "token": "theirs", "since": "now", "expires": 4e9}
            st.blobs.replace(LEASE_FILE, json.dumps(other).encode())
            st.publish("20261202T000000000000Z")
    assert st.current_id() == "20261201T000000000000Z"
    assert Lease.read(st.blobs)["token"] == "theirs"  # not ours to delete


def test_the_lease_is_renewed_while_it_is_held(s3, tmp_path):
    blobs = FsspecBlobs(_url())
    lease = Lease(blobs, "test", ttl=4.0).acquire()
    try:
        first = Lease.read(blobs)["expires"]
        time.sleep(5.0)  # longer than the ttl: only renewal keeps it live
        lease.check()
        assert Lease.read(blobs)["expires"] > first
    finally:
        lease.release()
    assert not blobs.exists(LEASE_FILE)


def test_a_url_store_without_work_dir_gets_one_per_url(s3):
    a, b = Store("s3://bkt/one"), Store("s3://bkt/two")
    assert a.root == default_work_dir("s3://bkt/one") != b.root
    assert str(a.root).startswith(os.environ["XDG_CACHE_HOME"])
    assert str(a) == "s3://bkt/one" and a.location == "s3://bkt/one"


# -- the nightly batch on S3 ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory, encoder):
    return tinystore.world(tmp_path_factory, encoder)


def _work(world, path):
    """A work directory whose embedding cache already holds both nights' texts (no model is loaded)."""
    path.mkdir(parents=True)
    shutil.copytree(world.base / "cache", path / "cache")
    return path


def _night_a(world, s3, tmp_path) -> Store:
    st = Store(_url(), work_dir=_work(world, tmp_path / "work"))
    res = run_batch(world.a["creators"], world.a["posts"], world.a["brands"], st, progress=False)
    assert res.encoded == 0 and res.store == st.location
    assert res.quarantine_path == f"{st.location}/snapshots/{res.snapshot_id}/quarantine.csv"
    return st


def _export(st: Store, out) -> bytes:
    return export_bytes(st.location, out)


@pytest.mark.slow
def test_batch_to_s3_stores_what_the_directory_store_stores(world, s3, tmp_path):
    st = _night_a(world, s3, tmp_path)
    local = Store(world.base)
    assert _export(st, tmp_path / "a.csv") == world.export_a
    assert st.read_matches().equals(local.read_matches())
    snap, ref = st.load(), local.load()
    assert snap.creators.equals(ref.creators) and (snap.post_vectors == ref.post_vectors).all()
    assert snap.manifest["files"] == ref.manifest["files"]  # the same bytes, object for object
    # The snapshot's objects, the pointer and the list of published snapshots are in the bucket;
    # the run history, embedding cache and lock stay in the work directory.
    keys = set(_objects(s3, st.location))
    assert {POINTER, "published.json", f"snapshots/{snap.snapshot_id}/{MANIFEST}"} <= keys
    assert not any(k.startswith(("cache/", "work/")) or k.endswith(".sqlite") for k in keys)
    assert [r["status"] for r in st.runs(5)] == ["published"]
    # The command line reads it the same way ('matcher matches' prints the same lines).
    p_url = cli("matches", "--store", st.location, "--brands", "3")
    p_dir = cli("matches", "--store", str(world.base), "--brands", "3")
    assert p_url.returncode == 0, p_url.stderr
    assert p_url.stdout == p_dir.stdout


@pytest.mark.slow
def test_a_corrupted_object_is_refused_and_the_previous_snapshot_served(world, s3, tmp_path, caplog):
    st = _night_a(world, s3, tmp_path)
    a = st.current_id()
    b = run_batch(world.b["creators"], world.b["posts"], world.b["brands"], st, progress=False).snapshot_id
    assert st.current_id() == b != a
    key = f"{st.location.removeprefix('s3://')}/snapshots/{b}/posts.parquet"
    data = bytearray(s3.cat_file(key))
    data[len(data) // 2] ^= 0xFF  # one flipped bit, the size unchanged
    s3.pipe_file(key, bytes(data))
    fresh = Store(st.location, work_dir=tmp_path / "reader")
    with pytest.raises(StoreError, match="checksum differs"):
        fresh.load(b)
    with caplog.at_level(logging.WARNING, logger="matcher.store"):
        served = fresh.served()
    assert served.snapshot_id == a and served.served_for == b
    assert "serving the earlier snapshot" in caplog.text
    assert _export(fresh, tmp_path / "x.csv") == world.export_a


@pytest.mark.slow
@pytest.mark.parametrize("crash_at", ["object:4", "snapshot-files", "pointer-written"])
def test_a_batch_killed_mid_write_leaves_the_published_snapshot_and_the_next_one_publishes(world, s3, tmp_path, crash_at):
    st = _night_a(world, s3, tmp_path)
    a = st.current_id()
    before = _objects(s3, st.location)
    args = world.batch_args(st.location)[1:]  # 'batch' and its inputs, the store given as its URL
    p = cli("batch", *args, "--work-dir", str(st.root), env=cli_env(MATCHERTEST_CRASH_AT=crash_at))
    assert p.returncode == -9, f"the batch was not killed at {crash_at}: {p.stderr}"
    after = _objects(s3, st.location)
    # Written so far: objects of the new snapshot under its own prefix, and the lease; nothing of A
    # changed, nor the pointer (the list of published snapshots names the new one only from 'pointer-written').
    assert {k: v for k, v in after.items() if k in before and k != "published.json"} == {k: v for k, v in before.items() if k != "published.json"}
    new = {k for k in after if k not in before}
    assert new and all(k.startswith("snapshots/") or k == LEASE_FILE for k in new)
    if crash_at != "pointer-written":
        assert after["published.json"] == before["published.json"]
        assert not any(k.endswith(MANIFEST) for k in new), "a manifest was written before every object was"
    # Readers, here and elsewhere, are served A.
    reader = Store(st.location, work_dir=tmp_path / "reader")
    assert reader.current_id() == a
    assert _export(reader, tmp_path / "during.csv") == world.export_a
    # The next batch (the lease's holder is dead) removes the half-written prefix, resumes and publishes.
    res = run_batch(world.b["creators"], world.b["posts"], world.b["brands"], Store(st.location, work_dir=st.root), progress=False)
    assert res.encoded == 0
    assert reader.current_id() == res.snapshot_id != a
    assert _export(reader, tmp_path / "after.csv") == world.export_b
    final = _objects(s3, st.location)
    assert LEASE_FILE not in final
    prefixes = {k.split("/")[1] for k in final if k.startswith("snapshots/")}
    assert prefixes == {a, res.snapshot_id}
    assert all(f"snapshots/{sid}/{MANIFEST}" in final for sid in prefixes)
    statuses = [r["status"] for r in st.runs(5)]
    assert statuses[0] == "published" and "running" not in statuses and len(statuses) == 3


@pytest.mark.slow
def test_prune_and_rollback_on_s3(world, s3, tmp_path):
    st = _night_a(world, s3, tmp_path)
    a = st.current_id()
    b = run_batch(world.b["creators"], world.b["posts"], world.b["brands"], st, progress=False).snapshot_id
    assert st.published_ids() == [a, b]
    assert st.rollback() == (b, a)
    assert Store(st.location, work_dir=tmp_path / "reader").current_id() == a
    assert st.rollback(b) == (a, b)
    with st.lock("test"):
        assert st.prune(1) == [a]
    assert st.snapshot_ids() == [b]
    assert not any(k.startswith(f"snapshots/{a}/") for k in _objects(s3, st.location))
    # Erasure rewrites the snapshot in the bucket as a new revision and publishes it.
    from matcher.erasure import forget

    who = st.read_matches()["creator_id"].iloc[0]
    res = forget(st, [who])
    assert res.found == 1 and res.rewritten == {b: f"{b}-r1"}
    reader = Store(st.location, work_dir=tmp_path / "reader2")
    assert reader.current_id() == f"{b}-r1" and reader.snapshot_ids() == [f"{b}-r1"]
    assert who not in set(reader.load().creators["creator_id"]) and who not in set(reader.read_matches()["creator_id"])


@pytest.mark.slow
def test_serve_answers_from_s3_like_the_directory_store_and_switches_to_a_new_snapshot(world, s3, tmp_path, encoder):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from matcher.engine import Matcher
    from matcher.serve import create_app

    st = _night_a(world, s3, tmp_path)
    brief = "Trail running shoe with a rock plate"
    want = Matcher(world.base, encoder=encoder).load().recommend(brief, 5)
    with TestClient(create_app(st.location, encoder=encoder)) as client:
        r = client.post("/recommend", json={"brief": brief, "k": 5})
        assert r.status_code == 200, r.text
        assert r.json()["snapshot_id"] == st.current_id()
        assert [m["creator_id"] for m in r.json()["matches"]] == [m.creator_id for m in want]
        assert [m["score"] for m in r.json()["matches"]] == pytest.approx([m.score for m in want], abs=1e-6)
        new = run_batch(world.b["creators"], world.b["posts"], world.b["brands"], st, progress=False).snapshot_id
        r = client.post("/recommend", json={"brief": brief, "k": 5})
        assert r.status_code == 200 and r.json()["snapshot_id"] == new
