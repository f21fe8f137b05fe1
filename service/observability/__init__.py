"""Operating the service: metrics, structured logs, request ids, and what browsers need.

- `request_id.py` — the `X-Request-ID` an answer carries: the caller's when sane, else a new one.
- `context.py` — what is known of the request in flight (id, route, caller's organisation), for logs.
- `metrics.py` — Prometheus metrics, the exposition (multi-process aware), database pool gauges.
- `jobs.py` — job workers' metrics: jobs by entrypoint and outcome, and how long they took.
- `logging.py` — structlog over the standard library: JSON lines or text (INGRAIN_LOG_FORMAT).
- `middleware.py` — the outermost layer of every HTTP answer: request id, metrics, the request's
  log line, gzip and CORS.
- `router.py` — `GET /metrics`.
- `activity.py` — touchpoints recorded and refused, statuses computed and served, with bounded labels.
- `queue.py` — the job queue's depth, sampled by the job workers.
- `tracing.py`, `tracing_setup.py` — OpenTelemetry spans of requests, jobs and SQL, when configured.
"""
