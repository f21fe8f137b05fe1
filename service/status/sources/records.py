"""Touchpoints as plain records: as they stand now, or as they had been recorded at `known_at`.

The recount path of the status (and `known_at`, the auditor's "what did it say on that day?")
reads these rather than the rollups. A record known at `known_at` is the current row if it was
recorded by then; otherwise the revision that was current then (recorded by `known_at` and replaced
after it); otherwise it did not exist yet.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.status.evaluation.counting import REVIEW_WITHIN_DAYS
from service.status.evaluation.inputs import ServiceInfo, StaffTenure
from service.status.evaluation.periods import month_end_at, month_start_at
from service.status.sources.span import InnovationServices, LoadRange


@dataclass(frozen=True, slots=True)
class TouchpointRecord:
    id: uuid.UUID
    kind: str
    system: str
    service_id: uuid.UUID
    occurred_at: datetime
    shift: str
    recorded_by_id: uuid.UUID | None
    subject_staff_id: uuid.UUID | None
    innovation_ids: frozenset[uuid.UUID]
    facts: dict[str, Any]

    def fact(self, name: str) -> Any:
        return self.facts.get(name)

    @property
    def score_percent(self) -> Decimal | None:
        value = self.facts.get("score_percent")
        # The typed column keeps two decimal places; so does this.
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def incident_id(self) -> uuid.UUID | None:
        value = self.facts.get("incident_id")
        return None if value is None else uuid.UUID(str(value))


STEP_KINDS = ("induction", "shadowing", "competency_check")


@dataclass(frozen=True, slots=True)
class RecordSelection:
    """Which records a status needs: those that occurred in any of `ranges` (the months it reads,
    and the reviews that may follow them), and the induction steps of new starters (`subjects`)."""

    ranges: tuple[tuple[datetime, datetime], ...]
    subjects: tuple[uuid.UUID, ...] = ()

    def wants(self, record: "TouchpointRecord") -> bool:
        if any(start <= record.occurred_at < end for start, end in self.ranges):
            return True
        return record.kind in STEP_KINDS and record.subject_staff_id in self.subjects


def _current_sql(selection: RecordSelection) -> str:
    ranges = " OR ".join(
        f"(t.occurred_at >= :from_{i} AND t.occurred_at < :to_{i})" for i in range(len(selection.ranges))
    )
    steps = (
        "(t.kind IN ('induction', 'shadowing', 'competency_check') AND t.subject_staff_id = ANY(:subjects))"
    )
    return f"""
SELECT t.id, t.kind, t.system, t.service_id, t.occurred_at, t.shift, t.recorded_by_id,
       t.subject_staff_id, t.facts, t.recorded_at,
       coalesce(array_agg(l.innovation_id) FILTER (WHERE l.innovation_id IS NOT NULL), '{{}}')
         AS innovation_ids
  FROM touchpoint t
  LEFT JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
 WHERE t.organisation_id = :organisation_id AND ({ranges or "FALSE"} OR {steps})
 GROUP BY t.organisation_id, t.id, t.occurred_at
"""  # noqa: S608 - built from a count of ranges; values are bound parameters


_REVISIONS_SQL = """
SELECT r.touchpoint_id, r.content
  FROM touchpoint_revision r
 WHERE r.organisation_id = :organisation_id AND r.recorded_at <= :known_at AND r.replaced_at > :known_at
"""

_EARLIEST_SQL = """
SELECT l.innovation_id, t.service_id, min(t.occurred_at) AS occurred_at
  FROM touchpoint t
  JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
 WHERE t.organisation_id = :organisation_id AND t.occurred_at < :before
   AND l.innovation_id = ANY(:innovation_ids)
   AND (CAST(:known_at AS timestamptz) IS NULL OR t.recorded_at <= :known_at)
 GROUP BY l.innovation_id, t.service_id
"""


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def record_from_content(touchpoint_id: uuid.UUID, content: dict[str, Any]) -> TouchpointRecord:
    """A revision's stored content (the record as it stood) as a record."""
    return TouchpointRecord(
        id=touchpoint_id,
        kind=content["kind"],
        system=content["system"],
        service_id=uuid.UUID(content["service_id"]),
        occurred_at=datetime.fromisoformat(content["occurred_at"]),
        shift=content["shift"],
        recorded_by_id=_uuid(content.get("recorded_by_id")),
        subject_staff_id=_uuid(content.get("subject_staff_id")),
        innovation_ids=frozenset(uuid.UUID(i) for i in content.get("innovation_ids") or ()),
        facts=dict(content.get("facts") or {}),
    )


async def _revisions(
    session: AsyncSession, organisation_id: uuid.UUID, known_at: datetime | None
) -> dict[uuid.UUID, TouchpointRecord]:
    """Each corrected touchpoint as it stood at `known_at` (none without `known_at`)."""
    if known_at is None:
        return {}
    found = await session.execute(
        text(_REVISIONS_SQL), {"organisation_id": organisation_id, "known_at": known_at}
    )
    return {r.touchpoint_id: record_from_content(r.touchpoint_id, r.content) for r in found}


async def load_records(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    selection: RecordSelection,
    *,
    known_at: datetime | None = None,
) -> list[TouchpointRecord]:
    """The selected touchpoints of the organisation, as recorded now or as they had been recorded
    at `known_at` (a correction can move a record into or out of the selection)."""
    params: dict[str, Any] = {"organisation_id": organisation_id, "subjects": list(selection.subjects)}
    for i, (start, end) in enumerate(selection.ranges):
        params[f"from_{i}"], params[f"to_{i}"] = start, end
    rows = (await session.execute(text(_current_sql(selection)), params)).all()
    revisions = await _revisions(session, organisation_id, known_at)
    out = [r for r in revisions.values() if selection.wants(r)]
    for row in rows:
        if known_at is not None and row.recorded_at > known_at:
            continue  # not recorded yet in this form: its revision (if any) stands instead
        record = TouchpointRecord(
            id=row.id,
            kind=row.kind,
            system=row.system,
            service_id=row.service_id,
            occurred_at=row.occurred_at,
            shift=row.shift,
            recorded_by_id=row.recorded_by_id,
            subject_staff_id=row.subject_staff_id,
            innovation_ids=frozenset(row.innovation_ids),
            facts=dict(row.facts or {}),
        )
        if row.id not in revisions:
            out.append(record)
    return out


async def earliest_references(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    innovation_ids: list[uuid.UUID],
    *,
    before: datetime,
    known_at: datetime | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID], datetime]:
    """(innovation, service) → the earliest referencing touchpoint before `before`, as known then."""
    found = await session.execute(
        text(_EARLIEST_SQL),
        {
            "organisation_id": organisation_id,
            "before": before,
            "innovation_ids": innovation_ids,
            "known_at": known_at,
        },
    )
    out = {(r.innovation_id, r.service_id): r.occurred_at for r in found}
    for record in (await _revisions(session, organisation_id, known_at)).values():
        if record.occurred_at >= before:
            continue
        for innovation_id in record.innovation_ids & set(innovation_ids):
            key = (innovation_id, record.service_id)
            if key not in out or record.occurred_at < out[key]:
                out[key] = record.occurred_at
    return out


def record_selection(
    innovations: Sequence[InnovationServices],
    infos: Mapping[uuid.UUID, ServiceInfo],
    staff: Sequence[StaffTenure],
    load: LoadRange,
) -> RecordSelection:
    """The records a status reads: the months it loads (a day either side for time zones), the
    reviews that may follow their incidents, the baseline months, and new starters' steps."""
    zones = {i.timezone for i in infos.values()} or {"UTC"}
    day = timedelta(days=1)
    start = min(month_start_at(load.first_month, tz) for tz in zones) - day
    end = load.as_of + timedelta(days=REVIEW_WITHIN_DAYS) + day
    ranges = [(start, end)]
    if load.baseline_months:
        first, last = min(load.baseline_months), max(load.baseline_months)
        ranges.append(
            (
                min(month_start_at(first, tz) for tz in zones) - day,
                max(month_end_at(last, tz) for tz in zones) + day,
            )
        )
    earliest = min(i.started_on for i in innovations)
    subjects = tuple(s.id for s in staff if s.started_on >= earliest)
    return RecordSelection(ranges=tuple(ranges), subjects=subjects)
