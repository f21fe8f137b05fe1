"""The monthly series of a status: which points it needs (`plan`), and the stage at each of them.

`evaluate` is pure: it reads a `StatusInputs` (however it was loaded) and returns the same answer
for the same inputs. Points are evaluated lazily (service.status.evaluation.points) and cached, so a
stage that looks back over the series only computes the points it needs.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from service.status.evaluation import indicators as ind
from service.status.evaluation.context import Drift, Outcomes, StaffVoice
from service.status.evaluation.inputs import StatusInputs
from service.status.evaluation.periods import Point, add_months, previous_point, series_points
from service.status.evaluation.points import OK_FOR_GATE, PointEvaluator
from service.status.evaluation.stage import StageFacts, StageReason, decide_stage, is_past_pilot
from service.status.thresholds import Thresholds
from service.status.vocabulary import IndicatorKey, Stage

# How far back the stage remembers that an innovation was embedding, and how many months
# `months_in_stage` and the run of green months can count.
MEMORY_MONTHS = 12


@dataclass(frozen=True, slots=True)
class PointResult:
    point: Point
    indicators: dict[IndicatorKey, ind.IndicatorResult]
    stage: Stage
    stage_reasons: list[StageReason]
    drift: Drift
    outcomes: Outcomes
    staff_voice: StaffVoice


@dataclass(frozen=True, slots=True)
class StatusResult:
    current: PointResult
    months_in_stage: int
    history: list[PointResult]


@dataclass(frozen=True, slots=True)
class Plan:
    """Which points to evaluate and which months of data that needs."""

    timeline: tuple[Point, ...]
    first_stage_index: int
    first_month: date
    last_month: date
    baseline_months: list[date]
    # What it was planned for: a status over services labelled in another time zone, or with a
    # longer history, needs a plan of its own.
    tz: str
    history: int


def window_months(window_days: int) -> int:
    return max(1, round(Fraction(window_days) / Fraction(3652425, 120000)))


def plan(tz: str, as_of: datetime, window_days: int, innovation_started_on: date, history: int = 1) -> Plan:
    """Points for a status (and `history` monthly points), with enough before them for memory."""
    stage_points = max(history, MEMORY_MONTHS + 1)
    timeline = series_points(as_of, window_days, tz, stage_points + MEMORY_MONTHS)
    first_stage_index = len(timeline) - stage_points
    firsts = [timeline[0].months[0]]
    firsts += [previous_point(p, window_days, tz).months[0] for p in timeline[first_stage_index:]]
    start_month = innovation_started_on.replace(day=1)
    baseline = [add_months(start_month, -k) for k in range(window_months(window_days), 0, -1)]
    return Plan(timeline, first_stage_index, min(firsts), timeline[-1].month, baseline, tz, history)


class _Series:
    """The stages along one plan's timeline, each decided once, when first asked for."""

    def __init__(self, evaluator: PointEvaluator, the_plan: Plan) -> None:
        self.evaluator = evaluator
        self.plan = the_plan
        self.timeline = the_plan.timeline
        self.past_pilot = [is_past_pilot(evaluator.light_facts(p)) for p in self.timeline]
        self.stages: dict[int, tuple[Stage, list[StageReason], Drift]] = {}

    def stage_at(self, i: int) -> tuple[Stage, list[StageReason], Drift]:
        if i not in self.stages:
            self.stages[i] = self._decide(i)
        return self.stages[i]

    def _green_run(self, i: int) -> tuple[int, bool]:
        """How many months up to point `i` had every gate open, and whether a starter or leaver fell
        in them."""
        evaluator, timeline = self.evaluator, self.timeline
        run = 0
        turnover = False
        j = i
        while j >= 0 and run < MEMORY_MONTHS and evaluator.gate_open(timeline[j]):
            run += 1
            # The run's windows, not only its labels: a starter's own month is usually still
            # pending for them, and the months after judge whether the practice survived it.
            turnover = turnover or any(m in evaluator.turnover_months for m in timeline[j].months)
            j -= 1
        return run, turnover

    def _decide(self, i: int) -> tuple[Stage, list[StageReason], Drift]:
        evaluator = self.evaluator
        point = self.timeline[i]
        run, turnover = self._green_run(i)
        point_drift = evaluator.drift(point)
        results = evaluator.indicators(point)
        facts = StageFacts(
            ever_referenced=evaluator.ever_referenced(point),
            core_systems_referenced=evaluator.core_systems_referenced(point),
            services_in_scope=len(evaluator.service_ids),
            services_referenced=evaluator.services_referenced(point),
            person_independence=results[IndicatorKey.person_independence].rag,
            green_run=run,
            green_run_has_turnover=turnover,
            was_embedding=any(self.past_pilot[max(0, i - MEMORY_MONTHS) : i]),
            silent_core_systems=evaluator.silent_core_systems(point),
            drift_flagged=point_drift.flagged,
            not_green=tuple(k.value for k, r in results.items() if r.rag not in OK_FOR_GATE),
        )
        stage, reasons = decide_stage(facts)
        return stage, reasons, point_drift

    def result(self, i: int) -> PointResult:
        stage, reasons, point_drift = self.stage_at(i)
        point = self.timeline[i]
        return PointResult(
            point=point,
            indicators=self.evaluator.indicators(point),
            stage=stage,
            stage_reasons=reasons,
            drift=point_drift,
            outcomes=self.evaluator.outcomes(point, self.plan.baseline_months),
            staff_voice=self.evaluator.staff_voice(point),
        )

    def months_in_stage(self) -> int:
        """How many months, up to the last point, the stage has been the last point's."""
        last = len(self.timeline) - 1
        current = self.stage_at(last)[0]
        months = 0
        for i in range(last, self.plan.first_stage_index - 1, -1):
            if self.stage_at(i)[0] is not current:
                break
            months += 1
        return months


def evaluate(
    inputs: StatusInputs,
    thresholds: Thresholds,
    service_ids: Iterable[uuid.UUID],
    *,
    tz: str,
    window_days: int,
    history: int = 1,
    the_plan: Plan | None = None,
) -> StatusResult:
    """The status at `inputs.as_of` and, with `history` > 1, the monthly points before it. A plan
    already made for these inputs (the one their months were loaded for) is used as it is."""
    if the_plan is None or (the_plan.tz, the_plan.history) != (tz, history):
        the_plan = plan(tz, inputs.as_of, window_days, inputs.innovation_started_on, history)
    evaluator = PointEvaluator(inputs, thresholds, service_ids, tz, window_days, the_plan.first_month)
    series = _Series(evaluator, the_plan)
    last = len(the_plan.timeline) - 1
    history_points = [series.result(i) for i in range(last - history + 1, last + 1)] if history > 1 else []
    return StatusResult(
        current=series.result(last), months_in_stage=series.months_in_stage(), history=history_points
    )
