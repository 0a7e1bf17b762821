"""Audience overlap: how many of two creators' commenters are the same people, from MinHash sketches.

A creator's audience here is the set of distinct accounts that commented under its posts (the
creator's own replies left out). Two creators' overlap is the Jaccard index of those sets,
``|A ∩ B| / |A ∪ B|``, estimated from MinHash signatures (datasketch, the ``affine64`` scheme):
the share of the ``num_perm`` positions where both signatures hold the same minimum. The
estimate is unbiased with a standard error of ``sqrt(J (1 − J) / num_perm)`` (at most
``0.5 / sqrt(num_perm)``: 0.044 for 128), whatever the audiences' sizes, so a signature is a fixed
``num_perm × 8`` bytes per creator and two of millions of creators compare in microseconds.

Overlap is unknown (None, NaN in arrays), never guessed, for a creator with fewer than
``min_commenters`` distinct commenters in the comments table (a handful of comments says little
about who the audience is), and for every creator when no comments table was given.

The signatures are stored in the snapshot as plain files: a ``(creators, num_perm)`` uint64
``.npy`` matrix and a Parquet table of creator ids with their distinct-commenter counts, aligned
row by row; ``num_perm``, ``seed``, the scheme and the threshold are manifest fields.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from matcher.config import AudienceConfig
from matcher.errors import NotFittedError, StoreError
from matcher.schema import AudienceOverlap, PairOverlap

__all__ = ["AudienceSketch", "commenters_by_creator", "SIGNATURES_FILE", "CREATORS_FILE", "MANIFEST_FIELD", "exact_jaccard"]

logger = logging.getLogger(__name__)

#: The signatures, one row per creator of :data:`CREATORS_FILE`.
SIGNATURES_FILE = "audience_signatures.npy"
#: ``creator_id`` and ``commenters`` (distinct commenters in the comments table), aligned with the signatures.
CREATORS_FILE = "audience_creators.parquet"
#: The manifest field that holds ``num_perm``, ``seed``, ``scheme`` and ``min_commenters``.
MANIFEST_FIELD = "audience"
#: datasketch's permutation scheme: 64-bit hash values, unbiased up to billions of distinct commenters.
SCHEME = "affine64"


def exact_jaccard(a: Iterable[Any], b: Iterable[Any]) -> float:
    """The exact Jaccard index of two sets (0.0 for two empty sets); the reference for the estimate."""
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return len(sa & sb) / union if union else 0.0


def commenters_by_creator(comments: pd.DataFrame, posts: pd.DataFrame) -> pd.Series:
    """Each creator's distinct commenters, from the comments and the posts they were left under.

    The creator's own comments (``is_creator_reply``, or ``author_id`` equal to the post's creator)
    are not its audience. Returns a Series of sorted id lists indexed by ``creator_id``.
    """
    owner = posts[["post_id", "creator_id"]].astype({"post_id": str, "creator_id": str}).drop_duplicates("post_id")
    c = comments[["post_id", "author_id", *(["is_creator_reply"] if "is_creator_reply" in comments else [])]].copy()
    c["post_id"] = c["post_id"].astype(str)
    c["author_id"] = c["author_id"].astype(str)
    c = c.merge(owner, on="post_id", how="inner")
    own = c["author_id"] == c["creator_id"]
    if "is_creator_reply" in c:
        flag = c["is_creator_reply"]
        if pd.api.types.is_bool_dtype(flag.dtype):
            own |= flag.fillna(False).to_numpy(dtype=bool)
        else:  # a table as read from a file: true/yes/1 as ingest reads them
            own |= flag.astype("string").str.strip().str.lower().isin(["true", "1", "yes"]).fillna(False).to_numpy(dtype=bool)
    c = c.loc[~own, ["creator_id", "author_id"]].drop_duplicates()
    return c.groupby("creator_id", sort=True)["author_id"].agg(lambda s: sorted(s.tolist()))


class AudienceSketch:
    """MinHash signatures of creators' commenter sets, and the overlaps they estimate.

    Example::

        sketch = AudienceSketch(AudienceConfig()).fit(comments, posts)
        sketch.overlap("c001", "c002")          # 0.12, or None when unknown
        sketch.report(["c001", "c002", "c003"])  # every pair and the share of distinct audience

    ``fit`` learns ``creator_ids_`` (every creator with at least one commenter), ``commenters_``
    (their distinct-commenter counts) and ``signatures_`` (``(n, num_perm)`` uint64).
    """

    def __init__(self, config: AudienceConfig | None = None) -> None:
        self.config = config or AudienceConfig()

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, comments: pd.DataFrame | None, posts: pd.DataFrame) -> AudienceSketch:
        """Sketch every creator's commenters. ``comments`` None: no audience is known. Returns ``self``."""
        if comments is None or len(comments) == 0:
            audiences = pd.Series([], dtype=object)
        else:
            audiences = commenters_by_creator(comments, posts)
        return self.fit_sets(audiences.index.tolist(), audiences.tolist())

    def fit_sets(self, creator_ids: Sequence[str], audiences: Sequence[Iterable[str]]) -> AudienceSketch:
        """Sketch given commenter sets, one per creator id. Returns ``self``."""
        from datasketch import MinHash

        cfg = self.config
        sets = [sorted({str(a) for a in aud}) for aud in audiences]
        sigs = np.zeros((len(sets), cfg.num_perm), dtype=np.uint64)
        if sets:
            gen = MinHash.generator((([a.encode("utf-8") for a in s]) for s in sets), num_perm=cfg.num_perm, seed=cfg.seed, scheme=SCHEME)
            for i, mh in enumerate(gen):
                sigs[i] = mh.hashvalues
        self._set_state([str(c) for c in creator_ids], np.array([len(s) for s in sets], dtype=np.int64), sigs)
        return self

    def _set_state(self, ids: list[str], commenters: np.ndarray, signatures: np.ndarray) -> None:
        if len(set(ids)) != len(ids):
            raise ValueError("creator ids repeat in the audience sketch; give each creator once")
        self.creator_ids_ = np.asarray(ids, dtype=object)
        self.commenters_ = commenters
        self.signatures_ = signatures
        self._row = {c: i for i, c in enumerate(ids)}

    def _check(self) -> None:
        if not hasattr(self, "signatures_"):
            raise NotFittedError("AudienceSketch is not fitted; call fit(comments, posts) or load it from a snapshot")

    # -- queries -----------------------------------------------------------------------------
    def commenters(self, creator_id: str) -> int:
        """Distinct commenters of a creator in the comments table (0 when none or not sketched)."""
        self._check()
        i = self._row.get(str(creator_id))
        return 0 if i is None else int(self.commenters_[i])

    def known(self, creator_id: str) -> bool:
        """Whether the creator's audience is measured: at least ``min_commenters`` distinct commenters."""
        return self.commenters(creator_id) >= self.config.min_commenters

    def overlap(self, a: str, b: str) -> float | None:
        """The estimated Jaccard index of two creators' commenters; None when either is unknown."""
        m = self.overlaps([a, b])
        return None if np.isnan(m[0, 1]) else float(m[0, 1])

    def overlaps(self, creator_ids: Sequence[str]) -> np.ndarray:
        """The ``(n, n)`` matrix of estimated overlaps, NaN where a creator's audience is unknown
        (the diagonal is 1.0 for a known creator)."""
        self._check()
        n = len(creator_ids)
        rows = np.array([self._row.get(str(c), -1) for c in creator_ids], dtype=np.int64)
        known = rows >= 0
        known[known] = self.commenters_[rows[known]] >= self.config.min_commenters
        out = np.full((n, n), np.nan)
        k = np.flatnonzero(known)
        if k.size:
            s = self.signatures_[rows[k]]
            eq = (s[:, None, :] == s[None, :, :]).mean(axis=2)
            out[np.ix_(k, k)] = eq
        return out

    def report(self, creator_ids: Sequence[str]) -> AudienceOverlap:
        """Every pairwise overlap among ``creator_ids`` and the share of distinct audience.

        The share of distinct people is ``|A_1 ∪ … ∪ A_n| / Σ|A_i|`` over the known creators. With
        ``U`` the union, ``J(A_i, U) = |A_i| / |U|``, so the share is ``1 / Σ_i J(A_i, U)``; each
        ``J(A_i, U)`` is estimated from ``A_i``'s signature and the union's (their element-wise
        minimum), as any MinHash Jaccard, and the share is clipped to ``[1/n, 1]``.
        """
        self._check()
        ids = [str(c) for c in creator_ids]
        m = self.overlaps(ids)
        pairs = tuple(
            PairOverlap(ids[i], ids[j], None if np.isnan(m[i, j]) else float(m[i, j]))
            for i in range(len(ids)) for j in range(i + 1, len(ids))
        )
        known = [c for c in ids if self.known(c)]
        unknown = tuple(c for c in ids if c not in set(known))
        share = None
        if known:
            sigs = self.signatures_[[self._row[c] for c in known]]
            union = sigs.min(axis=0)
            total = float((sigs == union[None, :]).mean(axis=1).sum())
            share = float(np.clip(1.0 / total, 1.0 / len(known), 1.0)) if total > 0 else 1.0
        known_pairs = [p.jaccard for p in pairs if p.jaccard is not None]
        return AudienceOverlap(
            pairs=pairs,
            known=tuple(known),
            unknown=unknown,
            distinct_share=share,
            max_jaccard=max(known_pairs) if known_pairs else None,
            commenters=int(sum(self.commenters(c) for c in known)),
        )

    def without(self, creator_ids: Iterable[str]) -> AudienceSketch:
        """A copy with the given creators' rows removed (for erasure)."""
        self._check()
        gone = {str(c) for c in creator_ids}
        keep = np.array([c not in gone for c in self.creator_ids_], dtype=bool)
        out = AudienceSketch(self.config)
        out._set_state([str(c) for c in self.creator_ids_[keep]], self.commenters_[keep], self.signatures_[keep])
        return out

    # -- files -------------------------------------------------------------------------------
    def manifest_field(self) -> dict[str, Any]:
        """What the snapshot's manifest records about the signatures (:data:`MANIFEST_FIELD`)."""
        self._check()
        return {
            "num_perm": self.config.num_perm, "seed": self.config.seed, "scheme": SCHEME, "min_commenters": self.config.min_commenters,
            "creators": len(self.creator_ids_), "known": int((self.commenters_ >= self.config.min_commenters).sum()),
        }

    def to_files(self) -> dict[str, bytes]:
        """The signatures as plain files: a uint64 ``.npy`` matrix and a Parquet table (no pickles)."""
        self._check()
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(self.signatures_, dtype=np.uint64), allow_pickle=False)
        table = io.BytesIO()
        pd.DataFrame({"creator_id": pd.Series(self.creator_ids_, dtype=object).astype(str), "commenters": self.commenters_.astype(np.int64)}).to_parquet(table, index=False)
        return {SIGNATURES_FILE: buf.getvalue(), CREATORS_FILE: table.getvalue()}

    @classmethod
    def from_files(cls, read: Callable[[str], bytes], field: Mapping[str, Any], *, where: str = "snapshot") -> AudienceSketch:
        """Load signatures written by :meth:`to_files`; ``read(name)`` returns a file's verified bytes
        and ``field`` is the manifest's :data:`MANIFEST_FIELD`.

        Raises:
            StoreError: a file is unreadable, or disagrees with the manifest field.
        """
        try:
            if field.get("scheme") != SCHEME:
                raise ValueError(f"scheme {field.get('scheme')!r}, not {SCHEME!r}")
            config = AudienceConfig(num_perm=int(field["num_perm"]), seed=int(field["seed"]), min_commenters=int(field["min_commenters"]))
            sigs = np.load(io.BytesIO(read(SIGNATURES_FILE)), allow_pickle=False)
            table = pd.read_parquet(io.BytesIO(read(CREATORS_FILE)))
            if sigs.dtype != np.uint64 or sigs.ndim != 2 or sigs.shape != (len(table), config.num_perm):
                raise ValueError(f"signatures of shape {sigs.shape} and dtype {sigs.dtype} for {len(table)} creators and num_perm {config.num_perm}")
            out = cls(config)
            out._set_state(table["creator_id"].astype(str).tolist(), table["commenters"].to_numpy(dtype=np.int64), sigs)
        except StoreError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{where}: the audience signatures cannot be read ({exc}); run 'matcher batch' again") from None
        return out
