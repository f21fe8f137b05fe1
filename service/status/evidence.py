"""The touchpoints behind an indicator: which count in its numerator, which in its denominator.

Same window and services as the status the caller would get. Pages run in (occurred_at, id) order.
Commissioners and inspectors see no free text and no staff or person identifiers; within the
provider, free text (`text` and free-text facts such as an audit's `tool`, see
`service.touchpoints.free_text`) needs `touchpoint:read_text` and staff ids `staff_identity:read`.
Withheld free text reads as null. Reads by the
provider's own staff are written to the access log, as touchpoint reads are.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth.principal import Principal
from service.pagination import decode_time_id_cursor, encode_cursor
from service.policy import Permission, allowed, check
from service.scoping import ProviderScope
from service.status.access import innovation_scope
from service.status.evaluation.counting import (
    ASSESSMENT,
    COMPETENCY_WITHIN_DAYS,
    CORE_SYSTEM_VALUES,
    INDUCTION_WITHIN_DAYS,
    LEARNING_REVIEW,
    REVIEW_INTERVAL,
)
from service.status.evaluation.periods import add_months, month_start_at, point_ending, services_timezone
from service.status.schemas import EvidenceItem, EvidencePage
from service.status.service import DEFAULT_WINDOW_DAYS, check_window, invalid_field, resolve_moments
from service.status.sources import provider_setup
from service.status.sources.provider_setup import InnovationRow
from service.status.subjects import load_subjects
from service.status.vocabulary import IndicatorKey
from service.touchpoints.free_text import disclose, may_read_free_text

# Facts an indicator reads or names its evidence by (an audit's tool, free text: withheld from
# those who may not read it); other facts stay with the touchpoint.
INDICATOR_FACTS = (
    "engagement_quality",
    "score",
    "score_percent",
    "explains_why",
    "passed",
    "severity",
    "restrictive_intervention",
    "learning_captured",
    "follow_up_observation_planned",
    "tool",
)
LINKED = (
    "EXISTS (SELECT 1 FROM touchpoint_innovation l WHERE l.organisation_id = t.organisation_id "
    "AND l.touchpoint_id = t.id AND l.innovation_id = :innovation_id)"
)
FIRST_REVIEW = f"""(
  SELECT v.id FROM touchpoint v
   WHERE v.organisation_id = t.organisation_id AND v.incident_id = t.id
     AND {LEARNING_REVIEW}
     AND v.occurred_at < :window_end
     AND EXISTS (SELECT 1 FROM touchpoint_innovation l WHERE l.organisation_id = v.organisation_id
                  AND l.touchpoint_id = v.id AND l.innovation_id = :innovation_id)
   ORDER BY v.occurred_at, v.id LIMIT 1)"""  # noqa: S608 - constant SQL


@dataclass(frozen=True, slots=True)
class Selection:
    """Which touchpoints an indicator reads, and which of them count in its numerator."""

    where: str
    numerator: str
    denominator: str = "TRUE"
    related: str = "NULL::uuid"


def _selection(key: IndicatorKey) -> Selection:
    if key is IndicatorKey.system_visibility:
        core = ", ".join(f"'{s}'" for s in CORE_SYSTEM_VALUES)
        return Selection(f"t.system IN ({core}) AND {LINKED}", "t.system = ANY(:visible_systems)")
    if key is IndicatorKey.supervision_reinforcement:
        return Selection("t.kind = 'supervision'", LINKED)
    if key is IndicatorKey.understanding_why:
        where = f"{ASSESSMENT} AND t.explains_why IS NOT NULL AND {LINKED}"
        return Selection(where, "t.explains_why IS TRUE")
    if key is IndicatorKey.shift_consistency:
        quality = (
            "((t.kind = 'daily_note' AND t.engagement_quality IS NOT NULL)"
            " OR (t.kind = 'practice_observation' AND t.score IS NOT NULL))"
        )
        return Selection(f"{quality} AND {LINKED}", "FALSE")
    if key is IndicatorKey.audit_stability:
        return Selection(f"t.kind = 'audit' AND t.score_percent IS NOT NULL AND {LINKED}", "TRUE")
    if key is IndicatorKey.incident_learning:
        return Selection(
            "t.kind = 'incident'",
            f"{FIRST_REVIEW} IS NOT NULL",
            denominator=f"({FIRST_REVIEW} IS NOT NULL OR t.occurred_at + {REVIEW_INTERVAL} <= :window_end)",
            related=FIRST_REVIEW,
        )
    if key is IndicatorKey.person_independence:
        top = (
            "(SELECT x.recorded_by_id FROM touchpoint x WHERE x.organisation_id = :organisation_id "
            "AND x.service_id = ANY(:service_ids) AND x.occurred_at >= :window_start "
            "AND x.occurred_at < :window_end AND x.recorded_by_id IS NOT NULL "
            "AND EXISTS (SELECT 1 FROM touchpoint_innovation l WHERE l.organisation_id = x.organisation_id "
            "AND l.touchpoint_id = x.id AND l.innovation_id = :innovation_id) "
            "GROUP BY x.recorded_by_id ORDER BY count(*) DESC, x.recorded_by_id LIMIT 1)"
        )
        return Selection(f"t.recorded_by_id IS NOT NULL AND {LINKED}", f"t.recorded_by_id = {top}")
    starters = (
        "(SELECT m.started_on FROM staff_member m WHERE m.organisation_id = t.organisation_id "
        "AND m.id = t.subject_staff_id AND m.started_on >= :innovation_started_on)"
    )
    local_day = (
        "(t.occurred_at AT TIME ZONE (SELECT s.timezone FROM service s "
        "WHERE s.organisation_id = t.organisation_id AND s.id = t.service_id))::date"
    )
    competent = f"t.passed IS TRUE AND {local_day} <= {starters} + {COMPETENCY_WITHIN_DAYS}"
    return Selection(
        f"t.kind IN ('induction', 'shadowing', 'competency_check') AND {starters} IS NOT NULL AND {LINKED}",
        f"(CASE WHEN t.kind = 'competency_check' THEN {competent} "
        f"ELSE {local_day} <= {starters} + {INDUCTION_WITHIN_DAYS} END)",
    )


@dataclass(frozen=True, slots=True)
class EvidenceWindow:
    """Which touchpoints an indicator's evidence may come from: the caller's scope, the innovation,
    the services it may see, and the window (as the status the caller would get)."""

    scope: ProviderScope
    innovation: InnovationRow
    service_ids: list[uuid.UUID]
    start: datetime
    end: datetime


async def _window(
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    key: IndicatorKey,
    *,
    service_id: uuid.UUID | None,
    window_days: int,
    moment: datetime,
) -> EvidenceWindow:
    scope = await innovation_scope(session, principal, innovation_id, as_of=moment)
    rows = await provider_setup.innovations(session, scope.provider_id, [innovation_id])
    services = await provider_setup.services(session, scope.provider_id)
    innovation = rows[0]
    visible = [s for s in innovation.service_ids if s in services and scope.may_see_service(s)]
    if service_id is not None:
        if service_id not in visible:
            raise invalid_field(
                "service_id", "not_in_scope", "is not a service this innovation is in scope of for you"
            )
        visible = [service_id]
    tz = services_timezone(services[s].info for s in visible)
    point = point_ending(moment, window_days, tz, current=True)
    start = point.start
    if key is IndicatorKey.system_visibility:
        start = month_start_at(add_months(point.month, -2), tz)
    if key is IndicatorKey.turnover_resilience:
        # New starters since the innovation began: their steps from then on (an induction may
        # come a little before the first shift).
        start = month_start_at(innovation.started_on.replace(day=1), tz) - timedelta(
            days=INDUCTION_WITHIN_DAYS
        )
    return EvidenceWindow(scope, innovation, visible, start, point.end)


def _page_sql(selection: Selection, keyset: str) -> str:
    return f"""
        SELECT t.id, t.kind, t.system, t.service_id, t.occurred_at, t.shift, t.recorded_by_id,
               t.subject_staff_id, t.person_ref_id, t.text, t.facts,
               ({selection.numerator}) AS in_numerator, ({selection.denominator}) AS in_denominator,
               {selection.related} AS related
          FROM touchpoint t
         WHERE t.organisation_id = :organisation_id AND t.service_id = ANY(:service_ids)
           AND t.occurred_at >= :window_start AND t.occurred_at < :window_end
           AND {selection.where} {keyset}
         ORDER BY t.occurred_at, t.id
         LIMIT :limit
    """  # noqa: S608 - the selection is one of the constant fragments above


async def indicator_evidence(
    *,
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    key: IndicatorKey,
    service_id: uuid.UUID | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    as_of: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> EvidencePage:
    check(principal, Permission.evidence_read)
    check_window(window_days)
    moment, _ = resolve_moments(as_of, None)
    window = await _window(
        session, principal, innovation_id, key, service_id=service_id, window_days=window_days, moment=moment
    )
    provider_id = window.scope.provider_id
    params: dict[str, Any] = {
        "organisation_id": provider_id,
        "innovation_id": innovation_id,
        "innovation_started_on": window.innovation.started_on,
        "service_ids": window.service_ids,
        "window_start": window.start,
        "window_end": window.end,
        "limit": limit + 1,
    }
    if key is IndicatorKey.system_visibility:
        params["visible_systems"] = await _visible_systems(
            session, provider_id, innovation_id, window.service_ids, moment, window_days
        )
    after = decode_time_id_cursor(cursor)
    keyset = ""
    if after:
        keyset = "AND (t.occurred_at, t.id) > (:after_at, :after_id)"
        params["after_at"], params["after_id"] = after
    found = list(await session.execute(text(_page_sql(_selection(key), keyset)), params))
    more = len(found) > limit
    found = found[:limit]
    items = _items(found, principal, window.scope)
    if items:
        record_access(
            session,
            principal=principal,
            action="status.evidence",
            resource_type="touchpoint",
            record_ids=[i.touchpoint_id for i in items],
            organisation_id=provider_id,
        )
    last = found[-1] if found else None
    return EvidencePage(
        items=items,
        next_cursor=encode_cursor([last.occurred_at.isoformat(), str(last.id)]) if more and last else None,
        indicator=key,
        window_start=window.start,
        window_end=window.end,
        redacted=window.scope.is_external,
    )


def _items(found: list[Any], principal: Principal, scope: ProviderScope) -> list[EvidenceItem]:
    """The rows as evidence items, with what the caller may not read withheld."""
    external = scope.is_external
    show_text = may_read_free_text(principal, provider_id=scope.provider_id)
    show_staff = not external and allowed(principal, Permission.staff_identity_read)
    return [
        EvidenceItem(
            touchpoint_id=r.id,
            kind=r.kind,
            system=r.system,
            service_id=r.service_id,
            occurred_at=r.occurred_at,
            shift=r.shift,
            in_numerator=bool(r.in_numerator),
            in_denominator=bool(r.in_denominator),
            facts=shown["facts"],
            related_touchpoint_id=r.related,
            recorded_by_id=r.recorded_by_id if show_staff else None,
            subject_staff_id=r.subject_staff_id if show_staff else None,
            person_ref_id=r.person_ref_id if not external else None,
            text=shown["text"],
        )
        for r, shown in ((r, _disclosed(r, readable=show_text)) for r in found)
    ]


def _disclosed(row: Any, *, readable: bool) -> dict[str, Any]:
    """The row's text and the facts an indicator reads, free text withheld unless `readable`."""
    facts = {k: v for k, v in (row.facts or {}).items() if k in INDICATOR_FACTS}
    return disclose({"kind": row.kind, "text": row.text, "facts": facts}, readable=readable)


async def _visible_systems(
    session: AsyncSession,
    provider_id: uuid.UUID,
    innovation_id: uuid.UUID,
    service_ids: list[uuid.UUID],
    as_of: datetime,
    window_days: int,
) -> list[str]:
    """The core systems the status counts as visible: read from the status itself, so the two agree."""
    [subject] = await load_subjects(
        session, provider_id, [innovation_id], as_of=as_of, window_days=window_days
    )
    result = subject.evaluate(service_ids).current.indicators[IndicatorKey.system_visibility]
    months = result.measures["months_referenced"]
    return [system for system, referenced in months.items() if referenced >= 2]
