"""The service's request and response bodies (pydantic models), and the JSON response class they go out in."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any

from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model, field_validator, model_validator

from matcher.config import Weights
from matcher.request import (
    MAX_BRIEF_CHARS,
    MAX_BUDGET,
    MAX_COUNTRIES,
    MAX_EXCLUDED,
    MAX_FOLLOWERS,
    MAX_ID_CHARS,
    MAX_LANGUAGES,
    MAX_LIKED,
    MAX_MENTIONS,
    MAX_PLATFORMS,
    check_brief,
    check_budget,
    check_country,
    check_creator_ids,
    check_diversity,
    check_filters,
    check_k,
    check_language,
    check_lookalike,
    check_mention,
    check_max_overlap,
    check_platform,
)
from matcher.schema import Filters

__all__ = [
    "MAX_K",
    "CountryCode",
    "LanguageCode",
    "PlatformName",
    "CreatorId",
    "NicheId",
    "MentionTerm",
    "FiltersIn",
    "WeightsIn",
    "RecommendRequest",
    "EvidenceOut",
    "MatchSignals",
    "NicheScoreOut",
    "CollaborationOut",
    "PriceOut",
    "TrustConfidenceOut",
    "MatchOut",
    "RecommendResponse",
    "ShortlistRequest",
    "ShortlistResponse",
    "NicheOut",
    "NichesResponse",
    "CreatorProfile",
    "PostOut",
    "SeriesPoint",
    "CreatorResponse",
    "BrandOut",
    "StoredMatch",
    "BrandMatchesResponse",
    "LoadOut",
    "HealthResponse",
    "ErrorOut",
    "SafeJSONResponse",
]

#: Matches one HTTP request may ask for: the service caps ``matcher.request.MAX_K`` lower, as it
#: caps the body size, so one request cannot hold a worker for long.
MAX_K = 100

# -- request models ---------------------------------------------------------------------------

# Codes and names are checked by matcher.request's functions (the CLI and recommend() use the same),
# not by patterns here, so the service and the command line accept and refuse the same values.
CountryCode = Annotated[str, AfterValidator(check_country)]
LanguageCode = Annotated[str, AfterValidator(check_language)]
PlatformName = Annotated[str, AfterValidator(check_platform)]
CreatorId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS)]
NicheId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")]
MentionTerm = Annotated[str, AfterValidator(check_mention)]


class FiltersIn(BaseModel):
    """Who may be returned. Empty lists and nulls mean "no restriction"."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    platforms: list[PlatformName] = Field(default_factory=list, max_length=MAX_PLATFORMS, description="instagram, tiktok, youtube, ...")
    countries: list[CountryCode] = Field(
        default_factory=list, max_length=MAX_COUNTRIES, description="ISO 3166 alpha-2 codes or country names (US, usa, United States)"
    )
    languages: list[LanguageCode] = Field(
        default_factory=list, max_length=MAX_LANGUAGES,
        description="ISO 639-1 codes or language names (en, English); also matches languages detected from creators' posts",
    )
    min_followers: int | None = Field(None, ge=0, le=MAX_FOLLOWERS, strict=True)
    max_followers: int | None = Field(None, ge=0, le=MAX_FOLLOWERS, strict=True)
    allow_unknown_followers: bool = Field(False, description="let creators without a follower count pass a follower band")
    exclude_creators: list[CreatorId] = Field(default_factory=list, max_length=MAX_EXCLUDED)
    min_trust: float | None = Field(
        None, ge=0.0, le=1.0, description="leave out creators whose trust component is below this (applied inside the search, so k still fills)"
    )
    niches: list[NicheId] = Field(
        default_factory=list, max_length=100, description="niche ids (GET /niches lists them): only creators assigned any of them"
    )
    mentions: list[MentionTerm] = Field(
        default_factory=list, max_length=MAX_MENTIONS,
        description="brand or category names: only creators with a post (sponsored or not) naming any of them, in any case, spacing, @handle or #hashtag",
    )

    @field_validator("max_followers")
    @classmethod
    def _band(cls, v: int | None, info: Any) -> int | None:
        lo = info.data.get("min_followers")
        if v is not None and lo is not None and lo > v:
            raise ValueError(f"max_followers {v} is below min_followers {lo}; swap or widen them")
        return v

    def to_filters(self) -> Filters:
        """The engine's :class:`Filters`, checked as ``recommend()`` checks them."""
        return check_filters(Filters(
            min_followers=self.min_followers,
            max_followers=self.max_followers,
            countries=tuple(self.countries),
            languages=tuple(self.languages),
            platforms=tuple(self.platforms),
            exclude_creators=tuple(self.exclude_creators),
            allow_unknown_followers=self.allow_unknown_followers,
            # 0 restricts nothing here, but the engine's threshold would also drop creators whose
            # trust is unknown.
            min_trust=self.min_trust or None,
            niches=tuple(self.niches),
            mentions=tuple(self.mentions),
        ))


class _WeightsBase(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="after")
    def _not_all_zero(self) -> _WeightsBase:
        if not any(self.given().values()):
            raise ValueError("weights are all zero or empty; give at least one component a positive weight")
        return self

    def given(self) -> dict[str, float]:
        """The weights the request set."""
        return {k: v for k, v in self.model_dump().items() if v is not None}

    def to_weights(self) -> Weights:
        """The engine's :class:`Weights`: components the request leaves out weigh 0 (as ``Weights.from_mapping``).

        Raises:
            ConfigError: a weight is out of range or all are zero.
        """
        return Weights.from_mapping(self.given(), source="weights")


# One optional field per component the engine knows, so the schema lists them and typos fail.
WeightsIn = create_model(
    "WeightsIn",
    __base__=_WeightsBase,
    __doc__="Per-request component weights, each in [0, 1]; normalised over the components available for a creator. "
    "Components left out weigh 0.",
    **{f.name: (float | None, Field(None, ge=0.0, le=1.0)) for f in dataclasses.fields(Weights)},
)


class RecommendRequest(BaseModel):
    """A brief, or creators to look like (or both), and the options of one recommendation."""

    model_config = ConfigDict(extra="forbid")

    # Declared before the brief, which may be left out when ``like`` is given.
    like: list[CreatorId] = Field(
        default_factory=list, max_length=MAX_LIKED,
        description="creator ids whose content the matches should resemble (look-alikes); never returned",
    )
    unlike: list[CreatorId] = Field(
        default_factory=list, max_length=MAX_LIKED, description="creator ids whose content the matches should not resemble; never returned",
    )
    brief: str | None = Field(
        None, validate_default=True, description=f"product description, at most {MAX_BRIEF_CHARS} characters; optional when like is given",
        json_schema_extra={"minLength": 1, "maxLength": MAX_BRIEF_CHARS},
    )
    k: int = Field(10, strict=True, description=f"matches wanted, 1..{MAX_K}", json_schema_extra={"minimum": 1, "maximum": MAX_K})
    filters: FiltersIn = Field(default_factory=FiltersIn)
    weights: WeightsIn | None = None  # type: ignore[valid-type]
    diversity: float = Field(0.0, allow_inf_nan=False, json_schema_extra={"minimum": 0.0, "maximum": 1.0}, description="0: pure score order; above 0, trades score for variety among the creators returned")

    @field_validator("like")
    @classmethod
    def _like(cls, v: list[str]) -> list[str]:
        return list(check_creator_ids(v, "like"))

    @field_validator("unlike")
    @classmethod
    def _unlike(cls, v: list[str], info: Any) -> list[str]:
        out = list(check_creator_ids(v, "unlike"))
        check_lookalike(True, info.data.get("like", ()), out)
        return out

    @field_validator("brief")
    @classmethod
    def _brief(cls, v: str | None, info: Any) -> str | None:
        if v is None:
            check_lookalike(None, info.data.get("like", ()), ())
            return None
        return check_brief(v)

    @field_validator("k")
    @classmethod
    def _k(cls, v: int) -> int:
        return check_k(v, limit=MAX_K)

    @field_validator("diversity")
    @classmethod
    def _diversity(cls, v: float) -> float:
        return check_diversity(v)


class ShortlistRequest(BaseModel):
    """A brief or a brand of the snapshot, a budget, and the options of one shortlist."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    brand_id: CreatorId | None = Field(None, description="a brand of the served snapshot: its description and filters are the brief, its budget the default")
    brief: str | None = Field(None, description=f"product description, at most {MAX_BRIEF_CHARS} characters (or give brand_id)", json_schema_extra={"minLength": 1, "maxLength": MAX_BRIEF_CHARS})
    budget: float | None = Field(None, description="the most the set may cost, in the price estimates' currency (default: the brand's budget)", json_schema_extra={"exclusiveMinimum": 0, "maximum": MAX_BUDGET})
    max_overlap: float | None = Field(None, description="no two picks whose audience overlap (Jaccard of commenters) is known to be above this", json_schema_extra={"minimum": 0.0, "maximum": 1.0})
    k: int | None = Field(None, strict=True, description=f"best matches to pick from, 1..{MAX_K} (default: shortlist.candidates)", json_schema_extra={"minimum": 1, "maximum": MAX_K})
    filters: FiltersIn = Field(default_factory=FiltersIn)

    @field_validator("brief")
    @classmethod
    def _brief(cls, v: str | None) -> str | None:
        return None if v is None else check_brief(v)

    @field_validator("budget")
    @classmethod
    def _budget(cls, v: float | None) -> float | None:
        return None if v is None else check_budget(v)

    @field_validator("max_overlap")
    @classmethod
    def _max_overlap(cls, v: float | None) -> float | None:
        return check_max_overlap(v)

    @field_validator("k")
    @classmethod
    def _k(cls, v: int | None) -> int | None:
        return None if v is None else check_k(v, limit=MAX_K)

    @model_validator(mode="after")
    def _one_brief(self) -> ShortlistRequest:
        if (self.brief is None) == (self.brand_id is None):
            raise ValueError("give either a brief or a brand_id")
        if self.brief is not None and self.budget is None:
            raise ValueError("budget: give the most the set may cost (only a brand_id with a budget in the brands file has a default)")
        return self


# -- response models --------------------------------------------------------------------------


class EvidenceOut(BaseModel):
    """One of the creator's own posts that matched the brief."""

    post_id: str
    text: str
    similarity: float


class MatchSignals(BaseModel):
    """The creator's signals as the reranker saw them (more keys may follow the ones named here)."""

    model_config = ConfigDict(extra="allow")

    tier: str | None = None
    engagement_rate: float | None = None
    engagement_basis: str | None = None
    engagement_percentile: float | None = None
    engagement_standing: str | None = Field(default=None, description="where the engagement stands, e.g. 'better than 16% of nano creators'")
    n_posts: int | None = None
    sponsored_posts: int | None = None
    disclosed_posts: int | None = None
    days_since_last_post: float | None = None
    profile_similarity: float | None = None
    topic_fit: float | None = Field(default=None, description="topical fit relative to the brief's best clean candidates, in (0, 1]: what the score scales")
    credibility: str | None = Field(default=None, description="'doubtful' (a severe authenticity flag, or several: ranked down) or 'ok'")
    reasons: dict[str, Any] = Field(default_factory=dict, description="flag code -> the creator's own numbers behind it")


class NicheScoreOut(BaseModel):
    """One niche of a creator or brief, with the confidence in [0, 1]."""

    niche_id: str
    name: str
    confidence: float


class CollaborationOut(BaseModel):
    """One sponsored post of the creator and the brand it was made for."""

    brand: str
    date: str | None = Field(description="the post's day, YYYY-MM-DD (UTC); null when undated")
    disclosed: bool = Field(description="the post carries the platform's paid-partnership label or a disclosure in its text")
    source: str = Field(description="how the brand was found: 'sponsor' (the posts' sponsor column), 'mention' (an @handle) or 'name' (a brand name in the text)")
    post_id: str


class PriceOut(BaseModel):
    """A creator's per-post price, as a range with its basis (never one precise figure)."""

    low: float = Field(description="bottom of the range, per post")
    high: float = Field(description="top of the range, per post")
    currency: str = Field(description="the currency of low and high: USD, as the published rates")
    basis: str = Field(description="where the range comes from: the published rates used, and whether calibrated on your own past prices")
    text: str = Field(description="the range as shown on the page, e.g. '$120–$260 per post'")


class TrustConfidenceOut(BaseModel):
    """How sure the creator's trust figure is, and the evidence it rests on."""

    level: str = Field(description="'high', 'medium' or 'low' (thresholds signals.confidence_*); low is never a clean bill of health")
    posts: int = Field(description="the creator's posts the figure rests on")
    comments: int | None = Field(description="audience comments read; null without a comments table")
    days: int | None = Field(description="days of posting history, first post to last; null when the posts are undated")


class MatchOut(BaseModel):
    """One ranked creator: mirrors :class:`matcher.schema.Match`."""

    rank: int
    creator_id: str
    score: float
    components: dict[str, float | None] = Field(description="each component in [0, 1], or null when the signal is unavailable for this creator")
    contributions: dict[str, float] = Field(description="each component's part of the score (topic_fit x share for topic, topic_fit x (1 - share) x its part of the quality mean for the others), plus a negative 'penalty' when one applies; they add up to score")
    handle: str
    platform: str
    followers: int | None
    country: str | None
    language: str | None
    language_source: str | None = Field(None, description="'given' (creators file), 'detected' (from the creator's posts) or null")
    flags: list[str]
    signals: MatchSignals
    evidence: list[EvidenceOut]
    why: str
    niches: list[NicheScoreOut] = Field(default_factory=list, description="the creator's niches from its own posts, best first; they do not change the score")
    weak: bool = Field(False, description="the topic component is below the relevance floor (rank.relevance_floor): off the brief's topic")
    collaborations: list[CollaborationOut] = Field(default_factory=list, description="brands the creator worked with, from its sponsored posts, newest first")
    worked_with: str = Field("", description="the collaborations in one line: each brand with its count, latest date and undisclosed posts")
    price: PriceOut | None = Field(None, description="per-post price range with its basis; null when the follower count is unknown")
    trust_confidence: TrustConfidenceOut | None = Field(None, description="how sure the trust figure is; null for snapshots written before it existed")


class RecommendResponse(BaseModel):
    """Matches for a brief, best first."""

    snapshot_id: str
    k: int
    took_ms: float
    matches: list[MatchOut]
    brief_niches: list[NicheScoreOut] = Field(default_factory=list, description="the brief's niches, on the same scale as the creators'")


class PairOverlapOut(BaseModel):
    """The estimated audience overlap (Jaccard of commenters) of two creators; null when unknown."""

    a: str
    b: str
    jaccard: float | None


class AudienceOverlapOut(BaseModel):
    """Audience overlap among the picks: mirrors :class:`matcher.schema.AudienceOverlap`."""

    pairs: list[PairOverlapOut]
    known: list[str] = Field(description="picks whose audience is measured")
    unknown: list[str] = Field(description="picks with too few commenters (or no comments table): overlap unknown, never guessed")
    distinct_share: float | None = Field(description="estimated share of distinct people in the known picks' summed audiences (1: no one shared)")
    max_jaccard: float | None
    commenters: int


class ShortlistPickOut(BaseModel):
    """One creator of the shortlist: its match, cost (a range around the figure the budget counts), what it adds and why it is in."""

    match: MatchOut
    cost: float
    cost_low: float
    cost_high: float
    value_added: float = Field(description="its score less half of each penalty it shares with another pick; these sum to the set's value")
    why: str


class LeftOutOut(BaseModel):
    """A candidate not taken, and why."""

    creator_id: str
    rank: int
    reason: str


class ShortlistResponse(BaseModel):
    """The set of creators worth most within the budget: mirrors :class:`matcher.schema.Shortlist`."""

    snapshot_id: str
    took_ms: float
    brand_id: str | None
    budget: float
    max_overlap: float | None
    picks: list[ShortlistPickOut]
    spend: float = Field(description="what the picks cost by the figure the budget counts (each price estimate's middle)")
    spend_low: float = Field(description="the low end of the picks' price ranges, summed")
    spend_high: float = Field(description="the high end of the picks' price ranges, summed")
    currency: str | None
    value: float = Field(description="the set's value: scores less the audience-overlap and duplicate-content penalties")
    score_sum: float
    audience: AudienceOverlapOut
    left_out: list[LeftOutOut]
    method: str = Field(description="'exact' (proven best), 'solver-limit' or 'greedy'")
    candidates: int
    why: str


class NicheOut(BaseModel):
    """One niche of the taxonomy."""

    id: str
    name: str
    iab_parent: str = Field(description="the IAB Content Taxonomy tier-1 category it comes from")
    description: str = Field(description="what creators in this niche post about; embedded to assign niches")
    creators: int = Field(description="creators of the served snapshot assigned this niche")


class NichesResponse(BaseModel):
    """The niche taxonomy of the served snapshot: the valid ids of filters.niches."""

    snapshot_id: str
    taxonomy: str
    version: str
    based_on: str
    niches: list[NicheOut]


class CreatorProfile(BaseModel):
    """A creator's profile row."""

    creator_id: str
    handle: str
    platform: str
    bio: str
    followers: int | None
    following: int | None
    country: str | None
    language: str | None
    language_source: str | None = Field(None, description="'given' (creators file), 'detected' (from the creator's posts) or null")


class PostOut(BaseModel):
    """One of the creator's recent posts with its interactions and engagement."""

    post_id: str
    text: str
    posted_at: str | None
    likes: int | None
    comments: int | None
    views: int | None
    shares: int | None
    sponsored: bool | None
    interactions: int | None = Field(description="likes + comments + shares (missing counts as 0 when any is present)")
    engagement: float | None = Field(description="interactions / followers, or / views when followers are unknown or 0")


class SeriesPoint(BaseModel):
    """Engagement of one post at the time it was posted."""

    post_id: str
    posted_at: str
    interactions: int | None
    engagement: float | None


class CreatorResponse(BaseModel):
    """A creator's profile, signals, recent posts (newest first) and engagement over time (oldest first)."""

    snapshot_id: str
    creator: CreatorProfile
    signals: dict[str, Any]
    flags: list[str]
    engagement_basis: str = Field(description="'followers', 'views' or 'none': what each post's engagement is divided by")
    posts: list[PostOut]
    series: list[SeriesPoint]
    price: PriceOut | None = Field(None, description="per-post price range with its basis; null when the follower count is unknown")
    trust_confidence: TrustConfidenceOut | None = Field(None, description="how sure the trust figure is; null for snapshots written before it existed")


class BrandOut(BaseModel):
    """A brand of the snapshot."""

    brand_id: str
    name: str
    description: str
    niches: list[NicheScoreOut] = Field(default_factory=list, description="the brief's niches, best first, as the batch assigned them")


class StoredMatch(BaseModel):
    """One of the batch's stored matches for a brand."""

    rank: int
    creator_id: str
    handle: str | None
    platform: str | None
    followers: int | None
    score: float
    components: dict[str, float | None]
    penalty: float | None = None
    weak: bool = Field(False, description="the topic component is below the relevance floor: off the brief's topic")
    why: str
    worked_with: str = Field("", description="the brands the creator worked with, in one line (as on a recommendation's match)")
    price: PriceOut | None = Field(None, description="per-post price range with its basis, as the batch estimated it; null when the follower count is unknown")
    trust_confidence: TrustConfidenceOut | None = Field(None, description="how sure the trust figure is; null for snapshots written before it existed")


class BrandMatchesResponse(BaseModel):
    """The nightly batch's matches for one brand, best first."""

    snapshot_id: str
    brand: BrandOut
    matches: list[StoredMatch]


class LoadOut(BaseModel):
    """How busy the service is, and how often the brief cache answered since it started."""

    workers: int = Field(description="requests worked on at once")
    queued: int = Field(description="requests admitted to the workers and not yet finished")
    shed: int = Field(description="requests answered 503 at once because the queue could not finish them before the deadline")
    brief_cache_size: int
    brief_cache_hits: int
    brief_cache_misses: int


class HealthResponse(BaseModel):
    """Service status and what it serves."""

    status: str = Field(description="'ok', or 'degraded' when the published snapshot fails verification and an earlier one is served")
    snapshot_id: str = Field(description="the snapshot being served")
    published_id: str | None = Field(None, description="the snapshot the store's pointer names")
    detail: str | None = None
    created_at: str | None
    creators: int
    posts: int
    brands: int
    model: str | None
    platforms: list[str]
    countries: list[str]
    load: LoadOut


class ErrorOut(BaseModel):
    """An error: what went wrong and how to fix it."""

    detail: str



class SafeJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: error messages may echo input, and input may hold lone surrogates."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"), default=str).encode("ascii")
