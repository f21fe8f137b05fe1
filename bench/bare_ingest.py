"""The write path's floor: a bare Starlette + asyncpg app that stores a posted note with one statement.

`make bench-ingest` serves it with uvicorn exactly as `ingrain serve` is served (one process, uvloop,
httptools) against the same Postgres, and posts it the same notes as the service, so the service's
single-post figures are read as ratios of what the machine can do at all. It parses the JSON, takes the
source key, and runs one `INSERT … ON CONFLICT DO NOTHING` in autocommit: no authentication, no
validation, no references, no rollups, no access log. Run as `python -m bench.bare_ingest` with
`BARE_DATABASE_URL` and `BARE_PORT` set.
"""

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.database import asyncpg_connect_kwargs

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bare_note (
  id bigserial PRIMARY KEY,
  source_system text NOT NULL,
  external_id text NOT NULL,
  body jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_system, external_id)
)
"""
INSERT_SQL = """
INSERT INTO bare_note (source_system, external_id, body) VALUES ($1, $2, $3::jsonb)
ON CONFLICT (source_system, external_id) DO NOTHING
RETURNING id
"""


async def create_table(database_url: str) -> None:
    conn = await asyncpg.connect(**asyncpg_connect_kwargs(database_url))
    try:
        await conn.execute(TABLE_SQL)
    finally:
        await conn.close()


def create_app(database_url: str) -> Starlette:
    state: dict[str, asyncpg.Pool] = {}

    async def post_note(request: Request) -> Response:
        raw = await request.body()
        note = json.loads(raw)
        async with state["pool"].acquire() as conn:
            stored = await conn.fetchval(INSERT_SQL, note["source_system"], note["external_id"], raw.decode())
        body = json.dumps({"id": stored, "status": "created" if stored else "duplicate"})
        return Response(body, status_code=201 if stored else 200, media_type="application/json")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(
            **asyncpg_connect_kwargs(database_url), min_size=4, max_size=40
        )
        try:
            yield
        finally:
            await state["pool"].close()

    return Starlette(routes=[Route("/notes", post_note, methods=["POST"])], lifespan=lifespan)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        create_app(os.environ["BARE_DATABASE_URL"]),
        host="127.0.0.1",
        port=int(os.environ["BARE_PORT"]),
        log_level="warning",
    )
