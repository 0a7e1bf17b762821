"""The HTTP app: routes, error answers, middleware order, the page and /docs; and ``serve`` to run it with uvicorn."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from importlib import resources
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from matcher.config import Config
from matcher.embed import Encoder
from matcher.errors import ConfigError, MatcherError
from matcher.request import RequestError
from matcher.serve import answers
from matcher.serve.admission import DEFAULT_TIMEOUT_S, ServiceBusy, ServiceOverloaded
from matcher.serve.answers import field_path, match_out
from matcher.serve.limits import BODY_TIMEOUT_S, MAX_BODY_BYTES, BodyLimitMiddleware, server_options
from matcher.serve.models import (
    BrandMatchesResponse,
    CreatorResponse,
    ErrorOut,
    HealthResponse,
    NichesResponse,
    NicheScoreOut,
    RecommendRequest,
    RecommendResponse,
    SafeJSONResponse,
    ShortlistRequest,
    ShortlistResponse,
)
from matcher.serve.pages import docs_page, web_page
from matcher.serve.security import SecurityHeadersMiddleware
from matcher.serve.service import Service

__all__ = ["create_app", "serve", "MAX_CREATOR_POSTS"]

logger = logging.getLogger(__name__)

MAX_CREATOR_POSTS = 50  # the batch keeps each creator's newest posts up to embed.max_posts (50 by default)



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
    db: str | None = None,
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
        db: PostgreSQL URL of the run state shared with the batch and ``matcher forget``: stored
            matches are read from it, and creators erased there are left out from the next request on.

    Returns:
        A FastAPI app: ``POST /recommend``, ``POST /shortlist``, ``GET /creators/{id}``, ``GET /brands/{id}/matches``,
        ``GET /niches``, ``GET /healthz``, the page at ``/`` and the API docs at ``/docs``.

    Raises:
        StoreError: nothing is published in ``store``, or the snapshot fails verification.
        ValueError: ``timeout_s`` or ``max_body_bytes`` is not positive.
    """
    if not timeout_s > 0:
        raise ValueError(f"timeout_s is {timeout_s!r}; give the request deadline in seconds, > 0")
    if max_body_bytes < 1:
        raise ValueError(f"max_body_bytes is {max_body_bytes!r}; give a positive byte count")
    service = Service(store, config=config, encoder=encoder, timeout_s=timeout_s, db=db)
    page, csp = web_page()
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
    docs_html, docs_csp = docs_page(app.openapi_url or "/openapi.json", docs_assets)

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
        message = "; ".join(f"{field_path(e['loc'])}: {e['msg']}" for e in errors[:5])
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

    @app.exception_handler(RequestError)
    async def on_request(request: Request, exc: RequestError) -> SafeJSONResponse:
        # A rule only the served snapshot can check (a liked creator that is not in it): the same
        # words as recommend() and the command line.
        head = str(exc).split(":", 1)[0]
        loc = ["body", head] if head in ("like", "unlike", "brand_id", "budget") else ["body"]
        return SafeJSONResponse({"detail": [{"loc": loc, "msg": str(exc), "type": "value_error"}], "message": str(exc)}, status_code=422)

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
        return await service.run(answers.health, service, control=True)

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
        unknown = answers.unknown_niches(service, req.filters.niches)
        if unknown is not None:
            return unknown
        snapshot_id, matches, brief_niches = await service.run(service.recommend, req, weights)
        return RecommendResponse(
            snapshot_id=snapshot_id, k=req.k, took_ms=round(1000 * (time.perf_counter() - t0), 3), matches=[match_out(m) for m in matches],
            brief_niches=[NicheScoreOut(**dataclasses.asdict(n)) for n in brief_niches],
        )

    @app.post(
        "/shortlist",
        response_model=ShortlistResponse,
        responses={413: {"model": ErrorOut, "description": f"body over {max_body_bytes} bytes"}, **_RESPONSES_503},
        tags=["matching"],
    )
    async def shortlist(req: ShortlistRequest) -> ShortlistResponse | SafeJSONResponse:
        """The set of creators worth most for a brief or brand within a budget, penalising shared audiences and
        near-duplicate content: every pick with its cost range and why it is in, the spend as a range, the
        audience overlap among the picks, and every candidate left out with the reason."""
        t0 = time.perf_counter()
        unknown = answers.unknown_niches(service, req.filters.niches)
        if unknown is not None:
            return unknown
        snapshot_id, result = await service.run(service.shortlist, req)
        return answers.shortlist_out(snapshot_id, result, round(1000 * (time.perf_counter() - t0), 3))

    @app.get("/niches", response_model=NichesResponse, responses={**_RESPONSES_404, **_RESPONSES_503}, tags=["matching"])
    async def niches() -> NichesResponse | SafeJSONResponse:
        """The niche taxonomy of the served snapshot (the valid ids of ``filters.niches``), with how many creators each niche has."""
        out = await service.run(answers.niches, service)
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
        out = await service.run(answers.creator, service, creator_id, posts)
        if out is None:
            return SafeJSONResponse({"detail": f"creator '{creator_id}' is not in the served snapshot; use a creator_id from a match"}, status_code=404)
        return out

    @app.get("/brands/{brand_id:path}/matches", response_model=BrandMatchesResponse, responses={**_RESPONSES_404, **_RESPONSES_503}, tags=["matching"])
    async def brand_matches(
        brand_id: Annotated[str, PathParam(min_length=1, max_length=200)],
        k: Annotated[int, Query(ge=1, le=1000, description="matches to return, best first")] = 50,
    ) -> BrandMatchesResponse | SafeJSONResponse:
        """The nightly batch's stored matches for a brand of the served snapshot."""
        out = await service.run(answers.brand_matches, service, brand_id, k)
        if out is None:
            return SafeJSONResponse(
                {"detail": f"brand '{brand_id}' is not in the served snapshot; brand ids come from the brands file given to 'matcher batch'"},
                status_code=404,
            )
        return out

    return app


def serve(
    store: str | Path, *, host: str = "127.0.0.1", port: int = 8000, config: Config | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
    log_level: str = "info", db: str | None = None,
) -> None:
    """Serve ``store`` over HTTP with uvicorn until interrupted.

    Raises:
        StoreError: nothing is published in ``store``.
    """
    import uvicorn
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    # Requests already run one per core; BLAS threads inside each (numpy's matrix products in the
    # exact search) would only oversubscribe the cores. Process-wide, so only here, not in create_app.
    threadpool_limits(limits=1, user_api="blas")
    app = create_app(store, config=config, timeout_s=timeout_s, db=db)
    logger.info("serving %s on http://%s:%d (page at /, API docs at /docs)", store, host, port)
    # One process: the model and the snapshot live in memory once, shared by the worker threads.
    uvicorn.run(app, **server_options(), host=host, port=port, log_level=log_level, workers=1)
