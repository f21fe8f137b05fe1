"""Corrections replace the record and keep what it said before, with who changed it and when."""

from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.tokens import TokenFactory
from tests.touchpoints.world import World, build_world, count_links, count_touchpoints, keyed, payload


async def test_a_correction_keeps_the_revision(
    client: httpx.AsyncClient,
    world: World,
    manager: dict[str, str],
    tokens: TokenFactory,
    session: AsyncSession,
) -> None:
    original = keyed(world, "obs-1", text="Calm and engaged")
    created = (await client.post("/v1/touchpoints", json=original, headers=manager)).json()
    quality_lead = tokens.headers("quality_lead", world.org.id, sub="lead-sub")
    corrected_body = {
        **original,
        "facts": {"activity": "Garden walk", "engagement_quality": 2},
        "innovation_ids": [str(world.second_innovation.id)],
    }
    response = await client.put(f"/v1/touchpoints/{created['id']}", json=corrected_body, headers=quality_lead)
    assert response.status_code == 200, response.text
    corrected = response.json()
    assert corrected["id"] == created["id"]
    assert corrected["revision"] == 2
    assert corrected["facts"]["engagement_quality"] == 2
    assert corrected["innovation_ids"] == [str(world.second_innovation.id)]
    assert corrected["recorded_by_sub"] == "lead-sub"
    assert datetime.fromisoformat(corrected["recorded_at"]) > datetime.fromisoformat(created["recorded_at"])

    detail = (await client.get(f"/v1/touchpoints/{created['id']}", headers=manager)).json()
    (revision,) = detail["revisions"]
    assert revision["revision"] == 1
    assert revision["recorded_by_sub"] == "manager-sub"
    assert revision["replaced_by_sub"] == "lead-sub"
    assert datetime.fromisoformat(revision["recorded_at"]) == datetime.fromisoformat(created["recorded_at"])
    content = revision["content"]
    assert content["facts"] == original["facts"]
    assert content["innovation_ids"] == original["innovation_ids"]
    assert content["text"] == "Calm and engaged"
    assert content["system"] == "care_records"
    assert content["shift"] == created["shift"]
    assert datetime.fromisoformat(content["occurred_at"]) == datetime.fromisoformat(created["occurred_at"])
    assert await count_touchpoints(session, world.org) == 1
    assert await count_links(session, world.org) == 1

    # After the correction, the corrected content is what a re-post must match.
    repost_old = await client.post("/v1/touchpoints", json=original, headers=manager)
    repost_new = await client.post("/v1/touchpoints", json=corrected_body, headers=manager)
    assert repost_old.status_code == 409
    assert repost_new.status_code == 200


async def test_an_unchanged_correction_writes_no_revision(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    body = keyed(world, "obs-2")
    created = (await client.post("/v1/touchpoints", json=body, headers=manager)).json()
    again = await client.put(f"/v1/touchpoints/{created['id']}", json=body, headers=manager)
    assert again.status_code == 200
    assert again.json()["revision"] == 1
    detail = (await client.get(f"/v1/touchpoints/{created['id']}", headers=manager)).json()
    assert detail["revisions"] == []


async def test_the_source_key_cannot_change_in_a_correction(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    created = (await client.post("/v1/touchpoints", json=keyed(world, "obs-3"), headers=manager)).json()
    response = await client.put(
        f"/v1/touchpoints/{created['id']}", json=keyed(world, "obs-4"), headers=manager
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "immutable"


async def test_correcting_by_source_creates_then_replaces(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    body = payload(world, "practice_observation")
    first = await client.put("/v1/touchpoints/by-source/acme-care/obs-9", json=body, headers=manager)
    assert first.status_code == 201, first.text
    assert first.json()["external_id"] == "obs-9"
    assert first.headers["location"] == f"/v1/touchpoints/{first.json()['id']}"
    body["facts"] = {"score": 2, "explains_why": False}
    second = await client.put("/v1/touchpoints/by-source/acme-care/obs-9", json=body, headers=manager)
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["revision"] == 2
    mismatched = await client.put(
        "/v1/touchpoints/by-source/acme-care/obs-9", json={**body, "external_id": "obs-10"}, headers=manager
    )
    assert mismatched.status_code == 422
    assert mismatched.json()["errors"][0]["rule"] == "path_mismatch"
    assert await count_touchpoints(session, world.org) == 1


async def test_a_correction_is_validated_like_a_new_record(
    client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    created = (await client.post("/v1/touchpoints", json=payload(world), headers=manager)).json()
    bad = payload(world, innovation_ids=[str(world.elsewhere_innovation.id)])
    response = await client.put(f"/v1/touchpoints/{created['id']}", json=bad, headers=manager)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "innovation_ids[0]"


async def test_another_providers_touchpoint_cannot_be_corrected(
    client: httpx.AsyncClient,
    world: World,
    manager: dict[str, str],
    tokens: TokenFactory,
    session: AsyncSession,
) -> None:
    created = (await client.post("/v1/touchpoints", json=payload(world), headers=manager)).json()
    other = await build_world(session)
    outsider = tokens.headers("registered_manager", other.org.id)
    response = await client.put(f"/v1/touchpoints/{created['id']}", json=payload(other), headers=outsider)
    assert response.status_code == 404
    read = await client.get(f"/v1/touchpoints/{created['id']}", headers=outsider)
    assert read.status_code == 404


async def test_a_care_worker_corrects_only_their_own(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], tokens: TokenFactory
) -> None:
    worker = tokens.headers("care_worker", world.org.id, sub="worker-sub")
    managers_note = (await client.post("/v1/touchpoints", json=payload(world), headers=manager)).json()
    own_note = (
        await client.post(
            "/v1/touchpoints", json=payload(world, recorded_by_id=str(world.worker.id)), headers=worker
        )
    ).json()
    change = payload(world, recorded_by_id=str(world.worker.id), text="Added detail")
    refused = await client.put(f"/v1/touchpoints/{managers_note['id']}", json=change, headers=worker)
    accepted = await client.put(f"/v1/touchpoints/{own_note['id']}", json=change, headers=worker)
    assert refused.status_code == 404
    assert accepted.status_code == 200
    assert accepted.json()["text"] == "Added detail"
