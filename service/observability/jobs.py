"""Metrics of the job workers: every job run, by entrypoint and outcome, and how long it took."""

import asyncio
import dataclasses
import time

from pgqueuer.errors import RetryRequested
from pgqueuer.executors import DatabaseRetryEntrypointExecutor
from pgqueuer.models import Context, Job

from service.observability.metrics import job_duration, jobs_processed


@dataclasses.dataclass
class MeasuredRetryExecutor(DatabaseRetryEntrypointExecutor):
    """pgqueuer's retrying executor, counted: `succeeded`, `retried` (queued again with backoff),
    `failed` (out of attempts) or `cancelled` (the worker stopped under it)."""

    async def execute(self, job: Job, context: Context) -> None:
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
