"""Recording access. Writes are logged in the same transaction as the write they describe."""

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.context import current_origin
from service.audit.models import AccessLogEntry
from service.audit.repository import MAX_IDS_PER_ENTRY, AccessLogFilter, list_entries
from service.audit.schemas import AccessLogEntryPublic
from service.auth.principal import Principal
from service.pagination import Page, cursor_bigint, decode_cursor, encode_cursor


def access_entry(
    *,
    principal: Principal,
    action: str,
    resource_type: str,
    record_ids: Iterable[uuid.UUID] = (),
    organisation_id: uuid.UUID | None = None,
) -> AccessLogEntry:
    """The access-log row for `principal` doing `action` now, in the current request."""
    ids = list(record_ids)
    origin = current_origin.get()
    return AccessLogEntry(
        organisation_id=organisation_id or principal.organisation_id,
        sub=principal.sub,
        actor_organisation_id=principal.organisation_id,
        roles=principal.role_label,
        client_id=principal.client_id,
        action=action,
        resource_type=resource_type,
        record_ids=ids[:MAX_IDS_PER_ENTRY] or None,
        record_count=len(ids),
        method=origin.method,
        path=origin.path,
        ip=origin.ip,
        request_id=origin.request_id,
    )


def record_access(
    session: AsyncSession,
    *,
    principal: Principal,
    action: str,
    resource_type: str,
    record_ids: Iterable[uuid.UUID] = (),
    organisation_id: uuid.UUID | None = None,
) -> AccessLogEntry:
    """Add an access-log row to the session's unit of work (flushed with it, committed with it)."""
    entry = access_entry(
        principal=principal,
        action=action,
        resource_type=resource_type,
        record_ids=record_ids,
        organisation_id=organisation_id,
    )
    session.add(entry)
    return entry


async def list_access_log(
    *,
    session: AsyncSession,
    principal: Principal,
    filters: AccessLogFilter,
    cursor: str | None,
    limit: int,
) -> Page[AccessLogEntryPublic]:
    """The caller's organisation's access log, newest first, one page at a time."""
    after = decode_cursor(cursor, cursor_bigint)
    before_id = after[0] if after else None
    rows = await list_entries(
        session,
        organisation_id=principal.require_organisation(),
        filters=filters,
        before_id=before_id,
        limit=limit,
    )
    page = rows[:limit]
    items = [
        AccessLogEntryPublic(
            id=row.id or 0,
            at=row.at,
            sub=row.sub,
            roles=[r for r in row.roles.split(",") if r],
            actor_organisation_id=row.actor_organisation_id,
            client_id=row.client_id,
            action=row.action,
            resource_type=row.resource_type,
            record_ids=row.record_ids,
            record_count=row.record_count,
            method=row.method,
            path=row.path,
            ip=row.ip,
            request_id=row.request_id,
        )
        for row in page
    ]
    next_cursor = encode_cursor([page[-1].id]) if len(rows) > limit and page else None
    return Page[AccessLogEntryPublic](items=items, next_cursor=next_cursor)
