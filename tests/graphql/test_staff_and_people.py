"""Staff and people through GraphQL: REST's pages and filters; identity only by permission."""

from datetime import date
from typing import Any

import httpx

from tests import factories
from tests.graphql.helpers import error_codes, graphql, graphql_data
from tests.tokens import TokenFactory

STAFF = """query ($first: Int!, $after: String, $serviceId: UUID, $leavers: Boolean! = false) {
  staff(first: $first, after: $after, serviceId: $serviceId, includeLeavers: $leavers) {
    edges { cursor node { id role serviceIds startedOn leftOn sourceSystem createdAt services { id name } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_staff_pages_match_rest(client: httpx.AsyncClient, tokens: TokenFactory, session) -> None:
    org = await factories.organisation(session)
    home = await factories.care_service(session, org, name="Home")
    branch = await factories.care_service(session, org, name="Branch")
    for i in range(3):
        await factories.staff_member(session, org, [home], role="nurse", display_name=f"Nurse {i}")
    await factories.staff_member(session, org, [branch])
    await factories.staff_member(session, org, [home], left_on=date(2025, 6, 30))
    headers = tokens.headers("registered_manager", org.id)

    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"limit": 2}, {"first": 2}),
        ({"limit": 10, "service_id": str(home.id)}, {"first": 10, "serviceId": str(home.id)}),
        ({"limit": 10, "include_leavers": "true"}, {"first": 10, "leavers": True}),
    ]
    for params, variables in cases:
        rest = (await client.get("/v1/staff", params=params, headers=headers)).json()
        data = await graphql_data(client, STAFF, headers, variables)
        nodes = [e["node"] for e in data["staff"]["edges"]]
        assert [n["id"] for n in nodes] == [s["id"] for s in rest["items"]]
        assert [n["role"] for n in nodes] == [s["role"] for s in rest["items"]]
        assert [n["serviceIds"] for n in nodes] == [s["service_ids"] for s in rest["items"]]
        assert [n["leftOn"] for n in nodes] == [s["left_on"] for s in rest["items"]]
        assert data["staff"]["pageInfo"]["hasNextPage"] == (rest["next_cursor"] is not None)

    nurses = await graphql_data(client, STAFF, headers, {"first": 10, "serviceId": str(home.id)})
    assert {e["node"]["services"][0]["name"] for e in nurses["staff"]["edges"]} == {"Home"}


async def test_staff_identity_is_shown_to_managers_and_refused_to_care_workers(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    home = await factories.care_service(session, org)
    nurse = await factories.staff_member(session, org, [home], display_name="Ada", external_ref="EMP-1")
    query = "query ($id: UUID!) { staffMember(id: $id) { id role displayName externalRef } }"

    manager = await graphql_data(
        client, query, tokens.headers("registered_manager", org.id), {"id": str(nurse.id)}
    )
    care_worker = await graphql(client, query, tokens.headers("care_worker", org.id), {"id": str(nurse.id)})
    rest = (await client.get(f"/v1/staff/{nurse.id}", headers=tokens.headers("care_worker", org.id))).json()

    assert manager["staffMember"]["displayName"] == "Ada"
    assert manager["staffMember"]["externalRef"] == "EMP-1"
    # REST leaves identity null for a care worker; GraphQL refuses the fields outright.
    assert rest["display_name"] is None and rest["external_ref"] is None
    assert care_worker["data"]["staffMember"] == {
        "id": str(nurse.id),
        "role": "care_worker",
        "displayName": None,
        "externalRef": None,
    }
    assert set(error_codes(care_worker)) == {"FORBIDDEN"}
    assert {tuple(e["path"][-1:]) for e in care_worker["errors"]} == {("displayName",), ("externalRef",)}
    without_identity = await graphql_data(
        client,
        "query ($id: UUID!) { staffMember(id: $id) { id role } }",
        tokens.headers("care_worker", org.id),
        {"id": str(nurse.id)},
    )
    assert without_identity["staffMember"] == {"id": str(nurse.id), "role": "care_worker"}


async def test_a_commissioner_is_refused_staff_identity(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    commissioner = await factories.organisation(session, kind="commissioner")
    headers = tokens.headers("commissioner", commissioner.id)

    body = await graphql(client, "{ staff { edges { node { displayName externalRef } } } }", headers)

    assert body["data"] is None
    assert error_codes(body) == ["FORBIDDEN"]


async def test_people_match_rest(client: httpx.AsyncClient, tokens: TokenFactory, session) -> None:
    org = await factories.organisation(session)
    for i in range(3):
        await factories.person(session, org, external_ref=f"P-{i}")
    headers = tokens.headers("registered_manager", org.id)
    query = """query ($ref: String) { people(first: 10, externalRef: $ref) {
      edges { node { id externalRef sourceSystem serviceIds } } } }"""

    rest = (await client.get("/v1/people", headers=headers)).json()
    everyone = await graphql_data(client, query, headers)
    one = await graphql_data(client, query, headers, {"ref": "P-1"})

    assert [e["node"]["id"] for e in everyone["people"]["edges"]] == [p["id"] for p in rest["items"]]
    assert [e["node"]["externalRef"] for e in one["people"]["edges"]] == ["P-1"]
