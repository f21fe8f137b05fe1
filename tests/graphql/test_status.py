"""Embedding status through GraphQL: the same statuses, history, evidence and thresholds as REST,
for every kind of caller, with what is withheld from commissioners and inspectors."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories
from tests.graphql.helpers import error_codes, graphql, graphql_data
from tests.graphql.status_shapes import STATUS, as_rest, rest_comparable
from tests.graphql.status_world import AS_OF, StatusWorld, build_status_world
from tests.tokens import TokenFactory

INNOVATION_STATUS = f"""query ($id: UUID!, $serviceId: UUID, $asOf: DateTime) {{
  innovationStatus(innovationId: $id, serviceId: $serviceId, asOf: $asOf) {{ {STATUS} }}
}}"""


async def rest_status(
    client: httpx.AsyncClient, world: StatusWorld, headers: dict[str, str], **params: str
) -> dict:
    response = await client.get(
        f"/v1/innovations/{world.innovation_ids[0]}/status",
        params={"as_of": AS_OF.isoformat(), **params},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


async def test_a_status_matches_rest_for_the_provider_and_each_service(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens)
    variables = {"id": str(world.innovation_ids[0]), "asOf": AS_OF.isoformat()}

    provider = await graphql_data(client, INNOVATION_STATUS, world.manager, variables)
    service = await graphql_data(
        client, INNOVATION_STATUS, world.manager, {**variables, "serviceId": str(world.services[1].id)}
    )

    expected_provider = await rest_status(client, world, world.manager)
    expected_service = await rest_status(client, world, world.manager, service_id=str(world.services[1].id))
    assert as_rest(provider["innovationStatus"]) == rest_comparable(expected_provider)
    assert as_rest(service["innovationStatus"]) == rest_comparable(expected_service)
    assert provider["innovationStatus"]["indicators"][0]["key"] == "system_visibility"
    assert expected_provider["stage"] == provider["innovationStatus"]["stage"]


async def test_nested_statuses_are_the_services_and_the_providers(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens)
    query = """query ($asOf: DateTime) {
      services { edges { node { id innovations { edges { node {
        status(asOf: $asOf) { serviceId stage indicators { key rag numerator denominator } }
      } } } } } }
      innovations { edges { node { status(asOf: $asOf) { serviceId stage monthsInStage } } } }
    }"""

    data = await graphql_data(client, query, world.manager, {"asOf": AS_OF.isoformat()})

    for edge in data["services"]["edges"]:
        service_id = edge["node"]["id"]
        [innovation] = edge["node"]["innovations"]["edges"]
        status = innovation["node"]["status"]
        rest = await rest_status(client, world, world.manager, service_id=service_id)
        assert status["serviceId"] == service_id
        assert status["stage"] == rest["stage"]
        assert status["indicators"] == [
            {k: i[k] for k in ("key", "rag", "numerator", "denominator")} for i in rest["indicators"]
        ]
    provider = data["innovations"]["edges"][0]["node"]["status"]
    rest = await rest_status(client, world, world.manager)
    assert provider == {"serviceId": None, "stage": rest["stage"], "monthsInStage": rest["months_in_stage"]}


async def test_every_status_in_scope_and_the_history_match_rest(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens)
    query = f"""query ($asOf: DateTime, $id: UUID!) {{
      statuses(asOf: $asOf) {{ edges {{ cursor node {{ innovationId innovationName organisationId phase
        provider {{ {STATUS} }} services {{ {STATUS} }} }} }} pageInfo {{ hasNextPage }} }}
      innovationStatusHistory(innovationId: $id, months: 3, asOf: $asOf) {{
        innovationId serviceId windowDays months {{ month period current stage
          stageReasons {{ rule indicators explanation }}
          indicators {{ key rag value numerator denominator }} }}
      }}
    }}"""

    data = await graphql_data(
        client, query, world.manager, {"asOf": AS_OF.isoformat(), "id": str(world.innovation_ids[0])}
    )
    listed = (
        await client.get("/v1/status", params={"as_of": AS_OF.isoformat()}, headers=world.manager)
    ).json()
    history = (
        await client.get(
            f"/v1/innovations/{world.innovation_ids[0]}/status/history",
            params={"as_of": AS_OF.isoformat(), "months": 3},
            headers=world.manager,
        )
    ).json()

    [item] = data["statuses"]["edges"]
    assert as_rest(item["node"]) == rest_comparable(listed["items"][0])
    graph_months = data["innovationStatusHistory"]["months"]
    assert [m["stage"] for m in graph_months] == [m["stage"] for m in history["months"]]
    assert [[i["rag"] for i in m["indicators"]] for m in graph_months] == [
        [i["rag"] for i in m["indicators"]] for m in history["months"]
    ]
    assert len(graph_months) == 3


async def test_a_commissioner_sees_aggregates_with_small_counts_withheld_as_in_rest(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens)
    commissioner = await factories.organisation(session, kind="commissioner")
    await factories.commissioning(session, commissioner, world.org)
    headers = tokens.headers("commissioner", commissioner.id)
    variables = {"id": str(world.innovation_ids[0]), "asOf": AS_OF.isoformat()}

    data = await graphql_data(client, INNOVATION_STATUS, headers, variables)
    rest = await rest_status(client, world, headers)
    refused = [
        await graphql(client, query, headers, variables)
        for query in (
            "query ($id: UUID!) { innovation(id: $id) { name status { stage } } }",
            "{ touchpoints { edges { node { text } } } }",
            "{ staff { edges { node { displayName } } } }",
            "query ($id: UUID!) { indicatorEvidence(innovationId: $id, key: incident_learning) "
            "{ touchpoints { edges { node { text recordedById } } } } }",
        )
    ]

    status = data["innovationStatus"]
    assert status["suppressedCounts"] is True
    assert as_rest(status) == rest_comparable(rest)
    # The one restrictive intervention is withheld: 1–4 could point at a person.
    months = status["context"]["outcomes"]["months"]
    assert any(m["restrictiveInterventionsSuppressed"] for m in months)
    assert all(m["restrictiveInterventions"] in (0, None) for m in months)
    for body in refused:
        assert not any((body["data"] or {}).values())
        assert error_codes(body) == ["FORBIDDEN"]


async def test_evidence_matches_rest_and_an_inspector_is_refused_text_and_ids(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens)
    regulator = await factories.organisation(session, kind="regulator")
    await factories.access_grant(session, world.org, regulator)
    inspector = tokens.headers("inspector", regulator.id)
    query = """query ($id: UUID!, $first: Int!, $after: String, $asOf: DateTime) {
      indicatorEvidence(innovationId: $id, key: supervision_reinforcement, first: $first, after: $after,
                        asOf: $asOf) {
        indicator windowStart windowEnd redacted
        touchpoints { edges { cursor node { touchpointId kind inNumerator inDenominator facts } }
                      pageInfo { hasNextPage endCursor } }
      }
    }"""
    variables = {"id": str(world.innovation_ids[0]), "first": 3, "asOf": AS_OF.isoformat()}
    url = f"/v1/innovations/{world.innovation_ids[0]}/indicators/supervision_reinforcement/evidence"

    manager_view = await graphql_data(client, query, world.manager, variables)
    rest = (
        await client.get(url, params={"limit": 3, "as_of": AS_OF.isoformat()}, headers=world.manager)
    ).json()
    inspector_view = await graphql_data(client, query, inspector, variables)
    with_text = await graphql(
        client,
        "query ($id: UUID!) { indicatorEvidence(innovationId: $id, key: supervision_reinforcement) "
        "{ touchpoints { edges { node { text subjectStaffId } } } } }",
        inspector,
        {"id": str(world.innovation_ids[0])},
    )

    evidence = manager_view["indicatorEvidence"]
    nodes = [e["node"] for e in evidence["touchpoints"]["edges"]]
    assert [n["touchpointId"] for n in nodes] == [i["touchpoint_id"] for i in rest["items"]]
    assert [n["facts"] for n in nodes] == [i["facts"] for i in rest["items"]]
    assert evidence["touchpoints"]["pageInfo"]["endCursor"] == rest["next_cursor"]
    assert evidence["redacted"] is False
    assert inspector_view["indicatorEvidence"]["redacted"] is True
    assert set(error_codes(with_text)) == {"FORBIDDEN"}


async def test_thresholds_are_read_and_tuned_through_the_rest_rules(
    client: httpx.AsyncClient, session: AsyncSession, tokens: TokenFactory
) -> None:
    world = await build_status_world(session, client, tokens, days=10)
    innovation_id = str(world.innovation_ids[0])
    update = """mutation ($id: UUID, $overrides: ThresholdOverridesInput!) {
      updateThresholds(innovationId: $id, overrides: $overrides) {
        __typename
        ... on ThresholdsSaved { thresholds { innovationId overrides sources
          effective { supervisionReinforcement { green amber minEvidence } } } }
        ... on Problem { type title status detail errors { field rule message } }
      }
    }"""

    saved = await graphql_data(
        client,
        update,
        world.manager,
        {"id": innovation_id, "overrides": {"supervisionReinforcement": {"green": 0.9}}},
    )
    wrong = await graphql_data(
        client,
        update,
        world.manager,
        {"id": innovation_id, "overrides": {"supervisionReinforcement": {"amber": 0.95}}},
    )
    rest_wrong = await client.put(
        f"/v1/innovations/{innovation_id}/thresholds",
        json={"supervision_reinforcement": {"amber": 0.95}},
        headers=world.manager,
    )
    read = await graphql_data(
        client,
        "query ($id: UUID) { thresholds(innovationId: $id) { overrides sources } }",
        world.manager,
        {"id": innovation_id},
    )
    rest_read = (
        await client.get(f"/v1/innovations/{innovation_id}/thresholds", headers=world.manager)
    ).json()
    manager = tokens.headers("registered_manager", world.org.id)
    not_allowed = await graphql(client, update, manager, {"id": None, "overrides": {}})

    result = saved["updateThresholds"]
    assert result["__typename"] == "ThresholdsSaved"
    assert result["thresholds"]["effective"]["supervisionReinforcement"] == {
        "green": 0.9,
        "amber": 0.5,
        "minEvidence": 3,
    }
    assert result["thresholds"]["sources"]["supervision_reinforcement"] == "innovation"
    assert wrong["updateThresholds"]["__typename"] == "ValidationProblem"
    assert rest_wrong.status_code == 422
    assert wrong["updateThresholds"]["errors"] == rest_wrong.json()["errors"]
    assert wrong["updateThresholds"]["detail"] == rest_wrong.json()["detail"]
    assert read["thresholds"] == {"overrides": rest_read["overrides"], "sources": rest_read["sources"]}
    assert error_codes(not_allowed) == ["FORBIDDEN"]
