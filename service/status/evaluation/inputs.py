"""The plain data a status is computed from.

Both ways of reading the database produce these: the rollups (complete months) plus the raw rows of
the month containing `as_of`, or the raw rows alone (the recount, also used for `known_at`).
The indicator, stage and context functions only ever see these values.
"""

import itertools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from service.vocabulary import DeliverySystem

SYSTEM_COLUMNS: dict[str, str] = {system.value: f"refs_{system.value}" for system in DeliverySystem}


@dataclass(slots=True)
class MonthCounts:
    """Additive counts for one innovation in one service (or several, summed) over one local month.

    The `refs_*`, quality, survey and review columns count touchpoints that reference the
    innovation; `supervisions`, `incidents`, `late_incidents` and `restrictive_interventions` count
    every touchpoint of the service, whatever it references.
    """

    refs_total: int = 0
    refs_care_records: int = 0
    refs_team_communication: int = 0
    refs_supervision: int = 0
    refs_quality_assurance: int = 0
    refs_workforce: int = 0
    refs_incident_learning: int = 0
    refs_staff_voice: int = 0
    referencing_supervisions: int = 0
    why_assessed: int = 0
    why_explained: int = 0
    quality_early_n: int = 0
    quality_early_sum: int = 0
    quality_late_n: int = 0
    quality_late_sum: int = 0
    quality_night_n: int = 0
    quality_night_sum: int = 0
    surveys: int = 0
    nomad_coherence_n: int = 0
    nomad_coherence_sum: int = 0
    nomad_cognitive_participation_n: int = 0
    nomad_cognitive_participation_sum: int = 0
    nomad_collective_action_n: int = 0
    nomad_collective_action_sum: int = 0
    nomad_reflexive_monitoring_n: int = 0
    nomad_reflexive_monitoring_sum: int = 0
    familiar_n: int = 0
    familiar_sum: int = 0
    normal_now_n: int = 0
    normal_now_sum: int = 0
    normal_now_high: int = 0
    normal_future_n: int = 0
    normal_future_sum: int = 0
    # Incidents of this month with a review tied to the innovation that captured learning within
    # REVIEW_WITHIN_DAYS (whenever that review happened); of those, the ones in the month's last
    # REVIEW_WITHIN_DAYS days ("late"), and of those the ones reviewed before the month ended.
    incidents_reviewed: int = 0
    late_incidents_reviewed: int = 0
    late_incidents_reviewed_in_month: int = 0
    # Service-wide counts.
    supervisions: int = 0
    incidents: int = 0
    late_incidents: int = 0
    restrictive_interventions: int = 0

    def add(self, other: "MonthCounts", sign: int = 1) -> None:
        """Add `other` in (or, with `sign=-1`, take it away)."""
        _add(self, other, sign)

    def add_service_wide(self, other: "MonthCounts") -> None:
        """Add only `other`'s service-wide counts (the rest of a service month's counts are zero)."""
        _add_service_wide(self, other)

    def refs_in(self, system: str) -> int:
        value: int = getattr(self, SYSTEM_COLUMNS[system])
        return value

    def quality(self, shift: str) -> tuple[int, int]:
        return getattr(self, f"quality_{shift}_n"), getattr(self, f"quality_{shift}_sum")

    def is_empty(self) -> bool:
        return not _any(self)


COUNT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(MonthCounts))


def _compiled(name: str, source: str) -> Any:
    # Statuses add counts thousands of times per request: one straight-line function per operation
    # (generated from the field list) instead of a getattr/setattr loop over forty fields.
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<MonthCounts.{name}>", "exec"), namespace)  # noqa: S102 - built from field names
    return namespace[name]


_add = _compiled(
    "_add",
    "def _add(a, b, sign):\n" + "".join(f"    a.{n} += sign * b.{n}\n" for n in COUNT_FIELDS),
)
_any = _compiled(
    "_any", "def _any(a):\n    return bool(" + " or ".join(f"a.{n}" for n in COUNT_FIELDS) + ")\n"
)
SERVICE_FIELDS: tuple[str, ...] = ("supervisions", "incidents", "late_incidents", "restrictive_interventions")
_add_service_wide = _compiled(
    "_add_service_wide",
    "def _add_service_wide(a, b):\n" + "".join(f"    a.{n} += b.{n}\n" for n in SERVICE_FIELDS),
)
INNOVATION_FIELDS: tuple[str, ...] = tuple(n for n in COUNT_FIELDS if n not in SERVICE_FIELDS)
# Set by recomputing the incidents of a month rather than by adding each touchpoint's share.
INCIDENT_REVIEW_FIELDS: tuple[str, ...] = (
    "incidents_reviewed",
    "late_incidents_reviewed",
    "late_incidents_reviewed_in_month",
)


_values = attrgetter(*COUNT_FIELDS)


def summed(items: "Iterable[MonthCounts]") -> MonthCounts:
    """A new MonthCounts holding the field-by-field total of `items` (a column sum, done in C)."""
    rows = [_values(item) for item in items]
    if not rows:
        return MonthCounts()
    if len(rows) == 1:
        return MonthCounts(*rows[0])
    return MonthCounts(*map(sum, zip(*rows, strict=True)))


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    id: uuid.UUID
    timezone: str
    operated_shifts: frozenset[str]


@dataclass(frozen=True, slots=True)
class StaffTenure:
    id: uuid.UUID
    service_ids: frozenset[uuid.UUID]
    started_on: date
    left_on: date | None


@dataclass(frozen=True, slots=True)
class Starter:
    """A staff member who started on or after the innovation's start, with their first steps on it."""

    id: uuid.UUID
    service_ids: frozenset[uuid.UUID]
    started_on: date
    left_on: date | None
    # The earliest referencing induction or shadowing with them as subject, and its local date.
    inducted_at: datetime | None
    inducted_on: date | None
    # The earliest referencing competency check they passed.
    competent_at: datetime | None
    competent_on: date | None


@dataclass(frozen=True, slots=True)
class AuditScore:
    touchpoint_id: uuid.UUID
    service_id: uuid.UUID
    occurred_at: datetime
    score_percent: Decimal


@dataclass(frozen=True, slots=True)
class AuditRun:
    """One service's consecutive audits, summarised so that runs of adjacent months join exactly:
    how many, their total, the first score, the last (up to) three, and the largest drop inside.
    Scores are in hundredths of a percentage point (a score_percent has two decimals)."""

    count: int
    total: int
    first: int
    last: tuple[int, ...]
    max_drop: int

    def then(self, later: "AuditRun") -> "AuditRun":
        """This run followed by a later one."""
        drop = max(self.max_drop, later.max_drop, self.last[-1] - later.first)
        return AuditRun(
            self.count + later.count,
            self.total + later.total,
            self.first,
            (self.last + later.last)[-3:],
            drop,
        )


def hundredths(score_percent: Decimal) -> int:
    """A score_percent (two decimals) as an exact integer number of hundredths."""
    return int(score_percent * 100)


def audit_run(scores: "list[Decimal]") -> AuditRun:
    """The run of these scores, in the order they were audited."""
    points = [hundredths(s) for s in scores]
    drops = [before - after for before, after in itertools.pairwise(points)]
    return AuditRun(len(points), sum(points), points[0], tuple(points[-3:]), max([0, *drops]))


IN_AUDIT_ORDER = attrgetter("occurred_at", "touchpoint_id")


def audit_runs(audits: "Iterable[AuditScore]", key: "Callable[[AuditScore], Any]") -> dict[Any, AuditRun]:
    """key → the run of the audits with that key (e.g. a service, or a service and month), each in
    the order they happened."""
    grouped: dict[Any, list[AuditScore]] = {}
    for audit in sorted(audits, key=IN_AUDIT_ORDER):
        grouped.setdefault(key(audit), []).append(audit)
    return {k: audit_run([a.score_percent for a in group]) for k, group in grouped.items()}


@dataclass(frozen=True, slots=True)
class RecentIncident:
    """An incident in the REVIEW_WITHIN_DAYS before `as_of`, whose review may still be to come."""

    touchpoint_id: uuid.UUID
    service_id: uuid.UUID
    occurred_at: datetime
    # The first review tied to the innovation that captured learning within the allowed days.
    first_review_at: datetime | None


@dataclass(slots=True)
class StatusInputs:
    """Everything one innovation's status needs, per service, for the months loaded."""

    innovation_id: uuid.UUID
    innovation_started_on: date
    as_of: datetime
    services: dict[uuid.UUID, ServiceInfo]
    # (service, local month) → counts. The month containing as_of holds only rows before as_of.
    months: dict[tuple[uuid.UUID, date], MonthCounts] = field(default_factory=dict)
    # (service, local month) → {recorder: referencing touchpoints they recorded}, each recorder by
    # their position in `staff` (every touchpoint's recorder is a member of the provider's staff).
    staff_counts: dict[tuple[uuid.UUID, date], dict[int, int]] = field(default_factory=dict)
    # Service-wide counts of the months before the innovation started (the outcomes baseline).
    baseline: dict[tuple[uuid.UUID, date], MonthCounts] = field(default_factory=dict)
    # (service, local month) → that month's audits of referencing touchpoints, as a run.
    audit_months: dict[tuple[uuid.UUID, date], AuditRun] = field(default_factory=dict)
    recent_incidents: list[RecentIncident] = field(default_factory=list)
    staff: list[StaffTenure] = field(default_factory=list)
    starters: list[Starter] = field(default_factory=list)
    # Per service: the earliest month before as_of's month with a referencing touchpoint.
    first_reference_month: dict[uuid.UUID, date] = field(default_factory=dict)
