"""Turning one loaded innovation into projection rows, and the events their changes make."""

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from service.projections.repository import NewEvent, ProjectionRow, StoredProjection
from service.status.subjects import StatusSubject

STAGE_CHANGED = "status.stage_changed"
RAG_CHANGED = "indicator.rag_changed"

# The monthly points a projection keeps: the history asked for by default.
HISTORY_MONTHS = 12

# Fields that name the moment a status was computed at rather than what it says.
_MOMENT_FIELDS = frozenset({"as_of", "window_end", "evidence", "computed_at"})


def scope_key(service_id: uuid.UUID | None, service_ids: Iterable[uuid.UUID]) -> str:
    """One service asked for by id, or a roll-up over a set of services (a single-service manager's
    roll-up is a set of one: its body says `service_id: null`)."""
    if service_id is not None:
        return f"service:{service_id}"
    return "set:" + ",".join(str(s) for s in sorted(service_ids))


def without_moments(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_moments(v) for k, v in value.items() if k not in _MOMENT_FIELDS}
    if isinstance(value, list):
        return [without_moments(v) for v in value]
    return value


def content_hash(body: dict[str, Any]) -> str:
    canonical = json.dumps(without_moments(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def all_services(subject: StatusSubject) -> list[uuid.UUID]:
    return sorted(s for s in subject.innovation.service_ids if s in subject.services)


def canonical_scopes(subject: StatusSubject) -> list[tuple[uuid.UUID | None, tuple[uuid.UUID, ...]]]:
    """The provider roll-up over every service, and each service alone."""
    services = all_services(subject)
    if not services:
        return []
    return [(None, tuple(services)), *((s, (s,)) for s in services)]


def project(
    subject: StatusSubject,
    service_id: uuid.UUID | None,
    service_ids: Sequence[uuid.UUID],
    *,
    computed_at: datetime,
    data_xid: int,
) -> ProjectionRow:
    from service.status.service import history_public, status_public  # what every status read uses

    # One evaluation gives the status and its default history: both plan the same timeline.
    result = subject.evaluate(service_ids, history=HISTORY_MONTHS)
    bodies: dict[bool, dict[str, Any]] = {}
    histories: dict[bool, dict[str, Any]] = {}
    for external in (False, True):
        status = status_public(
            subject, result, service_ids=service_ids, service_id=service_id, external=external, known_at=None
        )
        history = history_public(
            subject,
            result,
            service_ids=service_ids,
            service_id=service_id,
            external=external,
            as_of=computed_at,
        )
        bodies[external] = status.model_dump(mode="json", exclude={"computed_at"})
        histories[external] = history.model_dump(mode="json", exclude={"computed_at"})
    body = bodies[False]
    return ProjectionRow(
        organisation_id=subject.innovation.organisation_id,
        innovation_id=subject.innovation.id,
        scope_key=scope_key(service_id, service_ids),
        service_id=service_id,
        service_ids=tuple(service_ids),
        stage=body["stage"],
        body=body,
        external_body=bodies[True],
        # A late touchpoint in a closed month may change its history alone.
        content_hash=content_hash({"status": body, "history": histories[False]}),
        computed_at=computed_at,
        checked_at=computed_at,
        data_xid=data_xid,
        history=histories[False],
        external_history=histories[True],
    )


def rags(row: ProjectionRow) -> dict[str, str]:
    return {i["key"]: i["rag"] for i in row.body["indicators"]}


def changes(before: StoredProjection, after: ProjectionRow) -> list[NewEvent]:
    """`status.stage_changed` and `indicator.rag_changed` between two results of one scope."""

    def event(kind: str, key: str | None, data: dict[str, Any]) -> NewEvent:
        return NewEvent(kind, after.organisation_id, after.innovation_id, after.service_id, key, data)

    events = []
    if before.stage != after.stage:
        # The reasons (the same in both views) let a portfolio say why without a recompute.
        reasons = after.body["stage_reasons"]
        events.append(
            event(STAGE_CHANGED, None, {"before": before.stage, "after": after.stage, "reasons": reasons})
        )
    for key, rag in rags(after).items():
        was = before.rags.get(key)
        if was is not None and was != rag:
            events.append(event(RAG_CHANGED, key, {"key": key, "before": was, "after": rag}))
    return events
