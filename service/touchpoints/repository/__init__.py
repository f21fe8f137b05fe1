"""Every statement the touchpoints area sends to Postgres; services call these functions only.

Each function takes the session first and keeps to the organisation it is given (or the caller's,
through `reads.visible_touchpoints`). Reads are SQLAlchemy Core run through the session. Writes,
locks and the look-up on the recording path are hand-written SQL run on the session's own asyncpg
connection, inside the session's transaction: COPY and array-bound set statements need it, and a
single touchpoint is then written in one statement. Only this package takes that connection.

- `lookups`: what touchpoints being recorded refer to, and earlier copies of them.
- `writes`: new touchpoints, their links and access-log entry, by COPY or one INSERT.
- `corrections`: holding a stored touchpoint, keeping its revision, rewriting it.
- `reads`: what a caller may read, one touchpoint, its revisions, a page of them.
- `idempotency`: the stored first responses of Idempotency-Key requests.
"""
