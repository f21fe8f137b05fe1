"""POST /v1/auth/token: the OAuth 2.0 client-credentials grant for integration clients."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from service.auth.client_credentials import (
    FORM_CONTENT_TYPE,
    MAX_FORM_BYTES,
    OAuthError,
    issue_token,
    parse_token_request,
)
from service.auth.rate_limit import ClientAuthLimiter
from service.auth.schemas import OAuthErrorResponse, TokenResponse
from service.dependencies import SessionDep, public

router = APIRouter(prefix="/auth", tags=["authentication"])

# RFC 6749 §5.1: token responses must not be cached anywhere.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def _bounded_body(request: Request) -> bytes:
    """The form, read no further than the largest a token request needs (chunked bodies included)."""
    too_large = OAuthError("invalid_request", f"the request body must be at most {MAX_FORM_BYTES} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise too_large
    return bytes(body)


_FORM_SCHEMA = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "client_id": {"type": "string", "description": "Unless sent with HTTP Basic."},
        "client_secret": {"type": "string", "description": "Unless sent with HTTP Basic."},
    },
}
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthErrorResponse"}}}


@router.post(
    "/token",
    operation_id="issue_token",
    dependencies=[Depends(public())],
    response_model=TokenResponse,
    responses={
        400: {"description": "RFC 6749 §5.2 error", "model": OAuthErrorResponse, "content": _ERROR_CONTENT},
        401: {"description": "invalid_client", "model": OAuthErrorResponse, "content": _ERROR_CONTENT},
        429: {
            "description": "Too many failed attempts for this client id or address; see Retry-After",
            "model": OAuthErrorResponse,
            "content": _ERROR_CONTENT,
        },
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {FORM_CONTENT_TYPE: {"schema": _FORM_SCHEMA}}}
    },
)
async def issue_access_token(request: Request, session: SessionDep) -> JSONResponse:
    """Exchange an integration client's id and secret (HTTP Basic or form fields) for a short-lived
    bearer token with role `integration`, signed ES256 by Ingrain (keys at /.well-known/jwks.json).

    Failed attempts are limited per client id and per address within a sliding window (429 with
    Retry-After when exceeded)."""
    state: Any = request.app.state
    try:
        token_request = parse_token_request(
            request.headers.get("content-type"),
            await _bounded_body(request),
            request.headers.get("authorization"),
        )
        token = await issue_token(
            session=session,
            settings=state.settings,
            signing_key=state.token_verifier.signing_key,
            limiter=ClientAuthLimiter.from_settings(state.settings),
            token_request=token_request,
            address=request.client.host if request.client else None,
        )
    except OAuthError as exc:
        body = OAuthErrorResponse.model_validate({"error": exc.error, "error_description": exc.description})
        return JSONResponse(body.model_dump(), status_code=exc.status, headers={**NO_STORE, **exc.headers})
    return JSONResponse(token.model_dump(), headers=NO_STORE)
