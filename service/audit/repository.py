"""Reading the access log: always one organisation's entries, newest first, keyset-paginated by id."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.models import AccessLogEntry

# Beyond this many ids an entry keeps the count only, so a bulk read does not write a huge row.
MAX_IDS_PER_ENTRY = 1000

# The columns a statement that writes an entry alongside other rows binds, in this order; the ids
# (record_ids, record_count) come from the rows that statement wrote.
ENTRY_COLUMNS = (
    "organisation_id",
    "at",
    "sub",
    "actor_organisation_id",
    "roles",
    "client_id",
    "action",
    "resource_type",
    "method",
    "path",
    "ip",
    "request_id",
)
ENTRY_TYPES = (
    "uuid",
    "timestamptz",
    "text",
    "uuid",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
)


def entry_values(entry: AccessLogEntry) -> list[Any]:
    """`entry`'s values in ENTRY_COLUMNS order."""
    return [getattr(entry, name) for name in ENTRY_COLUMNS]


def insert_entry_sql(first_parameter: int, ids: str) -> str:
    """An INSERT of one entry whose values are bound from parameter `first_parameter` on (in
    ENTRY_COLUMNS order), listing the ids that the SQL expression `ids` (a uuid[]) yields.
    Nothing is written when `ids` is empty."""
    values = ", ".join(f"${first_parameter + n}::{sql_type}" for n, sql_type in enumerate(ENTRY_TYPES))
    return f"""
INSERT INTO access_log ({", ".join(ENTRY_COLUMNS)}, record_ids, record_count)
SELECT {values}, logged.ids[1:{MAX_IDS_PER_ENTRY}], cardinality(logged.ids)
  FROM (SELECT {ids} AS ids) AS logged
 WHERE cardinality(logged.ids) > 0
"""  # noqa: S608


@dataclass(frozen=True, slots=True)
class AccessLogFilter:
    action: str | None = None
    sub: str | None = None
    resource_type: str | None = None
    at_from: datetime | None = None
    at_to: datetime | None = None


async def list_entries(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    filters: AccessLogFilter,
    before_id: int | None,
    limit: int,
) -> list[AccessLogEntry]:
    """Up to `limit` + 1 entries, so the caller can tell whether another page follows."""
    column = AccessLogEntry.__table__.c  # type: ignore[attr-defined]
    statement = select(AccessLogEntry).where(column.organisation_id == organisation_id)
    if filters.action is not None:
        statement = statement.where(column.action == filters.action)
    if filters.sub is not None:
        statement = statement.where(column.sub == filters.sub)
    if filters.resource_type is not None:
        statement = statement.where(column.resource_type == filters.resource_type)
    if filters.at_from is not None:
        statement = statement.where(column.at >= filters.at_from)
    if filters.at_to is not None:
        statement = statement.where(column.at < filters.at_to)
    if before_id is not None:
        statement = statement.where(column.id < before_id)
    statement = statement.order_by(column.id.desc()).limit(limit + 1)
    return list((await session.execute(statement)).scalars())
