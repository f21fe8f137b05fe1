"""Statuses kept current by job workers, served precomputed, and the feed of their changes.

- `marking.py` — a write marks the innovations it changed, in its own transaction (service.jobs).
- `service.py` — the recompute a worker runs for one innovation, and computing a missing one on read.
- `compute.py` — one loaded innovation into projection rows, and the events their changes make.
- `reads.py` — status, history and list reads answered from projections; `etags.py` their ETags.
- `events.py`, `router.py`, `schemas.py` — the change feed (`GET /v1/events`) over the outbox.
- `models.py`, `repository.py` — the `status_projection` and `status_event` tables and their SQL.
"""
