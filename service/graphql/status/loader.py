"""Statuses of many innovations in one batch: one load of counts per provider, whatever the nesting.

A nested query (services → innovations → status) asks for one status per innovation; answering each
with `innovation_status` would load the provider's counts once per innovation. The batch resolves the
caller's scopes once, loads every asked innovation of a provider with one `load_subjects`, and
presents each status with the REST presenter (`status_public`). A key that is not a plain visible
case (an innovation or service the caller may not see) is answered by `innovation_status` itself, so
its refusal is exactly REST's.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.errors import ProblemError
from service.status import service as status_rules
from service.status.access import readable_scopes
from service.status.schemas import EmbeddingStatus
from service.status.subjects import load_subjects


@dataclass(frozen=True, slots=True)
class StatusKey:
    innovation_id: uuid.UUID
    service_id: uuid.UUID | None
    window_days: int
    as_of: datetime | None
    known_at: datetime | None


Answer = EmbeddingStatus | ProblemError


async def _one(session: AsyncSession, principal: Principal, key: StatusKey) -> Answer:
    try:
        return await status_rules.innovation_status(
            session=session,
            principal=principal,
            innovation_id=key.innovation_id,
            service_id=key.service_id,
            window_days=key.window_days,
            as_of=key.as_of,
            known_at=key.known_at,
        )
    except ProblemError as problem:
        return problem


async def _same_moment(
    session: AsyncSession, principal: Principal, keys: list[StatusKey]
) -> dict[StatusKey, Answer]:
    """Keys sharing window, `as_of` and `known_at`: one scope lookup, one load per provider."""
    first = keys[0]
    try:
        status_rules.check_window(first.window_days)
        moment, known = status_rules.resolve_moments(first.as_of, first.known_at)
    except ProblemError as problem:
        return dict.fromkeys(keys, problem)
    wanted = sorted({k.innovation_id for k in keys})
    found = {}
    for scope in await readable_scopes(session, principal, as_of=moment):
        subjects = await load_subjects(
            session, scope.provider_id, wanted, as_of=moment, window_days=first.window_days, known_at=known
        )
        for subject in subjects:
            found[subject.innovation.id] = (subject, scope)
    answers: dict[StatusKey, Answer] = {}
    for key in keys:
        if key.innovation_id not in found:
            answers[key] = await _one(session, principal, key)
            continue
        subject, scope = found[key.innovation_id]
        visible = status_rules.visible_services(subject, scope)
        if not visible or (key.service_id is not None and key.service_id not in visible):
            answers[key] = await _one(session, principal, key)
            continue
        service_ids = visible if key.service_id is None else [key.service_id]
        answers[key] = status_rules.status_public(
            subject,
            subject.evaluate(service_ids),
            service_ids=service_ids,
            service_id=key.service_id,
            external=scope.is_external,
            known_at=known,
        )
    return answers


async def load_statuses(session: AsyncSession, principal: Principal, keys: list[StatusKey]) -> list[Answer]:
    groups: dict[tuple[int, datetime | None, datetime | None], list[StatusKey]] = defaultdict(list)
    for key in keys:
        groups[(key.window_days, key.as_of, key.known_at)].append(key)
    answers: dict[StatusKey, Answer] = {}
    for group in groups.values():
        answers.update(await _same_moment(session, principal, group))
    return [answers[key] for key in keys]
