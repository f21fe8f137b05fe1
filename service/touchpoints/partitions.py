"""The monthly partitions of `touchpoint`: created ahead by a daily job, listed, and detached when old.

`touchpoint` is partitioned by the UTC month of `occurred_at` (migration 0010). A month without a
partition of its own lands in `touchpoint_default`; the daily job (`touchpoints.partitions`)
creates the partitions of the months ahead, so current notes never do, and gives a month of the last
BACK_MONTHS found in the default partition (a backfill) its own partition, moving its rows there.
The database function `touchpoint_create_partition(month)` does each one; the rollups are untouched
by the move.

Detaching a month (`ingrain partitions detach --before YYYY-MM`) takes its partition out of
`touchpoint`, leaving it a table of its own to archive and drop. (Postgres refuses `DETACH …
CONCURRENTLY` beside a default partition, so each month is a plain DETACH: a change of the catalogue
only, which waits for the statements running on `touchpoint`, at most DETACH_LOCK_TIMEOUT.)
The month's touchpoints then no longer appear in lists or evidence; the rollups keep counting them,
and their identities stay, so a source key of a detached touchpoint is still taken. Only months older
than any status reads (READ_HORIZON_MONTHS: the longest history, 24 months, with the 12 months its
first stage looks back over and the month of the window before it) may be detached, so no status
changes: not even after a recount of the rollups from the rows still attached
(`status_rebuild_rollups`, run when a service changes time zone), which no longer counts them.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg

from service.status.evaluation.series import MEMORY_MONTHS
from service.status.service import MAX_HISTORY_MONTHS

# Months ahead of the current one that always have their partition.
AHEAD_MONTHS = 3
# How far back a month found in the default partition is given its own.
BACK_MONTHS = 36

# How long a detach waits for the statements running on touchpoint before it gives up.
DETACH_LOCK_TIMEOUT = "5s"

PARTITION_NAME = re.compile(r"^touchpoint_(y\d{4}m\d{2}|default)$")


def is_partition(table_name: str) -> bool:
    """Whether a table is one of touchpoint's partitions, attached or detached (not in the models)."""
    return PARTITION_NAME.match(table_name) is not None


def month_start(day: date, months: int = 0) -> date:
    """The first day of the month `months` after the one holding `day` (before, when negative)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"touchpoint_y{month.year:04d}m{month.month:02d}"


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    # None for the default partition
    month: date | None
    # The planner's estimate, from the last ANALYZE (or autovacuum's)
    estimated_rows: int


async def ensure_partitions(conn: asyncpg.Connection, today: date, *, also: Iterable[date] = ()) -> list[str]:
    """Create the partitions of last month to AHEAD_MONTHS ahead, of each month of the last
    BACK_MONTHS that has rows in the default partition (moving them there), and of the months of the
    days in `also` (a load about to come). Returns those created.

    Each partition is its own transaction: a month moved out of the default partition holds
    `touchpoint` for as long as its rows take to copy, and no longer.
    """
    existing = {p.name for p in await list_partitions(conn)}
    months = {month_start(today, n) for n in range(-1, AHEAD_MONTHS + 1)}
    earliest = datetime.combine(month_start(today, -BACK_MONTHS), datetime.min.time(), UTC)
    in_default = await conn.fetch(
        "SELECT DISTINCT (date_trunc('month', occurred_at AT TIME ZONE 'UTC'))::date"
        " FROM touchpoint_default WHERE occurred_at >= $1",
        earliest,
    )
    months |= {r[0] for r in in_default} | {month_start(day) for day in also}
    created: list[str] = []
    for month in sorted(months):
        if partition_name(month) in existing:
            continue
        async with conn.transaction():
            created.append(await conn.fetchval("SELECT touchpoint_create_partition($1)", month))
    return created


async def list_partitions(conn: asyncpg.Connection) -> list[Partition]:
    """touchpoint's attached partitions, oldest month first and the default partition last."""
    rows = await conn.fetch(
        """
        SELECT c.relname, c.reltuples::bigint
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'touchpoint'::regclass
        """
    )
    partitions = [Partition(name, _month_of(name), max(int(estimate), 0)) for name, estimate in rows]
    return sorted(partitions, key=lambda p: (p.month is None, p.month or date.min))


def _month_of(name: str) -> date | None:
    found = re.fullmatch(r"touchpoint_y(\d{4})m(\d{2})", name)
    return date(int(found[1]), int(found[2]), 1) if found else None


def parse_month(text: str | None) -> date:
    """`YYYY-MM` as the first day of that month."""
    found = re.fullmatch(r"(\d{4})-(\d{2})", text or "")
    if found is None or not 1 <= int(found[2]) <= 12:
        raise DetachRefused("--before must be a month, YYYY-MM")
    return date(int(found[1]), int(found[2]), 1)


class DetachRefused(ValueError):
    """The months asked for are still read, or are not months."""


# How far back a status may read: its longest history, the months its first point's stage looks
# back over, and the month its window may start in.
READ_HORIZON_MONTHS = MAX_HISTORY_MONTHS + MEMORY_MONTHS + 1


def earliest_detachable(today: date) -> date:
    """Months before this one may be detached: no status reads them any more."""
    return month_start(today, -READ_HORIZON_MONTHS)


async def detach_before(conn: asyncpg.Connection, before: date, today: date) -> list[str]:
    """Detach every monthly partition of a month before `before`, each in a transaction of its own;
    returns their names."""
    if before.day != 1:
        raise DetachRefused("--before must be the first day of a month (YYYY-MM)")
    limit = earliest_detachable(today)
    if before > limit:
        raise DetachRefused(
            f"months from {limit:%Y-%m} on may still be read by a status ({READ_HORIZON_MONTHS} months);"
            f" --before may be at most {limit:%Y-%m}"
        )
    detached: list[str] = []
    for partition in await list_partitions(conn):
        if partition.month is not None and partition.month < before:
            async with conn.transaction():
                await conn.execute(f"SET LOCAL lock_timeout = '{DETACH_LOCK_TIMEOUT}'")
                await conn.execute(f'ALTER TABLE touchpoint DETACH PARTITION "{partition.name}"')
            detached.append(partition.name)
    return detached
