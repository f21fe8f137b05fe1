"""Embedding-status read benchmark: `make bench-status` (`python -m bench.status`).

Loads 1,000,000 and then 100,000 touchpoints straight into a throwaway embedded Postgres (COPY, with
the per-month status rollups filled by their triggers), serves the real API with uvicorn against it and
measures p50/p95 of `GET /v1/status`, `GET /v1/innovations/{id}/status` (provider and one service),
`GET /v1/innovations/{id}/status/history?months=12` and the same status read through GraphQL, against a
plain SQL aggregate over the raw touchpoints measured in the same run. Prints the figures, the growth
from 100k to 1M and the goal checks of the status and GraphQL issues.
"""
