"""Failed client-authentication attempts, counted in a sliding window per client id and per address.

The counts live in Postgres (table `client_auth_failure`), so every server process and every
machine counts against one budget, and a restart forgives nothing. Each key's row keeps its newest
failure times, at most as many as the limit: the key is blocked while the oldest of those is still
inside the window, until it leaves it. A failure is one atomic upsert per key; rows whose every
failure has left the window are pruned a few at a time as new failures arrive, so no sweeper is
needed and address spraying cannot grow the table past what the window holds.

Times are the database's clock, the one every process shares; `at` replaces it in tests.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.settings import Settings

CLIENT = "client"
ADDRESS = "address"

# `w.now` is the database's clock unless `at` is given; NULL keys match no row. A key is blocked
# while its limit-th newest failure (`decisive`, NULL when it has fewer) is inside the window, and
# may try again once that failure leaves it.
_RETRY_AFTER = text(
    """
SELECT max(greatest(1, ceil(extract(epoch FROM d.decisive + w.span - w.now))))::int
  FROM (SELECT coalesce(CAST(:at AS timestamptz), statement_timestamp()) AS now,
               make_interval(secs => :window_seconds) AS span) AS w,
       (VALUES ('client', CAST(:client_id AS text), CAST(:client_limit AS int)),
               ('address', CAST(:address AS text), CAST(:address_limit AS int))) AS k(scope, key, attempts)
  JOIN client_auth_failure AS f ON f.scope = k.scope AND f.key = k.key
  CROSS JOIN LATERAL (SELECT f.failed_at[cardinality(f.failed_at) - k.attempts + 1] AS decisive) AS d
 WHERE d.decisive > w.now - w.span
"""
)

# One atomic upsert: the row keeps the newest `attempts - 1` failures still inside the window
# (`excluded.failed_at[1]` is this failure's time) and adds this one. Concurrent failures of one key
# queue on its row, so none is lost.
_RECORD = text(
    """
INSERT INTO client_auth_failure AS f (scope, key, failed_at, expires_at)
SELECT :scope, :key, ARRAY[w.now], w.now + make_interval(secs => :window_seconds)
  FROM (SELECT coalesce(CAST(:at AS timestamptz), statement_timestamp()) AS now) AS w
 WHERE true
ON CONFLICT (scope, key) DO UPDATE SET
  failed_at = ARRAY(
    SELECT recent.t FROM (
      SELECT t FROM unnest(f.failed_at) AS t
       WHERE t > excluded.failed_at[1] - make_interval(secs => :window_seconds)
       ORDER BY t DESC
       LIMIT CAST(:attempts AS int) - 1
    ) AS recent ORDER BY recent.t
  ) || excluded.failed_at,
  expires_at = excluded.expires_at
"""
)

# A few expired rows go with every recorded failure, more than one failure adds, so the table holds
# little beyond the keys that failed within the window. SKIP LOCKED: a row that another failure is
# updating right now is not expired, and is never waited for.
_PRUNE = text(
    """
DELETE FROM client_auth_failure
 WHERE (scope, key) IN (
   SELECT scope, key FROM client_auth_failure
    WHERE expires_at <= coalesce(CAST(:at AS timestamptz), statement_timestamp())
    ORDER BY expires_at
    LIMIT 100
    FOR UPDATE SKIP LOCKED)
"""
)


@dataclass(frozen=True, slots=True)
class ClientAuthLimiter:
    per_client: int
    per_address: int
    window_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "ClientAuthLimiter":
        return cls(
            per_client=settings.client_auth_failures_per_client,
            per_address=settings.client_auth_failures_per_address,
            window_seconds=settings.client_auth_failure_window_seconds,
        )

    async def retry_after(
        self, session: AsyncSession, client_id: str | None, address: str | None, *, at: datetime | None = None
    ) -> int | None:
        """Seconds until this client id and address may try again, or None when both are under
        their limits."""
        if not client_id and not address:
            return None
        wait: int | None = await session.scalar(
            _RETRY_AFTER,
            {
                "client_id": client_id or None,
                "address": address or None,
                "client_limit": self.per_client,
                "address_limit": self.per_address,
                "window_seconds": self.window_seconds,
                "at": at,
            },
        )
        return wait

    async def record_failure(
        self, session: AsyncSession, client_id: str | None, address: str | None, *, at: datetime | None = None
    ) -> None:
        """Count one failed attempt against the client id and the address, in the caller's unit
        of work."""
        window = {"window_seconds": self.window_seconds, "at": at}
        await session.execute(_PRUNE, {"at": at})
        keys = ((CLIENT, client_id, self.per_client), (ADDRESS, address, self.per_address))
        for scope, key, attempts in keys:
            if key:
                await session.execute(_RECORD, {"scope": scope, "key": key, "attempts": attempts, **window})
