"""How a status's inputs are evaluated: plain values in, indicators, context and stage out; no I/O.

- `inputs.py` — the plain data every source produces (`StatusInputs`, `MonthCounts`, ...).
- `counting.py` — the counting rules, each once: its constant, and its SQL where the database counts.
- `recount.py` — the same inputs counted in Python from touchpoint records (independent of the SQL).
- `starters.py` — new starters' first steps and whether they met their deadlines.
- `periods.py` — local months, windows and monthly points.
- `points.py` — one innovation over a set of services: its indicators and stage facts at any point.
- `series.py` — the plan of points and the monthly series with its stages (`evaluate`).
- `indicators.py`, `context.py`, `stage.py` — the eight indicators, the context (outcomes, staff
  voice, drift) and the stage rules.
"""
