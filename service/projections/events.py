"""The change feed: status events in the order their transactions committed.

Scoped like every status read: a provider's own roles read their provider (a manager limited to
some services reads those services' events and no provider-wide ones), a commissioner the providers
it commissions today (within the services it covers), an inspector the providers it holds a grant
for. Events carry stages and RAG ratings only, no counts, so nothing in them needs withholding.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service import clock
from service.auth.principal import Principal
from service.database import driver_connection
from service.errors import InvalidInput
from service.pagination import Page
from service.policy import Permission, check
from service.projections import repository
from service.projections.schemas import StatusEvent
from service.scoping import ProviderScope
from service.status.access import readable_scopes


def visible(scope: ProviderScope, event: repository.EventRow | repository.StageEventRow) -> bool:
    if event.service_id is None:
        return scope.service_ids is None
    return scope.may_see_service(event.service_id)


def _after(cursor: str | None) -> int:
    """The feed's cursor is an event id: plain, so a consumer may store it and resume from it."""
    if cursor is None:
        return 0
    if not (cursor.isdigit() and len(cursor) <= 18):
        message = "is not a position in this feed: give an event's id or a next_cursor"
        raise InvalidInput(
            f"after: {message}", errors=[{"field": "after", "rule": "cursor", "message": message}]
        )
    return int(cursor)


async def list_events(
    *, session: AsyncSession, principal: Principal, after: str | None, limit: int
) -> Page[StatusEvent]:
    check(principal, Permission.status_read)
    position = _after(after)
    scopes = {s.provider_id: s for s in await readable_scopes(session, principal, as_of=clock.now())}
    conn = await driver_connection(session)
    items: list[StatusEvent] = []
    while scopes and len(items) < limit:
        rows = await repository.events_after(conn, after=position, limit=limit, organisation_ids=list(scopes))
        for row in rows:
            position = row.id
            if visible(scopes[row.organisation_id], row):
                items.append(StatusEvent.of(row))
                if len(items) == limit:
                    break
        if len(rows) < limit:
            break
    return Page[StatusEvent](items=items, next_cursor=str(position))


async def stage_changes(
    *, session: AsyncSession, scopes: Sequence[ProviderScope], since: datetime
) -> list[repository.StageEventRow]:
    """The feed's `status.stage_changed` events from `since` on, of these scopes (already the
    caller's), disclosed as the feed discloses them."""
    by_provider = {s.provider_id: s for s in scopes}
    if not by_provider:
        return []
    rows = await repository.stage_events_since(
        await driver_connection(session), organisation_ids=list(by_provider), since=since
    )
    return [row for row in rows if visible(by_provider[row.organisation_id], row)]
