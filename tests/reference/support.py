"""Helpers for the reference data tests: integration tokens and access-log counts."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.audit.models import AccessLogEntry
from service.auth.tokens import issue_hs256_token
from service.settings import Settings
from service.vocabulary import Role


def integration_headers(
    settings: Settings,
    org: uuid.UUID,
    source_system: str | None = "acme-care",
    *,
    services: list[uuid.UUID] | None = None,
) -> dict[str, str]:
    extra = {"client_id": "acme-client"}
    if source_system is not None:
        extra["source_system"] = source_system
    token = issue_hs256_token(
        settings,
        sub="client:acme",
        roles=[Role.integration],
        organisation_id=org,
        service_ids=services,
        extra=extra,
    )
    return {"Authorization": f"Bearer {token}"}


async def access_log_count(session: AsyncSession, action: str) -> int:
    stmt = select(func.count()).select_from(AccessLogEntry).where(col(AccessLogEntry.action) == action)
    return int((await session.execute(stmt)).scalar_one())


def error_rules(body: dict[str, object]) -> set[tuple[str, str]]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return {(e["field"], e["rule"]) for e in errors}
