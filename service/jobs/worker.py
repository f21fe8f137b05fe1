"""The job workers: pgqueuer's queue manager with Ingrain's entrypoints and periodic jobs.

`ingrain worker` runs them until SIGTERM or SIGINT; `ingrain serve` runs them in-process on the
embedded database (INGRAIN_JOBS_IN_PROCESS). Any number of worker processes may run: pgqueuer picks
each job for one of them (`FOR UPDATE SKIP LOCKED`), re-picks a job whose worker stopped sending
heartbeats, and retries a failed job with backoff.
"""

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
from pgqueuer import AsyncpgDriver, PgQueuer
from pgqueuer.domain.types import Channel, QueueExecutionMode
from pgqueuer.executors import EntrypointExecutorParameters
from pgqueuer.models import Job, Schedule
from sqlalchemy.ext.asyncio import AsyncEngine

from service.clock import database_now
from service.database import asyncpg_connect_kwargs, create_engine
from service.jobs.queue import (
    DELIVER,
    ENSURE_PARTITIONS,
    JOB_SETTINGS,
    PRUNE_WEBHOOKS,
    RECOMPUTE,
    REQUEUE_STALE,
    SWEEP_WEBHOOKS,
    enqueue_recompute,
    queries,
    read_delivery_payload,
    read_payload,
)
from service.observability.jobs import MeasuredRetryExecutor
from service.observability.queue import keep_sampling, stop_sampling
from service.projections import repository
from service.projections.service import DEFAULT_WINDOW_DAYS, recompute
from service.touchpoints import partitions
from service.webhooks import delivery
from service.webhooks.delivery import DeliveryOptions

log = logging.getLogger("ingrain.jobs")

# How long a recompute waits for the writers it absorbed to commit before it retries instead.
WRITERS_TIMEOUT_SECONDS = 10.0
# Hourly: a projection is re-queued once the clock has passed a moment that may move it since it
# was last checked, local midnight in one of its services or another (stale_innovations).
REQUEUE_STALE_CRON = "7 * * * *"
# Every minute: a run for each webhook endpoint with something due that no queued job stands for.
SWEEP_WEBHOOKS_CRON = "* * * * *"
# Daily, at a quiet hour: deliveries past their retention go, with their attempts.
PRUNE_WEBHOOKS_CRON = "17 3 * * *"
# Daily: touchpoint's partitions of the months ahead, and of the months a backfill put in the default.
ENSURE_PARTITIONS_CRON = "41 2 * * *"


async def release_and_wait_for_writers(engine: AsyncEngine, job_id: int) -> int:
    """Make the job cover every write whose mark it absorbed, and no later one.

    pgqueuer skips an enqueue whose dedupe key belongs to a job that is queued *or picked*. So:
    1. the key is taken off this (picked) job: a write from now on queues a fresh recompute;
    2. every transaction that may have enqueued onto the key before that (and so was skipped) has
       its transaction id in the snapshot taken just after; the job waits until each has ended, so
       the snapshot it then computes in sees all of them.

    Returns the snapshot horizon (`pg_snapshot_xmax`) once they have: any snapshot whose horizon is
    above it was taken later, so it sees every write this job stands for (see `recompute`).
    """
    async with engine.connect() as connection:
        driver: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
        table = JOB_SETTINGS.qualified.queue_table
        await driver.execute(f"UPDATE {table} SET dedupe_key = NULL WHERE id = $1", job_id)  # noqa: S608
        snapshot = await driver.fetchval("SELECT pg_current_snapshot()::text")
        deadline = asyncio.get_running_loop().time() + WRITERS_TIMEOUT_SECONDS
        while await driver.fetchval(
            "SELECT count(*) FROM pg_snapshot_xip($1::text::pg_snapshot) AS x"
            " WHERE pg_xact_status(x) = 'in progress'",
            snapshot,
        ):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("writers still running; the recompute is retried")
            await asyncio.sleep(0.01)
        horizon: int = await driver.fetchval("SELECT (pg_snapshot_xmax(pg_current_snapshot())::text)::bigint")
        return horizon


def _retrying(parameters: EntrypointExecutorParameters) -> MeasuredRetryExecutor:
    return MeasuredRetryExecutor(
        parameters=parameters, max_attempts=8, initial_delay=timedelta(milliseconds=200)
    )


def build(
    engine: AsyncEngine, connection: asyncpg.Connection, webhooks: DeliveryOptions | None = None
) -> PgQueuer:
    """A PgQueuer on `connection` (its LISTEN and dequeue), working on `engine`'s pool."""
    webhook_options = webhooks or DeliveryOptions()
    driver = AsyncpgDriver(connection)
    pgq = PgQueuer(connection=driver, channel=Channel(JOB_SETTINGS.channel), queries=queries(driver))

    @pgq.entrypoint(RECOMPUTE, executor_factory=_retrying)
    async def recompute_status(job: Job) -> None:
        organisation_id, innovation_id = read_payload(job.payload)
        covered_after = await release_and_wait_for_writers(engine, job.id)
        await recompute(engine, organisation_id, innovation_id, covered_after=covered_after)

    @pgq.schedule(REQUEUE_STALE, REQUEUE_STALE_CRON)
    async def requeue_stale(schedule: Schedule) -> None:
        await requeue_stale_projections(engine)

    @pgq.entrypoint(DELIVER, executor_factory=_retrying)
    async def deliver_webhooks(job: Job) -> None:
        _, endpoint_id = read_delivery_payload(job.payload)
        # As for a recompute: the run covers the events of every writer whose job it absorbed.
        await release_and_wait_for_writers(engine, job.id)
        await delivery.deliver_endpoint(engine, endpoint_id, webhook_options)

    @pgq.schedule(SWEEP_WEBHOOKS, SWEEP_WEBHOOKS_CRON)
    async def sweep_webhooks(schedule: Schedule) -> None:
        await delivery.sweep(engine)

    @pgq.schedule(PRUNE_WEBHOOKS, PRUNE_WEBHOOKS_CRON)
    async def prune_webhooks(schedule: Schedule) -> None:
        await delivery.prune(engine)

    @pgq.schedule(ENSURE_PARTITIONS, ENSURE_PARTITIONS_CRON)
    async def ensure_touchpoint_partitions(schedule: Schedule) -> None:
        await create_partitions_ahead(engine)

    return pgq


async def create_partitions_ahead(engine: AsyncEngine) -> list[str]:
    """Create touchpoint's partitions for the months ahead and backfilled months (touchpoints.partitions)."""
    async with engine.connect() as connection:
        driver: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
        created = await partitions.ensure_partitions(driver, (await database_now(driver)).date())
    if created:
        log.info("touchpoint partitions created", extra={"partitions": created})
    return created


async def requeue_stale_projections(engine: AsyncEngine) -> int:
    """Queue a recompute of every innovation whose projections the clock may have moved."""
    async with engine.begin() as connection:
        driver: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
        stale = await repository.stale_innovations(driver, window_days=DEFAULT_WINDOW_DAYS)
        by_provider: dict[uuid.UUID, list[uuid.UUID]] = {}
        for organisation_id, innovation_id in stale:
            by_provider.setdefault(organisation_id, []).append(innovation_id)
        for organisation_id, ids in sorted(by_provider.items()):
            await enqueue_recompute(driver, organisation_id, ids)
    return len(stale)


async def run(
    database_url: str,
    *,
    stop: asyncio.Event | None = None,
    drain: bool = False,
    pool_size: int = 4,
    webhooks: DeliveryOptions | None = None,
    **run_options: Any,
) -> None:
    """Run the workers until `stop` is set (or, with `drain`, until the queue is empty)."""
    engine = create_engine(database_url, pool_size=pool_size)
    connection = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    try:
        pgq = build(engine, connection, webhooks)
        watcher = asyncio.create_task(_forward(stop, pgq.shutdown)) if stop is not None else None
        sampler = asyncio.create_task(keep_sampling(engine, pgq.qm.entrypoint_registry))
        try:
            if drain:
                await pgq.qm.run(mode=QueueExecutionMode.drain, **run_options)
            else:
                await pgq.run(**run_options)
        finally:
            await stop_sampling(sampler)
            if watcher is not None:
                watcher.cancel()
    finally:
        await connection.close()
        await engine.dispose()


async def _forward(stop: asyncio.Event, shutdown: asyncio.Event) -> None:
    await stop.wait()
    shutdown.set()
