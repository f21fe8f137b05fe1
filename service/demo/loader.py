"""Loading the demo provider: once on first start, or on demand with `ingrain demo`.

Touchpoints go through `record_touchpoints`, the code behind `POST /v1/touchpoints/batch`, so the
demo is validated, deduplicated and rolled up exactly as a care record system's data would be.
"""

import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.auth.principal import Principal
from service.database import create_engine, create_session_factory, resolve_database_url, unit_of_work
from service.demo import cast, reference
from service.demo.generate import build_plan
from service.demo.plan import DemoPlan, TouchpointPlan
from service.demo.reference import DemoIds
from service.demo.summary import summary_text
from service.settings import Settings
from service.startup import DEMO_LOCK, advisory_lock
from service.touchpoints.ingest import record_touchpoints
from service.vocabulary import Role, TouchpointKind

log = logging.getLogger(__name__)

# The batch route's own limit: the demo posts what a care record system may post.
BATCH_SIZE = 1000


class DemoLoadError(RuntimeError):
    """The ingestion code refused part of the demo: the demo and the rules have drifted apart."""


@dataclass(frozen=True)
class DemoLoad:
    plan: DemoPlan
    ids: DemoIds
    provider_name: str
    created: int
    duplicates: int
    seconds: float


async def load_demo_if_empty(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> DemoLoad | None:
    """Load the demo provider unless it is already there; print a summary and tokens when loaded."""
    async with session_factory() as session:
        existing = await reference.find_provider(session, cast.PROVIDER_NAME)
    if existing is not None:
        log.info("demo provider %s already loaded (%s)", cast.PROVIDER_NAME, existing.id)
        return None
    loaded = await load_demo(session_factory, build_plan())
    print(summary_text(loaded, settings), flush=True)
    return loaded


async def run_demo_command(settings: Settings, *, force: bool = False) -> DemoLoad | None:
    """`ingrain demo`: load once; `--force` adds another copy of the provider under a new name."""
    url = resolve_database_url(settings)
    if settings.migrate_at_start:
        from service.migrate import upgrade_async

        await upgrade_async(url)
    engine = create_engine(url, pool_size=2)
    try:
        factory = create_session_factory(engine)
        plan = build_plan()
        name = plan.provider_name
        # Taken in turns with a server loading the demo on its first start.
        async with advisory_lock(url, DEMO_LOCK):
            async with factory() as session:
                copy = 1
                while await reference.find_provider(session, name) is not None:
                    if not force:
                        print(f"{name!r} is already loaded; `ingrain demo --force` adds another copy.")
                        return None
                    copy += 1
                    name = f"{plan.provider_name} ({copy})"
            loaded = await load_demo(factory, plan, provider_name=name)
        print(summary_text(loaded, settings), flush=True)
        return loaded
    finally:
        await engine.dispose()


async def load_demo(
    session_factory: async_sessionmaker[AsyncSession],
    plan: DemoPlan,
    *,
    provider_name: str | None = None,
) -> DemoLoad:
    started = time.perf_counter()
    name = provider_name or plan.provider_name
    # One transaction: a demo is either there whole or not at all, so a load that fails part-way
    # is simply tried again on the next start.
    async with unit_of_work(session_factory) as session:
        ids = await reference.write_organisations(session, plan, name)
        await reference.write_reference_data(session, plan, ids)
        principal = Principal(
            sub=reference.LOADER_SUB,
            organisation_id=ids.provider_id,
            roles=frozenset({Role.quality_lead}),
        )
        # Reviews name the incident they follow by its id, so incidents are stored first.
        reviews = [t for t in plan.touchpoints if t.kind is TouchpointKind.post_incident_review]
        others = [t for t in plan.touchpoints if t.kind is not TouchpointKind.post_incident_review]
        stored: dict[str, uuid.UUID] = {}
        created = duplicates = 0
        for touchpoints in (others, reviews):
            for batch in _batches(touchpoints, BATCH_SIZE):
                items = [_as_posted(t, ids, stored) for t in batch]
                results = await record_touchpoints(session=session, principal=principal, items=items)
                for touchpoint, result in zip(batch, results, strict=True):
                    status, touchpoint_id, problem = _outcome(result)
                    if status == "rejected" or touchpoint_id is None:
                        raise DemoLoadError(f"demo touchpoint {touchpoint.external_id} refused: {problem}")
                    created += status == "created"
                    duplicates += status == "duplicate"
                    stored[touchpoint.external_id] = touchpoint_id
    seconds = time.perf_counter() - started
    log.info("demo provider %s loaded: %d touchpoints in %.1f s", name, created, seconds)
    return DemoLoad(
        plan=plan, ids=ids, provider_name=name, created=created, duplicates=duplicates, seconds=seconds
    )


def _batches(touchpoints: Sequence[TouchpointPlan], size: int) -> Iterator[Sequence[TouchpointPlan]]:
    for start in range(0, len(touchpoints), size):
        yield touchpoints[start : start + size]


def _as_posted(touchpoint: TouchpointPlan, ids: DemoIds, stored: dict[str, uuid.UUID]) -> dict[str, Any]:
    """The touchpoint as a care record system would post it: JSON values, ids for references."""
    facts = dict(touchpoint.facts)
    if touchpoint.kind in (TouchpointKind.induction, TouchpointKind.shadowing):
        facts["buddy_id"] = str(ids.staff[touchpoint.buddy]) if touchpoint.buddy else None
    if touchpoint.incident is not None:
        facts["incident_id"] = str(stored[touchpoint.incident])
    return {
        "kind": touchpoint.kind.value,
        "service_id": str(ids.services[touchpoint.service_key]),
        "occurred_at": touchpoint.occurred_at.isoformat(),
        # The care record system sends only the time; the service's shift pattern places it.
        "shift": None if touchpoint.source_system == cast.CARE_RECORDS_SOURCE else touchpoint.shift.value,
        "recorded_by_id": str(ids.staff[touchpoint.recorded_by]),
        "subject_staff_id": str(ids.staff[touchpoint.subject]) if touchpoint.subject else None,
        "person_ref_id": str(ids.people[touchpoint.person_ref]) if touchpoint.person_ref else None,
        "innovation_ids": [str(ids.innovations[key]) for key in touchpoint.innovations],
        "source_system": touchpoint.source_system,
        "external_id": touchpoint.external_id,
        "text": touchpoint.text,
        "facts": facts,
    }


def _outcome(result: Any) -> tuple[str, uuid.UUID | None, Any]:
    """(status, id, problem) of one batch result."""
    get = result.get if isinstance(result, dict) else lambda name: getattr(result, name, None)
    raw_id = get("id")
    return str(get("status")), uuid.UUID(str(raw_id)) if raw_id else None, get("problem")
