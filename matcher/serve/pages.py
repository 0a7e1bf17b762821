"""The pages the service serves besides its JSON: the web page at ``/`` and Swagger UI at ``/docs``, each with its CSP."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources

from fastapi.openapi.docs import get_swagger_ui_html

from matcher.serve.security import inline_hashes

__all__ = [
    "web_page",
    "docs_page",
]


def web_page() -> tuple[str, str]:
    """The web page and its Content-Security-Policy (inline script and style allowed by hash only)."""
    html = (resources.files("matcher") / "web" / "index.html").read_text(encoding="utf-8")
    csp = (
        f"default-src 'none'; script-src {inline_hashes(html, 'script')}; style-src {inline_hashes(html, 'style')}; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html, csp


def docs_page(openapi_url: str, assets: Mapping[str, str]) -> tuple[str, str]:
    """Swagger UI's page, with no remote favicon, and a CSP that lets only its own files and inline start-up script run."""
    # No validator badge: Swagger UI would fetch it from validator.swagger.io.
    html = get_swagger_ui_html(
        openapi_url=openapi_url, title="matcher API", swagger_favicon_url="data:,", swagger_ui_parameters={"validatorUrl": None}, **assets
    ).body.decode()
    csp = (
        f"default-src 'none'; script-src 'self' {inline_hashes(html, 'script')}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html, csp
