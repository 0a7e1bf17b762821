import numpy as np
import pytest

from matcher.errors import NotFittedError, StoreError
from matcher.index import VectorIndex, normalize_rows


def _data(n=500, d=32, seed=0):
    rng = np.random.default_rng(seed)
    # Clustered vectors, like topical embeddings, rather than uniform noise.
    centers = rng.normal(size=(8, d))
    x = centers[rng.integers(0, 8, n)] + 0.3 * rng.normal(size=(n, d))
    return x.astype(np.float32), [f"c{i:04d}" for i in range(n)]


def _brute(x, q, k, allowed=None):
    x = normalize_rows(x)
    q = normalize_rows(q)[0]
    s = x @ q
    rows = np.arange(len(x)) if allowed is None else np.flatnonzero(allowed)
    order = rows[np.lexsort((rows, -s[rows]))][:k]
    return order, s[order]


def test_exact_search_equals_brute_force():
    x, ids = _data()
    idx = VectorIndex().build(x, ids)
    assert idx.kind_ == "flat"
    rng = np.random.default_rng(1)
    for _ in range(20):
        q = rng.normal(size=(32,)).astype(np.float32)
        hits = idx.search(q, 10)[0]
        rows, scores = _brute(x, q, 10)
        np.testing.assert_allclose([h.score for h in hits], scores, rtol=1e-5, atol=1e-5)
        assert [h.row for h in hits] == rows.tolist()
        assert [h.id for h in hits] == [ids[r] for r in rows]


def test_build_does_not_modify_callers_vectors():
    x, ids = _data(50)
    before = x.copy()
    VectorIndex().build(x, ids)
    np.testing.assert_array_equal(x, before)


def test_batch_search_equals_single_searches():
    x, ids = _data()
    idx = VectorIndex().build(x, ids)
    qs = np.random.default_rng(2).normal(size=(7, 32)).astype(np.float32)
    batch = idx.search(qs, 5)
    for i in range(7):
        assert [h.id for h in idx.search(qs[i], 5)[0]] == [h.id for h in batch[i]]


@pytest.mark.parametrize("kind_max", [10_000, 100])  # flat, then HNSW
def test_search_each_equals_one_search_per_request(kind_max):
    x, ids = _data(500)
    idx = VectorIndex(exact_max=kind_max).build(x, ids)
    rng = np.random.default_rng(4)
    requests = [(rng.normal(size=32).astype(np.float32), k, None if i % 3 == 0 else rng.random(500) < 0.1 * i) for i, k in enumerate((1, 5, 40, 7, 300, 2))]
    got = idx.search_each(r for r in requests)  # a generator: taken one at a time
    assert got == [idx.search(q, k, allowed=m)[0] for q, k, m in requests]
    assert [len(h) for h in got] == [min(k, 500 if m is None else int(m.sum())) for _, k, m in requests]


def test_k_larger_than_collection_returns_everything_without_padding():
    x, ids = _data(12)
    idx = VectorIndex().build(x, ids)
    hits = idx.search(x[0], 50)[0]
    assert len(hits) == 12
    assert sorted(h.id for h in hits) == sorted(ids)
    assert all(h.row >= 0 for h in hits)


@pytest.mark.parametrize("kind_max", [10_000, 100])  # flat, then HNSW (500 > 100)
def test_filters_return_k_when_k_qualify(kind_max):
    x, ids = _data(500)
    idx = VectorIndex(exact_max=kind_max).build(x, ids)
    rng = np.random.default_rng(3)
    for frac in (0.004, 0.02, 0.3, 0.9):
        allowed = rng.random(500) < frac
        m = int(allowed.sum())
        q = rng.normal(size=32).astype(np.float32)
        hits = idx.search(q, 10, allowed=allowed)[0]
        assert len(hits) == min(10, m)
        assert all(allowed[h.row] for h in hits)
        if m and (kind_max == 10_000 or m <= 0.05 * 500):
            rows, _ = _brute(x, q, 10, allowed)
            assert [h.row for h in hits] == rows.tolist()


def test_hnsw_recall_against_exact():
    x, ids = _data(3000, 32, seed=5)
    exact = VectorIndex().build(x, ids)
    ann = VectorIndex(exact_max=1000).build(x, ids)
    assert ann.kind_ == "hnsw"
    qs = np.random.default_rng(6).normal(size=(50, 32)).astype(np.float32)
    e, a = exact.search(qs, 10), ann.search(qs, 10)
    recall = np.mean([len({h.id for h in ei} & {h.id for h in ai}) / 10 for ei, ai in zip(e, a)])
    assert recall >= 0.95


def test_empty_filter_and_errors():
    x, ids = _data(20)
    idx = VectorIndex().build(x, ids)
    assert idx.search(x[0], 5, allowed=np.zeros(20, bool)) == [[]]
    with pytest.raises(ValueError, match="at least one"):
        idx.search(x[0], 0)
    with pytest.raises(ValueError, match="dimension"):
        idx.search(np.ones(3, np.float32), 1)
    with pytest.raises(ValueError, match="unique"):
        VectorIndex().build(x[:2], ["a", "a"])
    with pytest.raises(NotFittedError):
        VectorIndex().search(x[0], 1)


def test_save_load_roundtrip_verifies_checksums(tmp_path):
    import hashlib

    x, ids = _data(100)
    idx = VectorIndex().build(x, ids)
    names = idx.save(tmp_path)
    sums = {n: hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in names}
    back = VectorIndex.load(tmp_path, checksums=sums)
    q = x[3]
    assert [h.id for h in back.search(q, 5)[0]] == [h.id for h in idx.search(q, 5)[0]]
    data = bytearray((tmp_path / "index.faiss").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "index.faiss").write_bytes(bytes(data))
    with pytest.raises(StoreError, match="checksum"):
        VectorIndex.load(tmp_path, checksums=sums)


@pytest.mark.parametrize("exact_max", [100_000, 1_000])  # flat, and HNSW (its storage is scanned)
def test_filtered_exact_scan_equals_brute_force_and_orders_ties_by_row(exact_max, monkeypatch):
    import matcher.index as index_mod

    rng = np.random.default_rng(0)
    n = 3_000
    x = rng.standard_normal((n, 24)).astype(np.float32)
    x[7] = x[11]  # a tie: order must still follow the row
    x[100:140] = x[11]  # more ties at one score than the fetch margin holds
    idx = VectorIndex(exact_max=exact_max, hnsw_m=8, ef_construction=20).build(x, [f"c{i}" for i in range(n)])
    allowed = rng.random(n) < 0.3
    allowed[[7, 11]] = True
    monkeypatch.setattr(idx, "exact_filter_fraction", 1.0)  # the exact scan, also for HNSW
    queries = np.vstack([x[7], rng.standard_normal((2, 24)).astype(np.float32)])
    for k in (1, 5, 40):
        got = idx.search(queries, k, allowed=allowed)
        for q, hits in zip(queries, got):
            rows, scores = _brute(x, q[None, :], k, allowed)
            assert [h.row for h in hits] == rows.tolist()
            np.testing.assert_allclose([h.score for h in hits], scores, rtol=1e-5, atol=1e-5)
    hits = idx.search(x[7], 30, allowed=allowed)[0]
    tied = [h.row for h in hits if h.score == hits[0].score]
    assert tied == sorted(tied) and tied[:2] == [7, 11] and len(tied) == 2 + int(allowed[100:140].sum())
    # Fewer rows tie at the cut than the margin: the same answer.
    monkeypatch.setattr(index_mod, "TIE_MARGIN", 0)
    assert [h.row for h in idx.search(x[7], 30, allowed=allowed)[0]] == [h.row for h in hits]


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_a_subset_scan_split_across_threads_equals_brute_force(threads, monkeypatch):
    import faiss

    import matcher.index as index_mod

    rng = np.random.default_rng(3)
    n = 2_000
    x = rng.standard_normal((n, 16)).astype(np.float32)
    x[50:90] = x[5]  # ties spread over the slices, more than the fetch margin
    idx = VectorIndex().build(x, [f"c{i}" for i in range(n)])
    allowed = rng.random(n) < 0.4
    allowed[[5, 50, 89]] = True
    monkeypatch.setattr(index_mod, "PARALLEL_SCAN_MIN_ROWS", 10)
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        for q in (x[5], rng.standard_normal(16).astype(np.float32)):
            for k in (1, 7, 60, int(allowed.sum()) + 5):
                got = idx.search(q, k, allowed=allowed)[0]
                rows, scores = _brute(x, q[None, :], k, allowed)
                assert [h.row for h in got] == rows.tolist()
                np.testing.assert_allclose([h.score for h in got], scores, rtol=1e-5, atol=1e-5)
    finally:
        faiss.omp_set_num_threads(before)


def test_a_wide_filter_over_fetches_and_equals_the_exact_filtered_scan(monkeypatch):
    # A mask that leaves out a few rows (brand accounts) is applied after an ordinary search with
    # over-fetch; on an exact index that must give exactly what the scan of the allowed rows gives.
    import matcher.index as index_mod

    x, ids = _data(2000, seed=4)
    x[50:80] = x[3]  # a block of equal scores
    idx = VectorIndex().build(x, ids)
    assert idx.kind_ == "flat"
    rng = np.random.default_rng(8)
    queries = np.vstack([x[3], rng.normal(size=(20, 32)).astype(np.float32)])
    masks = [rng.random(2000) > 0.02, rng.random(2000) > 0.4]
    # Excluded rows crowding the top of one query force a second, larger fetch.
    near = np.argsort(-(normalize_rows(x) @ normalize_rows(queries[1])[0]))
    crowded = np.ones(2000, bool)
    crowded[near[:150]] = False
    masks.append(crowded)
    for allowed in masks:
        for k in (1, 10, 200):
            over = idx.search(queries, k, allowed=allowed)
            monkeypatch.setattr(index_mod, "OVERFETCH_MIN_FRACTION", 2.0)  # never: the exact scan of the allowed rows
            scan = idx.search(queries, k, allowed=allowed)
            monkeypatch.undo()
            assert over == scan  # ids, rows and scores, bit for bit
            assert all(len(h) == k and all(allowed[x.row] for x in h) for h in over)


def test_a_wide_filter_on_hnsw_returns_k_allowed_hits():
    x, ids = _data(3000, seed=5)
    ann = VectorIndex(exact_max=1000).build(x, ids)
    exact = VectorIndex().build(x, ids)
    rng = np.random.default_rng(9)
    allowed = rng.random(3000) > 0.03
    qs = rng.normal(size=(30, 32)).astype(np.float32)
    a, e = ann.search(qs, 10, allowed=allowed), exact.search(qs, 10, allowed=allowed)
    assert all(len(h) == 10 and all(allowed[x.row] for x in h) for h in a)
    recall = np.mean([len({h.id for h in ai} & {h.id for h in ei}) / 10 for ai, ei in zip(a, e)])
    assert recall >= 0.95
    # Allowed rows rare near the query: larger fetches, then the exact scan, but never short.
    near = np.argsort(-(normalize_rows(x) @ normalize_rows(qs[0])[0]))
    crowded = np.ones(3000, bool)
    crowded[near[:1400]] = False
    hits = ann.search(qs[0], 10, allowed=crowded)[0]
    assert len(hits) == 10 and all(crowded[h.row] for h in hits)


@pytest.mark.parametrize("exact_max", [10_000, 100])  # flat, HNSW
def test_vectors_are_a_read_only_view_of_the_index_storage(exact_max, tmp_path):
    import gc
    import hashlib

    x, ids = _data(500)
    idx = VectorIndex(exact_max=exact_max).build(x, ids)
    v = idx.vectors_
    np.testing.assert_array_equal(v, normalize_rows(x))
    assert v.dtype == np.float32 and not v.flags.writeable
    with pytest.raises(ValueError):
        v[0, 0] = 1.0
    # No second copy: the view's memory is FAISS's own.
    import faiss

    flat = idx.index_ if idx.kind_ == "flat" else faiss.downcast_index(idx.index_.storage)
    assert np.shares_memory(v, faiss.rev_swig_ptr(flat.get_xb(), 500 * 32))
    # The view keeps the index alive after the VectorIndex is gone.
    del idx, flat
    gc.collect()
    np.testing.assert_array_equal(v, normalize_rows(x))

    idx = VectorIndex(exact_max=exact_max).build(x, ids)
    idx.vectors_ = normalize_rows(x)  # what it holds: accepted
    with pytest.raises(ValueError, match="add vectors to index_"):
        idx.vectors_ = normalize_rows(x)[::-1]
    names = idx.save(tmp_path)
    sums = {n: hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in names}
    back = VectorIndex.load(tmp_path, checksums=sums)
    np.testing.assert_array_equal(back.vectors_, idx.vectors_)
    assert (back.size, back.dim) == (500, 32)
    np.save(tmp_path / "creator_vectors.npy", normalize_rows(x)[:10])
    with pytest.raises(StoreError, match="checksum"):
        VectorIndex.load(tmp_path, checksums=sums)
    sums["creator_vectors.npy"] = hashlib.sha256((tmp_path / "creator_vectors.npy").read_bytes()).hexdigest()
    with pytest.raises(StoreError, match="shape"):
        VectorIndex.load(tmp_path, checksums=sums)
    with pytest.raises(NotFittedError):
        VectorIndex().vectors_


@pytest.mark.parametrize("exact_max", [10_000, 100])  # flat, then HNSW
def test_extend_adds_rows_after_the_indexed_ones(exact_max):
    x, ids = _data(400)
    idx = VectorIndex(exact_max=exact_max).build(x[:300], ids[:300])
    kind = idx.kind_
    assert idx.extend(x[300:], ids[300:]) is idx
    assert idx.kind_ == kind and idx.size == 400
    np.testing.assert_array_equal(idx.vectors_, normalize_rows(x))
    assert idx.ids_.tolist() == ids and idx.row_of(ids[350]) == 350
    q = x[350:351]
    assert idx.search(q, 1)[0][0].id == ids[350]
    if kind == "flat":  # an exact index extended answers as one built over everything
        whole = VectorIndex(exact_max=exact_max).build(x, ids)
        assert idx.search(x[:20], 10) == whole.search(x[:20], 10)
    with pytest.raises(ValueError, match="not indexed yet"):
        idx.extend(x[:1], [ids[0]])
    with pytest.raises(ValueError, match="one vector"):
        idx.extend(x[:2], ["new"])
    assert idx.size == 400


def test_remove_equals_a_build_over_the_remaining_creators():
    x, ids = _data(300)
    gone = {ids[0], ids[17], ids[299], "not-indexed"}
    keep = [i for i, c in enumerate(ids) if c not in gone]
    idx = VectorIndex(exact_filter_fraction=0.2).build(x, ids)
    stored = np.array(idx.vectors_, copy=True)
    assert idx.remove(gone) is idx
    want = VectorIndex(exact_filter_fraction=0.2).build(stored[keep], [ids[i] for i in keep])
    assert idx.ids_.tolist() == want.ids_.tolist() and idx.exact_filter_fraction == 0.2
    np.testing.assert_array_equal(idx.vectors_, want.vectors_)
    assert idx.search(x[:10], 15) == want.search(x[:10], 15)
    assert idx.row_of(ids[0]) is None and idx.row_of(ids[1]) == 0
    # Left with fewer than exact_max creators, an HNSW index becomes exact, as build() would choose.
    assert VectorIndex(exact_max=250).build(x, ids).remove(ids[:100]).kind_ == "flat"


# -- updating an index in place ----------------------------------------------------------------
def _night(x, ids, *, seed, replace=0.05, remove=0.02, add=0.03):
    """The next run's creators: some vectors replaced, some creators gone, some new, order shuffled a little."""
    rng = np.random.default_rng(seed)
    n, d = x.shape
    x2 = x.copy()
    changed = rng.choice(n, int(replace * n), replace=False)
    x2[changed] = x[rng.choice(n, len(changed))] + 0.3 * rng.normal(size=(len(changed), d)).astype(np.float32)
    keep = np.sort(rng.choice(n, n - int(remove * n), replace=False))
    new_x = x[rng.choice(n, int(add * n))] + 0.3 * rng.normal(size=(int(add * n), d)).astype(np.float32)
    out_x = np.concatenate([x2[keep], new_x]).astype(np.float32)
    out_ids = [ids[i] for i in keep] + [f"n{seed}-{i:05d}" for i in range(len(new_x))]
    swap = rng.choice(len(out_ids), 20, replace=False)  # a few creators move (the input's order changed)
    perm = np.arange(len(out_ids))
    perm[swap] = perm[swap[::-1]]
    return out_x[perm], [out_ids[i] for i in perm], {ids[i] for i in changed}


def test_an_exact_index_updated_in_place_answers_as_one_built_from_scratch():
    x, ids = _data(600)
    idx = VectorIndex().build(x, ids)
    for night in range(3):
        x, ids, changed = _night(x, ids, seed=night)
        assert idx.update(x, ids, max_dead_fraction=0.2) is idx
        assert idx.update_.action == "updated" and idx.update_.replaced > 0 and idx.update_.removed > 0
        whole = VectorIndex().build(x, ids)
        assert idx.kind_ == "flat" and idx.dead == 0 and idx.nodes == idx.size == len(ids)
        assert idx.ids_.tolist() == ids
        np.testing.assert_array_equal(idx.vectors_, whole.vectors_)
        qs = np.random.default_rng(night).normal(size=(25, 32)).astype(np.float32)
        assert idx.search(qs, 10) == whole.search(qs, 10)
        allowed = np.random.default_rng(night).random(len(ids)) < 0.3
        assert idx.search(qs, 10, allowed=allowed) == whole.search(qs, 10, allowed=allowed)


def test_an_updated_hnsw_index_keeps_recall_against_exact_search():
    x, ids = _data(4000, 32, seed=5)
    ann = VectorIndex(exact_max=1000).build(x, ids)
    for night in range(2):  # two nights: ~11% of the graph dead
        x, ids, _ = _night(x, ids, seed=10 + night)
        ann.update(x, ids, max_dead_fraction=0.2)
        assert ann.update_.action == "updated"
    assert ann.kind_ == "hnsw" and 0.08 < ann.dead / ann.nodes < 0.2
    exact = VectorIndex().build(x, ids)
    fresh = VectorIndex(exact_max=1000).build(x, ids)
    qs = np.random.default_rng(6).normal(size=(200, 32)).astype(np.float32)

    def recall(index):
        found = index.search(qs, 10)
        assert all(h.row < index.size and index.ids_[h.row] == h.id for hs in found for h in hs)
        return np.mean([len({h.id for h in ei} & {h.id for h in ai}) / 10 for ei, ai in zip(exact.search(qs, 10), found)])

    # Random directions over tight 32-dimensional clusters are a hard case (a fresh graph: ~0.95);
    # dead nodes cost a few points here. On 384-dimensional vectors the loss is under a point of
    # recall per 10% of dead nodes (benchmarks/results/index_update.md).
    assert recall(ann) >= 0.9
    assert recall(ann) >= recall(fresh) - 0.05


def test_replaced_creators_never_come_back_with_their_old_vectors(tmp_path):
    import hashlib

    x, ids = _data(2000, 32, seed=3)
    idx = VectorIndex(exact_max=500).build(x, ids)
    old = normalize_rows(x)
    x2, ids2, changed = _night(x, ids, seed=4, replace=0.1)
    gone = set(ids) - set(ids2)
    idx.update(x2, ids2, max_dead_fraction=0.5)
    assert idx.update_.action == "updated" and idx.dead == idx.update_.replaced + idx.update_.removed > 0
    names = idx.save(tmp_path)
    sums = {n: hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in names}
    back = VectorIndex.load(tmp_path, checksums=sums)
    assert (back.size, back.nodes, back.dead) == (idx.size, idx.nodes, idx.dead)
    # The dead nodes are known by creator (erasure looks for them there).
    assert sorted(back.dead_ids_.tolist()) == sorted(idx.dead_ids_.tolist()) == sorted((changed - gone) | gone)
    new = normalize_rows(x2)
    probes = [ids.index(c) for c in sorted(changed - gone)[:50]] + [ids.index(c) for c in sorted(gone)[:20]]
    for index in (idx, back):
        for row in probes:  # the old vector itself as the query: its dead node would be the best hit
            q = old[row]
            for hits in (index.search(q, 5)[0], index.search(q, 5, allowed=np.ones(index.size, bool))[0], index.search(q, 5, allowed=np.random.default_rng(row).random(index.size) < 0.2)[0]):
                assert all(h.row < index.size and h.id in ids2 for h in hits)
                for h in hits:  # every hit scores with the creator's current vector
                    assert h.score == pytest.approx(float(new[ids2.index(h.id)] @ q), abs=1e-5)
            assert ids[row] not in gone or all(h.id != ids[row] for h in index.search(q, 20)[0])
    # Removing creators (erasure) rebuilds without any dead node, even when none of them is live.
    assert back.remove([sorted(gone)[0]]).dead == 0 and back.dead_ids_.size == 0 and back.size == idx.size
    assert idx.remove([]).dead == 0


@pytest.mark.parametrize("exact_max", [100_000, 500])  # flat, HNSW
def test_an_index_answers_as_the_index_loaded_from_its_files(exact_max, tmp_path):
    """The batch ranks with the index it built or updated in memory, readers with its saved files:
    every answer is the same, bit for bit, with dead nodes in the graph and with filters."""
    import hashlib

    x, ids = _data(2000, 32, seed=5)
    idx = VectorIndex(exact_max=exact_max, hnsw_m=8, ef_construction=16, ef_search=8).build(x, ids)
    x2, ids2, _ = _night(x, ids, seed=6, replace=0.1)
    idx.update(x2, ids2, max_dead_fraction=0.5)
    names = idx.save(tmp_path)
    back = VectorIndex.load(tmp_path, checksums={n: hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in names})
    q = normalize_rows(np.random.default_rng(7).normal(size=(40, 32)).astype(np.float32))
    allowed = np.random.default_rng(8).random(idx.size) < 0.3
    for k in (1, 5, 50):
        assert idx.search(q, k) == back.search(q, k)
        assert idx.search(q, k, allowed=allowed) == back.search(q, k, allowed=allowed)


def _saved(idx, d):
    import hashlib

    names = idx.save(d)
    return {n: hashlib.sha256((d / n).read_bytes()).hexdigest() for n in names}


def _arrays_owned(index):
    """Whether the FAISS index owns its vectors (and, for HNSW, its graph links)."""
    import faiss

    if isinstance(index, faiss.IndexHNSW):
        return faiss.downcast_index(index.storage).codes.is_owned and index.hnsw.neighbors.is_owned
    return index.codes.is_owned


@pytest.mark.parametrize("exact_max", [100_000, 500])  # flat, HNSW
def test_a_loaded_index_is_read_in_place_until_it_is_changed(exact_max, tmp_path):
    """Loading reads the FAISS index out of its file's checked bytes in place (one copy of the graph,
    not three); the first update makes it a copy of its own, and answers as an index read into
    memory of its own (FAISS's ``deserialize_index``) updated the same way, bit for bit."""
    import faiss

    x, ids = _data(2000, 32, seed=12)
    built = VectorIndex(exact_max=exact_max, hnsw_m=8, ef_construction=16, ef_search=8).build(x, ids)
    sums = _saved(built, tmp_path)
    back = VectorIndex.load(tmp_path, checksums=sums)
    assert not _arrays_owned(back.index_)
    q = normalize_rows(np.random.default_rng(13).normal(size=(30, 32)).astype(np.float32))
    assert back.search(q, 10) == built.search(q, 10)
    # A view saves the same bytes as the index it was read from.
    assert _saved(back, tmp_path / "again") == sums
    ref = VectorIndex.load(tmp_path, checksums=sums)
    ref.index_ = faiss.deserialize_index(np.fromfile(tmp_path / "index.faiss", dtype=np.uint8))
    if ref.kind_ == "hnsw":
        ref.index_.hnsw.efSearch = ref.ef_search
    assert _arrays_owned(ref.index_)
    built = ref  # the reference from here on
    x2, ids2, _ = _night(x, ids, seed=14, replace=0.1)
    for idx in (built, back):
        idx.update(x2, ids2, max_dead_fraction=0.5)
    assert back.update_.action == built.update_.action == "updated"
    assert _arrays_owned(back.index_)
    assert back.index_.hnsw.efSearch == 8 if back.kind_ == "hnsw" else True
    assert (back.ids_.tolist(), back.dead_ids_.tolist()) == (built.ids_.tolist(), built.dead_ids_.tolist())
    np.testing.assert_array_equal(back.vectors_, built.vectors_)
    allowed = np.random.default_rng(15).random(built.size) < 0.3
    for k in (1, 10, 50):
        assert back.search(q, k) == built.search(q, k)
        assert back.search(q, k, allowed=allowed) == built.search(q, k, allowed=allowed)
    # Extending a freshly loaded index works the same way.
    ext = VectorIndex.load(tmp_path, checksums=sums).extend(_data(5, 32, seed=16)[0], [f"z{i}" for i in range(5)])
    assert ext.size == len(ids) + 5 and _arrays_owned(ext.index_)


def test_load_takes_the_vectors_header_its_caller_checked(tmp_path):
    """With the shape and dtype of creator_vectors.npy from a caller that read and checked that file
    (the nightly batch), load does not read it again; a header that disagrees with the index is refused."""
    x, ids = _data(300, 32)
    sums = _saved(VectorIndex().build(x, ids), tmp_path)
    (tmp_path / "creator_vectors.npy").write_bytes(b"not read")
    with pytest.raises(StoreError, match="checksum differs"):
        VectorIndex.load(tmp_path, checksums=sums)
    back = VectorIndex.load(tmp_path, checksums=sums, vectors_header=((300, 32), np.dtype(np.float32)))
    assert back.size == 300
    with pytest.raises(StoreError, match="shape"):
        VectorIndex.load(tmp_path, checksums=sums, vectors_header=((299, 32), np.dtype(np.float32)))


def test_an_update_past_the_dead_threshold_rebuilds_the_graph():
    x, ids = _data(2000, 32, seed=8)
    idx = VectorIndex(exact_max=500).build(x, ids)
    x2, ids2, _ = _night(x, ids, seed=9, replace=0.1, remove=0.0, add=0.0)
    idx.update(x2, ids2, max_dead_fraction=0.2)
    assert idx.update_.action == "updated" and idx.dead == 200
    x3, ids3, _ = _night(x2, ids2, seed=10, replace=0.1, remove=0.0, add=0.0)
    idx.update(x3, ids3, max_dead_fraction=0.2)  # ~20% of ~2400 nodes would be dead: over 0.2? rebuild if so
    if idx.update_.action == "updated":
        assert idx.dead / idx.nodes <= 0.2
    x4, ids4, _ = _night(x3, ids3, seed=11, replace=0.15, remove=0.0, add=0.0)
    idx.update(x4, ids4, max_dead_fraction=0.2)
    assert idx.update_.action == "rebuilt"
    assert (idx.dead, idx.nodes, idx.size) == (0, len(ids4), len(ids4))
    assert idx.ids_.tolist() == ids4
    np.testing.assert_array_equal(idx.vectors_, normalize_rows(x4))
    # Crossing exact_max changes the kind: built again, as build() would choose.
    small = VectorIndex(exact_max=500).build(x[:400], ids[:400])
    small.update(x[:600], ids[:600], max_dead_fraction=0.2)
    assert small.update_.action == "rebuilt" and small.kind_ == "hnsw"
    with pytest.raises(ValueError, match="max_dead_fraction"):
        small.update(x[:600], ids[:600], max_dead_fraction=1.5)


@pytest.mark.parametrize("exact_max", [10_000, 100])  # flat, HNSW
def test_an_update_with_nothing_changed_leaves_the_index_untouched(exact_max, tmp_path):
    x, ids = _data(500)
    idx = VectorIndex(exact_max=exact_max).build(x, ids)
    before = idx.save(tmp_path / "a")
    graph = idx.index_
    idx.update(x.copy(), list(ids), max_dead_fraction=0.2)
    assert idx.update_.action == "reused" and idx.index_ is graph
    idx.save(tmp_path / "b")
    for name in before:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    # Additions only: the indexed rows stay put.
    more = np.concatenate([x, _data(20, seed=9)[0]])
    idx.update(more, [*ids, *(f"z{i}" for i in range(20))], max_dead_fraction=0.2)
    assert idx.update_.action == "extended" and idx.update_.added == 20 and idx.dead == 0
    # Rows added by an update are stored as build() stores them: the next run finds them unchanged.
    graph = idx.index_
    idx.update(more, [*ids, *(f"z{i}" for i in range(20))], max_dead_fraction=0.2)
    assert idx.update_.action == "reused" and idx.index_ is graph


def test_a_forked_process_makes_its_own_scan_pool(monkeypatch):
    """The split scan's thread pool is the process's own: a forked worker (the batch's) that scans on
    two threads gets a pool of its own instead of the parent's, whose threads it does not have."""
    import signal

    import faiss

    import matcher.index as index_mod
    from matcher.forked import can_fork, fork_map

    if not can_fork():
        pytest.skip("needs the fork start method")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3_000, 16)).astype(np.float32)
    idx = VectorIndex().build(x, [f"c{i}" for i in range(len(x))])
    allowed = rng.random(len(x)) < 0.5
    monkeypatch.setattr(index_mod, "PARALLEL_SCAN_MIN_ROWS", 10)
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        want = [h.row for h in idx.search(x[0], 20, allowed=allowed)[0]]  # the parent's pool exists now
        assert index_mod._scan_pool is not None

        def task(i: int) -> list[bytes]:
            signal.alarm(20)  # a scan waiting on threads that do not exist ends the worker, not the test run
            faiss.omp_set_num_threads(2)
            return [np.array([h.row for h in idx.search(x[0], 20, allowed=allowed)[0]]).tobytes()]

        got = fork_map(task, 2, workers=2)
    finally:
        faiss.omp_set_num_threads(before)
    assert [np.frombuffer(g[0], dtype=np.int64).tolist() for g in got] == [want, want]
