"""Queries for staff members. Every statement is bound to the caller's organisation and, for callers
limited to some services, to staff working in one of them."""

import uuid
from datetime import date

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.auth.principal import Principal
from service.reference.links import ServiceLinks
from service.reference.listing import ordered_after
from service.reference.writes import insert_unless_taken
from service.staff.models import StaffMember, StaffMemberService
from service.staff.schemas import StaffFilter

links = ServiceLinks(StaffMemberService, "staff_member_id")


def readable(principal: Principal) -> Select[StaffMember]:
    """The staff members this caller may read."""
    stmt = select(StaffMember).where(col(StaffMember.organisation_id) == principal.require_organisation())
    if principal.service_ids is not None:
        stmt = stmt.where(
            links.linked_to_any(col(StaffMember.organisation_id), col(StaffMember.id), principal.service_ids)
        )
    return stmt


async def get(
    session: AsyncSession, principal: Principal, staff_member_id: uuid.UUID, *, for_update: bool = False
) -> StaffMember | None:
    stmt = readable(principal).where(col(StaffMember.id) == staff_member_id)
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
) -> StaffMember | None:
    """The organisation's staff member filed under this reference, whoever may read it."""
    stmt = select(StaffMember).where(
        col(StaffMember.organisation_id) == organisation_id,
        col(StaffMember.external_ref) == external_ref,
        col(StaffMember.source_system).is_(None)
        if source_system is None
        else col(StaffMember.source_system) == source_system,
    )
    if for_update:
        stmt = stmt.with_for_update(key_share=True)
    return (await session.scalars(stmt)).one_or_none()


async def list_page(
    session: AsyncSession,
    principal: Principal,
    filters: StaffFilter,
    *,
    today: date,
    limit: int,
    cursor: str | None,
) -> list[StaffMember]:
    stmt = readable(principal)
    if filters.service_id is not None:
        stmt = stmt.where(
            links.linked_to_any(col(StaffMember.organisation_id), col(StaffMember.id), [filters.service_id])
        )
    if filters.role is not None:
        stmt = stmt.where(col(StaffMember.role) == filters.role.value)
    if filters.active_on is not None:
        stmt = stmt.where(
            col(StaffMember.started_on) <= filters.active_on,
            or_(col(StaffMember.left_on).is_(None), col(StaffMember.left_on) >= filters.active_on),
        )
    elif not filters.include_leavers:
        stmt = stmt.where(or_(col(StaffMember.left_on).is_(None), col(StaffMember.left_on) >= today))
    if filters.source_system is not None:
        stmt = stmt.where(col(StaffMember.source_system) == filters.source_system)
    stmt = ordered_after(stmt, col(StaffMember.created_at), col(StaffMember.id), cursor).limit(limit + 1)
    return list((await session.scalars(stmt)).all())


async def insert(session: AsyncSession, row: StaffMember) -> StaffMember | None:
    """None when the row's reference is already taken in the organisation."""
    return await insert_unless_taken(session, row)


async def existing_ids(
    session: AsyncSession, organisation_id: uuid.UUID, ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `ids` are staff members of the organisation: for validating references in bulk."""
    wanted = set(ids)
    if not wanted:
        return set()
    stmt = select(col(StaffMember.id)).where(
        col(StaffMember.organisation_id) == organisation_id, col(StaffMember.id).in_(wanted)
    )
    return set((await session.scalars(stmt)).all())
