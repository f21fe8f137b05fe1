"""Row scoping shared by every repository: which organisation, which services, which providers.

Tenant and service limits go into the SQL statement, never into Python after the fetch:

    statement = select(Touchpoint).where(
        tenant_condition(principal, Touchpoint.organisation_id),
        service_condition(principal, Touchpoint.service_id),
    )

A caller limited to some services (token claim `services`, or its user account) sees only those;
a service outside them is answered like one that does not exist (404).

Status and portfolio reads by commissioners and inspectors start from `provider_scope` (one
provider, 404 when the caller has no relationship or grant in force) or `readable_providers` (all
providers the caller may read), and then apply `scope.service_condition(Table.service_id)`.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, false, true
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from service import clock
from service.auth.principal import Principal
from service.errors import NotFound
from service.organisations import repository
from service.vocabulary import Role

PROVIDER_ROLES = frozenset(
    {Role.care_worker, Role.registered_manager, Role.quality_lead, Role.provider_admin, Role.integration}
)


def tenant_condition(principal: Principal, organisation_column: Any) -> ColumnElement[bool]:
    """`organisation_id = :caller_org` (403 for a caller bound to no organisation)."""
    organisation_id: uuid.UUID = principal.require_organisation()
    condition: ColumnElement[bool] = organisation_column == organisation_id
    return condition


def service_ids_condition(
    service_ids: Iterable[uuid.UUID] | None, service_column: Any
) -> ColumnElement[bool]:
    """`service_id = ANY(:ids)`, or TRUE when `service_ids` is None (no limit)."""
    if service_ids is None:
        return true()
    ids = sorted(set(service_ids))
    if not ids:
        return false()
    param = bindparam(None, ids, type_=ARRAY(UUID(as_uuid=True)))
    condition: ColumnElement[bool] = service_column == any_(param)
    return condition


def service_condition(principal: Principal, service_column: Any) -> ColumnElement[bool]:
    """Limits rows to the services the caller may see (no-op for callers without a limit)."""
    return service_ids_condition(principal.service_ids, service_column)


def visible_service_ids(principal: Principal, requested: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The requested services the caller may see, in request order (for list filters)."""
    return [s for s in requested if principal.may_see_service(s)]


def today() -> date:
    return clock.today()


class Access(StrEnum):
    own = "own"  # the provider's own staff and clients
    commissioning = "commissioning"  # a commissioner with a relationship in force
    access_grant = "access_grant"  # a regulator with an unrevoked grant in force


@dataclass(frozen=True, slots=True)
class ProviderScope:
    """What one caller may read of one provider."""

    provider_id: uuid.UUID
    access: Access
    # None: every service of the provider.
    service_ids: frozenset[uuid.UUID] | None

    @property
    def is_external(self) -> bool:
        """Commissioners and inspectors: aggregates only, small counts suppressed (service.disclosure)."""
        return self.access is not Access.own

    def may_see_service(self, service_id: uuid.UUID) -> bool:
        return self.service_ids is None or service_id in self.service_ids

    def service_condition(self, service_column: Any) -> ColumnElement[bool]:
        return service_ids_condition(self.service_ids, service_column)


def _union(limits: Iterable[frozenset[uuid.UUID] | None]) -> frozenset[uuid.UUID] | None:
    merged: set[uuid.UUID] = set()
    for limit in limits:
        if limit is None:
            return None
        merged |= limit
    return frozenset(merged)


async def readable_providers(
    session: AsyncSession,
    principal: Principal,
    *,
    on: date | None = None,
    provider_id: uuid.UUID | None = None,
) -> list[ProviderScope]:
    """Every provider the caller may read on `on` (default today), with the services it may see."""
    on = on or today()
    org = principal.organisation_id
    if org is None:
        return []
    scopes: list[ProviderScope] = []
    if principal.has_role(*PROVIDER_ROLES) and provider_id in (None, org):
        scopes.append(ProviderScope(org, Access.own, principal.service_ids))
    if principal.has_role(Role.commissioner):
        relationships = await repository.active_commissioning(
            session, commissioner_id=org, provider_id=provider_id, on=on
        )
        by_provider: dict[uuid.UUID, list[frozenset[uuid.UUID] | None]] = {}
        for rel in relationships:
            limit = frozenset(rel.service_ids) if rel.service_ids is not None else None
            by_provider.setdefault(rel.provider_id, []).append(limit)
        for pid, limits in by_provider.items():
            if pid != org:
                scopes.append(ProviderScope(pid, Access.commissioning, _union(limits)))
    if principal.has_role(Role.inspector):
        grants = await repository.active_grants(session, regulator_id=org, provider_id=provider_id, on=on)
        for pid in dict.fromkeys(g.organisation_id for g in grants):
            if pid != org:
                scopes.append(ProviderScope(pid, Access.access_grant, None))
    return scopes


async def provider_scope(
    session: AsyncSession, principal: Principal, provider_id: uuid.UUID, *, on: date | None = None
) -> ProviderScope:
    """The caller's scope over one provider; 404 when it may not know the provider exists."""
    scopes = await readable_providers(session, principal, on=on, provider_id=provider_id)
    if not scopes:
        raise NotFound(f"no provider {provider_id}")
    # Own access beats any external access to the same organisation.
    return min(scopes, key=lambda s: list(Access).index(s.access))
