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


class StubImages:
    """A stand-in for the image API (/image/v2): images in a dict, data in memory."""

    def __init__(self) -> None:
        from starlette.applications import Starlette
        from starlette.routing import Route

        self.images: dict[str, dict[str, Any]] = {}
        self.data: dict[str, bytes] = {}
        self.app = Starlette(routes=[
            Route("/image/v2/images", self._create, methods=["POST"]),
            Route("/image/v2/images/{id}", self._show, methods=["GET", "DELETE"]),
            Route("/image/v2/images/{id}/file", self._file, methods=["GET", "PUT"]),
        ])

    def add(self, image_id: str, data: bytes, disk_format: str = "raw", **extra: Any) -> None:
        self.images[image_id] = {"id": image_id, "name": image_id, "status": "active",
                                 "disk_format": disk_format, "container_format": "bare",
                                 "size": len(data), "min_disk": 0, **extra}
        self.data[image_id] = data

    async def _create(self, request):  # noqa: ANN001, ANN202
        from starlette.responses import JSONResponse

        body = await request.json()
        image_id = f"img-{len(self.images)}"
        self.images[image_id] = {"id": image_id, "status": "queued", **body}
        return JSONResponse(self.images[image_id], status_code=201)

    async def _show(self, request):  # noqa: ANN001, ANN202
        from starlette.responses import JSONResponse, Response

        found = self.images.get(request.path_params["id"])
        if found is None:
            return JSONResponse({"message": "not found"}, status_code=404)
        if request.method == "DELETE":
            del self.images[found["id"]]
            return Response(status_code=204)
        return JSONResponse(found)

    async def _file(self, request):  # noqa: ANN001, ANN202
        from starlette.responses import Response

        image_id = request.path_params["id"]
        if image_id not in self.images:
            return Response(status_code=404)
        if request.method == "PUT":
            self.data[image_id] = await request.body()
            self.images[image_id].update(status="active", size=len(self.data[image_id]))
            return Response(status_code=204)
        return Response(self.data[image_id], media_type="application/octet-stream")


@pytest.fixture
def images() -> StubImages:
    return StubImages()


@pytest.fixture
def backend() -> Any:
    return FakeBackend(total_gb=100)


@pytest.fixture
def volume_config(tmp_path) -> config.Config:  # noqa: ANN001
    cfg = config.Config(state_dir=tmp_path, _env_file=None)
    cfg.volume.report_interval = 3600
    return cfg


@pytest.fixture
async def unit(volume_config, backend, images) -> AsyncIterator[VolumeUnit]:  # noqa: ANN001
    volume_config.public_url = "http://cloud.test"
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=images.app),
                             base_url="http://cloud.test")
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
