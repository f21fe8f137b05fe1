"""Queries for innovations. Every statement is bound to the caller's organisation and, for callers
limited to some services, to innovations in scope at one of them."""

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.auth.principal import Principal
from service.innovations.models import Innovation, InnovationService
from service.innovations.schemas import InnovationFilter
from service.reference.links import ServiceLinks
from service.reference.listing import ordered_after
from service.reference.writes import insert_unless_taken

links = ServiceLinks(InnovationService, "innovation_id")


def readable(principal: Principal) -> Select[Innovation]:
    """The innovations this caller may read."""
    stmt = select(Innovation).where(col(Innovation.organisation_id) == principal.require_organisation())
    if principal.service_ids is not None:
        stmt = stmt.where(
            links.linked_to_any(col(Innovation.organisation_id), col(Innovation.id), principal.service_ids)
        )
    return stmt


async def get(
    session: AsyncSession, principal: Principal, innovation_id: uuid.UUID, *, for_update: bool = False
) -> Innovation | None:
    stmt = readable(principal).where(col(Innovation.id) == innovation_id)
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
) -> Innovation | None:
    """The organisation's innovation filed under this reference, whoever may read it."""
    stmt = select(Innovation).where(
        col(Innovation.organisation_id) == organisation_id,
        col(Innovation.external_ref) == external_ref,
        col(Innovation.source_system).is_(None)
        if source_system is None
        else col(Innovation.source_system) == source_system,
    )
    if for_update:
        stmt = stmt.with_for_update(key_share=True)
    return (await session.scalars(stmt)).one_or_none()


async def list_page(
    session: AsyncSession, principal: Principal, filters: InnovationFilter, *, limit: int, cursor: str | None
) -> list[Innovation]:
    stmt = readable(principal)
    if filters.service_id is not None:
        stmt = stmt.where(
            links.linked_to_any(col(Innovation.organisation_id), col(Innovation.id), [filters.service_id])
        )
    if filters.phase is not None:
        stmt = stmt.where(col(Innovation.phase) == filters.phase.value)
    if filters.source_system is not None:
        stmt = stmt.where(col(Innovation.source_system) == filters.source_system)
    stmt = ordered_after(stmt, col(Innovation.created_at), col(Innovation.id), cursor).limit(limit + 1)
    return list((await session.scalars(stmt)).all())


async def insert(session: AsyncSession, row: Innovation) -> Innovation | None:
    """None when the row's reference is already taken in the organisation."""
    return await insert_unless_taken(session, row)


async def existing_ids(
    session: AsyncSession, organisation_id: uuid.UUID, ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `ids` are innovations of the organisation: for validating references in bulk."""
    wanted = set(ids)
    if not wanted:
        return set()
    stmt = select(col(Innovation.id)).where(
        col(Innovation.organisation_id) == organisation_id, col(Innovation.id).in_(wanted)
    )
    return set((await session.scalars(stmt)).all())
