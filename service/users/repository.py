"""User account queries; every statement names the organisation."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import any_, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.users.models import UserAccount

_c = UserAccount.__table__.c  # type: ignore[attr-defined]


async def get_user(
    session: AsyncSession, *, organisation_id: uuid.UUID, user_id: uuid.UUID
) -> UserAccount | None:
    statement = select(UserAccount).where(_c.organisation_id == organisation_id, _c.id == user_id)
    return (await session.execute(statement)).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class AccountGrant:
    """What a token's account decides: the roles and services it gives, and whether it is disabled."""

    id: uuid.UUID
    roles: list[str]
    service_ids: list[uuid.UUID] | None
    disabled: bool


_FIND_ACCOUNT_SQL = text(
    """
SELECT id, roles, service_ids, disabled_at IS NOT NULL
  FROM user_account
 WHERE organisation_id = :organisation_id AND issuer = :issuer AND sub = :sub
"""
)


async def find_account(
    session: AsyncSession, *, organisation_id: uuid.UUID, issuer: str, sub: str
) -> AccountGrant | None:
    """Asked on every authenticated request: a plain statement, no ORM object to build."""
    row = (
        await session.execute(
            _FIND_ACCOUNT_SQL, {"organisation_id": organisation_id, "issuer": issuer, "sub": sub}
        )
    ).first()
    return None if row is None else AccountGrant(row[0], list(row[1]), row[2], row[3])


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
