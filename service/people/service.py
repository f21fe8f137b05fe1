"""Rules for person references. Routers and GraphQL resolvers both call these; they flush, never commit.

A person reference is pseudonymous (an external id and where the person is supported). A caller
limited to some services reads only people linked to them, so it names at least one of its
services when it creates one.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.audit.service import record_access
from service.auth.principal import Principal
from service.errors import Conflict, InvalidInput
from service.model_helpers import utcnow
from service.pagination import Page
from service.people import repository
from service.people.models import PersonRef
from service.people.schemas import (
    PersonRefCreate,
    PersonRefFilter,
    PersonRefPublic,
    PersonRefSync,
    PersonRefUpdate,
)
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
from service.reference.writes import Synced

RESOURCE = "person_ref"
COLLECTION = "people"


def _public(principal: Principal, row: PersonRef, service_ids: set[uuid.UUID]) -> PersonRefPublic:
    return PersonRefPublic(
        id=row.id,
        external_ref=row.external_ref,
        source_system=row.source_system,
        service_ids=visible_service_ids(principal, service_ids),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _record(session: AsyncSession, principal: Principal, action: str, row: PersonRef) -> None:
    record_access(
        session,
        principal=principal,
        action=f"{RESOURCE}.{action}",
        resource_type=RESOURCE,
        record_ids=[row.id],
    )


def _check_visible_to_creator(principal: Principal, service_ids: list[uuid.UUID]) -> None:
    if principal.service_ids is not None and not service_ids:
        raise InvalidInput(
            "service_ids: name at least one of your services",
            errors=[
                error(
                    "service_ids",
                    "too_short",
                    "a caller limited to some services names one of them, or could not read the person",
                )
            ],
        )


async def _insert(
    session: AsyncSession, principal: Principal, row: PersonRef, service_ids: list[uuid.UUID]
) -> PersonRefPublic | None:
    stored = await repository.insert(session, row)
    if stored is None:
        return None
    wanted = set(service_ids)
    await repository.links.replace(session, row.organisation_id, stored.id, current=set(), wanted=wanted)
    _record(session, principal, "create", stored)
    await session.flush()
    return _public(principal, stored, wanted)


async def _update(
    session: AsyncSession, principal: Principal, row: PersonRef, requested: list[uuid.UUID] | None
) -> PersonRefPublic:
    """Change the (already checked) services of a locked row; nothing else of a person changes."""
    current = (await repository.links.load(session, row.organisation_id, [row.id]))[row.id]
    wanted = current if requested is None else merged_service_ids(principal, current, requested)
    if wanted != current:
        await repository.links.replace(session, row.organisation_id, row.id, current=current, wanted=wanted)
        row.updated_at = utcnow()
        _record(session, principal, "update", row)
        await session.flush()
    return _public(principal, row, wanted)


async def create_person_ref(
    *, session: AsyncSession, principal: Principal, data: PersonRefCreate
) -> PersonRefPublic:
    source_system = effective_source_system(principal, data.source_system, data.external_ref)
    _check_visible_to_creator(principal, data.service_ids)
    await check_service_refs(session, principal, data.service_ids)
    row = PersonRef(
        organisation_id=principal.require_organisation(),
        source_system=source_system,
        external_ref=data.external_ref,
    )
    created = await _insert(session, principal, row, data.service_ids)
    if created is None:
        raise reference_taken(COLLECTION, source_system, data.external_ref)
    return created


async def list_person_refs(
    *,
    session: AsyncSession,
    principal: Principal,
    filters: PersonRefFilter,
    limit: int,
    cursor: str | None = None,
) -> Page[PersonRefPublic]:
    if filters.service_id is not None:
        await check_service_filter(session, principal, filters.service_id)
    rows = await repository.list_page(session, principal, filters, limit=limit, cursor=cursor)
    page, next_cursor = split_page(rows, limit)
    services = await repository.links.load(session, principal.require_organisation(), [r.id for r in page])
    return Page[PersonRefPublic](
        items=[_public(principal, r, services[r.id]) for r in page], next_cursor=next_cursor
    )


async def get_person_ref(
    *, session: AsyncSession, principal: Principal, person_ref_id: uuid.UUID
) -> PersonRefPublic:
    row = require_found(await repository.get(session, principal, person_ref_id), RESOURCE, person_ref_id)
    services = await repository.links.load(session, row.organisation_id, [row.id])
    return _public(principal, row, services[row.id])


async def people_by_id(
    *, session: AsyncSession, principal: Principal, person_ref_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, PersonRefPublic]:
    """The people among `person_ref_ids` the caller may read, in one statement per table."""
    stmt = repository.readable(principal).where(col(PersonRef.id).in_(person_ref_ids))
    rows = (await session.scalars(stmt)).all()
    services = await repository.links.load(session, principal.require_organisation(), [r.id for r in rows])
    return {r.id: _public(principal, r, services[r.id]) for r in rows}


async def update_person_ref(
    *, session: AsyncSession, principal: Principal, person_ref_id: uuid.UUID, data: PersonRefUpdate
) -> PersonRefPublic:
    row = require_found(
        await repository.get(session, principal, person_ref_id, for_update=True), RESOURCE, person_ref_id
    )
    check_may_write_row(principal, row.source_system)
    if data.service_ids is not None:
        await check_service_refs(session, principal, data.service_ids)
    return await _update(session, principal, row, data.service_ids)


async def sync_person_ref_by_ref(
    *,
    session: AsyncSession,
    principal: Principal,
    source_system: str,
    external_ref: str,
    data: PersonRefSync,
) -> Synced[PersonRefPublic]:
    """Create the person its source system calls `external_ref`, or update its services; a repeat
    changes nothing."""
    check_source_system(principal, source_system, field="source_system")
    requested = data.service_ids
    if requested is not None:
        await check_service_refs(session, principal, requested)
    organisation_id = principal.require_organisation()
    row = await repository.get_by_ref(session, organisation_id, source_system, external_ref, for_update=True)
    if row is None:
        _check_visible_to_creator(principal, requested or [])
        new = PersonRef(
            organisation_id=organisation_id, source_system=source_system, external_ref=external_ref
        )
        created = await _insert(session, principal, new, requested or [])
        if created is not None:
            return Synced(created, created=True)
        # A concurrent sync of the same reference inserted it first: update that row instead.
        row = await repository.get_by_ref(
            session, organisation_id, source_system, external_ref, for_update=True
        )
        if row is None:
            raise Conflict("the reference changed while it was being synced; retry the request")
    current = (await repository.links.load(session, organisation_id, [row.id]))[row.id]
    if principal.service_ids is not None and not current & principal.service_ids:
        raise out_of_scope("person")
    return Synced(await _update(session, principal, row, requested), created=False)
