"""The API's documentation pages — Swagger UI at /docs, ReDoc at /redoc, GraphiQL at /graphql —
drawn only from assets shipped with the service, so they work on networks without the public CDNs
(FastAPI's and Strawberry's own pages load their scripts, fonts and icons from them).

Swagger UI and ReDoc come from the `fastapi-offline` package; GraphiQL and React are committed under
static/graphiql/ with their licences (no PyPI package carries them for Strawberry).
"""

import html
from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from service.dependencies import public
from service.policy import mark_policy
from service.touchpoints.limits import BodyLimitedRoute

STATIC_PATH = "/static/docs"
SWAGGER_ASSETS = Path(fastapi_offline.__file__).parent / "static"
GRAPHIQL_ASSETS = Path(__file__).parent / "static" / "graphiql"
GRAPHIQL_PAGE = Path(__file__).parent / "graphiql.html"
REDOC_PAGE = Path(__file__).parent / "redoc.html"

# Swagger UI would otherwise ask the public validator to badge the document.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None, "persistAuthorization": True}

router = APIRouter(include_in_schema=False, dependencies=[Depends(public())], route_class=BodyLimitedRoute)


def _static(request: Request, name: str) -> str:
    return f"{request.scope.get('root_path', '')}{STATIC_PATH}/{name}"


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    return get_swagger_ui_html(
        openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
        title=f"{app.title} — Swagger UI",
        swagger_js_url=_static(request, "swagger/swagger-ui-bundle.js"),
        swagger_css_url=_static(request, "swagger/swagger-ui.css"),
        swagger_favicon_url=_static(request, "swagger/favicon.png"),
        swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """FastAPI's ReDoc page less its Google Fonts, and with Redocly's logo kept off its CDN."""
    app: FastAPI = request.app
    page = _fill(
        REDOC_PAGE,
        title=html.escape(f"{app.title} — ReDoc"),
        static=_static(request, "swagger"),
        openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
    )
    return HTMLResponse(page)


def graphiql_html(request: Request) -> str:
    """Strawberry's GraphiQL page, its scripts and styles served from STATIC_PATH."""
    return _fill(GRAPHIQL_PAGE, static=_static(request, "graphiql"))


@lru_cache
def _page(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _fill(page: Path, **values: str) -> str:
    text = _page(page)
    for name, value in values.items():
        text = text.replace(f"{{{{{name}}}}}", value)
    return text


def include_docs(app: FastAPI) -> None:
    """The pages and the assets they load. Build the app with `docs_url=None, redoc_url=None`."""
    app.include_router(router)
    for name, directory in (("swagger", SWAGGER_ASSETS), ("graphiql", GRAPHIQL_ASSETS)):
        assets = StaticFiles(directory=directory)
        mark_policy(assets, "public")
        app.mount(f"{STATIC_PATH}/{name}", assets, name=f"docs-{name}")
