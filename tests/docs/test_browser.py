"""The documentation pages open in a browser on a network without the public CDNs: Swagger UI at
/docs, ReDoc at /redoc and GraphiQL at /graphql, served by `ingrain serve` on a loopback port and
opened in headless Chromium with every request beyond loopback aborted.

Each page must draw its UI from the assets shipped with the service, log no console error and try
no request beyond the server.
"""

import time
import uuid
from urllib.parse import urlsplit

from playwright.async_api import Browser, Page, Route, expect

from bench.common import running_server
from service.vocabulary import Role
from tests.tokens import TokenFactory

STEP_MS = 5_000  # each browser step; a hung page fails the test, not the suite
LOOPBACK = "127.0.0.1"


async def test_swagger_ui_redoc_and_graphiql_draw_without_the_public_cdns(
    database_url: str, tokens: TokenFactory, browser: Browser
) -> None:
    # GraphiQL reads the schema by introspection, which takes a token, as a user would give it.
    headers = tokens.headers(Role.quality_lead, uuid.uuid4())
    async with running_server(database_url) as base_url:
        context = await browser.new_context(extra_http_headers=headers, service_workers="block")
        blocked: list[str] = []

        async def loopback_only(route: Route) -> None:
            if urlsplit(route.request.url).hostname == LOOPBACK:
                await route.continue_()
            else:
                blocked.append(route.request.url)
                await route.abort("blockedbyclient")

        await context.route("**/*", loopback_only)
        try:
            page = await context.new_page()
            page.set_default_timeout(STEP_MS)
            page.set_default_navigation_timeout(STEP_MS)
            errors: list[str] = []
            page.on(
                "console", lambda message: errors.append(message.text) if message.type == "error" else None
            )
            page.on("pageerror", lambda error: errors.append(str(error)))
            started = time.monotonic()

            await _open(page, f"{base_url}/docs")
            await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Ingrain")
            await expect(page.locator(".swagger-ui .opblock-tag-section").first).to_be_visible()
            await expect(page.locator("#operations-operations-healthz")).to_be_visible()

            await _open(page, f"{base_url}/redoc")
            await expect(page.locator("redoc h1").first).to_contain_text("Ingrain")
            await expect(page.locator('[data-section-id="operation/healthz"]')).to_be_attached()
            await expect(page.locator('[data-section-id="tag/touchpoints"]')).to_be_attached()

            async with page.expect_response(
                lambda r: r.url == f"{base_url}/graphql" and r.request.method == "POST"
            ) as introspection:
                await _open(page, f"{base_url}/graphql")
            assert (await introspection.value).status == 200
            await expect(
                page.locator(".graphiql-container .graphiql-query-editor .CodeMirror")
            ).to_be_visible()
            await expect(page.locator(".graphiql-container .graphiql-query-editor")).to_contain_text("viewer")
            seconds = time.monotonic() - started
        finally:
            await context.close()

    assert blocked == [], blocked
    assert errors == [], errors
    assert seconds < 15, f"the three pages took {seconds:.1f} s to draw"


async def _open(page: Page, url: str) -> None:
    response = await page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, response and await response.text()
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    await page.wait_for_load_state("networkidle")
