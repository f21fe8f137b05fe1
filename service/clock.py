"""The one clock that "now" is read from: status reads, recomputes, the periodic re-queue, and the
moments writes are stamped with.

Time alone moves statuses (a month rolls over, a new starter's deadline passes, a system falls
silent for 60 days), so tests must be able to say what time it is. `set_now` puts a fixed moment in
place of the wall clock for the whole process (request handlers and in-process job workers alike);
nothing in production sets it, and then every reading is the wall clock exactly as before.

Statements that take "now" from the database (a transaction's `now()`, so a recompute's moment
matches its snapshot) pass `fixed()` as `coalesce($n::timestamptz, now())`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import asyncpg

_fixed: datetime | None = None


def now() -> datetime:
    return _fixed if _fixed is not None else datetime.now(UTC)


def today() -> date:
    return now().date()


def fixed() -> datetime | None:
    """The moment set in place of the wall clock, if one is."""
    return _fixed


def set_now(moment: datetime | None) -> None:
    """Fix the process's clock at `moment` (aware), or give it back to the wall clock with None."""
    global _fixed
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the clock is set with an aware datetime")
    _fixed = moment.astimezone(UTC) if moment is not None else None


@contextmanager
def fixed_at(moment: datetime) -> Iterator[None]:
    previous = _fixed
    set_now(moment)
    try:
        yield
    finally:
        set_now(previous)


async def database_now(conn: asyncpg.Connection, *, transaction_start: bool = False) -> datetime:
    """The database's `clock_timestamp()` (or its transaction's `now()`), or the fixed moment."""
    reading = "now()" if transaction_start else "clock_timestamp()"
    value: datetime = await conn.fetchval(f"SELECT coalesce($1::timestamptz, {reading})", _fixed)
    return value
