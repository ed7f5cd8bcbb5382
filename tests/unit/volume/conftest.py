"""In-process volume service: the real app, scheduler and manager over the
local RPC transport, a SQLite database in tmp_path, a chosen backend, and a
test validator that maps tokens to contexts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from pocketstack import config
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.rpc import RPC, LocalTransport
from pocketstack.runtime import Runtime
from pocketstack.volume.backends.fake import FakeBackend
from pocketstack.volume.unit import VolumeUnit

PROJECT_A, PROJECT_B = "a" * 32, "b" * 32
CONTEXTS = {
    "admin": RequestContext(user_id="u-admin", project_id="c" * 32,
                            roles=["admin", "member", "reader"]),
    "alice": RequestContext(user_id="u-alice", project_id=PROJECT_A, roles=["member", "reader"]),
    "bob": RequestContext(user_id="u-bob", project_id=PROJECT_B, roles=["member", "reader"]),
    "reader": RequestContext(user_id="u-reader", project_id=PROJECT_A, roles=["reader"]),
}


class FakeValidator:
    async def validate(self, token: str) -> RequestContext:
        ctx = CONTEXTS.get(token)
        if ctx is None:
            raise exc.Unauthorized("The request you have made requires authentication.")
        return ctx.model_copy(update={"auth_token": token})


class Api:
    """httpx against the app, as one of CONTEXTS, with a microversion."""

    def __init__(self, unit: VolumeUnit):
        self.unit = unit
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=unit.app),
                                        base_url="http://volume.test")

    async def request(self, method: str, path: str, *, user: str = "alice",
                      version: str | None = "3.44", **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if user:
            headers["X-Auth-Token"] = user
        if version:
            headers["OpenStack-API-Version"] = f"volume {version}"
        return await self.client.request(method, path, headers=headers, **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.request("POST", path, json=json, **kw)

    async def put(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.request("PUT", path, json=json, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kw)

    async def create_volume(self, size: int = 1, user: str = "alice", **body: Any) -> dict:
        r = await self.post("/v3/volumes", {"volume": {"size": size, **body}}, user=user)
        assert r.status_code == 202, r.text
        return r.json()["volume"]

    async def wait(self, path: str, key: str, until: Callable[[dict], bool] | str,
                   user: str = "admin", wait_s: float = 10.0) -> dict:
        check = until if callable(until) else (lambda body: body["status"] == until)
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            r = await self.get(path, user=user)
            if r.status_code == 200 and check(r.json()[key]):
                return r.json()[key]
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{path}: still {r.status_code} {r.text}")
            await asyncio.sleep(0.02)

    async def wait_volume(self, volume_id: str, status: str, **kw: Any) -> dict:
        return await self.wait(f"/v3/volumes/{volume_id}", "volume", status, **kw)

    async def wait_gone(self, path: str, wait_s: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + wait_s
        while (await self.get(path, user="admin")).status_code != 404:
            assert asyncio.get_running_loop().time() < deadline, f"{path} still there"
            await asyncio.sleep(0.02)


@pytest.fixture
def backend() -> Any:
    return FakeBackend(total_gb=100)


@pytest.fixture
def volume_config(tmp_path) -> config.Config:  # noqa: ANN001
    cfg = config.Config(state_dir=tmp_path, _env_file=None)
    cfg.volume.report_interval = 3600
    return cfg


@pytest.fixture
async def unit(volume_config, backend) -> AsyncIterator[VolumeUnit]:  # noqa: ANN001
    http = httpx.AsyncClient(base_url="http://127.0.0.1:1")
    runtime = Runtime(volume_config, http, validator=FakeValidator(), rpc=RPC(LocalTransport()))
    u = VolumeUnit(runtime, backend=backend)
    await u.start()
    try:
        yield u
    finally:
        await u.stop()
        await runtime.rpc.close()
        await http.aclose()


@pytest.fixture
async def api(unit) -> AsyncIterator[Api]:  # noqa: ANN001
    a = Api(unit)
    yield a
    await a.client.aclose()
