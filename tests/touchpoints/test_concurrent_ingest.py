"""Concurrent writers through a real uvicorn socket: every batch is recorded, the rollups stay exact.

Eight clients post batches that mix all fourteen kinds and visit the same services and months in
shuffled orders, and correct some of what they recorded into another service and month: audits and
incidents recount their months, reviews recount the months of incidents in other services, links add
to every innovation's months. Before writers took their services'
rollup locks in one order, such batches deadlocked in the rollup triggers (116 of 200 answered 500).
"""

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.common import Provider, bearer, running_server, seed_provider
from service.database import asyncpg_connect_kwargs
from service.touchpoints.repository.writes import COPY_FROM_ROWS
from service.vocabulary import TouchpointKind
from tests.status.compare import rollups_equal_a_rebuild
from tests.touchpoints.world import FACTS

CLIENTS = 8
BATCHES_PER_CLIENT = 5
BATCH_SIZE = 24
NOTES_BATCH_SIZE = COPY_FROM_ROWS + 10
SOURCE = "concurrency-care"
# Three months back from now, a few days into each, so every batch touches every month.
DAYS_AGO = (3, 34, 65)


def _touchpoint(
    provider: Provider, kind: str, rng: random.Random, incidents: list[str], external_id: str
) -> dict[str, Any]:
    now = datetime.now(UTC)
    occurred = now - timedelta(days=rng.choice(DAYS_AGO), hours=rng.randint(1, 40))
    staff = rng.sample(provider.staff_ids, 2)
    facts = dict(FACTS[kind])
    if kind == "post_incident_review":
        facts["incident_id"] = rng.choice(incidents)
    if kind == "audit":
        facts["score_percent"] = rng.choice([62.5, 78.0, 85.25, 91.0])
    item: dict[str, Any] = {
        "kind": kind,
        "service_id": str(rng.choice(provider.service_ids)),
        "occurred_at": occurred.isoformat(),
        "recorded_by_id": str(staff[0]),
        # A survey is about one innovation.
        "innovation_ids": [
            str(i)
            for i in rng.sample(provider.innovation_ids, 1 if kind == "staff_survey" else rng.randint(1, 3))
        ],
        "source_system": SOURCE,
        "external_id": external_id,
        "facts": facts,
    }
    if kind in ("daily_note", "care_plan_review"):
        item["person_ref_id"] = str(rng.choice(provider.person_ids))
    if kind in ("supervision", "competency_check", "induction", "shadowing"):
        item["subject_staff_id"] = str(staff[1])
    return item


def _notes(provider: Provider, rng: random.Random, prefix: str) -> list[dict[str, Any]]:
    """A batch large enough to be copied, of kinds counted only through their links: its rows are
    written before its services' locks are taken."""
    return [_touchpoint(provider, "daily_note", rng, [], f"{prefix}-{n}") for n in range(NOTES_BATCH_SIZE)]


def _batch(provider: Provider, rng: random.Random, incidents: list[str], prefix: str) -> list[dict[str, Any]]:
    kinds = [k.value for k in TouchpointKind]
    kinds += rng.choices(
        ["audit", "incident", "post_incident_review", "daily_note"], k=BATCH_SIZE - len(kinds)
    )
    rng.shuffle(kinds)
    return [_touchpoint(provider, kind, rng, incidents, f"{prefix}-{n}") for n, kind in enumerate(kinds)]


async def test_concurrent_batches_of_every_kind_are_all_recorded_and_rollups_stay_exact(
    database_url: str,
) -> None:
    provider = await seed_provider(database_url, services=3, staff=12, people=10, innovations=3)
    headers = bearer(provider.organisation_id, sub="concurrency-client")
    rng = random.Random(20261130)
    async with running_server(database_url) as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as setup:
            # Incidents in every service and month, for reviews to follow across services.
            first = [
                _touchpoint(provider, "incident", rng, [], f"incident-{n}")
                for n in range(3 * len(provider.service_ids))
            ]
            answer = await setup.post("/v1/touchpoints/batch", json={"items": first})
            assert answer.status_code == 200, answer.text
            incidents = [r["id"] for r in answer.json()["results"]]
            assert all(r["status"] == "created" for r in answer.json()["results"])

        batches = [
            [_batch(provider, rng, incidents, f"c{c}-b{b}") for b in range(BATCHES_PER_CLIENT)]
            + [_notes(provider, rng, f"c{c}-notes")]
            for c in range(CLIENTS)
        ]

        corrections: list[int] = []

        async def client(own: list[list[dict[str, Any]]]) -> list[tuple[int, list[str]]]:
            answers = []
            # One keep-alive connection per client, as a care record system would hold.
            async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as http:
                for items in own:
                    response = await http.post("/v1/touchpoints/batch", json={"items": items})
                    results = response.json()["results"] if response.status_code == 200 else []
                    answers.append((response.status_code, [r["status"] for r in results]))
                    # Corrections move records to another service and month while others write.
                    for result, item in list(zip(results, items, strict=True))[:: BATCH_SIZE // 3]:
                        moved = {**item, "service_id": str(rng.choice(provider.service_ids))}
                        moved["occurred_at"] = _touchpoint(provider, "daily_note", rng, [], "")["occurred_at"]
                        corrected = await http.put(f"/v1/touchpoints/{result['id']}", json=moved)
                        corrections.append(corrected.status_code)
            return answers

        answers = [a for own in await asyncio.gather(*(client(b) for b in batches)) for a in own]

    assert len(answers) == CLIENTS * (BATCHES_PER_CLIENT + 1)
    assert [status for status, _ in answers if status != 200] == []
    assert all(set(statuses) == {"created"} for _, statuses in answers)
    corrected = sum(len(items[:: BATCH_SIZE // 3]) for own in batches for items in own)
    assert corrections == [200] * corrected
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    try:
        stored = await conn.fetchval(
            "SELECT count(*) FROM touchpoint WHERE organisation_id = $1 AND source_system = $2",
            provider.organisation_id,
            SOURCE,
        )
        assert stored == len(first) + CLIENTS * (BATCHES_PER_CLIENT * BATCH_SIZE + NOTES_BATCH_SIZE)
        assert await rollups_equal_a_rebuild(conn, provider.organisation_id)
    finally:
        await conn.close()


def test_the_batch_builder_mixes_every_kind() -> None:
    ids = [uuid.uuid4() for _ in range(3)]
    provider = Provider(uuid.uuid4(), ids, ids, ids, ids)
    items = _batch(provider, random.Random(1), [str(uuid.uuid4())], "x")
    assert len(items) == BATCH_SIZE
    assert {i["kind"] for i in items} == {k.value for k in TouchpointKind}
