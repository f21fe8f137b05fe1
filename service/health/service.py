"""Readiness: the database answers and its migrations are at head."""

import asyncio
import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.migrate import head_revision

log = logging.getLogger(__name__)


async def readiness(engine: AsyncEngine, *, timeout_seconds: float) -> dict[str, Any]:
    """The probe's report; `status` is `ready`, `unavailable` or `migrating`. Never raises."""
    head = head_revision()
    try:
        async with asyncio.timeout(timeout_seconds), engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except Exception as exc:
        log.warning("readiness: the database did not answer: %s: %s", type(exc).__name__, exc)
        return {
            "status": "unavailable",
            "database": "unreachable or not migrated",
            "error": type(exc).__name__,
        }
    current = rows[0] if rows else None
    if current != head:
        return {"status": "migrating", "database": "reachable", "revision": current, "head": head}
    return {"status": "ready", "database": "reachable", "revision": current}
