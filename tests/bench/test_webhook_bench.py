"""The webhook benchmark's machinery at a tiny size, in-process: its world registers through the
API, its events reach every endpoint they should, and its lag figures come from what arrived."""

import contextlib

import asyncpg

from bench.webhooks import Outage, events_of, lags_since, prepare, register
from service.database import asyncpg_connect_kwargs
from service.projections.service import publish
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import work


async def test_a_few_recomputes_reach_every_endpoint_they_should(database_url: str) -> None:
    world = await prepare(database_url)
    receivers = {
        "provider": Receiver(),
        "provider-outage": Receiver(answer=Outage().answer),
        "commissioner": Receiver(),
    }
    async with contextlib.AsyncExitStack() as stack:
        for receiver in receivers.values():
            await stack.enter_async_context(receiver)
        await register(world, receivers)
        conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
        try:
            for n in range(3):
                async with conn.transaction():
                    await publish(conn, world.provider_id, events_of(world, n))
        finally:
            await conn.close()
        await work(database_url)
    lags = lags_since(receivers, dict.fromkeys(receivers, 0))
    assert len(lags["provider"]) == len(lags["provider-outage"]) == 15
    # The commissioner covers two of the three services: none of the provider-wide stage changes.
    commissioned = {str(s) for s in world.service_ids[:2]}
    assert all(r.json()["service_id"] in commissioned for r in receivers["commissioner"].received)
    assert len(lags["commissioner"]) == len(receivers["commissioner"].received) > 0
    assert lags["retried"] == [] and all(0 <= lag < 30 for lag in lags["provider"])
