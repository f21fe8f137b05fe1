"""A hostile item of a batch is refused on its own, with its own problem; the others are stored."""

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.graphql.helpers import graphql_data
from tests.graphql.touchpoint_inputs import as_input
from tests.hostile.payloads import TP, survey, touchpoint
from tests.hostile.table import NUL, YEAR_ONE, Hostile
from tests.touchpoints.world import count_touchpoints

# (item, the field its problem names, the rule) — None for an item that must be stored.
ROWS: list[tuple[dict[str, Any], str | None, str | None]] = [
    (touchpoint(external_id="good-1", source_system="acme"), None, None),
    (touchpoint(text=f"before{NUL}after"), "items[1].text", "nul_character"),
    (touchpoint(external_id="good-2", source_system="acme"), None, None),
    (touchpoint(external_id=f"bad{NUL}", source_system="acme"), "items[3].external_id", "nul_character"),
    (touchpoint(occurred_at=YEAR_ONE), "items[4].occurred_at", "date_out_of_range"),
    (
        touchpoint(facts={"activity": NUL, "engagement_quality": 3}),
        "items[5].facts.activity",
        "nul_character",
    ),
    (survey({"c1": 4}), None, None),
    (survey({"rm1": f"na_stage{NUL}"}), "items[7].facts.items.rm1", None),
    (
        touchpoint(facts={"activity": "a", "engagement_quality": 10**30}),
        "items[8].facts.engagement_quality",
        None,
    ),
]


def expected(rows: list[tuple[dict[str, Any], str | None, str | None]]) -> list[str]:
    return ["created" if field is None else "rejected" for _, field, _ in rows]


async def test_a_rest_batch_stores_the_good_items_beside_hostile_ones(
    client: httpx.AsyncClient, hostile: Hostile, session: AsyncSession
) -> None:
    items = [hostile.fill(item) for item, _, _ in ROWS]
    manager = hostile.auth("registered_manager")

    response = await client.post(f"{TP}/batch", json={"items": items}, headers=manager)

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == expected(ROWS)
    for result, (_, field, rule) in zip(results, ROWS, strict=True):
        if field is None:
            assert result["id"] is not None and result["problem"] is None
            stored = await client.get(f"{TP}/{result['id']}", headers=manager)
            assert stored.status_code == 200
            continue
        assert result["id"] is None
        problem = result["problem"]
        assert problem["status"] == 422 and problem["type"].endswith("validation-error")
        assert any(e["field"] == field and rule in (None, e["rule"]) for e in problem["errors"]), problem
    assert await count_touchpoints(session, hostile.world.org) == expected(ROWS).count("created")


GRAPHQL_BATCH = """mutation ($touchpoints: [TouchpointInput!]!) {
  recordTouchpointBatch(touchpoints: $touchpoints) {
    __typename
    ... on TouchpointBatchRecorded {
      results { index status id problem { __typename errors { field rule } } }
    }
  }
}"""
# GraphQL reads a date or an Int out of range as it reads the variables, refusing the whole operation
# (tests/hostile/test_graphql.py); a NUL in text reaches the REST model and is refused per item.
GRAPHQL_ROWS = [ROWS[0], ROWS[1], ROWS[2], ROWS[3], ROWS[5]]


async def test_a_graphql_batch_refuses_only_the_item_holding_nul(
    client: httpx.AsyncClient, hostile: Hostile, session: AsyncSession
) -> None:
    items = [as_input(hostile.fill(item)) for item, _, _ in GRAPHQL_ROWS]
    manager = hostile.auth("registered_manager")

    data = await graphql_data(client, GRAPHQL_BATCH, manager, {"touchpoints": items})

    results = data["recordTouchpointBatch"]["results"]
    assert [r["status"] for r in results] == expected(GRAPHQL_ROWS)
    for index, (result, (_, field, rule)) in enumerate(zip(results, GRAPHQL_ROWS, strict=True)):
        if field is None:
            assert result["id"] is not None
            continue
        assert result["problem"]["__typename"] == "ValidationProblem"
        named = field.split(".", 1)[1]
        assert {"field": f"items[{index}].{named}", "rule": rule} in result["problem"]["errors"], result
    assert await count_touchpoints(session, hostile.world.org) == expected(GRAPHQL_ROWS).count("created")
