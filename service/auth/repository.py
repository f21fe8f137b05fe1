"""Integration client queries. Every statement but the token endpoint's lookup names the tenant."""

import uuid
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.models import IntegrationClient

_c = IntegrationClient.__table__.c  # type: ignore[attr-defined]


async def get_client(
    session: AsyncSession, *, organisation_id: uuid.UUID, client_row_id: uuid.UUID
) -> IntegrationClient | None:
    statement = select(IntegrationClient).where(_c.organisation_id == organisation_id, _c.id == client_row_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def find_by_client_id(session: AsyncSession, client_id: str) -> IntegrationClient | None:
    """The token endpoint's lookup: the client id is globally unique and names its tenant."""
    statement = select(IntegrationClient).where(_c.client_id == client_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def list_clients(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    source_system: str | None,
    include_revoked: bool,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[IntegrationClient]:
    statement = select(IntegrationClient).where(_c.organisation_id == organisation_id)
    if source_system is not None:
        statement = statement.where(_c.source_system == source_system)
    if not include_revoked:
        statement = statement.where(_c.revoked_at.is_(None))
    if after is not None:
        statement = statement.where(tuple_(_c.created_at, _c.id) > tuple_(*after))
    statement = statement.order_by(_c.created_at, _c.id).limit(limit + 1)
    return list((await session.execute(statement)).scalars())
