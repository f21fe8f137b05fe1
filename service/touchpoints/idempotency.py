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
from service.errors import InvalidInput
from service.model_helpers import utcnow
from service.touchpoints.limits import MAX_IDEMPOTENCY_KEY_CHARS
from service.touchpoints.repository.idempotency import hold_key_and_find, purge_expired, store_response

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
    row = await hold_key_and_find(session, organisation_id, principal.sub, key)
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
    await store_response(
        session,
        organisation_id,
        principal.sub,
        key,
        fingerprint=fingerprint,
        status=response.status,
        body=response.body.decode(),
        location=response.location,
        created_at=now,
        expires_at=now + IDEMPOTENCY_TTL,
    )
    await purge_expired(session, organisation_id, now, _PURGE_BATCH)


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
