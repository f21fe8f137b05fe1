"""The status rollups as rows, and the check that they equal a recount from the raw rows."""

import uuid
from typing import Any

import asyncpg

ROLLUP_TABLES = ("status_month_rollup", "status_service_month", "status_staff_month", "status_audit_month")


async def rollup_rows(
    conn: asyncpg.Connection, organisation_id: uuid.UUID
) -> dict[str, set[tuple[Any, ...]]]:
    """Every rollup row with a count in it, without its timestamp."""
    out = {}
    for table in ROLLUP_TABLES:
        rows = await conn.fetch(f"SELECT * FROM {table} WHERE organisation_id = $1", organisation_id)
        out[table] = {
            tuple(tuple(v) if isinstance(v, list) else v for k, v in r.items() if k != "updated_at")
            for r in rows
            if any(v for k, v in r.items() if isinstance(v, int) and not isinstance(v, bool))
        }
    return out


async def assert_rollups_equal_recount(conn: asyncpg.Connection, organisation_id: uuid.UUID) -> None:
    """What the triggers counted equals what `status_rebuild_rollups` recounts (rolled back after)."""
    counted = await rollup_rows(conn, organisation_id)
    async with conn.transaction():
        await conn.fetchval("SELECT status_rebuild_rollups($1)", organisation_id)
        recounted = await rollup_rows(conn, organisation_id)
    for table in ROLLUP_TABLES:
        assert counted[table] == recounted[table], table
