"""Typed records users pass in and get back: Brand, Filters, Match and its Evidence."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from matcher.codes import country_codes, language_codes

__all__ = ["Brand", "Filters", "Hit", "Evidence", "NicheScore", "Collaboration", "PriceEstimate", "TrustConfidence", "Match", "PairOverlap", "AudienceOverlap", "ShortlistPick", "LeftOut", "Shortlist"]


def _tuple(values: Iterable[Any] | str | None, *, case: str | None = None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [v for v in values.replace(",", "|").split("|")]
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            continue
        s = str(v).strip()
        if not s:
            continue
        out.append(s.upper() if case == "upper" else s.lower() if case == "lower" else s)
    return tuple(out)


def _count(value: Any, name: str) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, bool) or int(value) != value or int(value) < 0:
        raise ValueError(f"'{name}' is {value!r}; follower bounds must be whole numbers >= 0")
    return int(value)


@dataclass(frozen=True)
class Filters:
    """Which creators may be returned. Empty tuples and None mean "no restriction".

    Creators whose follower count is unknown (YouTube-style exports) pass a follower range only
    when ``allow_unknown_followers`` is true. ``countries`` and ``languages`` take codes or names
    (``"US"``, ``"usa"``, ``"United States"``; ``"en"``, ``"English"``), kept as ISO codes; the
    language filter also matches languages the batch detected from a creator's posts.

    :raises ValueError: a country or language is not recognised, or a bound is invalid.
    """

    min_followers: int | None = None
    max_followers: int | None = None
    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    exclude_creators: tuple[str, ...] = ()
    allow_unknown_followers: bool = False
    include_brand_accounts: bool = False
    min_trust: float | None = None
    niches: tuple[str, ...] = ()  # niche ids (``matcher niches`` lists them): creators assigned any of them
    # brand or category names: creators with a post that names any of them (see matcher.collaborations)
    mentions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.min_trust is not None and not (isinstance(self.min_trust, (int, float)) and 0.0 <= float(self.min_trust) <= 1.0):
            raise ValueError(f"min_trust is {self.min_trust!r}; use a number between 0 and 1")
        object.__setattr__(self, "min_followers", _count(self.min_followers, "min_followers"))
        object.__setattr__(self, "max_followers", _count(self.max_followers, "max_followers"))
        object.__setattr__(self, "countries", country_codes(_tuple(self.countries)))
        object.__setattr__(self, "languages", language_codes(_tuple(self.languages)))
        object.__setattr__(self, "platforms", _tuple(self.platforms, case="lower"))
        object.__setattr__(self, "exclude_creators", _tuple(self.exclude_creators))
        object.__setattr__(self, "niches", tuple(dict.fromkeys(_tuple(self.niches, case="lower"))))
        mentions = (self.mentions,) if isinstance(self.mentions, str) else self.mentions
        # Kept as given (a blank term is refused by matcher.request, not dropped here).
        object.__setattr__(self, "mentions", tuple(dict.fromkeys(m if isinstance(m, str) else str(m) for m in (mentions or ()))))
        if self.min_followers is not None and self.max_followers is not None and self.min_followers > self.max_followers:
            raise ValueError(
                f"min_followers {self.min_followers} is above max_followers {self.max_followers}; swap or widen them"
            )

    @property
    def active(self) -> bool:
        """True when any restriction is set."""
        return bool(
            self.min_followers is not None
            or self.max_followers is not None
            or self.countries
            or self.languages
            or self.platforms
            or self.exclude_creators
            or self.min_trust is not None
            or self.niches
            or self.mentions
        )

    def merge(self, other: Filters | None) -> Filters:
        """Combine with ``other``: both sets of restrictions apply (ranges intersect, exclusions add)."""
        if other is None:
            return self

        def pick(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            if a and b:
                return tuple(x for x in a if x in set(b))
            return a or b

        lo = [x for x in (self.min_followers, other.min_followers) if x is not None]
        hi = [x for x in (self.max_followers, other.max_followers) if x is not None]
        return Filters(
            min_followers=max(lo) if lo else None,
            max_followers=min(hi) if hi else None,
            countries=pick(self.countries, other.countries),
            languages=pick(self.languages, other.languages),
            platforms=pick(self.platforms, other.platforms),
            exclude_creators=tuple(dict.fromkeys(self.exclude_creators + other.exclude_creators)),
            allow_unknown_followers=self.allow_unknown_followers and other.allow_unknown_followers,
            include_brand_accounts=self.include_brand_accounts or other.include_brand_accounts,
            min_trust=max((t for t in (self.min_trust, other.min_trust) if t is not None), default=None),
            niches=pick(self.niches, other.niches),
            # the terms both sides ask for (as the other lists); one side alone keeps its own
            mentions=pick(self.mentions, other.mentions),
        )


@dataclass(frozen=True)
class Brand:
    """A brand and its brief. ``description`` is the product description the match is made against.

    ``weights`` optionally overrides the component weights for this brand (a mapping such as
    ``{"topic": 0.5, "trust": 0.3, "engagement": 0.2}``; in a brands file, a JSON object in a
    ``weights`` column). ``budget`` (optional) asks the nightly batch for a shortlist within it.
    """

    brand_id: str
    description: str
    name: str = ""
    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    min_followers: int | None = None
    max_followers: int | None = None
    competitors: tuple[str, ...] = ()
    exclude_creators: tuple[str, ...] = ()
    weights: Mapping[str, float] | None = None
    budget: float | None = None

    def __post_init__(self) -> None:
        if self.budget is not None and (isinstance(self.budget, bool) or not isinstance(self.budget, (int, float)) or not (0 < float(self.budget) < float("inf"))):
            raise ValueError(f"brand '{self.brand_id}': 'budget' is {self.budget!r}; give an amount above 0, or None for no shortlist")
        if not str(self.description or "").strip():
            raise ValueError(f"brand '{self.brand_id}': 'description' is blank; give the product description to match on")
        try:
            object.__setattr__(self, "countries", country_codes(_tuple(self.countries)))
            object.__setattr__(self, "languages", language_codes(_tuple(self.languages)))
        except ValueError as exc:
            raise ValueError(f"brand '{self.brand_id}': {exc}") from None
        object.__setattr__(self, "competitors", _tuple(self.competitors))
        object.__setattr__(self, "exclude_creators", _tuple(self.exclude_creators))
        object.__setattr__(self, "min_followers", _count(self.min_followers, "min_followers"))
        object.__setattr__(self, "max_followers", _count(self.max_followers, "max_followers"))

    @property
    def query_text(self) -> str:
        """The text embedded for this brand: name (often the product's name) and description."""
        name = (self.name or "").strip()
        return f"{name}. {self.description}" if name else self.description

    def filters(self) -> Filters:
        """The restrictions this brand sets on its matches."""
        return Filters(
            min_followers=self.min_followers,
            max_followers=self.max_followers,
            countries=self.countries,
            languages=self.languages,
            exclude_creators=self.exclude_creators,
        )

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Brand:
        """Build a Brand from a row of the brands table (a mapping of column → value)."""
        names = ("brand_id", "description", "name", "countries", "languages", "min_followers", "max_followers", "competitors", "exclude_creators", "weights", "budget")
        kwargs = {}
        for n in names:
            v = record.get(n)
            if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
                continue
            kwargs[n] = list(v) if hasattr(v, "tolist") and not isinstance(v, str) else v
        kwargs.setdefault("name", "")
        kwargs["brand_id"] = str(kwargs.get("brand_id", ""))
        w = kwargs.get("weights")
        if isinstance(w, str):
            w = w.strip()
            try:
                kwargs["weights"] = json.loads(w) if w else None
            except json.JSONDecodeError:
                raise ValueError(
                    f"brand '{kwargs['brand_id']}': 'weights' is {w!r}; write a JSON object such as {{\"topic\": 0.6, \"trust\": 0.4}}"
                ) from None
        if kwargs.get("weights") is not None and not isinstance(kwargs["weights"], Mapping):
            raise ValueError(f"brand '{kwargs['brand_id']}': 'weights' must be a mapping of component to weight")
        return cls(**kwargs)


@dataclass(frozen=True)
class Evidence:
    """One of the creator's own posts that matched the brief, with its cosine similarity."""

    post_id: str
    text: str
    similarity: float


@dataclass(frozen=True)
class Hit:
    """One search result: the creator's external id, its row in the index, and cosine similarity."""

    id: str
    row: int
    score: float


@dataclass(frozen=True)
class NicheScore:
    """One niche of a creator or brief: its id and name in the taxonomy, and the confidence in [0, 1]."""

    niche_id: str
    name: str
    confidence: float


@dataclass(frozen=True)
class Collaboration:
    """One sponsored post of a creator and the brand it was made for (see :mod:`matcher.collaborations`).

    ``date`` is the post's day (``YYYY-MM-DD``, UTC) or None when the post is undated; ``disclosed``
    is True when the post carries the platform's paid-partnership label or a disclosure in its
    text; ``source`` says how the brand was found: ``"sponsor"`` (the posts' sponsor column),
    ``"mention"`` (an @handle) or ``"name"`` (a brand name in the text).
    """

    brand: str
    date: str | None
    disclosed: bool
    source: str
    post_id: str = ""


@dataclass(frozen=True)
class PriceEstimate:
    """A per-post price range for a creator: ``low`` and ``high`` bound the range (its ``mid`` is the
    typical price, never shown alone), in ``currency``; ``basis`` says where it comes from (the
    published rates used, and whether calibrated on your own past prices). See :mod:`matcher.prices`.
    """

    low: float
    mid: float
    high: float
    currency: str = "USD"
    basis: str = ""


@dataclass(frozen=True)
class TrustConfidence:
    """How sure a creator's trust figure is: ``level`` "high", "medium" or "low", from the ``posts``,
    audience ``comments`` (None without a comments table) and ``days`` of posting history it rests
    on (thresholds ``signals.confidence_*``). Low confidence is never a clean bill of health."""

    level: str
    posts: int
    comments: int | None
    days: int | None


@dataclass(frozen=True)
class Match:
    """One ranked creator for a brief, with every score component and the evidence behind it.

    ``components`` holds each component's value in [0, 1], or None when the signal is unavailable
    for this creator (left out of the quality mean); ``contributions`` splits the score into each
    component's part (see :func:`matcher.rerank.combine`), plus a negative ``penalty`` for
    competitor conflicts or unsafe content, and they add up to ``score``. ``signals["reasons"]`` gives a detail with the creator's own numbers for each flag.
    ``language_source`` says where ``language`` came from: ``"given"`` (the creators file),
    ``"detected"`` (from the creator's posts, by the batch) or None (unknown).
    ``niches`` are the creator's niches from its own posts, best first (see :mod:`matcher.niches`);
    they never change the score. ``collaborations`` are the brands the creator worked with, newest
    post first (at most :data:`matcher.collaborations.MAX_LISTED`). ``weak`` is True when the topic component is below the relevance
    floor (``rank.relevance_floor``): the creator's content is off the brief's topic, whatever else.
    ``price`` is the creator's per-post price range (None when its follower count is unknown);
    ``trust_confidence`` says how sure its trust figure is (None in snapshots written before it existed).
    """

    rank: int
    creator_id: str
    score: float
    components: dict[str, float | None]
    contributions: dict[str, float]
    handle: str = ""
    platform: str = ""
    followers: int | None = None
    country: str | None = None
    language: str | None = None
    language_source: str | None = None
    flags: tuple[str, ...] = ()
    signals: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    why: str = ""
    niches: tuple[NicheScore, ...] = ()
    weak: bool = False
    collaborations: tuple[Collaboration, ...] = ()
    price: PriceEstimate | None = None
    trust_confidence: TrustConfidence | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        return asdict(self)


@dataclass(frozen=True)
class PairOverlap:
    """The estimated audience overlap (Jaccard of commenters) of two creators; None when unknown."""

    a: str
    b: str
    jaccard: float | None


@dataclass(frozen=True)
class AudienceOverlap:
    """Audience overlap among a set of creators (see :mod:`matcher.audience`).

    ``pairs`` holds every pair; ``known`` the creators whose audience is measured, ``unknown`` the
    rest. ``distinct_share`` is the estimated share of distinct people in the known creators'
    summed audiences: 1.0 when no two share a commenter, ``1/n`` when ``n`` have the same audience;
    None with no known creator. ``max_jaccard`` is the largest known pairwise overlap;
    ``commenters`` the known creators' distinct commenters, summed.
    """

    pairs: tuple[PairOverlap, ...] = ()
    known: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    distinct_share: float | None = None
    max_jaccard: float | None = None
    commenters: int = 0


@dataclass(frozen=True)
class ShortlistPick:
    """One creator of a shortlist: its match, what it costs (a range around ``cost``, the figure
    the budget counts) and what it adds to the set's value (``value_added`` sums to the set's value:
    its score less half of each penalty it shares with another pick). ``why`` says why it is in."""

    match: Match
    cost: float
    cost_low: float
    cost_high: float
    value_added: float
    why: str


@dataclass(frozen=True)
class LeftOut:
    """A candidate the shortlist does not take, and why (for example ``price unknown``)."""

    creator_id: str
    rank: int
    reason: str


@dataclass(frozen=True)
class Shortlist:
    """The set of creators worth most within a budget (see :mod:`matcher.shortlist`).

    ``spend`` is what the picks cost by the figure the budget counts; ``spend_low`` to
    ``spend_high`` the range of the picks' price estimates. ``value`` is the set's value (scores
    less the overlap and duplicate penalties) and ``score_sum`` the plain sum of the picks' scores.
    ``audience`` is the overlap among the picks; ``left_out`` every candidate not taken, with the
    reason; ``method`` how the set was found (``exact``, ``solver-limit`` or ``greedy``).
    """

    brand_id: str | None
    budget: float
    max_overlap: float | None
    picks: tuple[ShortlistPick, ...]
    spend: float
    spend_low: float
    spend_high: float
    currency: str | None
    value: float
    score_sum: float
    audience: AudienceOverlap
    left_out: tuple[LeftOut, ...]
    method: str
    candidates: int
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        return asdict(self)
