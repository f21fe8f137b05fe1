"""Which way a status's inputs are read, and the recount way itself.

The fast path (rollups plus the current month's rows, service.status.sources.rollups) answers every
ordinary request. The recount path reads the touchpoint records (as they stand now, or as they had
been recorded at `known_at`) and counts them in Python (service.status.evaluation.recount); it
answers `known_at` and is what the property test compares the fast path with.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.status.evaluation.inputs import ServiceInfo, StaffTenure, StatusInputs
from service.status.evaluation.periods import local_month
from service.status.evaluation.recount import inputs_from_records, note_first_reference
from service.status.sources.records import earliest_references, load_records, record_selection
from service.status.sources.rollups import load_rollup_inputs
from service.status.sources.span import InnovationServices, LoadRange


async def read_inputs(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    innovations: Sequence[InnovationServices],
    infos: Mapping[uuid.UUID, ServiceInfo],
    staff: Sequence[StaffTenure],
    load: LoadRange,
    *,
    known_at: datetime | None = None,
    recount: bool = False,
) -> dict[uuid.UUID, StatusInputs]:
    """Each innovation's inputs: recounted from records for `known_at` (or when asked), else from
    the rollups."""
    if recount or known_at is not None:
        return await recounted_inputs(session, organisation_id, innovations, infos, staff, load, known_at)
    return await load_rollup_inputs(session, organisation_id, innovations, infos, staff, load)


async def recounted_inputs(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    innovations: Sequence[InnovationServices],
    infos: Mapping[uuid.UUID, ServiceInfo],
    staff: Sequence[StaffTenure],
    load: LoadRange,
    known_at: datetime | None,
) -> dict[uuid.UUID, StatusInputs]:
    """The recount path: the selected records (as known at `known_at`) counted in Python."""
    selection = record_selection(innovations, infos, staff, load)
    records = await load_records(session, organisation_id, selection, known_at=known_at)
    inputs = {i.id: inputs_from_records(records, i, infos, staff, load) for i in innovations}
    # Whether and since when it was ever referenced reaches back before the records read.
    before = selection.ranges[0][0]
    earliest = await earliest_references(
        session, organisation_id, [i.id for i in innovations], before=before, known_at=known_at
    )
    for (innovation_id, service_id), occurred_at in earliest.items():
        status = inputs[innovation_id]
        if service_id not in status.services:
            continue
        note_first_reference(status, service_id, local_month(occurred_at, infos[service_id].timezone))
    return inputs
