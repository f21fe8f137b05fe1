"""Reading touchpoints: the statement selecting what a caller may read, and the reads built on it.

SQLAlchemy Core statements run through the session: the conditions are composed per caller and per
filter, which Core does without string building.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, and_, false, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.errors import Forbidden
from service.pagination import decode_time_id_cursor
from service.policy import Permission, allowed
from service.staff.models import StaffMember
from service.touchpoints.models import Touchpoint, TouchpointInnovation, TouchpointRevision
from service.touchpoints.schemas import TouchpointFilters

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
    """Every field of TouchpointPublic, by its name."""
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


async def find_touchpoint(
    session: AsyncSession, organisation_id: uuid.UUID, touchpoint_id: uuid.UUID
) -> RowMapping | None:
    """The organisation's touchpoint, whoever may read it (for a caller that just wrote or found it)."""
    statement = _select_touchpoints().where(T.organisation_id == organisation_id, T.id == touchpoint_id)
    return (await session.execute(statement)).mappings().one_or_none()


async def find_visible_touchpoint(
    session: AsyncSession, principal: Principal, touchpoint_id: uuid.UUID
) -> RowMapping | None:
    statement = _select_touchpoints().where(visible_touchpoints(principal), T.id == touchpoint_id)
    return (await session.execute(statement)).mappings().one_or_none()


async def revisions_of(
    session: AsyncSession, organisation_id: uuid.UUID, touchpoint_id: uuid.UUID
) -> Sequence[RowMapping]:
    """The touchpoint's earlier revisions, oldest first, each with the fields of its public shape."""
    statement = (
        select(
            TR.revision,
            TR.content,
            TR.recorded_at,
            TR.recorded_by_sub,
            TR.replaced_at,
            TR.replaced_by_sub,
        )
        .where(TR.organisation_id == organisation_id, TR.touchpoint_id == touchpoint_id)
        .order_by(TR.revision)
    )
    return (await session.execute(statement)).mappings().all()


async def list_visible_touchpoints(
    session: AsyncSession,
    principal: Principal,
    filters: TouchpointFilters,
    *,
    cursor: str | None,
    limit: int,
) -> Sequence[RowMapping]:
    """Up to `limit` touchpoints the caller may read, by (occurred_at, id), after the `cursor` of an
    earlier page."""
    organisation_id = principal.require_organisation()
    statement = _select_touchpoints().where(
        visible_touchpoints(principal), *_filter_conditions(filters, organisation_id)
    )
    after = decode_time_id_cursor(cursor)
    if after is not None:
        statement = statement.where(tuple_(T.occurred_at, T.id) > tuple_(*after))
    return (await session.execute(statement.order_by(T.occurred_at, T.id).limit(limit))).mappings().all()


def _filter_conditions(filters: TouchpointFilters, organisation_id: uuid.UUID) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if filters.service_id is not None:
        out.append(T.service_id == filters.service_id)
    if filters.kind is not None:
        out.append(T.kind == filters.kind.value)
    if filters.system is not None:
        out.append(T.system == filters.system.value)
    if filters.innovation_id is not None:
        out.append(
            select(TI.touchpoint_id)
            .where(
                TI.organisation_id == organisation_id,
                TI.touchpoint_id == T.id,
                TI.innovation_id == filters.innovation_id,
            )
            .exists()
        )
    if filters.staff_id is not None:
        out.append(or_(T.recorded_by_id == filters.staff_id, T.subject_staff_id == filters.staff_id))
    if filters.person_ref_id is not None:
        out.append(T.person_ref_id == filters.person_ref_id)
    if filters.source_system is not None:
        out.append(T.source_system == filters.source_system)
    if filters.occurred_from is not None:
        out.append(T.occurred_at >= filters.occurred_from)
    if filters.occurred_to is not None:
        out.append(T.occurred_at < filters.occurred_to)
    return out
