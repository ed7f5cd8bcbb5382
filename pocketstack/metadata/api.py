"""Nova's metadata API: one path space, answered for the guest the proxy vouches
for. `/` lists the EC2 versions (to anyone); `/openstack[/VERSION[/FILE]]` and
`/VERSION/meta-data/...` (EC2) need the proxy's signed headers. As in Nova,
a POST reads like a GET except on `password`. Errors are plain text, as
webob renders Nova's."""

from __future__ import annotations

import logging
import posixpath
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pocketstack.core import exceptions as exc
from pocketstack.core.web import RequestIdMiddleware
from pocketstack.metadata import content, signature
from pocketstack.metadata.lookup import InstanceLookup
from pocketstack.metadata.store import PasswordStore

log = logging.getLogger(__name__)
TEXT, JSON = "text/plain; charset=UTF-8", "application/json"
PASSWORD_MAX = 4 * 255  # Nova keeps it in four 255-character chunks
TITLES = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          409: "Conflict", 500: "Internal Server Error", 503: "Service Unavailable"}


class MetadataAPI:
    def __init__(self, lookup: InstanceLookup, passwords: PasswordStore, secret: str):
        self.lookup, self.passwords, self.secret = lookup, passwords, secret

    async def handle(self, request: Request) -> Response:
        try:
            return await self._answer(request)
        except exc.PocketstackError as err:
            return error(err.status, err.message if err.status != 404 else
                         "The resource could not be found.")
        except Exception:  # noqa: BLE001 - a guest gets a 500, never a traceback
            log.exception("metadata: %s %s failed", request.method, request.url.path)
            return error(500, "An unknown error has occurred. Please try your request again.")

    async def _answer(self, request: Request) -> Response:
        path = posixpath.normpath("/" + request.path_params.get("path", ""))
        tokens = [t for t in path.split("/") if t]
        if not tokens:
            return text("\n".join([*content.EC2_VERSIONS, "latest"]).encode())
        inst = await self._caller(request)
        if tokens[0] == "openstack":
            return await self._openstack(request, inst, tokens[1:])
        if tokens[0] == "ec2":
            tokens = tokens[1:]
        try:
            node = content.find(content.ec2_tree(inst, tokens[0]), tokens[1:]) if tokens else [
                *content.EC2_VERSIONS, "latest"]
        except KeyError:
            raise exc.NotFound() from None
        return text(content.render(node))

    async def _caller(self, request: Request) -> content.Instance:
        h = request.headers
        address, network = h.get(signature.FORWARDED_HEADER), h.get(signature.NETWORK_HEADER)
        if not address:
            raise exc.BadRequest("X-Forwarded-For is missing from request.")
        if not network:
            raise exc.BadRequest("X-Neutron-Network-ID is missing from request.")
        if not signature.valid(self.secret, network, address, h.get(signature.SIGNATURE_HEADER)):
            log.warning("metadata: bad signature for %s on network %s", address, network)
            raise exc.Forbidden("Invalid proxy request signature.")
        return await self.lookup.find(network, address)

    async def _openstack(self, request: Request, inst: content.Instance,
                         tokens: list[str]) -> Response:
        if not tokens:
            today = datetime.now(UTC).strftime("%Y-%m-%d")
            return text("\n".join(content.openstack_versions(today)).encode())
        try:
            version = content.openstack_version(tokens[0])
        except KeyError:
            raise exc.NotFound() from None
        name = "/".join(tokens[1:])
        if name == content.PASSWORD and content.at_least(content.GRIZZLY, version):
            return await self._password(request, inst)
        if not name:
            return text("\n".join(content.openstack_listing(inst, version)).encode())
        try:
            body = content.openstack_document(inst, version, name)
        except KeyError:
            raise exc.NotFound() from None
        return Response(body, media_type=TEXT if name == content.USER_DATA else JSON)

    async def _password(self, request: Request, inst: content.Instance) -> Response:
        if request.method != "POST":
            return text((await self.passwords.get(inst.uuid) or "").encode())
        if await self.passwords.get(inst.uuid) is not None:
            raise exc.Conflict("The password was already set.")
        body = await request.body()
        if len(body) > PASSWORD_MAX:
            raise exc.BadRequest("Request is too large.")
        await self.passwords.set_once(inst.uuid, body.decode("utf-8", "replace"))
        return text(b"")


def text(body: bytes) -> Response:
    return Response(body, media_type=TEXT)


def error(status: int, message: str) -> Response:
    """webob's plain-text error page."""
    title = TITLES.get(status, "Error")
    return Response(f"{status} {title}\n\n{message}\n\n   ", status_code=status,
                    media_type=TEXT)


def build_app(api: MetadataAPI) -> Any:
    async def not_allowed(request: Request) -> Response:
        return error(405, f"The method {request.method} is not allowed for this resource.")

    routes = [Route("/{path:path}", api.handle, methods=["GET", "HEAD", "POST"]),
              Route("/{path:path}", not_allowed,
                    methods=["PUT", "DELETE", "PATCH", "OPTIONS"])]
    return RequestIdMiddleware(Starlette(routes=routes))
