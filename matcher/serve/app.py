"""HTTP service and web page over the latest published snapshot: recommend, creator profiles, stored matches."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import pandas as pd
from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model, field_validator, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matcher.config import Config, Weights
from matcher.embed import CachingEncoder, Encoder, QueryCache
from matcher.engine import Matcher, filter_columns
from matcher.errors import ConfigError, MatcherError
from matcher.request import (
    MAX_BRIEF_CHARS,
    MAX_COUNTRIES,
    MAX_EXCLUDED,
    MAX_FOLLOWERS,
    MAX_ID_CHARS,
    MAX_LANGUAGES,
    MAX_PLATFORMS,
    check_brief,
    check_country,
    check_diversity,
    check_filters,
    check_k,
    check_language,
    check_platform,
)
from matcher.schema import Filters, Match, NicheScore
from matcher.signals import parse_reasons, split_flags
from matcher.store import Snapshot, Store

__all__ = [
    "create_app",
    "serve",
    "MAX_K",
    "MAX_BRIEF_CHARS",
    "MAX_BODY_BYTES",
    "DEFAULT_TIMEOUT_S",
    "HEADER_TIMEOUT_S",
    "BODY_TIMEOUT_S",
    "MAX_JSON_DEPTH",
    "SECURITY_HEADERS",
    "RecommendRequest",
    "RecommendResponse",
    "CreatorResponse",
    "BrandMatchesResponse",
    "HealthResponse",
    "NichesResponse",
]

logger = logging.getLogger(__name__)

#: Matches one HTTP request may ask for: the service caps ``matcher.request.MAX_K`` lower, as it
#: caps the body size, so one request cannot hold a worker for long.
MAX_K = 100
MAX_BODY_BYTES = 64 * 1024
DEFAULT_TIMEOUT_S = 10.0
#: Seconds a client has to send a request's line and headers, and then its whole body: a client
#: that announces 1,000 bytes and sends 10 cannot hold a connection (and a worker slot) open.
HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 10.0
#: Seconds an idle keep-alive connection stays open (uvicorn's ``timeout_keep_alive``).
KEEP_ALIVE_S = 5
#: Deepest nesting of arrays and objects a JSON body may have; a request needs 3.
MAX_JSON_DEPTH = 32
#: Headers on every response (the page and /docs add a Content-Security-Policy of their own).
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
MAX_CREATOR_POSTS = 50  # the batch keeps each creator's newest posts up to embed.max_posts (50 by default)

T = TypeVar("T")

# -- request models ---------------------------------------------------------------------------

# Codes and names are checked by matcher.request's functions (the CLI and recommend() use the same),
# not by patterns here, so the service and the command line accept and refuse the same values.
CountryCode = Annotated[str, AfterValidator(check_country)]
LanguageCode = Annotated[str, AfterValidator(check_language)]
PlatformName = Annotated[str, AfterValidator(check_platform)]
CreatorId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS)]
NicheId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")]


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
    """A brief and the options of one recommendation."""

    model_config = ConfigDict(extra="forbid")

    brief: str = Field(
        ..., description=f"product description, at most {MAX_BRIEF_CHARS} characters", json_schema_extra={"minLength": 1, "maxLength": MAX_BRIEF_CHARS}
    )
    k: int = Field(10, strict=True, description=f"matches wanted, 1..{MAX_K}", json_schema_extra={"minimum": 1, "maximum": MAX_K})
    filters: FiltersIn = Field(default_factory=FiltersIn)
    weights: WeightsIn | None = None  # type: ignore[valid-type]
    diversity: float = Field(0.0, allow_inf_nan=False, json_schema_extra={"minimum": 0.0, "maximum": 1.0}, description="0: pure score order; above 0, trades score for variety among the creators returned")

    @field_validator("brief")
    @classmethod
    def _brief(cls, v: str) -> str:
        return check_brief(v)

    @field_validator("k")
    @classmethod
    def _k(cls, v: int) -> int:
        return check_k(v, limit=MAX_K)

    @field_validator("diversity")
    @classmethod
    def _diversity(cls, v: float) -> float:
        return check_diversity(v)


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


class RecommendResponse(BaseModel):
    """Matches for a brief, best first."""

    snapshot_id: str
    k: int
    took_ms: float
    matches: list[MatchOut]
    brief_niches: list[NicheScoreOut] = Field(default_factory=list, description="the brief's niches, on the same scale as the creators'")


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


# -- plumbing ---------------------------------------------------------------------------------


class SafeJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: error messages may echo input, and input may hold lone surrogates."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"), default=str).encode("ascii")


class ServiceBusy(Exception):
    """The work did not finish within the request deadline."""


class ServiceOverloaded(Exception):
    """The requests queued ahead cannot finish before this one's deadline, so it is not started."""

    def __init__(self, queued: int, wait_s: float, limit_s: float) -> None:
        super().__init__(f"{queued} requests queued, about {wait_s:.1f} s of work")
        self.queued = queued
        self.wait_s = wait_s
        # Once the work over the limit has drained, a request sent then is admitted again.
        self.retry_after = max(1, math.ceil(wait_s - limit_s))


def json_depth(body: bytes | str) -> int:
    """How deeply arrays and objects nest in a JSON text (strings skipped), without parsing it."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = _JSON_STRING_RE.sub("", text)
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


_JSON_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)


class BodyLimitMiddleware:
    """Read the request body within a deadline and a size limit, and refuse what cannot be JSON.

    Over ``max_bytes``: 413 before the app parses it. Not all there within ``timeout_s`` (a client
    that announces more than it sends): 408, and the connection is closed. A JSON body that is not
    UTF-8 or nests deeper than ``max_depth``: 422 saying which. The body is read here and replayed
    to the app, because an error raised from inside the app's own body parsing would surface as a
    generic 400.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout_s: float = BODY_TIMEOUT_S, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.max_depth = max_depth

    async def _send(self, send: Send, status: int, content: Any) -> None:
        body = SafeJSONResponse(content, status_code=status, headers=SECURITY_HEADERS)
        await send({"type": "http.response.start", "status": status, "headers": body.raw_headers + [(b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body.body})

    async def _reject(self, send: Send, size: str) -> None:
        await self._send(
            send, 413,
            {"detail": f"request body is {size}; the limit is {self.max_bytes} bytes ({self.max_bytes // 1024} KB): shorten the brief or the filter lists"},
        )

    async def _invalid(self, send: Send, msg: str) -> None:
        await self._send(send, 422, {"detail": [{"loc": ["body"], "msg": msg, "type": "json_invalid"}], "message": f"body: {msg}"})

    def _check_json(self, scope: Scope, body: bytes) -> str | None:
        if not body:
            return None
        ctype = next((v for n, v in scope.get("headers", ()) if n == b"content-type"), b"application/json").lower()
        if b"json" not in ctype:
            return None
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return "the request body is not UTF-8; send UTF-8 JSON such as {\"brief\": \"...\", \"k\": 10}"
        depth = json_depth(body)
        if depth > self.max_depth:
            return (
                f"the JSON body nests arrays and objects {depth} levels deep; the limit is {self.max_depth} (a request needs 3): "
                "send a JSON object such as {\"brief\": \"...\", \"k\": 10}"
            )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._reject(send, f"{declared} bytes")
                    return
        chunks: list[bytes] = []
        size = 0
        more = True
        deadline = time.monotonic() + self.timeout_s
        while more:
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                logger.info("request body not complete within %g s (%d bytes received); closing the connection", self.timeout_s, size)
                await self._send(
                    send, 408, {"detail": f"the request body did not arrive within {self.timeout_s:g} s ({size} bytes received); send the whole body at once"}
                )
                return
            if message["type"] != "http.request":
                # The client went away: let the app see the disconnect.
                pending: list[Message] = [message]
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(send, f"over {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        else:
            body = b"".join(chunks)
            problem = self._check_json(scope, body)
            if problem is not None:
                await self._invalid(send, problem)
                return
            pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        await self.app(scope, replay, send)


class SecurityHeadersMiddleware:
    """Add :data:`SECURITY_HEADERS` to every response that does not set the header itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {name.lower() for name, _ in message.get("headers", ())}
                message = {**message, "headers": [*message.get("headers", ()), *((n, v) for n, v in self.headers if n not in have)]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _inline_hashes(html: str, tag: str) -> str:
    """CSP source expressions (``'sha256-...'``) for each inline ``<tag>`` block of ``html``."""
    found = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(x.encode()).digest()).decode()}'" for x in found)


def _docs_page(openapi_url: str, assets: Mapping[str, str]) -> tuple[str, str]:
    """Swagger UI's page, with no remote favicon, and a CSP that lets only its own files and inline start-up script run."""
    # No validator badge: Swagger UI would fetch it from validator.swagger.io.
    html = get_swagger_ui_html(
        openapi_url=openapi_url, title="matcher API", swagger_favicon_url="data:,", swagger_ui_parameters={"validatorUrl": None}, **assets
    ).body.decode()
    csp = (
        f"default-src 'none'; script-src 'self' {_inline_hashes(html, 'script')}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html, csp


def _plain(value: Any) -> Any:
    """A JSON-ready Python value: numpy scalars unwrapped, NaN/NA to None, timestamps to ISO-8601."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _int(value: Any) -> int | None:
    v = _plain(value)
    if v is None or isinstance(v, str):
        return None
    return int(v)


def _str(value: Any) -> str | None:
    v = _plain(value)
    return None if v is None else str(v)


def _match_out(m: Match) -> MatchOut:
    d = m.to_dict()
    d["signals"] = {k: _plain(v) for k, v in d["signals"].items()}
    d["flags"] = list(d["flags"])
    d["evidence"] = list(d["evidence"])
    d["niches"] = list(d["niches"])
    return MatchOut.model_validate(d)


class _SnapshotView:
    """Per-snapshot lookups built once: facets for the page, brand ids for the 404 check."""

    def __init__(self, snap: Snapshot) -> None:
        self.snapshot_id = snap.snapshot_id
        c = snap.creators
        self.platforms = sorted(str(v) for v in c["platform"].dropna().unique()) if "platform" in c else []
        self.countries = sorted(str(v) for v in c["country"].dropna().unique()) if "country" in c else []
        brands = snap.brands
        self.brand_ids = set(brands["brand_id"].astype(str)) if "brand_id" in brands else set()


@dataclass(frozen=True)
class Served:
    """A snapshot and its lookups, replaced together as one reference so a request never mixes two."""

    snapshot: Snapshot
    view: _SnapshotView


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _serving_embed(config: Config) -> Config:
    """``config`` with one encoder thread per request unless ``embed.threads`` is set.

    Requests run side by side, one per core. A second ONNX Runtime thread per request speeds up a
    brief alone on an idle machine, but waits for a core whenever another request or process runs,
    and under load it made the 30 requests/s run queue up to the deadline
    (``benchmarks/results/serve_load.md``, README "Load").
    """
    if config.embed.threads:
        return config
    return dataclasses.replace(config, embed=dataclasses.replace(config.embed, threads=1))


def _worker_init() -> None:
    # FAISS's OpenMP setting is per thread (libgomp), so each worker sets its own: one query at a
    # time per worker, and the cores are already shared out between workers.
    import faiss

    faiss.omp_set_num_threads(1)


# How much each finished job moves the estimate of a job's time, for load shedding.
_EWMA_ALPHA = 0.1
# The estimate is an average of past jobs, so it lags when the machine slows down (other work on
# the same cores): shedding at this share of the deadline keeps admitted requests from timing out.
_SHED_AT = 0.8


class Service:
    """The state behind the app: one :class:`Matcher` and a pool of ``serve.workers`` threads.

    Requests run side by side: encoding (ONNX Runtime) and the index search release the GIL, and
    the reranker only reads the snapshot. Each request takes one reference to the served snapshot
    and uses it throughout. A newly published snapshot is loaded by one request at a time, while the
    others keep serving the previous one, and then swapped in as one reference.

    Admission: a request whose queue ahead cannot finish before its deadline (at the recent time per
    job, with a margin) answers 503 at once with a ``Retry-After``, instead of waiting the whole
    deadline for it.
    """

    def __init__(self, store: str | Path, *, config: Config | None = None, encoder: Encoder | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.config = config or Config()
        self.store = Store(store)
        if encoder is None:
            encoder = Encoder(_serving_embed(self.config).embed)
        self.encoder = encoder
        # Repeated briefs are answered from the cache: the Matcher encodes through it.
        self.briefs = QueryCache(self.config.serve.brief_cache)
        self.matcher = Matcher(store, config=self.config, encoder=CachingEncoder(encoder, self.briefs)).load()
        self.timeout_s = timeout_s
        self.workers = self.config.serve.workers or _cores()
        self._served = Served(self.matcher.snapshot_, _SnapshotView(self.matcher.snapshot_))
        self._refresh_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._pending = 0
        self._job_s: float | None = None
        self._shed = 0
        self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="matcher-serve", initializer=_worker_init)
        # Health checks get a thread of their own, so they answer (and show the queue) while the
        # workers are saturated.
        self.control = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher-health")

    def current(self) -> Served:
        """The snapshot to serve from, switching to a newly published one first.

        Raises:
            StoreError: the store's pointer cannot be read.
        """
        # Non-blocking: while one request loads a new snapshot (seconds at 100k creators), the
        # others go on with the one they have rather than queue behind the load.
        if self._refresh_lock.acquire(blocking=False):
            try:
                self.matcher.refresh()
                snap = self.matcher.snapshot_
                if snap is not self._served.snapshot:
                    self._served = Served(snap, _SnapshotView(snap))
            finally:
                self._refresh_lock.release()
        return self._served

    def snapshot(self, deadline: float) -> tuple[Snapshot, _SnapshotView]:
        """The latest published snapshot (switching to it first if it is new) and its lookups."""
        served = self.current()
        return served.snapshot, served.view

    def recommend(self, req: RecommendRequest, weights: Weights | None, deadline: float) -> tuple[str, list[Match], list[NicheScore]]:
        """Run one recommendation. Returns the snapshot id it was served from, the matches and the brief's niches.

        The steps of :meth:`Matcher.recommend` (the Matcher encodes through the brief cache), on one
        snapshot reference taken up front.
        """
        served = self.current()
        queries = self.matcher.queries([req.brief], filters=req.filters.to_filters())
        if time.monotonic() > deadline:
            raise ServiceBusy()
        matches = self.matcher.rank(queries, req.k, weights=weights, diversity=req.diversity, snapshot=served.snapshot)[0]
        query = queries.vectors[0]
        model = served.snapshot.niche_model
        brief_niches = list(model.assign(query[None, :])[0]) if model is not None else []
        return served.snapshot.snapshot_id, matches, brief_niches

    def load(self) -> LoadOut:
        """Queue length, shed requests and brief-cache counts."""
        cache = self.briefs.stats()
        with self._queue_lock:
            queued, shed = self._pending, self._shed
        return LoadOut(workers=self.workers, queued=queued, shed=shed, brief_cache_size=cache.size, brief_cache_hits=cache.hits, brief_cache_misses=cache.misses)

    def _admit(self) -> None:
        """Count one more job in the queue, or raise :class:`ServiceOverloaded`."""
        with self._queue_lock:
            ahead, job_s = self._pending, self._job_s
            # Work left ahead of this request, spread over the workers, plus its own turn (no
            # estimate before the first job has finished).
            wait_s = 0.0 if job_s is None else (ahead // self.workers + 1) * job_s
            if wait_s <= _SHED_AT * self.timeout_s:
                self._pending += 1
                return
            self._shed += 1
        raise ServiceOverloaded(ahead, wait_s, _SHED_AT * self.timeout_s)

    def _timed(self, fn: Callable[..., T], args: tuple[Any, ...], deadline: float) -> T:
        if time.monotonic() > deadline:  # waited out its deadline in the queue: nobody awaits it
            raise ServiceBusy()
        t = time.perf_counter()
        try:
            return fn(*args, deadline)
        finally:
            took = time.perf_counter() - t
            with self._queue_lock:
                self._job_s = took if self._job_s is None else (1 - _EWMA_ALPHA) * self._job_s + _EWMA_ALPHA * took

    def _finished(self, _: Future) -> None:
        with self._queue_lock:
            self._pending -= 1

    async def run(self, fn: Callable[..., T], *args: Any, control: bool = False) -> T:
        """Run ``fn(*args, deadline)`` in the worker pool, or on the health thread if ``control``
        (neither queued behind the workers' jobs nor shed nor counted in the queue).

        Raises:
            ServiceOverloaded: the queue ahead cannot finish before the deadline.
            ServiceBusy: the deadline passed before ``fn`` finished.
        """
        deadline = time.monotonic() + self.timeout_s
        if control:
            try:
                return await asyncio.wait_for(asyncio.wrap_future(self.control.submit(fn, *args, deadline)), timeout=self.timeout_s)
            except asyncio.TimeoutError:
                raise ServiceBusy() from None
        self._admit()
        try:
            future = self.pool.submit(self._timed, fn, args, deadline)
        except BaseException:
            with self._queue_lock:
                self._pending -= 1
            raise
        # Runs once the job is done, or cancelled before it started (a timed-out wait cancels it).
        future.add_done_callback(self._finished)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            raise ServiceBusy() from None


# -- endpoint bodies (run in the worker pool) -------------------------------------------------


def _creator(service: Service, creator_id: str, n_posts: int, deadline: float) -> CreatorResponse | None:
    snap, _ = service.snapshot(deadline)
    row = snap.index.row_of(creator_id)
    if row is None:
        return None
    c = snap.creators.iloc[row]
    s = snap.signals.iloc[row]
    followers = _int(c.get("followers"))
    lo, hi = int(snap.post_offsets[row]), int(snap.post_offsets[row + 1])
    posts = snap.posts.iloc[lo:hi]
    basis = "followers" if followers else "views"

    def num(col: str) -> pd.Series:
        return pd.to_numeric(posts[col], errors="coerce").astype("float64") if col in posts else pd.Series(np.nan, index=posts.index)

    inter = pd.concat([num("likes"), num("comments"), num("shares")], axis=1).sum(axis=1, min_count=1)
    views = num("views")
    if followers:
        eng = inter / followers
    else:
        eng = inter / views.where(views > 0)
    if eng.notna().sum() == 0:
        basis = "none"
    when = pd.to_datetime(posts["posted_at"], utc=True, errors="coerce") if "posted_at" in posts else pd.Series(pd.NaT, index=posts.index)
    out_posts: list[PostOut] = []
    series: list[SeriesPoint] = []
    for i in range(len(posts)):
        p = posts.iloc[i]
        at = _plain(when.iat[i])
        interactions, engagement = _int(inter.iat[i]), _plain(eng.iat[i])
        if i < n_posts:
            sponsored = _plain(p.get("sponsored"))
            out_posts.append(
                PostOut(
                    post_id=str(p["post_id"]),
                    text=_str(p.get("text")) or "",
                    posted_at=at,
                    likes=_int(p.get("likes")),
                    comments=_int(p.get("comments")),
                    views=_int(p.get("views")),
                    shares=_int(p.get("shares")),
                    sponsored=None if sponsored is None else bool(sponsored),
                    interactions=interactions,
                    engagement=engagement,
                )
            )
        if at is not None:
            series.append(SeriesPoint(post_id=str(p["post_id"]), posted_at=at, interactions=interactions, engagement=engagement))
    series.sort(key=lambda x: x.posted_at)
    signals = {k: _plain(v) for k, v in s.items() if k not in ("creator_id", "flags")}
    if "reasons" in signals:  # stored as JSON text; an object here, as in /recommend
        signals["reasons"] = parse_reasons(signals["reasons"])
    return CreatorResponse(
        snapshot_id=snap.snapshot_id,
        creator=CreatorProfile(
            creator_id=str(c["creator_id"]),
            handle=_str(c.get("handle")) or "",
            platform=_str(c.get("platform")) or "",
            bio=_str(c.get("bio")) or "",
            followers=followers,
            following=_int(c.get("following")),
            country=_str(c.get("country")),
            language=_str(c.get("language")),
            language_source=_str(c.get("language_source")),
        ),
        signals=signals,
        flags=split_flags(s.get("flags")),
        engagement_basis=basis,
        posts=out_posts,
        series=series,
    )


def _brand_matches(service: Service, brand_id: str, k: int, deadline: float) -> BrandMatchesResponse | None:
    snap, view = service.snapshot(deadline)
    if brand_id not in view.brand_ids:
        return None
    b = snap.brands[snap.brands["brand_id"].astype(str) == brand_id].iloc[0]
    frame = service.store.read_matches(snap.snapshot_id, brand_id=brand_id).head(k)
    # The stored columns besides these are the score components (and the penalty, when stored).
    parts = [col for col in frame.columns if col not in ("brand_id", "rank", "creator_id", "score", "why", "penalty", "weak")]
    matches = []
    for r in frame.to_dict("records"):
        row = snap.index.row_of(str(r["creator_id"]))
        c = snap.creators.iloc[row] if row is not None else None
        matches.append(
            StoredMatch(
                rank=int(r["rank"]),
                creator_id=str(r["creator_id"]),
                handle=_str(c.get("handle")) if c is not None else None,
                platform=_str(c.get("platform")) if c is not None else None,
                followers=_int(c.get("followers")) if c is not None else None,
                score=float(r["score"]),
                components={p: _plain(r[p]) for p in parts},
                penalty=_plain(r.get("penalty")),
                weak=bool(r.get("weak", False)),
                why=str(r["why"]),
            )
        )
    return BrandMatchesResponse(
        snapshot_id=snap.snapshot_id,
        brand=BrandOut(brand_id=brand_id, name=_str(b.get("name")) or "", description=_str(b.get("description")) or "", niches=_brand_niches(snap, brand_id)),
        matches=matches,
    )


def _niches(service: Service, deadline: float) -> NichesResponse | None:
    snap, _ = service.snapshot(deadline)
    model = snap.niche_model
    if model is None:
        return None
    ids = filter_columns(snap).niche_ids
    taxonomy = model.taxonomy_
    counts = np.zeros(len(taxonomy.niches), dtype=np.int64)
    for j in range(ids.shape[1]):
        col = ids[:, j]
        counts += np.bincount(col[col >= 0], minlength=len(taxonomy.niches))
    return NichesResponse(
        snapshot_id=snap.snapshot_id,
        taxonomy=taxonomy.name,
        version=taxonomy.version,
        based_on=taxonomy.based_on,
        niches=[NicheOut(id=n.id, name=n.name, iab_parent=n.iab_parent, description=n.description, creators=int(c)) for n, c in zip(taxonomy.niches, counts)],
    )


def _unknown_niches(service: Service, niches: list[str]) -> SafeJSONResponse | None:
    """A 422 naming each ``filters.niches`` entry the served snapshot's taxonomy does not have, or None."""
    if not niches:
        return None
    model = service.current().snapshot.niche_model
    if model is None:
        msg = "the served snapshot has no niches (written before niches existed); run 'matcher batch' again to filter by niche"
        return SafeJSONResponse({"detail": [{"loc": ["body", "filters", "niches"], "msg": msg, "type": "value_error"}], "message": f"filters.niches: {msg}"}, status_code=422)
    known = set(model.taxonomy_.ids)
    errors = [
        {"loc": ["body", "filters", "niches", i], "msg": f"unknown niche {n!r}; GET /niches (or 'matcher niches') lists the valid ids", "type": "value_error"}
        for i, n in enumerate(niches)
        if n.lower() not in known
    ]
    if not errors:
        return None
    return SafeJSONResponse({"detail": errors, "message": "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in errors[:5])}, status_code=422)


def _brand_niches(snap: Snapshot, brand_id: str) -> list[NicheScoreOut]:
    frame, model = snap.brand_niches, snap.niche_model
    if frame is None or model is None:
        return []
    names = {n.id: n.name for n in model.taxonomy_.niches}
    rows = frame[frame["brand_id"].astype(str) == brand_id].sort_values("rank")
    return [NicheScoreOut(niche_id=str(r.niche_id), name=names.get(str(r.niche_id), str(r.niche_id)), confidence=round(float(r.confidence), 4)) for r in rows.itertuples()]


def _health(service: Service, deadline: float) -> HealthResponse:
    snap, view = service.snapshot(deadline)
    counts = snap.manifest.get("counts", {})
    model = snap.manifest.get("model", {})
    published = getattr(snap, "served_for", None) or snap.snapshot_id
    degraded = published != snap.snapshot_id
    return HealthResponse(
        status="degraded" if degraded else "ok",
        snapshot_id=snap.snapshot_id,
        published_id=published,
        detail=(
            f"the published snapshot {published} fails verification, so {snap.snapshot_id} is served; "
            "run 'matcher batch' again or 'matcher rollback'"
        )
        if degraded
        else None,
        created_at=snap.manifest.get("created_at"),
        creators=int(counts.get("creators", len(snap.creators))),
        posts=int(counts.get("posts", len(snap.posts))),
        brands=int(counts.get("brands", len(snap.brands))),
        model=model.get("name") if isinstance(model, dict) else None,
        platforms=view.platforms,
        countries=view.countries,
        load=service.load(),
    )


# -- the app ----------------------------------------------------------------------------------


def _page() -> tuple[str, str]:
    """The web page and its Content-Security-Policy (inline script and style allowed by hash only)."""
    html = (resources.files("matcher") / "web" / "index.html").read_text(encoding="utf-8")
    csp = (
        f"default-src 'none'; script-src {_inline_hashes(html, 'script')}; style-src {_inline_hashes(html, 'style')}; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html, csp


def _busy(service: Service) -> SafeJSONResponse:
    return SafeJSONResponse(
        {"detail": f"the request did not finish within {service.timeout_s:g} s (the service is busy or loading a new snapshot); retry shortly"},
        status_code=503,
        headers={"Retry-After": "1"},
    )


def _overloaded(service: Service, exc: ServiceOverloaded) -> SafeJSONResponse:
    return SafeJSONResponse(
        {
            "detail": f"the service is overloaded: {exc.queued} requests are queued, about {exc.wait_s:.1f} s of work, too close to "
            f"the {service.timeout_s:g} s deadline to start this one; retry after {exc.retry_after} s or send fewer requests at once"
        },
        status_code=503,
        headers={"Retry-After": str(exc.retry_after)},
    )


def _unavailable(exc: Exception) -> SafeJSONResponse:
    return SafeJSONResponse({"detail": f"the store cannot be served: {exc}"}, status_code=503, headers={"Retry-After": "5"})


def _field(loc: Any) -> str:
    """``["body", "filters", "countries", 0]`` -> ``filters.countries.0``; a JSON syntax error's offset -> ``body``."""
    loc = list(loc) if isinstance(loc, (list, tuple)) else [loc]
    if loc and loc[0] == "body":
        loc = loc[1:]
        if len(loc) == 1 and isinstance(loc[0], int):
            return f"body (character {loc[0]})"
    return ".".join(str(p) for p in loc) or "body"


_RESPONSES_404 = {404: {"model": ErrorOut, "description": "unknown id"}}
_RESPONSES_503 = {
    503: {"model": ErrorOut, "description": "busy past the request deadline, too much queued to finish before it, or the store cannot be read"}
}


def create_app(
    store: str | Path,
    *,
    config: Config | None = None,
    encoder: Encoder | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_body_bytes: int = MAX_BODY_BYTES,
    body_timeout_s: float = BODY_TIMEOUT_S,
) -> FastAPI:
    """Build the HTTP app serving the latest published snapshot of ``store``.

    Args:
        store: store directory written by ``matcher batch``.
        config: settings (``serve`` among them); defaults when None.
        encoder: a loaded :class:`Encoder` to share (one is loaded from the config if None, with one
            thread per request unless ``embed.threads`` says otherwise).
        timeout_s: request deadline; work past it answers 503 instead of hanging, and a request
            that the queue ahead of it cannot let finish in time answers 503 at once.
        max_body_bytes: larger request bodies answer 413 before they are parsed.
        body_timeout_s: a body not complete this many seconds after the headers answers 408 and the
            connection is closed.

    Returns:
        A FastAPI app: ``POST /recommend``, ``GET /creators/{id}``, ``GET /brands/{id}/matches``,
        ``GET /niches``, ``GET /healthz``, the page at ``/`` and the API docs at ``/docs``.

    Raises:
        StoreError: nothing is published in ``store``, or the snapshot fails verification.
        ValueError: ``timeout_s`` or ``max_body_bytes`` is not positive.
    """
    if not timeout_s > 0:
        raise ValueError(f"timeout_s is {timeout_s!r}; give the request deadline in seconds, > 0")
    if max_body_bytes < 1:
        raise ValueError(f"max_body_bytes is {max_body_bytes!r}; give a positive byte count")
    service = Service(store, config=config, encoder=encoder, timeout_s=timeout_s)
    page, csp = _page()
    app = FastAPI(
        title="matcher",
        version="0.1.0",
        summary="Find the creators whose own content fits a brand, ranked by engagement and trust, with reasons.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes, timeout_s=body_timeout_s)
    # Added last, so it is outermost: the 413/408/422 answers of the body check carry the headers too.
    app.add_middleware(SecurityHeadersMiddleware)

    # Swagger UI 5 (it reads the OpenAPI 3.1 document FastAPI writes) from the fastapi-offline
    # package's files, so /docs works without reaching a CDN.
    try:
        swagger_ui_path = resources.files("fastapi_offline") / "static"
    except ModuleNotFoundError:  # pragma: no cover - a declared dependency
        logger.warning("fastapi-offline is not installed; /docs loads Swagger UI from its CDN")
        docs_assets = {}
    else:
        app.mount("/static/swagger", StaticFiles(directory=str(swagger_ui_path)), name="swagger")
        docs_assets = {"swagger_js_url": "/static/swagger/swagger-ui-bundle.js", "swagger_css_url": "/static/swagger/swagger-ui.css"}
    docs_html, docs_csp = _docs_page(app.openapi_url or "/openapi.json", docs_assets)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_html, headers={"Content-Security-Policy": docs_csp})

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> SafeJSONResponse:
        errors = []
        for e in exc.errors():
            msg = str(e.get("msg", ""))
            if e.get("type") == "json_invalid" and isinstance(e.get("ctx"), dict) and e["ctx"].get("error"):
                msg += f" ({e['ctx']['error']}); send a JSON object such as {{\"brief\": \"...\", \"k\": 10}}"
            errors.append({"loc": list(e.get("loc", ())), "msg": msg, "type": str(e.get("type", ""))})
        message = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in errors[:5])
        return SafeJSONResponse({"detail": errors, "message": message}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> SafeJSONResponse:
        if exc.status_code == 400 and request.method == "POST":
            # FastAPI's own answer to a body it cannot parse (the body check has already refused
            # bodies that are not UTF-8 or nest too deeply): say what to send instead.
            msg = "the request body cannot be parsed as JSON; send a JSON object such as {\"brief\": \"...\", \"k\": 10}"
            return SafeJSONResponse({"detail": [{"loc": ["body"], "msg": msg, "type": "json_invalid"}], "message": f"body: {msg}"}, status_code=422)
        return SafeJSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(ServiceBusy)
    async def on_busy(request: Request, exc: ServiceBusy) -> SafeJSONResponse:
        return _busy(service)

    @app.exception_handler(ServiceOverloaded)
    async def on_overloaded(request: Request, exc: ServiceOverloaded) -> SafeJSONResponse:
        return _overloaded(service, exc)

    @app.exception_handler(MatcherError)
    async def on_store(request: Request, exc: MatcherError) -> SafeJSONResponse:
        logger.error("cannot serve %s: %s", request.url.path, exc)
        return _unavailable(exc)

    @app.exception_handler(sqlite3.Error)
    async def on_sqlite(request: Request, exc: sqlite3.Error) -> SafeJSONResponse:
        logger.error("store database error on %s: %s", request.url.path, exc)
        return _unavailable(exc)

    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": csp})

    @app.get("/healthz", response_model=HealthResponse, responses=_RESPONSES_503, tags=["service"])
    async def healthz() -> HealthResponse:
        """Status and the id of the snapshot being served (switching to a newly published one first)."""
        # On its own thread and never shed: it shows the queue (``load``) when the workers are saturated.
        return await service.run(_health, service, control=True)

    @app.post(
        "/recommend",
        response_model=RecommendResponse,
        responses={413: {"model": ErrorOut, "description": f"body over {max_body_bytes} bytes"}, **_RESPONSES_503},
        tags=["matching"],
    )
    async def recommend(req: RecommendRequest) -> RecommendResponse | SafeJSONResponse:
        """Rank creators for a brief: component scores, contributions, flags, signals and matched posts."""
        t0 = time.perf_counter()
        try:
            weights = req.weights.to_weights() if req.weights is not None else None
        except ConfigError as exc:  # the request's weights and the configured ones add up to zero
            return SafeJSONResponse(
                {"detail": [{"loc": ["body", "weights"], "msg": str(exc), "type": "value_error"}], "message": f"weights: {exc}"}, status_code=422
            )
        unknown = _unknown_niches(service, req.filters.niches)
        if unknown is not None:
            return unknown
        snapshot_id, matches, brief_niches = await service.run(service.recommend, req, weights)
        return RecommendResponse(
            snapshot_id=snapshot_id, k=req.k, took_ms=round(1000 * (time.perf_counter() - t0), 3), matches=[_match_out(m) for m in matches],
            brief_niches=[NicheScoreOut(**dataclasses.asdict(n)) for n in brief_niches],
        )

    @app.get("/niches", response_model=NichesResponse, responses={**_RESPONSES_404, **_RESPONSES_503}, tags=["matching"])
    async def niches() -> NichesResponse | SafeJSONResponse:
        """The niche taxonomy of the served snapshot (the valid ids of ``filters.niches``), with how many creators each niche has."""
        out = await service.run(_niches, service)
        if out is None:
            return SafeJSONResponse({"detail": "the served snapshot has no niches (written before niches existed); run 'matcher batch' again"}, status_code=404)
        return out

    # ``:path``: ids come from the input files and may hold "/" (sent as %2F or as is).
    @app.get("/creators/{creator_id:path}", response_model=CreatorResponse, responses={**_RESPONSES_404, **_RESPONSES_503}, tags=["creators"])
    async def creator(
        creator_id: Annotated[str, PathParam(min_length=1, max_length=200)],
        posts: Annotated[int, Query(ge=0, le=MAX_CREATOR_POSTS, description="recent posts to list (the series covers all kept posts)")] = 20,
    ) -> CreatorResponse | SafeJSONResponse:
        """A creator's profile, signals, recent posts and engagement over time."""
        out = await service.run(_creator, service, creator_id, posts)
        if out is None:
            return SafeJSONResponse({"detail": f"creator '{creator_id}' is not in the served snapshot; use a creator_id from a match"}, status_code=404)
        return out

    @app.get("/brands/{brand_id:path}/matches", response_model=BrandMatchesResponse, responses={**_RESPONSES_404, **_RESPONSES_503}, tags=["matching"])
    async def brand_matches(
        brand_id: Annotated[str, PathParam(min_length=1, max_length=200)],
        k: Annotated[int, Query(ge=1, le=1000, description="matches to return, best first")] = 50,
    ) -> BrandMatchesResponse | SafeJSONResponse:
        """The nightly batch's stored matches for a brand of the served snapshot."""
        out = await service.run(_brand_matches, service, brand_id, k)
        if out is None:
            return SafeJSONResponse(
                {"detail": f"brand '{brand_id}' is not in the served snapshot; brand ids come from the brands file given to 'matcher batch'"},
                status_code=404,
            )
        return out

    return app


def serve(store: str | Path, *, host: str = "127.0.0.1", port: int = 8000, config: Config | None = None, timeout_s: float = DEFAULT_TIMEOUT_S, log_level: str = "info") -> None:
    """Serve ``store`` over HTTP with uvicorn until interrupted.

    Raises:
        StoreError: nothing is published in ``store``.
    """
    import uvicorn
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    # Requests already run one per core; BLAS threads inside each (numpy's matrix products in the
    # exact search) would only oversubscribe the cores. Process-wide, so only here, not in create_app.
    threadpool_limits(limits=1, user_api="blas")
    app = create_app(store, config=config, timeout_s=timeout_s)
    logger.info("serving %s on http://%s:%d (page at /, API docs at /docs)", store, host, port)
    # One process: the model and the snapshot live in memory once, shared by the worker threads.
    uvicorn.run(app, **server_options(), host=host, port=port, log_level=log_level, workers=1)


def server_options(*, header_timeout_s: float = HEADER_TIMEOUT_S, keep_alive_s: int = KEEP_ALIVE_S) -> dict[str, Any]:
    """uvicorn settings that bound how long a client may hold a connection without finishing a request.

    uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but has no time limit on
    receiving a request's headers or body; the headers get one here (an h11 protocol that answers
    408 and closes), the body in :class:`BodyLimitMiddleware`.
    """
    return {"http": header_timeout_protocol(header_timeout_s), "timeout_keep_alive": keep_alive_s, "h11_max_incomplete_event_size": 16 * 1024}


def header_timeout_protocol(timeout_s: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with a deadline on each request's line and headers.

    The deadline starts when a connection opens, or when the first byte of a later request on a
    kept-alive connection arrives, and ends when the headers are complete.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def _waiting_for_headers(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._waiting_for_headers():
                self._arm()
            super().data_received(data)
            if not self._waiting_for_headers():
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self._waiting_for_headers() and not self.transport.is_closing():
                logger.info("request headers not complete within %g s; closing the connection", timeout_s)
                self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                self.transport.close()

    return HeaderTimeoutH11Protocol
