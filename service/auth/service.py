"""Integration clients: register, list, rotate, revoke (a provider admin, in its own organisation)."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth import repository
from service.auth.models import IntegrationClient
from service.auth.principal import Principal
from service.auth.schemas import IntegrationClientCreate, IntegrationClientPublic
from service.auth.secrets import hash_secret, new_client_id, new_client_secret
from service.errors import Conflict, NotFound
from service.model_helpers import utcnow
from service.pagination import Page, decode_time_id_cursor, encode_cursor

RESOURCE = "integration_client"


def client_public(row: IntegrationClient) -> IntegrationClientPublic:
    return IntegrationClientPublic(
        id=row.id,
        client_id=row.client_id,
        name=row.name,
        source_system=row.source_system,
        created_by=row.created_by,
        created_at=row.created_at,
        secret_rotated_at=row.secret_rotated_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        active=row.revoked_at is None,
    )


async def create_client(
    *, session: AsyncSession, principal: Principal, data: IntegrationClientCreate
) -> tuple[IntegrationClient, str]:
    """A new client and its secret; the secret is returned here and nowhere else, ever."""
    organisation_id = principal.require_organisation()
    secret = new_client_secret()
    row = IntegrationClient(
        organisation_id=organisation_id,
        client_id=new_client_id(),
        name=data.name,
        source_system=data.source_system,
        secret_hash=await hash_secret(secret),
        created_by=principal.sub,
    )
    session.add(row)
    await session.flush()
    record_access(
        session,
        principal=principal,
        action="integration_client.create",
        resource_type=RESOURCE,
        record_ids=[row.id],
    )
    return row, secret


async def get_client(
    *, session: AsyncSession, principal: Principal, client_row_id: uuid.UUID
) -> IntegrationClient:
    row = await repository.get_client(
        session, organisation_id=principal.require_organisation(), client_row_id=client_row_id
    )
    if row is None:
        raise NotFound(f"no integration client {client_row_id}")
    return row


async def list_clients(
    *,
    session: AsyncSession,
    principal: Principal,
    source_system: str | None,
    include_revoked: bool,
    cursor: str | None,
    limit: int,
) -> Page[IntegrationClientPublic]:
    rows = await repository.list_clients(
        session,
        organisation_id=principal.require_organisation(),
        source_system=source_system,
        include_revoked=include_revoked,
        after=decode_time_id_cursor(cursor),
        limit=limit,
    )
    page = rows[:limit]
    next_cursor = encode_cursor([page[-1].created_at, page[-1].id]) if len(rows) > limit else None
    return Page[IntegrationClientPublic](items=[client_public(r) for r in page], next_cursor=next_cursor)


async def rotate_secret(
    *, session: AsyncSession, principal: Principal, client_row_id: uuid.UUID
) -> tuple[IntegrationClient, str]:
    """Replace the secret at once. The old secret stops working, and so do tokens issued before now."""
    row = await get_client(session=session, principal=principal, client_row_id=client_row_id)
    if row.revoked_at is not None:
        raise Conflict("a revoked client cannot get a new secret; register a new client instead")
    secret = new_client_secret()
    row.secret_hash = await hash_secret(secret)
    row.secret_rotated_at = utcnow()
    await session.flush()
    record_access(
        session,
        principal=principal,
        action="integration_client.rotate_secret",
        resource_type=RESOURCE,
        record_ids=[row.id],
    )
    return row, secret


async def revoke_client(
    *, session: AsyncSession, principal: Principal, client_row_id: uuid.UUID
) -> IntegrationClient:
    """Revoke for good (idempotent): no new tokens, and tokens already issued stop working."""
    row = await get_client(session=session, principal=principal, client_row_id=client_row_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
        record_access(
            session,
            principal=principal,
            action="integration_client.revoke",
            resource_type=RESOURCE,
            record_ids=[row.id],
        )
    return row
