"""`Idempotency-Key`: a repeated request gets the first response instead of running again.

The key is scoped to the caller (organisation and token subject). Its first successful response is
stored in the same transaction as the writes it describes, so either both are kept or neither is.
A concurrent request with the same key waits on a transaction-scoped advisory lock until the first
finishes, then answers from what the first stored: the work never runs twice. A refused request
(4xx) stores nothing, and its retry is judged afresh. Keys expire after 24 hours.
"""

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.database import driver_connection
from service.errors import InvalidInput
from service.model_helpers import utcnow
from service.touchpoints.limits import MAX_IDEMPOTENCY_KEY_CHARS

IDEMPOTENCY_TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]+$")
# Expired keys are purged a few at a time as new ones are stored, so no sweeper is needed.
_PURGE_BATCH = 100


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes
    location: str | None


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), b"\n", path.encode(), b"\n", body):
        digest.update(part)
    return digest.hexdigest()


def _checked_key(key: str) -> str:
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not _KEY_PATTERN.match(key):
        message = f"1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters"
        raise InvalidInput(
            f"{HEADER}: must be {message}",
            errors=[{"field": HEADER, "rule": "idempotency_key_format", "message": f"must be {message}"}],
        )
    return key


async def replay_or_claim(
    *, session: AsyncSession, principal: Principal, key: str, fingerprint: str
) -> StoredResponse | None:
    """The stored response to repeat, or None once this request holds the key and should run."""
    organisation_id = principal.require_organisation()
    key = _checked_key(key)
    conn = await driver_connection(session)
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"idempotency:{organisation_id}:{principal.sub}:{key}",
    )
    row = await conn.fetchrow(
        """
        SELECT request_fingerprint, response_status, response_body, response_location, expires_at
          FROM idempotency_record
         WHERE organisation_id = $1 AND principal_sub = $2 AND key = $3
        """,
        organisation_id,
        principal.sub,
        key,
    )
    if row is None or row["expires_at"] <= utcnow():
        return None
    if row["request_fingerprint"] != fingerprint:
        message = "was already used with a different request; use a new key for a new request"
        raise InvalidInput(
            f"{HEADER}: {message}",
            errors=[{"field": HEADER, "rule": "idempotency_key_reused", "message": message}],
        )
    return StoredResponse(row["response_status"], row["response_body"].encode(), row["response_location"])


async def remember(
    *,
    session: AsyncSession,
    principal: Principal,
    key: str,
    fingerprint: str,
    response: StoredResponse,
) -> None:
    """Keep the response for the key's lifetime (replacing an expired use of the same key)."""
    organisation_id = principal.require_organisation()
    now = utcnow()
    conn = await driver_connection(session)
    await conn.execute(
        """
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
        """,
        organisation_id,
        principal.sub,
        key,
        fingerprint,
        response.status,
        response.body.decode(),
        response.location,
        now,
        now + IDEMPOTENCY_TTL,
    )
    await conn.execute(
        """
        DELETE FROM idempotency_record
         WHERE ctid IN (SELECT ctid FROM idempotency_record
                         WHERE organisation_id = $1 AND expires_at < $2 LIMIT $3)
        """,
        organisation_id,
        now,
        _PURGE_BATCH,
    )


async def run_once(
    *,
    session: AsyncSession,
    principal: Principal,
    key: str | None,
    fingerprint: str,
    run: Callable[[], Awaitable[StoredResponse]],
) -> tuple[StoredResponse, bool]:
    """`run()` once per key in the session's unit of work: a repeat answers the stored first
    response, unrun. Returns the response and whether it was replayed. REST and GraphQL both call it."""
    if key is None:
        return await run(), False
    stored = await replay_or_claim(session=session, principal=principal, key=key, fingerprint=fingerprint)
    if stored is not None:
        return stored, True
    fresh = await run()
    await remember(session=session, principal=principal, key=key, fingerprint=fingerprint, response=fresh)
    return fresh, False
