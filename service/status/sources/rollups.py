"""The fast path: a status's counts from the monthly rollups, corrected at `as_of` with raw rows.

Complete months come from the rollup tables. The month containing `as_of` is read whichever way
touches fewer raw rows: its rows before `as_of` added up from scratch, or its rollup row with the
rows from `as_of` to the month's end taken away. A status asked for now takes the second way, and
as touchpoints may not be recorded more than a few minutes ahead, there is almost nothing to take
away: the cost does not grow with the month's volume either. The few per-event facts (audits,
recent incidents, new starters' first steps) come from targeted queries on indexed columns.
Every statement filters on the organisation.

When the session's transaction has written nothing and the pool has two idle connections, the
recorders' months and the per-event reads each go over one of them at the same time as the monthly
counts: another connection then sees exactly the committed data this one would (each statement
reads committed data as of its start either way), and the database works on all three while
Python decodes.
"""

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.database import driver_connection
from service.status.evaluation.counting import (
    COMPETENCY_WITHIN_DAYS,
    CONTRIBUTED_FIELDS,
    EARLY_STEP_DAYS,
    REVIEW_WINDOW,
)
from service.status.evaluation.inputs import (
    COUNT_FIELDS,
    INNOVATION_FIELDS,
    SERVICE_FIELDS,
    AuditRun,
    MonthCounts,
    RecentIncident,
    ServiceInfo,
    StaffTenure,
    Starter,
    StatusInputs,
)
from service.status.evaluation.periods import (
    add_months,
    local_date,
    local_month,
    month_end_at,
    month_start_at,
)
from service.status.evaluation.starters import StepCandidate, first_steps
from service.status.sources import rollup_sql as queries
from service.status.sources.span import InnovationServices, LoadRange


@dataclass(frozen=True, slots=True)
class MonthEdge:
    """How one service's month containing `as_of` is read."""

    service_id: uuid.UUID
    month: date
    # The last month read from the rollups: the month itself, or the one before it.
    last_rollup_month: date
    # Raw rows in [raw_from, raw_to) are added (sign 1) or taken away (sign -1).
    raw_from: datetime
    raw_to: datetime
    sign: int


def month_edge(service_id: uuid.UUID, tz: str, as_of: datetime) -> MonthEdge:
    month = local_month(as_of, tz)
    start, end = month_start_at(month, tz), month_end_at(month, tz)
    if as_of - start <= end - as_of:
        return MonthEdge(service_id, month, add_months(month, -1), start, as_of, 1)
    return MonthEdge(service_id, month, month, as_of, end, -1)


def _utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# The rollup statements select their counts in MonthCounts' own field order (innovation fields first,
# then the service-wide ones), so a row's tail can be passed to the constructor as it stands.
assert COUNT_FIELDS == INNOVATION_FIELDS + SERVICE_FIELDS


def _rollup_counts(row: asyncpg.Record, skip: int) -> MonthCounts:
    return MonthCounts(*tuple(row)[skip:])


def _service_counts(row: asyncpg.Record, skip: int) -> MonthCounts:
    return MonthCounts(**dict(zip(SERVICE_FIELDS, tuple(row)[skip:], strict=True)))


def _counts(row: Mapping[str, Any], fields: Sequence[str]) -> MonthCounts:
    counts = MonthCounts()
    for name in fields:
        value = row[name]
        if value:
            setattr(counts, name, value)
    return counts


def _ranges(
    edges: Sequence[MonthEdge], froms: Sequence[datetime], tos: Sequence[datetime]
) -> tuple[list[uuid.UUID], list[datetime], list[datetime], datetime, datetime]:
    """Per-service [from, to) arrays and their scalar envelope, in the order IN_RANGE takes them."""
    return [e.service_id for e in edges], list(froms), list(tos), min(froms), max(tos)


class _Reader:
    """One call's worth of loading: the services' month edges and the inputs being filled."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        organisation_id: uuid.UUID,
        innovations: Sequence[InnovationServices],
        services: Mapping[uuid.UUID, ServiceInfo],
        staff: Sequence[StaffTenure],
        load: LoadRange,
    ) -> None:
        self.conn = conn
        self.organisation_id = organisation_id
        self.innovations = innovations
        self.services = services
        self.staff = staff
        self.load = load
        self.as_of = load.as_of
        self.inputs = {
            i.id: StatusInputs(
                innovation_id=i.id,
                innovation_started_on=i.started_on,
                as_of=load.as_of,
                services={s: services[s] for s in i.service_ids if s in services},
                staff=list(staff),
            )
            for i in innovations
        }
        self.in_scope = {i.id: frozenset(i.service_ids) for i in innovations}
        service_ids = sorted({s for i in innovations for s in i.service_ids if s in services})
        self.edges = [month_edge(s, services[s].timezone, load.as_of) for s in service_ids]
        self.edge_of = {e.service_id: e for e in self.edges}
        self.innovation_ids = sorted(self.inputs)
        self.position = {member.id: i for i, member in enumerate(staff)}
        # (innovation, service, month) → incident review counts of the raw part of a month.
        self.reviewed: dict[tuple[uuid.UUID, uuid.UUID, date], MonthCounts] = {}
        # (innovation, (service, month), recorder, change) from the raw rows of the current month.
        self.raw_staff: list[tuple[uuid.UUID, tuple[uuid.UUID, date], int, int]] = []
        self.service_months: dict[tuple[uuid.UUID, date], MonthCounts] = {}

    def scoped(self, innovation_id: uuid.UUID, service_id: uuid.UUID) -> bool:
        return service_id in self.in_scope[innovation_id]

    async def run(
        self, sides: tuple[asyncpg.Connection, asyncpg.Connection] | None = None
    ) -> dict[uuid.UUID, StatusInputs]:
        """Read everything. With `sides`, the recorders' months and the per-event reads each go over
        one of those connections while the monthly counts go over the session's, so the database
        works on all three at once."""
        if not self.edges:
            return self.inputs
        if sides is None:
            await self.monthly()
            await self.staff_months(self.conn)
            await self.events(self.conn)
        else:
            await asyncio.gather(self.monthly(), self.staff_months(sides[0]), self.events(sides[1]))
        self.finish()
        return self.inputs

    async def monthly(self) -> None:
        await self.rollups()
        await self.raw_month()

    async def events(self, conn: asyncpg.Connection) -> None:
        await self.incidents(conn)
        await self.audits(conn)
        await self.starters(conn)

    async def rollups(self) -> None:
        org, ids, first = self.organisation_id, self.innovation_ids, self.load.first_month
        services = [e.service_id for e in self.edges]
        last = [e.last_rollup_month for e in self.edges]
        for row in await self.conn.fetch(queries.ROLLUP_SQL, org, ids, services, last, first):
            innovation_id, service_id, month = row[0], row[1], row[2]
            if service_id in self.in_scope[innovation_id]:
                self.inputs[innovation_id].months[(service_id, month)] = _rollup_counts(row, 3)
        baseline = list(self.load.baseline_months)
        for row in await self.conn.fetch(queries.SERVICE_MONTHS_SQL, org, services, last, first, baseline):
            self.service_months[(row[0], row[1])] = _service_counts(row, 2)
        current = [e.month for e in self.edges]
        for row in await self.conn.fetch(queries.FIRST_REFERENCES_SQL, org, ids, services, current):
            if self.scoped(row["innovation_id"], row["service_id"]):
                self.inputs[row["innovation_id"]].first_reference_month[row["service_id"]] = row["month"]

    async def staff_months(self, conn: asyncpg.Connection) -> None:
        """Each recorder's referencing touchpoints per service and complete month."""
        org, ids, first = self.organisation_id, self.innovation_ids, self.load.first_month
        services = [e.service_id for e in self.edges]
        last = [e.last_rollup_month for e in self.edges]
        staff_ids = [member.id for member in self.staff]
        rows = await conn.fetch(queries.STAFF_MONTHS_SQL, org, ids, services, last, first, staff_ids)
        for row in rows:
            innovation_id, service_id = row[0], row[1]
            if service_id in self.in_scope[innovation_id]:
                counts = dict(zip(row[3], row[4], strict=True))
                self.inputs[innovation_id].staff_counts[(service_id, row[2])] = counts

    async def raw_month(self) -> None:
        ranges = _ranges(self.edges, [e.raw_from for e in self.edges], [e.raw_to for e in self.edges])
        rows = await self.conn.fetch(queries.RAW_SQL, self.organisation_id, self.innovation_ids, *ranges)
        for row in rows:
            edge = self.edge_of[row["service_id"]]
            key = (edge.service_id, edge.month)
            if row["grain"] == "service":
                self.service_months.setdefault(key, MonthCounts()).add(
                    _counts(row, SERVICE_FIELDS), edge.sign
                )
                continue
            if not self.scoped(row["innovation_id"], edge.service_id):
                continue
            status = self.inputs[row["innovation_id"]]
            if row["grain"] == "innovation":
                status.months.setdefault(key, MonthCounts()).add(_counts(row, CONTRIBUTED_FIELDS), edge.sign)
            else:
                recorder = self.position.get(row["staff_member_id"])
                if recorder is not None:
                    # Applied in `finish`: the recorders' months may still be being read.
                    self.raw_staff.append(
                        (row["innovation_id"], key, recorder, edge.sign * row["refs_total"])
                    )

    async def incidents(self, conn: asyncpg.Connection) -> None:
        """The month's raw incidents' reviews (as the rollups count them), and the recent incidents.
        The review counts are kept apart until `finish`, as the monthly reads may still be filling
        the same months."""
        recent_from = self.as_of - REVIEW_WINDOW
        froms = [min(e.raw_from, recent_from) for e in self.edges]
        tos = [max(e.raw_to, self.as_of) for e in self.edges]
        rows = await conn.fetch(
            queries.INCIDENTS_SQL, self.organisation_id, self.innovation_ids, *_ranges(self.edges, froms, tos)
        )
        reviews: dict[uuid.UUID, dict[uuid.UUID, datetime]] = {}
        incidents: dict[uuid.UUID, Any] = {}
        for row in rows:
            incidents[row["id"]] = row
            if row["innovation_id"] is not None:
                reviews.setdefault(row["id"], {})[row["innovation_id"]] = row["first_review_at"]
        for incident_id, row in incidents.items():
            edge = self.edge_of[row["service_id"]]
            occurred_at = row["occurred_at"]
            in_raw = edge.raw_from <= occurred_at < edge.raw_to
            tz = self.services[edge.service_id].timezone
            for innovation_id, status in self.inputs.items():
                if not self.scoped(innovation_id, edge.service_id):
                    continue
                first_review = reviews.get(incident_id, {}).get(innovation_id)
                if in_raw and first_review is not None:
                    month_end = month_end_at(edge.month, tz)
                    late = occurred_at + REVIEW_WINDOW > month_end
                    key = (innovation_id, edge.service_id, edge.month)
                    counts = self.reviewed.setdefault(key, MonthCounts())
                    counts.incidents_reviewed += edge.sign
                    counts.late_incidents_reviewed += edge.sign * late
                    counts.late_incidents_reviewed_in_month += edge.sign * (late and first_review < month_end)
                if recent_from < occurred_at < self.as_of:
                    status.recent_incidents.append(
                        RecentIncident(incident_id, edge.service_id, occurred_at, first_review)
                    )

    async def audits(self, conn: asyncpg.Connection) -> None:
        """Complete months' audit runs from their rollup; the month containing as_of from its audits."""
        org, ids, first = self.organisation_id, self.innovation_ids, self.load.first_month
        services = [e.service_id for e in self.edges]
        current = [e.month for e in self.edges]
        rows = await conn.fetch(queries.AUDIT_MONTHS_SQL, org, ids, services, current, first)
        for row in rows:
            innovation_id, service_id = row[0], row[1]
            if service_id in self.in_scope[innovation_id]:
                self.inputs[innovation_id].audit_months[(service_id, row[2])] = AuditRun(
                    row[3], row[4], row[5], tuple(row[6]), row[7]
                )
        froms = [month_start_at(e.month, self.services[e.service_id].timezone) for e in self.edges]
        tos = [self.as_of for _ in self.edges]
        rows = await conn.fetch(queries.CURRENT_AUDITS_SQL, org, ids, *_ranges(self.edges, froms, tos))
        for row in rows:
            innovation_id, service_id = row[0], row[1]
            if service_id in self.in_scope[innovation_id]:
                month = self.edge_of[service_id].month
                self.inputs[innovation_id].audit_months[(service_id, month)] = AuditRun(
                    row[2], row[3], row[4], tuple(row[5]), row[6]
                )

    async def starters(self, conn: asyncpg.Connection) -> None:
        earliest = min(i.started_on for i in self.innovations)
        candidates = [s for s in self.staff if s.started_on >= earliest]
        if not candidates:
            return
        # UTC midnights a day beyond the local-date bounds on either side: a superset for any zone.
        steps_from = [_utc_midnight(s.started_on - timedelta(days=EARLY_STEP_DAYS + 1)) for s in candidates]
        steps_to = [
            _utc_midnight(s.started_on + timedelta(days=COMPETENCY_WITHIN_DAYS + 2)) for s in candidates
        ]
        rows = await conn.fetch(
            queries.STARTER_STEPS_SQL,
            self.organisation_id,
            self.innovation_ids,
            [s.id for s in candidates],
            steps_from,
            steps_to,
        )
        steps: dict[tuple[uuid.UUID, uuid.UUID], list[StepCandidate]] = {}
        for row in rows:
            steps.setdefault((row["staff_id"], row["innovation_id"]), []).append(
                StepCandidate(
                    row["kind"],
                    row["passed"],
                    row["occurred_at"],
                    local_date(row["occurred_at"], self.services[row["service_id"]].timezone),
                )
            )
        for innovation in self.innovations:
            self.inputs[innovation.id].starters = sorted(
                (
                    Starter(
                        m.id,
                        m.service_ids,
                        m.started_on,
                        m.left_on,
                        *first_steps(m.started_on, steps.get((m.id, innovation.id), ())),
                    )
                    for m in candidates
                    if m.started_on >= innovation.started_on
                ),
                key=lambda s: s.id,
            )

    def finish(self) -> None:
        """Service-wide counts and incident reviews into each innovation's months and baseline;
        empty entries dropped."""
        for (innovation_id, service_id, month), counts in self.reviewed.items():
            self.inputs[innovation_id].months.setdefault((service_id, month), MonthCounts()).add(counts)
        for status in self.inputs.values():
            scope = self.in_scope[status.innovation_id]
            for (service_id, month), counts in self.service_months.items():
                if service_id not in scope or counts.is_empty():
                    continue
                if month >= self.load.first_month:
                    status.months.setdefault((service_id, month), MonthCounts()).add_service_wide(counts)
                if month in self.load.baseline_months:
                    status.baseline[(service_id, month)] = counts
            status.months = {k: v for k, v in status.months.items() if k[0] in scope and not v.is_empty()}
        changed: set[tuple[uuid.UUID, tuple[uuid.UUID, date]]] = set()
        for innovation_id, key, recorder, change in self.raw_staff:
            per_staff = self.inputs[innovation_id].staff_counts.setdefault(key, {})
            per_staff[recorder] = per_staff.get(recorder, 0) + change
            changed.add((innovation_id, key))
        for innovation_id, key in changed:
            staff_counts = self.inputs[innovation_id].staff_counts
            remaining = {s: n for s, n in staff_counts[key].items() if n}
            if remaining:
                staff_counts[key] = remaining
            else:
                del staff_counts[key]


async def load_rollup_inputs(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    innovations: Sequence[InnovationServices],
    services: Mapping[uuid.UUID, ServiceInfo],
    staff: Sequence[StaffTenure],
    load: LoadRange,
) -> dict[uuid.UUID, StatusInputs]:
    """The inputs of every innovation given, for the months of `load`."""
    conn = await driver_connection(session)
    reader = _Reader(conn, organisation_id, innovations, services, staff, load)
    engine = session.bind
    if isinstance(engine, AsyncEngine) and _spare_connections(engine, 2) and await _reads_only(conn):
        async with engine.connect() as first, engine.connect() as second:
            one, other = await first.get_raw_connection(), await second.get_raw_connection()
            return await reader.run((one.driver_connection, other.driver_connection))
    return await reader.run()


def _spare_connections(engine: AsyncEngine, wanted: int) -> bool:
    """Whether the pool has `wanted` idle connections to lend without making anyone wait."""
    pool = engine.pool
    checked_out, size = getattr(pool, "checkedout", None), getattr(pool, "size", None)
    return callable(checked_out) and callable(size) and checked_out() + wanted <= size()


async def _reads_only(conn: asyncpg.Connection) -> bool:
    """Whether another connection would see what this one sees: this transaction has written nothing
    (so has no transaction id yet) and reads committed data statement by statement."""
    return bool(
        await conn.fetchval(
            "SELECT pg_current_xact_id_if_assigned() IS NULL"
            " AND current_setting('transaction_isolation') = 'read committed'"
        )
    )
