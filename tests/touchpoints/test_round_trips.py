"""A single post is three round trips to Postgres: the caller's account, the references, one write.

Counted at the driver, so BEGIN, COMMIT and statements sent around SQLAlchemy count too.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.audit.models import AccessLogEntry
from service.status.models import status_month_rollup
from tests.touchpoints.world import World, count_links, count_touchpoints, keyed


@contextmanager
def round_trips(app: Any) -> Iterator[list[str]]:
    """Every query the app sends to Postgres while the block runs: statements sent through SQLAlchemy
    (its prepared statements are cached per connection: one round trip each), and what is sent on
    the asyncpg connection directly, BEGIN and COMMIT included."""
    queries: list[str] = []
    watched: set[int] = set()
    engine = app.state.engine.sync_engine

    def note(query: str) -> None:
        queries.append(" ".join(query.split())[:80])

    def through_sqlalchemy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        note(statement)

    def watch(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if id(driver) not in watched:
            watched.add(id(driver))
            driver.add_query_logger(lambda logged: note(logged.query))

    event.listen(engine, "checkout", watch)
    event.listen(engine, "before_cursor_execute", through_sqlalchemy)
    try:
        yield queries
    finally:
        event.remove(engine, "checkout", watch)
        event.remove(engine, "before_cursor_execute", through_sqlalchemy)


async def test_a_single_post_is_three_round_trips_and_writes_everything(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, world: World, manager: dict[str, str]
) -> None:
    # The first post prepares the statements each connection then keeps.
    for _ in range(3):
        assert (await client.post("/v1/touchpoints", json=keyed(world), headers=manager)).status_code == 201
    with round_trips(app) as queries:
        answer = await client.post("/v1/touchpoints", json=keyed(world), headers=manager)
    assert answer.status_code == 201, answer.text
    assert len(queries) <= 3, queries
    assert not any(q.startswith(("BEGIN", "COMMIT")) for q in queries), queries
    # Nothing was left out to get there: rows, links, rollups and the access log are all written.
    assert await count_touchpoints(session, world.org) == 4
    assert await count_links(session, world.org) == 4
    rollup = status_month_rollup.c
    refs = await session.scalar(
        select(func.sum(rollup.refs_total)).where(rollup.organisation_id == world.org.id)
    )
    assert refs == 4
    entries = (
        await session.scalars(
            select(AccessLogEntry).where(
                col(AccessLogEntry.organisation_id) == world.org.id,
                col(AccessLogEntry.action) == "touchpoint.create",
            )
        )
    ).all()
    assert len(entries) == 4
    assert [answer.json()["id"]] in [[str(i) for i in e.record_ids or []] for e in entries]


async def test_with_an_idempotency_key_the_post_is_one_transaction(
    app: Any, client: httpx.AsyncClient, world: World, manager: dict[str, str]
) -> None:
    headers = {**manager, "Idempotency-Key": "one-transaction"}
    with round_trips(app) as queries:
        answer = await client.post("/v1/touchpoints", json=keyed(world), headers=headers)
    assert answer.status_code == 201, answer.text
    # The key's claim, the write and the stored answer commit together.
    assert any(q.startswith("BEGIN") for q in queries), queries
    assert queries[-1].startswith("COMMIT"), queries
