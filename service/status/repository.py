"""Status queries: the reference data a status needs, and its counts from the rollups.

`load_rollup_inputs` is the fast path: complete months come from the rollup tables, the month
containing `as_of` from raw rows (with the expressions in contribution_sql), and the few per-event
facts (audits, recent incidents, new starters' first steps) from targeted queries on indexed
columns. Its cost depends on the months in the window and the current month's rows, not on how
much history there is. Every statement filters on the organisation.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.status.contribution_sql import (
    CONTRIBUTED_FIELDS,
    INNOVATION_EXPRESSIONS,
    SERVICE_EXPRESSIONS,
)
from service.status.counts import (
    INNOVATION_FIELDS,
    REVIEW_WITHIN_DAYS,
    SERVICE_FIELDS,
    SHIFTS,
    AuditScore,
    MonthCounts,
    RecentIncident,
    ServiceInfo,
    StaffTenure,
    Starter,
    StatusInputs,
)
from service.status.periods import local_date, local_month, month_end_at, month_start_at
from service.status.reference import InnovationScope, LoadRange

REVIEW_WINDOW = timedelta(days=REVIEW_WITHIN_DAYS)


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection behind the session, inside the session's transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    return driver


# -- reference data ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InnovationRow:
    id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    phase: str
    started_on: Any
    service_ids: tuple[uuid.UUID, ...]
    thresholds: dict[str, Any] | None

    @property
    def scope(self) -> InnovationScope:
        return InnovationScope(self.id, self.started_on, self.service_ids)


@dataclass(frozen=True, slots=True)
class ServiceRow:
    id: uuid.UUID
    name: str
    info: ServiceInfo


def operated_shifts(shift_pattern: Mapping[str, Any] | None) -> frozenset[str]:
    """The shifts a service runs: those its pattern gives a start time (all three without one)."""
    if not shift_pattern:
        return frozenset(SHIFTS)
    return frozenset(s for s in SHIFTS if shift_pattern.get(s))


_INNOVATIONS_SQL = """
SELECT i.id, i.organisation_id, i.name, i.phase, i.started_on, i.thresholds,
       coalesce(array_agg(x.service_id ORDER BY x.service_id) FILTER (WHERE x.service_id IS NOT NULL), '{}')
         AS service_ids
  FROM innovation i
  LEFT JOIN innovation_service x ON x.organisation_id = i.organisation_id AND x.innovation_id = i.id
 WHERE i.organisation_id = :organisation_id AND (CAST(:ids AS uuid[]) IS NULL OR i.id = ANY(:ids))
 GROUP BY i.organisation_id, i.id
 ORDER BY i.name, i.id
"""


async def innovations(
    session: AsyncSession, organisation_id: uuid.UUID, ids: Sequence[uuid.UUID] | None = None
) -> list[InnovationRow]:
    rows = await session.execute(
        text(_INNOVATIONS_SQL),
        {"organisation_id": organisation_id, "ids": list(ids) if ids is not None else None},
    )
    return [
        InnovationRow(
            r.id, r.organisation_id, r.name, r.phase, r.started_on, tuple(r.service_ids), r.thresholds
        )
        for r in rows
    ]


async def services(session: AsyncSession, organisation_id: uuid.UUID) -> dict[uuid.UUID, ServiceRow]:
    rows = await session.execute(
        text("SELECT id, name, timezone, shift_pattern FROM service WHERE organisation_id = :o"),
        {"o": organisation_id},
    )
    return {
        r.id: ServiceRow(r.id, r.name, ServiceInfo(r.id, r.timezone, operated_shifts(r.shift_pattern)))
        for r in rows
    }


async def staff(session: AsyncSession, organisation_id: uuid.UUID) -> list[StaffTenure]:
    rows = await session.execute(
        text(
            """
            SELECT m.id, m.started_on, m.left_on,
                   coalesce(array_agg(x.service_id) FILTER (WHERE x.service_id IS NOT NULL), '{}')
                     AS service_ids
              FROM staff_member m
              LEFT JOIN staff_member_service x
                ON x.organisation_id = m.organisation_id AND x.staff_member_id = m.id
             WHERE m.organisation_id = :o
             GROUP BY m.organisation_id, m.id
             ORDER BY m.id
            """
        ),
        {"o": organisation_id},
    )
    return [StaffTenure(r.id, frozenset(r.service_ids), r.started_on, r.left_on) for r in rows]


async def provider_thresholds(session: AsyncSession, organisation_id: uuid.UUID) -> dict[str, Any] | None:
    row = await session.execute(
        text("SELECT thresholds FROM provider_thresholds WHERE organisation_id = :o"), {"o": organisation_id}
    )
    value: dict[str, Any] | None = row.scalar_one_or_none()
    return value


# -- the fast path ------------------------------------------------------------------------------------

_INNOVATION_COLUMNS = ", ".join(INNOVATION_FIELDS)
_SERVICE_COLUMNS = ", ".join(SERVICE_FIELDS)

_ROLLUP_SQL = f"""
SELECT r.innovation_id, r.service_id, r.month, {_INNOVATION_COLUMNS}
  FROM status_month_rollup r
  JOIN unnest($3::uuid[], $4::date[]) AS c(service_id, current_month) ON c.service_id = r.service_id
 WHERE r.organisation_id = $1 AND r.innovation_id = ANY($2::uuid[])
   AND r.month >= $5 AND r.month < c.current_month
"""  # noqa: S608 - column names come from the MonthCounts fields

_SERVICE_MONTHS_SQL = f"""
SELECT m.service_id, m.month, {_SERVICE_COLUMNS}
  FROM status_service_month m
  JOIN unnest($2::uuid[], $3::date[]) AS c(service_id, current_month) ON c.service_id = m.service_id
 WHERE m.organisation_id = $1 AND m.month < c.current_month AND (m.month >= $4 OR m.month = ANY($5::date[]))
"""  # noqa: S608

_STAFF_MONTHS_SQL = """
SELECT r.innovation_id, r.service_id, r.month, r.staff_member_id, r.touchpoints
  FROM status_staff_month r
  JOIN unnest($3::uuid[], $4::date[]) AS c(service_id, current_month) ON c.service_id = r.service_id
 WHERE r.organisation_id = $1 AND r.innovation_id = ANY($2::uuid[])
   AND r.month >= $5 AND r.month < c.current_month AND r.touchpoints <> 0
"""

_FIRST_REFERENCES_SQL = """
SELECT r.innovation_id, r.service_id, min(r.month) AS month
  FROM status_month_rollup r
  JOIN unnest($3::uuid[], $4::date[]) AS c(service_id, current_month) ON c.service_id = r.service_id
 WHERE r.organisation_id = $1 AND r.innovation_id = ANY($2::uuid[]) AND r.month < c.current_month
   AND r.refs_total > 0
 GROUP BY r.innovation_id, r.service_id
"""

# The month containing as_of, from raw rows: one scan, three groupings (referencing counts per
# innovation and service, per recorder, and service-wide counts).
_MONTH_SQL = f"""
WITH t AS MATERIALIZED (
  SELECT t.id, t.organisation_id, t.kind, t.system, t.service_id, t.occurred_at, t.shift, t.recorded_by_id,
         t.explains_why, t.engagement_quality, t.score, t.restrictive_intervention, t.facts, s.timezone
    FROM unnest($3::uuid[], $4::timestamptz[]) AS b(service_id, month_start)
    JOIN service s ON s.organisation_id = $1 AND s.id = b.service_id
    JOIN touchpoint t ON t.organisation_id = $1 AND t.service_id = b.service_id
                     AND t.occurred_at >= b.month_start AND t.occurred_at < $5
)
SELECT 'innovation' AS grain, l.innovation_id, t.service_id, NULL::uuid AS staff_member_id,
       {", ".join(f"sum({INNOVATION_EXPRESSIONS[c]})::int AS {c}" for c in CONTRIBUTED_FIELDS)},
       {", ".join(f"NULL::int AS {c}" for c in SERVICE_FIELDS)}
  FROM t CROSS JOIN LATERAL (SELECT t.timezone) AS s
  JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
 WHERE l.innovation_id = ANY($2::uuid[])
 GROUP BY l.innovation_id, t.service_id
UNION ALL
SELECT 'staff', l.innovation_id, t.service_id, t.recorded_by_id, count(*)::int,
       {", ".join("NULL" for _ in CONTRIBUTED_FIELDS[1:])},
       {", ".join("NULL" for _ in SERVICE_FIELDS)}
  FROM t
  JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
 WHERE l.innovation_id = ANY($2::uuid[]) AND t.recorded_by_id IS NOT NULL
 GROUP BY l.innovation_id, t.service_id, t.recorded_by_id
UNION ALL
SELECT 'service', NULL, t.service_id, NULL,
       {", ".join("NULL" for _ in CONTRIBUTED_FIELDS)},
       {", ".join(f"sum({SERVICE_EXPRESSIONS[c]})::int" for c in SERVICE_FIELDS)}
  FROM t CROSS JOIN LATERAL (SELECT t.timezone) AS s
 WHERE t.kind IN ('supervision', 'incident')
 GROUP BY t.service_id
"""  # noqa: S608 - built from constant expressions; values are bound parameters

# Incidents whose review period may still be open at as_of, and the current month's incidents,
# with the first qualifying review per innovation (whenever it happened).
_INCIDENTS_SQL = f"""
SELECT i.id, i.service_id, i.occurred_at, f.innovation_id, f.first_review_at
  FROM unnest($3::uuid[], $4::timestamptz[]) AS b(service_id, since)
  JOIN touchpoint i ON i.organisation_id = $1 AND i.service_id = b.service_id AND i.kind = 'incident'
                   AND i.occurred_at >= b.since AND i.occurred_at < $5
  LEFT JOIN LATERAL (
    SELECT ti.innovation_id, min(v.occurred_at) AS first_review_at
      FROM touchpoint v
      JOIN touchpoint_innovation ti ON ti.organisation_id = v.organisation_id AND ti.touchpoint_id = v.id
     WHERE v.organisation_id = i.organisation_id AND v.incident_id = i.id
       AND v.kind = 'post_incident_review' AND v.learning_captured IS TRUE
       AND v.occurred_at >= i.occurred_at
       AND v.occurred_at <= i.occurred_at + interval '{REVIEW_WITHIN_DAYS * 24} hours'
       AND ti.innovation_id = ANY($2::uuid[])
     GROUP BY ti.innovation_id
  ) AS f ON TRUE
"""  # noqa: S608

_AUDITS_SQL = """
SELECT l.innovation_id, t.id, t.service_id, t.occurred_at, t.score_percent
  FROM unnest($3::uuid[], $4::timestamptz[]) AS b(service_id, since)
  JOIN touchpoint t ON t.organisation_id = $1 AND t.service_id = b.service_id AND t.kind = 'audit'
                   AND t.occurred_at >= b.since AND t.occurred_at < $5
  JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
 WHERE l.innovation_id = ANY($2::uuid[]) AND t.score_percent IS NOT NULL
"""

_STARTER_STEPS_SQL = """
SELECT t.subject_staff_id, l.innovation_id,
       min(t.occurred_at) FILTER (WHERE t.kind IN ('induction', 'shadowing')) AS inducted_at,
       (array_agg(s.timezone ORDER BY t.occurred_at)
          FILTER (WHERE t.kind IN ('induction', 'shadowing')))[1] AS inducted_tz,
       min(t.occurred_at) FILTER (WHERE t.kind = 'competency_check' AND t.passed) AS competent_at,
       (array_agg(s.timezone ORDER BY t.occurred_at)
          FILTER (WHERE t.kind = 'competency_check' AND t.passed))[1] AS competent_tz
  FROM touchpoint t
  JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
  JOIN service s ON s.organisation_id = t.organisation_id AND s.id = t.service_id
 WHERE t.organisation_id = $1 AND t.subject_staff_id = ANY($3::uuid[])
   AND t.kind IN ('induction', 'shadowing', 'competency_check') AND l.innovation_id = ANY($2::uuid[])
 GROUP BY t.subject_staff_id, l.innovation_id
"""


def _counts(row: Mapping[str, Any], fields: Sequence[str]) -> MonthCounts:
    counts = MonthCounts()
    for name in fields:
        value = row[name]
        if value:
            setattr(counts, name, value)
    return counts


async def load_rollup_inputs(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    innovations: Sequence[InnovationScope],
    services: Mapping[uuid.UUID, ServiceInfo],
    staff: Sequence[StaffTenure],
    load: LoadRange,
) -> dict[uuid.UUID, StatusInputs]:
    """The inputs of every innovation given, for the months of `load`, from rollups and the month's rows."""
    as_of = load.as_of
    inputs = {
        i.id: StatusInputs(
            innovation_id=i.id,
            innovation_started_on=i.started_on,
            as_of=as_of,
            services={s: services[s] for s in i.service_ids if s in services},
            staff=list(staff),
        )
        for i in innovations
    }
    if not inputs:
        return inputs
    service_ids = sorted({s for i in innovations for s in i.service_ids if s in services})
    innovation_ids = sorted(inputs)
    current = [local_month(as_of, services[s].timezone) for s in service_ids]
    month_starts = [
        month_start_at(m, services[s].timezone) for s, m in zip(service_ids, current, strict=True)
    ]
    first_starts = [month_start_at(load.first_month, services[s].timezone) for s in service_ids]
    in_scope = {i.id: frozenset(i.service_ids) for i in innovations}
    conn = await driver_connection(session)

    for row in await conn.fetch(
        _ROLLUP_SQL, organisation_id, innovation_ids, service_ids, current, load.first_month
    ):
        if row["service_id"] in in_scope[row["innovation_id"]]:
            counts = _counts(row, INNOVATION_FIELDS)
            if not counts.is_empty():
                inputs[row["innovation_id"]].months[(row["service_id"], row["month"])] = counts

    baseline_months = list(load.baseline_months)
    service_rows = await conn.fetch(
        _SERVICE_MONTHS_SQL, organisation_id, service_ids, current, load.first_month, baseline_months
    )
    month_rows = await conn.fetch(
        _MONTH_SQL, organisation_id, innovation_ids, service_ids, month_starts, as_of
    )
    service_months: dict[tuple[uuid.UUID, Any], MonthCounts] = {}
    for row in service_rows:
        service_months[(row["service_id"], row["month"])] = _counts(row, SERVICE_FIELDS)
    current_of = dict(zip(service_ids, current, strict=True))
    for row in month_rows:
        service_id = row["service_id"]
        key = (service_id, current_of[service_id])
        if row["grain"] == "service":
            service_months[key] = _counts(row, SERVICE_FIELDS)
        elif row["grain"] == "innovation":
            inputs[row["innovation_id"]].months.setdefault(key, MonthCounts()).add(
                _counts(row, CONTRIBUTED_FIELDS)
            )
        elif service_id in in_scope[row["innovation_id"]]:
            per_staff = inputs[row["innovation_id"]].staff_counts.setdefault(key, {})
            per_staff[row["staff_member_id"]] = row["refs_total"]

    for status in inputs.values():
        scope = in_scope[status.innovation_id]
        for (service_id, month), counts in service_months.items():
            if service_id not in scope or counts.is_empty():
                continue
            if month >= load.first_month:
                status.months.setdefault((service_id, month), MonthCounts()).add(counts)
            if month in load.baseline_months:
                status.baseline[(service_id, month)] = counts
        status.months = {k: v for k, v in status.months.items() if k[0] in scope and not v.is_empty()}

    for row in await conn.fetch(
        _STAFF_MONTHS_SQL, organisation_id, innovation_ids, service_ids, current, load.first_month
    ):
        if row["service_id"] in in_scope[row["innovation_id"]]:
            per_staff = inputs[row["innovation_id"]].staff_counts.setdefault(
                (row["service_id"], row["month"]), {}
            )
            per_staff[row["staff_member_id"]] = row["touchpoints"]

    for row in await conn.fetch(_FIRST_REFERENCES_SQL, organisation_id, innovation_ids, service_ids, current):
        if row["service_id"] in in_scope[row["innovation_id"]]:
            inputs[row["innovation_id"]].first_reference_month[row["service_id"]] = row["month"]

    await _load_incidents(conn, organisation_id, inputs, in_scope, services, service_ids, month_starts, as_of)
    audit_rows = await conn.fetch(
        _AUDITS_SQL, organisation_id, innovation_ids, service_ids, first_starts, as_of
    )
    for row in audit_rows:
        if row["service_id"] in in_scope[row["innovation_id"]]:
            inputs[row["innovation_id"]].audits.append(
                AuditScore(row["id"], row["service_id"], row["occurred_at"], row["score_percent"])
            )
    await _load_starters(conn, organisation_id, inputs, innovations, staff)
    return inputs


async def _load_incidents(
    conn: asyncpg.Connection,
    organisation_id: uuid.UUID,
    inputs: dict[uuid.UUID, StatusInputs],
    in_scope: Mapping[uuid.UUID, frozenset[uuid.UUID]],
    services: Mapping[uuid.UUID, ServiceInfo],
    service_ids: Sequence[uuid.UUID],
    month_starts: Sequence[datetime],
    as_of: datetime,
) -> None:
    """The current month's incident reviews (as the rollups count them) and the recent incidents."""
    recent_from = as_of - REVIEW_WINDOW
    since = [min(start, recent_from) for start in month_starts]
    month_start_of = dict(zip(service_ids, month_starts, strict=True))
    rows = await conn.fetch(_INCIDENTS_SQL, organisation_id, list(inputs), list(service_ids), since, as_of)
    reviews: dict[uuid.UUID, dict[uuid.UUID, datetime]] = {}
    incidents: dict[uuid.UUID, Any] = {}
    for row in rows:
        incidents[row["id"]] = row
        if row["innovation_id"] is not None:
            reviews.setdefault(row["id"], {})[row["innovation_id"]] = row["first_review_at"]
    for incident_id, row in incidents.items():
        service_id, occurred_at = row["service_id"], row["occurred_at"]
        tz = services[service_id].timezone
        for innovation_id, status in inputs.items():
            if service_id not in in_scope[innovation_id]:
                continue
            first_review = reviews.get(incident_id, {}).get(innovation_id)
            if occurred_at >= month_start_of[service_id] and first_review is not None:
                month = local_month(occurred_at, tz)
                month_end = month_end_at(month, tz)
                late = occurred_at + REVIEW_WINDOW > month_end
                counts = status.months.setdefault((service_id, month), MonthCounts())
                counts.incidents_reviewed += 1
                counts.late_incidents_reviewed += late
                counts.late_incidents_reviewed_in_month += late and first_review < month_end
            if occurred_at > recent_from:
                status.recent_incidents.append(
                    RecentIncident(incident_id, service_id, occurred_at, first_review)
                )


async def _load_starters(
    conn: asyncpg.Connection,
    organisation_id: uuid.UUID,
    inputs: dict[uuid.UUID, StatusInputs],
    innovations: Sequence[InnovationScope],
    staff: Sequence[StaffTenure],
) -> None:
    earliest = min(i.started_on for i in innovations)
    candidates = [s for s in staff if s.started_on >= earliest]
    if not candidates:
        return
    rows = await conn.fetch(_STARTER_STEPS_SQL, organisation_id, list(inputs), [s.id for s in candidates])
    steps = {(r["subject_staff_id"], r["innovation_id"]): r for r in rows}
    for innovation in innovations:
        out = []
        for member in candidates:
            if member.started_on < innovation.started_on:
                continue
            step = steps.get((member.id, innovation.id))
            inducted_at = step["inducted_at"] if step else None
            competent_at = step["competent_at"] if step else None
            out.append(
                Starter(
                    member.id,
                    member.service_ids,
                    member.started_on,
                    member.left_on,
                    inducted_at,
                    local_date(inducted_at, step["inducted_tz"]) if step and inducted_at else None,
                    competent_at,
                    local_date(competent_at, step["competent_tz"]) if step and competent_at else None,
                )
            )
        inputs[innovation.id].starters = sorted(out, key=lambda s: s.id)
