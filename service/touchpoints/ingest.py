"""Recording touchpoints: one, or a batch of up to 1,000, each with its own outcome.

A batch is validated whole before anything is written, then written with a fixed number of
set-based statements, so an item is either stored completely (row and innovation links, in one
statement) or not at all, and valid items are stored even when others are refused.

Repeats are recognised by (source_system, external_id): identical content is a `duplicate` answered
with the stored id; different content is a conflict that points at the correction route, never an
overwrite. Two requests racing with the same ids end with one row each: the insert skips rows another
transaction stored first (it waits for that transaction), and those items are then compared with
what was stored.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import access_entry
from service.auth.principal import Principal
from service.database import driver_connection
from service.errors import Conflict, ProblemError
from service.model_helpers import utcnow
from service.policy import Permission, check
from service.status.locks import rollup_lock_keys
from service.touchpoints.free_text import may_read_free_text, withhold
from service.touchpoints.limits import MAX_BATCH_ITEMS, too_many_items
from service.touchpoints.reading import load_touchpoint
from service.touchpoints.repository import (
    TYPED_FACTS,
    StoredKey,
    find_by_source_keys,
    look_up,
    write_touchpoints,
)
from service.touchpoints.rules import (
    CLOCK_SKEW,
    SYSTEM_OF,
    ShiftPatterns,
    apply_item_rules,
    check_references,
    reference_needs,
    rollup_services,
)
from service.touchpoints.schemas import ItemProblem, ItemResult, TouchpointCreateItem, TouchpointPublic
from service.touchpoints.validation import Path, content_hash, field_error, path_of, validate_items
from service.vocabulary import DeliverySystem, Shift, TouchpointKind

Status = Literal["created", "duplicate", "rejected"]
SourceKey = tuple[str, str]


@dataclass(slots=True)
class Outcome:
    status: Status
    id: uuid.UUID | None = None
    problem: ProblemError | None = None
    written: "Candidate | None" = None


@dataclass(slots=True)
class Candidate:
    index: int
    raw: Any
    item: TouchpointCreateItem
    prefix: Path
    content_hash: str
    key: SourceKey | None
    id: uuid.UUID
    # Derived when written.
    shift: str = ""
    weekend: bool = False


@dataclass(frozen=True, slots=True)
class RecordedTouchpoint:
    status: Literal["created", "duplicate"]
    touchpoint: TouchpointPublic


def conflict_with_stored(prefix: Path, key: SourceKey, stored_id: uuid.UUID) -> Conflict:
    source_system, external_id = key
    href = f"/v1/touchpoints/{stored_id}"
    message = (
        f"{source_system}/{external_id} is already recorded with different content; "
        f"to change it, send the whole record with PUT {href}"
    )
    return Conflict(
        f"{path_of(prefix, 'external_id')}: {message}",
        errors=[field_error(prefix, ("external_id",), "already_recorded", message)],
        existing_id=str(stored_id),
        correct_with={"method": "PUT", "href": href},
    )


def _repeated_in_batch(candidate: Candidate, first: Candidate) -> Conflict:
    message = f"repeats the external_id of items[{first.index}] with different content"
    return Conflict(
        f"{path_of(candidate.prefix, 'external_id')}: {message}",
        errors=[field_error(candidate.prefix, ("external_id",), "repeated_in_batch", message)],
    )


def row_values(
    item: TouchpointCreateItem,
    touchpoint_id: uuid.UUID,
    *,
    shift: str,
    weekend: bool,
    content_hash: str,
) -> list[Any]:
    """One row in `repository.ROW_COLUMNS` order."""
    facts = item.facts
    # Reading the facts' __dict__ avoids pydantic's slow path for attributes a kind does not have.
    present = facts.__dict__
    return [
        touchpoint_id,
        item.kind,
        SYSTEM_OF[item.kind],
        item.service_id,
        item.occurred_at,
        shift,
        weekend,
        item.recorded_by_id,
        item.subject_staff_id,
        item.person_ref_id,
        item.source_system,
        item.external_id,
        item.text,
        facts.__pydantic_serializer__.to_json(facts).decode(),
        content_hash,
        *[present.get(name) for name in TYPED_FACTS],
    ]


class _Recording:
    """One call's worth of items on their way to the table."""

    def __init__(self, session: AsyncSession, principal: Principal, items: Sequence[Any], batch: bool):
        self.session = session
        self.principal = principal
        self.organisation_id = principal.require_organisation()
        self.items = items
        self.batch = batch
        self.now = utcnow()
        self.outcomes: list[Outcome | None] = [None] * len(items)
        self.candidates: list[Candidate] = []
        self.repeats: list[tuple[Candidate, Candidate]] = []

    def reject(self, index: int, problem: ProblemError) -> None:
        self.outcomes[index] = Outcome("rejected", problem=problem)

    def validate(self) -> None:
        latest = self.now + CLOCK_SKEW
        first_of_key: dict[SourceKey, Candidate] = {}
        prefixes: list[Path] = [("items", index) if self.batch else () for index in range(len(self.items))]
        all_validated = validate_items(self.items, prefixes)
        for index, raw in enumerate(self.items):
            prefix = prefixes[index]
            validated = all_validated[index]
            if isinstance(validated, ProblemError):
                self.reject(index, validated)
                continue
            item = apply_item_rules(validated, self.principal, prefix, latest)
            if isinstance(item, ProblemError):
                self.reject(index, item)
                continue
            # The rules guarantee a source system wherever there is an external id.
            key = (item.source_system or "", item.external_id) if item.external_id is not None else None
            candidate = Candidate(index, raw, item, prefix, content_hash(item), key, uuid.uuid4())
            if key is not None:
                first = first_of_key.get(key)
                if first is not None:
                    if first.content_hash == candidate.content_hash:
                        self.repeats.append((candidate, first))
                    else:
                        self.reject(index, _repeated_in_batch(candidate, first))
                    continue
                first_of_key[key] = candidate
            self.candidates.append(candidate)

    def settle_against_stored(
        self, candidates: list[Candidate], stored: dict[SourceKey, StoredKey]
    ) -> list[Candidate]:
        """Answer candidates already stored; return those that are not."""
        unsettled = []
        for candidate in candidates:
            found = stored.get(candidate.key) if candidate.key is not None else None
            if found is None or candidate.key is None:
                unsettled.append(candidate)
            elif found.content_hash == candidate.content_hash:
                self.outcomes[candidate.index] = Outcome("duplicate", id=found.id)
            else:
                self.reject(candidate.index, conflict_with_stored(candidate.prefix, candidate.key, found.id))
        return unsettled

    async def write(self) -> list[uuid.UUID]:
        if not self.candidates:
            return []
        # References are looked up for every candidate, stored copies or not, so that one
        # statement answers both questions.
        needs = reference_needs([c.item for c in self.candidates])
        refs, stored = await look_up(
            self.session,
            self.organisation_id,
            service_ids=needs.service_ids,
            staff_ids=needs.staff_ids,
            person_ids=needs.person_ids,
            innovation_ids=needs.innovation_ids,
            touchpoint_ids=needs.touchpoint_ids,
            source_keys=[c.key for c in self.candidates if c.key is not None],
        )
        fresh = self.settle_against_stored(self.candidates, stored)
        if not fresh:
            return []
        patterns = ShiftPatterns(refs)
        writable: list[Candidate] = []
        rows: list[list[Any]] = []
        for candidate in fresh:
            problem = check_references(candidate.item, candidate.raw, refs, candidate.prefix)
            if problem is not None:
                self.reject(candidate.index, problem)
                continue
            item = candidate.item
            shift, weekend = patterns.of(item.service_id).locate(item.occurred_at, item.shift)
            candidate.shift, candidate.weekend = shift.value, weekend
            writable.append(candidate)
            rows.append(
                row_values(
                    item,
                    candidate.id,
                    shift=shift.value,
                    weekend=weekend,
                    content_hash=candidate.content_hash,
                )
            )
        if not writable:
            return []
        # Keyed rows in key order, so two batches sharing keys lock them in the same order.
        order = sorted(
            range(len(writable)), key=lambda i: (writable[i].key is None, writable[i].key or ("", ""))
        )
        links = [
            (candidate.id, innovation_id)
            for candidate in writable
            for innovation_id in candidate.item.innovation_ids
        ]
        conn = await driver_connection(self.session)
        inserted = await write_touchpoints(
            conn,
            self.organisation_id,
            recorded_at=self.now,
            recorded_by_sub=self.principal.sub,
            rows=[rows[i] for i in order],
            links=links,
            lock_keys=rollup_lock_keys(
                self.organisation_id, rollup_services((c.item for c in writable), refs)
            ),
            access=access_entry(
                principal=self.principal, action="touchpoint.create", resource_type="touchpoint"
            ),
        )
        lost: list[Candidate] = []
        for candidate in writable:
            if candidate.id in inserted:
                self.outcomes[candidate.index] = Outcome("created", id=candidate.id, written=candidate)
            else:
                lost.append(candidate)
        if lost:
            # Stored meanwhile by a concurrent request: compare with what it stored.
            lost_keys = [c.key for c in lost if c.key is not None]
            stored = await find_by_source_keys(
                conn, self.organisation_id, [k[0] for k in lost_keys], [k[1] for k in lost_keys]
            )
            unresolved = self.settle_against_stored(lost, stored)
            if unresolved:
                raise RuntimeError(f"{len(unresolved)} touchpoints were neither inserted nor found stored")
        return [c.id for c in writable if c.id in inserted]

    def settle_repeats(self) -> None:
        for candidate, first in self.repeats:
            outcome = self.outcomes[first.index]
            assert outcome is not None
            if outcome.status == "rejected":
                self.outcomes[candidate.index] = Outcome("rejected", problem=outcome.problem)
            else:
                self.outcomes[candidate.index] = Outcome("duplicate", id=outcome.id)

    async def run(self) -> list[Outcome]:
        self.validate()
        await self.write()  # the access log's entry is written with the rows
        self.settle_repeats()
        return [o for o in self.outcomes if o is not None]


def item_result(index: int, outcome: Outcome) -> ItemResult:
    if outcome.problem is None:
        # Built from values this module made; validating them again would only cost time.
        return ItemResult.model_construct(index=index, status=outcome.status, id=outcome.id, problem=None)
    problem = ItemProblem.model_validate(outcome.problem.to_problem())
    return ItemResult(index=index, status=outcome.status, id=outcome.id, problem=problem)


async def record_touchpoints(
    *, session: AsyncSession, principal: Principal, items: Sequence[Mapping[str, Any]]
) -> list[ItemResult]:
    """Validate and store a batch of raw items as posted; one result per item, in order.

    Refused items carry a problem naming each offending field as `items[i].…`. Only flushes: the
    caller's unit of work commits.
    """
    check(principal, Permission.touchpoint_write)
    if len(items) > MAX_BATCH_ITEMS:
        raise too_many_items(len(items))
    outcomes = await _Recording(session, principal, items, batch=True).run()
    return [item_result(index, outcome) for index, outcome in enumerate(outcomes)]


def _as_recorded(candidate: Candidate, principal: Principal, recorded_at: datetime) -> TouchpointPublic:
    """The record just written, built from what was written rather than read back."""
    item = candidate.item
    recorded = TouchpointPublic(
        id=candidate.id,
        kind=TouchpointKind(item.kind),
        system=DeliverySystem(SYSTEM_OF[item.kind]),
        service_id=item.service_id,
        occurred_at=item.occurred_at,
        recorded_at=recorded_at,
        shift=Shift(candidate.shift),
        weekend=candidate.weekend,
        recorded_by_id=item.recorded_by_id,
        subject_staff_id=item.subject_staff_id,
        person_ref_id=item.person_ref_id,
        innovation_ids=list(item.innovation_ids),
        source_system=item.source_system,
        external_id=item.external_id,
        text=item.text,
        facts=item.facts.model_dump(mode="json"),
        revision=1,
        recorded_by_sub=principal.sub,
    )
    if may_read_free_text(principal):
        return recorded
    return TouchpointPublic.model_validate(withhold(recorded.__dict__))


async def record_touchpoint(
    *, session: AsyncSession, principal: Principal, item: Mapping[str, Any]
) -> RecordedTouchpoint:
    """Store one raw item; raise its ProblemError when refused (409 for a conflicting repeat).

    Returns the stored record: the new one, or for an identical repeat the one stored before.
    """
    check(principal, Permission.touchpoint_write)
    recording = _Recording(session, principal, [item], batch=False)
    (outcome,) = await recording.run()
    if outcome.problem is not None:
        raise outcome.problem
    assert outcome.id is not None
    if outcome.status == "created" and outcome.written is not None:
        return RecordedTouchpoint("created", _as_recorded(outcome.written, principal, recording.now))
    touchpoint = await load_touchpoint(session=session, principal=principal, touchpoint_id=outcome.id)
    return RecordedTouchpoint(status="duplicate", touchpoint=touchpoint)
