"""Versioned snapshots in practice: corruption fallback, rollback, audit, the lock, no pickles, privacy, incremental reruns."""

from __future__ import annotations

import io
import logging
import pickle
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tinystore
from tinystore import cli, export_bytes, temporaries

from matcher.batch import AuditError, run_batch
from matcher.config import Config
from matcher.embed import EmbeddingCache, Encoder
from matcher.engine import Matcher
from matcher.errors import StoreError
from matcher.files import Directory
from matcher.store import Store, StoreBusyError
from matcher.text import content_hash

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory, encoder):
    return tinystore.world(tmp_path_factory, encoder)


@pytest.fixture
def two(world, tmp_path):
    """A store that has published night A and then night B."""
    store = world.copy(tmp_path / "store")
    run_batch(*world.b.values(), store, progress=False)
    return store


def _run(world, store, night="b", **kw):
    files = world.b if night == "b" else world.a
    return run_batch(files["creators"], files["posts"], files["brands"], store, progress=False, **kw)


# -- corruption: detected, and the previous good snapshot is served --------------------------------
@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
@pytest.mark.parametrize("name", ["index.faiss", "matches.parquet", "signals.parquet", "creators.parquet"])
def test_damaged_snapshot_falls_back_to_the_previous_one(world, two, tmp_path, caplog, damage, name):
    st = Store(two)
    bad = st.current_id()
    path = st.snapshots_dir / bad / name
    data = path.read_bytes()
    if damage == "flip":
        path.write_bytes(data[:100] + bytes([data[100] ^ 0x40]) + data[101:])
    elif damage == "truncate":
        path.write_bytes(data[: len(data) - 7])
    else:
        path.unlink()
    with caplog.at_level(logging.WARNING, logger="matcher.store"):
        snap = Store(two).load()
    assert snap.snapshot_id == world.snapshot_a and snap.served_for == bad
    assert "serving the earlier snapshot" in caplog.text and bad in caplog.text
    assert export_bytes(two, tmp_path / "x.csv") == world.export_a
    with pytest.raises(StoreError, match="checksum|missing"):
        Store(two).load(bad)


def test_long_lived_matcher_falls_back_once_and_picks_up_the_next_good_snapshot(world, two, encoder, tmp_path, caplog):
    m = Matcher(two, encoder=encoder).load()
    assert m.snapshot_id == Store(two).current_id()
    # A new snapshot is published, but it is damaged on disk.
    res = _run(world, two, night="a")
    (Store(two).snapshots_dir / res.snapshot_id / "post_vectors.npy").write_bytes(b"\x93NUMPY garbage")
    with caplog.at_level(logging.WARNING):
        first = m.recommend("trail running shoe", k=3)
    assert m.snapshot_.served_for == res.snapshot_id and m.snapshot_id != res.snapshot_id
    assert len(first) == 3
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        m.recommend("trail running shoe", k=3)
    assert "cannot be served" not in caplog.text, "a known-bad snapshot must not be re-read on every call"
    good = _run(world, two, night="b")
    m.recommend("trail running shoe", k=3)
    assert m.snapshot_id == good.snapshot_id and m.snapshot_.served_for == good.snapshot_id


# -- rollback -----------------------------------------------------------------------------------------
def test_rollback_is_fast_exact_and_seen_by_a_running_matcher(world, two, encoder, tmp_path):
    st = Store(two)
    newest = st.current_id()
    m = Matcher(two, encoder=encoder).load()
    t = time.perf_counter()
    before, after = st.rollback()
    took = time.perf_counter() - t
    assert (before, after) == (newest, world.snapshot_a)
    assert took < 1.0, f"rollback took {took:.2f} s"
    assert export_bytes(two, tmp_path / "x.csv") == world.export_a
    m.recommend("retinol night serum", k=2)
    assert m.snapshot_id == world.snapshot_a
    # and forward again, by id
    assert st.rollback(newest) == (world.snapshot_a, newest)
    with pytest.raises(StoreError, match="not a retained published snapshot"):
        st.rollback("20000101T000000000000Z")
    p = cli("rollback", "--store", str(two), "--to", world.snapshot_a)
    assert p.returncode == 0 and f"to {world.snapshot_a}" in p.stdout, p.stderr
    assert Store(two).current_id() == world.snapshot_a
    statuses = [r["status"] for r in st.runs(10)]
    assert statuses.count("rollback") == 3


def test_only_the_last_k_snapshots_are_kept(world, tmp_path):
    store = world.copy(tmp_path / "store")
    cfg = Config.from_dict({"batch": {"keep_snapshots": 2}})
    ids = [_run(world, store, night=n, config=cfg).snapshot_id for n in ("b", "a", "b")]
    st = Store(store)
    assert st.published_ids() == ids[-2:]
    assert sorted(p.name for p in st.snapshots_dir.iterdir()) == sorted(ids[-2:])
    assert st.current_id() == ids[-1]


# -- audit --------------------------------------------------------------------------------------------
def test_quarantine_ceiling_fails_the_audit_and_publishes_nothing(world, tmp_path):
    store = world.copy(tmp_path / "store")
    cfg = Config.from_dict({"batch": {"max_quarantine_rate": 0.01}})
    with pytest.raises(AuditError, match=r"quarantined .*ceiling 1%.*raise batch.max_quarantine_rate"):
        _run(world, store, config=cfg)
    st = Store(store)
    assert st.current_id() == world.snapshot_a and st.snapshot_ids() == [world.snapshot_a]
    assert st.runs(1)[0]["status"] == "audit-failed"
    p = cli("batch", *world.batch_args(store)[1:], env=tinystore.cli_env(MATCHER_BATCH__MAX_QUARANTINE_RATE="0.01"))
    assert p.returncode == 2 and "audit failed, nothing was published" in p.stderr and "quarantine report" in p.stderr, p.stderr
    assert Store(store).current_id() == world.snapshot_a


def test_shrinking_input_and_brands_without_matches_fail_the_audit(world, tmp_path):
    store = world.copy(tmp_path / "store")
    half = tmp_path / "creators.csv"
    c = pd.read_csv(world.b["creators"], dtype=str, keep_default_na=False)
    c.iloc[: len(c) // 2].to_csv(half, index=False)
    posts = pd.read_csv(world.b["posts"], dtype=str, keep_default_na=False)
    kept_posts = tmp_path / "posts.csv"
    posts[posts["creator_id"].isin(c.iloc[: len(c) // 2]["creator_id"])].to_csv(kept_posts, index=False)
    with pytest.raises(AuditError, match="accepted creators .* check that the input file is complete"):
        run_batch(half, kept_posts, world.b["brands"], store, progress=False)
    brands = pd.read_csv(world.b["brands"], dtype=str, keep_default_na=False)
    brands.loc[0, "min_followers"] = "900000000000"
    brands.loc[0, "max_followers"] = ""
    nobody = tmp_path / "brands.csv"
    brands.to_csv(nobody, index=False)
    with pytest.raises(AuditError, match=f"none for {brands.loc[0, 'brand_id']}"):
        run_batch(world.b["creators"], world.b["posts"], nobody, store, progress=False)
    assert Store(store).current_id() == world.snapshot_a
    assert not temporaries(store)


# -- lock ---------------------------------------------------------------------------------------------
def test_a_second_run_fails_fast_while_one_holds_the_lock(world, tmp_path):
    store = world.copy(tmp_path / "store")
    held, release = threading.Event(), threading.Event()

    def holder():
        with Store(store).lock("matcher batch"):
            held.set()
            release.wait(60)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(10)
        t0 = time.perf_counter()
        with pytest.raises(StoreBusyError, match=r"locked by 'matcher batch' \(pid \d+"):
            _run(world, store)
        assert time.perf_counter() - t0 < 1.0
        p = cli(*world.batch_args(store))
        assert p.returncode == 2 and "batch runs never overlap" in p.stderr, p.stderr
        with pytest.raises(StoreBusyError):
            Store(store).rollback()
    finally:
        release.set()
        t.join()
    assert _run(world, store).snapshot_id == Store(store).current_id()


# -- no pickle on any load path -----------------------------------------------------------------------
def test_planted_pickles_are_never_loaded(world, two, encoder, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"

    class Boom:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    payload = pickle.dumps(Boom())
    st = Store(two)
    sid = st.current_id()
    for where in (two, st.snapshots_dir, st.snapshots_dir / sid, two / "cache"):
        (where / "evil.pkl").write_bytes(payload)
    (st.snapshots_dir / sid / "creators.pkl").write_bytes(payload)
    # Nothing may unpickle at all while the store is read, rebuilt, rolled back or erased from.
    def refuse(*a, **k):
        raise AssertionError("something tried to unpickle")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    Matcher(two, encoder=encoder).load().recommend("vegan protein cookbook", k=3)
    st.read_matches()
    _run(world, two, night="a")
    st.rollback()
    from matcher.erasure import forget

    forget(two, ["c000001"])
    Store(two).load()
    assert not marker.exists()


# -- privacy --------------------------------------------------------------------------------------------
def test_contacts_are_kept_as_fields_but_never_embedded_or_logged(world, tmp_path, encoder, caplog):
    c = pd.read_csv(world.b["creators"], dtype=str, keep_default_na=False)
    p = pd.read_csv(world.b["posts"], dtype=str, keep_default_na=False)
    who = c["creator_id"].iloc[0]
    raw_bio = c.loc[0, "bio"] + " Bookings: Team.Ana@Example.com or +41 79 123 45 67"
    c.loc[0, "bio"] = raw_bio
    first_post = p.index[p["creator_id"] == who][0]
    p.loc[first_post, "text"] = p.loc[first_post, "text"] + " DM or mail ana [at] example [dot] org, tel (555) 123-4567"
    c.to_csv(tmp_path / "creators.csv", index=False)
    p.to_csv(tmp_path / "posts.csv", index=False)
    store = world.copy(tmp_path / "store")
    with caplog.at_level(logging.DEBUG):
        run_batch(tmp_path / "creators.csv", tmp_path / "posts.csv", world.b["brands"], store, encoder=encoder, progress=False)
    snap = Store(store).load()
    row = snap.creators[snap.creators["creator_id"] == who].iloc[0]
    assert row["contact_emails"] == "team.ana@example.com|ana@example.org"
    assert row["contact_phones"] == "+41 79 123 45 67|(555) 123-4567"
    everything = " ".join(snap.creators["bio"].fillna("").tolist() + snap.posts["text"].fillna("").tolist())
    for secret in ("@Example.com", "example.com", "ana [at]", "123 45 67", "123-4567"):
        assert secret.lower() not in everything.lower()
        assert secret.lower() not in caplog.text.lower()
    stored_bio = row["bio"]
    assert stored_bio and "Bookings:" in stored_bio
    with EmbeddingCache(Store(store).cache_path) as cache:
        assert cache.get_many([content_hash(stored_bio, namespace=encoder.model_id)], encoder.dim_)
        assert not cache.get_many([content_hash(raw_bio, namespace=encoder.model_id)], encoder.dim_)


# -- incremental and idempotent ----------------------------------------------------------------------
def test_unchanged_rerun_loads_no_model_reuses_the_index_and_exports_identical_bytes(world, two, tmp_path):
    first = export_bytes(two, tmp_path / "1.csv")
    lazy = Encoder()
    before = Store(two).verify(Store(two).current_id())["files"]
    res = _run(world, two, encoder=lazy)
    assert res.encoded == 0 and res.index_build == "reused"
    after = Store(two).verify(res.snapshot_id)["files"]
    for name in ("index.faiss", "creator_vectors.npy", "creator_ids.npy", "index.json"):  # the same bytes, untouched
        assert after[name] == before[name], name
    assert not hasattr(lazy, "model_"), "nothing new to encode, so the model must not be loaded"
    assert export_bytes(two, tmp_path / "2.csv") == first == world.export_b
    # A fresh store (same inputs, same cache, other history) exports the same bytes too.
    fresh = tmp_path / "fresh"
    shutil.copytree(two / "cache", fresh / "cache")
    _run(world, fresh, encoder=Encoder())
    assert export_bytes(fresh, tmp_path / "3.csv") == world.export_b


def test_changed_text_is_the_only_text_encoded(world, tmp_path, encoder):
    store = world.copy(tmp_path / "store")
    c = pd.read_csv(world.b["creators"], dtype=str, keep_default_na=False)
    c.loc[[1, 2], "bio"] = ["Ultralight backpacking and fastpacking in the Alps.", "Sourdough baker sharing weekly bread recipes."]
    c.to_csv(tmp_path / "creators.csv", index=False)
    res = run_batch(tmp_path / "creators.csv", world.b["posts"], world.b["brands"], store, encoder=encoder, progress=False)
    assert res.encoded == 2 and res.index_build == "updated"  # an exact index: the two rows replaced in place


def test_hnsw_index_is_extended_when_creators_are_only_added(world, tmp_path, encoder):
    store = tmp_path / "store"
    shutil.copytree(world.base / "cache", store / "cache")
    c = pd.read_csv(world.a["creators"], dtype=str, keep_default_na=False)
    newest = Store(world.base).load(world.snapshot_a).creators["creator_id"].tolist()[-3:]
    c[~c["creator_id"].isin(newest)].to_csv(tmp_path / "fewer.csv", index=False)  # the newest three are not there yet
    # Their posts are quarantined in the first run, hence the higher ceiling.
    cfg = Config.from_dict({"index": {"exact_max": 10}, "batch": {"max_quarantine_rate": 0.2}})
    first = run_batch(tmp_path / "fewer.csv", world.a["posts"], world.a["brands"], store, config=cfg, encoder=encoder, progress=False)
    assert first.index_build == "rebuilt"
    more = run_batch(world.a["creators"], world.a["posts"], world.a["brands"], store, config=cfg, encoder=encoder, progress=False)
    snap = Store(store).load()
    assert snap.index.kind_ == "hnsw" and snap.index.size == len(snap.creators) > first.counts["creators"]["accepted"]
    assert more.index_build == "extended"
    hits = snap.index.search(snap.index.vectors_, 1)
    own = np.mean([h[0].id == cid for h, cid in zip(hits, snap.index.ids_.tolist())])
    assert own >= 0.95


def test_hnsw_index_is_updated_in_place_when_creators_change(world, tmp_path, encoder, monkeypatch):
    store = world.copy(tmp_path / "store")
    cfg = Config.from_dict({"index": {"exact_max": 10, "max_dead_fraction": 0.5}})
    first = run_batch(*world.b.values(), store, config=cfg, encoder=encoder, progress=False)
    assert first.index_build == "rebuilt"
    before = Store(store).load()
    c = pd.read_csv(world.b["creators"], dtype=str, keep_default_na=False)
    changed = c.loc[[1, 2], "creator_id"].tolist()
    c.loc[[1, 2], "bio"] = ["Ultralight backpacking and fastpacking in the Alps.", "Sourdough baker sharing weekly bread recipes."]
    c.to_csv(tmp_path / "creators.csv", index=False)
    reads: list[str] = []
    iter_files = Directory.iter

    def counted(self, name, *, size):
        reads.append(self.where(name))
        return iter_files(self, name, size=size)

    monkeypatch.setattr(Directory, "iter", counted)
    res = run_batch(tmp_path / "creators.csv", world.b["posts"], world.b["brands"], store, config=cfg, encoder=encoder, progress=False)
    monkeypatch.undo()
    assert res.index_build == "updated"
    # The previous snapshot's vectors are read twice: verified with the whole snapshot when the run
    # starts, then read to plan the update. Loading its graph to update it takes their checked shape
    # instead of hashing the file a third time.
    previous_vectors = str(Path(Store(store).snapshot_source(first.snapshot_id).where("creator_vectors.npy")))
    assert reads.count(previous_vectors) == 2
    snap = Store(store).load()
    index = snap.index
    assert index.kind_ == "hnsw" and index.ids_.tolist() == snap.creators["creator_id"].astype(str).tolist()
    assert index.dead == 2 and index.nodes == index.size + 2
    assert Store(store).verify(res.snapshot_id)["index"]["dead"] == 2
    for cid in changed:  # their old vectors are dead: the best hit for an old vector is never the old node
        old = before.index.vectors_[before.index.row_of(cid)]
        new = index.vectors_[index.row_of(cid)]
        assert not np.array_equal(old, new)
        hits = index.search(old, index.size)[0]
        assert len(hits) == index.size and len({h.id for h in hits}) == index.size
        assert next(h.score for h in hits if h.id == cid) == pytest.approx(float(new @ old), abs=1e-5)
    unchanged = [cid for cid in index.ids_.tolist() if cid not in changed]
    np.testing.assert_array_equal(
        index.vectors_[[index.row_of(c) for c in unchanged]], before.index.vectors_[[before.index.row_of(c) for c in unchanged]]
    )
    # Past the threshold the next run builds the graph again, without dead nodes.
    strict = Config.from_dict({"index": {"exact_max": 10, "max_dead_fraction": 0.0}})
    again = run_batch(*world.b.values(), store, config=strict, encoder=encoder, progress=False)
    assert again.index_build == "rebuilt" and Store(store).load().index.dead == 0


def test_manifest_records_what_the_brief_asks(two):
    st = Store(two)
    m = st.verify(st.current_id())
    for key in ("counts", "index", "model", "config_hash", "input_fingerprint", "audit", "run_key", "parent", "files"):
        assert key in m, key
    assert m["index"]["size"] == m["counts"]["creators"] and m["model"]["dim"] == 384
    assert "matches.parquet" in m["files"] and all({"sha256", "bytes"} <= set(v) for v in m["files"].values())
    frame = pd.read_parquet(io.BytesIO((st.snapshots_dir / st.current_id() / "matches.parquet").read_bytes()))
    pd.testing.assert_frame_equal(frame, st.read_matches())


def test_blanked_values_never_fail_the_audit_but_rejected_rows_still_do(world, tmp_path):
    # A real export's messy optional fields: country names, negative and garbled counts, odd flags.
    store = world.copy(tmp_path / "store")
    creators = pd.read_csv(world.b["creators"], dtype=str, keep_default_na=False)
    posts = pd.read_csv(world.b["posts"], dtype=str, keep_default_na=False)
    written = {"US": "U.S.A", "GB": "U.K.", "DE": "Deutschland", "ES": "España", "IN": "India", "KR": "South Korea", "BR": "Brasil"}
    given = creators["country"].copy()
    creators["country"] = [written.get(c, c.lower()) for c in given]
    creators.loc[::10, "country"] = "Narnia"
    creators.loc[::7, "followers"] = "-500"
    languages = dict(zip(creators["creator_id"], creators["language"]))
    creators.loc[1::3, "language"] = "Klingon"
    posts.loc[::2, "likes"] = "lots"
    posts.loc[1::3, "sponsored"] = "maybe"
    messy = {"creators": tmp_path / "creators.csv", "posts": tmp_path / "posts.csv"}
    creators.to_csv(messy["creators"], index=False)
    posts.to_csv(messy["posts"], index=False)
    res = run_batch(messy["creators"], messy["posts"], world.b["brands"], store, progress=False)
    blanked = sum(c["blanked"] for c in res.counts.values())
    read = sum(c["read"] for c in res.counts.values())
    assert blanked > 0.5 * read  # far above the 5% ceiling, were they counted
    assert res.counts["creators"]["accepted"] == len(set(creators["creator_id"]) - {""})
    assert all(c["accepted"] + c["quarantined"] + c["suppressed"] == c["read"] for c in res.counts.values())
    q = pd.read_csv(res.quarantine_path, dtype=str, keep_default_na=False)
    assert list(q.columns) == ["file", "row", "id", "field", "action", "reason"]
    assert (q["action"] == "blanked").sum() == blanked
    assert (q["action"] == "rejected").sum() == sum(c["quarantined"] for c in res.counts.values())
    snap = Store(store).load()
    assert snap.snapshot_id == res.snapshot_id
    stored = snap.creators.set_index("creator_id")["country"]
    original = dict(zip(creators["creator_id"], given))
    narnia = set(creators.loc[creators["country"] == "Narnia", "creator_id"])
    assert all(pd.isna(v) if cid in narnia else v == original[cid] for cid, v in stored.items())
    # The unreadable languages were left blank, then detected from the posts: as the file had them.
    klingon = snap.creators[snap.creators["creator_id"].isin(creators.loc[1::3, "creator_id"])]
    detected = klingon[klingon["language_source"] == "detected"]
    assert len(detected) > 0.8 * len(klingon)
    agree = (detected["language"] == detected["creator_id"].map(languages)).mean()
    assert agree > 0.8, detected[["creator_id", "language"]]
    assert "unreadable optional values left blank" in res.audit["checks"][-1]["detail"]

    # Rejected rows still count: posts whose creator id is blank are refused above the ceiling.
    posts.loc[: len(posts) // 5, "creator_id"] = ""
    posts.to_csv(messy["posts"], index=False)
    with pytest.raises(AuditError, match=r"rows quarantined .*ceiling 5%"):
        run_batch(messy["creators"], messy["posts"], world.b["brands"], store, progress=False)
    assert Store(store).current_id() == res.snapshot_id


# -- what the store trusts: confined manifests, one served snapshot, runs that died ----------------------
def _rewrite_manifest(st: Store, sid: str, change) -> None:
    import json

    path = st.snapshots_dir / sid / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest["files"])
    path.write_text(json.dumps(manifest))


def test_manifest_entries_outside_the_snapshot_or_never_ending_are_refused(world, two, tmp_path):
    import hashlib
    import os
    import stat

    st = Store(two)
    bad = st.current_id()
    outside = tmp_path / "secret.txt"
    outside.write_text("not part of any snapshot")
    digest = hashlib.sha256(outside.read_bytes()).hexdigest()
    rel = os.path.relpath(outside, st.snapshots_dir / bad)
    _rewrite_manifest(st, bad, lambda files: files.update({rel: {"sha256": digest, "bytes": outside.stat().st_size}}))
    with pytest.raises(StoreError, match="not a plain file name"):
        Store(two).load(bad)
    assert Store(two).resolve() == world.snapshot_a

    # A manifest naming a file that never ends (a FIFO with no writer, a device) must neither hang nor
    # read without bound: every reader refuses it at once and serves the earlier snapshot.
    _rewrite_manifest(st, bad, lambda files: files.pop(rel))
    vectors = st.snapshots_dir / bad / "post_vectors.npy"
    size = vectors.stat().st_size
    vectors.unlink()
    try:
        os.mknod(vectors, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero
    except PermissionError:
        os.mkfifo(vectors)
    _rewrite_manifest(st, bad, lambda files: files["post_vectors.npy"].update(bytes=size))
    for args in (["export", "--store", str(two), "--out", str(tmp_path / "x.csv")], ["recommend", "--store", str(two), "vegan protein", "--k", "2"]):
        t0 = time.monotonic()
        p = cli(*args, timeout=120)
        assert p.returncode == 0, p.stderr
        assert time.monotonic() - t0 < 120
        assert "not a regular file" in p.stderr and "serving the earlier snapshot" in p.stderr
    assert (tmp_path / "x.csv").read_bytes() == world.export_a


def test_every_reader_serves_the_same_snapshot_when_a_checksummed_file_does_not_parse(world, two, encoder, tmp_path):
    """A .npy replaced by a pickled array, its checksum rewritten to match: checksums pass, the load does not."""
    import hashlib
    import json

    from fastapi.testclient import TestClient

    from matcher.cli import main
    from matcher.evaluate import evaluate_store
    from matcher.serve import create_app

    st = Store(two)
    bad = st.current_id()
    path = st.snapshots_dir / bad / "post_offsets.npy"
    buf = io.BytesIO()
    np.save(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    path.write_bytes(buf.getvalue())
    _rewrite_manifest(st, bad, lambda files: files["post_offsets.npy"].update(sha256=hashlib.sha256(buf.getvalue()).hexdigest(), bytes=len(buf.getvalue())))
    with pytest.raises(StoreError, match="Python objects"):
        st.verify(bad)  # its checksum matches; its header is refused

    assert Store(two).served().snapshot_id == world.snapshot_a
    assert Store(two).resolve() == world.snapshot_a
    assert Matcher(two, encoder=encoder).load().snapshot_id == world.snapshot_a
    assert export_bytes(two, tmp_path / "x.csv") == world.export_a
    assert Store(two).read_matches().equals(Store(two).read_matches(world.snapshot_a))
    with TestClient(create_app(two, encoder=encoder)) as client:
        assert client.get("/healthz").json()["snapshot_id"] == world.snapshot_a
        brand = Store(two).read_matches(world.snapshot_a)["brand_id"].iloc[0]
        assert client.get(f"/brands/{brand}/matches").json()["snapshot_id"] == world.snapshot_a
    a = Store(two).read_matches(world.snapshot_a)
    qrels = a[a["rank"] <= 2][["brand_id", "creator_id"]].assign(grade=1)
    assert evaluate_store(two, qrels).aggregate == evaluate_store(two, qrels, snapshot_id=world.snapshot_a).aggregate
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        assert main(["-q", "matches", "--store", str(two), "--brand", str(brand), "--k", "3"]) == 0
    first = a[a["brand_id"] == brand].iloc[0]
    handles = Store(two).load(world.snapshot_a).creators.set_index("creator_id")["handle"]
    assert f"{handles[first['creator_id']]}  score {first['score']:.3f}" in out.getvalue()


def test_a_killed_run_shows_as_interrupted_at_once(world, tmp_path):
    store = world.copy(tmp_path / "store")
    p = cli(*world.batch_args(store), env=tinystore.cli_env(MATCHERTEST_CRASH_AT="embed"))
    assert p.returncode == -9, p.stderr[-2000:]
    st = Store(store)
    raw = st.connect().execute("SELECT status FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    assert raw == "running"  # nobody has closed its history row
    assert st.runs(1)[0]["status"] == "interrupted"
    shown = cli("runs", "--store", str(store), "--limit", "1")
    assert "interrupted" in shown.stdout and "running" not in shown.stdout

    # While a process holds the lock, its run is shown as running.
    held, release = threading.Event(), threading.Event()

    def holder():
        with Store(store).lock("matcher batch"):
            Store(store).record_run("zz-live", status="running", started_at="2999-01-01T00:00:00+00:00")
            held.set()
            release.wait(60)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(10)
        assert Store(store).runs(1)[0] == {**Store(store).runs(1)[0], "run_id": "zz-live", "status": "running"}
    finally:
        release.set()
        t.join()
    assert Store(store).runs(1)[0]["status"] == "interrupted"


def test_export_escapes_formula_ids_and_ingest_strips_control_characters(world, tmp_path):
    import csv

    c = pd.read_csv(world.b["creators"], dtype=str, keep_default_na=False)
    p = pd.read_csv(world.b["posts"], dtype=str, keep_default_na=False)
    b = pd.read_csv(world.b["brands"], dtype=str, keep_default_na=False)
    hostile = ["=1+1", "@SUM(1)", '=HYPERLINK("http://evil.example","x")', "-2+3", "\x1b[31mred\x00x"]
    rename = dict(zip(c["creator_id"].iloc[: len(hostile)], hostile))
    c["creator_id"] = c["creator_id"].replace(rename)
    p["creator_id"] = p["creator_id"].replace(rename)
    b.loc[0, "brand_id"] = "+cmd|' /C calc'!A0"
    files = {}
    for name, frame in (("creators", c), ("posts", p), ("brands", b)):
        files[name] = tmp_path / f"{name}.jsonl"
        frame.to_json(files[name], orient="records", lines=True, force_ascii=False)
    store = world.copy(tmp_path / "store")
    run_batch(files["creators"], files["posts"], files["brands"], store, progress=False)
    ids = set(Store(store).load().creators["creator_id"])
    assert "[31mredx" in ids and not any("\x1b" in i or "\x00" in i for i in ids)

    raw = export_bytes(store, tmp_path / "x.csv").decode()
    assert "\x1b" not in raw and "\x00" not in raw
    rows = list(csv.DictReader(io.StringIO(raw)))
    for row in rows:
        for col in ("brand_id", "creator_id"):
            assert not row[col].startswith(("=", "+", "-", "@", "\t", "\r")), row
        for col in ("rank", "score", "topic", "penalty"):
            float(row[col])  # numbers stay numbers
    exported = {r["creator_id"] for r in rows}
    assert "'=1+1" in exported or "'@SUM(1)" in exported or "'-2+3" in exported
    assert any(r["brand_id"] == "'+cmd|' /C calc'!A0" for r in rows)


def test_obfuscated_contacts_in_bios_handles_and_extra_columns_are_moved_out_and_never_embedded(world, tmp_path, encoder):
    c = pd.read_csv(world.b["creators"], dtype=str, keep_default_na=False)
    who = c["creator_id"].iloc[1]
    raw_bio = c.loc[1, "bio"] + " Bookings (555)123-4567 or jane dot doe at gmail dot com, chat wa.me/15551234567"
    c.loc[1, "bio"] = raw_bio
    c.loc[1, "handle"] = "jane.doe@gmail.com"
    c["notes"] = ""
    c.loc[1, "notes"] = "agent: mgmt @ talenthouse.com, 555–987–6543"
    c.to_csv(tmp_path / "creators.csv", index=False)
    store = world.copy(tmp_path / "store")
    run_batch(tmp_path / "creators.csv", world.b["posts"], world.b["brands"], store, encoder=encoder, progress=False)
    row = Store(store).load().creators.set_index("creator_id").loc[who]
    for secret in ("4567", "6543", "gmail", "talenthouse", "wa.me"):
        for col in ("bio", "handle", "notes"):
            assert secret not in str(row[col]), (col, row[col])
    assert set(row["contact_emails"].split("|")) == {"jane.doe@gmail.com", "mgmt@talenthouse.com"}
    assert {"(555)123-4567", "+15551234567", "555–987–6543"} <= set(row["contact_phones"].split("|"))
    assert row["contact_links"] == "wa.me/15551234567"
    with EmbeddingCache(Store(store).cache_path) as cache:
        assert cache.get_many([content_hash(row["bio"], namespace=encoder.model_id)], encoder.dim_)
        assert not cache.get_many([content_hash(raw_bio, namespace=encoder.model_id)], encoder.dim_)
