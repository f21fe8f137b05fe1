"""Loading the status benchmark's provider straight into a migrated database, and checking the rollups.

Reference rows go in through the table models; touchpoints and their innovation links by binary COPY,
one transaction per chunk (as a batch of the service writes them), so the statement triggers of the
status rollups fire as they do in production. The next chunk is generated in a worker thread while
the database takes the current one.

`rollups="rebuild"` loads instead with triggers off (foreign key checks included, which the generator
makes hold) and then recounts the rollups with the migration's `status_rebuild_rollups`: the way to
bulk-load history, and faster on a busy machine. Either way the rollups are then checked against the
raw rows: every innovation link counted once, every supervision and incident counted for its service.
"""

import asyncio
import gc
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import asyncpg

from bench.status_cast import DAYS, Cast, insert_cast, plan_cast
from bench.status_touchpoints import Chunk, TouchpointStream
from service.database import asyncpg_connect_kwargs, create_engine, create_session_factory, unit_of_work
from service.touchpoints.partitions import ensure_partitions
from service.touchpoints.repository.writes import (
    COPY_COLUMNS,
    IDENTITY_COLUMNS,
    LINK_COLUMNS,
    identity_records,
)


@dataclass
class Loaded:
    cast: Cast
    touchpoints: int
    links: int
    kinds: Counter[str]
    reference_seconds: float
    # Wall time of generating and copying the touchpoints (the generation overlaps the COPY).
    touchpoint_seconds: float
    # Of which the COPY statements (with their triggers) kept the loader waiting.
    copy_seconds: float
    rollup_mode: str = "triggers"
    # Recounting the rollups after a load with triggers off.
    rebuild_seconds: float = 0.0
    rollups: dict[str, int] = field(default_factory=dict)
    check_seconds: float = 0.0
    analyze_seconds: float = 0.0

    @property
    def organisation_id(self) -> uuid.UUID:
        return self.cast.organisation_id


class RollupMismatch(AssertionError):
    pass


async def copy_chunk(conn: asyncpg.Connection, chunk: Chunk) -> None:
    async with conn.transaction():
        await conn.copy_records_to_table(
            "touchpoint_identity", records=identity_records(chunk.touchpoints), columns=list(IDENTITY_COLUMNS)
        )
        await conn.copy_records_to_table("touchpoint", records=chunk.touchpoints, columns=list(COPY_COLUMNS))
        if chunk.links:
            await conn.copy_records_to_table(
                "touchpoint_innovation", records=chunk.links, columns=list(LINK_COLUMNS)
            )


async def load_provider(
    database_url: str,
    total: int,
    *,
    seed: int = 20261127,
    now: datetime | None = None,
    rows_per_chunk: int = 20_000,
    analyze: bool = True,
    rollups: Literal["triggers", "rebuild"] = "triggers",
) -> Loaded:
    """Plan, insert and check a provider with `total` touchpoints over 24 months ending `now`."""
    cast = plan_cast(seed, now)
    started = time.perf_counter()
    engine = create_engine(database_url, pool_size=1)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            await insert_cast(session, cast)
    finally:
        await engine.dispose()
    reference_seconds = time.perf_counter() - started

    stream = TouchpointStream(cast, total, seed=seed + 1)
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    # Each month loaded gets its partition first, as the daily job would have made it by then.
    today = (now or datetime.now(UTC)).date()
    await ensure_partitions(conn, today, also=(today - timedelta(days=d) for d in range(0, DAYS + 31, 28)))
    # Rows hold no cycles: the collector would only rescan the growing chunk, over and over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if rollups == "rebuild":
            await conn.execute("SET session_replication_role = replica")
        started = time.perf_counter()
        copy_seconds = 0.0
        chunks = stream.chunks(rows_per_chunk)
        pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
        while (chunk := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
            copy_started = time.perf_counter()
            await copy_chunk(conn, chunk)
            copy_seconds += time.perf_counter() - copy_started
        touchpoint_seconds = time.perf_counter() - started
        loaded = Loaded(
            cast,
            sum(stream.kinds.values()),
            stream.links,
            stream.kinds,
            reference_seconds,
            touchpoint_seconds,
            copy_seconds,
            rollups,
        )
        if rollups == "rebuild":
            await conn.execute("RESET session_replication_role")
            started = time.perf_counter()
            await conn.fetchval("SELECT status_rebuild_rollups($1)", cast.organisation_id)
            loaded.rebuild_seconds = time.perf_counter() - started
        started = time.perf_counter()
        loaded.rollups = await check_rollups(conn, cast.organisation_id)
        loaded.check_seconds = time.perf_counter() - started
        if analyze:
            # What autovacuum would have done long before anyone asked for a status.
            started = time.perf_counter()
            await conn.execute("VACUUM (ANALYZE)")
            loaded.analyze_seconds = time.perf_counter() - started
        return loaded
    finally:
        if collecting:
            gc.enable()
        await conn.close()


_CHECK_SQL = """
SELECT
  (SELECT count(*) FROM touchpoint WHERE organisation_id = $1) AS touchpoints,
  (SELECT count(*) FROM touchpoint_innovation WHERE organisation_id = $1) AS links,
  (SELECT count(*) FROM touchpoint_innovation l
     JOIN touchpoint t ON t.organisation_id = l.organisation_id AND t.id = l.touchpoint_id
    WHERE l.organisation_id = $1 AND t.recorded_by_id IS NOT NULL) AS links_with_recorder,
  (SELECT count(*) FROM touchpoint WHERE organisation_id = $1 AND kind = 'supervision') AS supervisions,
  (SELECT count(*) FROM touchpoint WHERE organisation_id = $1 AND kind = 'incident') AS incidents,
  (SELECT count(*) FROM status_month_rollup WHERE organisation_id = $1) AS month_rollup_rows,
  (SELECT coalesce(sum(refs_total), 0) FROM status_month_rollup WHERE organisation_id = $1)
    AS rollup_references,
  (SELECT count(*) FROM status_service_month WHERE organisation_id = $1) AS service_month_rows,
  (SELECT coalesce(sum(supervisions), 0) FROM status_service_month WHERE organisation_id = $1)
    AS rollup_supervisions,
  (SELECT coalesce(sum(incidents), 0) FROM status_service_month WHERE organisation_id = $1)
    AS rollup_incidents,
  (SELECT count(*) FROM status_staff_month WHERE organisation_id = $1) AS staff_month_rows,
  (SELECT coalesce(sum(touchpoints), 0) FROM status_staff_month WHERE organisation_id = $1)
    AS rollup_staff_references,
  (SELECT coalesce(sum(incidents_reviewed), 0) FROM status_month_rollup WHERE organisation_id = $1)
    AS rollup_incidents_reviewed
"""


async def check_rollups(conn: asyncpg.Connection, organisation_id: uuid.UUID) -> dict[str, int]:
    """The rollups' totals, checked against the raw rows they count; raises RollupMismatch if not."""
    row = dict(await conn.fetchrow(_CHECK_SQL, organisation_id))
    pairs = (
        ("links", "rollup_references"),
        ("links_with_recorder", "rollup_staff_references"),
        ("supervisions", "rollup_supervisions"),
        ("incidents", "rollup_incidents"),
    )
    wrong = [f"{raw} {row[raw]} ≠ {rolled} {row[rolled]}" for raw, rolled in pairs if row[raw] != row[rolled]]
    if not row["month_rollup_rows"] or not row["staff_month_rows"] or not row["service_month_rows"]:
        wrong.append("a rollup table is empty")
    if row["incidents"] and not row["rollup_incidents_reviewed"]:
        wrong.append("no incident is counted as reviewed")
    if wrong:
        raise RollupMismatch("rollups disagree with the touchpoints: " + "; ".join(wrong))
    return {k: int(v) for k, v in row.items()}
