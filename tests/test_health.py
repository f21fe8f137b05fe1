import httpx
from sqlalchemy import text


async def test_healthz_answers_without_database_work(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


async def test_readyz_is_503_when_migrations_are_behind(client: httpx.AsyncClient, app) -> None:
    async with app.state.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'behind'"))
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"]
    assert response.json()["readiness"] == "migrating"
    assert response.json()["status"] == 503
    assert response.json()["revision"] == "behind"


async def test_unknown_route_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith("/not-found")
    assert body["status"] == 404
