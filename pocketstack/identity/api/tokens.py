"""/v3/auth/tokens: issue (POST), validate (GET), check (HEAD), revoke (DELETE)."""

from __future__ import annotations

from fastapi import Request, Response

from pocketstack.core import exceptions as exc
from pocketstack.identity.api.common import caller_token, enforce, ident, new_router
from pocketstack.identity.authenticate import authenticate
from pocketstack.identity.tokens import TokenInfo

router = new_router()


def _response(info: TokenInfo, request: Request, status: int, token: str) -> Response:
    nocatalog = "nocatalog" in request.query_params
    body = b"" if request.method == "HEAD" else info.body(with_catalog=not nocatalog)
    return Response(body, status_code=status, media_type="application/json",
                    headers={"X-Subject-Token": token})


async def _subject(request: Request) -> TokenInfo:
    token = request.headers.get("x-subject-token")
    if not token:
        raise exc.NotFound("Could not find token: X-Subject-Token header missing.")
    return await ident(request).validate(token)


@router.post("/v3/auth/tokens")
async def issue(request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        raise exc.BadRequest("Malformed JSON in request body.") from None
    info = await authenticate(ident(request), body)
    return _response(info, request, 201, info.token)


@router.get("/v3/auth/tokens")
@router.head("/v3/auth/tokens")
async def validate(request: Request) -> Response:
    info = await _subject(request)
    enforce(request, "identity:validate_token", token_user_id=info.user_id)
    return _response(info, request, 200, info.token)


@router.delete("/v3/auth/tokens", status_code=204)
async def revoke(request: Request) -> None:
    info = await _subject(request)
    enforce(request, "identity:revoke_token", token_user_id=info.user_id)
    svc = ident(request)
    async with svc.write() as s:
        await svc.revoke(s, audit_id=info.payload.audit_ids[0])


@router.get("/v3/auth/catalog")
async def auth_catalog(request: Request) -> dict:
    enforce(request, "identity:get_auth_catalog")
    info = caller_token(request)
    if info.payload.scope is None:
        raise exc.Forbidden("A scoped token is required to get the catalog.")
    return {"catalog": info.catalog or [], "links": {"self": str(request.url),
                                                     "previous": None, "next": None}}
