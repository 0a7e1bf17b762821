import numpy as np
import pytest

import matcher.index as index_mod
from matcher.index import VectorIndex


@pytest.mark.parametrize("exact_max", [100_000, 1_000])  # flat, and HNSW (its storage is scanned)
def test_large_filtered_scan_in_place_equals_the_copying_scan(exact_max, monkeypatch):
    rng = np.random.default_rng(0)
    n = 30_000
    vecs = rng.standard_normal((n, 24)).astype(np.float32)
    vecs[7] = vecs[11]  # a tie: order must still follow the row
    idx = VectorIndex(exact_max=exact_max, hnsw_m=8, ef_construction=20).build(vecs, [f"c{i}" for i in range(n)])
    allowed = rng.random(n) < 0.8
    allowed[[7, 11]] = True
    queries = np.vstack([vecs[7], rng.standard_normal((2, 24)).astype(np.float32)])
    monkeypatch.setattr(index_mod, "SUBSET_COPY_MAX", 1_000)
    monkeypatch.setattr(idx, "exact_filter_fraction", 1.0)  # force the exact path
    in_place = idx.search(queries, 40, allowed=allowed)
    monkeypatch.setattr(index_mod, "SUBSET_COPY_MAX", 10**9)
    copied = idx.search(queries, 40, allowed=allowed)
    assert [[h.row for h in hs] for hs in in_place] == [[h.row for h in hs] for hs in copied]
    assert in_place[0][0].row == 7 and in_place[0][1].row == 11
    assert all(allowed[h.row] for hs in in_place for h in hs)
