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
from service.errors import ProblemError
from service.model_helpers import utcnow
from service.observability.activity import count_recorded, count_rejected
from service.policy import Permission, check
from service.status.locks import rollup_lock_keys
from service.touchpoints.free_text import may_read_free_text, withhold
from service.touchpoints.reading import load_touchpoint
from service.touchpoints.repository.lookups import References, StoredKey, find_by_source_keys, look_up
from service.touchpoints.repository.writes import row_values, write_touchpoints
from service.touchpoints.rollups import incident_services, rollup_services
from service.touchpoints.schemas import ItemProblem, ItemResult, TouchpointPublic
from service.touchpoints.shifts import ShiftPatterns
from service.touchpoints.validation import (
    Path,
    SourceKey,
    TouchpointCreateItem,
    check_batch_size,
    check_references,
    conflict_with_stored,
    content_hash,
    item_prefixes,
    reference_needs,
    repeated_in_batch,
    validate_touchpoints,
)
from service.vocabulary import SYSTEM_OF_KIND, Shift, TouchpointKind

Status = Literal["created", "duplicate", "rejected"]


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
        first_of_key: dict[SourceKey, Candidate] = {}
        prefixes = item_prefixes(len(self.items), batch=self.batch)
        validated = validate_touchpoints(self.items, prefixes, principal=self.principal, now=self.now)
        for index, (raw, prefix, item) in enumerate(zip(self.items, prefixes, validated, strict=True)):
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
                        self.reject(index, repeated_in_batch(prefix, first.index))
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

    async def write(self) -> None:
        if not self.candidates:
            return
        refs, stored = await self.look_up()
        fresh = self.settle_against_stored(self.candidates, stored)
        writable = self.placed(fresh, refs)
        if not writable:
            return
        inserted = await self.store(writable, refs)
        await self.settle_written(writable, inserted)

    async def look_up(self) -> tuple[References, dict[SourceKey, StoredKey]]:
        """What the candidates refer to, and copies of them already stored.

        References are looked up for every candidate, stored copies or not, so that one statement
        answers both questions.
        """
        needs = reference_needs([c.item for c in self.candidates])
        return await look_up(
            self.session,
            self.organisation_id,
            service_ids=needs.service_ids,
            staff_ids=needs.staff_ids,
            person_ids=needs.person_ids,
            innovation_ids=needs.innovation_ids,
            touchpoint_ids=needs.touchpoint_ids,
            source_keys=[c.key for c in self.candidates if c.key is not None],
        )

    def placed(self, fresh: list[Candidate], refs: References) -> list[Candidate]:
        """The candidates whose references hold, each with its shift derived; the others refused."""
        patterns = ShiftPatterns(refs.services)
        writable: list[Candidate] = []
        for candidate in fresh:
            problem = check_references(candidate.item, candidate.raw, refs, candidate.prefix)
            if problem is not None:
                self.reject(candidate.index, problem)
                continue
            item = candidate.item
            shift, weekend = patterns.of(item.service_id).locate(item.occurred_at, item.shift)
            candidate.shift, candidate.weekend = shift.value, weekend
            writable.append(candidate)
        return writable

    async def store(self, writable: list[Candidate], refs: References) -> set[uuid.UUID]:
        """Write the candidates; the ids of those written (a concurrent writer may have taken keys)."""
        # Keyed rows in key order, so two batches sharing keys lock them in the same order.
        ordered = sorted(writable, key=lambda c: (c.key is None, c.key or ("", "")))
        return await write_touchpoints(
            self.session,
            self.organisation_id,
            recorded_at=self.now,
            recorded_by_sub=self.principal.sub,
            rows=[
                row_values(c.item, c.id, shift=c.shift, weekend=c.weekend, content_hash=c.content_hash)
                for c in ordered
            ],
            links=[(c.id, innovation_id) for c in writable for innovation_id in c.item.innovation_ids],
            lock_keys=rollup_lock_keys(
                self.organisation_id, rollup_services((c.item for c in writable), refs)
            ),
            access=access_entry(
                principal=self.principal, action="touchpoint.create", resource_type="touchpoint"
            ),
            incident_services=incident_services((c.item for c in writable), refs),
        )

    async def settle_written(self, writable: list[Candidate], inserted: set[uuid.UUID]) -> None:
        lost: list[Candidate] = []
        for candidate in writable:
            if candidate.id in inserted:
                self.outcomes[candidate.index] = Outcome("created", id=candidate.id, written=candidate)
            else:
                lost.append(candidate)
        if not lost:
            return
        # Stored meanwhile by a concurrent request: compare with what it stored.
        lost_keys = [c.key for c in lost if c.key is not None]
        stored = await find_by_source_keys(
            self.session, self.organisation_id, [k[0] for k in lost_keys], [k[1] for k in lost_keys]
        )
        unresolved = self.settle_against_stored(lost, stored)
        if unresolved:
            raise RuntimeError(f"{len(unresolved)} touchpoints were neither inserted nor found stored")

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
        outcomes = [o for o in self.outcomes if o is not None]
        count_rejected(o.problem for o in outcomes if o.problem is not None)
        count_recorded(
            self.session,
            self.principal,
            ((o.written.item.kind, o.written.item.source_system) for o in outcomes if o.written is not None),
        )
        return outcomes


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
    check_batch_size(items)
    outcomes = await _Recording(session, principal, items, batch=True).run()
    return [item_result(index, outcome) for index, outcome in enumerate(outcomes)]


def _as_recorded(candidate: Candidate, principal: Principal, recorded_at: datetime) -> TouchpointPublic:
    """The record just written, built from what was written rather than read back."""
    item = candidate.item
    kind = TouchpointKind(item.kind)
    recorded = TouchpointPublic(
        id=candidate.id,
        kind=kind,
        system=SYSTEM_OF_KIND[kind],
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
