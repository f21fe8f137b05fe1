"""Innovations through GraphQL: REST's reads, and writes through the same service functions, with
expected failures as typed results carrying REST's messages."""

import uuid
from typing import Any

import httpx

from tests import factories
from tests.graphql.helpers import error_codes, graphql, graphql_data
from tests.tokens import TokenFactory

INNOVATION_FIELDS = """id name summary why startedOn serviceIds phase sourceSystem externalRef
  embeddingPlan {
    careRecords teamCommunication supervision qualityAssurance workforce incidentLearning staffVoice
  }"""

CREATE = (
    """mutation ($input: InnovationCreateInput!) {
  createInnovation(input: $input) {
    __typename
    ... on InnovationSaved { innovation { """
    + INNOVATION_FIELDS
    + """ } }
    ... on Problem { type title status detail errors { field rule message } }
    ... on Conflict { existingId }
  }
}"""
)

UPDATE = (
    """mutation ($id: UUID!, $input: InnovationUpdateInput!) {
  updateInnovation(id: $id, input: $input) {
    __typename
    ... on InnovationSaved { innovation { """
    + INNOVATION_FIELDS
    + """ } }
    ... on Problem { type title status detail errors { field rule message } }
  }
}"""
)


def as_rest(node: dict[str, Any]) -> dict[str, Any]:
    plan = node["embeddingPlan"]
    return {
        "id": node["id"],
        "name": node["name"],
        "summary": node["summary"],
        "why": node["why"],
        "started_on": node["startedOn"],
        "service_ids": node["serviceIds"],
        "phase": node["phase"],
        "source_system": node["sourceSystem"],
        "external_ref": node["externalRef"],
        "embedding_plan": {
            "care_records": plan["careRecords"],
            "team_communication": plan["teamCommunication"],
            "supervision": plan["supervision"],
            "quality_assurance": plan["qualityAssurance"],
            "workforce": plan["workforce"],
            "incident_learning": plan["incidentLearning"],
            "staff_voice": plan["staffVoice"],
        },
    }


def without_times(rest: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rest.items() if k not in ("created_at", "updated_at")}


def as_problem(rest: dict[str, Any]) -> dict[str, Any]:
    return {k: rest.get(k) for k in ("type", "title", "status", "detail")} | {
        "errors": rest.get("errors") or []
    }


async def test_create_through_graphql_reads_back_through_rest(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    home = await factories.care_service(session, org)
    headers = tokens.headers("quality_lead", org.id)
    payload = {
        "name": "Proactive engagement",
        "why": "Boredom drives incidents.",
        "startedOn": "2026-01-05",
        "serviceIds": [str(home.id)],
        "embeddingPlan": {"supervision": 2},
    }

    data = await graphql_data(client, CREATE, headers, {"input": payload})

    result = data["createInnovation"]
    assert result["__typename"] == "InnovationSaved"
    created = result["innovation"]
    rest = (await client.get(f"/v1/innovations/{created['id']}", headers=headers)).json()
    assert as_rest(created) == without_times(rest)
    assert created["embeddingPlan"]["supervision"] == 2
    assert created["phase"] == "pilot"


async def test_invalid_input_comes_back_typed_with_the_rest_messages(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    headers = tokens.headers("quality_lead", org.id)
    other = await factories.organisation(session)
    theirs = await factories.care_service(session, other)
    cases: list[dict[str, Any]] = [
        {"name": "  ", "why": "x", "startedOn": "2026-01-05", "serviceIds": []},
        {"name": "A", "why": "x", "startedOn": "2026-01-05", "serviceIds": [str(theirs.id)]},
        {
            "name": "A",
            "why": "x",
            "startedOn": "2026-01-05",
            "serviceIds": [str(theirs.id)],
            "embeddingPlan": {"workforce": -1},
        },
    ]

    for payload in cases:
        data = await graphql_data(client, CREATE, headers, {"input": payload})
        rest_body = {
            "name": payload["name"],
            "why": payload["why"],
            "started_on": payload["startedOn"],
            "service_ids": payload["serviceIds"],
        }
        if "embeddingPlan" in payload:
            rest_body["embedding_plan"] = payload["embeddingPlan"]
        rest = await client.post("/v1/innovations", json=rest_body, headers=headers)

        result = data["createInnovation"]
        assert result["__typename"] == "ValidationProblem", result
        assert rest.status_code == 422
        assert {k: result[k] for k in ("type", "title", "status", "detail", "errors")} == as_problem(
            rest.json()
        )


async def test_a_taken_reference_is_a_typed_conflict(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    home = await factories.care_service(session, org)
    headers = tokens.headers("quality_lead", org.id)
    payload = {
        "name": "A",
        "why": "Because.",
        "startedOn": "2026-01-05",
        "serviceIds": [str(home.id)],
        "sourceSystem": "acme",
        "externalRef": "INN-1",
    }

    first = await graphql_data(client, CREATE, headers, {"input": payload})
    again = await graphql_data(client, CREATE, headers, {"input": payload})
    rest = await client.post(
        "/v1/innovations",
        json={
            "name": "A",
            "why": "Because.",
            "started_on": "2026-01-05",
            "service_ids": [str(home.id)],
            "source_system": "acme",
            "external_ref": "INN-1",
        },
        headers=headers,
    )

    assert first["createInnovation"]["__typename"] == "InnovationSaved"
    conflict = again["createInnovation"]
    assert conflict["__typename"] == "Conflict"
    assert rest.status_code == 409
    assert {k: conflict[k] for k in ("type", "title", "status", "detail", "errors")} == as_problem(
        rest.json()
    )


async def test_update_keeps_what_is_left_out_and_refuses_null_like_rest(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    home = await factories.care_service(session, org)
    innovation = await factories.innovation(session, org, [home], name="Buddying")
    headers = tokens.headers("quality_lead", org.id)

    renamed = await graphql_data(
        client, UPDATE, headers, {"id": str(innovation.id), "input": {"phase": "scaling"}}
    )
    nulled = await graphql_data(client, UPDATE, headers, {"id": str(innovation.id), "input": {"name": None}})
    rest_nulled = await client.patch(f"/v1/innovations/{innovation.id}", json={"name": None}, headers=headers)
    missing = await graphql_data(
        client, UPDATE, headers, {"id": str(uuid.uuid4()), "input": {"phase": "retired"}}
    )

    saved = renamed["updateInnovation"]["innovation"]
    assert (saved["name"], saved["phase"]) == ("Buddying", "scaling")
    assert nulled["updateInnovation"]["__typename"] == "ValidationProblem"
    assert nulled["updateInnovation"]["errors"] == rest_nulled.json()["errors"]
    assert missing["updateInnovation"]["__typename"] == "NotFound"


async def test_a_role_without_the_permission_is_refused_before_anything_runs(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    home = await factories.care_service(session, org)
    payload = {"name": "A", "why": "x", "startedOn": "2026-01-05", "serviceIds": [str(home.id)]}

    body = await graphql(client, CREATE, tokens.headers("care_worker", org.id), {"input": payload})
    listed = await graphql_data(
        client, "{ innovations { edges { node { id } } } }", tokens.headers("quality_lead", org.id)
    )

    assert body["data"] is None
    assert error_codes(body) == ["FORBIDDEN"]
    assert listed["innovations"]["edges"] == []


async def test_innovations_and_services_nest_and_match_rest(
    client: httpx.AsyncClient, tokens: TokenFactory, session
) -> None:
    org = await factories.organisation(session)
    home = await factories.care_service(session, org, name="Home")
    branch = await factories.care_service(session, org, name="Branch")
    a = await factories.innovation(session, org, [home], name="A")
    b = await factories.innovation(session, org, [home, branch], name="B")
    await factories.innovation(session, org, [branch], name="C", phase="retired")
    headers = tokens.headers("registered_manager", org.id)
    query = """{
      services { edges { node { name innovations(first: 1) {
        edges { cursor node { name services { name } } } pageInfo { hasNextPage endCursor } totalCount
      } } } }
      innovations(phase: pilot) { edges { node { id name } } }
    }"""

    data = await graphql_data(client, query, headers)
    rest_home = (
        await client.get("/v1/innovations", params={"service_id": str(home.id)}, headers=headers)
    ).json()
    rest_pilot = (await client.get("/v1/innovations", params={"phase": "pilot"}, headers=headers)).json()

    by_service = {e["node"]["name"]: e["node"]["innovations"] for e in data["services"]["edges"]}
    assert [e["node"]["name"] for e in by_service["Home"]["edges"]] == ["A"]
    assert by_service["Home"]["pageInfo"]["hasNextPage"] is True
    assert by_service["Home"]["totalCount"] == 2
    assert [e["node"]["name"] for e in by_service["Branch"]["edges"]] == ["B"]
    assert {s["name"] for s in by_service["Branch"]["edges"][0]["node"]["services"]} == {"Home", "Branch"}
    assert [i["id"] for i in rest_home["items"]] == [str(a.id), str(b.id)]
    assert [e["node"]["id"] for e in data["innovations"]["edges"]] == [i["id"] for i in rest_pilot["items"]]

    after = by_service["Home"]["pageInfo"]["endCursor"]
    more = await graphql_data(
        client,
        "query ($after: String) { services(first: 1) { edges { node { innovations(first: 5, after: $after) "
        "{ edges { node { name } } } } } } }",
        headers,
        {"after": after},
    )
    assert [e["node"]["name"] for e in more["services"]["edges"][0]["node"]["innovations"]["edges"]] == ["B"]
