"""Running the job workers until the queue is empty, bounded in time."""

import asyncio
from datetime import timedelta
from typing import Any

from service.jobs.worker import run

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
