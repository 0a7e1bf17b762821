"""What a recommendation request may ask: one validation for ``recommend()``, ``matcher recommend`` and the HTTP API.

Each rule lives in one function here, and every surface calls it, so the command line and the
service accept and refuse the same briefs, filters and weights, with the same words. Countries and
languages are read by :func:`check_country` and :func:`check_language` alone, with the mapping of
:mod:`matcher.codes` that ingest uses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from matcher.codes import COUNTRY_HINT, LANGUAGE_HINT, country_code, language_code
from matcher.collaborations import mention_forms
from matcher.config import Weights
from matcher.errors import ConfigError, MatcherError
from matcher.schema import Filters
from matcher.text import normalize_text

__all__ = [
    "RequestError",
    "Request",
    "MAX_K",
    "MAX_BRIEF_CHARS",
    "MAX_FOLLOWERS",
    "MAX_EXCLUDED",
    "MAX_COUNTRIES",
    "MAX_LANGUAGES",
    "MAX_PLATFORMS",
    "MAX_ID_CHARS",
    "MAX_LIKED",
    "MAX_MENTIONS",
    "MAX_MENTION_CHARS",
    "check_mention",
    "check_brief",
    "check_creator_ids",
    "check_lookalike",
    "check_known_creators",
    "check_k",
    "check_country",
    "check_language",
    "check_platform",
    "check_filters",
    "check_weights",
    "check_diversity",
    "check_budget",
    "check_max_overlap",
    "check_costs",
    "MAX_BUDGET",
    "validate_request",
]

#: Matches one call may ask for (the HTTP service may cap this lower per request, see ``serve``).
MAX_K = 1000
#: Characters of a brief, as given (before HTML and invisible characters are removed).
MAX_BRIEF_CHARS = 2000
MAX_FOLLOWERS = 10**12  # far above any real account; keeps comparisons inside int64
MAX_EXCLUDED = 1000
MAX_COUNTRIES = 250
MAX_LANGUAGES = 50
MAX_PLATFORMS = 20
MAX_ID_CHARS = 200
#: The largest budget or cost a shortlist takes: far above any campaign, and exact in a float.
MAX_BUDGET = 1e12
#: Creators one look-alike request may name in ``like`` (and, separately, in ``unlike``).
MAX_LIKED = 100
#: Brand or category names one request may ask creators to mention, and the characters of each.
MAX_MENTIONS = 20
MAX_MENTION_CHARS = 100

_PLATFORM_RE = re.compile(r"[a-z0-9_.-]{1,40}")


class RequestError(MatcherError, ValueError):
    """A recommendation request breaks a rule; the message names the field and what to send instead."""


@dataclass(frozen=True)
class Request:
    """A validated request: the brief as given (None: a look-alike request without one), ``k``,
    filters with checked codes, weights, diversity, and the creators to look like and unlike."""

    brief: str | None
    k: int
    filters: Filters | None
    weights: Weights | None
    diversity: float
    like: tuple[str, ...] = ()
    unlike: tuple[str, ...] = ()


def check_brief(brief: object, *, max_chars: int = MAX_BRIEF_CHARS) -> str:
    """The brief if it is text of at most ``max_chars`` characters that is not blank once normalised.

    Raises:
        RequestError: not text, too long (it is refused, never cut), or blank (also when only HTML,
            whitespace or invisible characters).
    """
    if not isinstance(brief, str):
        raise RequestError(f"brief is {type(brief).__name__}; give the product description as text")
    if len(brief) > max_chars:
        raise RequestError(f"brief is {len(brief):,} characters; the limit is {max_chars:,}: shorten the product description")
    if not normalize_text(brief, max_chars=max_chars):
        raise RequestError("brief is blank; describe the product to match creators to")
    return brief


def check_creator_ids(ids: object, field: str, *, limit: int = MAX_LIKED) -> tuple[str, ...]:
    """``ids`` as a tuple of distinct creator ids (None: none), in the order given.

    Raises:
        RequestError: not a list of text, a blank or over-long id, or more than ``limit`` ids.
    """
    if ids is None:
        return ()
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise RequestError(f"{field} is {type(ids).__name__}; give a list of creator ids such as [\"c001\", \"c002\"]")
    out = _bounded(ids, field, limit)
    for cid in out:
        if not isinstance(cid, str) or not cid.strip():
            raise RequestError(f"{field}: {cid!r} is not a creator id; give creator ids as text, such as \"c001\"")
        if len(cid) > MAX_ID_CHARS:
            raise RequestError(f"{field}: an id of {len(cid)} characters; creator ids are at most {MAX_ID_CHARS}")
    return tuple(dict.fromkeys(out))


def check_lookalike(brief: object, like: Iterable[str], unlike: Iterable[str]) -> None:
    """A request needs a brief or creators to look like (or both); no creator is both liked and unliked.

    Raises:
        RequestError: neither a brief nor ``like``, or a creator in both lists.
    """
    like, unlike = tuple(like), tuple(unlike)
    if brief is None and not like:
        raise RequestError("no brief and no creators to look like; give a brief, like=[creator ids], or both")
    both = [c for c in like if c in set(unlike)]
    if both:
        raise RequestError(f"creator {both[0]!r} is in both like and unlike; keep it in one of them")


def check_known_creators(ids: Iterable[str], field: str, known: Callable[[str], bool]) -> None:
    """Every id in ``ids`` is a creator of the served snapshot (``known(id)`` is true).

    Raises:
        RequestError: naming the first unknown id and where creator ids are found.
    """
    for cid in ids:
        if not known(cid):
            raise RequestError(
                f"{field}: creator {cid!r} is not in the served snapshot; use the creator_id of a match "
                "('matcher recommend --json' or POST /recommend) or check it with GET /creators/{id}"
            )


def check_k(k: object, *, limit: int = MAX_K) -> int:
    """``k`` if it is a whole number from 1 to ``limit``.

    Raises:
        RequestError: not an int (a bool, float or string is refused), or out of range.
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= limit:
        raise RequestError(f"k is {k!r}; ask for between 1 and {limit} matches")
    return k


def _code(value: object, kind: str, convert: Callable[[str], str | None], hint: str) -> str:
    text = value.strip() if isinstance(value, str) else None
    found = convert(text) if text and len(text) <= 80 else None
    if found is None:
        raise RequestError(f"{kind} {text if text is not None else value!r} is not a {kind} matcher recognises; {hint}")
    return found


def check_country(code: object) -> str:
    """The ISO 3166-1 alpha-2 code a country filter value stands for: a code or a name
    (``US``, ``usa``, ``U.S.A``, ``United States``), mapped by :mod:`matcher.codes` as ingest maps them.

    Raises:
        RequestError: not text, longer than 80 characters, or not a country matcher recognises.
    """
    return _code(code, "country", country_code, COUNTRY_HINT)


def check_language(code: object) -> str:
    """The ISO 639 code a language filter value stands for: a code or a name (``en``, ``English``),
    mapped by :mod:`matcher.codes` as ingest maps them.

    Raises:
        RequestError: not text, longer than 80 characters, or not a language matcher recognises.
    """
    return _code(code, "language", language_code, LANGUAGE_HINT)


def check_platform(name: object) -> str:
    """A platform name (lower-cased): letters, digits, ``_``, ``.``, ``-``, at most 40 characters.

    Raises:
        RequestError: anything else.
    """
    text = str(name).strip().lower() if isinstance(name, str) else None
    if text is None or not _PLATFORM_RE.fullmatch(text):
        raise RequestError(f"platform {text if text is not None else name!r} is not a platform name; write e.g. instagram, tiktok or youtube")
    return text


def check_mention(term: object) -> str:
    """A ``mentions`` term: a brand or category name of at most :data:`MAX_MENTION_CHARS` characters
    with a letter or digit (``"Summit Trail Co"``, ``"@summittrail"``, ``"trail running"``).

    Raises:
        RequestError: not text, too long, or no words once normalised.
    """
    if not isinstance(term, str):
        raise RequestError(f"mentions: {term!r} is not text; give brand or category names such as \"Summit Trail Co\" or \"trail running\"")
    if len(term) > MAX_MENTION_CHARS:
        raise RequestError(f"mentions: a term of {len(term)} characters; a brand or category name is at most {MAX_MENTION_CHARS}")
    if not mention_forms(normalize_text(term, max_chars=MAX_MENTION_CHARS)):
        raise RequestError(f"mentions: {term!r} has no letters or digits; give a brand or category name such as \"Summit Trail Co\"")
    return term.strip()


def _bounded(values: Iterable[Any], what: str, limit: int) -> list[Any]:
    out = list(values)
    if len(out) > limit:
        raise RequestError(f"{what}: {len(out)} given, at most {limit}; shorten the list")
    return out


def check_filters(filters: Filters | None) -> Filters | None:
    """``filters`` with every country, language and platform checked, and its lists and bounds in range.

    Raises:
        RequestError: a code or name is not valid, a list is too long, or a follower bound is out of range.
    """
    if filters is None:
        return None
    if not isinstance(filters, Filters):
        raise RequestError(f"filters is {type(filters).__name__}; pass a matcher.Filters")
    for name in ("min_followers", "max_followers"):
        v = getattr(filters, name)
        if v is not None and v > MAX_FOLLOWERS:
            raise RequestError(f"{name} is {v}; follower bounds go up to {MAX_FOLLOWERS:,}")
    excluded = _bounded(filters.exclude_creators, "exclude_creators", MAX_EXCLUDED)
    for cid in excluded:
        if len(cid) > MAX_ID_CHARS:
            raise RequestError(f"exclude_creators: an id of {len(cid)} characters; creator ids are at most {MAX_ID_CHARS}")
    return replace(
        filters,
        countries=tuple(dict.fromkeys(check_country(c) for c in _bounded(filters.countries, "countries", MAX_COUNTRIES))),
        languages=tuple(dict.fromkeys(check_language(c) for c in _bounded(filters.languages, "languages", MAX_LANGUAGES))),
        platforms=tuple(dict.fromkeys(check_platform(c) for c in _bounded(filters.platforms, "platforms", MAX_PLATFORMS))),
        mentions=tuple(dict.fromkeys(check_mention(t) for t in _bounded(filters.mentions, "mentions", MAX_MENTIONS))),
    )


def check_weights(weights: Weights | Mapping[str, Any] | None) -> Weights | None:
    """Per-request weights as :class:`Weights` (a mapping is read as ``Weights.from_mapping``).

    Raises:
        RequestError: an unknown component, a value outside [0, 1], or all zero.
    """
    if weights is None or isinstance(weights, Weights):
        return weights
    if not isinstance(weights, Mapping):
        raise RequestError(f"weights is {type(weights).__name__}; give a mapping such as {{\"topic\": 0.6, \"trust\": 0.4}}")
    try:
        return Weights.from_mapping(weights, source="weights")
    except ConfigError as exc:
        raise RequestError(str(exc)) from None


def check_diversity(diversity: object) -> float:
    """``diversity`` as a float in [0, 1].

    Raises:
        RequestError: not a finite number in [0, 1].
    """
    if isinstance(diversity, bool) or not isinstance(diversity, (int, float)) or not math.isfinite(diversity) or not 0.0 <= diversity <= 1.0:
        raise RequestError(f"diversity is {diversity!r}; use a number between 0 (off) and 1")
    return float(diversity)


def check_budget(budget: object, field: str = "budget") -> float:
    """``budget`` (or a cost) as a float above 0.

    Raises:
        RequestError: not a finite number above 0 and at most :data:`MAX_BUDGET`.
    """
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not math.isfinite(budget) or not 0 < budget <= MAX_BUDGET:
        raise RequestError(f"{field} is {budget!r}; give an amount above 0 (at most {MAX_BUDGET:.0e}) in the prices' currency, e.g. 5000")
    return float(budget)


def check_max_overlap(max_overlap: object) -> float | None:
    """``max_overlap`` (None: no limit) as a float in [0, 1].

    Raises:
        RequestError: not None and not a finite number in [0, 1].
    """
    if max_overlap is None:
        return None
    if isinstance(max_overlap, bool) or not isinstance(max_overlap, (int, float)) or not math.isfinite(max_overlap) or not 0.0 <= max_overlap <= 1.0:
        raise RequestError(f"max_overlap is {max_overlap!r}; use the largest audience overlap (Jaccard of commenters) two picks may have, between 0 and 1")
    return float(max_overlap)


def check_costs(costs: object) -> dict[str, float] | None:
    """A mapping of creator id to cost (None: the snapshot's price estimates), each checked by :func:`check_budget`.

    Raises:
        RequestError: not a mapping, a key that is not a creator id, or a cost that is not an amount above 0.
    """
    if costs is None:
        return None
    if not isinstance(costs, Mapping):
        raise RequestError("costs must map creator ids to amounts, e.g. {\"c001\": 1200}")
    out: dict[str, float] = {}
    for cid, amount in costs.items():
        if not isinstance(cid, str) or not cid.strip() or len(cid) > MAX_ID_CHARS:
            raise RequestError(f"costs: {cid!r} is not a creator id; use the creator_id of a match")
        out[cid.strip()] = check_budget(amount, f"costs[{cid!r}]")
    return out


def validate_request(
    brief: object,
    *,
    k: object = 10,
    filters: Filters | None = None,
    weights: Weights | Mapping[str, Any] | None = None,
    diversity: object = 0.0,
    max_k: int = MAX_K,
    like: object = (),
    unlike: object = (),
) -> Request:
    """Check every part of one recommendation request (the rules of the functions above).

    ``brief`` may be None when ``like`` names creators (a look-alike request). Whether the liked
    and unliked creators exist is checked against the served snapshot (:func:`check_known_creators`).

    Raises:
        RequestError: the first rule the request breaks, naming the field and the fix.
    """
    liked, unliked = check_creator_ids(like, "like"), check_creator_ids(unlike, "unlike")
    check_lookalike(brief, liked, unliked)
    return Request(
        brief=None if brief is None else check_brief(brief),
        k=check_k(k, limit=max_k),
        filters=check_filters(filters),
        weights=check_weights(weights),
        diversity=check_diversity(diversity),
        like=liked,
        unlike=unliked,
    )
