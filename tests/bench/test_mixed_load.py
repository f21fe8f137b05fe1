"""The mixed-load benchmark's machinery, for a second and a half against the app in-process: every kind of
request it sends is answered as it expects (so `make bench-load` cannot silently time errors)."""

import httpx

from bench.mixed import prepare_world, run_mix
from service.main import create_app
from service.settings import Settings


async def test_a_second_and_a_half_of_mixed_load_meets_no_error(
    database_url: str, settings: Settings
) -> None:
    world = await prepare_world(database_url, 1_000, rows_per_chunk=500)
    app = create_app(settings, database_url=database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)

        def client_for(headers: dict[str, str]) -> httpx.AsyncClient:
            return httpx.AsyncClient(transport=transport, base_url="http://ingrain.test", headers=headers)

        mix = await run_mix(client_for, world, 1.5, mixed=True, rates=(4, 4, 2, 2))
    assert not mix.errors, mix.first_error
    assert mix.rows > 0
    for kind in ("batch", "single", "status REST", "status GraphQL", "portfolio poll"):
        assert mix.requests[kind] > 0, kind
    # Ingest changes the portfolio between polls: 200 with a new ETag, or 304 when nothing moved.
    answered = mix.requests["portfolio poll 200"] + mix.requests["portfolio poll 304"]
    assert answered == mix.requests["portfolio poll"]
