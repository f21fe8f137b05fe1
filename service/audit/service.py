"""Recording access. Writes are logged in the same transaction as the write they describe."""

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.context import current_origin
from service.audit.models import AccessLogEntry
from service.auth.principal import Principal

# Beyond this many ids an entry keeps the count only, so a bulk read does not write a huge row.
MAX_IDS_PER_ENTRY = 1000


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
    ids = list(record_ids)
    origin = current_origin.get()
    entry = AccessLogEntry(
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
    session.add(entry)
    return entry
