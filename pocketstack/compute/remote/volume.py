"""The volume service (Cinder v3), as compute uses it: volumes to boot from and
attachments (steps 25-27)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Protocol

from pocketstack.compute.remote.rest import RestClient
from pocketstack.core import exceptions as exc


class VolumeAPI(Protocol):
    async def get(self, token: str | None, project_id: str, volume_id: str) -> dict[str, Any]:
        ...

    async def create(self, token: str | None, project_id: str, size: int,
                     image_id: str | None, name: str) -> dict[str, Any]:
        """A new volume, returned once it is available (or raising if it failed)."""
        ...

    async def attach(self, token: str | None, project_id: str, volume_id: str,
                     instance_id: str, connector: dict[str, Any]) -> dict[str, Any]:
        """Create and complete an attachment; returns it (id, connection_info)."""
        ...

    async def detach(self, token: str | None, project_id: str, attachment_id: str) -> None:
        """Delete the attachment (no error when already gone)."""
        ...

    async def delete(self, token: str | None, project_id: str, volume_id: str) -> None: ...


class RestVolumeAPI(RestClient):
    def __init__(self, http, base_url: str, poll: float = 0.05, timeout: float = 120.0):  # noqa: ANN001
        super().__init__(http, base_url, {"OpenStack-API-Version": "volume 3.44"})
        self.poll, self.timeout = poll, timeout

    async def get(self, token: str | None, project_id: str, volume_id: str) -> dict[str, Any]:
        return (await self.request(token, "GET", f"/v3/{project_id}/volumes/{volume_id}"))[
            "volume"]

    async def create(self, token: str | None, project_id: str, size: int,
                     image_id: str | None, name: str) -> dict[str, Any]:
        body: dict[str, Any] = {"size": size, "name": name}
        if image_id:
            body["imageRef"] = image_id
        vol = (await self.request(token, "POST", f"/v3/{project_id}/volumes",
                                  json={"volume": body}))["volume"]
        waited = 0.0
        while vol["status"] not in ("available", "error"):
            if waited > self.timeout:
                raise exc.ServiceUnavailable(f"Volume {vol['id']} did not become available.")
            await asyncio.sleep(self.poll)
            waited += self.poll
            vol = await self.get(token, project_id, vol["id"])
        if vol["status"] == "error":
            raise exc.Conflict(f"Volume {vol['id']} went to error while being created.")
        return vol

    async def attach(self, token: str | None, project_id: str, volume_id: str,
                     instance_id: str, connector: dict[str, Any]) -> dict[str, Any]:
        att = (await self.request(token, "POST", f"/v3/{project_id}/attachments", json={
            "attachment": {"volume_uuid": volume_id, "instance_uuid": instance_id,
                           "connector": connector}}))["attachment"]
        await self.request(token, "POST", f"/v3/{project_id}/attachments/{att['id']}/action",
                           json={"os-complete": None})
        return att

    async def detach(self, token: str | None, project_id: str, attachment_id: str) -> None:
        try:
            await self.request(token, "DELETE", f"/v3/{project_id}/attachments/{attachment_id}")
        except exc.NotFound:
            pass

    async def delete(self, token: str | None, project_id: str, volume_id: str) -> None:
        try:
            await self.request(token, "DELETE", f"/v3/{project_id}/volumes/{volume_id}")
        except exc.NotFound:
            pass


class FakeVolumeAPI:
    def __init__(self) -> None:
        self.volumes: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, dict[str, Any]] = {}

    def add(self, size: int = 1, name: str = "", volume_id: str | None = None) -> dict:
        vol = {"id": volume_id or str(uuid.uuid4()), "size": size, "name": name,
               "status": "available", "attachments": []}
        self.volumes[vol["id"]] = vol
        return vol

    async def get(self, token: str | None, project_id: str, volume_id: str) -> dict[str, Any]:
        if volume_id not in self.volumes:
            raise exc.NotFound(f"Volume {volume_id} could not be found.")
        return dict(self.volumes[volume_id])

    async def create(self, token: str | None, project_id: str, size: int,
                     image_id: str | None, name: str) -> dict[str, Any]:
        return dict(self.add(size, name))

    async def attach(self, token: str | None, project_id: str, volume_id: str,
                     instance_id: str, connector: dict[str, Any]) -> dict[str, Any]:
        vol = self.volumes.get(volume_id)
        if vol is None:
            raise exc.NotFound(f"Volume {volume_id} could not be found.")
        if vol["status"] != "available":
            raise exc.BadRequest(f"Volume {volume_id} status must be available, "
                                 f"but it is {vol['status']}.")
        att = {"id": str(uuid.uuid4()), "volume_id": volume_id, "instance": instance_id,
               "device": connector.get("mountpoint"),
               "connection_info": {"driver_volume_type": "fake"}}
        self.attachments[att["id"]] = att
        vol["status"] = "in-use"
        return dict(att)

    async def detach(self, token: str | None, project_id: str, attachment_id: str) -> None:
        att = self.attachments.pop(attachment_id, None)
        if att and att["volume_id"] in self.volumes:
            self.volumes[att["volume_id"]]["status"] = "available"

    async def delete(self, token: str | None, project_id: str, volume_id: str) -> None:
        self.volumes.pop(volume_id, None)
