"""The evidence pack of one innovation: what a provider hands an inspector, or keeps on file.

It is the status and the monthly history the API already serves, presented for the caller (an
inspector gets the external bodies, small counts withheld, exactly as in JSON), with the
innovation's own words and, for every amber or red indicator, what the provider can do next.
Reading it is recorded in the provider's access log. `document.render_pack` turns it into HTML.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record_access
from service.auth.principal import Principal
from service.errors import NotFound
from service.evidence_pack import repository
from service.evidence_pack.levers import LEVERS, Lever
from service.evidence_pack.repository import InnovationDetails
from service.policy import Permission, check
from service.projections.compute import HISTORY_MONTHS  # the months projections keep: served precomputed
from service.status import service as status_rules
from service.status.schemas import EmbeddingStatus, StatusHistory
from service.status.vocabulary import IndicatorKey, Rag

NEEDS_ACTION = frozenset({Rag.amber, Rag.red})


@dataclass(frozen=True, slots=True)
class EvidencePack:
    innovation_id: uuid.UUID
    details: InnovationDetails
    service_id: uuid.UUID | None
    service_names: list[str]  # the services the status covers, by name
    status: EmbeddingStatus
    history: StatusHistory
    next_steps: dict[IndicatorKey, tuple[Lever, ...]]  # amber and red indicators only
    levers_source: str


def next_steps(status: EmbeddingStatus) -> dict[IndicatorKey, tuple[Lever, ...]]:
    """The levers of every indicator rated amber or red, in the status's order."""
    return {i.key: LEVERS.for_indicator(i.key) for i in status.indicators if i.rag in NEEDS_ACTION}


async def evidence_pack(
    *,
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    service_id: uuid.UUID | None = None,
) -> EvidencePack:
    """The pack for one service or, without `service_id`, the provider (the services the caller
    may see). Refused as the status is: 404 outside the caller's scope."""
    check(principal, Permission.evidence_pack_read)
    status = await status_rules.innovation_status(
        session=session, principal=principal, innovation_id=innovation_id, service_id=service_id
    )
    history = await status_rules.innovation_history(
        session=session,
        principal=principal,
        innovation_id=innovation_id,
        service_id=service_id,
        months=HISTORY_MONTHS,
    )
    provider_id = status.organisation_id
    details = await repository.innovation_details(session, provider_id, innovation_id)
    if details is None:  # removed between the reads
        raise NotFound(f"no innovation {innovation_id}")
    names = await repository.service_names(session, provider_id, status.scope.service_ids)
    record_access(
        session,
        principal=principal,
        action="status.evidence_pack",
        resource_type="innovation",
        record_ids=[innovation_id],
        organisation_id=provider_id,
    )
    return EvidencePack(
        innovation_id=innovation_id,
        details=details,
        service_id=service_id,
        service_names=sorted(names[s] for s in status.scope.service_ids if s in names),
        status=status,
        history=history,
        next_steps=next_steps(status),
        levers_source=LEVERS.source,
    )
