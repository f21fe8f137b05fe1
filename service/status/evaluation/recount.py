"""The recount path: a status's inputs computed in Python from touchpoint records alone.

Written independently of the SQL (it reads facts, not the typed columns; it buckets months with
zoneinfo, not Postgres), so that the property test comparing it with the rollups checks the
triggers, the month's raw read and the typed columns all at once. It also answers `known_at`,
from records reconstructed as they had been recorded then.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from service.status.evaluation.counting import (
    ASSESSMENT_KINDS,
    NOMAD_CONSTRUCTS,
    NOMAD_REVERSED_ITEMS,
    NORMAL_NOW_HIGH,
    REVIEW_WINDOW,
)
from service.status.evaluation.inputs import (
    AuditScore,
    MonthCounts,
    RecentIncident,
    ServiceInfo,
    StaffTenure,
    Starter,
    StatusInputs,
    audit_runs,
)
from service.status.evaluation.periods import local_date, local_month, month_end_at
from service.status.evaluation.starters import StepCandidate, first_steps
from service.status.sources.records import TouchpointRecord
from service.status.sources.span import InnovationServices, LoadRange


def _quality(record: TouchpointRecord) -> int | None:
    if record.kind == "practice_observation":
        return record.fact("score")
    if record.kind == "daily_note":
        return record.fact("engagement_quality")
    return None


def add_service_share(counts: MonthCounts, record: TouchpointRecord, month_end: datetime) -> None:
    if record.kind == "supervision":
        counts.supervisions += 1
    elif record.kind == "incident":
        counts.incidents += 1
        if record.occurred_at + REVIEW_WINDOW > month_end:
            counts.late_incidents += 1
        if record.fact("restrictive_intervention") is True:
            counts.restrictive_interventions += 1


def add_innovation_share(counts: MonthCounts, record: TouchpointRecord) -> None:
    counts.refs_total += 1
    setattr(counts, f"refs_{record.system}", getattr(counts, f"refs_{record.system}") + 1)
    if record.kind == "supervision":
        counts.referencing_supervisions += 1
    if record.kind in ASSESSMENT_KINDS and record.fact("explains_why") is not None:
        counts.why_assessed += 1
        if record.fact("explains_why") is True:
            counts.why_explained += 1
    quality = _quality(record)
    if quality is not None:
        n, total = counts.quality(record.shift)
        setattr(counts, f"quality_{record.shift}_n", n + 1)
        setattr(counts, f"quality_{record.shift}_sum", total + quality)
    if record.kind == "staff_survey":
        _add_survey(counts, record)


def _add_survey(counts: MonthCounts, record: TouchpointRecord) -> None:
    counts.surveys += 1
    items = record.fact("items") or {}
    for construct, names in NOMAD_CONSTRUCTS.items():
        for name in names:
            answer = items.get(name)
            if isinstance(answer, int) and not isinstance(answer, bool):
                score = 6 - answer if name in NOMAD_REVERSED_ITEMS else answer
                setattr(counts, f"nomad_{construct}_n", getattr(counts, f"nomad_{construct}_n") + 1)
                setattr(counts, f"nomad_{construct}_sum", getattr(counts, f"nomad_{construct}_sum") + score)
    general = record.fact("general") or {}
    for item in ("familiar", "normal_now", "normal_future"):
        value = general.get(item)
        if isinstance(value, int) and not isinstance(value, bool):
            setattr(counts, f"{item}_n", getattr(counts, f"{item}_n") + 1)
            setattr(counts, f"{item}_sum", getattr(counts, f"{item}_sum") + value)
            if item == "normal_now" and value >= NORMAL_NOW_HIGH:
                counts.normal_now_high += 1


def first_reviews(records: Iterable[TouchpointRecord]) -> dict[tuple[uuid.UUID, uuid.UUID], datetime]:
    """(incident, innovation) → the first review tied to the innovation that captured learning
    within the review window."""
    incidents = {r.id: r for r in records if r.kind == "incident"}
    out: dict[tuple[uuid.UUID, uuid.UUID], datetime] = {}
    for review in records:
        if review.kind != "post_incident_review" or review.fact("learning_captured") is not True:
            continue
        incident = incidents.get(review.incident_id) if review.incident_id else None
        if incident is None:
            continue
        if not incident.occurred_at <= review.occurred_at <= incident.occurred_at + REVIEW_WINDOW:
            continue
        for innovation_id in review.innovation_ids:
            key = (incident.id, innovation_id)
            if key not in out or review.occurred_at < out[key]:
                out[key] = review.occurred_at
    return out


def note_first_reference(inputs: StatusInputs, service_id: uuid.UUID, month: date) -> None:
    known = inputs.first_reference_month.get(service_id)
    if known is None or month < known:
        inputs.first_reference_month[service_id] = month


def add_incident(
    inputs: StatusInputs,
    counts: MonthCounts,
    incident: TouchpointRecord,
    first_review: datetime | None,
    month_end: datetime,
) -> None:
    """An incident's review counts in its month, and the incident itself if its review may still
    be to come at `as_of`."""
    if first_review is not None:
        late = incident.occurred_at + REVIEW_WINDOW > month_end
        counts.incidents_reviewed += 1
        counts.late_incidents_reviewed += late
        counts.late_incidents_reviewed_in_month += late and first_review < month_end
    if incident.occurred_at > inputs.as_of - REVIEW_WINDOW:
        inputs.recent_incidents.append(
            RecentIncident(incident.id, incident.service_id, incident.occurred_at, first_review)
        )


def inputs_from_records(
    records: Sequence[TouchpointRecord],
    innovation: InnovationServices,
    services: Mapping[uuid.UUID, ServiceInfo],
    staff: Sequence[StaffTenure],
    load: LoadRange,
) -> StatusInputs:
    """One innovation's inputs, counted from the records as the rollups would count them."""
    as_of = load.as_of
    its_services = {s: services[s] for s in innovation.service_ids if s in services}
    current_month = {s: local_month(as_of, info.timezone) for s, info in its_services.items()}
    inputs = StatusInputs(
        innovation_id=innovation.id,
        innovation_started_on=innovation.started_on,
        as_of=as_of,
        services=dict(its_services),
        staff=list(staff),
    )
    reviews = first_reviews(records)
    baseline = set(load.baseline_months)
    position = {member.id: i for i, member in enumerate(staff)}
    audits: list[AuditScore] = []
    for record in records:
        info = its_services.get(record.service_id)
        if info is None or record.occurred_at >= as_of:
            continue
        month = local_month(record.occurred_at, info.timezone)
        referencing = innovation.id in record.innovation_ids
        if referencing and month < current_month[record.service_id]:
            note_first_reference(inputs, record.service_id, month)
        if month in baseline:
            share = inputs.baseline.setdefault((record.service_id, month), MonthCounts())
            add_service_share(share, record, month_end_at(month, info.timezone))
        if month < load.first_month:
            continue
        counts = inputs.months.setdefault((record.service_id, month), MonthCounts())
        month_end = month_end_at(month, info.timezone)
        add_service_share(counts, record, month_end)
        if record.kind == "incident":
            add_incident(inputs, counts, record, reviews.get((record.id, innovation.id)), month_end)
        if not referencing:
            continue
        add_innovation_share(counts, record)
        recorder = position.get(record.recorded_by_id) if record.recorded_by_id is not None else None
        if recorder is not None:
            per_staff = inputs.staff_counts.setdefault((record.service_id, month), {})
            per_staff[recorder] = per_staff.get(recorder, 0) + 1
        score = record.score_percent
        if record.kind == "audit" and score is not None:
            audits.append(AuditScore(record.id, record.service_id, record.occurred_at, score))
    inputs.audit_months = audit_runs(
        audits, lambda a: (a.service_id, local_month(a.occurred_at, its_services[a.service_id].timezone))
    )
    inputs.months = {k: v for k, v in inputs.months.items() if not v.is_empty()}
    inputs.baseline = {k: v for k, v in inputs.baseline.items() if not v.is_empty()}
    inputs.starters = starters_from_records(records, innovation, services, staff)
    return inputs


def starters_from_records(
    records: Sequence[TouchpointRecord],
    innovation: InnovationServices,
    services: Mapping[uuid.UUID, ServiceInfo],
    staff: Sequence[StaffTenure],
) -> list[Starter]:
    new = {s.id: s for s in staff if s.started_on >= innovation.started_on}
    candidates: dict[uuid.UUID, list[StepCandidate]] = {}
    for record in records:
        subject = record.subject_staff_id
        if subject not in new or innovation.id not in record.innovation_ids:
            continue
        if record.kind not in ("induction", "shadowing", "competency_check"):
            continue
        tz = services[record.service_id].timezone if record.service_id in services else "UTC"
        candidates.setdefault(subject, []).append(
            StepCandidate(
                record.kind,
                record.fact("passed") is True,
                record.occurred_at,
                local_date(record.occurred_at, tz),
            )
        )
    out = [
        Starter(
            m.id, m.service_ids, m.started_on, m.left_on, *first_steps(m.started_on, candidates.get(m.id, ()))
        )
        for m in new.values()
    ]
    return sorted(out, key=lambda s: s.id)
