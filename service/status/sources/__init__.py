"""Where a status's inputs are read from. Every statement filters on the organisation.

- `path.py` — which way to read: the rollups for an ordinary status, a recount of the touchpoint
  records for `known_at` (and for the property test).
- `rollups.py` + `rollup_sql.py` — the monthly rollups, with the month containing `as_of` corrected
  from raw rows, and the few per-event facts.
- `records.py` — touchpoint records as they stand now, or as they had been recorded at `known_at`.
- `provider_setup.py` — innovations with their services, services with their time zones and shift
  patterns, staff tenure, the provider's thresholds.
- `span.py` — what every read is for: the innovations with their services, and the months.
"""
