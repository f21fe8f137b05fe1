"""Reading and tuning thresholds: a provider's own defaults and each innovation's overrides.

Tuning is a quality lead's work (`thresholds:manage`) within their own provider. Anyone who may
read an innovation's status may read the thresholds it is judged against (every status echoes
them anyway). Every change is written to the access log.
"""

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service import clock
from service.audit.service import record_access
from service.auth.principal import Principal
from service.errors import Forbidden, NotFound
from service.policy import Permission, check
from service.projections.marking import mark_innovations, mark_provider
from service.scoping import Access
from service.status.access import innovation_scope
from service.status.schemas import ThresholdsView
from service.status.sources import provider_setup
from service.status.thresholds import effective_thresholds, sources, validate_overrides


def _view(
    innovation_id: uuid.UUID | None,
    provider: dict[str, Any] | None,
    innovation: dict[str, Any] | None,
    updated_at: datetime | None,
) -> ThresholdsView:
    own = innovation if innovation_id is not None else provider
    return ThresholdsView.model_validate(
        {
            "innovation_id": innovation_id,
            "effective": effective_thresholds(provider, innovation).model_dump(),
            "overrides": own or {},
            "provider_defaults": provider or {},
            "sources": sources(provider, innovation),
            "updated_at": updated_at,
        }
    )


async def _innovation(
    session: AsyncSession, organisation_id: uuid.UUID, innovation_id: uuid.UUID
) -> tuple[provider_setup.InnovationRow, datetime]:
    rows = await provider_setup.innovations(session, organisation_id, [innovation_id])
    if not rows:
        raise NotFound(f"no innovation {innovation_id}")
    updated = await session.execute(
        text("SELECT updated_at FROM innovation WHERE organisation_id = :o AND id = :i"),
        {"o": organisation_id, "i": innovation_id},
    )
    return rows[0], updated.scalar_one()


async def get_innovation_thresholds(
    *, session: AsyncSession, principal: Principal, innovation_id: uuid.UUID
) -> ThresholdsView:
    check(principal, Permission.status_read, Permission.thresholds_manage)
    scope = await innovation_scope(session, principal, innovation_id, as_of=clock.now())
    row, updated_at = await _innovation(session, scope.provider_id, innovation_id)
    provider = await provider_setup.provider_thresholds(session, scope.provider_id)
    return _view(innovation_id, provider, row.thresholds, updated_at)


async def put_innovation_thresholds(
    *, session: AsyncSession, principal: Principal, innovation_id: uuid.UUID, overrides: dict[str, Any]
) -> ThresholdsView:
    """Replace the innovation's overrides (an empty document goes back to the provider's defaults)."""
    check(principal, Permission.thresholds_manage)
    scope = await innovation_scope(session, principal, innovation_id, as_of=clock.now())
    if scope.access is not Access.own:
        raise Forbidden("only the provider's own quality lead may tune its thresholds")
    cleaned = validate_overrides(overrides)
    provider = await provider_setup.provider_thresholds(session, scope.provider_id)
    effective_thresholds(provider, cleaned)  # refuses a combination that is not valid as a whole
    await session.execute(
        text(
            "UPDATE innovation SET thresholds = CAST(:t AS jsonb), updated_at = now() "
            "WHERE organisation_id = :o AND id = :i"
        ),
        {"t": _json(cleaned) if cleaned else None, "o": scope.provider_id, "i": innovation_id},
    )
    record_access(
        session,
        principal=principal,
        action="thresholds.update",
        resource_type="innovation",
        record_ids=[innovation_id],
        organisation_id=scope.provider_id,
    )
    await mark_innovations(session, scope.provider_id, [innovation_id])
    row, updated_at = await _innovation(session, scope.provider_id, innovation_id)
    return _view(innovation_id, provider, row.thresholds, updated_at)


async def get_provider_thresholds(*, session: AsyncSession, principal: Principal) -> ThresholdsView:
    check(principal, Permission.status_read, Permission.thresholds_manage)
    organisation_id = principal.require_organisation()
    found = await session.execute(
        text("SELECT thresholds, updated_at FROM provider_thresholds WHERE organisation_id = :o"),
        {"o": organisation_id},
    )
    row = found.one_or_none()
    return _view(None, row.thresholds if row else None, None, row.updated_at if row else None)


async def put_provider_thresholds(
    *, session: AsyncSession, principal: Principal, overrides: dict[str, Any]
) -> ThresholdsView:
    """Replace the provider's own defaults; every innovation's overrides still apply on top."""
    check(principal, Permission.thresholds_manage)
    organisation_id = principal.require_organisation()
    cleaned = validate_overrides(overrides)
    effective_thresholds(cleaned, None)
    for innovation in await provider_setup.innovations(session, organisation_id):
        # A new default must not make an innovation's own overrides contradict it.
        effective_thresholds(cleaned, innovation.thresholds, prefix=f"innovation {innovation.id}")
    await session.execute(
        text(
            "INSERT INTO provider_thresholds (organisation_id, thresholds, updated_by, updated_at) "
            "VALUES (:o, CAST(:t AS jsonb), :by, now()) "
            "ON CONFLICT (organisation_id) DO UPDATE SET thresholds = excluded.thresholds, "
            "updated_by = excluded.updated_by, updated_at = excluded.updated_at"
        ),
        {"o": organisation_id, "t": _json(cleaned), "by": principal.sub},
    )
    record_access(
        session,
        principal=principal,
        action="thresholds.update",
        resource_type="provider_thresholds",
        organisation_id=organisation_id,
    )
    await mark_provider(session, organisation_id)
    return await get_provider_thresholds(session=session, principal=principal)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value)
