"""volume/client.py, the compute agent's attachment client, against the real app."""

from __future__ import annotations

import httpx
import pytest

from pocketstack.core import exceptions as exc
from pocketstack.volume.client import VolumeClient
from tests.unit.volume.conftest import CONTEXTS


@pytest.fixture
async def client(unit):  # noqa: ANN001
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=unit.app),
                             base_url="http://volume.test")
    yield VolumeClient(http, "http://volume.test/")
    await http.aclose()


def as_user(name: str):  # noqa: ANN201
    return CONTEXTS[name].model_copy(update={"auth_token": name})


async def test_attach_and_detach(api, client):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "available")
    ctx = as_user("alice")
    att = await client.create_attachment(ctx, vol["id"], "instance-1")
    assert att.status == "reserved" and att.volume_id == vol["id"]
    info = await client.update_attachment(ctx, att.id, {"host": "compute-1",
                                                        "mountpoint": "/dev/vdb"})
    assert info["driver_volume_type"] == "fake"
    assert info["data"]["attachment_id"] == att.id
    await client.complete_attachment(ctx, att.id)
    assert (await client.get_volume(ctx, vol["id"]))["status"] == "in-use"
    assert (await client.get_attachment(ctx, att.id)).status == "attached"
    await client.delete_attachment(ctx, att.id)
    await client.delete_attachment(ctx, att.id)  # twice: no error
    assert (await client.get_volume(ctx, vol["id"]))["status"] == "available"


async def test_errors_are_core_exceptions(api, client):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "available")
    with pytest.raises(exc.NotFound):
        await client.create_attachment(as_user("bob"), vol["id"], "instance-1")
    await client.create_attachment(as_user("alice"), vol["id"], "instance-1")
    with pytest.raises(exc.BadRequest, match="status must be available"):
        await client.create_attachment(as_user("alice"), vol["id"], "instance-2")


async def test_create_and_delete_volume(api, client):
    ctx = as_user("alice")
    vol = await client.create_volume(ctx, 2, name="boot")
    assert vol["status"] == "creating" and vol["size"] == 2
    assert (await client.wait_available(ctx, vol["id"], within=10))["status"] == "available"
    await client.delete_volume(ctx, vol["id"])
    await api.wait_gone(f"/v3/volumes/{vol['id']}")
    await client.delete_volume(ctx, vol["id"])  # already gone: no error
    with pytest.raises(exc.BadRequest, match="image"):
        await client.create_volume(ctx, 1, image_id="nope")
