"""The one order in which writers take the status rollups of the services they touch.

The rollup triggers (migrations 0002 and 0004) lock rollup rows statement by statement: a batch's
touchpoints lock their services' months, then its links lock the innovations' months, then incident
reviews and audit runs lock the months they recount. Two transactions that touch the same months in
different orders would each hold what the other waits for (a deadlock, 40P01). So before the first
statement whose triggers touch a rollup, every transaction that changes touchpoints or their links
takes one transaction-scoped advisory lock per service whose rollups it will touch (the touchpoints'
services, the services of the incidents that reviews follow, a corrected record's old service), all
at once and in key order. Every
rollup row belongs to one service, so two writers never contend on a rollup row without first
queueing on that service's lock, and locks taken in one order cannot deadlock.

Keys are the two-integer form of advisory locks, a space apart from the single-key locks that
Idempotency-Keys take; the second integer is a hash of (organisation, service). A collision only
makes two services share a queue.
"""

import hashlib
import uuid
from collections.abc import Iterable, Sequence

import asyncpg

# The kinds whose rows the touchpoint's own insert trigger counts (status_add_service counts
# supervisions and incidents; status_refresh_incidents recounts the months of incidents and of those
# that reviews follow). Every other row is counted only when its links are inserted, so a writer of
# only such rows may take its locks after inserting the rows and before inserting their links.
KINDS_COUNTED_ON_INSERT = frozenset({"supervision", "incident", "post_incident_review"})

# The first key of every rollup lock: ASCII "roll".
ROLLUP_LOCK_CLASS = 0x726F6C6C

LOCK_SQL = """
SELECT count(pg_advisory_xact_lock($1::int4, k)) FROM unnest($2::int4[]) AS k
"""


def rollup_lock_keys(organisation_id: uuid.UUID, service_ids: Iterable[uuid.UUID]) -> list[int]:
    """The second keys of the services' rollup locks, distinct and in the order they must be taken."""
    keys = set()
    for service_id in service_ids:
        digest = hashlib.blake2b(organisation_id.bytes + service_id.bytes, digest_size=4).digest()
        keys.add(int.from_bytes(digest, "big", signed=True))
    return sorted(keys)


async def lock_service_rollups(
    conn: asyncpg.Connection, organisation_id: uuid.UUID, service_ids: Iterable[uuid.UUID]
) -> None:
    """Wait for, and hold until the transaction ends, the rollup locks of these services."""
    await lock_rollups(conn, rollup_lock_keys(organisation_id, service_ids))


async def lock_rollups(conn: asyncpg.Connection, keys: Sequence[int]) -> None:
    """Wait for, and hold until the transaction ends, the rollup locks of these keys (in order)."""
    if keys:
        await conn.fetchval(LOCK_SQL, ROLLUP_LOCK_CLASS, list(keys))


async def lock_organisation_rollups(conn: asyncpg.Connection, organisation_id: uuid.UUID) -> None:
    """Hold the rollup locks of all the organisation's services: before its rollups are rebuilt."""
    rows = await conn.fetch("SELECT id FROM service WHERE organisation_id = $1", organisation_id)
    await lock_service_rollups(conn, organisation_id, (r[0] for r in rows))
