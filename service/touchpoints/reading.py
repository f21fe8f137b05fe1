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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth.principal import Principal
from service.errors import Forbidden, NotFound
from service.pagination import Page, decode_time_id_cursor, encode_cursor
from service.policy import Permission, allowed
from service.staff.models import StaffMember
from service.touchpoints.free_text import disclose, holds_free_text, may_read_free_text
from service.touchpoints.models import Touchpoint, TouchpointInnovation, TouchpointRevision
from service.touchpoints.schemas import TouchpointDetail, TouchpointPublic, TouchpointRevisionPublic
from service.vocabulary import DeliverySystem, TouchpointKind

TOUCHPOINT = Touchpoint.__table__  # type: ignore[attr-defined]
T = TOUCHPOINT.c
TI = TouchpointInnovation.__table__.c  # type: ignore[attr-defined]
TR = TouchpointRevision.__table__.c  # type: ignore[attr-defined]
STAFF = StaffMember.__table__.c  # type: ignore[attr-defined]


def visible_touchpoints(principal: Principal) -> ColumnElement[bool]:
    """The condition selecting the touchpoints `principal` may read."""
    organisation_id = principal.require_organisation()
    conditions: list[ColumnElement[bool]] = [T.organisation_id == organisation_id]
    if principal.service_ids is not None:
        conditions.append(T.service_id.in_(principal.service_ids) if principal.service_ids else false())
    if allowed(principal, Permission.touchpoint_read):
        return and_(*conditions)
    if not allowed(principal, Permission.touchpoint_read_own):
        raise Forbidden(f"role {principal.role_label} may not read touchpoints")
    staff_of_caller = select(STAFF.id).where(
        STAFF.organisation_id == organisation_id, STAFF.external_ref == principal.sub
    )
    own: list[ColumnElement[bool]] = [
        T.recorded_by_sub == principal.sub,
        T.recorded_by_id.in_(staff_of_caller),
        T.subject_staff_id.in_(staff_of_caller),
    ]
    if principal.source_system is not None:
        own.append(T.source_system == principal.source_system)
    conditions.append(or_(*own))
    return and_(*conditions)


def _innovation_ids() -> Any:
    linked = (
        select(TI.innovation_id)
        .where(TI.organisation_id == T.organisation_id, TI.touchpoint_id == T.id)
        .order_by(TI.innovation_id)
        .scalar_subquery()
    )
    return func.array(linked).label("innovation_ids")


def _select_touchpoints() -> Select[Any]:
    return select(
        T.id,
        T.kind,
        T.system,
        T.service_id,
        T.occurred_at,
        T.recorded_at,
        T.shift,
        T.weekend,
        T.recorded_by_id,
        T.subject_staff_id,
        T.person_ref_id,
        _innovation_ids(),
        T.source_system,
        T.external_id,
        T.text,
        T.facts,
        T.revision,
        T.recorded_by_sub,
    )


def _public(row: Any, *, with_text: bool) -> TouchpointPublic:
    return TouchpointPublic.model_validate(disclose(row._mapping, readable=with_text))


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
    organisation_id = principal.require_organisation()
    row = (
        await session.execute(
            _select_touchpoints().where(T.organisation_id == organisation_id, T.id == touchpoint_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no touchpoint {touchpoint_id}")
    return _public(row, with_text=may_read_free_text(principal))


async def get_touchpoint(
    *, session: AsyncSession, principal: Principal, touchpoint_id: uuid.UUID
) -> TouchpointDetail:
    row = (
        await session.execute(
            _select_touchpoints().where(visible_touchpoints(principal), T.id == touchpoint_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no touchpoint {touchpoint_id}")
    with_text = may_read_free_text(principal)
    revisions = (
        await session.execute(
            select(
                TR.revision,
                TR.content,
                TR.recorded_at,
                TR.recorded_by_sub,
                TR.replaced_at,
                TR.replaced_by_sub,
            )
            .where(TR.organisation_id == principal.organisation_id, TR.touchpoint_id == touchpoint_id)
            .order_by(TR.revision)
        )
    ).all()
    revision_models = []
    for revision in revisions:
        values = dict(revision._mapping)
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


@dataclass(frozen=True, slots=True)
class TouchpointFilters:
    service_id: uuid.UUID | None = None
    kind: TouchpointKind | None = None
    system: DeliverySystem | None = None
    innovation_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None  # recorder or subject
    person_ref_id: uuid.UUID | None = None
    source_system: str | None = None
    occurred_from: datetime | None = None  # inclusive
    occurred_to: datetime | None = None  # exclusive

    def conditions(self, organisation_id: uuid.UUID) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.service_id is not None:
            out.append(T.service_id == self.service_id)
        if self.kind is not None:
            out.append(T.kind == self.kind.value)
        if self.system is not None:
            out.append(T.system == self.system.value)
        if self.innovation_id is not None:
            out.append(
                select(TI.touchpoint_id)
                .where(
                    TI.organisation_id == organisation_id,
                    TI.touchpoint_id == T.id,
                    TI.innovation_id == self.innovation_id,
                )
                .exists()
            )
        if self.staff_id is not None:
            out.append(or_(T.recorded_by_id == self.staff_id, T.subject_staff_id == self.staff_id))
        if self.person_ref_id is not None:
            out.append(T.person_ref_id == self.person_ref_id)
        if self.source_system is not None:
            out.append(T.source_system == self.source_system)
        if self.occurred_from is not None:
            out.append(T.occurred_at >= self.occurred_from)
        if self.occurred_to is not None:
            out.append(T.occurred_at < self.occurred_to)
        return out


def _cursor_position(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    return decode_time_id_cursor(cursor)


async def list_touchpoints(
    *,
    session: AsyncSession,
    principal: Principal,
    filters: TouchpointFilters,
    limit: int,
    cursor: str | None = None,
) -> Page[TouchpointPublic]:
    """Touchpoints the caller may read, oldest first by (occurred_at, id), a page at a time."""
    organisation_id = principal.require_organisation()
    statement = _select_touchpoints().where(
        visible_touchpoints(principal), *filters.conditions(organisation_id)
    )
    position = _cursor_position(cursor)
    if position is not None:
        statement = statement.where(tuple_(T.occurred_at, T.id) > tuple_(*position))
    rows = (await session.execute(statement.order_by(T.occurred_at, T.id).limit(limit + 1))).all()
    with_text = may_read_free_text(principal)
    items = [_public(row, with_text=with_text) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last.occurred_at.isoformat(), str(last.id)])
    if with_text:
        _audit_text_read(session, principal, items)
    return Page[TouchpointPublic](items=items, next_cursor=next_cursor)
