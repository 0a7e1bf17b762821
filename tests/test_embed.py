import numpy as np
import pytest

from matcher.config import EmbedConfig
from matcher.embed import EmbeddingCache, Encoder, embed_cached, resolve_model_path
from matcher.errors import ConfigError, NotFittedError
from matcher.text import content_hash

pytestmark = pytest.mark.slow


def test_vectors_are_unit_length_and_topical(encoder):
    v = encoder.encode(["trail running shoes for ultramarathons", "mountain trail run with lots of vert", "retinol serum for dry skin"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_length_bucketing_keeps_input_order(encoder):
    texts = ["a much longer sentence about hiking boots and mountain trails " * 3, "short", "medium length text about coffee"]
    together = encoder.encode(texts)
    for i, t in enumerate(texts):
        np.testing.assert_allclose(together[i], encoder.encode([t])[0], atol=1e-5)


def test_cache_means_unchanged_text_is_never_encoded_twice(encoder, tmp_path):
    texts = ["vegan lentil curry", "budget hostel in Lisbon", "vegan lentil curry"]
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        first, n1 = embed_cached(encoder, texts, cache)
        assert n1 == 2 and len(cache) == 2
        second, n2 = embed_cached(encoder, texts + ["new text"], cache)
        assert n2 == 1
    np.testing.assert_array_equal(first, second[:3])
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:  # survives reopening
        _, n3 = embed_cached(encoder, texts, cache)
        assert n3 == 0


def test_model_is_never_downloaded(tmp_path):
    assert resolve_model_path("all-MiniLM-L6-v2")
    with pytest.raises(ConfigError, match="never downloads"):
        resolve_model_path("sentence-transformers/all-mpnet-base-v2")
    with pytest.raises(NotFittedError):
        Encoder(EmbedConfig()).encode(["x"])


def test_concurrent_encodes_equal_sequential_ones(encoder):
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"{topic} number {i}" for i, topic in enumerate(["trail running shoes", "retinol serum", "vegan curry", "hostel in Lisbon"] * 4)]
    sequential = [encoder.encode([t])[0] for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda t: encoder.encode([t])[0], texts))
    for a, b in zip(concurrent, sequential):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_query_cache_returns_the_fresh_vector_and_counts_hits(encoder):
    from matcher.embed import QueryCache

    cache = QueryCache(2)
    fresh = encoder.encode(["trail running shoes"])[0]
    first = cache.encode(encoder, "trail running shoes")
    again = cache.encode(encoder, "trail running shoes")
    np.testing.assert_allclose(first, fresh, atol=1e-6)
    assert again is first and not again.flags.writeable  # shared between requests, so nobody may change it
    s = cache.stats()
    assert (s.hits, s.misses, s.size, s.hit_rate) == (1, 1, 1, 0.5)


def test_query_cache_drops_the_least_recently_used():
    from matcher.embed import QueryCache

    cache = QueryCache(2)
    for text in ("a", "b"):
        cache.put(text, np.ones(3))
    assert cache.get("a") is not None  # "b" is now the least recently used
    cache.put("c", np.zeros(3))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    off = QueryCache(0)
    off.put("a", np.ones(3))
    assert off.get("a") is None and off.stats().size == 0
    with pytest.raises(ValueError, match="0 to disable"):
        QueryCache(-1)


def test_caching_encoder_gives_the_encoders_vectors_and_encodes_a_brief_once(encoder):
    from matcher.embed import CachingEncoder, QueryCache, encode_briefs
    from matcher.schema import Brand

    cache = QueryCache(8)
    cached = CachingEncoder(encoder, cache).load()
    assert (cached.model_id, cached.dim_) == (encoder.model_id, encoder.dim_)
    texts = ["trail running shoes", "retinol serum for dry skin"]
    first = cached.encode(texts)
    np.testing.assert_array_equal(first, np.stack([encoder.encode([t])[0] for t in texts]))  # each encoded as a query is
    again = cached.encode(texts[:1])
    np.testing.assert_array_equal(again[0], first[0])
    stats = cache.stats()
    assert (stats.size, stats.hits, stats.misses) == (2, 1, 2)
    # encode_briefs prepares a brief (normalised, cut) before encoding it: a Brand and its text agree.
    brand = Brand(brand_id="b1", name="Ridgeline", description="Lightweight trail running shoe. " * 100)
    np.testing.assert_array_equal(encode_briefs(cached, [brand], max_chars=120), encode_briefs(encoder, [brand.query_text[:200]], max_chars=120))
    with pytest.raises(ValueError, match="brief is blank"):
        encode_briefs(cached, ["  "], max_chars=120)


def test_embedding_reports_what_is_left_while_it_encodes(encoder, tmp_path, caplog):
    import logging

    from matcher.embed import EmbeddingCache, embed_groups

    texts = [f"trail running shoe review number {i} with a rock plate" for i in range(40)]
    out = np.zeros((len(texts), encoder.dim_), dtype=np.float32)
    with caplog.at_level(logging.INFO, logger="matcher.progress"), EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        n = embed_groups([texts], [out], cache=cache, model_id=encoder.model_id, encoder=lambda: encoder, chunk=10)
    assert n == 40
    lines = [r.getMessage() for r in caplog.records if r.name == "matcher.progress"]
    assert lines[0] == "embedding 40 distinct texts (those in the cache are not encoded again)"
    left = [line for line in lines if " left" in line]
    assert [line.split(" of ")[0] for line in left] == ["embedding: 10", "embedding: 20", "embedding: 30"]
    assert all("texts/s" in line for line in left)
    np.testing.assert_allclose(out, encoder.encode(texts), atol=1e-6)


def test_parts_encoded_elsewhere_fill_the_same_vectors_and_cache(encoder, tmp_path):
    """``encode_parts``: every chunk's missing texts go out at once, come back in any order, and land
    where ``embed_groups`` itself would put them; cached texts never go out."""
    from matcher.embed import EmbeddingCache, embed_groups

    bios = [f"bio {i}: trail runner and coach" for i in range(7)] + [""]
    posts = [f"post {i % 13}: hill repeats on a rocky trail" for i in range(30)]  # repeated texts
    want = [np.zeros((len(g), encoder.dim_), dtype=np.float32) for g in (bios, posts)]
    with EmbeddingCache(tmp_path / "local.sqlite") as cache:
        embed_groups([bios, posts], want, cache=cache, model_id=encoder.model_id, encoder=lambda: encoder, chunk=6)

    sent: list[list[str]] = []

    def encode_parts(parts):
        sent.extend(list(p) for p in parts)
        for j in reversed(range(len(parts))):  # out of order, as actors finish
            yield j, encoder.encode(list(parts[j]))

    def no_encoder():
        raise AssertionError("the encoder is not loaded on this side when parts go elsewhere")

    got = [np.zeros_like(w) for w in want]
    with EmbeddingCache(tmp_path / "elsewhere.sqlite") as cache:
        cache.put_many({content_hash(posts[0], namespace=encoder.model_id): want[1][0]})  # one text already cached
        n = embed_groups([bios, posts], got, cache=cache, model_id=encoder.model_id, encoder=no_encoder, chunk=6, encode_parts=encode_parts)
        assert n == len(set(bios) | set(posts)) - 1
        assert sorted(t for p in sent for t in p) == sorted((set(bios) | set(posts)) - {posts[0]})
        assert all(0 < len(p) <= 6 for p in sent)
        sent.clear()
        again = [np.zeros_like(w) for w in want]
        assert embed_groups([bios, posts], again, cache=cache, model_id=encoder.model_id, encoder=no_encoder, chunk=6, encode_parts=encode_parts) == 0
        assert sent == []  # everything is in the cache now: nothing goes out
    for g, w, a in zip(got, want, again):
        np.testing.assert_allclose(g, w, atol=1e-6)
        np.testing.assert_array_equal(a, g)


def test_missing_texts_go_out_in_full_parts_and_a_resumed_run_sends_exactly_the_rest(encoder, tmp_path):
    """A night that changes a few texts of every chunk still encodes full parts, and a run killed
    between parts resumes with the very parts (same texts, same batches) it had left."""
    from matcher.embed import EmbeddingCache, embed_groups

    texts = [f"post {i}: tempo run on the track, {i % 7} laps" for i in range(30)]
    cached = {content_hash(t, namespace=encoder.model_id): encoder.encode([t])[0] for t in texts[::3]}  # scattered

    def run(path, *, stop_after=None):
        sent: list[list[str]] = []

        def encode_parts(parts):
            for j, p in enumerate(parts):
                if stop_after is not None and j == stop_after:
                    raise KeyboardInterrupt  # killed between two parts
                sent.append(list(p))
                yield j, encoder.encode(list(p))

        out = np.zeros((len(texts), encoder.dim_), dtype=np.float32)
        with EmbeddingCache(path) as cache:
            cache.put_many(cached)
            try:
                embed_groups([texts], [out], cache=cache, model_id=encoder.model_id, encoder=lambda: encoder, chunk=6, encode_parts=encode_parts)
            except KeyboardInterrupt:
                pass
        return sent, out

    whole, want = run(tmp_path / "whole.sqlite")
    assert [len(p) for p in whole] == [6, 6, 6, 2]  # 20 missing texts, not one part per chunk of 6 distinct texts
    # In the fixed order: shortest first, then by text.
    missing = [t for i, t in enumerate(texts) if i % 3]
    assert [t for p in whole for t in p] == sorted(missing, key=lambda t: (len(t), t))
    first, _ = run(tmp_path / "killed.sqlite", stop_after=2)
    assert first == whole[:2]
    rest, got = run(tmp_path / "killed.sqlite")
    assert rest == whole[2:]
    np.testing.assert_array_equal(got, want)


class _Recorded(np.ndarray):
    """An array that records the index of every write to it."""

    def __setitem__(self, key, value):
        self.writes.append(key)
        super().__setitem__(key, value)


@pytest.mark.parametrize("parts", [False, True])
def test_spilled_vectors_are_written_front_to_back_once_and_are_the_same(encoder, tmp_path, monkeypatch, parts):
    """``spill``: the vectors come in key and length order, all over the outputs, and are sorted by
    position on disk first, so each output is written once, front to back, in whole slices; the
    vectors are bit for bit those written as they come, and nothing is left on disk."""
    import matcher.embed as embed_module
    from matcher.embed import EmbeddingCache, embed_groups

    bios = [f"bio {i}: trail runner and coach" for i in range(9)] + ["", ""]
    posts = [f"post {i % 17}: hill repeats on a rocky trail" for i in range(41)] + bios[:3]  # repeats, also across groups
    briefs = ["a trail shoe with a rock plate"]
    groups = [bios, posts, briefs]
    cached = {content_hash(t, namespace=encoder.model_id): encoder.encode([t])[0] for t in posts[::4]}

    def encode_parts(ps):
        for j in reversed(range(len(ps))):
            yield j, encoder.encode(list(ps[j]))

    def run(path, spill):
        outs = [np.zeros((len(g), encoder.dim_), dtype=np.float32).view(_Recorded) for g in groups]
        for out in outs:
            out.writes = []
        with EmbeddingCache(path) as cache:
            cache.put_many(cached)
            n = embed_groups(
                groups, outs, cache=cache, model_id=encoder.model_id, encoder=lambda: encoder, chunk=5,
                encode_parts=encode_parts if parts else None, spill=spill,
            )
        return n, outs

    n_direct, direct = run(tmp_path / "direct.sqlite", None)
    # Regions of 7 rows: several per group, and regions across the ends of groups.
    monkeypatch.setattr(embed_module, "SPILL_REGION_BYTES", 7 * (8 + 4 * encoder.dim_))
    n_spilled, spilled = run(tmp_path / "spilled.sqlite", tmp_path / "sorting")
    assert n_spilled == n_direct == len(set(bios) | set(posts) | set(briefs)) - len(set(posts[::4]))
    for d, s in zip(direct, spilled):
        np.testing.assert_array_equal(np.asarray(s), np.asarray(d))
        assert any(not isinstance(k, slice) for k in d.writes)  # as they come: scattered rows
        assert all(isinstance(k, slice) for k in s.writes)
        spans = [(k.start, k.stop) for k in s.writes]
        assert spans[0][0] == 0 and spans[-1][1] == len(s) and all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
        assert all(hi - lo <= 7 for lo, hi in spans)
    assert list((tmp_path / "sorting").iterdir()) == []


def test_a_spill_interrupted_while_encoding_leaves_nothing_on_disk(encoder, tmp_path):
    from matcher.embed import EmbeddingCache, embed_groups

    texts = [f"post {i}: tempo run on the track" for i in range(20)]

    def encode_parts(ps):
        yield 0, encoder.encode(list(ps[0]))
        raise KeyboardInterrupt  # killed between two parts

    out = np.zeros((len(texts), encoder.dim_), dtype=np.float32)
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache, pytest.raises(KeyboardInterrupt):
        embed_groups([texts], [out], cache=cache, model_id=encoder.model_id, encoder=lambda: encoder, chunk=5, encode_parts=encode_parts, spill=tmp_path / "sorting")
    assert list((tmp_path / "sorting").iterdir()) == []
