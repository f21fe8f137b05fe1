"""Touchpoints through GraphQL: the REST ingestion's outcomes, messages and idempotency; REST's reads."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.graphql.helpers import error_codes, graphql, graphql_data
from tests.graphql.touchpoint_inputs import as_input
from tests.tokens import TokenFactory
from tests.touchpoints.world import FACTS, World, build_world, count_touchpoints, keyed, payload

PROBLEM = "type title status detail errors { field rule message }"
TOUCHPOINT = """id kind system serviceId occurredAt shift weekend recordedById subjectStaffId personRefId
  innovationIds sourceSystem externalId text revision recordedBySub
  ... on DailyNote { facts { activity engagementQuality } }
  ... on CarePlanReview { facts { changesMade } }
  ... on ShiftHandover { facts { attendees } }
  ... on TeamMeeting { facts { attendees } }
  ... on Supervision { facts { explainsWhy } }
  ... on CompetencyCheck { facts { passed explainsWhy } }
  ... on PracticeObservation { facts { score explainsWhy } }
  ... on Audit { facts { tool scorePercent } }
  ... on QualityReview { facts { scorePercent actions } }
  ... on Induction { facts { buddyId } }
  ... on Shadowing { facts { buddyId } }
  ... on Incident { facts { severity restrictiveIntervention } }
  ... on PostIncidentReview { facts { incidentId learningCaptured followUpObservationPlanned } }
  ... on StaffSurvey { facts { general { familiar normalNow normalFuture } items {
    c1 c2 c3 c4 cp1 cp2 cp3 cp4 ca1 ca2 ca3 ca4 ca5 ca6 ca7 rm1 rm2 rm3 rm4 rm5 } } }"""

RECORD = f"""mutation ($touchpoint: TouchpointInput!, $key: String) {{
  recordTouchpoint(touchpoint: $touchpoint, idempotencyKey: $key) {{
    __typename
    ... on TouchpointRecorded {{ replayed touchpoint {{ {TOUCHPOINT} }} }}
    ... on DuplicateTouchpoint {{ replayed touchpoint {{ id }} }}
    ... on Problem {{ {PROBLEM} }}
    ... on Conflict {{ existingId correctWith {{ method href }} }}
  }}
}}"""

BATCH = f"""mutation ($touchpoints: [TouchpointInput!]!, $key: String) {{
  recordTouchpointBatch(touchpoints: $touchpoints, idempotencyKey: $key) {{
    __typename
    ... on TouchpointBatchRecorded {{
      replayed
      results {{ index status id problem {{ __typename {PROBLEM} }} }}
    }}
    ... on Problem {{ {PROBLEM} }}
  }}
}}"""

NOMAD_VALUES = {"strongly_disagree": 1, "disagree": 2, "neither": 3, "agree": 4, "strongly_agree": 5}


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await build_world(session)


@pytest.fixture
def manager(tokens: TokenFactory, world: World) -> dict[str, str]:
    return tokens.headers("registered_manager", world.org.id, sub="manager-sub")


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def graph_as_rest(node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL touchpoint in REST's names and values."""
    out = {snake(k): v for k, v in node.items() if k != "facts"}
    facts = {snake(k): v for k, v in node["facts"].items()}
    if node["kind"] == "staff_survey":
        facts["general"] = {snake(k): v for k, v in facts["general"].items()}
        facts["items"] = {k: NOMAD_VALUES.get(v, v) for k, v in facts["items"].items()}
    out["facts"] = facts
    return out


def comparable(rest: dict[str, Any]) -> dict[str, Any]:
    """A REST touchpoint without what GraphQL leaves to other fields (recorded_at, revisions)."""
    from datetime import datetime

    out = {k: v for k, v in rest.items() if k not in ("recorded_at", "revisions")}
    out["occurred_at"] = datetime.fromisoformat(out["occurred_at"])
    return out


def same_touchpoint(rest: dict[str, Any], node: dict[str, Any]) -> None:
    from datetime import datetime

    graph = graph_as_rest(node)
    graph["occurred_at"] = datetime.fromisoformat(graph["occurred_at"])
    assert graph == comparable(rest)


def problem_of(rest: dict[str, Any]) -> dict[str, Any]:
    return {k: rest[k] for k in ("type", "title", "status", "detail")} | {"errors": rest.get("errors") or []}


async def test_every_kind_recorded_through_graphql_reads_back_the_same_through_rest(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    incident = await graphql_data(
        client, RECORD, manager, {"touchpoint": as_input(payload(world, "incident"))}
    )
    incident_id = incident["recordTouchpoint"]["touchpoint"]["id"]

    for kind in FACTS:
        body = payload(world, kind, text=f"About the {kind}")
        if kind == "post_incident_review":
            body["facts"] = {**body["facts"], "incident_id": incident_id}
        if kind == "audit":
            body["facts"] = {**body["facts"], "score_percent": 86.5}
        data = await graphql_data(client, RECORD, manager, {"touchpoint": as_input(body)})

        result = data["recordTouchpoint"]
        assert result["__typename"] == "TouchpointRecorded", (kind, result)
        assert result["replayed"] is False
        node = result["touchpoint"]
        rest = (await client.get(f"/v1/touchpoints/{node['id']}", headers=manager)).json()
        same_touchpoint(rest, node)
        assert node["kind"] == kind


async def test_a_repeat_is_a_duplicate_and_changed_content_a_conflict_as_in_rest(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    item = keyed(world, "note-1")
    changed = {**item, "facts": {"activity": "Baking", "engagement_quality": 5}}

    first = await graphql_data(client, RECORD, manager, {"touchpoint": as_input(item)})
    again = await graphql_data(client, RECORD, manager, {"touchpoint": as_input(item)})
    conflict = await graphql_data(client, RECORD, manager, {"touchpoint": as_input(changed)})
    rest_again = await client.post("/v1/touchpoints", json=item, headers=manager)
    rest_conflict = await client.post("/v1/touchpoints", json=changed, headers=manager)

    stored_id = first["recordTouchpoint"]["touchpoint"]["id"]
    assert again["recordTouchpoint"] == {
        "__typename": "DuplicateTouchpoint",
        "replayed": False,
        "touchpoint": {"id": stored_id},
    }
    assert rest_again.status_code == 200 and rest_again.json()["id"] == stored_id
    result = conflict["recordTouchpoint"]
    assert result["__typename"] == "Conflict"
    assert rest_conflict.status_code == 409
    assert {k: result[k] for k in ("type", "title", "status", "detail", "errors")} == problem_of(
        rest_conflict.json()
    )
    assert result["existingId"] == stored_id == rest_conflict.json()["existing_id"]
    assert result["correctWith"] == rest_conflict.json()["correct_with"]


async def test_invalid_items_come_back_typed_with_the_rest_rules_and_messages(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    # A staff id unknown to this organisation (another tenant's is answered the same way).
    unknown_staff = str(uuid.uuid4())
    cases = [
        payload(world, facts={"activity": "Walk", "engagement_quality": 7}),
        payload(world, "practice_observation", occurred_at="2999-01-01T00:00:00+00:00"),
        payload(world, innovation_ids=[str(world.elsewhere_innovation.id)]),
        payload(world, recorded_by_id=unknown_staff),
        payload(world, "daily_note", source_system="acme-care"),
    ]
    for item in cases:
        data = await graphql_data(client, RECORD, manager, {"touchpoint": as_input(item)})
        rest = await client.post("/v1/touchpoints", json=item, headers=manager)

        result = data["recordTouchpoint"]
        assert result["__typename"] == "ValidationProblem", result
        assert rest.status_code == 422
        assert {k: result[k] for k in ("type", "title", "status", "detail", "errors")} == problem_of(
            rest.json()
        )


async def test_a_service_outside_the_token_is_refused_typed_as_in_rest(
    client: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    limited = tokens.headers("care_worker", world.org.id, services=[world.other_service.id])
    item = payload(world)

    data = await graphql_data(client, RECORD, limited, {"touchpoint": as_input(item)})
    rest = await client.post("/v1/touchpoints", json=item, headers=limited)

    result = data["recordTouchpoint"]
    assert result["__typename"] == "NotAllowed"
    assert rest.status_code == 403
    assert {k: result[k] for k in ("type", "title", "status", "detail", "errors")} == problem_of(rest.json())


async def test_a_batch_answers_per_item_as_rest_does(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    def batch() -> list[dict[str, Any]]:
        return [
            payload(world),
            # Wrong types never reach REST's rules here: GraphQL refuses them as it reads variables.
            payload(world, "practice_observation", facts={"score": 9}),
            payload(world, "audit", facts={"tool": "x", "score_percent": 120.0}),
            payload(world, "team_meeting"),
        ]

    data = await graphql_data(client, BATCH, manager, {"touchpoints": [as_input(i) for i in batch()]})
    rest = (await client.post("/v1/touchpoints/batch", json={"items": batch()}, headers=manager)).json()

    recorded = data["recordTouchpointBatch"]
    assert recorded["__typename"] == "TouchpointBatchRecorded"
    graph_results = recorded["results"]
    assert [r["index"] for r in graph_results] == [0, 1, 2, 3]
    assert [r["status"] for r in graph_results] == [r["status"] for r in rest["results"]]
    assert [r["status"] for r in graph_results] == ["created", "rejected", "rejected", "created"]
    for graph, rest_result in zip(graph_results, rest["results"], strict=True):
        if rest_result["problem"] is None:
            assert graph["problem"] is None
            assert graph["id"] is not None
        else:
            assert graph["problem"]["__typename"] == "ValidationProblem"
            assert {k: v for k, v in graph["problem"].items() if k != "__typename"} == problem_of(
                rest_result["problem"]
            )
    assert await count_touchpoints(session, world.org) == 4


async def test_a_batch_too_large_is_refused_with_the_limit(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    from service.touchpoints.validation.limits import MAX_BATCH_ITEMS

    items = [as_input(payload(world))] * (MAX_BATCH_ITEMS + 1)

    data = await graphql_data(client, BATCH, manager, {"touchpoints": items})

    result = data["recordTouchpointBatch"]
    assert result["__typename"] == "LimitExceeded"
    assert result["status"] == 413
    assert str(MAX_BATCH_ITEMS) in result["detail"]


async def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_request(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    items = [as_input(payload(world)), as_input(payload(world, "supervision"))]
    variables = {"touchpoints": items, "key": "batch-0001"}

    first = await graphql_data(client, BATCH, manager, variables)
    second = await graphql_data(client, BATCH, manager, variables)
    other = await graphql_data(client, BATCH, manager, {"touchpoints": items[:1], "key": "batch-0001"})
    single = await graphql_data(client, RECORD, manager, {"touchpoint": items[0], "key": "one-0001"})
    single_again = await graphql_data(client, RECORD, manager, {"touchpoint": items[0], "key": "one-0001"})

    assert first["recordTouchpointBatch"]["replayed"] is False
    assert second["recordTouchpointBatch"]["replayed"] is True
    assert second["recordTouchpointBatch"]["results"] == first["recordTouchpointBatch"]["results"]
    refused = other["recordTouchpointBatch"]
    assert refused["__typename"] == "ValidationProblem"
    assert refused["errors"][0]["rule"] == "idempotency_key_reused"
    assert single_again["recordTouchpoint"]["replayed"] is True
    assert (
        single_again["recordTouchpoint"]["touchpoint"]["id"] == single["recordTouchpoint"]["touchpoint"]["id"]
    )
    assert await count_touchpoints(session, world.org) == 3


async def test_correction_keeps_the_earlier_version_as_a_revision(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    item = payload(world, "practice_observation", text="First look")
    recorded = await graphql_data(client, RECORD, manager, {"touchpoint": as_input(item)})
    touchpoint_id = recorded["recordTouchpoint"]["touchpoint"]["id"]
    corrected_item = {**item, "facts": {"score": 2, "explains_why": False}}
    correct = f"""mutation ($id: UUID!, $touchpoint: TouchpointInput!) {{
      correctTouchpoint(id: $id, touchpoint: $touchpoint) {{
        __typename
        ... on TouchpointCorrected {{
          changed touchpoint {{ revision ... on PracticeObservation {{ facts {{ score }} }} }}
        }}
        ... on Problem {{ {PROBLEM} }}
      }}
    }}"""

    changed = await graphql_data(
        client, correct, manager, {"id": touchpoint_id, "touchpoint": as_input(corrected_item)}
    )
    unchanged = await graphql_data(
        client, correct, manager, {"id": touchpoint_id, "touchpoint": as_input(corrected_item)}
    )
    read = await graphql_data(
        client,
        "query ($id: UUID!) { touchpoint(id: $id) { "
        "revision revisions { revision content replacedBySub } } }",
        manager,
        {"id": touchpoint_id},
    )
    listed = await graphql_data(
        client, "{ touchpoints { edges { node { id revisions { revision } } } } }", manager
    )
    rest = (await client.get(f"/v1/touchpoints/{touchpoint_id}", headers=manager)).json()

    assert changed["correctTouchpoint"] == {
        "__typename": "TouchpointCorrected",
        "changed": True,
        "touchpoint": {"revision": 2, "facts": {"score": 2}},
    }
    assert unchanged["correctTouchpoint"]["changed"] is False
    assert read["touchpoint"]["revision"] == 2
    assert [r["content"] for r in read["touchpoint"]["revisions"]] == [
        r["content"] for r in rest["revisions"]
    ]
    assert read["touchpoint"]["revisions"][0]["replacedBySub"] == "manager-sub"
    assert listed["touchpoints"]["edges"][0]["node"]["revisions"] == [{"revision": 1}]


async def test_lists_and_filters_match_rest_with_relations_loaded(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    items = [
        payload(world, occurred_at="2026-01-05T09:00:00+00:00"),
        payload(world, "supervision", occurred_at="2026-01-06T09:00:00+00:00"),
        payload(
            world,
            "team_meeting",
            occurred_at="2026-01-07T09:00:00+00:00",
            service_id=str(world.other_service.id),
            innovation_ids=[str(world.elsewhere_innovation.id)],
        ),
        payload(world, "audit", occurred_at="2026-01-08T09:00:00+00:00"),
    ]
    await client.post("/v1/touchpoints/batch", json={"items": items}, headers=manager)
    query = """query (
      $first: Int!, $after: String, $system: DeliverySystem, $serviceId: UUID, $staffId: UUID
    ) {
      touchpoints(first: $first, after: $after, system: $system, serviceId: $serviceId, staffId: $staffId) {
        edges { cursor node { id kind service { name } recordedBy { id role } subjectStaff { id }
                innovations { id name } } }
        pageInfo { hasNextPage endCursor }
      }
    }"""
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"limit": 2}, {"first": 2}),
        ({"system": "supervision"}, {"first": 50, "system": "supervision"}),
        (
            {"service_id": str(world.other_service.id)},
            {"first": 50, "serviceId": str(world.other_service.id)},
        ),
        ({"staff_id": str(world.worker.id)}, {"first": 50, "staffId": str(world.worker.id)}),
    ]

    for params, variables in cases:
        rest = (await client.get("/v1/touchpoints", params=params, headers=manager)).json()
        data = await graphql_data(client, query, manager, variables)
        nodes = [e["node"] for e in data["touchpoints"]["edges"]]
        assert [n["id"] for n in nodes] == [t["id"] for t in rest["items"]]
        assert [[i["id"] for i in n["innovations"]] for n in nodes] == [
            t["innovation_ids"] for t in rest["items"]
        ]
        if rest["next_cursor"]:
            assert data["touchpoints"]["pageInfo"]["endCursor"] == rest["next_cursor"]

    everything = await graphql_data(client, query, manager, {"first": 50})
    nodes = [e["node"] for e in everything["touchpoints"]["edges"]]
    assert [n["service"]["name"] for n in nodes] == ["Oak House", "Oak House", "Elm Court", "Oak House"]
    assert {n["recordedBy"]["role"] for n in nodes} == {"registered_manager"}
    assert nodes[1]["subjectStaff"] == {"id": str(world.worker.id)}


async def test_a_commissioner_and_an_inspector_are_refused_touchpoints_and_their_text(
    client: httpx.AsyncClient,
    world: World,
    manager: dict[str, str],
    tokens: TokenFactory,
    session: AsyncSession,
) -> None:
    from tests import factories

    await client.post("/v1/touchpoints", json=payload(world, text="Private words"), headers=manager)
    commissioner = await factories.organisation(session, kind="commissioner")
    regulator = await factories.organisation(session, kind="regulator")
    query = "{ touchpoints { edges { node { id text recordedBy { displayName } } } } }"

    for headers in (
        tokens.headers("commissioner", commissioner.id),
        tokens.headers("inspector", regulator.id),
    ):
        body = await graphql(client, query, headers)
        assert body["data"] is None
        assert error_codes(body) == ["FORBIDDEN"]
    manager_view = await graphql_data(client, "{ touchpoints { edges { node { text } } } }", manager)
    assert manager_view["touchpoints"]["edges"][0]["node"]["text"] == "Private words"


async def test_a_care_worker_reads_their_own_but_not_staff_names(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], tokens: TokenFactory
) -> None:
    worker = tokens.headers("care_worker", world.org.id, sub="worker-sub")
    await client.post("/v1/touchpoints", json=payload(world, "supervision"), headers=manager)
    await client.post("/v1/touchpoints", json=payload(world, "team_meeting"), headers=manager)

    own = await graphql_data(client, "{ touchpoints { edges { node { kind subjectStaffId } } } }", worker)
    named = await graphql(
        client, "{ touchpoints { edges { node { subjectStaff { displayName } } } } }", worker
    )
    rest = (await client.get("/v1/touchpoints", headers=worker)).json()

    assert [e["node"]["kind"] for e in own["touchpoints"]["edges"]] == [t["kind"] for t in rest["items"]]
    assert [e["node"]["kind"] for e in own["touchpoints"]["edges"]] == ["supervision"]
    assert error_codes(named) == ["FORBIDDEN"]
