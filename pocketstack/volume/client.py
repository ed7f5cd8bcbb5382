"""What other services import to use block storage: a REST client of the
volume API (Cinder v3 attachments, microversion 3.44) acting with the
user's token, as the compute agent does to attach volumes (launch steps
25-27) and to detach them.

    volumes = VolumeClient(runtime.http, runtime.url("volume"))
    att = await volumes.create_attachment(ctx, volume_id, instance_id)      # reserved
    info = await volumes.update_attachment(ctx, att.id, connector)          # connection info
    ...  # the hypervisor driver attaches the disk described by `info`
    await volumes.complete_attachment(ctx, att.id)                          # volume in-use
    await volumes.delete_attachment(ctx, att.id)                            # detach

The connector describes the compute host: `{"host": "compute-1", "mountpoint":
"/dev/vdb", "mode": "rw"}` is enough here. The connection info is
`{"driver_volume_type": ..., "data": {...}}`:

    "file"  (file backend)  data: path (a local file), format ("qcow2" or "raw")
    "local" (lvm backend)   data: device_path (a block device), format "raw"
    "fake"  (fake backend)  data: volume_id only

and always data.volume_id, data.access_mode ("rw"/"ro"), data.attachment_id.
Errors come back as core.exceptions (NotFound, BadRequest, ...) with Cinder's message.
volume/fake_client.py is a stateful fake of it for other services' tests.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pydantic import BaseModel

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext

API_VERSION = "volume 3.44"


class Attachment(BaseModel):
    id: str
    status: str  # reserved, attaching, attached
    instance: str | None = None
    volume_id: str
    attach_mode: str | None = None
    connection_info: dict[str, Any] | None = None


class VolumeClient:
    def __init__(self, http: httpx.AsyncClient, volume_url: str, timeout: float = 60.0):
        self.http = http
        self.url = volume_url.rstrip("/") + "/v3"
        self.timeout = timeout

    def _headers(self, ctx: RequestContext) -> dict[str, str]:
        if not ctx.auth_token:
            raise exc.Unauthorized("no user token to reach the volume service with")
        headers = {"X-Auth-Token": ctx.auth_token, "OpenStack-API-Version": API_VERSION}
        if ctx.request_id:
            headers["X-OpenStack-Request-ID"] = ctx.request_id
        return headers

    async def _send(self, ctx: RequestContext, method: str, path: str,
                    json: Any = None) -> httpx.Response:
        try:
            resp = await self.http.request(method, self.url + path, json=json,
                                           headers=self._headers(ctx), timeout=self.timeout)
        except httpx.HTTPError as err:
            raise exc.ServiceUnavailable(f"volume service unreachable: {err}") from None
        if resp.status_code >= 400:
            raise exc.for_status(resp.status_code, _message(resp))
        return resp

    async def get_volume(self, ctx: RequestContext, volume_id: str) -> dict[str, Any]:
        return (await self._send(ctx, "GET", f"/volumes/{volume_id}")).json()["volume"]

    async def create_volume(self, ctx: RequestContext, size: int, *, name: str | None = None,
                            image_id: str | None = None, snapshot_id: str | None = None,
                            volume_type: str | None = None,
                            availability_zone: str | None = None) -> dict[str, Any]:
        """A new volume, answered at once in `creating`: poll get_volume until
        `available` (or `error`: the reason is in the /messages API)."""
        body: dict[str, Any] = {"size": size}
        for key, value in (("name", name), ("imageRef", image_id), ("snapshot_id", snapshot_id),
                           ("volume_type", volume_type),
                           ("availability_zone", availability_zone)):
            if value is not None:
                body[key] = value
        return (await self._send(ctx, "POST", "/volumes", {"volume": body})).json()["volume"]

    async def wait_available(self, ctx: RequestContext, volume_id: str, poll: float = 0.05,
                             within: float = 120.0) -> dict[str, Any]:
        """The volume once `available`; Conflict if it went to `error`,
        ServiceUnavailable if it did not get there within `within` seconds."""
        try:
            async with asyncio.timeout(within):
                while True:
                    vol = await self.get_volume(ctx, volume_id)
                    if vol["status"] in ("available", "error"):
                        break
                    await asyncio.sleep(poll)
        except TimeoutError:
            raise exc.ServiceUnavailable(f"Volume {volume_id} did not become available.") \
                from None
        if vol["status"] == "error":
            raise exc.Conflict(f"Volume {volume_id} went to error while being created.")
        return vol

    async def delete_volume(self, ctx: RequestContext, volume_id: str) -> None:
        """Ask for deletion (asynchronous); a missing volume is not an error."""
        try:
            await self._send(ctx, "DELETE", f"/volumes/{volume_id}")
        except exc.NotFound:
            pass

    async def create_attachment(self, ctx: RequestContext, volume_id: str, instance_id: str,
                                connector: dict[str, Any] | None = None,
                                mode: str = "rw") -> Attachment:
        """Reserve the volume for the instance (with a connector: also export it)."""
        body: dict[str, Any] = {"volume_uuid": volume_id, "instance_uuid": instance_id,
                                "mode": mode}
        if connector is not None:
            body["connector"] = connector
        resp = await self._send(ctx, "POST", "/attachments", {"attachment": body})
        return Attachment.model_validate(resp.json()["attachment"])

    async def update_attachment(self, ctx: RequestContext, attachment_id: str,
                                connector: dict[str, Any]) -> dict[str, Any]:
        """Export the volume to the connector's host; the connection info."""
        resp = await self._send(ctx, "PUT", f"/attachments/{attachment_id}",
                                {"attachment": {"connector": connector}})
        return resp.json()["attachment"]["connection_info"]

    async def complete_attachment(self, ctx: RequestContext, attachment_id: str) -> None:
        """The disk is attached: the volume becomes in-use."""
        await self._send(ctx, "POST", f"/attachments/{attachment_id}/action",
                         {"os-complete": {}})

    async def delete_attachment(self, ctx: RequestContext, attachment_id: str) -> None:
        """Detach (or undo a reservation); a missing attachment is not an error."""
        try:
            await self._send(ctx, "DELETE", f"/attachments/{attachment_id}")
        except exc.NotFound:
            pass

    async def get_attachment(self, ctx: RequestContext, attachment_id: str) -> Attachment:
        resp = await self._send(ctx, "GET", f"/attachments/{attachment_id}")
        return Attachment.model_validate(resp.json()["attachment"])


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return f"volume service answered {resp.status_code}"
    if isinstance(body, dict) and len(body) == 1:
        inner = next(iter(body.values()))
        if isinstance(inner, dict) and "message" in inner:
            return str(inner["message"])
    return f"volume service answered {resp.status_code}"
