"""One innovation over a set of services: its indicators at any point, and the facts the stage reads.

Points are evaluated lazily and cached, so a stage that looks back over the series computes only
what it needs: all eight indicators where a rule reads them, `person_independence` alone where only
the pilot rule does.
"""

import bisect
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from fractions import Fraction
from functools import cached_property
from operator import attrgetter

from service.status.evaluation import indicators as ind
from service.status.evaluation.context import (
    Drift,
    Outcomes,
    StaffVoice,
    drift,
    no_drift,
    outcomes,
    staff_voice,
)
from service.status.evaluation.counting import CORE_SYSTEM_VALUES, REVIEW_WINDOW, SHIFTS, SILENCE_DAYS
from service.status.evaluation.inputs import AuditRun, MonthCounts, StaffTenure, Starter, StatusInputs, summed
from service.status.evaluation.periods import (
    Point,
    add_months,
    counted_span,
    local_date,
    local_month,
    months_between,
    previous_point,
)
from service.status.evaluation.stage import StageFacts
from service.status.evaluation.starters import StarterDeadlines
from service.status.thresholds import Thresholds
from service.status.vocabulary import IndicatorKey, Rag

MICROSECOND = timedelta(microseconds=1)
# A gating indicator lets `embedded` through when it is green or does not apply.
OK_FOR_GATE = frozenset({Rag.green, Rag.not_applicable})


class PointEvaluator:
    """The status of one innovation over a set of services, at any point."""

    def __init__(
        self,
        inputs: StatusInputs,
        thresholds: Thresholds,
        service_ids: Iterable[uuid.UUID],
        tz: str,
        window_days: int,
        data_from: date = date.min,
    ) -> None:
        self.inputs = inputs
        # Months before this were not loaded: a window reaching into them has no comparison.
        self.data_from = data_from
        self.th = thresholds
        self.service_ids = frozenset(service_ids)
        self.tz = tz
        self.window_days = window_days
        self._counts: dict[date, MonthCounts] = {}
        self._referencing_services: dict[date, frozenset[uuid.UUID]] = {}
        # Referencing touchpoints per recorder, as one vector per month, so a window's totals are a
        # column sum rather than a dictionary merge.
        self._staff: dict[date, list[int]] = {}
        self._window: dict[Point, MonthCounts] = {}
        self._indicators: dict[Point, dict[IndicatorKey, ind.IndicatorResult]] = {}
        self._independence: dict[Point, ind.IndicatorResult] = {}
        self._days: dict[Point, tuple[date, date]] = {}
        self._sum_services()

    def _sum_services(self) -> None:
        service_ids = self.service_ids
        by_month: dict[date, list[MonthCounts]] = {}
        referencing: dict[date, set[uuid.UUID]] = {}
        for (service_id, month), counts in self.inputs.months.items():
            if service_id not in service_ids:
                continue
            by_month.setdefault(month, []).append(counts)
            if counts.refs_total:
                referencing.setdefault(month, set()).add(service_id)
        self._counts = {month: summed(counts) for month, counts in by_month.items()}
        self._referencing_services = {m: frozenset(s) for m, s in referencing.items()}
        # Each month's referencing touchpoints per recorder, summed over the services, as one
        # vector per month indexed by the recorder's position in the provider's staff.
        size = len(self.inputs.staff)
        vectors = self._staff
        for (service_id, month), per_staff in self.inputs.staff_counts.items():
            if service_id not in service_ids:
                continue
            vector = vectors.get(month)
            if vector is None:
                vector = vectors[month] = [0] * size
            for recorder, n in per_staff.items():
                vector[recorder] += n
        # Each recorder's tenure if they are staff of these services (never active otherwise), and
        # their start and leaving dates sorted, so a window's active staff are counted by bisection.
        self._started = [date.max] * size
        self._left = [date.max] * size
        for i, member in enumerate(self.inputs.staff):
            if member.service_ids & service_ids:
                self._started[i] = member.started_on
                self._left[i] = member.left_on or date.max
        self._starts = sorted(s.started_on for s in self.staff)
        self._leavings = sorted(s.left_on for s in self.staff if s.left_on is not None)

    # -- inputs restricted to the services--------------------------------------------------------

    @cached_property
    def audit_months(self) -> dict[uuid.UUID, dict[date, AuditRun]]:
        out: dict[uuid.UUID, dict[date, AuditRun]] = {}
        for (service_id, month), run in self.inputs.audit_months.items():
            if service_id in self.service_ids:
                out.setdefault(service_id, {})[month] = run
        return out

    @cached_property
    def staff(self) -> list[StaffTenure]:
        return [s for s in self.inputs.staff if s.service_ids & self.service_ids]

    @cached_property
    def starters(self) -> list[Starter]:
        started, ours = self.inputs.innovation_started_on, self.service_ids
        return [s for s in self.inputs.starters if s.service_ids & ours and s.started_on >= started]

    @cached_property
    def operated_shifts(self) -> frozenset[str]:
        shifts: set[str] = set()
        for service_id in self.service_ids:
            info = self.inputs.services.get(service_id)
            if info is not None:
                shifts |= info.operated_shifts
        return frozenset(shifts)

    @cached_property
    def first_reference_month(self) -> date | None:
        months = [m for s, m in self.inputs.first_reference_month.items() if s in self.service_ids]
        return min(months) if months else None

    @cached_property
    def turnover_months(self) -> frozenset[date]:
        months: set[date] = set()
        for member in self.staff:
            months.add(member.started_on.replace(day=1))
            if member.left_on is not None:
                months.add(member.left_on.replace(day=1))
        return frozenset(months)

    def counts(self, month: date) -> MonthCounts:
        return self._counts.get(month) or MonthCounts()

    def window_counts(self, point: Point) -> MonthCounts:
        cached = self._window.get(point)
        if cached is None:
            cached = summed(self._counts[m] for m in point.months if m in self._counts)
            self._window[point] = cached
        return cached

    def first_and_last_day(self, point: Point) -> tuple[date, date]:
        days = self._days.get(point)
        if days is None:
            days = (local_date(point.start, self.tz), local_date(point.end - MICROSECOND, self.tz))
            self._days[point] = days
        return days

    # -- indicators --------------------------------------------------------------------------------

    def indicators(self, point: Point) -> dict[IndicatorKey, ind.IndicatorResult]:
        cached = self._indicators.get(point)
        if cached is None:
            cached = self._compute_indicators(point)
            self._indicators[point] = cached
        return cached

    def _compute_indicators(self, point: Point) -> dict[IndicatorKey, ind.IndicatorResult]:
        th = self.th
        w = self.window_counts(point)
        last_three = [add_months(point.month, -k) for k in (2, 1, 0)]
        started_month = self.inputs.innovation_started_on.replace(day=1)
        months_referenced = {
            s: sum(1 for m in last_three if self.counts(m).refs_in(s) > 0) for s in CORE_SYSTEM_VALUES
        }
        available = sum(1 for m in last_three if m >= started_month)
        out = {
            IndicatorKey.system_visibility: ind.system_visibility(
                months_referenced, available, th.system_visibility
            ),
            IndicatorKey.supervision_reinforcement: ind.supervision_reinforcement(
                w.referencing_supervisions, w.supervisions, th.supervision_reinforcement
            ),
            IndicatorKey.understanding_why: ind.understanding_why(
                w.why_explained, w.why_assessed, th.understanding_why
            ),
            IndicatorKey.shift_consistency: ind.shift_consistency(
                {s: w.quality(s) for s in SHIFTS}, self.operated_shifts, th.shift_consistency
            ),
            IndicatorKey.audit_stability: ind.audit_stability(self.audits_in(point), th.audit_stability),
            IndicatorKey.incident_learning: self._incident_learning(point, w),
            IndicatorKey.person_independence: self.person_independence(point),
            IndicatorKey.turnover_resilience: self._turnover_resilience(point),
        }
        return out

    def audits_in(self, point: Point) -> list[AuditRun]:
        """Each service's audits in the window, its months' runs joined in order."""
        runs = []
        for months in self.audit_months.values():
            joined: AuditRun | None = None
            for month in point.months:
                run = months.get(month)
                if run is not None:
                    joined = run if joined is None else joined.then(run)
            if joined is not None:
                runs.append(joined)
        return runs

    def _incident_learning(self, point: Point, w: MonthCounts) -> ind.IndicatorResult:
        """Settled incidents count by whether they were reviewed in time; recent ones (still inside
        their review period at the window's end) only once a review has come."""
        if point.current:
            horizon = point.end - REVIEW_WINDOW
            recent_list = [
                i
                for i in self.inputs.recent_incidents
                if i.service_id in self.service_ids
                and point.start <= i.occurred_at < point.end
                and i.occurred_at > horizon
            ]
            recent = len(recent_list)
            recent_reviewed = sum(1 for i in recent_list if i.first_review_at is not None)
            recent_in_time = sum(
                1 for i in recent_list if i.first_review_at is not None and i.first_review_at < point.end
            )
        else:
            last = self.counts(point.month)
            recent = last.late_incidents
            recent_reviewed = last.late_incidents_reviewed
            recent_in_time = last.late_incidents_reviewed_in_month
        reviewed = w.incidents_reviewed - recent_reviewed + recent_in_time
        eligible = w.incidents - recent + recent_in_time
        pending = recent - recent_in_time
        return ind.incident_learning(reviewed, eligible, w.incidents, pending, self.th.incident_learning)

    def active_staff(self, point: Point) -> int:
        """How many of the services' staff were employed during the window (a leaving date is never
        before the start date, so those who left before the window all started before its end)."""
        first_day, last_day = self.first_and_last_day(point)
        return bisect.bisect_right(self._starts, last_day) - bisect.bisect_left(self._leavings, first_day)

    def person_independence(self, point: Point) -> ind.IndicatorResult:
        """Cached on its own: the pilot rule reads it for points whose other indicators no rule needs."""
        cached = self._independence.get(point)
        if cached is None:
            cached = self._person_independence(point)
            self._independence[point] = cached
        return cached

    def _person_independence(self, point: Point) -> ind.IndicatorResult:
        vectors = [self._staff[m] for m in point.months if m in self._staff]
        if len(vectors) > 1:
            window = list(map(sum, zip(*vectors, strict=True)))
        else:
            window = vectors[0] if vectors else [0] * len(self.inputs.staff)
        first_day, last_day = self.first_and_last_day(point)
        contributors = sum(
            1
            for n, started, left in zip(window, self._started, self._left, strict=True)
            if n and started <= last_day and left >= first_day
        )
        th = self.th.person_independence
        return ind.person_independence(
            max(window, default=0), sum(window), contributors, self.active_staff(point), th
        )

    @cached_property
    def _starter_deadlines(self) -> tuple[list[date], list[StarterDeadlines]]:
        """The services' new starters' deadlines, in order of their start dates."""
        deadlines = sorted(
            (
                StarterDeadlines.of(
                    s.started_on, s.left_on, s.inducted_at, s.inducted_on, s.competent_at, s.competent_on
                )
                for s in self.starters
            ),
            key=attrgetter("started_on"),
        )
        return [d.started_on for d in deadlines], deadlines

    def _turnover_resilience(self, point: Point) -> ind.IndicatorResult:
        _, last_day = self.first_and_last_day(point)
        starts, deadlines = self._starter_deadlines
        started = deadlines[: bisect.bisect_right(starts, last_day)]
        tally = Counter(d.outcome(point.end, last_day) for d in started)
        eligible = tally["met"] + tally["missed"]
        return ind.turnover_resilience(
            tally["met"], eligible, tally["pending"], len(started), self.th.turnover_resilience
        )

    # -- stage facts -------------------------------------------------------------------------------

    def ever_referenced(self, point: Point) -> bool:
        if self.first_reference_month is not None and self.first_reference_month <= point.month:
            return True
        return any(c.refs_total for m, c in self._counts.items() if m <= point.month)

    def core_systems_referenced(self, point: Point) -> tuple[str, ...]:
        w = self.window_counts(point)
        return tuple(s for s in CORE_SYSTEM_VALUES if w.refs_in(s) > 0)

    def services_referenced(self, point: Point) -> int:
        services: set[uuid.UUID] = set()
        for month in point.months:
            services |= self._referencing_services.get(month, frozenset())
        return len(services)

    def gate_open(self, point: Point) -> bool:
        return all(r.rag in OK_FOR_GATE for r in self.indicators(point).values())

    def silent_core_systems(self, point: Point) -> tuple[str, ...]:
        first = local_month(point.end - timedelta(days=SILENCE_DAYS), self.tz)
        months = months_between(first, point.month)
        return tuple(s for s in CORE_SYSTEM_VALUES if all(self.counts(m).refs_in(s) == 0 for m in months))

    def light_facts(self, point: Point) -> StageFacts:
        """The facts that decide pilot versus past pilot (no memory, no drift)."""
        return StageFacts(
            ever_referenced=self.ever_referenced(point),
            core_systems_referenced=self.core_systems_referenced(point),
            services_in_scope=len(self.service_ids),
            services_referenced=self.services_referenced(point),
            person_independence=self.person_independence(point).rag,
            green_run=0,
            green_run_has_turnover=False,
            was_embedding=False,
            silent_core_systems=(),
            drift_flagged=(),
            not_green=(),
        )

    def drift(self, point: Point) -> Drift:
        before = previous_point(point, self.window_days, self.tz)
        if before.months[0] < self.data_from:
            return no_drift()
        span_now = counted_span(point, self.tz) // MICROSECOND
        span_before = counted_span(before, self.tz) // MICROSECOND
        return drift(
            self.indicators(point),
            self.indicators(before),
            self.window_counts(point),
            span_now,
            self.window_counts(before),
            span_before,
            self.th,
            previous_window=(before.start, before.end),
        )

    def outcomes(self, point: Point, baseline_months: Sequence[date]) -> Outcomes:
        window = [(m, self.counts(m)) for m in point.months]
        baseline_counts = []
        for month in baseline_months:
            total = MonthCounts()
            for (service_id, m), counts in self.inputs.baseline.items():
                if m == month and service_id in self.service_ids:
                    total.add(counts)
            baseline_counts.append((month, total))
        days = Fraction(counted_span(point, self.tz) // MICROSECOND, 86_400_000_000)
        return outcomes(window, days, baseline_counts)

    def staff_voice(self, point: Point) -> StaffVoice:
        return staff_voice(self.window_counts(point))
