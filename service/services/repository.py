"""Queries for services. Every statement is bound to the caller's organisation (and, for callers
limited to some services, to those services)."""

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.auth.principal import Principal
from service.reference.listing import ordered_after
from service.reference.rules import service_ids_in_organisation
from service.reference.writes import insert_unless_taken
from service.services.models import Service
from service.services.schemas import ServiceFilter


def readable(principal: Principal) -> Select[Service]:
    """The services this caller may read."""
    stmt = select(Service).where(col(Service.organisation_id) == principal.require_organisation())
    if principal.service_ids is not None:
        stmt = stmt.where(col(Service.id).in_(principal.service_ids))
    return stmt


async def get(
    session: AsyncSession, principal: Principal, service_id: uuid.UUID, *, for_update: bool = False
) -> Service | None:
    stmt = readable(principal).where(col(Service.id) == service_id)
    if for_update:
        stmt = stmt.with_for_update(key_share=True)
    return (await session.scalars(stmt)).one_or_none()


async def get_by_ref(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    source_system: str | None,
    external_ref: str,
    *,
    for_update: bool = False,
) -> Service | None:
    """The organisation's service filed under this reference, whoever may read it."""
    stmt = select(Service).where(
        col(Service.organisation_id) == organisation_id,
        col(Service.external_ref) == external_ref,
        col(Service.source_system).is_(None)
        if source_system is None
        else col(Service.source_system) == source_system,
    )
    if for_update:
        stmt = stmt.with_for_update(key_share=True)
    return (await session.scalars(stmt)).one_or_none()


async def list_page(
    session: AsyncSession, principal: Principal, filters: ServiceFilter, *, limit: int, cursor: str | None
) -> list[Service]:
    stmt = readable(principal)
    if filters.source_system is not None:
        stmt = stmt.where(col(Service.source_system) == filters.source_system)
    if filters.cqc_location_id is not None:
        stmt = stmt.where(col(Service.cqc_location_id) == filters.cqc_location_id)
    stmt = ordered_after(stmt, col(Service.created_at), col(Service.id), cursor).limit(limit + 1)
    return list((await session.scalars(stmt)).all())


async def insert(session: AsyncSession, row: Service) -> Service | None:
    """None when the row's reference is already taken in the organisation."""
    return await insert_unless_taken(session, row)


async def existing_ids(
    session: AsyncSession, organisation_id: uuid.UUID, ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `ids` are services of the organisation: for validating references in bulk."""
    return await service_ids_in_organisation(session, organisation_id, ids)
