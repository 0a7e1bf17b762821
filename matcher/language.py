"""Detect the main language of creators whose ``language`` is blank, from their own text.

The embedding model (all-MiniLM-L6-v2) reads English: creators who write in another language are
matched less well, and a brand that wants them needs to filter on language. Many exports leave
``language`` blank, so the batch detects it from each creator's posts, and from the bio when the
posts say too little, with Lingua (the ``lingua-language-detector`` package, whose n-gram models
ship inside it). Links, @mentions and #hashtags are left out first: hashtags are English in posts
of any language. A creator with too little text keeps a blank language: it is never guessed.

:class:`LanguageDetector` is built once and classifies many texts in one call, on every core.
:func:`detect_creator_languages` fills the creators' ``language`` and ``language_source``
(``"given"``, ``"detected"`` or blank).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from matcher.config import DETECT_LANGUAGES, LanguageConfig
from matcher.errors import ConfigError

__all__ = ["LanguageDetector", "creator_texts", "detect_creator_languages", "GIVEN", "DETECTED"]

logger = logging.getLogger(__name__)

#: ``language_source`` of a language that came with the creator.
GIVEN = "given"
#: ``language_source`` of a language detected from the creator's text.
DETECTED = "detected"

# Links, @mentions and #hashtags say nothing of the language a creator writes in.
_NOISE = r"https?://\S+|www\.\S+|[@#][\w.]+"
_LETTER = r"[^\W\d_]"


def _clean(texts: pd.Series) -> pd.Series:
    return texts.fillna("").astype(str).str.replace(_NOISE, " ", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()


def _letters(texts: pd.Series) -> np.ndarray:
    return texts.str.count(_LETTER).to_numpy(dtype=np.int64)


class LanguageDetector:
    """The language of short texts, among a fixed set of languages.

    :param languages: ISO 639-1 codes of the languages to tell apart (default
        :data:`matcher.config.DETECT_LANGUAGES`); fewer languages are faster and need less memory.
    :param min_letters: texts with fewer letters get ``None``.
    :param min_distance: how clearly the best language must beat the next one (Lingua's minimum
        relative distance, 0 to 0.99); below it the answer is ``None``.
    :param low_accuracy: load only the trigram models: far less memory, and little loss on texts
        longer than 120 characters.
    """

    def __init__(
        self,
        *,
        languages: Sequence[str] = DETECT_LANGUAGES,
        min_letters: int = 25,
        min_distance: float = 0.1,
        low_accuracy: bool = True,
    ) -> None:
        self.languages = tuple(languages)
        self.min_letters = min_letters
        self.min_distance = min_distance
        self.low_accuracy = low_accuracy

    def build(self) -> LanguageDetector:
        """Load the detector for :attr:`languages`. Returns ``self``.

        :raises ConfigError: a language is not a code Lingua knows.
        """
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        codes = []
        for code in self.languages:
            found = getattr(IsoCode639_1, str(code).upper(), None)
            if found is None:
                raise ConfigError(
                    f"config 'language.languages' has {code!r}, which the language detector does not know; "
                    "use ISO 639-1 codes such as en, es, pt"
                )
            codes.append(found)
        if len(codes) < 2:
            raise ConfigError("config 'language.languages' needs at least two languages to tell apart")
        builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_minimum_relative_distance(self.min_distance)
        self.detector_ = (builder.with_low_accuracy_mode() if self.low_accuracy else builder).build()
        return self

    def detect(self, texts: Sequence[str]) -> list[str | None]:
        """The ISO 639-1 code of each text's language, ``None`` where there is too little text or
        no clear answer. Links, @mentions and #hashtags are not read.

        :param texts: the texts, classified in one parallel call.
        """
        if not hasattr(self, "detector_"):
            self.build()
        clean = _clean(pd.Series(list(texts), dtype=object))
        enough = _letters(clean) >= self.min_letters
        out: list[str | None] = [None] * len(clean)
        rows = np.flatnonzero(enough)
        if rows.size:
            found = self.detector_.detect_languages_in_parallel_of(clean.iloc[rows].tolist())
            for i, language in zip(rows.tolist(), found):
                out[i] = None if language is None else language.iso_code_639_1.name.lower()
        return out


def creator_texts(creators: pd.DataFrame, posts: pd.DataFrame, *, sample_chars: int, min_letters: int) -> pd.Series:
    """The text each creator's language is read from, aligned with ``creators``.

    The creator's posts in file order, joined until ``sample_chars`` characters (links, @mentions
    and #hashtags left out); the bio when the posts hold fewer than ``min_letters`` letters.
    """
    ids = creators["creator_id"].astype(str)
    if len(posts):
        mine = posts[posts["creator_id"].astype(str).isin(set(ids))]
        owner = mine["creator_id"].astype(str).to_numpy()
        # Only the first posts are cleaned: those up to twice sample_chars of raw text (cleaning
        # drops links and hashtags), as the rest would be cut anyway.
        length = mine["text"].fillna("").astype(str).str.len()
        before = length.groupby(owner).cumsum() - length
        first = (before < 2 * sample_chars).to_numpy()
        text = _clean(mine["text"][first])
        owner = owner[first]
        kept = text.ne("").to_numpy()
        text, owner = text[kept], owner[kept]
        before = text.str.len().groupby(owner).cumsum() - text.str.len()
        keep = (before < sample_chars).to_numpy()
        joined = text[keep].groupby(owner[keep]).agg(" ".join).str.slice(0, sample_chars)
        from_posts = ids.map(joined).fillna("")
    else:
        from_posts = pd.Series("", index=creators.index)
    from_posts = from_posts.astype(str)
    bios = _clean(creators["bio"]).str.slice(0, sample_chars) if "bio" in creators else pd.Series("", index=creators.index)
    thin = _letters(from_posts) < min_letters
    return from_posts.where(~thin, bios).set_axis(creators.index)


def detect_creator_languages(
    creators: pd.DataFrame,
    posts: pd.DataFrame,
    *,
    config: LanguageConfig | None = None,
    detector: LanguageDetector | None = None,
) -> pd.DataFrame:
    """Return ``creators`` with the language of those whose language is blank detected, and a
    ``language_source`` column: ``"given"`` (from the file), ``"detected"`` or blank (unknown).

    :param creators: accepted creators (``creator_id``, ``bio``, ``language``).
    :param posts: their accepted posts (``creator_id``, ``text``).
    :param config: the language settings; ``detect = false`` only marks the given languages.
    :param detector: a built detector to reuse; one is built from ``config`` when needed.
    """
    config = config or LanguageConfig()
    out = creators.copy()
    language = out["language"].astype("string") if "language" in out else pd.Series(pd.NA, index=out.index, dtype="string")
    given = language.notna().to_numpy()
    source = np.where(given, GIVEN, None).astype(object)
    todo = np.flatnonzero(~given)
    if config.detect and todo.size:
        t = time.perf_counter()
        texts = creator_texts(out.iloc[todo], posts, sample_chars=config.sample_chars, min_letters=config.min_letters)
        detector = detector or LanguageDetector(
            languages=config.languages, min_letters=config.min_letters, low_accuracy=config.low_accuracy
        )
        found = pd.array(detector.detect(texts.tolist()), dtype="string")
        language.iloc[todo] = found
        hit = todo[~pd.isna(found)]
        source[hit] = DETECTED
        logger.info(
            "language: detected %d of %d creators without one in %.1f s (%d left blank: too little text or no clear answer)",
            hit.size, todo.size, time.perf_counter() - t, todo.size - hit.size,
        )
    out["language"] = language
    out["language_source"] = pd.array(source, dtype="string")
    return out
