"""Helpers for the image service's in-process tests: four users and their
token validator, an API caller, a config with small limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from pocketstack.config import Config
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext

USERS = {
    "admin": RequestContext(user_id="u-admin", project_id="p-admin",
                            roles=["admin", "member", "reader"]),
    "demo": RequestContext(user_id="u-demo", project_id="p-demo", roles=["member", "reader"]),
    "alt": RequestContext(user_id="u-alt", project_id="p-alt", roles=["member", "reader"]),
    "reader": RequestContext(user_id="u-reader", project_id="p-demo", roles=["reader"]),
}


async def validate(token: str) -> RequestContext:
    if token not in USERS:
        raise exc.Unauthorized("The request you have made requires authentication.")
    return USERS[token].model_copy(update={"auth_token": token})


class Api:
    """Calls as one of USERS: `await api.get("/v2/images", as_="alt")`."""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client

    async def call(self, method: str, path: str, as_: str | None = "demo",
                   **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if as_:
            headers["X-Auth-Token"] = as_
        return await self.client.request(method, path, headers=headers, **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.call("POST", path, **kw)

    async def put(self, path: str, **kw: Any) -> httpx.Response:
        return await self.call("PUT", path, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.call("DELETE", path, **kw)

    async def patch(self, path: str, ops: list[dict], **kw: Any) -> httpx.Response:
        headers = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
        headers.update(kw.pop("headers", {}))
        return await self.call("PATCH", path, content=__import__("json").dumps(ops),
                               headers=headers, **kw)

    async def create(self, as_: str = "demo", **body: Any) -> dict:
        body.setdefault("disk_format", "raw")
        body.setdefault("container_format", "bare")
        r = await self.post("/v2/images", json=body, as_=as_)
        assert r.status_code == 201, r.text
        return r.json()

    async def upload(self, image_id: str, data: bytes, as_: str = "demo") -> httpx.Response:
        return await self.put(f"/v2/images/{image_id}/file", content=data, as_=as_,
                              headers={"Content-Type": "application/octet-stream"})


def make_config(tmp_path: Path, **image: Any) -> Config:
    return Config(state_dir=tmp_path, image={"fsync": False, **image})


