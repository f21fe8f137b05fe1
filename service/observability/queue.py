"""The job queue's depth, by entrypoint and status, sampled by the job workers.

Sampled by the workers every `SAMPLE_INTERVAL_SECONDS` rather than queried at scrape time:
- a scrape-time collector does not fit multi-process mode, where a scrape reads only the files the
  processes write (a collector would have to be added to that exposition by hand, and run on the
  scraping thread, which has no database connection, only the event loop's pool);
- the depth is wherever jobs are processed: on a worker's own `INGRAIN_METRICS_PORT`, or beside the
  API's metrics when the processes share `PROMETHEUS_MULTIPROC_DIR` (or run jobs in process);
- N API processes scraped by M Prometheus servers would query the queue N×M times an interval;
  the workers query it once an interval each, with a short timeout.
The gauge is `livemostrecent`: with several workers the latest sample of a running one stands,
and when no worker runs the series disappear (alert on their absence), never a stale depth.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import asyncpg
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from service.jobs.queue import JOB_SETTINGS
from service.observability.metrics import job_queue_depth

log = logging.getLogger("ingrain.jobs")

SAMPLE_INTERVAL_SECONDS = 15.0
QUERY_TIMEOUT_SECONDS = 2.0
STATUSES = ("queued", "scheduled", "picked")

_DEPTH_SQL = f"""
SELECT entrypoint,
       CASE WHEN status = 'queued' AND execute_after > now() THEN 'scheduled' ELSE status::text END,
       count(*)
  FROM {JOB_SETTINGS.qualified.queue_table}
 WHERE status IN ('queued', 'picked')
 GROUP BY 1, 2"""  # noqa: S608 (a constant table name)


async def queue_depth(conn: asyncpg.Connection) -> dict[tuple[str, str], int]:
    rows = await conn.fetch(_DEPTH_SQL, timeout=QUERY_TIMEOUT_SECONDS)
    return {(row[0], row[1]): row[2] for row in rows}


async def sample_queue_depth(engine: AsyncEngine, entrypoints: Iterable[str]) -> dict[tuple[str, str], int]:
    """Set the gauge from one count of the queue: every status of every known entrypoint, 0 where
    none, so a series does not keep the depth it had when its last job left."""
    async with engine.connect() as connection:
        conn: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
        depth = await queue_depth(conn)
    known = {(entrypoint, status) for entrypoint in entrypoints for status in STATUSES}
    for entrypoint, status in known | set(depth):
        job_queue_depth.labels(entrypoint, status).set(depth.get((entrypoint, status), 0))
    return depth


async def keep_sampling(
    engine: AsyncEngine, entrypoints: Iterable[str], interval: float = SAMPLE_INTERVAL_SECONDS
) -> None:
    """Sample until cancelled; a failed count is logged and the next one tried in its turn."""
    names = sorted(entrypoints)
    while True:
        try:
            await sample_queue_depth(engine, names)
        except (OSError, asyncpg.PostgresError, SQLAlchemyError, TimeoutError) as error:
            log.warning("the job queue's depth could not be counted: %s", type(error).__name__)
        await asyncio.sleep(interval)


async def stop_sampling(task: "asyncio.Task[None]") -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
