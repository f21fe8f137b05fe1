import asyncio

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.innovations.models import DEFAULT_EMBEDDING_PLAN, Innovation, InnovationService
from service.innovations.schemas import EmbeddingPlan, EmbeddingPlanInput
from service.settings import Settings
from service.vocabulary import DeliverySystem, Role
from tests import factories
from tests.reference.support import access_log_count, error_rules, integration_headers
from tests.tokens import TokenFactory


def _innovation(*service_ids: object, **fields: object) -> dict[str, object]:
    return {
        "name": "Proactive engagement",
        "summary": "Plan meaningful activity with each person every day.",
        "why": "Boredom and frustration drive distressed behaviour; engagement prevents incidents.",
        "started_on": "2025-01-01",
        "service_ids": [str(s) for s in service_ids],
        **fields,
    }


def test_the_plan_names_every_delivery_system() -> None:
    systems = {s.value for s in DeliverySystem}
    assert set(EmbeddingPlan.model_fields) == systems
    assert set(EmbeddingPlanInput.model_fields) == systems
    assert set(DEFAULT_EMBEDDING_PLAN) == systems


async def test_create_read_update_retire(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    elm = await factories.care_service(session, org)
    lead = tokens.headers(Role.quality_lead, org.id)

    created = await client.post("/v1/innovations", json=_innovation(oak.id), headers=lead)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["phase"] == "pilot"
    assert body["embedding_plan"] == DEFAULT_EMBEDDING_PLAN
    assert body["service_ids"] == [str(oak.id)]
    assert created.headers["location"] == f"/v1/innovations/{body['id']}"

    scaled = await client.patch(
        f"/v1/innovations/{body['id']}",
        json={
            "phase": "scaling",
            "service_ids": [str(oak.id), str(elm.id)],
            "embedding_plan": {"supervision": 6},
        },
        headers=lead,
    )
    assert scaled.status_code == 200, scaled.text
    assert scaled.json()["phase"] == "scaling"
    assert sorted(scaled.json()["service_ids"]) == sorted([str(oak.id), str(elm.id)])
    assert scaled.json()["embedding_plan"] == {**DEFAULT_EMBEDDING_PLAN, "supervision": 6}
    assert scaled.json()["why"] == body["why"]

    retired = await client.patch(f"/v1/innovations/{body['id']}", json={"phase": "retired"}, headers=lead)
    assert retired.json()["phase"] == "retired"
    assert (await client.get(f"/v1/innovations/{body['id']}", headers=lead)).json() == retired.json()
    assert (await client.delete(f"/v1/innovations/{body['id']}", headers=lead)).status_code == 405
    assert await access_log_count(session, "innovation.create") == 1
    assert await access_log_count(session, "innovation.update") == 2

    partial = await client.post(
        "/v1/innovations",
        json=_innovation(
            oak.id, embedding_plan={"care_records": 40, "staff_voice": 1}, phase="business_as_usual"
        ),
        headers=lead,
    )
    assert partial.json()["embedding_plan"] == {
        **DEFAULT_EMBEDDING_PLAN,
        "care_records": 40,
        "staff_voice": 1,
    }


async def test_list_filters(client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession) -> None:
    org = await factories.organisation(session)
    other = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    elm = await factories.care_service(session, org)
    theirs = await factories.care_service(session, other)
    at_oak = await factories.innovation(session, org, [oak], name="A")
    at_both = await factories.innovation(session, org, [oak, elm], name="B", phase="scaling")
    await factories.innovation(session, other, [theirs], name="Theirs")
    headers = tokens.headers(Role.care_worker, org.id)

    async def names(**params: str) -> list[str]:
        response = await client.get("/v1/innovations", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [i["name"] for i in response.json()["items"]]

    assert await names() == ["A", "B"]
    assert await names(service_id=str(elm.id)) == ["B"]
    assert await names(phase="scaling") == ["B"]
    assert await names(phase="retired") == []
    response = await client.get("/v1/innovations", params={"service_id": str(theirs.id)}, headers=headers)
    assert response.status_code == 422
    assert error_rules(response.json()) == {("service_id", "reference_not_found")}
    response = await client.get("/v1/innovations", params={"phase": "finished"}, headers=headers)
    assert error_rules(response.json()) == {("phase", "enum")}
    assert at_oak.id != at_both.id


async def test_validation_names_field_and_rule(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    other = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    theirs = await factories.care_service(session, other)
    lead = tokens.headers(Role.quality_lead, org.id)
    cases = [
        ({k: v for k, v in _innovation(oak.id).items() if k != "why"}, ("why", "missing")),
        (_innovation(oak.id, why="   "), ("why", "string_too_short")),
        (_innovation(), ("service_ids", "too_short")),
        (_innovation(oak.id, theirs.id), ("service_ids[1]", "reference_not_found")),
        (_innovation(oak.id, phase="finished"), ("phase", "enum")),
        (_innovation(oak.id, embedding_plan={"gossip": 3}), ("embedding_plan.gossip", "extra_forbidden")),
        (
            _innovation(oak.id, embedding_plan={"supervision": -1}),
            ("embedding_plan.supervision", "greater_than_equal"),
        ),
        (
            _innovation(oak.id, embedding_plan={"supervision": None}),
            ("embedding_plan.supervision", "null_not_allowed"),
        ),
        (_innovation(oak.id, started_on="2025-02-30"), ("started_on", "date_from_datetime_parsing")),
    ]
    for payload, expected in cases:
        response = await client.post("/v1/innovations", json=payload, headers=lead)
        assert response.status_code == 422, (payload, response.text)
        assert expected in error_rules(response.json()), (payload, response.json())

    innovation = await factories.innovation(session, org, [oak])
    patches: list[tuple[dict[str, object], tuple[str, str]]] = [
        ({"phase": None}, ("phase", "null_not_allowed")),
        ({"service_ids": []}, ("service_ids", "too_short")),
        ({"service_ids": [str(theirs.id)]}, ("service_ids[0]", "reference_not_found")),
    ]
    for patch, expected in patches:
        response = await client.patch(f"/v1/innovations/{innovation.id}", json=patch, headers=lead)
        assert response.status_code == 422, patch
        assert error_rules(response.json()) == {expected}


async def test_who_may_manage(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession, settings: Settings
) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    innovation = await factories.innovation(session, org, [oak])
    for role in (Role.care_worker, Role.registered_manager):
        headers = tokens.headers(role, org.id)
        assert (await client.get(f"/v1/innovations/{innovation.id}", headers=headers)).status_code == 200
        assert (
            await client.post("/v1/innovations", json=_innovation(oak.id), headers=headers)
        ).status_code == 403
        response = await client.patch(
            f"/v1/innovations/{innovation.id}", json={"phase": "retired"}, headers=headers
        )
        assert response.status_code == 403
        response = await client.put("/v1/innovations/by-ref/x/1", json=_innovation(oak.id), headers=headers)
        assert response.status_code == 403
    admin = tokens.headers(Role.provider_admin, org.id)
    assert (await client.post("/v1/innovations", json=_innovation(oak.id), headers=admin)).status_code == 201
    acme = integration_headers(settings, org.id)
    assert (await client.post("/v1/innovations", json=_innovation(oak.id), headers=acme)).status_code == 403
    response = await client.put(
        "/v1/innovations/by-ref/acme-care/INN-1", json=_innovation(oak.id), headers=acme
    )
    assert response.status_code == 201
    commissioner = tokens.headers(Role.commissioner, org.id)
    assert (await client.get("/v1/innovations", headers=commissioner)).status_code == 403


async def test_other_tenants_and_limited_callers(
    client: httpx.AsyncClient, tokens: TokenFactory, session: AsyncSession
) -> None:
    org = await factories.organisation(session)
    other = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    elm = await factories.care_service(session, org)
    theirs = await factories.innovation(session, other, [await factories.care_service(session, other)])
    both = await factories.innovation(session, org, [oak, elm], name="Both")
    elm_only = await factories.innovation(session, org, [elm], name="Elm only")
    lead = tokens.headers(Role.quality_lead, org.id)

    assert (await client.get(f"/v1/innovations/{theirs.id}", headers=lead)).status_code == 404
    response = await client.patch(f"/v1/innovations/{theirs.id}", json={"phase": "retired"}, headers=lead)
    assert response.status_code == 404
    await session.refresh(theirs)
    assert theirs.phase == "pilot"

    limited = tokens.headers(Role.quality_lead, org.id, services=[oak.id])
    listed = (await client.get("/v1/innovations", headers=limited)).json()["items"]
    assert [(i["name"], i["service_ids"]) for i in listed] == [("Both", [str(oak.id)])]
    assert (await client.get(f"/v1/innovations/{elm_only.id}", headers=limited)).status_code == 404
    # Narrowing to the services it can see leaves the other services in scope untouched.
    response = await client.patch(
        f"/v1/innovations/{both.id}",
        json={"service_ids": [str(oak.id)], "name": "Both, renamed"},
        headers=limited,
    )
    assert response.status_code == 200, response.text
    links = await session.scalars(
        select(col(InnovationService.service_id)).where(col(InnovationService.innovation_id) == both.id)
    )
    assert set(links.all()) == {oak.id, elm.id}
    response = await client.post("/v1/innovations", json=_innovation(oak.id, elm.id), headers=limited)
    assert response.status_code == 403
    assert error_rules(response.json()) == {("service_ids[1]", "service_out_of_scope")}


async def test_sync_by_ref_idempotent_and_race_safe(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    org = await factories.organisation(session)
    oak = await factories.care_service(session, org)
    acme = integration_headers(settings, org.id)
    body = _innovation(oak.id, embedding_plan={"care_records": 30})
    first = await client.put("/v1/innovations/by-ref/acme-care/INN-7", json=body, headers=acme)
    assert first.status_code == 201, first.text
    again = await client.put("/v1/innovations/by-ref/acme-care/INN-7", json=body, headers=acme)
    assert again.status_code == 200 and again.json() == first.json()
    assert await access_log_count(session, "innovation.update") == 0
    # The sync body is the whole innovation: a plan left out returns to the defaults.
    reset = await client.put(
        "/v1/innovations/by-ref/acme-care/INN-7", json={**body, "embedding_plan": None}, headers=acme
    )
    assert reset.json()["embedding_plan"] == DEFAULT_EMBEDDING_PLAN

    responses = await asyncio.gather(
        *(client.put("/v1/innovations/by-ref/acme-care/INN-8", json=body, headers=acme) for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    count = await session.execute(
        select(func.count()).select_from(Innovation).where(col(Innovation.organisation_id) == org.id)
    )
    assert count.scalar_one() == 2
