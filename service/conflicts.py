"""A unit of work that loses a deadlock or serialisation race (SQLSTATE 40P01, 40001) runs again.

Postgres undoes the losing transaction whole, so nothing of it was committed and running it again is
safe. Writers take their locks in one order (service/status/locks.py), so such a loss should not
happen; this is the net under that rule, for orders no rule foresaw. A REST request is its own unit of
work (the session commits before the response starts), so the middleware here keeps the request's
body and, while no byte of the answer has been sent, runs the whole request again after a short,
jittered pause. GraphQL resolvers run their own units of work and call `retry_transient`.
Each retry is logged and counted (in the metrics too); after the last attempt the caller is told to
retry (503 with Retry-After).
"""

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import Unavailable, problem_response, retry_after_seconds
from service.observability.context import described_request
from service.observability.metrics import transaction_retries, transactions_lost

log = logging.getLogger(__name__)

TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
ATTEMPTS = 5
FIRST_PAUSE = 0.005  # seconds; each attempt may wait up to twice as long as the one before
LONGEST_PAUSE = 0.25
# A body larger than this is streamed through, unkept: such a request is not run again.
KEPT_BODY_BYTES = 8 * 1024 * 1024

T = TypeVar("T")


@dataclass
class RetryCounts:
    """Retries by SQLSTATE, and units of work that still lost after the last attempt."""

    retried: Counter[str] = field(default_factory=Counter)
    exhausted: int = 0


retry_counts = RetryCounts()


def transient_sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a deadlock or serialisation failure anywhere in the exception's chain."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str) and state in TRANSIENT_SQLSTATES:
            return state
        pending.extend([getattr(current, "orig", None), current.__cause__, current.__context__])
    return None


def pause_before(attempt: int) -> float:
    """Full jitter: a random pause up to an exponentially growing cap."""
    return random.uniform(0, min(LONGEST_PAUSE, FIRST_PAUSE * 2**attempt))


def _lost(what: str, retry_after: int) -> Unavailable:
    retry_counts.exhausted += 1
    transactions_lost.inc()
    log.error("unit of work in %s lost a race %d times; the caller is asked to retry", what, ATTEMPTS)
    return Unavailable.database(
        retry_after, "the request met concurrent changes to the same records and was not applied; retry it"
    )


def _note_retry(state: str, attempt: int, what: str) -> None:
    retry_counts.retried[state] += 1
    transaction_retries.labels(state).inc()
    log.warning("unit of work lost a race (%s) in %s; attempt %d of %d", state, what, attempt + 1, ATTEMPTS)


async def retry_transient(
    run: Callable[[], Awaitable[T]], *, what: str = "a unit of work", retry_after: int = 1
) -> T:
    """Await `run()`, again after a deadlock or serialisation failure, up to ATTEMPTS times in all;
    then the caller is told to retry after `retry_after` seconds."""
    for attempt in range(ATTEMPTS):
        try:
            return await run()
        except Exception as exc:
            state = transient_sqlstate(exc)
            if state is None:
                raise
            if attempt == ATTEMPTS - 1:
                raise _lost(what, retry_after) from exc
            _note_retry(state, attempt, what)
            await asyncio.sleep(pause_before(attempt))
    raise AssertionError("unreachable")


class TransactionRetryMiddleware:
    """Runs an HTTP request again when its unit of work lost a deadlock or serialisation race."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kept, complete = await _keep_body(receive)
        for attempt in range(ATTEMPTS):
            started = False

            async def watch(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                await send(message)

            try:
                # A fresh request state each time: nothing the lost attempt cached carries over.
                attempt_scope = {**scope, "state": dict(scope.get("state") or {})}
                await self.app(attempt_scope, _replay(kept, receive), watch)
                return
            except Exception as exc:
                state = transient_sqlstate(exc)
                if state is None or started or not complete:
                    raise
                what = described_request(scope.get("method"))
                if attempt == ATTEMPTS - 1:
                    request = Request(scope)
                    response = problem_response(request, _lost(what, retry_after_seconds(request)))
                    await response(scope, _replay([], receive), send)
                    return
                _note_retry(state, attempt, what)
                await asyncio.sleep(pause_before(attempt))


async def _keep_body(receive: Receive) -> tuple[list[Message], bool]:
    """The request's body messages, read up to KEPT_BODY_BYTES; whether that is the whole body."""
    kept: list[Message] = []
    size = 0
    while True:
        message = await receive()
        kept.append(message)
        if message["type"] != "http.request":
            return kept, False
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return kept, True
        if size > KEPT_BODY_BYTES:
            return kept, False


def _replay(kept: list[Message], receive: Receive) -> Receive:
    """A receive that gives the kept messages, then whatever the client sends next."""
    queue = list(kept)

    async def replay() -> Any:
        if queue:
            return queue.pop(0)
        return await receive()

    return replay
