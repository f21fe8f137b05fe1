"""The status benchmark's portfolio world at a tiny size: every provider commissioned, and its
rollups counted by the triggers as the rows went in (the same as a recount from the raw rows)."""

import asyncpg

from bench.status_portfolio import load_portfolio
from service.database import asyncpg_connect_kwargs
from tests.status.compare import rollup_rows


async def test_a_small_portfolio_loads_with_its_rollups(database_url: str) -> None:
    world = await load_portfolio(database_url, 4, 60)
    assert len(world.casts) == 4 and len(world.innovations) == 12
    assert world.touchpoints >= 4 * 60
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    try:
        granted = await conn.fetchval(
            "SELECT count(*) FROM commissioning_relationship WHERE commissioner_id = $1",
            world.commissioner_id,
        )
        assert granted == 4
        for cast in world.casts:
            counted = await rollup_rows(conn, cast.organisation_id)
            await conn.fetchval("SELECT status_rebuild_rollups($1)", cast.organisation_id)
            assert await rollup_rows(conn, cast.organisation_id) == counted
    finally:
        await conn.close()
