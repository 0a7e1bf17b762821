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
