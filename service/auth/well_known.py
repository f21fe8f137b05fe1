"""GET /.well-known/jwks.json: the public key that verifies tokens Ingrain signs."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from service.dependencies import public
from service.touchpoints.limits import BodyLimitedRoute

router = APIRouter(tags=["authentication"], route_class=BodyLimitedRoute)


@router.get(
    "/.well-known/jwks.json",
    operation_id="get_jwks",
    dependencies=[Depends(public())],
    responses={200: {"description": "RFC 7517 JWK Set", "content": {"application/jwk-set+json": {}}}},
)
async def get_jwks(request: Request) -> JSONResponse:
    """The JWK Set of Ingrain's signing key (ES256, P-256); `kid` is the RFC 7638 thumbprint."""
    state: Any = request.app.state
    return JSONResponse(
        state.token_verifier.signing_key.jwks(),
        media_type="application/jwk-set+json",
        headers={"Cache-Control": "public, max-age=300"},
    )
