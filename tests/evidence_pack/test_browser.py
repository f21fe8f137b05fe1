"""The evidence pack opened in a real browser: headless Chromium (Debian's) driven by Playwright,
against `ingrain serve` on a loopback port with the demo loaded, as a quality lead would open the
pack of the demo's night-gap innovation (de-escalation reflection: strong on early and late
shifts, little of it on nights).

The page must render with no console error, make no request beyond itself (its CSP forbids any),
draw every indicator's chart and fit an A4 page's width. A full-page screenshot is left in
tests/artefacts/ for a person to look at.
"""

import time
from pathlib import Path

from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import running_server
from service.demo import cast
from service.demo.generate import build_plan
from service.demo.loader import load_demo
from service.status.vocabulary import IndicatorKey
from service.vocabulary import Role
from tests.tokens import TokenFactory

ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"
SCREENSHOT = ARTEFACTS / "evidence-pack-night-gap.png"
STEP_MS = 5_000  # each browser step; a hung page fails the test, not the suite
A4_WIDTH_PX = 794  # 210 mm at 96 px per inch
A4_PRINTABLE_PX = 688  # 210 mm less the pack's 14 mm page margins each side
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


async def test_the_night_gap_pack_renders_in_chromium(
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    tokens: TokenFactory,
    browser: Browser,
) -> None:
    loaded = await load_demo(session_factory, build_plan())
    innovation_id = loaded.ids.innovations[cast.DEESCALATION_REFLECTION]
    headers = tokens.headers(Role.quality_lead, loaded.ids.provider_id)

    async with running_server(database_url) as base_url:
        url = f"{base_url}/v1/innovations/{innovation_id}/evidence-pack"
        context = await browser.new_context(
            extra_http_headers=headers,
            viewport={"width": A4_WIDTH_PX, "height": 1123},
            service_workers="block",
        )
        try:
            page = await context.new_page()
            page.set_default_timeout(STEP_MS)
            page.set_default_navigation_timeout(STEP_MS * 2)
            errors: list[str] = []
            requested: list[str] = []
            page.on(
                "console", lambda message: errors.append(message.text) if message.type == "error" else None
            )
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: requested.append(request.url))

            started = time.monotonic()
            response = await page.goto(url, wait_until="load")
            assert response is not None and response.status == 200, response and await response.text()
            assert response.headers["content-type"] == "text/html; charset=utf-8"
            assert response.headers["content-security-policy"] == CSP
            await page.wait_for_load_state("networkidle")

            await expect(page.locator("h1")).to_have_text("De-escalation reflection in supervision")
            charts = page.locator("article.indicator figure.chart svg")
            await expect(charts).to_have_count(len(IndicatorKey))
            for key in IndicatorKey:
                chart = page.locator(
                    f'article[data-indicator="{key.value}"] svg[data-indicator="{key.value}"]'
                )
                await expect(chart).to_be_visible()
                box = await chart.bounding_box()
                assert box is not None and box["width"] > 400 and box["height"] > 100, (key, box)
            # The night gap: shifts inconsistent, with what the provider can do next.
            shifts = page.locator('article[data-indicator="shift_consistency"]')
            await expect(shifts.locator(".badge")).to_have_text("Red")
            await expect(shifts).to_contain_text("night")
            await expect(shifts.locator(".levers")).to_be_visible()
            await expect(shifts.locator('[data-lever="observation_cadence"]')).to_be_visible()

            # Nothing wider than an A4 page on screen, nor than its printable width in print.
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= A4_WIDTH_PX, width
            ARTEFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT), full_page=True, timeout=STEP_MS * 2)
            await page.emulate_media(media="print")
            await page.set_viewport_size({"width": A4_PRINTABLE_PX, "height": 1123})
            printed = await page.evaluate("document.documentElement.scrollWidth")
            assert printed <= A4_PRINTABLE_PX, printed
            seconds = time.monotonic() - started
        finally:
            await context.close()

    assert errors == [], errors
    assert requested == [url], requested
    assert SCREENSHOT.stat().st_size > 50_000
    assert seconds < 20, f"the page took {seconds:.1f} s to open, check and capture"
