"""The compute service in-process: its API app over httpx, its scheduler,
conductor and fake compute agents on a local RPC transport, and stateful fakes
of identity, image, network, volume and placement."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pocketstack import config as configuration
from pocketstack.compute.remote.placement import FakePlacement
from pocketstack.compute.unit import ComputeUnit, Remotes, build
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.rpc import RPC, LocalTransport
from pocketstack.image.fake_client import FakeImageClient
from pocketstack.network.fake_client import FakeNetworkClient
from pocketstack.runtime import Runtime
from pocketstack.volume.fake_client import FakeVolumeClient

IMAGE = "11111111-2222-3333-4444-555555555555"
ARM_IMAGE = "11111111-2222-3333-4444-666666666666"
ROLES = {"admin": ["admin", "member", "reader"], "member": ["member", "reader"],
         "reader": ["reader"]}
USERS = {  # token -> (user, project, role)
    "admin": ("u-admin", "p-admin", "admin"), "demo": ("u-demo", "p-demo", "member"),
    "reader": ("u-reader", "p-demo", "reader"), "other": ("u-other", "p-other", "member"),
}


class FakeValidator:
    async def validate(self, token: str) -> RequestContext:
        if token not in USERS:
            raise exc.Unauthorized("The request you have made requires authentication.")
        user, project, role = USERS[token]
        return RequestContext(user_id=user, project_id=project, roles=ROLES[role],
                              auth_token=token)

    async def service_token(self) -> str:
        return "admin"


@dataclass
class Env:
    unit: ComputeUnit
    remotes: Remotes
    http: httpx.AsyncClient
    private: str  # the private network's id

    def client(self, token: str | None = "demo", mv: str | None = "2.100") -> httpx.AsyncClient:
        headers = {}
        if token:
            headers["X-Auth-Token"] = token
        if mv:
            headers["OpenStack-API-Version"] = f"compute {mv}"
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.unit.app),
                                 base_url="http://compute.test", headers=headers)

    async def boot(self, token: str = "demo", wait: bool = True, **server: Any) -> dict:
        body = {"name": "vm", "imageRef": IMAGE, "flavorRef": "1",
                "networks": [{"uuid": self.private}], **server}
        hints = body.pop("hints", None)
        payload: dict[str, Any] = {"server": body}
        if hints:
            payload["os:scheduler_hints"] = hints
        async with self.client(token) as c:
            r = await c.post("/v2.1/servers", json=payload)
            assert r.status_code == 202, r.text
            sid = r.json()["server"]["id"]
            return await self.wait(sid, token) if wait else r.json()["server"]

    async def wait(self, server_id: str, token: str = "demo",
                   until: tuple[str, ...] = ("ACTIVE", "ERROR", "SHUTOFF"),
                   seconds: float = 10.0) -> dict:
        async with self.client(token) as c:
            for _ in range(int(seconds / 0.01)):
                r = await c.get(f"/v2.1/servers/{server_id}")
                if r.status_code == 404 and "DELETED" in until:
                    return {"status": "DELETED"}
                server = r.json()["server"]
                if server["status"] in until and not server["OS-EXT-STS:task_state"]:
                    return server
                await asyncio.sleep(0.01)
        raise AssertionError(f"server {server_id} still {server['status']}")


def make_config(tmp_path, **compute: Any) -> configuration.Config:
    cfg = configuration.load(state_dir=tmp_path)
    cfg.compute = cfg.compute.model_copy(update={"fake_hosts": 3, **compute})
    cfg.tracing = cfg.tracing.model_copy(update={"flush_interval": 0.05})
    return cfg


async def start_env(tmp_path, **compute: Any) -> Env:
    cfg = make_config(tmp_path, **compute)
    runtime = Runtime(cfg, httpx.AsyncClient())
    runtime.rpc = RPC(LocalTransport(), timeout=10)
    runtime.validator = FakeValidator()
    network = FakeNetworkClient()
    private = network.add_network("private", "10.0.0.0/26", project_id="p-demo")
    network.add_network("public", "172.24.4.0/24", shared=True)["router:external"] = True
    remotes = Remotes(
        FakeImageClient([{"id": IMAGE, "name": "cirros", "status": "active", "size": 1 << 20,
                       "min_ram": 0, "min_disk": 0},
                      {"id": ARM_IMAGE, "name": "arm", "status": "active", "size": 1 << 20,
                       "hw_architecture": "aarch64"}]),
        network, FakeVolumeClient(), FakePlacement())
    unit = await build(runtime, remotes)
    await unit.start()
    await unit.bootstrap(None)
    for _ in range(500):  # the agents' first reports reach the scheduler
        if len(unit.scheduler.states.hosts) == cfg.compute.fake_hosts:
            break
        await asyncio.sleep(0.01)
    return Env(unit, remotes, runtime.http, private["id"])


async def stop_env(env: Env) -> None:
    await env.unit.stop()
    await env.unit.runtime.rpc.close()


@pytest.fixture
async def env(tmp_path):
    e = await start_env(tmp_path)
    yield e
    await stop_env(e)
