"""Readiness: the database answers and its migrations are at head."""

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.migrate import head_revision


async def readiness(engine: AsyncEngine) -> dict[str, Any]:
    head = head_revision()
    try:
        async with asyncio.timeout(3), engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except Exception as exc:
        return {
            "status": "unavailable",
            "database": "unreachable or not migrated",
            "error": type(exc).__name__,
        }
    current = rows[0] if rows else None
    if current != head:
        return {"status": "migrating", "database": "reachable", "revision": current, "head": head}
    return {"status": "ready", "database": "reachable", "revision": current}
