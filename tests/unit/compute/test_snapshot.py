"""createImage: the API makes a queued image, the agent streams the root disk into it."""

from tests.unit.compute.conftest import IMAGE


async def _create_image(env, sid, body, token="demo", mv="2.100"):
    async with env.client(token, mv=mv) as c:
        return await c.post(f"/v2.1/servers/{sid}/action", json={"createImage": body})


async def test_create_image_uploads_the_root_disk(env):
    images = env.remotes.images
    images.images[IMAGE]["hw_disk_bus"] = "virtio"
    server = await env.boot(metadata={"a": "1"})
    r = await _create_image(env, server["id"], {"name": "snap", "metadata": {"k": "v"}})
    assert r.status_code == 202, r.text
    image_id = r.json()["image_id"]
    assert (await env.wait(server["id"]))["status"] == "ACTIVE"
    image = images.images[image_id]
    assert image["status"] == "active"
    assert images.uploaded[image_id] == b"fake root disk\n"
    assert image["disk_format"] == "raw"  # what the fake driver streams
    assert {k: image[k] for k in ("name", "image_type", "instance_uuid", "base_image_ref",
                                  "user_id", "hw_disk_bus", "k", "visibility")} == {
        "name": "snap", "image_type": "snapshot", "instance_uuid": server["id"],
        "base_image_ref": IMAGE, "user_id": "u-demo", "hw_disk_bus": "virtio", "k": "v",
        "visibility": "private"}
    async with env.client() as c:
        actions = (await c.get(f"/v2.1/servers/{server['id']}/os-instance-actions")).json()
    assert actions["instanceActions"][0]["action"] == "createImage"


async def test_before_2_45_the_image_is_in_the_location_header(env):
    server = await env.boot()
    r = await _create_image(env, server["id"], {"name": "snap"}, mv="2.44")
    assert r.status_code == 202 and not r.content
    image_id = r.headers["Location"].rsplit("/", 1)[-1]
    await env.wait(server["id"])
    assert env.remotes.images.images[image_id]["status"] == "active"


async def test_bad_requests_and_states(env):
    server = await env.boot()
    sid = server["id"]
    for body in (None, {}, {"name": ""}, {"name": 3}, {"name": "x" * 256},
                 {"name": "s", "metadata": {"k": 1}}):
        r = await _create_image(env, sid, body)
        assert r.status_code == 400, body
        assert "badRequest" in r.json()
    assert (await _create_image(env, sid, {"name": "s"}, token="reader")).status_code == 403
    assert (await _create_image(env, sid, {"name": "s"}, token="other")).status_code == 404
    before = set(env.remotes.images.images)
    await env.unit.api.store.update(sid, {"task_state": "rebooting"})
    r = await _create_image(env, sid, {"name": "s"})
    assert r.status_code == 409 and "conflictingRequest" in r.json()
    assert set(env.remotes.images.images) == before  # no image left behind


async def test_a_failed_snapshot_deletes_its_image(env):
    server = await env.boot()

    async def broken(instance_id, upload):
        raise RuntimeError("disk unreadable")
    for agent in env.unit.agents.values():
        agent.driver.snapshot = broken
    r = await _create_image(env, server["id"], {"name": "snap"})
    image_id = r.json()["image_id"]
    done = await env.wait(server["id"])
    assert done["status"] == "ACTIVE"
    assert image_id not in env.remotes.images.images
    async with env.client("admin") as c:
        actions = (await c.get(f"/v2.1/servers/{server['id']}/os-instance-actions")).json()
        req = actions["instanceActions"][0]["request_id"]
        shown = (await c.get(f"/v2.1/servers/{server['id']}/os-instance-actions/{req}")).json()
    event = shown["instanceAction"]["events"][0]
    assert event["event"] == "compute_snapshot_instance" and event["result"] == "Error"
    assert "disk unreadable" in event["traceback"]
