"""Niches: every creator and brief assigned to entries of a content taxonomy, from its own posts.

The taxonomy (``matcher/niches.json``, modelled on the IAB Tech Lab Content Taxonomy) gives each
niche a short description written as the words creators in it use. Assignment is zero-shot: the
cosine between a creator's mean post vector (never the bio, so a stuffed bio cannot buy a niche)
and each description's vector, turned into confidences by a softmax with a temperature. Labelled
examples (creator, niche) refine it: a logistic regression learns the labelled niches and takes a
share of the confidence among them.

A model is saved as plain files (JSON and ``.npy``) that the snapshot's manifest lists and checks.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from matcher.config import NicheConfig
from matcher.errors import ConfigError, InputFileError, NotFittedError, SchemaError, StoreError
from matcher.schema import NicheScore
from matcher.signals import post_sums

__all__ = [
    "Niche",
    "Taxonomy",
    "NicheModel",
    "load_taxonomy",
    "read_niche_labels",
    "post_means",
    "niche_agreement",
    "niche_columns",
    "niche_arrays",
    "MODEL_FILE",
]

logger = logging.getLogger(__name__)

#: The model's description in a snapshot; the arrays sit beside it.
MODEL_FILE = "niche_model.json"
VECTORS_FILE = "niche_vectors.npy"
COEF_FILE = "niche_coef.npy"
INTERCEPT_FILE = "niche_intercept.npy"
MODEL_FORMAT = "matcher.niche_model"
MODEL_FORMAT_VERSION = 1

_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Creators per block when averaging post vectors: keeps the float64 sums to a few hundred MB.
_ROW_BLOCK = 65_536


@dataclass(frozen=True)
class Niche:
    """One entry of the taxonomy: a snake_case id, a display name, the IAB tier-1 category it comes from, and the description embedded for assignment."""

    id: str
    name: str
    iab_parent: str
    description: str


@dataclass(frozen=True)
class Taxonomy:
    """A versioned list of niches."""

    name: str
    version: str
    niches: tuple[Niche, ...]
    based_on: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        """Niche ids in taxonomy order (the order of every array over niches)."""
        return tuple(n.id for n in self.niches)

    def position(self, niche_id: str) -> int:
        """The position of ``niche_id`` in :attr:`ids`.

        Raises:
            ValueError: the id is not in the taxonomy.
        """
        try:
            return self.ids.index(niche_id)
        except ValueError:
            raise ValueError(self.unknown_message([niche_id])) from None

    def unknown_message(self, niche_ids: Sequence[str], *, where: str = "niche") -> str:
        """The error message for niche ids that are not in the taxonomy."""
        shown = ", ".join(repr(n) for n in niche_ids[:5])
        return (
            f"{where} {shown} {'is' if len(niche_ids) == 1 else 'are'} not in the niche taxonomy "
            f"({self.name} {self.version}); 'matcher niches' or GET /niches lists the valid ids, e.g. {', '.join(self.ids[:3])}"
        )

    def check(self, niche_ids: Sequence[str], *, where: str = "niche") -> tuple[str, ...]:
        """``niche_ids`` as a tuple, after checking that every one is in the taxonomy.

        Raises:
            ValueError: some ids are unknown; the message lists them and how to see the valid ones.
        """
        known = set(self.ids)
        unknown = [n for n in niche_ids if n not in known]
        if unknown:
            raise ValueError(self.unknown_message(unknown, where=where))
        return tuple(niche_ids)

    def to_dict(self) -> dict[str, Any]:
        """The taxonomy in its file layout."""
        return {
            "name": self.name,
            "version": self.version,
            "based_on": self.based_on,
            "niches": [{"id": n.id, "name": n.name, "iab_parent": n.iab_parent, "description": n.description} for n in self.niches],
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str) -> Taxonomy:
        """Build and validate a taxonomy from its file layout.

        Raises:
            ConfigError: a field is missing, blank or repeated; the message names the entry and field.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: a niche taxonomy must be a JSON object with 'version' and 'niches'")
        version = data.get("version")
        if not isinstance(version, str) or not version.strip():
            raise ConfigError(f"{source}: 'version' is {version!r}; give the taxonomy a version string such as \"1.0\"")
        entries = data.get("niches")
        if not isinstance(entries, list) or len(entries) < 2:
            raise ConfigError(f"{source}: 'niches' must be a list of at least 2 niches")
        niches, seen = [], set()
        for i, e in enumerate(entries):
            where = f"{source}: niches[{i}]"
            if not isinstance(e, Mapping):
                raise ConfigError(f"{where}: must be an object with id, name, iab_parent and description")
            values = {}
            for f in ("id", "name", "iab_parent", "description"):
                v = e.get(f)
                if not isinstance(v, str) or not v.strip():
                    raise ConfigError(f"{where}: '{f}' is {v!r}; give a non-empty string")
                values[f] = v.strip()
            if not _ID_RE.match(values["id"]):
                raise ConfigError(f"{where}: 'id' {values['id']!r} must be snake_case (a-z, 0-9, _; at most 40 characters, starting with a letter)")
            if values["id"] in seen:
                raise ConfigError(f"{where}: 'id' {values['id']!r} is repeated; every niche needs its own id")
            seen.add(values["id"])
            niches.append(Niche(**values))
        return cls(name=str(data.get("name") or "niches"), version=version.strip(), niches=tuple(niches), based_on=str(data.get("based_on") or ""))


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """The taxonomy at ``path`` (a JSON file), or the one shipped with matcher when ``path`` is None or "".

    Raises:
        ConfigError: the file is missing, not JSON, or not a valid taxonomy.
    """
    if not path:
        source = "matcher/niches.json"
        text = (resources.files("matcher") / "niches.json").read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{source}: niche taxonomy file not found; set niches.taxonomy to an existing JSON file, or \"\" for the packaged one") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: cannot read the niche taxonomy ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON ({exc}); fix the syntax") from None
    return Taxonomy.from_dict(data, source=source)


def read_niche_labels(path: str | Path, taxonomy: Taxonomy) -> pd.DataFrame:
    """Read a labels file of ``creator_id, niche`` rows (CSV, JSON Lines or Parquet).

    Repeated rows count once; a creator may carry several niches (one row each).

    Returns:
        A frame with string columns ``creator_id`` and ``niche``.

    Raises:
        InputFileError: the file cannot be read or lacks a column.
        SchemaError: a row has a blank field or a niche id not in the taxonomy (file, row, field and fix).
    """
    from matcher.ingest import read_table, table_format

    if table_format(path) == "folder":  # its errors name rows of one file
        raise InputFileError(f"{path}: is a folder; niche labels are read from one file (CSV, JSON Lines or Parquet)")
    frame = read_table(path)
    missing = [c for c in ("creator_id", "niche") if c not in frame.columns]
    if missing:
        raise InputFileError(
            f"{path}: the niche labels file lacks column(s) {', '.join(repr(c) for c in missing)}; "
            f"it needs creator_id and niche (columns found: {', '.join(repr(c) for c in frame.columns) or 'none'})"
        )
    known = set(taxonomy.ids)
    rows = []
    problems = []
    for i, (cid, niche) in enumerate(zip(frame["creator_id"].tolist(), frame["niche"].tolist())):
        row = i + 1  # 1-based data record, as the ingest reports rows (CSV: line number minus the header)
        cid = "" if cid is None or (isinstance(cid, float) and np.isnan(cid)) else str(cid).strip()
        niche = "" if niche is None or (isinstance(niche, float) and np.isnan(niche)) else str(niche).strip().lower()
        if not cid:
            problems.append(f"row {row}: field 'creator_id' is blank; give the id of the labelled creator")
        elif not niche:
            problems.append(f"row {row}: field 'niche' is blank; give a niche id ('matcher niches' lists them)")
        elif niche not in known:
            problems.append(f"row {row}: field 'niche' is {niche!r}, not a niche id; 'matcher niches' lists the valid ids")
        else:
            rows.append((cid, niche))
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise SchemaError(f"{path}: " + "; ".join(problems[:5]) + more)
    out = pd.DataFrame(rows, columns=["creator_id", "niche"], dtype=str).drop_duplicates(ignore_index=True)
    return out


def post_means(post_vecs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each creator's mean post vector, scaled to unit length (a zero row for a creator without posts)."""
    n = len(offsets) - 1
    out = np.zeros((n, post_vecs.shape[1]), dtype=np.float32)
    for lo in range(0, n, _ROW_BLOCK):
        hi = min(n, lo + _ROW_BLOCK)
        sums = post_sums(post_vecs[offsets[lo] : offsets[hi]], offsets[lo : hi + 1] - offsets[lo])
        out[lo:hi] = _unit(sums)
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0).astype(np.float32)


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class _TextEncoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class NicheModel:
    """Assigns vectors (creators' mean post vectors, or briefs) to niches, each with a confidence in [0, 1].

    Example::

        model = NicheModel(config=NicheConfig()).fit(encoder=encoder)       # zero-shot
        model = NicheModel().fit(vectors, labels, encoder=encoder)          # refined by labels
        model.assign(post_means(post_vectors, offsets))                     # top niches per row

    Confidences are a softmax over niches of ``cosine / temperature`` (they sum to 1 over the
    taxonomy), so 0.6 means the row is far closer to that niche than to any other, and a row
    between two niches splits its confidence between them. A row gets the niches whose confidence
    is at least ``min_confidence``, at most ``max_niches`` of them; a zero vector (no posts) gets none.

    With labels, the temperature is first calibrated on them (the one of least log loss, kept as
    ``temperature_``), then a logistic regression over the vectors learns every niche with at least
    ``min_label_examples`` examples; for those niches, confidence becomes
    ``(1 - label_weight) × zero-shot + label_weight × (zero-shot mass on the labelled niches) × classifier``,
    so the labelled niches share out the same total and unlabelled niches keep their zero-shot value.
    """

    def __init__(self, taxonomy: Taxonomy | None = None, *, config: NicheConfig | None = None) -> None:
        self.taxonomy = taxonomy
        self.config = config or NicheConfig()

    # -- fitting ----------------------------------------------------------------------------
    def fit(
        self,
        vectors: np.ndarray | None = None,
        labels: Sequence[str | None] | None = None,
        *,
        niche_vectors: np.ndarray | None = None,
        encoder: _TextEncoder | None = None,
    ) -> NicheModel:
        """Embed the niche descriptions and, when labels are given, learn from them. Returns ``self``.

        Args:
            vectors: ``(n, d)`` vectors of labelled examples (creators' mean post vectors).
            labels: one niche id per row of ``vectors`` (None or "" for an unlabelled row).
            niche_vectors: the descriptions' vectors in taxonomy order, when already embedded.
            encoder: encodes the descriptions when ``niche_vectors`` is not given.

        Raises:
            ValueError: neither ``niche_vectors`` nor ``encoder``; shapes disagree; labels name
                unknown niches, or fewer than two niches have ``min_label_examples`` examples.
        """
        self.taxonomy_ = self.taxonomy or load_taxonomy(self.config.taxonomy)
        if niche_vectors is None:
            if encoder is None:
                raise ValueError("NicheModel.fit needs the niche descriptions' vectors or an encoder to embed them")
            niche_vectors = encoder.encode([n.description for n in self.taxonomy_.niches])
        niche_vectors = np.asarray(niche_vectors, dtype=np.float32)
        if niche_vectors.ndim != 2 or niche_vectors.shape[0] != len(self.taxonomy_.niches):
            raise ValueError(f"niche_vectors has shape {niche_vectors.shape}; give one row per niche ({len(self.taxonomy_.niches)})")
        self.niche_vectors_ = _unit(niche_vectors)
        self.temperature_ = float(self.config.temperature)
        self.classes_: tuple[str, ...] = ()
        self.coef_ = np.zeros((0, niche_vectors.shape[1]), dtype=np.float32)
        self.intercept_ = np.zeros(0, dtype=np.float32)
        self.label_counts_: dict[str, int] = {}
        if labels is not None:
            if vectors is None or len(vectors) != len(labels):
                raise ValueError("labels need one vector per label: pass vectors and labels of the same length")
            self._fit_labels(np.asarray(vectors, dtype=np.float32), labels)
        return self

    def _fit_labels(self, vectors: np.ndarray, labels: Sequence[str | None]) -> None:
        from sklearn.linear_model import LogisticRegression

        y = np.array(["" if v is None else str(v) for v in labels], dtype=object)
        x = _unit(vectors)
        has = (y != "") & (np.linalg.norm(x, axis=1) > 0)  # a creator without posts teaches nothing
        self.taxonomy_.check(sorted(set(y[has].tolist())), where="label")
        names, counts = np.unique(y[has].astype(str), return_counts=True)
        self.label_counts_ = {str(n): int(c) for n, c in zip(names, counts)}
        self.temperature_ = self._calibrate(x[has], [self.taxonomy_.position(str(v)) for v in y[has]])
        learn = sorted(str(n) for n, c in zip(names, counts) if c >= self.config.min_label_examples)
        if len(learn) < 2:
            raise ValueError(
                f"labels give at least {self.config.min_label_examples} examples (niches.min_label_examples) for "
                f"{len(learn)} niche(s) ({', '.join(learn) or 'none'}); label creators of at least two niches"
            )
        use = has & np.isin(y, learn)
        # Taxonomy order, so the coefficients' rows follow the taxonomy.
        order = [n for n in self.taxonomy_.ids if n in set(learn)]
        clf = LogisticRegression(C=self.config.label_c, max_iter=2000)
        clf.fit(x[use], y[use].astype(str))
        coef, intercept = np.asarray(clf.coef_, dtype=np.float64), np.asarray(clf.intercept_, dtype=np.float64)
        if len(clf.classes_) == 2:  # binary: logits [0, w.x + b] give the same probabilities as a softmax
            coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
            intercept = np.array([0.0, intercept[0]])
        at = {str(c): i for i, c in enumerate(clf.classes_)}
        self.classes_ = tuple(order)
        self.coef_ = coef[[at[c] for c in order]].astype(np.float32)
        self.intercept_ = intercept[[at[c] for c in order]].astype(np.float32)
        logger.info("niche labels: learned %d niches from %d labelled creators", len(order), int(use.sum()))

    def _calibrate(self, x: np.ndarray, truth: list[int]) -> float:
        """The temperature that makes the zero-shot confidences most likely on the labelled rows (least log loss)."""
        cos = (x @ self.niche_vectors_.T).astype(np.float64)
        rows = np.arange(len(truth))
        best, best_loss = self.temperature_, np.inf
        for t in np.geomspace(0.005, 0.5, 61):
            z = cos / t
            z -= z.max(axis=1, keepdims=True)
            loss = float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, truth]))
            if loss < best_loss:
                best, best_loss = float(t), loss
        logger.info("niche labels: temperature %.4f calibrated on %d labelled creators (configured %.4f)", best, len(truth), self.config.temperature)
        return best

    def _check(self) -> None:
        if not hasattr(self, "niche_vectors_"):
            raise NotFittedError("NicheModel is not fitted; call fit(...) or load it from a snapshot first")

    # -- prediction -------------------------------------------------------------------------
    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        """Confidence of every niche (columns in taxonomy order) for each row; rows sum to 1, a zero row is all 0."""
        self._check()
        x = _unit(vectors)
        if x.shape[1] != self.niche_vectors_.shape[1]:
            raise ValueError(f"vectors have dimension {x.shape[1]}, the niche model {self.niche_vectors_.shape[1]}; use the same embedding model")
        p = _softmax((x @ self.niche_vectors_.T).astype(np.float64) / self.temperature_)
        if self.classes_:
            idx = np.array([self.taxonomy_.position(c) for c in self.classes_])
            learned = _softmax(x.astype(np.float64) @ self.coef_.T.astype(np.float64) + self.intercept_.astype(np.float64))
            mass = p[:, idx].sum(axis=1, keepdims=True)
            w = self.config.label_weight
            p[:, idx] = (1.0 - w) * p[:, idx] + w * mass * learned
        p[np.linalg.norm(x, axis=1) == 0] = 0.0
        return p

    def top(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's assigned niches as arrays: positions ``(n, max_niches)`` int16 (-1: none) and confidences float32 (NaN: none).

        Rows are taken in blocks, so the float64 temporaries stay a block's size however many
        creators there are (each row's answer is its own: the same bits as one call over all rows).
        """
        vectors = np.asarray(vectors)
        if vectors.ndim == 1 or len(vectors) <= _ROW_BLOCK:
            return self.select(self.predict_proba(vectors))
        parts = [self.select(self.predict_proba(vectors[lo : lo + _ROW_BLOCK])) for lo in range(0, len(vectors), _ROW_BLOCK)]
        return np.concatenate([ids for ids, _ in parts]), np.concatenate([conf for _, conf in parts])

    def select(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The niches :meth:`top` assigns, from confidences as :meth:`predict_proba` gives them."""
        m = min(self.config.max_niches, p.shape[1])
        n = p.shape[0]
        ids = np.full((n, self.config.max_niches), -1, dtype=np.int16)
        conf = np.full((n, self.config.max_niches), np.nan, dtype=np.float32)
        if n == 0:
            return ids, conf
        # Highest first; equal confidences in taxonomy order.
        order = np.argsort(-p, axis=1, kind="stable")[:, :m]
        val = np.take_along_axis(p, order, axis=1)
        keep = val >= self.config.min_confidence
        keep &= val > 0
        ids[:, :m] = np.where(keep, order, -1)
        conf[:, :m] = np.where(keep, val, np.nan)
        return ids, conf

    def assign(self, vectors: np.ndarray) -> list[tuple[NicheScore, ...]]:
        """Each row's niches, best first, as :class:`~matcher.schema.NicheScore` records."""
        return self.records(*self.top(vectors))

    def records(self, ids: np.ndarray, conf: np.ndarray) -> list[tuple[NicheScore, ...]]:
        """:meth:`top`'s arrays as records."""
        self._check()
        niches = self.taxonomy_.niches
        return [
            tuple(NicheScore(niches[j].id, niches[j].name, round(c, 4)) for j, c in zip(row_ids, row_conf) if j >= 0)
            for row_ids, row_conf in zip(np.asarray(ids).astype(np.int64).tolist(), np.asarray(conf).astype(np.float64).tolist())
        ]

    def predict(self, vectors: np.ndarray) -> list[str | None]:
        """Each row's most likely niche id, or None when no niche reaches ``min_confidence``."""
        ids, _ = self.top(vectors)
        return [self.taxonomy_.ids[int(j)] if j >= 0 else None for j in ids[:, 0]]

    # -- persistence ------------------------------------------------------------------------
    def to_files(self) -> dict[str, bytes]:
        """The model as plain files: ``niche_model.json`` and ``.npy`` arrays (no pickles)."""
        self._check()
        meta = {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "taxonomy": self.taxonomy_.to_dict(),
            "config": {k: getattr(self.config, k) for k in self.config.__dataclass_fields__},
            "temperature": self.temperature_,
            "classes": list(self.classes_),
            "label_counts": self.label_counts_,
        }
        files = {MODEL_FILE: json.dumps(meta, indent=1, sort_keys=True).encode(), VECTORS_FILE: _npy(self.niche_vectors_)}
        if self.classes_:
            files[COEF_FILE] = _npy(self.coef_)
            files[INTERCEPT_FILE] = _npy(self.intercept_)
        return files

    @classmethod
    def from_files(cls, read: Callable[[str], bytes], *, where: str = "snapshot") -> NicheModel:
        """Load a model written by :meth:`to_files`; ``read(name)`` returns a file's verified bytes.

        Raises:
            StoreError: a file is unreadable or does not describe a niche model.
        """
        try:
            meta = json.loads(read(MODEL_FILE))
            if meta.get("format") != MODEL_FORMAT or meta.get("format_version") != MODEL_FORMAT_VERSION:
                raise ValueError(f"format {meta.get('format')!r} version {meta.get('format_version')!r}")
            taxonomy = Taxonomy.from_dict(meta["taxonomy"], source=f"{where}/{MODEL_FILE}")
            model = cls(taxonomy, config=NicheConfig(**meta["config"]))
            model.taxonomy_ = taxonomy
            model.niche_vectors_ = _load_npy(read(VECTORS_FILE))
            model.temperature_ = float(meta["temperature"])
            model.classes_ = tuple(str(c) for c in meta.get("classes", []))
            model.label_counts_ = {str(k): int(v) for k, v in (meta.get("label_counts") or {}).items()}
            d = model.niche_vectors_.shape[1]
            if model.classes_:
                model.coef_, model.intercept_ = _load_npy(read(COEF_FILE)), _load_npy(read(INTERCEPT_FILE))
            else:
                model.coef_, model.intercept_ = np.zeros((0, d), dtype=np.float32), np.zeros(0, dtype=np.float32)
            if model.niche_vectors_.shape[0] != len(taxonomy.niches) or model.coef_.shape != (len(model.classes_), d):
                raise ValueError("array shapes disagree with the taxonomy")
            taxonomy.check(model.classes_)
        except StoreError:
            raise
        except (ValueError, KeyError, TypeError, ConfigError) as exc:
            raise StoreError(f"{where}: the niche model cannot be read ({exc}); run 'matcher batch' again") from None
        return model


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def _load_npy(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


# -- storage as signal columns -------------------------------------------------------------------


def niche_columns(model: NicheModel, ids: np.ndarray, conf: np.ndarray) -> pd.DataFrame:
    """:meth:`NicheModel.top`'s arrays as columns ``niche_1``, ``niche_1_confidence``, ``niche_2``, ... (null: none)."""
    names = np.array(model.taxonomy_.ids + (None,), dtype=object)  # position -1 reads None
    cols: dict[str, Any] = {}
    for j in range(ids.shape[1]):
        cols[f"niche_{j + 1}"] = pd.array(names[ids[:, j]], dtype="string")
        cols[f"niche_{j + 1}_confidence"] = conf[:, j].astype(np.float32)
    return pd.DataFrame(cols)


def niche_arrays(signals: pd.DataFrame, taxonomy: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
    """The columns :func:`niche_columns` wrote, back as positions ``(n, m)`` int16 (-1: none) and confidences float32."""
    m = 0
    while f"niche_{m + 1}" in signals:
        m += 1
    n = len(signals)
    ids = np.full((n, m), -1, dtype=np.int16)
    conf = np.full((n, m), np.nan, dtype=np.float32)
    lookup = pd.Index(taxonomy.ids)
    for j in range(m):
        col = signals[f"niche_{j + 1}"]
        pos = lookup.get_indexer(col.astype(object).where(col.notna(), None))
        ids[:, j] = pos
        conf[:, j] = np.where(pos >= 0, signals[f"niche_{j + 1}_confidence"].to_numpy(dtype=np.float32, na_value=np.nan), np.nan)
    return ids, conf


# -- agreement between a creator's and a brief's niches ------------------------------------------


def niche_agreement(creator: np.ndarray | Mapping[str, float], brief: np.ndarray | Mapping[str, float]) -> float | np.ndarray:
    """How far a creator's niches agree with a brief's: the Bhattacharyya coefficient ``Σ √(p·q)``.

    Both sides are confidences over the same niches: arrays in taxonomy order (``creator`` may be
    ``(n, K)`` for n creators), or mappings of niche id to confidence (niches left out count 0, so a
    creator's stored top niches can be used). Equal distributions score 1, disjoint ones 0; with
    confidences that sum to at most 1 the result lies in [0, 1]. A pure function of its inputs, for
    testing a ranking variant; the ranking score does not use it.
    """
    if isinstance(creator, Mapping) or isinstance(brief, Mapping):
        if not (isinstance(creator, Mapping) and isinstance(brief, Mapping)):
            raise TypeError("give both sides as arrays over the taxonomy, or both as mappings of niche id to confidence")
        total = sum(np.sqrt(max(0.0, float(v)) * max(0.0, float(brief.get(k, 0.0)))) for k, v in creator.items())
        return float(min(1.0, total))
    c = np.clip(np.asarray(creator, dtype=np.float64), 0.0, None)
    b = np.clip(np.asarray(brief, dtype=np.float64), 0.0, None)
    if b.ndim != 1 or c.shape[-1] != b.shape[0]:
        raise ValueError(f"shapes {c.shape} and {b.shape} disagree; give confidences over the same niches")
    out = np.minimum(1.0, np.sqrt(c * b).sum(axis=-1))
    return float(out) if out.ndim == 0 else out
