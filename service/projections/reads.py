"""Status reads answered from projections: one innovation's status, and every status in scope."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service import clock
from service.auth.principal import Principal
from service.database import driver_connection
from service.errors import NotFound
from service.observability.activity import count_served
from service.projections import repository
from service.projections.compute import scope_key
from service.projections.repository import ProjectedBody
from service.projections.service import compute_on_read, projected_history, projected_status
from service.scoping import ProviderScope
from service.status.access import readable_scopes
from service.status.schemas import EmbeddingStatus, InnovationStatuses, StatusHistory
from service.status.sources import provider_setup


def _as_status(found: ProjectedBody) -> EmbeddingStatus:
    return EmbeddingStatus.model_validate({**found.body, "computed_at": found.computed_at})


async def _visible_scope(
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    service_id: uuid.UUID | None,
    invalid_service: Exception,
) -> tuple[ProviderScope, list[uuid.UUID]]:
    """The caller's scope over the innovation's provider and the services asked about, refused
    as the read computed on read refuses them."""
    # One statement finds the provider and the services; the caller's scope over that provider is
    # the one `innovation_scope` would find, without looking the provider up again.
    found = await repository.innovation_services(await driver_connection(session), innovation_id)
    scopes = (
        await readable_scopes(session, principal, as_of=clock.now(), provider_id=found[0]) if found else []
    )
    if found is None or not scopes:
        raise NotFound(f"no innovation {innovation_id}")
    scope = scopes[0]
    visible = sorted(s for s in found[1] if scope.may_see_service(s))
    if not visible:
        raise NotFound(f"no innovation {innovation_id}")
    if service_id is None:
        return scope, visible
    if service_id in visible:
        return scope, [service_id]
    if found is not None and service_id in found[1]:
        raise NotFound(f"no service {service_id}")  # in scope of the innovation, but not of the caller
    raise invalid_service


async def innovation_status(
    *,
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    service_id: uuid.UUID | None,
    invalid_service: Exception,
    read: AsyncSession | None = None,
) -> EmbeddingStatus:
    """As `service.status.service.innovation_status` answers "now" with the default window, from
    the projection of the services the caller may see (read through `read`, the replica, if given;
    a projection not stored yet is computed and stored through `session`)."""
    scope, service_ids = await _visible_scope(
        read or session, principal, innovation_id, service_id, invalid_service
    )
    return await projected_status(
        session=session,
        read=read,
        scope=scope,
        innovation_id=innovation_id,
        service_id=service_id,
        service_ids=service_ids,
    )


async def innovation_history(
    *,
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    service_id: uuid.UUID | None,
    months: int,
    invalid_service: Exception,
    read: AsyncSession | None = None,
) -> StatusHistory:
    """As `service.status.service.innovation_history` answers "now" with the default window and
    at most the months a projection keeps: its last `months` points (`read` as for `innovation_status`)."""
    scope, service_ids = await _visible_scope(
        read or session, principal, innovation_id, service_id, invalid_service
    )
    history = await projected_history(
        session=session,
        read=read,
        scope=scope,
        innovation_id=innovation_id,
        service_id=service_id,
        service_ids=service_ids,
    )
    return history.model_copy(update={"months": history.months[-months:]})


def rows_of(
    scope: ProviderScope, service_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID | None, list[uuid.UUID]]]:
    """The rows a caller reads of one innovation: the roll-up over the services it may see, then
    each of them; none when it may see none."""
    services = sorted(s for s in service_ids if scope.may_see_service(s))
    return [(None, services), *((s, [s]) for s in services)] if services else []


async def versions(
    session: AsyncSession, scope_innovations: Sequence[tuple[ProviderScope, uuid.UUID, Sequence[uuid.UUID]]]
) -> dict[tuple[uuid.UUID, str], datetime] | None:
    """When each projection that `innovation_statuses` would answer for these (scope, innovation,
    its services) was computed, in one query and without a body; None when one is not stored."""
    keys = [
        (i, scope_key(s, ids))
        for scope, i, services in scope_innovations
        for s, ids in rows_of(scope, services)
    ]
    found = await repository.versions(await driver_connection(session), keys)
    return found if len(found) == len(set(keys)) else None


def version_of(status: EmbeddingStatus) -> tuple[tuple[uuid.UUID, str], datetime | None]:
    """A served status's entry in `versions`."""
    return (status.innovation_id, scope_key(status.service_id, status.scope.service_ids)), status.computed_at


async def innovation_statuses(
    session: AsyncSession,
    scope: ProviderScope,
    innovation_ids: Sequence[uuid.UUID] | None,
    *,
    read: AsyncSession | None = None,
) -> list[InnovationStatuses]:
    """The provider row and one row per service of each innovation, as `list_statuses` answers
    them; projections missing are computed from one load, stored and queued (through `session`;
    the rest is read through `read`, the replica, if given)."""
    conn = await driver_connection(read or session)
    rows = sorted(
        await provider_setup.innovations(read or session, scope.provider_id, innovation_ids),
        key=lambda r: r.id,
    )
    wanted = {row.id: rows_of(scope, row.service_ids) for row in rows}
    wanted = {i: w for i, w in wanted.items() if w}
    keys = [(i, scope_key(s, ids)) for i, scopes in wanted.items() for s, ids in scopes]
    found = await repository.read_many(conn, keys, external=scope.is_external)
    missing: dict[uuid.UUID, list[tuple[uuid.UUID | None, list[uuid.UUID]]]] = {}
    for i, scopes in wanted.items():
        for s, ids in scopes:
            if (i, scope_key(s, ids)) not in found:
                missing.setdefault(i, []).append((s, ids))
    count_served("projection", len(found))
    if missing:
        computed_rows = await compute_on_read(session, scope, missing)
        count_served("computed", len(computed_rows))
        for computed in computed_rows:
            body = computed.external_body if scope.is_external else computed.body
            found[(computed.innovation_id, computed.scope_key)] = ProjectedBody(body, computed.computed_at)
    items = []
    for row in rows:
        if row.id not in wanted or any((row.id, scope_key(s, ids)) not in found for s, ids in wanted[row.id]):
            continue
        statuses = [_as_status(found[(row.id, scope_key(s, i))]) for s, i in wanted[row.id]]
        items.append(
            InnovationStatuses(
                innovation_id=row.id,
                innovation_name=row.name,
                organisation_id=row.organisation_id,
                phase=row.phase,
                provider=statuses[0],
                services=statuses[1:],
            )
        )
    return items
