"""Portfolio queries: provider names, and a fingerprint of everything a status is computed from."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Per provider: the latest change to each rollup and reference table a status reads, and a sum of
# hashes for the link tables (which carry no timestamps), so any change gives a new fingerprint.
_FINGERPRINT_SQL = """
SELECT o.id, o.name,
       (SELECT max(updated_at) FROM status_month_rollup WHERE organisation_id = o.id) AS rollups,
       (SELECT max(updated_at) FROM status_service_month WHERE organisation_id = o.id) AS service_months,
       (SELECT max(updated_at) FROM status_staff_month WHERE organisation_id = o.id) AS staff_months,
       (SELECT max(updated_at) FROM status_audit_month WHERE organisation_id = o.id) AS audit_months,
       (SELECT max(updated_at) FROM staff_member WHERE organisation_id = o.id) AS staff,
       (SELECT coalesce(sum(hashtext(staff_member_id::text || service_id::text)::bigint), 0)
          FROM staff_member_service WHERE organisation_id = o.id) AS staff_services,
       (SELECT max(updated_at) FROM innovation WHERE organisation_id = o.id) AS innovations,
       (SELECT coalesce(sum(hashtext(innovation_id::text || service_id::text)::bigint), 0)
          FROM innovation_service WHERE organisation_id = o.id) AS innovation_services,
       (SELECT max(updated_at) FROM service WHERE organisation_id = o.id) AS services,
       (SELECT updated_at FROM provider_thresholds WHERE organisation_id = o.id) AS thresholds
  FROM organisation o
 WHERE o.id = ANY(:ids)
 ORDER BY o.id
"""


async def provider_fingerprints(
    session: AsyncSession, provider_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, tuple[Any, ...]]]:
    """provider → (its name, what its statuses were computed from), in one query."""
    if not provider_ids:
        return {}
    rows = await session.execute(text(_FINGERPRINT_SQL), {"ids": list(provider_ids)})
    out: dict[uuid.UUID, tuple[str, tuple[Any, ...]]] = {}
    for row in rows:
        values = tuple(v.isoformat() if isinstance(v, datetime) else v for v in row[2:])
        out[row.id] = (row.name, values)
    return out


async def service_names(
    session: AsyncSession, provider_id: uuid.UUID
) -> dict[uuid.UUID, tuple[str, str | None]]:
    rows = await session.execute(
        text("SELECT id, name, cqc_location_id FROM service WHERE organisation_id = :o"), {"o": provider_id}
    )
    return {r.id: (r.name, r.cqc_location_id) for r in rows}


@dataclass(frozen=True, slots=True)
class ProviderSetup:
    """What a portfolio page shows of a provider besides statuses: names, services, innovations."""

    name: str
    services: list[tuple[uuid.UUID, str, str | None]] = field(default_factory=list)
    # (innovation, its name, its phase, the services in its scope)
    innovations: list[tuple[uuid.UUID, str, str, tuple[uuid.UUID, ...]]] = field(default_factory=list)


_SETUP_SQL = """
SELECT o.id AS organisation_id, 'provider' AS row, o.id, o.name, NULL AS detail, NULL::uuid[] AS service_ids
  FROM organisation o WHERE o.id = ANY(:ids)
UNION ALL
SELECT s.organisation_id, 'service', s.id, s.name, s.cqc_location_id, NULL
  FROM service s WHERE s.organisation_id = ANY(:ids)
UNION ALL
SELECT i.organisation_id, 'innovation', i.id, i.name, i.phase,
       coalesce(array_agg(x.service_id ORDER BY x.service_id) FILTER (WHERE x.service_id IS NOT NULL), '{}')
  FROM innovation i
  LEFT JOIN innovation_service x ON x.organisation_id = i.organisation_id AND x.innovation_id = i.id
 WHERE i.organisation_id = ANY(:ids)
 GROUP BY i.organisation_id, i.id
"""


async def provider_setups(
    session: AsyncSession, provider_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ProviderSetup]:
    """Each provider's name, services and innovations, in one query."""
    if not provider_ids:
        return {}
    rows = (await session.execute(text(_SETUP_SQL), {"ids": list(provider_ids)})).all()
    setups = {r.id: ProviderSetup(r.name) for r in rows if r.row == "provider"}
    for r in sorted(rows, key=lambda r: (r.name, r.id)):
        setup = setups.get(r.organisation_id)
        if setup is None or r.row == "provider":
            continue
        if r.row == "service":
            setup.services.append((r.id, r.name, r.detail))
        else:
            setup.innovations.append((r.id, r.name, r.detail, tuple(r.service_ids)))
    return setups
