"""The evidence pack through the API: what it holds, for whom, and what it never holds.

Figures are checked against the JSON status the same caller reads, so the pack shows exactly what
the API shows (small counts withheld from an inspector as in JSON), never a second computation.
"""

import re
import uuid
from html import unescape
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.disclosure import is_suppressed
from service.evidence_pack.charts import SCALES
from service.evidence_pack.document import COUNT_NAMES, INDICATOR_NAMES, KEY_QUESTIONS
from service.evidence_pack.levers import LEVERS
from service.status.cqc import cqc_mapping
from service.status.vocabulary import IndicatorKey
from tests.evidence_pack.world import SUMMARY, WHY, PackWorld, pack_world
from tests.tokens import TokenFactory

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@pytest.fixture
async def world(session: AsyncSession, tokens: TokenFactory) -> PackWorld:
    return await pack_world(session, tokens)


async def fetch(client: httpx.AsyncClient, world: PackWorld, who: str, **params: str) -> str:
    response = await client.get(world.url(), params=params, headers=world.headers[who])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    return response.text


async def status_json(client: httpx.AsyncClient, world: PackWorld, who: str, **params: str) -> dict[str, Any]:
    response = await client.get(
        f"/v1/innovations/{world.innovation_id}/status", params=params, headers=world.headers[who]
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def articles(document: str) -> dict[str, str]:
    """Each indicator's section of the document, by indicator key."""
    found = re.findall(
        r'<article class="indicator[^"]*"[^>]*data-indicator="([a-z_]+)">(.*?)</article>', document, re.S
    )
    return dict(found)


def figure(article: str, label: str) -> str:
    match = re.search(
        rf'<span class="label">{re.escape(label)}</span><span class="figure">([^<]*)</span>', article
    )
    assert match, f"no figure labelled {label!r}"
    return unescape(match.group(1))


def shown(count: Any) -> str:
    """A JSON count as the pack prints it."""
    if is_suppressed(count):
        return "withheld"
    if count is None:
        return "—"
    return f"{count:,.2f}".rstrip("0").rstrip(".") if isinstance(count, float) else f"{count:,}"


async def test_the_pack_holds_every_section_for_a_quality_lead(
    client: httpx.AsyncClient, world: PackWorld
) -> None:
    document = await fetch(client, world, "quality_lead")
    status = await status_json(client, world, "quality_lead")

    assert document.startswith("<!DOCTYPE html>")
    assert "<h1>Proactive engagement</h1>" in document
    assert unescape(SUMMARY) in unescape(document)
    for line in WHY.splitlines():
        assert line in unescape(document)
    assert "Riverside Care" in document
    assert "Provider (all services in scope): Elm Court, Oak House" in document
    assert "@page { size: A4;" in document and "@media print" in document
    assert "90 days, LAST_90_DAYS" in document
    # The stage, month by month from the served history, and the reasons for it now.
    history = await client.get(
        f"/v1/innovations/{world.innovation_id}/status/history", headers=world.headers["quality_lead"]
    )
    months = history.json()["months"]
    timeline = re.findall(r'<li class="stage-([a-z_]+)"><span class="month">([^<]+)</span>', document)
    assert [stage for stage, _ in timeline] == [m["stage"] for m in months]
    assert len(timeline) == 12
    assert f"for {status['months_in_stage']} consecutive month" in document
    for reason in status["stage_reasons"]:
        assert reason["explanation"] in unescape(document)

    sections = articles(document)
    assert list(sections) == [i["key"] for i in status["indicators"]]
    for indicator in status["indicators"]:
        key = IndicatorKey(indicator["key"])
        article = sections[key.value]
        assert INDICATOR_NAMES[key] in article
        assert indicator["explanation"] in unescape(article)
        # Its chart: one inline SVG, labelled with the indicator, with the thresholds drawn as lines.
        assert article.count("<svg") == 1
        assert f'data-indicator="{key.value}"' in article.split("<svg", 1)[1]
        scale = SCALES[key]
        green = indicator["threshold"][scale.green]
        amber = indicator["threshold"][scale.amber]
        for name, line in (("Green", green), ("Amber", amber)):
            legend = f"{name} {scale.bound(line)}"
            assert legend in unescape(article.split("<svg", 1)[1]), legend
        assert f"Green {scale.bound(green)}; amber {scale.bound(amber)}; red otherwise." in unescape(article)
        # Its counts, as the JSON status has them.
        numerator_name, denominator_name = COUNT_NAMES[key]
        assert figure(article, numerator_name) == shown(indicator["numerator"])
        assert figure(article, denominator_name) == shown(indicator["denominator"])
        assert f"badge rag-{indicator['rag']}" in article
        # The CQC quality statements it evidences, from the mapping.
        for statement in cqc_mapping().indicators[key.value].quality_statements:
            assert f"{KEY_QUESTIONS[statement.key_question]}: {statement.statement}" in unescape(article)
    assert document.count("<svg") == len(IndicatorKey)


async def test_levers_come_with_amber_and_red_indicators_only(
    client: httpx.AsyncClient, world: PackWorld
) -> None:
    document = await fetch(client, world, "registered_manager")
    status = await status_json(client, world, "registered_manager")
    ratings = {i["key"]: i["rag"] for i in status["indicators"]}
    # The world has each kind of rating, so the rule is tested both ways.
    assert {"green", "amber", "red", "insufficient_evidence", "not_applicable"} <= set(ratings.values())
    for key, article in articles(document).items():
        levers = re.findall(r'data-lever="([a-z_]+)"', article)
        if ratings[key] in ("amber", "red"):
            assert "What to do next" in article
            assert levers == [lever.key for lever in LEVERS.for_indicator(IndicatorKey(key))]
            for lever in LEVERS.for_indicator(IndicatorKey(key)):
                assert lever.action in unescape(article)
        else:
            assert "What to do next" not in article and levers == [], key


async def test_an_inspector_gets_the_external_figures_as_in_json(
    client: httpx.AsyncClient, world: PackWorld
) -> None:
    inspector = await fetch(client, world, "inspector")
    external = await status_json(client, world, "inspector")
    lead = articles(await fetch(client, world, "quality_lead"))
    assert external["suppressed_counts"] is True
    withheld = []
    for indicator in external["indicators"]:
        key = IndicatorKey(indicator["key"])
        article = articles(inspector)[key.value]
        numerator_name, denominator_name = COUNT_NAMES[key]
        assert figure(article, numerator_name) == shown(indicator["numerator"])
        assert figure(article, denominator_name) == shown(indicator["denominator"])
        assert indicator["explanation"] in unescape(article)
        if is_suppressed(indicator["numerator"]):
            withheld.append(key)
            assert figure(article, "Value now") == "withheld (small counts)"
            # The provider's own roles see the number the inspector may not.
            assert figure(lead[key.value], numerator_name) != "withheld"
    assert IndicatorKey.supervision_reinforcement in withheld
    assert IndicatorKey.incident_learning in withheld
    assert "Counts from 1 to 4 about people or events are withheld" in inspector
    # The explanation an inspector gets for a withheld figure quotes no count.
    assert "3 of 5 supervisions" not in inspector and "0 of 2 incidents" not in inspector


async def test_one_service_only(client: httpx.AsyncClient, world: PackWorld) -> None:
    document = await fetch(client, world, "quality_lead", service_id=str(world.oak.id))
    assert "Service: Oak House" in document and "Elm Court" not in document

    elsewhere = await client.get(
        world.url(), params={"service_id": str(uuid.uuid4())}, headers=world.headers["quality_lead"]
    )
    assert elsewhere.status_code == 422, elsewhere.text
    assert elsewhere.headers["content-type"].startswith("application/problem+json")


async def test_a_provider_admin_and_a_manager_get_the_providers_own_figures(
    client: httpx.AsyncClient, world: PackWorld
) -> None:
    def same(document: str) -> str:  # each chart's SVG has an id of its own
        return re.sub(r"chart-[0-9a-f-]{36}", "chart", document)

    lead = same(await fetch(client, world, "quality_lead"))
    for who in ("provider_admin", "registered_manager"):
        assert same(await fetch(client, world, who)) == lead


@pytest.mark.parametrize("who", ["commissioner", "care_worker", "integration"])
async def test_callers_without_evidence_access_are_refused(
    who: str, client: httpx.AsyncClient, world: PackWorld
) -> None:
    response = await client.get(world.url(), headers=world.headers[who])
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 403


async def test_an_unknown_innovation_is_not_found(
    client: httpx.AsyncClient, world: PackWorld, session: AsyncSession, tokens: TokenFactory
) -> None:
    for who in ("quality_lead", "inspector"):
        response = await client.get(world.url(uuid.uuid4()), headers=world.headers[who])
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    # Another provider's innovation is as unknown to this provider's roles.
    from tests import factories

    other = await factories.organisation(session)
    home = await factories.care_service(session, other)
    theirs = await factories.innovation(session, other, [home])
    response = await client.get(world.url(theirs.id), headers=world.headers["quality_lead"])
    assert response.status_code == 404, response.text


async def test_every_read_is_in_the_providers_access_log(
    client: httpx.AsyncClient, world: PackWorld, session: AsyncSession
) -> None:
    await fetch(client, world, "quality_lead")
    await fetch(client, world, "inspector", service_id=str(world.oak.id))
    rows = (
        await session.execute(
            text(
                "SELECT organisation_id, sub, action, resource_type, record_ids, method, path FROM access_log"
                " WHERE action = 'status.evidence_pack' ORDER BY id"
            )
        )
    ).all()
    assert [(r.organisation_id, r.sub) for r in rows] == [
        (world.provider.id, "pack-lead"),
        (world.provider.id, "pack-inspector"),
    ]
    for row in rows:
        assert (row.resource_type, row.record_ids) == ("innovation", [world.innovation_id])
        assert (row.method, row.path) == ("GET", world.url())


async def test_a_hostile_name_comes_out_escaped(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    name = "<script>alert('pack')</script>"
    summary = '<img src=x onerror="alert(1)"> & <style>body{display:none}</style>'
    world = await pack_world(session, tokens, name=name, summary=summary)
    document = await fetch(client, world, "quality_lead")
    assert "<script" not in document.lower()
    assert "<img" not in document.lower()
    assert document.lower().count("<style") == 1 + len(IndicatorKey)  # the page's own, one per chart
    assert "&lt;script&gt;alert(&#39;pack&#39;)&lt;/script&gt;" in document
    assert "<title>Evidence pack: &lt;script&gt;" in document
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; &lt;style&gt;" in document


async def test_the_document_runs_nothing_and_fetches_nothing(
    client: httpx.AsyncClient, world: PackWorld
) -> None:
    for who in ("quality_lead", "inspector"):
        document = (await fetch(client, world, who)).lower()
        assert "<script" not in document
        assert "javascript:" not in document
        for reference in ("href=", "src=", "url(", "@import", "<link", "<iframe", "<object"):
            assert reference not in document, reference
