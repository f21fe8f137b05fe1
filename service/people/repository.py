"""Queries for person references. Every statement is bound to the caller's organisation and, for
callers limited to some services, to people supported by one of them."""

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.auth.principal import Principal
from service.people.models import PersonRef, PersonRefService
from service.people.schemas import PersonRefFilter
from service.reference.links import ServiceLinks
from service.reference.listing import ordered_after
from service.reference.writes import insert_unless_taken

links = ServiceLinks(PersonRefService, "person_ref_id")


def readable(principal: Principal) -> Select[PersonRef]:
    """The person references this caller may read."""
    stmt = select(PersonRef).where(col(PersonRef.organisation_id) == principal.require_organisation())
    if principal.service_ids is not None:
        stmt = stmt.where(
            links.linked_to_any(col(PersonRef.organisation_id), col(PersonRef.id), principal.service_ids)
        )
    return stmt


async def get(
    session: AsyncSession, principal: Principal, person_ref_id: uuid.UUID, *, for_update: bool = False
) -> PersonRef | None:
    stmt = readable(principal).where(col(PersonRef.id) == person_ref_id)
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
) -> PersonRef | None:
    """The organisation's person filed under this reference, whoever may read it."""
    stmt = select(PersonRef).where(
        col(PersonRef.organisation_id) == organisation_id,
        col(PersonRef.external_ref) == external_ref,
        col(PersonRef.source_system).is_(None)
        if source_system is None
        else col(PersonRef.source_system) == source_system,
    )
    if for_update:
        stmt = stmt.with_for_update(key_share=True)
    return (await session.scalars(stmt)).one_or_none()


async def list_page(
    session: AsyncSession, principal: Principal, filters: PersonRefFilter, *, limit: int, cursor: str | None
) -> list[PersonRef]:
    stmt = readable(principal)
    if filters.service_id is not None:
        stmt = stmt.where(
            links.linked_to_any(col(PersonRef.organisation_id), col(PersonRef.id), [filters.service_id])
        )
    if filters.source_system is not None:
        stmt = stmt.where(col(PersonRef.source_system) == filters.source_system)
    if filters.external_ref is not None:
        stmt = stmt.where(col(PersonRef.external_ref) == filters.external_ref)
    stmt = ordered_after(stmt, col(PersonRef.created_at), col(PersonRef.id), cursor).limit(limit + 1)
    return list((await session.scalars(stmt)).all())


async def insert(session: AsyncSession, row: PersonRef) -> PersonRef | None:
    """None when the row's reference is already taken in the organisation."""
    return await insert_unless_taken(session, row)


async def existing_ids(
    session: AsyncSession, organisation_id: uuid.UUID, ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `ids` are person references of the organisation: for validating references in bulk."""
    wanted = set(ids)
    if not wanted:
        return set()
    stmt = select(col(PersonRef.id)).where(
        col(PersonRef.organisation_id) == organisation_id, col(PersonRef.id).in_(wanted)
    )
    return set((await session.scalars(stmt)).all())
