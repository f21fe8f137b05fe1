"""User account queries; every statement names the organisation."""

import uuid
from datetime import datetime

from sqlalchemy import any_, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.users.models import UserAccount

_c = UserAccount.__table__.c  # type: ignore[attr-defined]


async def get_user(
    session: AsyncSession, *, organisation_id: uuid.UUID, user_id: uuid.UUID
) -> UserAccount | None:
    statement = select(UserAccount).where(_c.organisation_id == organisation_id, _c.id == user_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def find_account(
    session: AsyncSession, *, organisation_id: uuid.UUID, issuer: str, sub: str
) -> UserAccount | None:
    statement = select(UserAccount).where(
        _c.organisation_id == organisation_id, _c.issuer == issuer, _c.sub == sub
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def list_users(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    role: str | None,
    issuer: str | None,
    sub: str | None,
    include_disabled: bool,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[UserAccount]:
    statement = select(UserAccount).where(_c.organisation_id == organisation_id)
    if role is not None:
        statement = statement.where(literal(role) == any_(_c.roles))
    if issuer is not None:
        statement = statement.where(_c.issuer == issuer)
    if sub is not None:
        statement = statement.where(_c.sub == sub)
    if not include_disabled:
        statement = statement.where(_c.disabled_at.is_(None))
    if after is not None:
        statement = statement.where(tuple_(_c.created_at, _c.id) > tuple_(*after))
    statement = statement.order_by(_c.created_at, _c.id).limit(limit + 1)
    return list((await session.execute(statement)).scalars())
