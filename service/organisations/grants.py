"""Access grants: a provider admin lets a regulator read its status and evidence summaries, until a date."""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth.principal import Principal
from service.errors import InvalidInput, NotFound
from service.model_helpers import utcnow
from service.organisations import repository
from service.organisations.models import AccessGrant
from service.organisations.schemas import AccessGrantCreate, AccessGrantPublic
from service.pagination import Page, decode_time_id_cursor, encode_cursor
from service.scoping import today
from service.vocabulary import OrganisationKind

RESOURCE = "access_grant"


def grant_public(row: AccessGrant, *, on: date | None = None) -> AccessGrantPublic:
    on = on or today()
    return AccessGrantPublic(
        id=row.id,
        organisation_id=row.organisation_id,
        regulator_id=row.regulator_id,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        active=row.revoked_at is None and row.starts_on <= on <= row.ends_on,
    )


def _record(session: AsyncSession, principal: Principal, action: str, row: AccessGrant) -> None:
    record_access(
        session,
        principal=principal,
        action=f"{RESOURCE}.{action}",
        resource_type=RESOURCE,
        record_ids=[row.id],
    )


async def create_grant(
    *, session: AsyncSession, principal: Principal, data: AccessGrantCreate
) -> AccessGrant:
    provider_id = principal.require_organisation()
    regulator = await repository.get_organisation(session, data.regulator_id)
    if regulator is None or regulator.kind != OrganisationKind.regulator:
        # Whether the id names some other kind of organisation is not the provider's to learn.
        raise NotFound(f"no regulator {data.regulator_id}")
    if data.ends_on < today():
        raise InvalidInput(
            "ends_on: the grant would already have ended",
            errors=[{"field": "ends_on", "rule": "in_the_past", "message": "must be today or later"}],
        )
    row = AccessGrant(
        organisation_id=provider_id,
        regulator_id=regulator.id,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        created_by=principal.sub,
    )
    session.add(row)
    await session.flush()
    _record(session, principal, "create", row)
    return row


async def get_grant(*, session: AsyncSession, principal: Principal, grant_id: uuid.UUID) -> AccessGrant:
    row = await repository.get_grant(
        session, organisation_id=principal.require_organisation(), grant_id=grant_id
    )
    if row is None:
        raise NotFound(f"no access grant {grant_id}")
    return row


async def list_grants(
    *,
    session: AsyncSession,
    principal: Principal,
    regulator_id: uuid.UUID | None,
    active_on: date | None,
    include_revoked: bool,
    cursor: str | None,
    limit: int,
) -> Page[AccessGrantPublic]:
    rows = await repository.list_grants(
        session,
        organisation_id=principal.require_organisation(),
        regulator_id=regulator_id,
        active_on=active_on,
        include_revoked=include_revoked,
        after=decode_time_id_cursor(cursor),
        limit=limit,
    )
    page = rows[:limit]
    next_cursor = encode_cursor([page[-1].created_at, page[-1].id]) if len(rows) > limit else None
    return Page[AccessGrantPublic](items=[grant_public(r) for r in page], next_cursor=next_cursor)


async def revoke_grant(*, session: AsyncSession, principal: Principal, grant_id: uuid.UUID) -> AccessGrant:
    """End a grant now, whatever its end date (idempotent)."""
    row = await get_grant(session=session, principal=principal, grant_id=grant_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
        _record(session, principal, "revoke", row)
    return row
