"""HTTP service and web page over the latest published snapshot: recommend, creator profiles, stored matches.

``models`` holds the request and response bodies, ``limits`` the body and header deadlines and
size limits, ``admission`` the worker pool with its queue, deadlines and load shedding,
``service`` the Matcher over the served snapshot, ``answers`` the endpoints' bodies, ``security``
the response headers, ``pages`` the web page and /docs, and ``app`` the routes and ``serve``.
"""

from __future__ import annotations

from matcher.serve.admission import (
    DEFAULT_TIMEOUT_S,
    Admission,
    ServiceBusy,
    ServiceOverloaded,
)
from matcher.serve.app import (
    MAX_CREATOR_POSTS,
    create_app,
    serve,
)
from matcher.serve.limits import (
    BODY_TIMEOUT_S,
    HEADER_TIMEOUT_S,
    KEEP_ALIVE_S,
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    BodyLimitMiddleware,
    header_timeout_protocol,
    json_depth,
    server_options,
)
from matcher.serve.models import (
    MAX_BRIEF_CHARS,
    MAX_K,
    BrandMatchesResponse,
    BrandOut,
    CountryCode,
    CreatorId,
    CreatorProfile,
    CreatorResponse,
    ErrorOut,
    EvidenceOut,
    FiltersIn,
    HealthResponse,
    LanguageCode,
    LoadOut,
    MatchOut,
    MatchSignals,
    NicheId,
    NicheOut,
    NicheScoreOut,
    NichesResponse,
    PlatformName,
    PostOut,
    RecommendRequest,
    RecommendResponse,
    ShortlistRequest,
    ShortlistResponse,
    SafeJSONResponse,
    SeriesPoint,
    StoredMatch,
    WeightsIn,
)
from matcher.serve.security import (
    SECURITY_HEADERS,
    SecurityHeadersMiddleware,
)
from matcher.serve.service import (
    Served,
    Service,
)

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
    "ShortlistRequest",
    "ShortlistResponse",
    "CreatorResponse",
    "BrandMatchesResponse",
    "HealthResponse",
    "NichesResponse",
]
