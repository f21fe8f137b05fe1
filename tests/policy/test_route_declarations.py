"""Every route declares who may call it: require(...), public() or authenticated()."""

from fastapi import APIRouter, Depends, FastAPI
from starlette.responses import PlainTextResponse

from service.dependencies import public, require
from service.policy import Permission
from tests.policy.route_table import current_app, walk


def test_every_route_declares_its_policy() -> None:
    cases, undeclared = walk(current_app())
    assert cases, "the route table is empty: the walk is broken"
    assert not undeclared, "routes without a policy declaration:\n" + "\n".join(
        f"  {u.id}: {u.reason}" for u in undeclared
    )


def test_the_walk_finds_undeclared_routes() -> None:
    """The check above can fail: an app with one undeclared route of each sort is caught."""
    app = FastAPI()
    router = APIRouter(prefix="/v1")

    @router.get("/declared", dependencies=[Depends(require(Permission.status_read))])
    async def declared() -> dict[str, str]:
        return {}

    @router.get("/forgotten")
    async def forgotten() -> dict[str, str]:
        return {}

    @router.post("/public-but-said", dependencies=[Depends(public())])
    async def said() -> dict[str, str]:
        return {}

    app.include_router(router)

    async def plain(request: object) -> PlainTextResponse:
        return PlainTextResponse("x")

    app.add_route("/plain", plain)
    app.mount("/static", PlainTextResponse("x"))
    cases, undeclared = walk(app)
    assert {c.id for c in cases} >= {"GET /v1/declared", "POST /v1/public-but-said", "GET /openapi.json"}
    assert {u.id for u in undeclared} == {"GET /v1/forgotten", "GET /plain", "MOUNT /static"}


def test_declarations_on_routers_and_parameters_are_seen() -> None:
    app = FastAPI()
    guarded = APIRouter(prefix="/v1/guarded", dependencies=[Depends(require(Permission.audit_read))])

    @guarded.get("")
    async def by_router() -> dict[str, str]:
        return {}

    app.include_router(guarded)
    (case,) = [c for c in walk(app)[0] if c.path == "/v1/guarded"]
    assert case.declarations == ((Permission.audit_read,),)
