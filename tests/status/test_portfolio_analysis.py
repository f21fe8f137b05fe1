"""A commissioner's analyst: the portfolio filtered, sorted, compared with its medians, and as CSV."""

import csv
import io
import statistics
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.portfolio.schemas import PortfolioProvider
from service.portfolio.selection import select, selection
from service.portfolio.spreadsheet import COLUMNS, text_cell
from service.status.present import COUNTS_PEOPLE
from tests import factories
from tests.graphql.helpers import graphql, graphql_data
from tests.status.scenarios import Practice, build_home, live
from tests.tokens import TokenFactory

AS_OF = "2026-11-01T00:00:00Z"  # computed on read: the same answer whenever the suite runs
RATED = {"green", "amber", "red"}


async def _portfolio(session: AsyncSession) -> tuple[Any, list[Any]]:
    council = await factories.organisation(session, "commissioner", "Shire Council")
    steady = await build_home(session)
    solo = await build_home(session)
    quiet = await build_home(session)
    outside = await build_home(session)
    await live(steady, Practice(), date(2026, 8, 1), date(2026, 10, 31))
    await live(
        solo,
        Practice(recorders=[0], supervision_discusses=False, incident_every=30),
        date(2026, 8, 1),
        date(2026, 10, 31),
    )
    await live(outside, Practice(), date(2026, 8, 1), date(2026, 10, 31))
    names = [
        (steady, "Alder Care", "Proactive engagement"),
        (solo, '=HYPERLINK("http://x.test")', "+Night reflection"),
        (quiet, "Birch Homes", "Structured buddying"),
        (outside, "Elsewhere Ltd", "Proactive engagement"),
    ]
    for home, provider, innovation in names:
        home.org.name, home.innovation.name = provider, innovation
    for home in (steady, solo, quiet):
        await factories.commissioning(session, council, home.org)
    # A provider with nothing in scope yet: a sort keeps it, a filter leaves it off.
    await factories.commissioning(session, council, await factories.organisation(session, name="Cedar Lodge"))
    await session.commit()
    return council, [steady, solo, quiet]


def _rows(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(provider, innovation, provider-row stage) in the answer's order."""
    return [
        (p["provider_name"], i["innovation_name"], i["provider"]["stage"])
        for p in body["items"]
        for i in p["innovations"]
    ]


async def test_filters_sort_and_medians(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    council, _ = await _portfolio(session)
    headers = tokens.headers("commissioner", council.id)

    async def get(**params: str) -> dict[str, Any]:
        response = await client.get(
            "/v1/portfolio/status", params={"as_of": AS_OF, **params}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    everything = await get()
    rows = _rows(everything)
    assert len(rows) == 3 and "Elsewhere Ltd" not in {r[0] for r in rows}
    stages = {r[1]: r[2] for r in rows}
    assert stages["Structured buddying"] == "not_started"
    assert stages["+Night reflection"] == "pilot"  # one person carries it
    assert stages["Proactive engagement"] in {"embedding", "embedded"}

    # Stage: a comma list; each kept innovation is at one of them, and every one at them is kept.
    piloted = await get(stage="pilot,not_started")
    assert sorted(_rows(piloted)) == sorted(r for r in rows if r[2] in {"pilot", "not_started"})
    assert [p["provider_name"] for p in (await get(stage="fading"))["items"]] == []

    # An indicator's RAG: judged on the provider row.
    def rag(body: dict[str, Any], innovation: str, key: str) -> str:
        [row] = [i for p in body["items"] for i in p["innovations"] if i["innovation_name"] == innovation]
        found: str = next(x["rag"] for x in row["provider"]["indicators"] if x["key"] == key)
        return found

    red = await get(indicator="supervision_reinforcement", rag="red")
    assert [r[1] for r in _rows(red)] == ["+Night reflection"]
    assert rag(everything, "Proactive engagement", "supervision_reinforcement") == "green"
    not_red = await get(indicator="supervision_reinforcement", rag="green,amber,insufficient_evidence")
    assert "+Night reflection" not in {r[1] for r in _rows(not_red)} and len(_rows(not_red)) == 2

    # Name: a substring, ignoring case.
    assert [r[1] for r in _rows(await get(innovation="ENGAGE"))] == ["Proactive engagement"]
    assert _rows(await get(innovation="nothing like it")) == []

    # Sort: providers by name, each way; a provider's innovations by stage.
    by_provider = [p["provider_name"] for p in (await get(sort="provider"))["items"]]
    assert by_provider == sorted(by_provider, key=str.casefold) and "Cedar Lodge" in by_provider
    assert [p["provider_name"] for p in (await get(sort="-provider"))["items"]] == by_provider[::-1]
    assert "Cedar Lodge" not in {p["provider_name"] for p in piloted["items"]}
    # Within a provider, by stage (lifecycle order) or name: the answer's rows put under one provider.
    one = PortfolioProvider.model_validate(
        {**everything["items"][0], "innovations": [i for p in everything["items"] for i in p["innovations"]]}
    )
    for sort, expected in (
        ("stage", ["Structured buddying", "+Night reflection", "Proactive engagement"]),
        ("-stage", ["Proactive engagement", "+Night reflection", "Structured buddying"]),
        ("innovation", ["+Night reflection", "Proactive engagement", "Structured buddying"]),
        ("-innovation", ["Structured buddying", "Proactive engagement", "+Night reflection"]),
    ):
        [ordered] = select([one], selection(sort=sort))
        assert [i.innovation_name for i in ordered.innovations] == expected, sort

    # Medians: over the rated provider rows shown, suppressed and unrated values left out.
    supervision = {
        r[1]: next(x for x in i["provider"]["indicators"] if x["key"] == "supervision_reinforcement")
        for r, i in zip(rows, (i for p in everything["items"] for i in p["innovations"]), strict=True)
    }
    assert supervision["Proactive engagement"]["value"] == 1.0
    assert supervision["+Night reflection"]["value"] == 0.0
    assert supervision["Structured buddying"]["rag"] not in RATED  # nothing to judge yet
    medians = {m["key"]: m for m in everything["medians"]}
    assert len(medians) == 8
    assert medians["supervision_reinforcement"] == {
        "key": "supervision_reinforcement",
        "median": 0.5,
        "rows": 2,
    }
    for key, median in medians.items():
        values = [
            x["value"]
            for p in everything["items"]
            for i in p["innovations"]
            for x in i["provider"]["indicators"]
            if x["key"] == key and x["rag"] in RATED and x["value"] is not None
        ]
        assert median["rows"] == len(values)
        assert median["median"] == (statistics.median(values) if values else None)
    # Filtered, the median is of the rows kept.
    assert {m["key"]: m for m in red["medians"]}["supervision_reinforcement"]["median"] == 0.0

    # The ETag follows the query.
    tags = set()
    for params in ({}, {"stage": "pilot"}, {"sort": "provider"}, {"innovation": "engage"}):
        response = await client.get(
            "/v1/portfolio/status", params={"as_of": AS_OF, **params}, headers=headers
        )
        tags.add(response.headers["ETag"])
        again = await client.get(
            "/v1/portfolio/status",
            params={"as_of": AS_OF, **params},
            headers={**headers, "If-None-Match": response.headers["ETag"]},
        )
        assert again.status_code == 304
    assert len(tags) == 4

    # GraphQL takes the same filters and sort and agrees.
    query = """query ($asOf: DateTime) {
      portfolioStatus(asOf: $asOf, stage: [pilot, not_started], sort: PROVIDER_DESC) {
        fingerprint medians { key median rows }
        providers { edges { node { providerName innovations { innovationName provider { stage } } } } }
      }
    }"""
    data = (await graphql_data(client, query, headers, {"asOf": AS_OF}))["portfolioStatus"]
    rest = await get(stage="pilot,not_started", sort="-provider")
    assert [
        (e["node"]["providerName"], i["innovationName"], i["provider"]["stage"])
        for e in data["providers"]["edges"]
        for i in e["node"]["innovations"]
    ] == _rows(rest)
    assert data["medians"] == rest["medians"]
    bad = await graphql(
        client,
        "{ portfolioStatus(indicator: audit_stability) { fingerprint } }",
        headers,
    )
    assert bad["errors"] and "rag" in bad["errors"][0]["message"]


async def test_csv_has_the_json_rows_with_counts_withheld_and_formulas_defused(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    council, homes = await _portfolio(session)
    headers = tokens.headers("commissioner", council.id)
    params = {"as_of": AS_OF}
    body = (await client.get("/v1/portfolio/status", params=params, headers=headers)).json()
    response = await client.get(
        "/v1/portfolio/status", params=params, headers={**headers, "Accept": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="portfolio-2026-11-01.csv"'
    text = response.content.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == COLUMNS
    table = [dict(zip(COLUMNS, row, strict=True)) for row in parsed[1:]]

    # The same rows as the JSON, in its order: each innovation's provider row, then its service rows.
    expected = []
    for p in body["items"]:
        services = {s["service_id"]: s["name"] for s in p["services"]}
        for i in p["innovations"]:
            for status in (i["provider"], *i["services"]):
                expected.append((p, i, status, services.get(status["service_id"], "")))
    assert len(table) == len(expected) == 6
    for row, (provider, innovation, status, service) in zip(table, expected, strict=True):
        assert row["provider"] == text_cell(provider["provider_name"])
        assert row["innovation"] == text_cell(innovation["innovation_name"])
        assert row["service"] == service
        assert row["level"] == ("service" if status["service_id"] else "provider")
        assert row["stage"] == status["stage"]
        assert row["service_id"] == (status["service_id"] or "")
        for indicator in status["indicators"]:
            key = indicator["key"]
            assert row[f"{key}_rag"] == indicator["rag"]
            value = indicator["value"]
            assert row[f"{key}_value"] == ("" if value is None else str(round(value, 4)))
            for part in ("numerator", "denominator"):
                count = indicator[part]
                written = row[f"{key}_{part}"]
                if isinstance(count, dict):
                    assert count == {"suppressed": True} and written == "suppressed"
                else:
                    assert written == ("" if count is None else str(count))

    # Small counts of people's work are withheld (three incidents a quarter at one provider), never
    # written as numbers. (`system_visibility` counts delivery systems, not people.)
    cells = [
        row[f"{k.value}_{part}"]
        for row in table
        for k in COUNTS_PEOPLE
        for part in ("numerator", "denominator")
    ]
    assert row_of(table, "'+Night reflection")["incident_learning_numerator"] == "suppressed"
    assert "suppressed" in cells
    assert not any(c in {"1", "2", "3", "4"} for c in cells)
    # No personal data: no staff identifiers or references.
    for home in homes:
        for member in home.staff:
            assert str(member.id) not in text
            assert not member.external_ref or member.external_ref not in text
    # Names that a spreadsheet would run as formulas are text.
    assert {row["provider"] for row in table} >= {'\'=HYPERLINK("http://x.test")'}
    assert {row["innovation"] for row in table} >= {"'+Night reflection"}
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in parsed[1:] for cell in row)

    # Filters apply to the CSV too, and its ETag is not the JSON's.
    filtered = await client.get(
        "/v1/portfolio/status",
        params={**params, "innovation": "buddying"},
        headers={**headers, "Accept": "text/csv"},
    )
    assert [r[1] for r in csv.reader(io.StringIO(filtered.text, newline=""))][1:] == [
        "Structured buddying"
    ] * 2
    json_tag = (await client.get("/v1/portfolio/status", params=params, headers=headers)).headers["ETag"]
    assert response.headers["ETag"] != json_tag
    # A page with more after it names the next one.
    paged = await client.get(
        "/v1/portfolio/status", params={**params, "limit": 1}, headers={**headers, "Accept": "text/csv"}
    )
    assert 'rel="next"' in paged.headers["link"] and "cursor=" in paged.headers["link"]


def row_of(table: list[dict[str, str]], innovation: str) -> dict[str, str]:
    return next(r for r in table if r["innovation"] == innovation and r["level"] == "provider")


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"stage": "pilot,piloting"}, "stage", "one_of"),
        ({"indicator": "supervision_reinforcement"}, "rag", "required_with_indicator"),
        ({"rag": "red"}, "indicator", "required_with_rag"),
        ({"indicator": "supervision_reinforcement", "rag": "crimson"}, "rag", "one_of"),
        ({"indicator": "happiness", "rag": "red"}, "indicator", "enum"),
        ({"innovation": ""}, "innovation", "string_too_short"),
        ({"innovation": "   "}, "innovation", "min_length"),
        ({"sort": "name"}, "sort", "literal_error"),
    ],
)
async def test_bad_values_are_422_naming_the_parameter(
    client: httpx.AsyncClient,
    session: AsyncSession,
    tokens: TokenFactory,
    params: dict[str, str],
    field: str,
    rule: str,
) -> None:
    council = await factories.organisation(session, "commissioner")
    response = await client.get(
        "/v1/portfolio/status", params=params, headers=tokens.headers("commissioner", council.id)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert (error["field"], error["rule"]) == (field, rule)


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+44 shift", "'+44 shift"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("Rose House", "Rose House"),
        ("Care = quality", "Care = quality"),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_text(name: str, written: str) -> None:
    assert text_cell(name) == written
