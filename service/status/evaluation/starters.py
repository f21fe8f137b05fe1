"""New starters on an innovation: their first steps, and whether they met their deadlines.

`turnover_resilience` asks whether each starter since the innovation began was inducted or shadowed
on it within INDUCTION_WITHIN_DAYS of starting and passed a competency check within
COMPETENCY_WITHIN_DAYS. Both read paths find the first steps the same way (`first_steps`); the
evaluation judges them at each window's end (`StarterDeadlines`).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from service.status.evaluation.counting import COMPETENCY_WITHIN_DAYS, EARLY_STEP_DAYS, INDUCTION_WITHIN_DAYS


@dataclass(frozen=True, slots=True)
class StepCandidate:
    """A referencing induction, shadowing or competency check with a new starter as its subject."""

    kind: str
    passed: bool
    occurred_at: datetime
    occurred_on: date  # local date, in the touchpoint's service's time zone


def first_steps(
    started_on: date, candidates: Iterable[StepCandidate]
) -> tuple[datetime | None, date | None, datetime | None, date | None]:
    """A starter's first induction or shadowing, and first passed competency check, among steps
    dated from EARLY_STEP_DAYS before their start to COMPETENCY_WITHIN_DAYS after it (later ones
    cannot meet any deadline)."""
    earliest = started_on - timedelta(days=EARLY_STEP_DAYS)
    latest = started_on + timedelta(days=COMPETENCY_WITHIN_DAYS)
    inducted: StepCandidate | None = None
    competent: StepCandidate | None = None
    for step in candidates:
        if not earliest <= step.occurred_on <= latest:
            continue
        first_induction = inducted is None or step.occurred_at < inducted.occurred_at
        first_pass = competent is None or step.occurred_at < competent.occurred_at
        if step.kind in ("induction", "shadowing") and first_induction:
            inducted = step
        elif step.kind == "competency_check" and step.passed and first_pass:
            competent = step
    return (
        inducted.occurred_at if inducted else None,
        inducted.occurred_on if inducted else None,
        competent.occurred_at if competent else None,
        competent.occurred_on if competent else None,
    )


def starter_outcome(
    started_on: date,
    left_on: date | None,
    inducted_on: date | None,
    competent_on: date | None,
    last_day: date,
) -> str:
    """One new starter at a window's last day: `met`, `missed`, `pending` or `excluded`.

    `inducted_on` / `competent_on` are the local dates of the first qualifying steps that happened
    before the window's end (None if none had). A step is missed once its deadline day has passed
    without it. A starter who left within their first 60 days without completing both steps is
    excluded: the indicator asks whether the innovation reaches the staff who stay.
    """
    induction_due = started_on + timedelta(days=INDUCTION_WITHIN_DAYS)
    competency_due = started_on + timedelta(days=COMPETENCY_WITHIN_DAYS)
    inducted = inducted_on is not None and inducted_on <= induction_due
    competent = competent_on is not None and competent_on <= competency_due
    left_early = left_on is not None and left_on < competency_due
    return _outcome(inducted, competent, left_early, induction_due, competency_due, last_day)


def _outcome(
    inducted: bool,
    competent: bool,
    left_early: bool,
    induction_due: date,
    competency_due: date,
    last_day: date,
) -> str:
    if inducted and competent:
        return "met"
    if left_early:
        return "excluded"
    if (not inducted and last_day > induction_due) or (not competent and last_day > competency_due):
        return "missed"
    return "pending"


@dataclass(frozen=True, slots=True)
class StarterDeadlines:
    """One new starter's deadlines and when their on-time first steps happened (None if late or
    not yet), so their outcome at any window's end is a few comparisons (as `starter_outcome`)."""

    started_on: date
    induction_due: date
    competency_due: date
    left_early: bool
    inducted_at: datetime | None
    competent_at: datetime | None

    @classmethod
    def of(
        cls,
        started_on: date,
        left_on: date | None,
        inducted_at: datetime | None,
        inducted_on: date | None,
        competent_at: datetime | None,
        competent_on: date | None,
    ) -> "StarterDeadlines":
        induction_due = started_on + timedelta(days=INDUCTION_WITHIN_DAYS)
        competency_due = started_on + timedelta(days=COMPETENCY_WITHIN_DAYS)
        return cls(
            started_on,
            induction_due,
            competency_due,
            left_on is not None and left_on < competency_due,
            inducted_at if inducted_on is not None and inducted_on <= induction_due else None,
            competent_at if competent_on is not None and competent_on <= competency_due else None,
        )

    def outcome(self, end: datetime, last_day: date) -> str:
        """The outcome for the window ending at `end`, whose last local day is `last_day`."""
        inducted = self.inducted_at is not None and self.inducted_at < end
        competent = self.competent_at is not None and self.competent_at < end
        return _outcome(
            inducted, competent, self.left_early, self.induction_due, self.competency_due, last_day
        )
