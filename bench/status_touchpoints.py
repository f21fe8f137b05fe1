"""Touchpoint rows for the status benchmark, generated fast and as the service would have written them.

The stream walks the 24 months day by day (so rows arrive roughly in the order they happened, as
they would from care record systems) and yields chunks of rows ready for a binary COPY into
`touchpoint` and `touchpoint_innovation`. Every column is filled the way recording a touchpoint
fills it: the system of the kind, the shift and weekend flag derived from the service's shift
pattern, `facts` as the kind's model serialises it, the typed fact columns, and `content_hash` over
the item as posted. Rows are built from precomputed id pools and strings rather than through
validation, at about a tenth of the cost; tests/bench/test_status_bench_loader.py checks a sample of
every kind against the service's own validation and row building.

The mix: mostly daily notes, then handovers, supervisions, observations, care plan reviews, incidents
(most followed by a post-incident review within days), competency checks, team meetings, audits,
quality reviews and a few staff surveys; new starters are inducted, shadow and are checked competent
on the innovations of their service. Recorders and subjects are staff in post that day.
"""

import hashlib
import heapq
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.status_cast import TIMEZONE, Cast, seeded_uuid
from bench.status_facts import INCIDENT_TEXTS, NOTE_TEXTS, facts_of
from service.services.models import DEFAULT_SHIFT_PATTERN
from service.touchpoints.repository.writes import COPY_COLUMNS, LINK_COLUMNS, SYSTEM_OF
from service.touchpoints.shifts import shift_pattern

# The row layout this module builds; the service's COPY columns must still be these.
ROW_LAYOUT = (
    "organisation_id", "recorded_at", "recorded_by_sub", "revision", "id", "kind", "system",
    "service_id", "occurred_at", "shift", "weekend", "recorded_by_id", "subject_staff_id",
    "person_ref_id", "source_system", "external_id", "text", "facts", "content_hash",
    "engagement_quality", "score", "score_percent", "explains_why", "passed", "severity",
    "restrictive_intervention", "incident_id", "learning_captured", "follow_up_observation_planned",
    "buddy_id",
)  # fmt: skip
if tuple(COPY_COLUMNS) != ROW_LAYOUT or tuple(LINK_COLUMNS) != (
    "organisation_id",
    "touchpoint_id",
    "innovation_id",
):
    raise RuntimeError("touchpoint COPY columns changed: update bench/status_touchpoints.py")

# Share of the generated (unscheduled) touchpoints per kind. Inductions, shadowing, starters'
# competency checks and post-incident reviews are scheduled from events instead.
KIND_MIX = (
    ("daily_note", 0.800),
    ("shift_handover", 0.065),
    ("supervision", 0.025),
    ("practice_observation", 0.025),
    ("care_plan_review", 0.020),
    ("incident", 0.020),
    ("team_meeting", 0.008),
    ("competency_check", 0.006),
    ("audit", 0.004),
    ("staff_survey", 0.003),
    ("quality_review", 0.002),
)
# How much likelier than a daily note a touchpoint of this kind is to reference an innovation.
REFERENCE_FACTOR = {
    "daily_note": 1.0,
    "care_plan_review": 0.8,
    "shift_handover": 1.2,
    "team_meeting": 1.5,
    "supervision": 1.6,
    "competency_check": 1.2,
    "practice_observation": 1.6,
    "audit": 1.8,
    "quality_review": 1.2,
    "incident": 0.6,
}
SOURCES = {  # delivery system → (source system, token subject) of machine-recorded kinds
    "care_records": ("acme-care", "client:acme-care"),
    "team_communication": ("shiftboard", "client:shiftboard"),
    "incident_learning": ("safeguard", "client:safeguard"),
}
SHIFT_SECONDS = {  # local seconds after midnight that each shift spans (night runs past midnight)
    "early": (7 * 3600, 14 * 3600),
    "late": (14 * 3600, 21 * 3600 + 1800),
    "night": (21 * 3600 + 1800, 31 * 3600),
}
SHIFT_INDEX = {"early": 0, "late": 1, "night": 2}
DAYTIME = (9 * 3600, 17 * 3600)
HANDOVER_AT = (7 * 3600, 14 * 3600, 21 * 3600 + 1800)


def _quoted(value: object) -> str:
    return f'"{value}"'


@dataclass(slots=True)
class Chunk:
    touchpoints: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A touchpoint that follows from an earlier event (a review after an incident, a starter's steps)."""

    occurred_at: datetime
    kind: str
    service: int
    subject: int | None
    innovations: tuple[int, ...]
    incident_id: uuid.UUID | None = None
    passed: bool = True


class TouchpointStream:
    """`total` touchpoints over the cast's 24 months, in chunks; deterministic for a seed."""

    def __init__(self, cast: Cast, total: int, seed: int = 7) -> None:
        self.cast = cast
        self.total = total
        self.rng = random.Random(seed)
        self.kinds: Counter[str] = Counter()
        self.links = 0
        self.org = cast.organisation_id
        self.pattern = shift_pattern(TIMEZONE, DEFAULT_SHIFT_PATTERN)
        self.now = cast.now
        zone = ZoneInfo(TIMEZONE)
        self.days = [
            cast.first_day + timedelta(days=d) for d in range((cast.last_day - cast.first_day).days + 1)
        ]
        # Local midnight of each day (and the next), as UTC instants.
        self.day_starts = [
            datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC)
            for d in [*self.days, self.days[-1] + timedelta(days=1)]
        ]
        self.staff = cast.staff
        self.staff_q = [_quoted(s.id) for s in cast.staff]
        self.staff_sub = [f"user-{n:03d}" for n in range(len(cast.staff))]
        self.service_q = [_quoted(s) for s in cast.service_ids]
        self.people_q = [[_quoted(p) for p in people] for people in cast.people]
        # Innovations in the order the service hashes them (by UUID value).
        order = sorted(range(len(cast.innovations)), key=lambda i: cast.innovations[i].id.int)
        self.innovation_ids = [cast.innovations[i].id for i in order]
        self.innovation_q = [_quoted(i) for i in self.innovation_ids]
        self.strength = [cast.innovations[i].spec.strength for i in order]
        self._index_staff_and_scope(order)
        self.quality_mean = [
            [self.rng.uniform(3.3, 4.3) - penalty for penalty in (0.0, 0.1, night_gap)]
            for night_gap in (self.rng.choice((0.2, 0.3, 1.1)) for _ in cast.service_ids)
        ]
        self.scheduled: list[tuple[datetime, int, Scheduled]] = []
        self.sequence = 0
        self._schedule_starters()
        kinds, weights = zip(*KIND_MIX, strict=True)
        self.mix_kinds: tuple[str, ...] = kinds
        self.mix_weights: tuple[float, ...] = weights

    def _index_staff_and_scope(self, order: list[int]) -> None:
        """Per service and day: the staff in post, the seniors among them, the innovations begun."""
        services = range(len(self.cast.service_ids))
        self.active: list[list[tuple[int, ...]]] = [[] for _ in services]
        self.seniors: list[list[tuple[int, ...]]] = [[] for _ in services]
        self.eligible: list[list[tuple[int, ...]]] = [[] for _ in services]
        for day in self.days:
            in_post: list[list[int]] = [[] for _ in services]
            for n, member in enumerate(self.staff):
                if member.started_on <= day and (member.left_on is None or member.left_on >= day):
                    for s in member.service_indexes:
                        in_post[s].append(n)
            for s in services:
                staff = tuple(in_post[s])
                seniors = tuple(n for n in staff if self.staff[n].senior)
                self.active[s].append(staff)
                self.seniors[s].append(seniors or staff)
                self.eligible[s].append(
                    tuple(
                        k
                        for k, i in enumerate(order)
                        if s in self.cast.innovations[i].service_indexes
                        and self.cast.innovations[i].started_on <= day
                    )
                )

    def _push(self, event: Scheduled) -> None:
        if event.occurred_at < self.now:
            self.sequence += 1
            heapq.heappush(self.scheduled, (event.occurred_at, self.sequence, event))

    def _schedule_starters(self) -> None:
        """Induction, shadowing and a competency check on each innovation of a new starter's service."""
        rng = self.rng
        position = {innovation_id: k for k, innovation_id in enumerate(self.innovation_ids)}
        for n, member in enumerate(self.staff):
            if member.started_on < self.cast.first_day:
                continue
            s = member.service_indexes[0]
            for innovation in self.cast.innovations:
                if s not in innovation.service_indexes or innovation.started_on > member.started_on:
                    continue
                k = (position[innovation.id],)
                steps = []
                if rng.random() < 0.85:
                    steps.append(("induction", rng.randint(0, 25), True))
                if rng.random() < 0.5:
                    steps.append(("shadowing", rng.randint(1, 28), True))
                if rng.random() < 0.8:
                    steps.append(("competency_check", rng.randint(30, 58), rng.random() < 0.9))
                for kind, after_days, passed in steps:
                    on = member.started_on + timedelta(days=after_days)
                    if member.left_on is not None and on > member.left_on:
                        continue
                    at = self._at(on, rng.randint(*DAYTIME))
                    self._push(Scheduled(at, kind, s, n, k, passed=passed))

    def _at(self, day: date, local_seconds: int) -> datetime:
        index = min((day - self.cast.first_day).days, len(self.days) - 1)
        return self.day_starts[index] + timedelta(seconds=local_seconds)

    # -- the stream --------------------------------------------------------------------------------

    def chunks(self, rows_per_chunk: int = 20_000) -> Iterator[Chunk]:
        rng = self.rng
        chunk = Chunk()
        emitted = 0
        last = len(self.days) - 1
        for d in range(len(self.days)):
            day_end = min(self.day_starts[d + 1], self.now)
            due = []
            while self.scheduled and self.scheduled[0][0] < day_end:
                due.append(heapq.heappop(self.scheduled)[2])
            if d == last:
                due = due[: max(0, self.total - emitted)]
            for event in due:
                self._emit_scheduled(chunk, d, event)
            emitted += len(due)
            target = self.total if d == last else round(self.total * (d + 1) / len(self.days))
            count = max(0, target - emitted)
            services = rng.choices(
                range(len(self.cast.service_ids)), weights=self.cast.service_weights, k=count
            )
            kinds = rng.choices(self.mix_kinds, weights=self.mix_weights, k=count)
            for s, kind in zip(services, kinds, strict=True):
                self._emit_random(chunk, d, s, kind)
            emitted += count
            if len(chunk.touchpoints) >= rows_per_chunk or d == last:
                yield chunk
                chunk = Chunk()
        if emitted != self.total:
            raise RuntimeError(f"generated {emitted} touchpoints, not {self.total}")

    def _moment(self, d: int, kind: str, s: int) -> datetime:
        rng = self.rng
        roll = rng.random()
        if kind in ("daily_note", "care_plan_review", "practice_observation"):
            # Fewer records at night, when fewer staff are on and people are asleep.
            start, end = SHIFT_SECONDS["early" if roll < 0.42 else "late" if roll < 0.82 else "night"]
        elif kind == "shift_handover":
            start = HANDOVER_AT[int(roll * 3)] - 600
            end = start + 1500
        elif kind == "incident":
            start, end = 0, 86_400
        else:
            start, end = DAYTIME
        seconds = start + int(rng.random() * (end - start))
        moment = self.day_starts[d] + timedelta(seconds=seconds)
        if moment >= self.now:
            moment = self.now - timedelta(seconds=rng.randint(60, 3600))
        return moment

    def _references(self, s: int, d: int, kind: str) -> tuple[int, ...]:
        factor = REFERENCE_FACTOR[kind]
        rng = self.rng
        return tuple(k for k in self.eligible[s][d] if rng.random() < self.strength[k] * factor)

    def _emit_random(self, chunk: Chunk, d: int, s: int, kind: str) -> None:
        rng = self.rng
        staff = self.active[s][d]
        seniors = self.seniors[s][d]
        occurred = self._moment(d, kind, s)
        if kind == "staff_survey":
            eligible = self.eligible[s][d]
            if not eligible:
                kind = "daily_note"
            else:
                self._row(chunk, kind, s, occurred, rng.choice(staff), None, None, (rng.choice(eligible),))
                return
        innovations = self._references(s, d, kind)
        if kind in ("daily_note", "care_plan_review", "shift_handover", "team_meeting", "incident"):
            recorder = rng.choice(staff)
            person = (
                rng.randrange(len(self.people_q[s])) if kind in ("daily_note", "care_plan_review") else None
            )
            incident_id = self._row(chunk, kind, s, occurred, recorder, None, person, innovations)
            if kind == "incident" and rng.random() < 0.75:
                review_at = occurred + timedelta(seconds=rng.randint(6 * 3600, 18 * 86_400))
                self._push(Scheduled(review_at, "post_incident_review", s, None, innovations, incident_id))
            return
        recorder = rng.choice(seniors)
        subject = (
            rng.choice(staff) if kind in ("supervision", "competency_check", "practice_observation") else None
        )
        self._row(chunk, kind, s, occurred, recorder, subject, None, innovations, passed=rng.random() < 0.85)

    def _emit_scheduled(self, chunk: Chunk, d: int, event: Scheduled) -> None:
        recorder = self.rng.choice(self.seniors[event.service][d])
        self._row(
            chunk,
            event.kind,
            event.service,
            event.occurred_at,
            recorder,
            event.subject,
            None,
            event.innovations,
            incident_id=event.incident_id,
            passed=event.passed,
        )

    def _row(
        self,
        chunk: Chunk,
        kind: str,
        s: int,
        occurred: datetime,
        recorder: int,
        subject: int | None,
        person: int | None,
        innovations: tuple[int, ...],
        *,
        incident_id: uuid.UUID | None = None,
        passed: bool = True,
    ) -> uuid.UUID:
        rng = self.rng
        d = min((occurred.date() - self.cast.first_day).days, len(self.days) - 1)
        shift_value, weekend = self.pattern.locate(occurred)
        shift = shift_value.value
        buddy = None
        if kind in ("induction", "shadowing") and rng.random() < 0.8:
            buddy = self.staff[rng.choice(self.active[s][max(d, 0)])].id
        facts, typed = facts_of(
            kind,
            rng,
            quality_mean=self.quality_mean[s][SHIFT_INDEX[shift]],
            passed=passed,
            incident_id=incident_id,
            buddy_id=buddy,
        )
        system = SYSTEM_OF[kind]
        touchpoint_id = seeded_uuid(rng)
        self.sequence += 1
        source = SOURCES.get(system)
        if source is not None:
            source_system: str | None = source[0]
            external_id: str | None = f"{kind}-{self.sequence:09d}"
            recorded_by_sub = source[1]
        else:
            source_system = external_id = None
            recorded_by_sub = self.staff_sub[recorder]
        text: str | None = None
        if kind == "daily_note" and rng.random() < 0.7:
            text = rng.choice(NOTE_TEXTS)
        elif kind == "incident":
            text = rng.choice(INCIDENT_TEXTS)
        person_id = self.cast.people[s][person] if person is not None else None
        posted = (
            f'{{"service_id":{self.service_q[s]},"occurred_at":"{occurred.isoformat()[:19]}Z","shift":null,'
            f'"recorded_by_id":{self.staff_q[recorder]},'
            f'"subject_staff_id":{"null" if subject is None else self.staff_q[subject]},'
            f'"person_ref_id":{"null" if person is None else self.people_q[s][person]},'
            f'"innovation_ids":[{",".join(self.innovation_q[k] for k in innovations)}],'
            f'"source_system":{"null" if source_system is None else _quoted(source_system)},'
            f'"external_id":{"null" if external_id is None else _quoted(external_id)},'
            f'"text":{"null" if text is None else _quoted(text)},"kind":"{kind}","facts":{facts}}}'
        )
        delay = rng.randint(120, 4 * 3600) if rng.random() < 0.97 else rng.randint(86_400, 10 * 86_400)
        recorded_at = min(occurred + timedelta(seconds=delay), self.now)
        chunk.touchpoints.append(
            (
                self.org,
                recorded_at,
                recorded_by_sub,
                1,
                touchpoint_id,
                kind,
                system,
                self.cast.service_ids[s],
                occurred,
                shift,
                weekend,
                self.staff[recorder].id,
                self.staff[subject].id if subject is not None else None,
                person_id,
                source_system,
                external_id,
                text,
                facts,
                hashlib.sha256(posted.encode()).hexdigest(),
                *typed,
            )
        )
        for k in innovations:
            chunk.links.append((self.org, touchpoint_id, self.innovation_ids[k]))
        self.kinds[kind] += 1
        self.links += len(innovations)
        return touchpoint_id
