"""In-process API tests of the network service: its real app and a real SQLite
database, with a test validator that maps tokens to contexts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from pocketstack.config import NetworkConfig
from pocketstack.core import exceptions as exc
from pocketstack.core.auth import AuthMiddleware
from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.core.web import neutron_errors
from pocketstack.network import api, policies
from pocketstack.network.agent.noop import NoopAgent
from pocketstack.network.service import NetworkService
from pocketstack.network.unit import MIGRATIONS

USERS = {
    "admin": RequestContext(user_id="u-admin", project_id="p-admin",
                            roles=["admin", "member", "reader"]),
    "alice": RequestContext(user_id="u-alice", project_id="p1", roles=["member", "reader"]),
    "bob": RequestContext(user_id="u-bob", project_id="p2", roles=["member", "reader"]),
    "reader": RequestContext(user_id="u-reader", project_id="p1", roles=["reader"]),
}


async def validate(token: str) -> RequestContext:
    if token not in USERS:
        raise exc.Unauthorized("The request you have made requires authentication.")
    return USERS[token]


class RecordingAgent(NoopAgent):
    """The noop agent, remembering what it was told (for the tests to check)."""

    def __init__(self, sink):  # noqa: ANN001
        super().__init__(sink)
        self.events: list[tuple] = []

    async def port_bound(self, ctx, binding):  # noqa: ANN001
        self.events.append(("bound", binding.port_id, binding.host))
        await super().port_bound(ctx, binding)

    async def port_removed(self, ctx, port_id, host):  # noqa: ANN001
        self.events.append(("removed", port_id, host))

    async def network_changed(self, ctx, network_id):  # noqa: ANN001
        self.events.append(("network", network_id))

    async def resources_changed(self, ctx, collection):  # noqa: ANN001
        self.events.append(("resources", collection))


class Api:
    """httpx against the app, as one user at a time: `api.as_("alice").get(...)`."""

    def __init__(self, client: httpx.AsyncClient, svc: NetworkService):
        self.client, self.svc, self.user = client, svc, "admin"

    def as_(self, user: str) -> Api:
        other = Api(self.client, self.svc)
        other.user = user
        return other

    async def request(self, method: str, path: str, expect: int | None = None,
                      **kw) -> httpx.Response:
        headers = {"X-Auth-Token": self.user} if self.user else {}
        resp = await self.client.request(method, "/v2.0" + path, headers=headers, **kw)
        if expect is not None:
            assert resp.status_code == expect, (resp.status_code, resp.text)
        return resp

    async def get(self, path: str, expect: int | None = 200, **kw) -> httpx.Response:
        return await self.request("GET", path, expect, **kw)

    async def post(self, path: str, body: dict, expect: int | None = 201) -> httpx.Response:
        return await self.request("POST", path, expect, json=body)

    async def put(self, path: str, body: dict | None = None,
                  expect: int | None = 200) -> httpx.Response:
        return await self.request("PUT", path, expect, json=body)

    async def delete(self, path: str, expect: int | None = 204) -> httpx.Response:
        return await self.request("DELETE", path, expect)

    # -- shortcuts ------------------------------------------------------------------

    async def network(self, **attrs) -> dict:
        return (await self.post("/networks", {"network": attrs})).json()["network"]

    async def subnet(self, network_id: str, cidr: str = "10.0.0.0/24", **attrs) -> dict:
        body = {"network_id": network_id, "ip_version": 6 if ":" in (cidr or "") else 4}
        if cidr is not None:
            body["cidr"] = cidr
        body |= attrs
        return (await self.post("/subnets", {"subnet": body})).json()["subnet"]

    async def port(self, network_id: str, **attrs) -> dict:
        body = {"network_id": network_id} | attrs
        return (await self.post("/ports", {"port": body})).json()["port"]


def make_service(db: Database, cfg: NetworkConfig | None = None) -> NetworkService:
    svc = NetworkService(db, cfg or NetworkConfig(), Enforcer(policies.DEFAULTS))
    svc.notifier = RecordingAgent(svc)
    return svc


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/network.db", MIGRATIONS)
    await database.start()
    yield database
    await database.close()


@pytest.fixture
async def svc(db: Database) -> NetworkService:
    return make_service(db)


@pytest.fixture
async def net_api(svc: NetworkService) -> AsyncIterator[Api]:
    app = AuthMiddleware(api.build_app(svc), validate, neutron_errors, public=api.is_public)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://net") as client:
        yield Api(client, svc)


def error_type(resp: httpx.Response) -> str:
    return resp.json()["NeutronError"]["type"]
