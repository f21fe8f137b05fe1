"""Reading the access log: always one organisation's entries, newest first, keyset-paginated by id."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.models import AccessLogEntry


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
