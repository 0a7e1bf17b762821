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
