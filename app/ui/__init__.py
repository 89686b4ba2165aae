"""The try-a-model page at ``/`` and the API docs at ``/docs`` and ``/redoc``, all served from this process.

Hospital networks are closed: nothing here may come from a CDN. The page's files live in ``static/``
(package data, no build step). Swagger UI and ReDoc come from the ``fastapi-standalone-docs``
distribution's files (kept up to date by its maintainers, never copied into this repository; its ReDoc
build takes the Redocly logo from ``<page>/logo-mini.svg`` instead of a CDN), served following FastAPI's
"self-hosting JavaScript and CSS for docs" recipe; Google Fonts stay off.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC = Path(__file__).resolve().parent / "static"
PAGE_PREFIX = "/ui"
DOCS_ASSETS_PREFIX = "/docs-assets"
# The page may load and send nothing anywhere but this origin: the note cannot leave by accident.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "manifest-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def docs_assets() -> Path:
    """The directory holding swagger/ (Swagger UI), redoc/ (ReDoc and its logo) and fastapi/ (favicon)."""
    return Path(str(resources.files("fastapi_standalone_docs") / "static"))


def install(app: FastAPI, *, page: bool) -> None:
    """Self-hosted /docs and /redoc always; the page at / when ``page`` (``CLINX_UI``)."""
    install_docs(app)
    if page:
        install_page(app)


def install_docs(app: FastAPI) -> None:
    """FastAPI's docs pages pointed at local files (create the app with ``docs_url=None, redoc_url=None``)."""
    app.mount(DOCS_ASSETS_PREFIX, StaticFiles(directory=docs_assets()), name="docs-assets")
    oauth2_redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{oauth2_redirect}",
            swagger_js_url=f"{root}{DOCS_ASSETS_PREFIX}/swagger/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS_PREFIX}/swagger/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS_PREFIX}/fastapi/favicon.png",
            # validatorUrl null: no badge image from the public Swagger validator.
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS_PREFIX}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS_PREFIX}/fastapi/favicon.png",
            with_google_fonts=False,
        )

    @app.get("/redoc/logo-mini.svg", include_in_schema=False)
    async def redoc_logo() -> FileResponse:
        """Where this ReDoc build looks for the logo it would otherwise fetch from Redocly's CDN."""
        return FileResponse(docs_assets() / "redoc" / "logo-mini.svg", media_type="image/svg+xml")


def install_page(app: FastAPI) -> None:
    """``/`` answers index.html; its scripts, styles and sample notes are under ``/ui/``."""
    app.mount(PAGE_PREFIX, _PageFiles(directory=STATIC), name="ui")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


class _PageFiles(StaticFiles):
    """Static files with the page's security headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(PAGE_HEADERS)
        return response


def _root(request: Request) -> str:
    """The ASGI root path, so the docs work behind a reverse proxy that serves the API under a prefix."""
    return str(request.scope.get("root_path", "")).rstrip("/")
