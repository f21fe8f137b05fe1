"""Running the job workers until the queue is empty, bounded in time."""

import asyncio
import json
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from service import clock
from service.database import asyncpg_connect_kwargs
from service.jobs.worker import run
from service.projections.compute import without_moments

DRAIN_SECONDS = 60.0


async def drain(database_url: str) -> None:
    """Recompute everything queued, in one worker process's job workers, then return."""
    await asyncio.wait_for(
        run(database_url, drain=True, pool_size=2, dequeue_timeout=timedelta(seconds=1)),
        timeout=DRAIN_SECONDS,
    )


async def drain_app(app: Any) -> None:
    await drain(app.state.database_url)


async def queued(conn: Any) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM jobs.pgqueuer WHERE status IN ('queued', 'picked')"))


def comparable(body: dict[str, Any]) -> Any:
    """A status body without the moments it names (as_of, computed_at, …): what it says."""
    return without_moments({k: v for k, v in body.items() if k != "known_at"})


async def stored_projections(database_url: str, organisation_id: Any) -> list[Any]:
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    try:
        return list(
            await conn.fetch(
                "SELECT innovation_id, service_id, service_ids, stage, body::text AS body, data_xid"
                " FROM status_projection WHERE organisation_id = $1 ORDER BY innovation_id, scope_key",
                organisation_id,
            )
        )
    finally:
        await conn.close()


async def assert_projections_equal_on_read(
    database_url: str, client: httpx.AsyncClient, organisation_id: Any, headers: dict[str, str]
) -> int:
    """Every stored projection of the provider (its own view) equals the status computed on read
    at the clock's now; answers how many there are."""
    rows = await stored_projections(database_url, organisation_id)
    for row in rows:
        params = {"as_of": clock.now().isoformat()}
        if row["service_id"] is not None:
            params["service_id"] = str(row["service_id"])
        answer = await client.get(
            f"/v1/innovations/{row['innovation_id']}/status", params=params, headers=headers
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["computed_at"] is None  # computed on read, not served from the projection
        stored, on_read = comparable(json.loads(row["body"])), comparable(answer.json())
        assert stored == on_read, (
            f"innovation {row['innovation_id']}, service {row['service_id']}",
            differences(stored, on_read),
        )
    return len(rows)


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as paths with both values (for failure messages)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return [
            d
            for k in sorted(set(left) | set(right))
            for d in differences(left.get(k), right.get(k), f"{path}.{k}")
        ]
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [
            d
            for i, (a, b) in enumerate(zip(left, right, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    return [] if left == right else [f"{path}: {left!r} != {right!r}"]
