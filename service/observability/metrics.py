"""Prometheus metrics of the API and the job workers, and their exposition.

Labels never carry tenant data, ids, or anything else a client chooses freely: a route is its
template (`/v1/innovations/{innovation_id}/status`), a method and a status come from closed sets,
an entrypoint is one of the workers' own names.

Several processes (`ingrain serve --workers N`, `ingrain worker` beside it) are counted as one
service through prometheus_client's multi-process mode: with `PROMETHEUS_MULTIPROC_DIR` set, each
process writes its values to files there and an exposition adds them up. The variable must be set
before a process starts, so that its metrics are created in that mode; `ingrain serve` sets one up
by itself when it forks several API processes.
"""

import os
from pathlib import Path
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST, start_http_server
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# No `_created` series beside every counter and histogram: they double a scrape for a start time
# that counter resets already show, and the multi-process exposition has none either.
disable_created_metrics()
CONTENT_TYPE = CONTENT_TYPE_LATEST

# A projected status read takes about 10 ms, a page of the portfolio or a batch up to seconds.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

http_requests = Counter(
    "ingrain_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
http_request_duration = Histogram(
    "ingrain_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method, route template and status class.",
    ["method", "route", "status_class"],
    buckets=REQUEST_BUCKETS,
)
http_requests_in_flight = Gauge(
    "ingrain_http_requests_in_flight",
    "HTTP requests being answered now.",
    multiprocess_mode="livesum",
)
db_connections_in_use = Gauge(
    "ingrain_db_pool_connections_in_use",
    "Database connections checked out of the processes' pools now.",
    multiprocess_mode="livesum",
)
transaction_retries = Counter(
    "ingrain_transaction_retries",
    "Units of work run again after losing a deadlock (40P01) or serialisation (40001) race.",
    ["sqlstate"],
)
transactions_lost = Counter(
    "ingrain_transactions_lost",
    "Units of work that still lost a race after the last attempt (answered 503).",
)
jobs_processed = Counter(
    "ingrain_jobs_processed",
    "Jobs the workers ran, by entrypoint and outcome (succeeded, retried, failed, cancelled).",
    ["entrypoint", "outcome"],
)
job_duration = Histogram(
    "ingrain_job_duration_seconds",
    "How long a job ran, by entrypoint (projections.recompute: recomputing an innovation's statuses).",
    ["entrypoint"],
    buckets=JOB_BUCKETS,
)

job_wait = Histogram(
    "ingrain_job_wait_seconds",
    "Time from a job falling due (enqueued, or its retry's time come) to a worker picking it, by entrypoint.",
    ["entrypoint"],
    buckets=JOB_BUCKETS,
)
# Sampled by the job workers (service.observability.queue), not at scrape time: see that module.
# With several workers, the most recent sample of a live process stands for the whole queue.
job_queue_depth = Gauge(
    "ingrain_job_queue_depth",
    "Jobs in the queue by entrypoint and status: queued (due), scheduled (due later), picked (running).",
    ["entrypoint", "status"],
    multiprocess_mode="livemostrecent",
)

# Touchpoints: a kind is from a closed vocabulary; a source system is labelled only when it is the
# one an integration client is registered for (see service.observability.activity).
touchpoints_recorded = Counter(
    "ingrain_touchpoints_recorded",
    "Touchpoints stored (committed), by kind and source system.",
    ["kind", "source_system"],
)
touchpoints_rejected = Counter(
    "ingrain_touchpoints_rejected",
    "Touchpoints refused, by the rule they broke (an item breaking two rules counts under each).",
    ["rule"],
)

# A projected status read takes ~10 ms in all; computing one from the counts tens to hundreds.
STATUS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
statuses_computed = Counter(
    "ingrain_statuses_computed",
    "Statuses computed from the counts: by the job workers into projections (projection) or while "
    "answering a request (on_read: another moment or window, or no projection stored yet).",
    ["mode"],
)
status_compute_duration = Histogram(
    "ingrain_status_compute_duration_seconds",
    "Time to load the counts and compute the statuses of one computation (one or more statuses), by mode.",
    ["mode"],
    buckets=STATUS_BUCKETS,
)
statuses_served = Counter(
    "ingrain_statuses_served",
    "Statuses answered, by source: a stored projection, or computed for the request.",
    ["source"],
)

WEBHOOK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
webhook_deliveries = Counter(
    "ingrain_webhook_deliveries",
    "Webhook deliveries settled by an attempt: delivered; retrying (an attempt failed, a retry is "
    "scheduled); failed (the last retry failed: the delivery is failed and its endpoint disabled).",
    ["outcome"],
)
webhook_attempt_duration = Histogram(
    "ingrain_webhook_attempt_duration_seconds",
    "Time of one delivery attempt (a POST to the receiver), by result: succeeded (2xx) or failed.",
    ["result"],
    buckets=WEBHOOK_BUCKETS,
)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR) or None


def exposition_registry() -> CollectorRegistry:
    """What a scrape reads: every process's values in multi-process mode, this process's otherwise
    (with the client's process and garbage-collector metrics)."""
    path = multiprocess_dir()
    if path is None:
        return REGISTRY
    registry = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(registry, path=path)
    return registry


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    return generate_latest(exposition_registry())


def serve_metrics(host: str, port: int) -> None:
    """Serve the exposition on `port` from a thread of this process (INGRAIN_METRICS_PORT)."""
    start_http_server(port, addr=host, registry=exposition_registry())


def forget_dead_processes(path: str) -> None:
    """Remove the files of processes no longer running, left by an earlier run: the client's files
    are named `<kind>_<pid>.db`, and an exposition would otherwise add stale values forever."""
    for file in Path(path).glob("*.db"):
        pid = file.stem.rpartition("_")[2]
        if pid.isdigit() and not _running(int(pid)):
            file.unlink(missing_ok=True)


def mark_this_process_dead() -> None:
    """At a process's exit: its in-flight and pool gauges stop counting (counters stay)."""
    path = multiprocess_dir()
    if path is not None:
        prometheus_multiprocess.mark_process_dead(os.getpid(), path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# Set on a pooled connection's record while it is counted as in use: a checkout that a listener
# refused (a connection found closed) is never counted, and its check-in then uncounts nothing.
_COUNTED = "ingrain_counted_in_use"


def observe_pool(engine: AsyncEngine) -> None:
    """Count `engine`'s connections in use. Register after any listener that may refuse a checkout."""
    event.listen(engine.sync_engine, "checkout", _checked_out)
    event.listen(engine.sync_engine, "checkin", _checked_in)


def _checked_out(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if not record.record_info.get(_COUNTED):
        record.record_info[_COUNTED] = True
        db_connections_in_use.inc()


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    if record.record_info.pop(_COUNTED, False):
        db_connections_in_use.dec()
