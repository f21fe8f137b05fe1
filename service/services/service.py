"""Rules for services. Routers and GraphQL resolvers both call these; they flush, never commit."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.audit.service import record_access
from service.auth.principal import Principal
from service.database import driver_connection
from service.errors import Conflict
from service.model_helpers import utcnow
from service.pagination import Page
from service.projections.marking import mark_provider
from service.reference.listing import split_page
from service.reference.rules import (
    check_may_write_row,
    check_source_system,
    check_unlimited,
    effective_source_system,
    out_of_scope,
    reference_taken,
    require_found,
)
from service.reference.writes import Synced, assign
from service.services import repository
from service.services.models import DEFAULT_SHIFT_PATTERN, Service
from service.services.schemas import (
    ServiceCreate,
    ServiceFields,
    ServiceFilter,
    ServicePublic,
    ServiceSync,
    ServiceUpdate,
)
from service.status.locks import lock_organisation_rollups

RESOURCE = "service"
COLLECTION = "services"


def _stored_values(data: ServiceFields) -> dict[str, Any]:
    return {
        "name": data.name,
        "timezone": data.timezone,
        "cqc_location_id": data.cqc_location_id,
        "shift_pattern": data.shift_pattern.model_dump()
        if data.shift_pattern is not None
        else dict(DEFAULT_SHIFT_PATTERN),
    }


def _public(row: Service) -> ServicePublic:
    return ServicePublic.model_validate(row)


def _record(session: AsyncSession, principal: Principal, action: str, row: Service) -> None:
    record_access(
        session,
        principal=principal,
        action=f"{RESOURCE}.{action}",
        resource_type=RESOURCE,
        record_ids=[row.id],
    )


async def _before_timezone_change(session: AsyncSession, row: Service, timezone: str | None) -> None:
    """A new time zone moves the service's touchpoints between months, so the update rebuilds the
    organisation's rollups (a trigger): it first queues, in the writers' one order, for all of them."""
    if timezone is not None and timezone != row.timezone:
        await lock_organisation_rollups(await driver_connection(session), row.organisation_id)
        await mark_provider(session, row.organisation_id)


async def create_service(
    *, session: AsyncSession, principal: Principal, data: ServiceCreate
) -> ServicePublic:
    # A new service concerns the whole provider, not a manager's own services.
    check_unlimited(principal, "creating a service")
    source_system = effective_source_system(principal, data.source_system, data.external_ref)
    row = Service(
        organisation_id=principal.require_organisation(),
        source_system=source_system,
        external_ref=data.external_ref,
        **_stored_values(data),
    )
    stored = await repository.insert(session, row)
    if stored is None:
        raise reference_taken(COLLECTION, source_system, data.external_ref)
    _record(session, principal, "create", stored)
    await session.flush()
    return _public(stored)


async def list_services(
    *,
    session: AsyncSession,
    principal: Principal,
    filters: ServiceFilter,
    limit: int,
    cursor: str | None = None,
) -> Page[ServicePublic]:
    rows = await repository.list_page(session, principal, filters, limit=limit, cursor=cursor)
    page, next_cursor = split_page(rows, limit)
    return Page[ServicePublic](items=[_public(r) for r in page], next_cursor=next_cursor)


async def get_service(*, session: AsyncSession, principal: Principal, service_id: uuid.UUID) -> ServicePublic:
    row = require_found(await repository.get(session, principal, service_id), RESOURCE, service_id)
    return _public(row)


async def services_by_id(
    *, session: AsyncSession, principal: Principal, service_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ServicePublic]:
    """The services among `service_ids` the caller may read, in one statement (GraphQL's loader)."""
    stmt = repository.readable(principal).where(col(Service.id).in_(service_ids))
    return {row.id: _public(row) for row in (await session.scalars(stmt)).all()}


async def update_service(
    *, session: AsyncSession, principal: Principal, service_id: uuid.UUID, data: ServiceUpdate
) -> ServicePublic:
    row = require_found(
        await repository.get(session, principal, service_id, for_update=True), RESOURCE, service_id
    )
    check_may_write_row(principal, row.source_system)
    changes = data.changes()
    if data.shift_pattern is not None:
        changes["shift_pattern"] = data.shift_pattern.model_dump()
    await _before_timezone_change(session, row, changes.get("timezone"))
    if assign(row, changes):
        row.updated_at = utcnow()
        _record(session, principal, "update", row)
        await session.flush()
    return _public(row)


async def sync_service_by_ref(
    *,
    session: AsyncSession,
    principal: Principal,
    source_system: str,
    external_ref: str,
    data: ServiceSync,
) -> Synced[ServicePublic]:
    """Create or update the service its source system calls `external_ref`; repeating it changes nothing."""
    check_source_system(principal, source_system, field="source_system")
    organisation_id = principal.require_organisation()
    values = _stored_values(data)
    row = await repository.get_by_ref(session, organisation_id, source_system, external_ref, for_update=True)
    if row is None:
        check_unlimited(principal, "creating a service")
        new = Service(
            organisation_id=organisation_id, source_system=source_system, external_ref=external_ref, **values
        )
        stored = await repository.insert(session, new)
        if stored is not None:
            _record(session, principal, "create", stored)
            await session.flush()
            return Synced(_public(stored), created=True)
        # A concurrent sync of the same reference inserted it first: update that row instead.
        row = await repository.get_by_ref(
            session, organisation_id, source_system, external_ref, for_update=True
        )
        if row is None:
            raise Conflict("the reference changed while it was being synced; retry the request")
    if not principal.may_see_service(row.id):
        raise out_of_scope(RESOURCE)
    await _before_timezone_change(session, row, values.get("timezone"))
    if assign(row, values):
        row.updated_at = utcnow()
        _record(session, principal, "update", row)
        await session.flush()
    return Synced(_public(row), created=False)
