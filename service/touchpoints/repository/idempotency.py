"""The stored first responses of `Idempotency-Key` requests, one per (organisation, subject, key)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.database import driver_connection

_UPSERT_SQL = """
INSERT INTO idempotency_record (organisation_id, principal_sub, key, request_fingerprint,
                                response_status, response_body, response_location,
                                created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (organisation_id, principal_sub, key) DO UPDATE SET
  request_fingerprint = excluded.request_fingerprint,
  response_status = excluded.response_status,
  response_body = excluded.response_body,
  response_location = excluded.response_location,
  created_at = excluded.created_at,
  expires_at = excluded.expires_at
"""

_PURGE_SQL = """
DELETE FROM idempotency_record
 WHERE ctid IN (SELECT ctid FROM idempotency_record
                 WHERE organisation_id = $1 AND expires_at < $2 LIMIT $3)
"""


async def hold_key_and_find(
    session: AsyncSession, organisation_id: uuid.UUID, principal_sub: str, key: str
) -> Any:
    """Wait for, and hold until the transaction ends, the caller's key; then its stored record (the
    asyncpg record, by column name), or None.

    The lock is a transaction-level advisory lock on a hash of the key, so a concurrent request with
    the same key waits here until the first has committed what it stored.
    """
    conn = await driver_connection(session)
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"idempotency:{organisation_id}:{principal_sub}:{key}",
    )
    return await conn.fetchrow(
        """
        SELECT request_fingerprint, response_status, response_body, response_location, expires_at
          FROM idempotency_record
         WHERE organisation_id = $1 AND principal_sub = $2 AND key = $3
        """,
        organisation_id,
        principal_sub,
        key,
    )


async def store_response(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    principal_sub: str,
    key: str,
    *,
    fingerprint: str,
    status: int,
    body: str,
    location: str | None,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    """Keep the response under the key, replacing an expired use of the same key."""
    conn = await driver_connection(session)
    await conn.execute(
        _UPSERT_SQL,
        organisation_id,
        principal_sub,
        key,
        fingerprint,
        status,
        body,
        location,
        created_at,
        expires_at,
    )


async def purge_expired(session: AsyncSession, organisation_id: uuid.UUID, now: datetime, limit: int) -> None:
    """Delete up to `limit` of the organisation's keys that expired before `now`."""
    conn = await driver_connection(session)
    await conn.execute(_PURGE_SQL, organisation_id, now, limit)
