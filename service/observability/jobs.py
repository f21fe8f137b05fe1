"""Metrics of the job workers: every job run, by entrypoint and outcome, how long it waited to be
picked and how long it ran; with tracing on, a span for each job run."""

import asyncio
import dataclasses
import time

from pgqueuer.errors import RetryRequested
from pgqueuer.executors import DatabaseRetryEntrypointExecutor
from pgqueuer.models import Context, Job

from service.observability.metrics import job_duration, job_wait, jobs_processed
from service.observability.tracing import job_span


def waited_seconds(job: Job) -> float:
    """From the moment the job fell due (queued, or its retry's time come) to its pick: all three
    timestamps are the database's clock, so no skew between machines enters."""
    due = max(job.created, job.execute_after)
    return max((job.updated - due).total_seconds(), 0.0)


@dataclasses.dataclass
class MeasuredRetryExecutor(DatabaseRetryEntrypointExecutor):
    """pgqueuer's retrying executor, counted: `succeeded`, `retried` (queued again with backoff),
    `failed` (out of attempts) or `cancelled` (the worker stopped under it)."""

    async def execute(self, job: Job, context: Context) -> None:
        job_wait.labels(job.entrypoint).observe(waited_seconds(job))
        with job_span(job.entrypoint, job.id, job.attempts):
            await self._measured(job, context)

    async def _measured(self, job: Job, context: Context) -> None:
        started = time.perf_counter()
        outcome = "failed"
        try:
            await super().execute(job, context)
            outcome = "succeeded"
        except RetryRequested:
            outcome = "retried"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            job_duration.labels(job.entrypoint).observe(time.perf_counter() - started)
            jobs_processed.labels(job.entrypoint, outcome).inc()
