"""Writing touchpoints straight into the tables, the way the ingestion code does (rows, links,
corrections with revisions), so status tests control every field and every moment."""

import hashlib
import json
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.model_helpers import utcnow
from service.touchpoints.models import (
    Touchpoint,
    TouchpointIdentity,
    TouchpointInnovation,
    TouchpointRevision,
)
from service.vocabulary import SYSTEM_OF_KIND, TouchpointKind

TYPED = (
    "engagement_quality",
    "score",
    "score_percent",
    "explains_why",
    "passed",
    "severity",
    "restrictive_intervention",
    "incident_id",
    "learning_captured",
    "follow_up_observation_planned",
    "buddy_id",
)
DEFAULT_FACTS: dict[str, dict[str, Any]] = {
    "daily_note": {"activity": "Planned activity", "engagement_quality": 4},
    "care_plan_review": {"changes_made": True},
    "shift_handover": {"attendees": 5},
    "team_meeting": {"attendees": 8},
    "supervision": {"explains_why": True},
    "competency_check": {"passed": True, "explains_why": True},
    "practice_observation": {"score": 4, "explains_why": True},
    "audit": {"tool": "Engagement audit", "score_percent": 85.0},
    "quality_review": {"score_percent": None, "actions": 1},
    "induction": {"buddy_id": None},
    "shadowing": {"buddy_id": None},
    "incident": {"severity": "moderate", "restrictive_intervention": False},
    "post_incident_review": {"learning_captured": True, "follow_up_observation_planned": True},
    "staff_survey": {
        "general": {"familiar": 8, "normal_now": 7, "normal_future": 9},
        "items": {
            **{f"c{i}": 4 for i in range(1, 5)},
            **{f"cp{i}": 4 for i in range(1, 5)},
            **{f"ca{i}": 4 for i in range(1, 8)},
            **{f"rm{i}": 4 for i in range(1, 6)},
        },
    },
}


def shift_at(occurred_at: datetime, tz: str = "Europe/London") -> str:
    """The default pattern: early from 07:00, late from 14:00, night from 21:30 (local)."""
    local = occurred_at.astimezone(ZoneInfo(tz)).time()
    if time(7) <= local < time(14):
        return "early"
    if time(14) <= local < time(21, 30):
        return "late"
    return "night"


def at(day: date, hour: int = 10, minute: int = 0, tz: str = "Europe/London") -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class Ledger:
    """Touchpoints of one organisation, written as ingestion and correction write them."""

    def __init__(self, session: AsyncSession, organisation_id: uuid.UUID) -> None:
        self.session = session
        self.organisation_id = organisation_id

    def _row(
        self,
        touchpoint_id: uuid.UUID,
        kind: str,
        service_id: uuid.UUID,
        occurred_at: datetime,
        shift: str | None,
        recorded_by: uuid.UUID | None,
        subject: uuid.UUID | None,
        facts: dict[str, Any],
        text: str | None,
        recorded_at: datetime | None,
    ) -> dict[str, Any]:
        typed = {name: facts.get(name) for name in TYPED}
        if typed["incident_id"] is not None:
            typed["incident_id"] = uuid.UUID(str(typed["incident_id"]))
        if typed["buddy_id"] is not None:
            typed["buddy_id"] = uuid.UUID(str(typed["buddy_id"]))
        if typed["score_percent"] is not None:
            # As ingestion stores it: a float8 cast to numeric(5,2), i.e. its 15-digit text rounded.
            typed["score_percent"] = Decimal(str(typed["score_percent"]))
        return {
            "organisation_id": self.organisation_id,
            "id": touchpoint_id,
            "kind": kind,
            "system": SYSTEM_OF_KIND[TouchpointKind(kind)].value,
            "service_id": service_id,
            "occurred_at": occurred_at,
            "recorded_at": recorded_at or utcnow(),
            "shift": shift or shift_at(occurred_at),
            "weekend": occurred_at.weekday() >= 5,
            "recorded_by_id": recorded_by,
            "subject_staff_id": subject,
            "text": text,
            "facts": _json(facts),
            "recorded_by_sub": "test",
            "content_hash": hashlib.sha256(json.dumps(_json(facts), sort_keys=True).encode()).hexdigest(),
            **typed,
        }

    async def _add_touchpoints(self, rows: list[dict[str, Any]]) -> None:
        """The rows and their identities, as recording writes them: identities first."""
        self.session.add_all(
            TouchpointIdentity(
                organisation_id=row["organisation_id"],
                id=row["id"],
                source_system=row.get("source_system"),
                external_id=row.get("external_id"),
                occurred_at=row["occurred_at"],
            )
            for row in rows
        )
        await self.session.flush()
        self.session.add_all(Touchpoint(**row) for row in rows)
        await self.session.flush()

    async def add(
        self,
        kind: str,
        service_id: uuid.UUID,
        occurred_at: datetime,
        *,
        innovations: tuple[uuid.UUID, ...] | list[uuid.UUID] = (),
        shift: str | None = None,
        recorded_by: uuid.UUID | None = None,
        subject: uuid.UUID | None = None,
        text: str | None = None,
        recorded_at: datetime | None = None,
        **facts: Any,
    ) -> uuid.UUID:
        touchpoint_id = uuid.uuid4()
        merged = {**DEFAULT_FACTS[kind], **facts}
        row = self._row(
            touchpoint_id,
            kind,
            service_id,
            occurred_at,
            shift,
            recorded_by,
            subject,
            merged,
            text,
            recorded_at,
        )
        await self._add_touchpoints([row])
        for innovation_id in innovations:
            self.session.add(
                TouchpointInnovation(
                    organisation_id=self.organisation_id,
                    touchpoint_id=touchpoint_id,
                    innovation_id=innovation_id,
                )
            )
        await self.session.flush()
        return touchpoint_id

    async def add_together(
        self,
        kind: str,
        service_id: uuid.UUID,
        occurred_at: datetime,
        *,
        innovations: tuple[uuid.UUID, ...] | list[uuid.UUID] = (),
        recorded_by: uuid.UUID | None = None,
        subject: uuid.UUID | None = None,
        **facts: Any,
    ) -> uuid.UUID:
        """One touchpoint, its identity and its links in a single statement, as ingestion's INSERT path writes
        them."""
        touchpoint_id = uuid.uuid4()
        row = self._row(
            touchpoint_id,
            kind,
            service_id,
            occurred_at,
            None,
            recorded_by,
            subject,
            {**DEFAULT_FACTS[kind], **facts},
            None,
            None,
        )
        row["facts"] = json.dumps(row["facts"])
        row["revision"] = 1
        columns = ", ".join(row)
        values = ", ".join(f"CAST(:{name} AS jsonb)" if name == "facts" else f":{name}" for name in row)
        await self.session.execute(
            text(
                f"""
                WITH identified AS (
                  INSERT INTO touchpoint_identity (organisation_id, id, occurred_at)
                  VALUES (:organisation_id, :id, :occurred_at)
                ), inserted AS (
                  INSERT INTO touchpoint ({columns}) VALUES ({values}) RETURNING organisation_id, id
                )
                INSERT INTO touchpoint_innovation (organisation_id, touchpoint_id, innovation_id)
                SELECT i.organisation_id, i.id, x FROM inserted i, unnest(CAST(:innovations AS uuid[])) AS x
                """
            ),
            {**row, "innovations": list(innovations)},
        )
        return touchpoint_id

    async def add_many(self, specs: list[dict[str, Any]]) -> list[uuid.UUID]:
        """Many touchpoints in a few statements (identities, rows, then links), as a batch is written."""
        ids = []
        links = []
        rows = []
        for spec in specs:
            spec = dict(spec)
            touchpoint_id = uuid.uuid4()
            kind, service_id, occurred_at = spec.pop("kind"), spec.pop("service_id"), spec.pop("occurred_at")
            innovations = spec.pop("innovations", ())
            row = self._row(
                touchpoint_id,
                kind,
                service_id,
                occurred_at,
                spec.pop("shift", None),
                spec.pop("recorded_by", None),
                spec.pop("subject", None),
                {**DEFAULT_FACTS[kind], **spec},
                None,
                None,
            )
            rows.append(row)
            links += [(touchpoint_id, i) for i in innovations]
            ids.append(touchpoint_id)
        await self._add_touchpoints(rows)
        for touchpoint_id, innovation_id in links:
            self.session.add(
                TouchpointInnovation(
                    organisation_id=self.organisation_id,
                    touchpoint_id=touchpoint_id,
                    innovation_id=innovation_id,
                )
            )
        await self.session.flush()
        return ids

    async def content(self, touchpoint_id: uuid.UUID) -> tuple[Touchpoint, list[uuid.UUID]]:
        row = (
            await self.session.execute(
                select(Touchpoint)
                .where(
                    col(Touchpoint.organisation_id) == self.organisation_id,
                    col(Touchpoint.id) == touchpoint_id,
                )
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        links = (
            await self.session.execute(
                select(col(TouchpointInnovation.innovation_id)).where(
                    col(TouchpointInnovation.organisation_id) == self.organisation_id,
                    col(TouchpointInnovation.touchpoint_id) == touchpoint_id,
                )
            )
        ).scalars()
        return row, list(links)

    async def correct(
        self,
        touchpoint_id: uuid.UUID,
        *,
        at_time: datetime | None = None,
        innovations: list[uuid.UUID] | None = None,
        **changes: Any,
    ) -> None:
        """Replace the record as a correction does: keep a revision, update the row, relink."""
        now = at_time or utcnow()
        row, links = await self.content(touchpoint_id)
        content = {
            "kind": row.kind,
            "system": row.system,
            "service_id": str(row.service_id),
            "occurred_at": row.occurred_at.isoformat(),
            "shift": row.shift,
            "weekend": row.weekend,
            "recorded_by_id": str(row.recorded_by_id) if row.recorded_by_id else None,
            "subject_staff_id": str(row.subject_staff_id) if row.subject_staff_id else None,
            "person_ref_id": None,
            "source_system": row.source_system,
            "external_id": row.external_id,
            "text": row.text,
            "facts": row.facts,
            "innovation_ids": [str(i) for i in sorted(links)],
        }
        self.session.add(
            TouchpointRevision(
                organisation_id=self.organisation_id,
                touchpoint_id=touchpoint_id,
                revision=row.revision,
                content=content,
                recorded_at=row.recorded_at,
                recorded_by_sub=row.recorded_by_sub,
                replaced_at=now,
                replaced_by_sub="test",
            )
        )
        await self.session.flush()
        kind = changes.pop("kind", row.kind)
        facts = {**row.facts, **changes.pop("facts", {})}
        if kind != row.kind:
            facts = {**DEFAULT_FACTS[kind], **changes.pop("kind_facts", {})}
        fields = self._row(
            touchpoint_id,
            kind,
            changes.pop("service_id", row.service_id),
            changes.pop("occurred_at", row.occurred_at),
            changes.pop("shift", None),
            changes.pop("recorded_by", row.recorded_by_id),
            changes.pop("subject", row.subject_staff_id),
            facts,
            row.text,
            now,
        )
        assert not changes, f"unknown changes {changes}"
        fields.pop("organisation_id")
        fields.pop("id")
        fields["revision"] = row.revision + 1
        await self.session.execute(
            update(Touchpoint)
            .where(
                col(Touchpoint.organisation_id) == self.organisation_id,
                col(Touchpoint.id) == touchpoint_id,
            )
            .values(**fields)
        )
        if innovations is not None:
            await self.relink(touchpoint_id, innovations)

    async def relink(self, touchpoint_id: uuid.UUID, innovations: list[uuid.UUID]) -> None:
        """Drop links no longer wanted, add the new ones (two statements, as corrections do)."""
        await self.session.execute(
            delete(TouchpointInnovation).where(
                col(TouchpointInnovation.organisation_id) == self.organisation_id,
                col(TouchpointInnovation.touchpoint_id) == touchpoint_id,
                col(TouchpointInnovation.innovation_id).not_in(innovations),
            )
        )
        _, current = await self.content(touchpoint_id)
        for innovation_id in innovations:
            if innovation_id not in current:
                self.session.add(
                    TouchpointInnovation(
                        organisation_id=self.organisation_id,
                        touchpoint_id=touchpoint_id,
                        innovation_id=innovation_id,
                    )
                )
        await self.session.flush()

    async def remove(self, touchpoint_id: uuid.UUID) -> None:
        """The touchpoint, then its identity with its links and revisions (as a whole erasure would)."""
        await self.session.execute(
            delete(Touchpoint).where(
                col(Touchpoint.organisation_id) == self.organisation_id,
                col(Touchpoint.id) == touchpoint_id,
            )
        )
        await self.session.execute(
            delete(TouchpointIdentity).where(
                col(TouchpointIdentity.organisation_id) == self.organisation_id,
                col(TouchpointIdentity.id) == touchpoint_id,
            )
        )


def facts_for(kind: str, **overrides: Any) -> dict[str, Any]:
    return {**DEFAULT_FACTS[kind], **overrides}


def days(n: float) -> timedelta:
    return timedelta(days=n)
