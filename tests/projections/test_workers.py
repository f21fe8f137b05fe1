"""Two worker processes, one killed while it holds a recompute: nothing is lost, no older result
is written over a newer one, and every change is announced once, in order."""

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.database import asyncpg_connect_kwargs, to_asyncpg_url, uuid_lock_key
from service.projections.repository import PROJECTION_LOCK_CLASS
from tests import factories
from tests.graphql.status_world import build_status_world, delivery
from tests.projections.support import assert_projections_equal_on_read, drain, queued

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30.0

# Every update of a projection, with the snapshot horizon it replaced and the one it wrote.
WRITE_LOG = """
CREATE TABLE projection_write (innovation_id uuid, scope_key text, old_xid bigint, new_xid bigint);
CREATE FUNCTION log_projection_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO projection_write VALUES (NEW.innovation_id, NEW.scope_key, OLD.data_xid, NEW.data_xid);
  RETURN NEW;
END $$;
CREATE TRIGGER log_projection_write BEFORE UPDATE ON status_projection
  FOR EACH ROW EXECUTE FUNCTION log_projection_write();
"""


def _worker(database_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.projections.worker_process", to_asyncpg_url(database_url)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"waited {WAIT_SECONDS} s for {what}"
        await asyncio.sleep(0.1)


def _note(service_id: uuid.UUID, staff_id: uuid.UUID, innovation_id: uuid.UUID, day: int) -> dict[str, Any]:
    from tests.graphql.status_world import ago

    return {
        "kind": "supervision",
        "service_id": str(service_id),
        "occurred_at": ago(day, 10),
        "recorded_by_id": str(staff_id),
        "subject_staff_id": str(staff_id),
        "innovation_ids": [str(innovation_id)],
        "facts": {"explains_why": False},
    }


async def test_a_worker_killed_mid_recompute_loses_nothing_and_events_are_written_once_in_order(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, tokens: Any
) -> None:
    url = app.state.database_url
    world = await build_status_world(session, client, tokens, services=2, innovations=2, days=0)
    held, other = world.innovation_ids
    staff = [await factories.staff_member(session, world.org, world.services) for _ in range(3)]
    person = await factories.person(session, world.org)
    assert (await client.get("/v1/status", headers=world.manager)).status_code == 200
    await drain(url)  # every projection stored: recomputes from here on write events

    conn = await asyncpg.connect(**asyncpg_connect_kwargs(url))
    workers: list[subprocess.Popen[bytes]] = []
    try:
        await conn.execute(WRITE_LOG)
        # Hold the innovation's recompute lock, so its recompute is picked and then waits.
        await conn.execute(
            "SELECT pg_advisory_lock($1::int4, $2::int4)", PROJECTION_LOCK_CLASS, uuid_lock_key(held)
        )
        victim = _worker(url)
        workers.append(victim)
        items = delivery(world.services, staff, person, [held], 40)
        posted = await client.post("/v1/touchpoints/batch", json={"items": items}, headers=world.manager)
        assert posted.status_code == 200, posted.text

        async def held_job_picked() -> bool:
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid = $1::bigint::oid AND objid = $2::bigint::oid",
                PROJECTION_LOCK_CLASS & 0xFFFFFFFF,
                uuid_lock_key(held) & 0xFFFFFFFF,
            )
            return bool(waiting)

        await _until(held_job_picked, "the recompute to be picked and wait for the lock")
        # (The batch marks the other innovation too, as its services are in its scope.)
        [picked] = await conn.fetch(
            "SELECT id FROM jobs.pgqueuer WHERE status = 'picked'"
            " AND convert_from(payload, 'UTF8')::jsonb->>'innovation_id' = $1",
            str(held),
        )

        # A second worker, and more writes while the first holds the job: to both innovations.
        workers.append(_worker(url))
        for day in (2, 3):
            note = _note(world.services[day % 2].id, staff[0].id, held, day)
            assert (await client.post("/v1/touchpoints", json=note, headers=world.manager)).status_code == 201
        more = delivery(world.services, staff, person, [other], 30)
        posted = await client.post("/v1/touchpoints/batch", json={"items": more}, headers=world.manager)
        assert posted.status_code == 200, posted.text

        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=WAIT_SECONDS) == -signal.SIGKILL
        await conn.execute(
            "SELECT pg_advisory_unlock($1::int4, $2::int4)", PROJECTION_LOCK_CLASS, uuid_lock_key(held)
        )

        async def drained() -> bool:
            return await queued(conn) == 0

        await _until(drained, "the surviving worker to drain the queue, the killed worker's job included")
        # The killed worker's job was picked again and finished.
        statuses = await conn.fetch(
            "SELECT status::text FROM jobs.pgqueuer_log WHERE job_id = $1", picked["id"]
        )
        assert "successful" in {s[0] for s in statuses}

        writes = await conn.fetch("SELECT * FROM projection_write")
        assert writes
        assert all(w["new_xid"] >= w["old_xid"] for w in writes), [dict(w) for w in writes]
        events = await conn.fetch(
            "SELECT id, type, innovation_id, service_id, indicator_key, data::text"
            " FROM status_event ORDER BY id"
        )
        stored = await conn.fetch(
            "SELECT innovation_id, service_id, stage, body::text FROM status_projection"
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=WAIT_SECONDS)
        await conn.close()

    # No recompute lost: the writes made while the job was held, and after, are all reflected.
    assert await assert_projections_equal_on_read(url, client, world.org.id, world.manager) == 2 * 3
    # Each change written once and in order: per stage or indicator of each scope, every event
    # starts where the one before ended, and the last ends where the projection stands.
    assert events
    chains: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        chains[(e["innovation_id"], e["service_id"], e["type"], e["indicator_key"])].append(
            json.loads(e["data"])
        )
    now_stands: dict[tuple[Any, ...], str] = {}
    for row in stored:
        body = json.loads(row["body"])
        now_stands[(row["innovation_id"], row["service_id"], "status.stage_changed", None)] = row["stage"]
        for indicator in body["indicators"]:
            key = (row["innovation_id"], row["service_id"], "indicator.rag_changed", indicator["key"])
            now_stands[key] = indicator["rag"]
    for key, chain in chains.items():
        assert all(d["before"] != d["after"] for d in chain), chain
        assert all(a["after"] == b["before"] for a, b in itertools.pairwise(chain)), (key, chain)
        assert chain[-1]["after"] == now_stands[key], (key, chain)
    assert any(k[0] == held for k in chains) and any(k[0] == other for k in chains)
