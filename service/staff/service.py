"""Rules for staff members. Routers and GraphQL resolvers both call these; they flush, never commit.

Staff identity (name, external reference) is personal data: callers without
`staff_identity:read` get the rest of the record with those fields null (a care worker can see
who is on a team by role and tenure, not by name), and every read that returns identity is
written to the access log.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.audit.service import record_access
from service.auth.principal import Principal
from service.errors import Conflict, InvalidInput
from service.model_helpers import utcnow
from service.pagination import Page
from service.policy import Permission, allowed
from service.reference.listing import split_page
from service.reference.rules import (
    check_may_write_row,
    check_service_filter,
    check_service_refs,
    check_source_system,
    effective_source_system,
    error,
    merged_service_ids,
    out_of_scope,
    reference_taken,
    require_found,
    visible_service_ids,
)
from service.reference.writes import Synced, assign
from service.staff import repository
from service.staff.models import StaffMember
from service.staff.schemas import (
    StaffFilter,
    StaffMemberCreate,
    StaffMemberFields,
    StaffMemberPublic,
    StaffMemberSync,
    StaffMemberUpdate,
)
from service.vocabulary import StaffRole

RESOURCE = "staff_member"
COLLECTION = "staff"


def may_read_identity(principal: Principal) -> bool:
    return allowed(principal, Permission.staff_identity_read)


def _public(principal: Principal, row: StaffMember, service_ids: set[uuid.UUID]) -> StaffMemberPublic:
    identity = may_read_identity(principal)
    return StaffMemberPublic(
        id=row.id,
        role=StaffRole(row.role),
        service_ids=visible_service_ids(principal, service_ids),
        started_on=row.started_on,
        left_on=row.left_on,
        display_name=row.display_name if identity else None,
        source_system=row.source_system,
        external_ref=row.external_ref if identity else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _record(session: AsyncSession, principal: Principal, action: str, ids: list[uuid.UUID]) -> None:
    record_access(
        session, principal=principal, action=f"{RESOURCE}.{action}", resource_type=RESOURCE, record_ids=ids
    )


def _check_dates(started_on: date, left_on: date | None, *, blame: str = "left_on") -> None:
    if left_on is not None and left_on < started_on:
        raise InvalidInput(
            f"{blame}: a staff member cannot leave before starting",
            errors=[error(blame, "dates_ordered", f"left_on {left_on} is before started_on {started_on}")],
        )


def _stored_values(data: StaffMemberFields) -> dict[str, Any]:
    return {
        "role": data.role.value,
        "started_on": data.started_on,
        "left_on": data.left_on,
        "display_name": data.display_name,
    }


async def create_staff_member(
    *, session: AsyncSession, principal: Principal, data: StaffMemberCreate
) -> StaffMemberPublic:
    source_system = effective_source_system(principal, data.source_system, data.external_ref)
    _check_dates(data.started_on, data.left_on)
    await check_service_refs(session, principal, data.service_ids)
    organisation_id = principal.require_organisation()
    row = StaffMember(
        organisation_id=organisation_id,
        source_system=source_system,
        external_ref=data.external_ref,
        **_stored_values(data),
    )
    stored = await repository.insert(session, row)
    if stored is None:
        raise reference_taken(COLLECTION, source_system, data.external_ref)
    wanted = set(data.service_ids)
    await repository.links.replace(session, organisation_id, stored.id, current=set(), wanted=wanted)
    _record(session, principal, "create", [stored.id])
    await session.flush()
    return _public(principal, stored, wanted)


async def list_staff_members(
    *,
    session: AsyncSession,
    principal: Principal,
    filters: StaffFilter,
    limit: int,
    cursor: str | None = None,
    today: date | None = None,
) -> Page[StaffMemberPublic]:
    """Current staff by default; `include_leavers` adds those who have left, `active_on` asks about a day."""
    if filters.service_id is not None:
        await check_service_filter(session, principal, filters.service_id)
    rows = await repository.list_page(
        session,
        principal,
        filters,
        today=today or datetime.now(UTC).date(),
        limit=limit,
        cursor=cursor,
    )
    page, next_cursor = split_page(rows, limit)
    services = await repository.links.load(session, principal.require_organisation(), [r.id for r in page])
    if page and may_read_identity(principal):
        _record(session, principal, "list", [r.id for r in page])
    return Page[StaffMemberPublic](
        items=[_public(principal, r, services[r.id]) for r in page], next_cursor=next_cursor
    )


async def get_staff_member(
    *, session: AsyncSession, principal: Principal, staff_member_id: uuid.UUID
) -> StaffMemberPublic:
    row = require_found(await repository.get(session, principal, staff_member_id), RESOURCE, staff_member_id)
    services = await repository.links.load(session, row.organisation_id, [row.id])
    if may_read_identity(principal):
        _record(session, principal, "read", [row.id])
    return _public(principal, row, services[row.id])


async def staff_members_by_id(
    *, session: AsyncSession, principal: Principal, staff_member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, StaffMemberPublic]:
    """The staff among `staff_member_ids` the caller may read, as `get_staff_member` answers each
    (identity only for roles that may read it, and then logged), in one statement per table."""
    stmt = repository.readable(principal).where(col(StaffMember.id).in_(staff_member_ids))
    rows = (await session.scalars(stmt)).all()
    services = await repository.links.load(session, principal.require_organisation(), [r.id for r in rows])
    if rows and may_read_identity(principal):
        _record(session, principal, "read", [r.id for r in rows])
    return {r.id: _public(principal, r, services[r.id]) for r in rows}


async def _apply(
    session: AsyncSession,
    principal: Principal,
    row: StaffMember,
    values: dict[str, Any],
    requested_services: list[uuid.UUID] | None,
) -> tuple[bool, set[uuid.UUID]]:
    """Write the changed fields and (already checked) links of a locked row."""
    current = (await repository.links.load(session, row.organisation_id, [row.id]))[row.id]
    wanted = current
    if requested_services is not None:
        wanted = merged_service_ids(principal, current, requested_services)
    changed = assign(row, values)
    if wanted != current:
        await repository.links.replace(session, row.organisation_id, row.id, current=current, wanted=wanted)
        changed = True
    if changed:
        row.updated_at = utcnow()
        _record(session, principal, "update", [row.id])
        await session.flush()
    return changed, wanted


async def update_staff_member(
    *, session: AsyncSession, principal: Principal, staff_member_id: uuid.UUID, data: StaffMemberUpdate
) -> StaffMemberPublic:
    """Change some fields; a leaver is recorded by setting `left_on` (and un-recorded by clearing it)."""
    row = require_found(
        await repository.get(session, principal, staff_member_id, for_update=True), RESOURCE, staff_member_id
    )
    check_may_write_row(principal, row.source_system)
    changes = data.changes()
    requested_services = changes.pop("service_ids", None)
    if "role" in changes:
        changes["role"] = changes["role"].value
    _check_dates(
        changes.get("started_on", row.started_on),
        changes.get("left_on", row.left_on),
        blame="left_on" if "left_on" in changes else "started_on",
    )
    if requested_services is not None:
        await check_service_refs(session, principal, requested_services)
    _, services = await _apply(session, principal, row, changes, requested_services)
    return _public(principal, row, services)


async def sync_staff_member_by_ref(
    *,
    session: AsyncSession,
    principal: Principal,
    source_system: str,
    external_ref: str,
    data: StaffMemberSync,
) -> Synced[StaffMemberPublic]:
    """Create or update the staff member its source system calls `external_ref`; a repeat changes nothing."""
    check_source_system(principal, source_system, field="source_system")
    _check_dates(data.started_on, data.left_on)
    await check_service_refs(session, principal, data.service_ids)
    organisation_id = principal.require_organisation()
    values = _stored_values(data)
    row = await repository.get_by_ref(session, organisation_id, source_system, external_ref, for_update=True)
    if row is None:
        new = StaffMember(
            organisation_id=organisation_id, source_system=source_system, external_ref=external_ref, **values
        )
        stored = await repository.insert(session, new)
        if stored is not None:
            wanted = set(data.service_ids)
            await repository.links.replace(session, organisation_id, stored.id, current=set(), wanted=wanted)
            _record(session, principal, "create", [stored.id])
            await session.flush()
            return Synced(_public(principal, stored, wanted), created=True)
        # A concurrent sync of the same reference inserted it first: update that row instead.
        row = await repository.get_by_ref(
            session, organisation_id, source_system, external_ref, for_update=True
        )
        if row is None:
            raise Conflict("the reference changed while it was being synced; retry the request")
    current = (await repository.links.load(session, organisation_id, [row.id]))[row.id]
    if principal.service_ids is not None and not current & principal.service_ids:
        raise out_of_scope("staff member")
    _, services = await _apply(session, principal, row, values, list(data.service_ids))
    return Synced(_public(principal, row, services), created=False)
