import numpy as np
import pytest

from matcher.config import EmbedConfig
from matcher.embed import EmbeddingCache, Encoder, embed_cached, resolve_model_path
from matcher.errors import ConfigError, NotFittedError

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
