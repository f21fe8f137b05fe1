"""Reading touchpoints: who may see which, lists with a stable cursor, one record with its revisions.

Who sees what:
- `touchpoint:read` (registered managers, quality leads): every touchpoint of the organisation, within
  the services the token names, if it names any.
- `touchpoint:read_own` only (care workers, integration clients): their own, meaning touchpoints
  recorded with their token subject, or sent from their token's source system, or whose recorder or
  subject is the staff member whose `external_ref` equals their token subject (how a care record
  system's login maps onto its staff list).
- Free text (`text` and the facts marked free text, see `free_text`) only with
  `touchpoint:read_text`; otherwise it reads as null, in the record and in its revisions. Reads
  that return free text are written to the access log.

A touchpoint outside what the caller may see answers 404: its id tells such a caller nothing.
"""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth.principal import Principal
from service.errors import NotFound
from service.pagination import Page, encode_cursor
from service.touchpoints.free_text import disclose, holds_free_text, may_read_free_text
from service.touchpoints.repository.reads import (
    find_touchpoint,
    find_visible_touchpoint,
    list_visible_touchpoints,
    revisions_of,
)
from service.touchpoints.schemas import (
    TouchpointDetail,
    TouchpointFilters,
    TouchpointPublic,
    TouchpointRevisionPublic,
)


def _public(row: Any, *, with_text: bool) -> TouchpointPublic:
    return TouchpointPublic.model_validate(disclose(row, readable=with_text))


def _audit_text_read(
    session: AsyncSession, principal: Principal, touchpoints: list[TouchpointPublic]
) -> None:
    ids = [t.id for t in touchpoints if holds_free_text(t.__dict__)]
    if ids:
        record_access(
            session,
            principal=principal,
            action="touchpoint.read_text",
            resource_type="touchpoint",
            record_ids=ids,
        )


async def load_touchpoint(
    *, session: AsyncSession, principal: Principal, touchpoint_id: uuid.UUID
) -> TouchpointPublic:
    """A touchpoint of the caller's organisation just written or found by the caller."""
    row = await find_touchpoint(session, principal.require_organisation(), touchpoint_id)
    if row is None:
        raise NotFound(f"no touchpoint {touchpoint_id}")
    return _public(row, with_text=may_read_free_text(principal))


async def get_touchpoint(
    *, session: AsyncSession, principal: Principal, touchpoint_id: uuid.UUID
) -> TouchpointDetail:
    row = await find_visible_touchpoint(session, principal, touchpoint_id)
    if row is None:
        raise NotFound(f"no touchpoint {touchpoint_id}")
    with_text = may_read_free_text(principal)
    revision_models = []
    for revision in await revisions_of(session, principal.require_organisation(), touchpoint_id):
        values = dict(revision)
        values["content"] = disclose(values["content"], readable=with_text)
        revision_models.append(TouchpointRevisionPublic.model_validate(values))
    public = _public(row, with_text=with_text)
    if with_text and (
        holds_free_text(public.__dict__) or any(holds_free_text(r.content) for r in revision_models)
    ):
        record_access(
            session,
            principal=principal,
            action="touchpoint.read_text",
            resource_type="touchpoint",
            record_ids=[public.id],
        )
    return TouchpointDetail(**public.model_dump(), revisions=revision_models)


async def list_touchpoints(
    *,
    session: AsyncSession,
    principal: Principal,
    filters: TouchpointFilters,
    limit: int,
    cursor: str | None = None,
    read: AsyncSession | None = None,
) -> Page[TouchpointPublic]:
    """Touchpoints the caller may read, oldest first by (occurred_at, id), a page at a time: read
    through `read` (the read replica) when given, the access-log entry written through `session`."""
    rows = await list_visible_touchpoints(read or session, principal, filters, cursor=cursor, limit=limit + 1)
    with_text = may_read_free_text(principal)
    items = [_public(row, with_text=with_text) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last.occurred_at.isoformat(), str(last.id)])
    if with_text:
        _audit_text_read(session, principal, items)
    return Page[TouchpointPublic](items=items, next_cursor=next_cursor)
