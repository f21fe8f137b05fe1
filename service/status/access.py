"""Whose statuses a caller may read, and over which services.

A provider's own roles read their provider (limited to their services when their token says so);
a commissioner reads the providers, or the subsets of services, it commissions on the status date;
an inspector reads providers with an access grant in force today. An innovation or service outside
that is answered as if it did not exist (404).
"""

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.errors import NotFound
from service.scoping import Access, ProviderScope, readable_providers, today
from service.vocabulary import Role

_PRECEDENCE = list(Access)


async def readable_scopes(
    session: AsyncSession, principal: Principal, *, as_of: datetime, provider_id: uuid.UUID | None = None
) -> list[ProviderScope]:
    """One scope per provider the caller may read statuses of, own access first."""
    scopes = [
        s
        for s in await readable_providers(session, principal, on=as_of.date(), provider_id=provider_id)
        if s.access is not Access.access_grant
    ]
    if principal.has_role(Role.inspector):
        # A grant is access now: it opens the provider's history too, and nothing once it ends.
        granted = await readable_providers(session, principal, on=today(), provider_id=provider_id)
        scopes += [s for s in granted if s.access is Access.access_grant]
    best: dict[uuid.UUID, ProviderScope] = {}
    for scope in scopes:
        held = best.get(scope.provider_id)
        if held is None or _PRECEDENCE.index(scope.access) < _PRECEDENCE.index(held.access):
            best[scope.provider_id] = scope
    return sorted(best.values(), key=lambda s: s.provider_id)


async def innovation_scope(
    session: AsyncSession, principal: Principal, innovation_id: uuid.UUID, *, as_of: datetime
) -> ProviderScope:
    """The caller's scope over the provider that owns `innovation_id` (404 when it has none)."""
    owners = await session.execute(
        text("SELECT organisation_id FROM innovation WHERE id = :id"), {"id": innovation_id}
    )
    for (owner,) in owners:
        scopes = await readable_scopes(session, principal, as_of=as_of, provider_id=owner)
        if scopes:
            return scopes[0]
    raise NotFound(f"no innovation {innovation_id}")
