"""Upserts by the sending system's id hold when several arrive at once.

Requests really run side by side: they are sent together through the ASGI client, each request
on its own database connection from the app's pool.
"""

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.touchpoints.world import World, payload

SOURCE = "acme-care"
SENDERS = 8
ROUNDS = 3


def _path(external_id: str) -> str:
    return f"/v1/touchpoints/by-source/{SOURCE}/{external_id}"


async def _stored(session: AsyncSession, world: World, external_id: str) -> tuple[list[Any], list[Any]]:
    """The touchpoints stored under the key, and the revisions of the one there is."""
    touchpoints = (
        await session.execute(
            text(
                "SELECT id, revision, text, facts FROM touchpoint "
                "WHERE organisation_id = :org AND source_system = :source AND external_id = :external_id"
            ),
            {"org": world.org.id, "source": SOURCE, "external_id": external_id},
        )
    ).all()
    revisions = (
        await session.execute(
            text(
                "SELECT revision, content FROM touchpoint_revision "
                "WHERE organisation_id = :org AND touchpoint_id = ANY(:ids) ORDER BY revision"
            ),
            {"org": world.org.id, "ids": [t.id for t in touchpoints]},
        )
    ).all()
    return list(touchpoints), list(revisions)


async def test_identical_upserts_at_once_store_one_touchpoint(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    for round_ in range(ROUNDS):
        external_id = f"same-{round_}-{uuid.uuid4().hex[:6]}"
        body = payload(world, text="Sat in the garden")
        answers = await asyncio.gather(
            *(client.put(_path(external_id), json=body, headers=manager) for _ in range(SENDERS))
        )

        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] * (SENDERS - 1) + [201], [a.text for a in answers]
        assert len({a.json()["id"] for a in answers}) == 1
        assert {a.json()["revision"] for a in answers} == {1}
        touchpoints, revisions = await _stored(session, world, external_id)
        assert len(touchpoints) == 1
        assert touchpoints[0].revision == 1
        assert revisions == []


async def test_different_upserts_at_once_are_applied_in_turn_as_revisions(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    for round_ in range(ROUNDS):
        external_id = f"differ-{round_}-{uuid.uuid4().hex[:6]}"
        bodies = [payload(world, text=f"version {i}") for i in range(SENDERS)]
        answers = await asyncio.gather(
            *(client.put(_path(external_id), json=body, headers=manager) for body in bodies)
        )

        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] * (SENDERS - 1) + [201], [a.text for a in answers]
        assert len({a.json()["id"] for a in answers}) == 1
        # Each was applied once, in some order: revisions 1..N, each answer the state it left.
        by_revision = {a.json()["revision"]: a.json()["text"] for a in answers}
        assert sorted(by_revision) == list(range(1, SENDERS + 1))
        assert sorted(by_revision.values()) == sorted(b["text"] for b in bodies)
        (touchpoint,), revisions = await _stored(session, world, external_id)
        assert touchpoint.revision == SENDERS
        assert touchpoint.text == by_revision[SENDERS]
        assert [r.revision for r in revisions] == list(range(1, SENDERS))
        assert [r.content["text"] for r in revisions] == [by_revision[n] for n in range(1, SENDERS)]


async def test_an_upsert_racing_a_post_of_the_same_key_never_answers_conflict(
    client: httpx.AsyncClient, world: World, manager: dict[str, str], session: AsyncSession
) -> None:
    """A POST does not take the upsert's lock; an upsert that loses to it corrects what it stored."""
    for round_ in range(ROUNDS):
        external_id = f"post-{round_}-{uuid.uuid4().hex[:6]}"
        posted = payload(world, text="posted", source_system=SOURCE, external_id=external_id)
        put = payload(world, text="upserted")
        post_answer, put_answer = await asyncio.gather(
            client.post("/v1/touchpoints", json=posted, headers=manager),
            client.put(_path(external_id), json=put, headers=manager),
        )

        assert put_answer.status_code in (200, 201), put_answer.text
        assert post_answer.status_code in (201, 409), post_answer.text
        (touchpoint,), _ = await _stored(session, world, external_id)
        assert touchpoint.text == "upserted"
        assert touchpoint.revision == (2 if post_answer.status_code == 201 else 1)
