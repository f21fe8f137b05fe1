"""Metrics of what the service does for its users: touchpoints recorded and refused, statuses
computed and served. Each is counted where its rule lives; this module keeps the labels bounded.

- A touchpoint's `source_system` is text its sender chooses. It is a label only when it is the
  source system an integration client is registered for (that client's token says so, and the
  rules refuse any other from it), and then only for the first `MAX_SOURCE_SYSTEMS` seen by a
  process; anything else is `other`, and a touchpoint without one is `none`.
- A rule is the `rule` of a problem's error, named in code (Ingrain's or pydantic's error types);
  anything not shaped like one is `other`.
- Touchpoints are counted once their unit of work commits: a request that fails after recording,
  or a unit of work run again after a deadlock, counts each stored touchpoint once.
"""

import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.errors import ProblemError
from service.observability.metrics import (
    status_compute_duration,
    statuses_computed,
    statuses_served,
    touchpoints_recorded,
    touchpoints_rejected,
)

MAX_SOURCE_SYSTEMS = 50
NO_SOURCE_SYSTEM = "none"
OTHER = "other"
_RULE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_PENDING = "ingrain_touchpoints_pending"
_labelled_source_systems: set[str] = set()

ComputeMode = Literal["projection", "on_read"]
ServedFrom = Literal["projection", "computed"]


def source_system_label(principal: Principal, source_system: str | None) -> str:
    if source_system is None:
        return NO_SOURCE_SYSTEM
    if principal.source_system is None or source_system != principal.source_system:
        return OTHER
    if source_system not in _labelled_source_systems:
        if len(_labelled_source_systems) >= MAX_SOURCE_SYSTEMS:
            return OTHER
        _labelled_source_systems.add(source_system)
    return source_system


def count_recorded(
    session: AsyncSession, principal: Principal, written: Iterable[tuple[str, str | None]]
) -> None:
    """Count touchpoints written in `session`'s transaction, each a (kind, source system), once it commits."""
    pending: Counter[tuple[str, str]] = session.sync_session.info.setdefault(_PENDING, Counter())
    for kind, source_system in written:
        pending[(kind, source_system_label(principal, source_system))] += 1


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    pending: Counter[tuple[str, str]] | None = session.info.pop(_PENDING, None)
    if pending:
        for (kind, source_system), count in pending.items():
            touchpoints_recorded.labels(kind, source_system).inc(count)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def rule_label(rule: Any) -> str:
    return rule if isinstance(rule, str) and _RULE.fullmatch(rule) else OTHER


def count_rejected(problems: Iterable[ProblemError]) -> None:
    """One count per refused item under each distinct rule its problem names."""
    for problem in problems:
        rules = {rule_label(error.get("rule")) for error in problem.errors or ()}
        for rule in rules or {rule_label(problem.type_slug.replace("-", "_"))}:
            touchpoints_rejected.labels(rule).inc()


@dataclass(slots=True)
class Computation:
    statuses: int = 0


@contextmanager
def status_computation(mode: ComputeMode) -> Iterator[Computation]:
    """Time one computation of statuses; the caller sets how many it made (none: not counted)."""
    computation = Computation()
    started = time.perf_counter()
    yield computation
    if computation.statuses:
        status_compute_duration.labels(mode).observe(time.perf_counter() - started)
        statuses_computed.labels(mode).inc(computation.statuses)


def count_served(source: ServedFrom, statuses: int = 1) -> None:
    if statuses:
        statuses_served.labels(source).inc(statuses)
