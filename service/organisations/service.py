"""Organisations and commissioning relationships (platform admin), and who may see an organisation."""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth.principal import Principal
from service.errors import InvalidInput, NotFound
from service.organisations import repository
from service.organisations.models import CommissioningRelationship, Organisation
from service.organisations.schemas import (
    CommissioningRelationshipCreate,
    CommissioningRelationshipPublic,
    CommissioningRelationshipUpdate,
    OrganisationCreate,
    OrganisationPublic,
)
from service.pagination import Page, decode_time_id_cursor, encode_cursor
from service.policy import Permission, allowed
from service.scoping import readable_providers, today
from service.vocabulary import OrganisationKind, Role


def organisation_public(row: Organisation) -> OrganisationPublic:
    return OrganisationPublic(
        id=row.id, name=row.name, kind=OrganisationKind(row.kind), created_at=row.created_at
    )


def relationship_public(
    row: CommissioningRelationship, *, on: date | None = None
) -> CommissioningRelationshipPublic:
    on = on or today()
    return CommissioningRelationshipPublic(
        id=row.id,
        commissioner_id=row.commissioner_id,
        provider_id=row.provider_id,
        service_ids=row.service_ids,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        created_at=row.created_at,
        active=row.starts_on <= on and (row.ends_on is None or row.ends_on >= on),
    )


def _field_error(field: str, rule: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors=[{"field": field, "rule": rule, "message": message}])


# Organisations


async def create_organisation(
    *, session: AsyncSession, principal: Principal, data: OrganisationCreate
) -> Organisation:
    row = Organisation(name=data.name, kind=data.kind.value)
    session.add(row)
    await session.flush()
    record_access(
        session,
        principal=principal,
        action="organisation.create",
        resource_type="organisation",
        record_ids=[row.id],
        organisation_id=row.id,
    )
    return row


async def list_organisations(
    *,
    session: AsyncSession,
    principal: Principal,
    kind: OrganisationKind | None,
    name: str | None,
    cursor: str | None,
    limit: int,
) -> Page[OrganisationPublic]:
    """Every organisation for a platform admin; a provider admin sees regulators (to grant them access)."""
    if not allowed(principal, Permission.organisation_manage):
        if kind not in (None, OrganisationKind.regulator):
            return Page[OrganisationPublic](items=[])
        kind = OrganisationKind.regulator
    rows = await repository.list_organisations(
        session,
        kind=kind.value if kind else None,
        name=name,
        after=decode_time_id_cursor(cursor),
        limit=limit,
    )
    page = rows[:limit]
    next_cursor = encode_cursor([page[-1].created_at, page[-1].id]) if len(rows) > limit else None
    return Page[OrganisationPublic](items=[organisation_public(r) for r in page], next_cursor=next_cursor)


async def get_organisation(
    *, session: AsyncSession, principal: Principal, organisation_id: uuid.UUID
) -> Organisation:
    """An organisation the caller may know of; any other answers 404, exactly like a missing one.

    A platform admin knows them all; everyone else knows its own organisation, the providers it
    may read (commissioning, access grant) and, to grant them access, regulators.
    """
    row = await repository.get_organisation(session, organisation_id)
    if row is None or not await _may_know(session, principal, row):
        raise NotFound(f"no organisation {organisation_id}")
    return row


async def _may_know(session: AsyncSession, principal: Principal, row: Organisation) -> bool:
    if principal.is_platform_admin or row.id == principal.organisation_id:
        return True
    if row.kind == OrganisationKind.regulator and allowed(principal, Permission.access_grant_manage):
        return True
    if row.kind == OrganisationKind.provider and principal.has_role(Role.commissioner, Role.inspector):
        return bool(await readable_providers(session, principal, provider_id=row.id))
    return False


async def require_organisation_of_kind(
    session: AsyncSession, organisation_id: uuid.UUID, kind: OrganisationKind, *, field: str
) -> Organisation:
    """For a platform admin's payload references: unknown → 404, wrong kind → 422 on the field."""
    row = await repository.get_organisation(session, organisation_id)
    if row is None:
        raise NotFound(f"no organisation {organisation_id}")
    if row.kind != kind:
        raise _field_error(field, "wrong_organisation_kind", f"must be a {kind.value}, not a {row.kind}")
    return row


# Commissioning relationships


async def _check_provider_services(
    session: AsyncSession, provider_id: uuid.UUID, service_ids: list[uuid.UUID] | None
) -> list[uuid.UUID] | None:
    if service_ids is None:
        return None
    if not service_ids:
        raise _field_error("service_ids", "too_short", "name at least one service, or null for all")
    known = await repository.services_of_organisation(session, provider_id, service_ids)
    for index, service_id in enumerate(service_ids):
        if service_id not in known:
            raise _field_error(
                f"service_ids[{index}]", "not_a_service_of_provider", "not a service of this provider"
            )
    return sorted(set(service_ids))


async def create_relationship(
    *, session: AsyncSession, principal: Principal, data: CommissioningRelationshipCreate
) -> CommissioningRelationship:
    await require_organisation_of_kind(
        session, data.commissioner_id, OrganisationKind.commissioner, field="commissioner_id"
    )
    await require_organisation_of_kind(
        session, data.provider_id, OrganisationKind.provider, field="provider_id"
    )
    row = CommissioningRelationship(
        commissioner_id=data.commissioner_id,
        provider_id=data.provider_id,
        service_ids=await _check_provider_services(session, data.provider_id, data.service_ids),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
    )
    session.add(row)
    await session.flush()
    _record_relationship(session, principal, "create", row)
    return row


def _record_relationship(
    session: AsyncSession, principal: Principal, action: str, row: CommissioningRelationship
) -> None:
    # Logged under the provider: it is the provider's status that the commissioner may now read.
    record_access(
        session,
        principal=principal,
        action=f"commissioning_relationship.{action}",
        resource_type="commissioning_relationship",
        record_ids=[row.id],
        organisation_id=row.provider_id,
    )


def _commissioner_only(principal: Principal) -> uuid.UUID | None:
    """None for a platform admin (every relationship); a commissioner's own organisation otherwise."""
    if allowed(principal, Permission.relationship_manage):
        return None
    return principal.require_organisation()


async def get_relationship(
    *, session: AsyncSession, principal: Principal, relationship_id: uuid.UUID
) -> CommissioningRelationship:
    row = await repository.get_relationship(session, relationship_id)
    own = _commissioner_only(principal)
    if row is None or (own is not None and row.commissioner_id != own):
        raise NotFound(f"no commissioning relationship {relationship_id}")
    return row


async def list_relationships(
    *,
    session: AsyncSession,
    principal: Principal,
    commissioner_id: uuid.UUID | None,
    provider_id: uuid.UUID | None,
    active_on: date | None,
    cursor: str | None,
    limit: int,
) -> Page[CommissioningRelationshipPublic]:
    own = _commissioner_only(principal)
    if own is not None:
        if commissioner_id not in (None, own):
            return Page[CommissioningRelationshipPublic](items=[])
        commissioner_id = own
    rows = await repository.list_relationships(
        session,
        commissioner_id=commissioner_id,
        provider_id=provider_id,
        active_on=active_on,
        after=decode_time_id_cursor(cursor),
        limit=limit,
    )
    page = rows[:limit]
    next_cursor = encode_cursor([page[-1].created_at, page[-1].id]) if len(rows) > limit else None
    return Page[CommissioningRelationshipPublic](
        items=[relationship_public(r) for r in page], next_cursor=next_cursor
    )


async def update_relationship(
    *,
    session: AsyncSession,
    principal: Principal,
    relationship_id: uuid.UUID,
    data: CommissioningRelationshipUpdate,
) -> CommissioningRelationship:
    row = await get_relationship(session=session, principal=principal, relationship_id=relationship_id)
    changing = data.model_fields_set
    if "service_ids" in changing:
        row.service_ids = await _check_provider_services(session, row.provider_id, data.service_ids)
    if "ends_on" in changing:
        if data.ends_on is not None and data.ends_on < row.starts_on:
            raise _field_error("ends_on", "dates_ordered", "must not be before starts_on")
        row.ends_on = data.ends_on
    await session.flush()
    _record_relationship(session, principal, "update", row)
    return row
