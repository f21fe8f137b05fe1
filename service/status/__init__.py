"""Embedding status: whether each innovation is embedded, with its indicators, stage and evidence.

A reader's map:

- `service.py` — the status rules callers use (one status, its history, every status in scope, a
  batch of statuses); `router.py` (REST) and service/graphql/status call only these.
- `access.py` — whose statuses a caller may read, over which services.
- `subjects.py` — what a status is computed about: an innovation with its inputs, thresholds and plan.
- `present.py`, `schemas.py` — the answer's shape, with small counts withheld from outsiders.
- `evidence.py` — the touchpoints behind an indicator.
- `thresholds.py`, `threshold_service.py` — the thresholds statuses are judged against, and their
  management.
- `cqc.py` + `cqc_mapping.yaml` — the CQC quality statements each indicator speaks to (data).
- `vocabulary.py` — indicator keys, RAG ratings, stages.
- `models.py`, `locks.py` — the monthly rollup tables and the locks writers take on them.
- `sources/` — where a status's inputs are read from (rollups, touchpoint records, provider setup).
- `evaluation/` — how those inputs become indicators, context, stage and the monthly series.
"""
