"""Queries for organisations, commissioning relationships and access grants."""

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.organisations.models import AccessGrant, CommissioningRelationship, Organisation
from service.services.models import Service

_org = Organisation.__table__.c  # type: ignore[attr-defined]
_rel = CommissioningRelationship.__table__.c  # type: ignore[attr-defined]
_grant = AccessGrant.__table__.c  # type: ignore[attr-defined]
_service = Service.__table__.c  # type: ignore[attr-defined]


# Organisations


async def get_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation | None:
    return await session.get(Organisation, organisation_id)


async def list_organisations(
    session: AsyncSession,
    *,
    kind: str | None,
    name: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Organisation]:
    statement = select(Organisation)
    if kind is not None:
        statement = statement.where(_org.kind == kind)
    if name is not None:
        statement = statement.where(_org.name.ilike(f"%{_escape_like(name)}%", escape="\\"))
    if after is not None:
        statement = statement.where(tuple_(_org.created_at, _org.id) > tuple_(*after))
    statement = statement.order_by(_org.created_at, _org.id).limit(limit + 1)
    return list((await session.execute(statement)).scalars())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def services_of_organisation(
    session: AsyncSession, organisation_id: uuid.UUID, service_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `service_ids` are services of this organisation (one query, bound to the tenant)."""
    wanted = list(set(service_ids))
    if not wanted:
        return set()
    statement = select(_service.id).where(
        _service.organisation_id == organisation_id, _service.id.in_(wanted)
    )
    return set((await session.execute(statement)).scalars())


# Commissioning relationships


def _active_on(starts: ColumnElement[date], ends: ColumnElement[date], on: date) -> ColumnElement[bool]:
    return and_(starts <= on, or_(ends.is_(None), ends >= on))


async def get_relationship(
    session: AsyncSession, relationship_id: uuid.UUID
) -> CommissioningRelationship | None:
    return await session.get(CommissioningRelationship, relationship_id)


async def list_relationships(
    session: AsyncSession,
    *,
    commissioner_id: uuid.UUID | None,
    provider_id: uuid.UUID | None,
    active_on: date | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[CommissioningRelationship]:
    statement = select(CommissioningRelationship)
    if commissioner_id is not None:
        statement = statement.where(_rel.commissioner_id == commissioner_id)
    if provider_id is not None:
        statement = statement.where(_rel.provider_id == provider_id)
    if active_on is not None:
        statement = statement.where(_active_on(_rel.starts_on, _rel.ends_on, active_on))
    if after is not None:
        statement = statement.where(tuple_(_rel.created_at, _rel.id) > tuple_(*after))
    statement = statement.order_by(_rel.created_at, _rel.id).limit(limit + 1)
    return list((await session.execute(statement)).scalars())


async def active_commissioning(
    session: AsyncSession, *, commissioner_id: uuid.UUID, provider_id: uuid.UUID | None, on: date
) -> list[CommissioningRelationship]:
    """The commissioner's relationships in force on `on` (with one provider, or all)."""
    statement = select(CommissioningRelationship).where(
        _rel.commissioner_id == commissioner_id, _active_on(_rel.starts_on, _rel.ends_on, on)
    )
    if provider_id is not None:
        statement = statement.where(_rel.provider_id == provider_id)
    return list((await session.execute(statement.order_by(_rel.provider_id, _rel.id))).scalars())


# Access grants


async def get_grant(
    session: AsyncSession, *, organisation_id: uuid.UUID, grant_id: uuid.UUID
) -> AccessGrant | None:
    statement = select(AccessGrant).where(_grant.organisation_id == organisation_id, _grant.id == grant_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def list_grants(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    regulator_id: uuid.UUID | None,
    active_on: date | None,
    include_revoked: bool,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[AccessGrant]:
    statement = select(AccessGrant).where(_grant.organisation_id == organisation_id)
    if regulator_id is not None:
        statement = statement.where(_grant.regulator_id == regulator_id)
    if active_on is not None:
        statement = statement.where(_active_on(_grant.starts_on, _grant.ends_on, active_on))
    if not include_revoked or active_on is not None:
        statement = statement.where(_grant.revoked_at.is_(None))
    if after is not None:
        statement = statement.where(tuple_(_grant.created_at, _grant.id) > tuple_(*after))
    statement = statement.order_by(_grant.created_at, _grant.id).limit(limit + 1)
    return list((await session.execute(statement)).scalars())


async def active_grants(
    session: AsyncSession, *, regulator_id: uuid.UUID, provider_id: uuid.UUID | None, on: date
) -> list[AccessGrant]:
    """The regulator's unrevoked grants in force on `on` (from one provider, or all)."""
    statement = select(AccessGrant).where(
        _grant.regulator_id == regulator_id,
        _grant.revoked_at.is_(None),
        _active_on(_grant.starts_on, _grant.ends_on, on),
    )
    if provider_id is not None:
        statement = statement.where(_grant.organisation_id == provider_id)
    return list((await session.execute(statement.order_by(_grant.organisation_id, _grant.id))).scalars())
