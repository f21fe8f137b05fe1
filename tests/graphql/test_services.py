"""Services through GraphQL: the same pages, filters and refusals as REST."""

import uuid
from typing import Any

import httpx

from tests import factories
from tests.graphql.helpers import error_codes, graphql, graphql_data
from tests.tokens import TokenFactory

SERVICE_FIELDS = """id name timezone cqcLocationId shiftPattern { early late night }
  sourceSystem externalRef createdAt updatedAt"""

SERVICES = (
    """query ($first: Int!, $after: String, $cqc: String) {
  services(first: $first, after: $after, cqcLocationId: $cqc) {
    edges { cursor node { """
    + SERVICE_FIELDS
    + """ } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
)


def as_rest(node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL service in REST's field names."""
    return {
        "id": node["id"],
        "name": node["name"],
        "timezone": node["timezone"],
        "cqc_location_id": node["cqcLocationId"],
        "shift_pattern": node["shiftPattern"],
        "source_system": node["sourceSystem"],
        "external_ref": node["externalRef"],
        "created_at": node["createdAt"],
        "updated_at": node["updatedAt"],
    }


def same_instant(rest: dict[str, Any], graph: dict[str, Any]) -> None:
    from datetime import datetime

    for key in ("created_at", "updated_at"):
        assert datetime.fromisoformat(rest[key]) == datetime.fromisoformat(graph[key])
        rest[key] = graph[key]
    assert rest == graph


async def test_pages_of_services_match_rest(client: httpx.AsyncClient, tokens: TokenFactory, session) -> None:
    org = await factories.organisation(session)
    for i in range(5):
        await factories.care_service(session, org, name=f"Home {i}", cqc_location_id=f"1-10{i}")
    other = await factories.organisation(session)
    await factories.care_service(session, other, name="Not theirs")
    headers = tokens.headers("registered_manager", org.id)

    rest_pages, graph_pages = [], []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        rest = (await client.get("/v1/services", params=params, headers=headers)).json()
        data = await graphql_data(client, SERVICES, headers, {"first": 2, "after": cursor})
        rest_pages.append(rest)
        graph_pages.append(data["services"])
        assert data["services"]["pageInfo"]["endCursor"] == (
            rest["next_cursor"] or data["services"]["edges"][-1]["cursor"]
        )
        cursor = rest["next_cursor"]
        if cursor is None:
            break

    assert len(rest_pages) == 3
    for rest, graph in zip(rest_pages, graph_pages, strict=True):
        nodes = [as_rest(e["node"]) for e in graph["edges"]]
        assert len(nodes) == len(rest["items"])
        for r, g in zip(rest["items"], nodes, strict=True):
            same_instant(r, g)
        assert graph["pageInfo"]["hasNextPage"] == (rest["next_cursor"] is not None)
    assert graph_pages[0]["pageInfo"]["hasPreviousPage"] is False
    assert graph_pages[1]["pageInfo"]["hasPreviousPage"] is True
    names = [e["node"]["name"] for g in graph_pages for e in g["edges"]]
    assert names == [f"Home {i}" for i in range(5)]


async def test_an_edge_cursor_continues_after_that_edge(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    for i in range(4):
        await factories.care_service(session, org, name=f"Home {i}")
    headers = tokens.headers("quality_lead", org.id)

    first = await graphql_data(client, SERVICES, headers, {"first": 4})
    second_edge = first["services"]["edges"][1]["cursor"]
    rest = await graphql_data(client, SERVICES, headers, {"first": 4, "after": second_edge})

    assert [e["node"]["name"] for e in rest["services"]["edges"]] == ["Home 2", "Home 3"]


async def test_filters_and_service_scope_match_rest(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    a = await factories.care_service(session, org, name="A", cqc_location_id="1-111")
    await factories.care_service(session, org, name="B", cqc_location_id="1-222")
    limited = tokens.headers("registered_manager", org.id, services=[a.id])
    everyone = tokens.headers("registered_manager", org.id)

    filtered = await graphql_data(client, SERVICES, everyone, {"first": 10, "cqc": "1-222"})
    scoped = await graphql_data(client, SERVICES, limited, {"first": 10})
    rest_scoped = (await client.get("/v1/services", headers=limited)).json()

    assert [e["node"]["name"] for e in filtered["services"]["edges"]] == ["B"]
    assert [e["node"]["id"] for e in scoped["services"]["edges"]] == [s["id"] for s in rest_scoped["items"]]
    assert [e["node"]["name"] for e in scoped["services"]["edges"]] == ["A"]


async def test_one_service_and_its_refusals_match_rest(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    mine = await factories.care_service(session, org, name="Mine")
    other = await factories.organisation(session)
    theirs = await factories.care_service(session, other)
    headers = tokens.headers("care_worker", org.id)
    query = "query ($id: UUID!) { service(id: $id) { id name } }"

    found = await graphql_data(client, query, headers, {"id": str(mine.id)})
    hidden = await graphql(client, query, headers, {"id": str(theirs.id)})
    missing = await graphql(client, query, headers, {"id": str(uuid.uuid4())})
    rest_hidden = await client.get(f"/v1/services/{theirs.id}", headers=headers)

    assert found["service"] == {"id": str(mine.id), "name": "Mine"}
    assert hidden["data"] == {"service": None}
    assert error_codes(hidden) == ["NOT_FOUND"]
    assert hidden["errors"][0]["extensions"]["status"] == rest_hidden.status_code == 404
    assert hidden["errors"][0]["message"] == rest_hidden.json()["detail"]
    assert error_codes(missing) == ["NOT_FOUND"]


async def test_a_commissioner_may_not_list_services(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    commissioner = await factories.organisation(session, kind="commissioner")
    headers = tokens.headers("commissioner", commissioner.id)

    body = await graphql(client, "{ services { edges { node { id } } } }", headers)
    rest = await client.get("/v1/services", headers=headers)

    assert body["data"] is None
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["message"] == rest.json()["detail"]
    assert rest.status_code == body["errors"][0]["extensions"]["status"] == 403


async def test_a_page_size_out_of_bounds_is_refused_with_the_rest_rule(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    headers = tokens.headers("care_worker", org.id)

    body = await graphql(client, "{ services(first: 501) { edges { cursor } } }", headers)
    rest = await client.get("/v1/services", params={"limit": 501}, headers=headers)

    assert error_codes(body) == ["VALIDATION_ERROR"]
    assert body["errors"][0]["extensions"]["errors"][0]["rule"] == rest.json()["errors"][0]["rule"]
