"""The demo provider as plain data: who, where, which innovations, and every touchpoint.

Everything refers to everything else by a stable reference (a staff member's `external_ref`, a
touchpoint's `external_id`), never by database id, so a plan can be built, compared and
fingerprinted without a database. The loader turns references into ids as it writes.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import Any

from service.vocabulary import Phase, Shift, StaffRole, TouchpointKind


@dataclass(frozen=True)
class ServicePlan:
    key: str
    name: str
    description: str
    cqc_location_id: str
    external_ref: str
    # Pseudonymous references of the people the service supports.
    person_refs: tuple[str, ...]


@dataclass(frozen=True)
class StaffPlan:
    external_ref: str
    display_name: str
    role: StaffRole
    service_key: str
    shift: Shift
    started_on: date
    left_on: date | None = None

    def active_on(self, day: date) -> bool:
        return self.started_on <= day and (self.left_on is None or day <= self.left_on)


@dataclass(frozen=True)
class InnovationPlan:
    key: str
    external_ref: str
    name: str
    summary: str
    why: str
    started_on: date
    phase: Phase
    service_keys: tuple[str, ...]
    # Expected touchpoints per month per delivery system.
    embedding_plan: dict[str, int]
    # The story it tells, in one sentence, for the start-up summary.
    story: str


@dataclass(frozen=True)
class TouchpointPlan:
    kind: TouchpointKind
    service_key: str
    occurred_at: datetime
    shift: Shift
    recorded_by: str
    source_system: str
    external_id: str
    facts: dict[str, Any] = field(default_factory=dict)
    innovations: tuple[str, ...] = ()
    subject: str | None = None
    person_ref: str | None = None
    text: str | None = None
    # References the loader resolves into facts: the buddy (staff ref) and the incident reviewed.
    buddy: str | None = None
    incident: str | None = None


@dataclass(frozen=True)
class DemoPlan:
    seed: int
    anchor: date
    provider_name: str
    commissioner_name: str
    regulator_name: str
    services: tuple[ServicePlan, ...]
    staff: tuple[StaffPlan, ...]
    innovations: tuple[InnovationPlan, ...]
    touchpoints: tuple[TouchpointPlan, ...]

    def staff_by_ref(self) -> dict[str, StaffPlan]:
        return {s.external_ref: s for s in self.staff}

    def fingerprint(self) -> str:
        """sha256 of the whole plan in canonical JSON: equal plans, equal fingerprints."""
        digest = hashlib.sha256()
        people = {
            "seed": self.seed,
            "anchor": self.anchor,
            "names": [self.provider_name, self.commissioner_name, self.regulator_name],
            "services": [asdict(s) for s in self.services],
            "staff": [asdict(s) for s in self.staff],
            "innovations": [asdict(i) for i in self.innovations],
        }
        digest.update(_json(people))
        for t in self.touchpoints:
            # Field by field rather than asdict(): a year of touchpoints hashes in a fraction of a second.
            digest.update(_json([getattr(t, name) for name in TOUCHPOINT_FIELDS]))
        return digest.hexdigest()


TOUCHPOINT_FIELDS = tuple(f.name for f in fields(TouchpointPlan))


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, default=_canonical, separators=(",", ":")).encode()


def _canonical(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")
