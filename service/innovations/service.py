"""Rules for innovations. Routers and GraphQL resolvers both call these; they flush, never commit.

An innovation is never deleted: touchpoints and status history refer to it, so it retires by
phase. Its embedding plan always holds every delivery system (defaults fill what is not said).
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.audit.service import record_access
from service.auth.principal import Principal
from service.errors import Conflict
from service.innovations import repository
from service.innovations.models import Innovation, effective_embedding_plan
from service.innovations.schemas import (
    EmbeddingPlan,
    EmbeddingPlanInput,
    InnovationCreate,
    InnovationFields,
    InnovationFilter,
    InnovationPublic,
    InnovationSync,
    InnovationUpdate,
)
from service.model_helpers import utcnow
from service.pagination import Page
from service.projections.marking import mark_innovations
from service.reference.listing import split_page
from service.reference.rules import (
    check_may_write_row,
    check_service_filter,
    check_service_refs,
    check_source_system,
    effective_source_system,
    merged_service_ids,
    out_of_scope,
    reference_taken,
    require_found,
    visible_service_ids,
)
from service.reference.writes import Synced, assign
from service.vocabulary import Phase

RESOURCE = "innovation"
COLLECTION = "innovations"


def _plan(base: dict[str, Any] | None, given: EmbeddingPlanInput | None) -> dict[str, int]:
    plan = effective_embedding_plan(base)
    if given is not None:
        plan.update(given.changes())
    return plan


def _public(principal: Principal, row: Innovation, service_ids: set[uuid.UUID]) -> InnovationPublic:
    return InnovationPublic(
        id=row.id,
        name=row.name,
        summary=row.summary,
        why=row.why,
        started_on=row.started_on,
        service_ids=visible_service_ids(principal, service_ids),
        phase=Phase(row.phase),
        embedding_plan=EmbeddingPlan.model_validate(effective_embedding_plan(row.embedding_plan)),
        source_system=row.source_system,
        external_ref=row.external_ref,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _record(session: AsyncSession, principal: Principal, action: str, row: Innovation) -> None:
    record_access(
        session,
        principal=principal,
        action=f"{RESOURCE}.{action}",
        resource_type=RESOURCE,
        record_ids=[row.id],
    )


def _stored_values(data: InnovationFields) -> dict[str, Any]:
    return {
        "name": data.name,
        "summary": data.summary,
        "why": data.why,
        "started_on": data.started_on,
        "phase": data.phase.value,
        "embedding_plan": _plan(None, data.embedding_plan),
    }


async def _insert(
    session: AsyncSession, principal: Principal, row: Innovation, service_ids: list[uuid.UUID]
) -> InnovationPublic | None:
    stored = await repository.insert(session, row)
    if stored is None:
        return None
    wanted = set(service_ids)
    await repository.links.replace(session, row.organisation_id, stored.id, current=set(), wanted=wanted)
    _record(session, principal, "create", stored)
    await session.flush()
    return _public(principal, stored, wanted)


async def _apply(
    session: AsyncSession,
    principal: Principal,
    row: Innovation,
    values: dict[str, Any],
    requested_services: list[uuid.UUID] | None,
) -> InnovationPublic:
    """Write the changed fields and (already checked) services of a locked row."""
    current = (await repository.links.load(session, row.organisation_id, [row.id]))[row.id]
    wanted = (
        current if requested_services is None else merged_service_ids(principal, current, requested_services)
    )
    changed = assign(row, values)
    if wanted != current:
        await repository.links.replace(session, row.organisation_id, row.id, current=current, wanted=wanted)
        await mark_innovations(session, row.organisation_id, [row.id])
        changed = True
    if changed:
        row.updated_at = utcnow()
        _record(session, principal, "update", row)
        await session.flush()
    return _public(principal, row, wanted)


async def create_innovation(
    *, session: AsyncSession, principal: Principal, data: InnovationCreate
) -> InnovationPublic:
    source_system = effective_source_system(principal, data.source_system, data.external_ref)
    await check_service_refs(session, principal, data.service_ids)
    row = Innovation(
        organisation_id=principal.require_organisation(),
        source_system=source_system,
        external_ref=data.external_ref,
        **_stored_values(data),
    )
    created = await _insert(session, principal, row, data.service_ids)
    if created is None:
        raise reference_taken(COLLECTION, source_system, data.external_ref)
    return created


async def list_innovations(
    *,
    session: AsyncSession,
    principal: Principal,
    filters: InnovationFilter,
    limit: int,
    cursor: str | None = None,
) -> Page[InnovationPublic]:
    if filters.service_id is not None:
        await check_service_filter(session, principal, filters.service_id)
    rows = await repository.list_page(session, principal, filters, limit=limit, cursor=cursor)
    page, next_cursor = split_page(rows, limit)
    services = await repository.links.load(session, principal.require_organisation(), [r.id for r in page])
    return Page[InnovationPublic](
        items=[_public(principal, r, services[r.id]) for r in page], next_cursor=next_cursor
    )


async def get_innovation(
    *, session: AsyncSession, principal: Principal, innovation_id: uuid.UUID
) -> InnovationPublic:
    row = require_found(await repository.get(session, principal, innovation_id), RESOURCE, innovation_id)
    services = await repository.links.load(session, row.organisation_id, [row.id])
    return _public(principal, row, services[row.id])


async def innovations_by_id(
    *, session: AsyncSession, principal: Principal, innovation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, InnovationPublic]:
    """The innovations among `innovation_ids` the caller may read, in one statement per table."""
    stmt = repository.readable(principal).where(col(Innovation.id).in_(innovation_ids))
    return {i.id: i for i in await _publics(session, principal, stmt)}


async def innovations_at_services(
    *, session: AsyncSession, principal: Principal, service_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[InnovationPublic]]:
    """The innovations in scope at each of `service_ids`, oldest first, as the caller sees them."""
    stmt = repository.readable(principal).where(
        repository.links.linked_to_any(col(Innovation.organisation_id), col(Innovation.id), service_ids)
    )
    found = await _publics(session, principal, stmt)
    # The caller's view of each innovation's services is what places it under a service.
    return {service_id: [i for i in found if service_id in i.service_ids] for service_id in service_ids}


async def _publics(
    session: AsyncSession, principal: Principal, stmt: Select[Innovation]
) -> list[InnovationPublic]:
    rows = (await session.scalars(stmt.order_by(col(Innovation.created_at), col(Innovation.id)))).all()
    services = await repository.links.load(session, principal.require_organisation(), [r.id for r in rows])
    return [_public(principal, r, services[r.id]) for r in rows]


async def update_innovation(
    *, session: AsyncSession, principal: Principal, innovation_id: uuid.UUID, data: InnovationUpdate
) -> InnovationPublic:
    """Change some fields; retire it with `phase: retired`. Named plan systems change, others stay."""
    row = require_found(
        await repository.get(session, principal, innovation_id, for_update=True), RESOURCE, innovation_id
    )
    check_may_write_row(principal, row.source_system)
    changes = data.changes()
    requested_services = changes.pop("service_ids", None)
    if requested_services is not None:
        await check_service_refs(session, principal, requested_services)
    if "phase" in changes:
        changes["phase"] = changes["phase"].value
    if "embedding_plan" in changes:
        changes["embedding_plan"] = _plan(row.embedding_plan, data.embedding_plan)
    return await _apply(session, principal, row, changes, requested_services)


async def sync_innovation_by_ref(
    *,
    session: AsyncSession,
    principal: Principal,
    source_system: str,
    external_ref: str,
    data: InnovationSync,
) -> Synced[InnovationPublic]:
    """Create or update the innovation its source system calls `external_ref`; a repeat changes nothing."""
    check_source_system(principal, source_system, field="source_system")
    await check_service_refs(session, principal, data.service_ids)
    organisation_id = principal.require_organisation()
    values = _stored_values(data)
    row = await repository.get_by_ref(session, organisation_id, source_system, external_ref, for_update=True)
    if row is None:
        new = Innovation(
            organisation_id=organisation_id, source_system=source_system, external_ref=external_ref, **values
        )
        created = await _insert(session, principal, new, data.service_ids)
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
        raise out_of_scope(RESOURCE)
    return Synced(await _apply(session, principal, row, values, list(data.service_ids)), created=False)
