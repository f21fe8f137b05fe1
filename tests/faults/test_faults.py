"""Faults lose nothing: 4 clients post batches with Idempotency-Keys through the real socket while the
service process is SIGKILLed and restarted, then Postgres is. Clients retry with the same key.

Afterwards every acknowledged touchpoint is stored, none twice, the errors clients saw during each
outage were the outage's own (refused or cut-off connections while the process was down, 503 while
the database was), and the rollups equal a recount from the raw rows. `pytest -s` prints the figures.
"""

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import httpx

from bench.common import Provider, bearer, ingrain_server, seed_provider
from bench.ingest import daily_note
from service.database import asyncpg_connect_kwargs, create_engine, create_session_factory
from tests.private_postgres import PrivatePostgres
from tests.status.compare import assert_same, both_paths, rollups_equal_a_rebuild

CLIENTS = 4
BATCHES_PER_CLIENT = 16
ITEMS_PER_BATCH = 8
WHOLE_TEST_SECONDS = 90
# What each phase may answer besides 200 (refused/cut off: the process is down; 503: the database is).
ALLOWED = {
    "steady": set(),
    "service down": {"refused", "cut off"},
    "database down": {"503"},
}


@dataclass
class Ledger:
    """What the clients were told: acknowledged touchpoint ids, and every other answer by phase."""

    phase: str = "steady"
    acknowledged: dict[str, list[str]] = field(default_factory=dict)
    replayed: int = 0
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    def acknowledge(self, key: str, ids: list[str]) -> None:
        self.acknowledged[key] = ids
        self.progress.set()

    async def until_acknowledged(self, batches: int) -> None:
        while len(self.acknowledged) < batches:
            self.progress.clear()
            await self.progress.wait()

    def error(self, kind: str, sent_in: str) -> None:
        # An answer belongs to the outage it was sent or answered in.
        phase = sent_in if kind in ALLOWED[sent_in] else self.phase
        self.errors[(phase, kind)] += 1


def batches_for(provider: Provider, client: int, now: datetime) -> list[bytes]:
    rng = random.Random(client)
    return [
        json.dumps(
            {
                "items": [
                    daily_note(provider, (client * 1000 + batch) * 100 + item, rng, now)
                    for item in range(ITEMS_PER_BATCH)
                ]
            }
        ).encode()
        for batch in range(BATCHES_PER_CLIENT)
    ]


async def post_until_acknowledged(
    base_url: str, client: int, headers: dict[str, str], bodies: list[bytes], ledger: Ledger
) -> None:
    """Each batch under its own key, sent again with that key until it is acknowledged (200)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        for number, body in enumerate(bodies):
            key = f"client-{client}-batch-{number}"
            while True:
                sent_in = ledger.phase
                try:
                    response = await http.post(
                        "/v1/touchpoints/batch",
                        content=body,
                        headers={**headers, "Idempotency-Key": key, "Content-Type": "application/json"},
                    )
                except httpx.ConnectError:
                    ledger.error("refused", sent_in)
                    await asyncio.sleep(0.1)
                    continue
                except httpx.TransportError:
                    ledger.error("cut off", sent_in)
                    await asyncio.sleep(0.1)
                    continue
                if response.status_code == 200:
                    results = response.json()["results"]
                    assert [r["status"] for r in results] == ["created"] * ITEMS_PER_BATCH, results
                    ledger.acknowledge(key, [r["id"] for r in results])
                    ledger.replayed += response.headers.get("idempotency-replayed") == "true"
                    break
                ledger.error(str(response.status_code), sent_in)
                await asyncio.sleep(float(response.headers.get("retry-after", "0.1")))
            await asyncio.sleep(0.03)


async def test_killing_the_service_then_postgres_loses_and_duplicates_nothing(
    private_server: PrivatePostgres, private_database_url: str
) -> None:
    provider = await seed_provider(private_database_url, services=2, staff=10, people=20, innovations=4)
    now = datetime.now(UTC)
    headers = bearer(provider.organisation_id)
    server = ingrain_server(private_database_url, env={"INGRAIN_DB_POOL_SIZE": "8"})
    ledger = Ledger()
    total = CLIENTS * BATCHES_PER_CLIENT
    timings: dict[str, float] = {}
    await server.start()
    try:
        async with asyncio.timeout(WHOLE_TEST_SECONDS):
            clients = asyncio.gather(
                *(
                    post_until_acknowledged(
                        server.base_url, n, headers, batches_for(provider, n, now), ledger
                    )
                    for n in range(CLIENTS)
                )
            )

            await ledger.until_acknowledged(total // 5)
            started = time.monotonic()
            ledger.phase = "service down"
            await server.kill()
            await asyncio.sleep(0.5)
            await server.start()
            ledger.phase = "steady"
            timings["service down"] = time.monotonic() - started

            await ledger.until_acknowledged(total * 11 // 20)
            started = time.monotonic()
            ledger.phase = "database down"
            await asyncio.to_thread(private_server.kill)
            await asyncio.sleep(0.5)
            await asyncio.to_thread(private_server.start)
            ledger.phase = "steady"
            timings["database down"] = time.monotonic() - started

            await clients
    finally:
        await server.stop()

    acknowledged = [touchpoint for ids in ledger.acknowledged.values() for touchpoint in ids]
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(private_database_url))
    try:
        present = await conn.fetchval(
            "SELECT count(*) FROM touchpoint WHERE id = ANY($1::uuid[])", [uuid.UUID(i) for i in acknowledged]
        )
        rows, distinct_keys = await conn.fetchrow(
            """SELECT count(*), count(DISTINCT (source_system, external_id))
                 FROM touchpoint WHERE organisation_id = $1""",
            provider.organisation_id,
        )
        keys_stored = await conn.fetchval(
            "SELECT count(*) FROM idempotency_record WHERE organisation_id = $1", provider.organisation_id
        )
        rollups_agree = await rollups_equal_a_rebuild(conn, provider.organisation_id)
    finally:
        await conn.close()

    errors = {f"{phase}: {kind}": n for (phase, kind), n in sorted(ledger.errors.items())}
    print(
        f"\nfaults: acknowledged {len(acknowledged)}, present {present} "
        f"({present / len(acknowledged):.3f}); rows {rows}, distinct keys {distinct_keys} "
        f"({rows / distinct_keys:.3f}), duplicates {rows - distinct_keys}; "
        f"retries answered from a stored response {ledger.replayed}; errors {errors}; "
        + ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in timings.items())
    )
    assert len(ledger.acknowledged) == total
    assert len(acknowledged) == len(set(acknowledged)) == total * ITEMS_PER_BATCH
    assert present == len(acknowledged)
    assert rows == distinct_keys == len(acknowledged)
    assert keys_stored == total
    for (phase, kind), _ in ledger.errors.items():
        assert kind in ALLOWED[phase], f"{kind} while {phase}: {errors}"
    seen = {phase for phase, _ in ledger.errors}
    assert seen == {"service down", "database down"}, f"an outage went unseen by the clients: {errors}"
    assert rollups_agree, "the rollups differ from a recount of the raw rows"

    engine = create_engine(private_database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            fast, slow = await both_paths(session, provider.organisation_id, as_of=datetime.now(UTC))
        assert len(fast) == 4
        assert_same(fast, slow)
    finally:
        await engine.dispose()
