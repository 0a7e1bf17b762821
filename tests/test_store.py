import json
import shutil

import pytest

from matcher.errors import StoreError
from matcher.store import FORMAT_VERSION, MANIFEST, Store

pytestmark = pytest.mark.slow


@pytest.fixture
def store_copy(built, tmp_path):
    dst = tmp_path / "store"
    shutil.copytree(built.store, dst)
    return Store(dst)


def test_manifest_lists_every_file_with_checksum_and_size(built):
    st = Store(built.store)
    sid = st.current_id()
    m = st.read_manifest(sid)
    files = {p.name for p in (st.snapshots_dir / sid).iterdir()} - {MANIFEST}
    assert set(m["files"]) == files
    for name, meta in m["files"].items():
        assert (st.snapshots_dir / sid / name).stat().st_size == meta["bytes"]
    assert m["format_version"] == FORMAT_VERSION
    assert m["index"]["size"] == m["counts"]["creators"]
    assert m["model"]["dim"] == 384


@pytest.mark.parametrize("name", ["index.faiss", "creator_vectors.npy", "signals.parquet", "posts.parquet"])
def test_flipped_byte_truncation_and_missing_file_are_detected(store_copy, name):
    sid = store_copy.current_id()
    path = store_copy.snapshots_dir / sid / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="checksum"):
        store_copy.load(sid)
    with pytest.raises(StoreError, match="checksum"):
        store_copy.verify(sid)
    path.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(StoreError, match="checksum"):
        store_copy.load(sid)
    path.unlink()
    with pytest.raises(StoreError, match="missing"):
        store_copy.load(sid)
    # Without an id, readers get the newest earlier snapshot that verifies, or a clear error.
    older = [i for i in store_copy.published_ids() if i != sid]
    if older:
        snap = store_copy.load()
        assert snap.snapshot_id == older[-1] and snap.served_for == sid
    else:
        with pytest.raises(StoreError, match="missing"):
            store_copy.load()


def test_newer_format_version_is_refused_before_anything_is_read(store_copy):
    path = store_copy.snapshots_dir / store_copy.current_id() / MANIFEST
    m = json.loads(path.read_text())
    m["format_version"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(m))
    with pytest.raises(StoreError, match="version"):
        store_copy.load(store_copy.current_id())


def test_planted_pickle_is_never_loaded(store_copy, tmp_path):
    import pickle

    marker = tmp_path / "pwned"

    class Boom:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    snap_dir = store_copy.snapshots_dir / store_copy.current_id()
    # A pickle where an array should be, and the manifest doctored to match it.
    payload = pickle.dumps(Boom())
    (snap_dir / "post_vectors.npy").write_bytes(payload)
    m = json.loads((snap_dir / MANIFEST).read_text())
    import hashlib

    m["files"]["post_vectors.npy"] = {"sha256": hashlib.sha256(payload).hexdigest(), "bytes": len(payload)}
    (snap_dir / MANIFEST).write_text(json.dumps(m))
    (snap_dir / "extra.pkl").write_bytes(payload)
    with pytest.raises(StoreError, match="not a plain .npy"):
        store_copy.load(store_copy.current_id())
    assert not marker.exists()


def test_publish_refuses_an_unverifiable_snapshot(store_copy):
    with pytest.raises(StoreError):
        store_copy.publish("does-not-exist")
    assert store_copy.current_id() != "does-not-exist"


def test_resolve_names_the_served_snapshot_without_loading_it(store_copy, monkeypatch):
    sid = store_copy.current_id()
    assert store_copy.resolve() == store_copy.served().snapshot_id == sid

    def no_load(self, snapshot_id):
        raise AssertionError("resolve() loaded a snapshot")

    monkeypatch.setattr(Store, "_load", no_load)
    assert store_copy.resolve() == sid
    assert len(store_copy.read_matches()) == store_copy.read_manifest(sid)["counts"]["matches"]


def test_verify_refuses_per_creator_files_that_disagree_in_size(store_copy):
    """A creators table one row short, its manifest entry rewritten to match: the sizes give it away."""
    import hashlib

    from matcher.store.formats import parquet_bytes, read_parquet_bytes

    sid = store_copy.current_id()
    d = store_copy.snapshots_dir / sid
    short = parquet_bytes(read_parquet_bytes((d / "creators.parquet").read_bytes()).iloc[:-1])
    (d / "creators.parquet").write_bytes(short)
    m = json.loads((d / MANIFEST).read_text())
    m["files"]["creators.parquet"] = {"sha256": hashlib.sha256(short).hexdigest(), "bytes": len(short)}
    (d / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(StoreError, match="disagree in size"):
        store_copy.verify(sid)
    with pytest.raises(StoreError, match="disagree in size"):
        store_copy.load(sid)


def test_verify_finds_parquet_footers_however_small_the_chunks_it_reads(store_copy, monkeypatch):
    """verify() reads each file once, in chunks, and keeps only its head and tail for the headers:
    a Parquet footer spanning many chunks is still found and read."""
    import matcher.files as files
    from matcher.store.formats import parquet_rows

    sid = store_copy.current_id()
    footer = int.from_bytes((store_copy.snapshots_dir / sid / "creators.parquet").read_bytes()[-8:-4], "little")
    monkeypatch.setattr(files, "CHUNK_BYTES", 256)
    assert footer > 4 * 256  # the footer spans several chunks
    assert set(store_copy.verify(sid)["files"]) == set(store_copy.read_manifest(sid)["files"])
    with pytest.raises(ValueError, match="no Parquet footer"):
        parquet_rows(b"PAR1 not a footer")


def test_verify_names_the_first_damaged_file_in_the_manifest_order_whichever_thread_finds_it(store_copy):
    """verify() checks two files at a time; with several damaged, the error is still the first in the manifest's order."""
    sid = store_copy.current_id()
    names = list(store_copy.read_manifest(sid)["files"])
    first, later = names[1], names[-1]
    for name in (later, first):
        path = store_copy.snapshots_dir / sid / name
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="checksum") as err:
        store_copy.verify(sid)
    assert f"/{first}:" in str(err.value) and later not in str(err.value)


def test_a_snapshot_lists_a_checkpoint_file_with_the_checksum_it_was_written_with(tmp_path):
    """A DurableFile is listed with its stated checksum, not hashed again: if the file on disk no
    longer holds those bytes, the snapshot does not verify (rather than listing the damage as good)."""
    from matcher.store.checkpoints import Checkpoints

    st = Store(tmp_path / "store")
    ck = Checkpoints(tmp_path / "work", "k1")
    ck.open({})
    good, bad = b"alpha" * 1000, b"omega" * 1000
    ck.save("stage", {"good.bin": good, "bad.bin": bad}, {"n": 1})
    files = ck.files("stage")
    import hashlib

    assert {n: (f.sha256, f.bytes) for n, f in files.items()} == {
        "good.bin": (hashlib.sha256(good).hexdigest(), len(good)),
        "bad.bin": (hashlib.sha256(bad).hexdigest(), len(bad)),
    }
    assert ck.load("stage") == ({"good.bin": good, "bad.bin": bad}, {"n": 1})
    # A snapshot taken from the good file verifies, and its manifest lists the checkpoint's checksum.
    st.write_snapshot_files("s1", {"good.bin": files["good.bin"]}, fields={})
    assert st.verify("s1")["files"]["good.bin"] == {"sha256": files["good.bin"].sha256, "bytes": len(good)}
    # The other file changes on disk after its checkpoint was saved: the snapshot lists what was
    # written, so it is refused when read, and the checkpoint is no longer taken either.
    files["bad.bin"].path.write_bytes(b"OMEGA" * 1000)
    st.write_snapshot_files("s2", {"bad.bin": files["bad.bin"]}, fields={})
    with pytest.raises(StoreError, match="bad.bin: checksum differs"):
        st.verify("s2")
    assert ck.load("stage") is None


def test_a_file_made_in_a_stages_scratch_directory_is_moved_into_its_checkpoint_not_written(tmp_path, monkeypatch):
    """The index stage saves its files in place and maps them; saving the stage moves them in rather
    than copying their pages through memory, and a resumed run maps them back."""
    import hashlib
    import io

    import numpy as np

    import matcher.store.durable as durable
    from matcher.files import MappedFile, map_confined
    from matcher.store import read_npy
    from matcher.store.checkpoints import Checkpoints

    ck = Checkpoints(tmp_path / "work", "k1")
    ck.open({})
    scratch = ck.scratch("index")
    vecs = np.random.default_rng(3).normal(size=(50, 8)).astype(np.float32)
    np.save(scratch / "vectors.npy", vecs, allow_pickle=False)
    np.save(tmp_path / "other.npy", np.ones((3, 2), np.float32), allow_pickle=False)
    mapped = map_confined(scratch, "vectors.npy", size=None)
    elsewhere = map_confined(tmp_path, "other.npy", size=None)  # not in the scratch directory: written
    written: list[int] = []
    real = durable.write_file
    monkeypatch.setattr(durable, "write_file", lambda fh, data: (written.append(len(data)), real(fh, data))[1])
    ck.save("index", {"vectors.npy": mapped, "other.npy": elsewhere, "rows.bin": b"r" * 7}, {"n": 1})

    ref = io.BytesIO()
    np.save(ref, vecs, allow_pickle=False)
    files = ck.files("index")
    assert files["vectors.npy"].path.read_bytes() == ref.getvalue()
    assert files["vectors.npy"].sha256 == hashlib.sha256(ref.getvalue()).hexdigest()
    assert mapped.path == files["vectors.npy"].path and np.array_equal(read_npy(mapped), vecs)  # still mapped, where it now is
    assert len(mapped) not in written and {7, len(elsewhere)} <= set(written)  # the moved file's bytes were not written again
    assert (tmp_path / "other.npy").exists() and not scratch.exists()

    got, info = ck.load("index")
    assert info == {"n": 1} and isinstance(got["vectors.npy"], MappedFile) and isinstance(got["rows.bin"], bytes)
    assert np.array_equal(read_npy(got["vectors.npy"]), vecs) and not read_npy(got["vectors.npy"]).flags.writeable
    with open(files["vectors.npy"].path, "r+b") as fh:  # damaged on disk: the stage is redone
        fh.seek(-4, 2)
        fh.write(b"\x00\x00\x80\x7f")
    assert ck.load("index") is None


def test_a_stages_file_is_mapped_once_its_save_is_done_and_only_if_unaltered(tmp_path, monkeypatch):
    """The batch lets go of the embed stage's post vectors once they are on disk, and maps the file."""
    import io
    import threading

    import numpy as np

    import matcher.store.durable as durable
    from matcher.files import MappedFile
    from matcher.store import read_npy
    from matcher.store.checkpoints import Checkpoints

    ck = Checkpoints(tmp_path / "work", "k1")
    ck.open({})
    vecs = np.arange(24, dtype=np.float32).reshape(6, 4)
    buf = io.BytesIO()
    np.save(buf, vecs, allow_pickle=False)
    release = threading.Event()
    real = durable.write_file

    def slow_write(fh, data):
        release.wait(10)
        real(fh, data)

    monkeypatch.setattr(durable, "write_file", slow_write)
    ck.save_later("embed", {"post_vectors.npy": buf.getvalue()})
    threading.Timer(0.3, release.set).start()
    got = ck.mapped("embed", "post_vectors.npy")  # waits for the save
    assert isinstance(got, MappedFile) and np.array_equal(read_npy(got), vecs)
    with pytest.raises(StoreError, match="saved no file"):
        ck.mapped("embed", "bio_vectors.npy")
    path = ck.files("embed")["post_vectors.npy"].path
    path.write_bytes(path.read_bytes()[:-4] + b"\x00\x00\x80\x7f")
    with pytest.raises(StoreError, match="checksum differs"):
        ck.mapped("embed", "post_vectors.npy")
    with pytest.raises(StoreError, match="no readable done marker"):
        ck.mapped("index", "vectors.npy")
    ck.wait()


def test_a_checkpoint_file_that_cannot_be_linked_is_copied_only_if_it_still_holds_its_bytes(tmp_path, monkeypatch):
    import os

    from matcher.store.checkpoints import Checkpoints

    st = Store(tmp_path / "store")
    ck = Checkpoints(tmp_path / "work", "k1")
    ck.open({})
    ck.save("stage", {"a.bin": b"a" * 100, "b.bin": b"b" * 100})
    files = ck.files("stage")

    def no_link(src, dst):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    st.write_snapshot_files("s1", {"a.bin": files["a.bin"]}, fields={})
    assert (st.snapshots_dir / "s1" / "a.bin").read_bytes() == b"a" * 100
    assert not (st.snapshots_dir / "s1" / "a.bin").samefile(files["a.bin"].path)
    files["b.bin"].path.write_bytes(b"c" * 100)
    with pytest.raises(OSError, match="differs from the bytes written there"):
        st.write_snapshot_files("s2", {"b.bin": files["b.bin"]}, fields={})
    assert not (st.snapshots_dir / "s2").exists()


def test_a_checkpoint_saved_later_is_done_only_once_written_and_its_failure_surfaces(tmp_path, monkeypatch):
    import threading

    import matcher.store.durable as durable
    from matcher.store.checkpoints import Checkpoints

    ck = Checkpoints(tmp_path / "work", "k1")
    ck.open({})
    release, seen = threading.Event(), []
    real = durable.write_file

    def slow_write(fh, data):
        release.wait(10)
        real(fh, data)

    monkeypatch.setattr(durable, "write_file", slow_write)
    ck.save_later("a", {"x.bin": b"x" * 10}, {"n": 1}, then=lambda: seen.append(ck.load("a")))
    assert ck.load("a") is None  # not written yet: a run killed now redoes the stage
    ck.raise_failed()  # nothing failed so far
    release.set()
    ck.wait()
    assert seen == [({"x.bin": b"x" * 10}, {"n": 1})] and ck.load("a") == seen[0]

    def failing_write(fh, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(durable, "write_file", failing_write)
    ck.save_later("b", {"y.bin": b"y"}, then=lambda: seen.append("never"))
    with pytest.raises(OSError, match="No space left"):
        for _ in range(1000):  # raise_failed() raises once the failed save has finished
            ck.raise_failed()
            threading.Event().wait(0.01)
    assert ck.load("b") is None and not ck.path("b").exists() and "never" not in seen
    ck.wait()  # the error was raised once; nothing is pending
