"""Touchpoints as plain records: as they stand now, or as they had been recorded at `known_at`.

The reference path of the status (and `known_at`, the auditor's "what did it say on that day?")
reads these rather than the rollups. A record known at `known_at` is the current row if it was
recorded by then; otherwise the revision that was current then (recorded by `known_at` and replaced
after it); otherwise it did not exist yet.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


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


_CURRENT_SQL = """
SELECT t.id, t.kind, t.system, t.service_id, t.occurred_at, t.shift, t.recorded_by_id,
       t.subject_staff_id, t.facts, t.recorded_at,
       coalesce(array_agg(l.innovation_id) FILTER (WHERE l.innovation_id IS NOT NULL), '{}') AS innovation_ids
  FROM touchpoint t
  LEFT JOIN touchpoint_innovation l ON l.organisation_id = t.organisation_id AND l.touchpoint_id = t.id
 WHERE t.organisation_id = :organisation_id
 GROUP BY t.organisation_id, t.id
"""

_REVISIONS_SQL = """
SELECT r.touchpoint_id, r.content
  FROM touchpoint_revision r
 WHERE r.organisation_id = :organisation_id AND r.recorded_at <= :known_at AND r.replaced_at > :known_at
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


async def load_records(
    session: AsyncSession, organisation_id: uuid.UUID, *, known_at: datetime | None = None
) -> list[TouchpointRecord]:
    """Every touchpoint of the organisation, as recorded now or as it had been recorded at `known_at`."""
    rows = (await session.execute(text(_CURRENT_SQL), {"organisation_id": organisation_id})).all()
    revisions: dict[uuid.UUID, dict[str, Any]] = {}
    if known_at is not None:
        found = await session.execute(
            text(_REVISIONS_SQL), {"organisation_id": organisation_id, "known_at": known_at}
        )
        revisions = {r.touchpoint_id: r.content for r in found}
    out = []
    for row in rows:
        if known_at is not None and row.recorded_at > known_at:
            content = revisions.get(row.id)
            if content is not None:
                out.append(record_from_content(row.id, content))
            continue
        out.append(
            TouchpointRecord(
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
        )
    return out
