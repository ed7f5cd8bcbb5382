"""Bad input anywhere gets a 4xx in Glance's error shape, never a 500."""

from __future__ import annotations

import pytest

WEIRD_BODIES = [b"", b"null", b"[]", b"{}", b'"x"', b"123", b"{\"a\":", b"\xff\xfe",
                b'{"name": {"nested": 1}}', b'[{"op": "add", "path": "/", "value": 1}]',
                b'[{"op": "add", "path": "", "value": 1}]', b'[{"op": null}]',
                b'[{"op": "add", "path": 5, "value": 1}]', b'{"member": ["x"]}',
                b'{"status": 5}', b'{"method": "glance-direct"}', b'{"method": {"name": 5}}']
PATCH = "application/openstack-images-v2.1-json-patch"


@pytest.fixture
async def image(api):
    return await api.create(name="target")


@pytest.mark.parametrize("body", WEIRD_BODIES)
async def test_weird_bodies_never_500(api, image, body):
    iid = image["id"]
    calls = [
        ("POST", "/v2/images", "application/json"),
        ("PATCH", f"/v2/images/{iid}", PATCH),
        ("POST", f"/v2/images/{iid}/members", "application/json"),
        ("PUT", f"/v2/images/{iid}/members/p-alt", "application/json"),
        ("POST", f"/v2/images/{iid}/import", "application/json"),
    ]
    for method, path, kind in calls:
        r = await api.call(method, path, content=body, headers={"Content-Type": kind})
        assert r.status_code < 500, (method, path, body, r.text)
        if r.status_code >= 400:
            assert set(r.json()) == {"code", "title", "message"}


@pytest.mark.parametrize("path", [
    "/v2/images/%00", "/v2/images/" + "x" * 300, "/v2/images/../../etc/passwd",
    "/v2/images/abc/file", "/v2/images/abc/members", "/v2/images/abc/members/p",
    "/v2/images?limit=99999999999999999999999", "/v2/images?sort=", "/v2/images?sort=name:",
    "/v2/images?size_max=-1", "/v2/images?name=in:", "/v2/images?created_at=gt:",
    "/v2/images?updated_at=2020-01-01T00:00:00%2B02:00", "/v2/images?tag=", "/v2/images?%ff=1",
])
async def test_weird_paths_never_500(api, path):
    r = await api.get(path)
    assert r.status_code < 500, (path, r.text)


async def test_weird_headers_never_500(api, image):
    path = f"/v2/images/{image['id']}/file"
    for headers in ({"Range": "bytes=99999999999999999999999-"}, {"Range": "bytes=-0"},
                    {"Range": "bytes="}, {"Range": "bytes=--1"}):
        assert (await api.get(path, headers=headers)).status_code < 500
    r = await api.put(path, content=b"x", headers={"Content-Type": "application/octet-stream",
                                                   "X-OpenStack-Image-Size": "lots"})
    assert r.status_code == 400
