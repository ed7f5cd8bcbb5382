"""The metadata API in-process: the paths Nova serves, as the proxy calls them."""

from __future__ import annotations

import json

import httpx
import pytest

from pocketstack.core import exceptions as exc
from pocketstack.core.db import Database
from pocketstack.metadata import api, content, signature
from pocketstack.metadata.store import PasswordStore
from pocketstack.metadata.unit import MIGRATIONS
from tests.unit.metadata.test_content import instance

SECRET = "topsecret"
NET, IP = "net-static", "192.168.5.10"


class FakeLookup:
    """Instances by (network, address), as InstanceLookup finds them."""

    def __init__(self, known: dict[tuple[str, str], content.Instance]):
        self.known = known

    async def find(self, network_id: str, address: str) -> content.Instance:
        try:
            return self.known[(network_id, address)]
        except KeyError:
            raise exc.NotFound(f"No instance has address {address}.") from None


@pytest.fixture
async def client(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'metadata.db'}", MIGRATIONS)
    await db.start()
    other = instance(uuid="99999999-0000-0000-0000-000000000000", name="other",
                     project_id="p2", key=None, user_data=None, metadata={})
    lookup = FakeLookup({(NET, IP): instance(), ("net-other", IP): other})
    app = api.build_app(api.MetadataAPI(lookup, PasswordStore(db), SECRET))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://md") as c:
        yield c
    await db.close()


def signed(network: str = NET, address: str = IP) -> dict[str, str]:
    return signature.headers(SECRET, network, address)


async def get(client: httpx.AsyncClient, path: str, **kw) -> httpx.Response:
    return await client.get(path, headers=kw.pop("headers", signed()), **kw)


async def test_root_lists_ec2_versions_to_anyone(client):
    resp = await client.get("/")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    assert resp.text.split("\n") == [*content.EC2_VERSIONS, "latest"]


async def test_openstack_listings(client):
    versions = (await get(client, "/openstack")).text.split("\n")
    assert versions[0] == "2012-08-10" and versions[-1] == "latest" and "2020-10-14" in versions
    assert (await get(client, "/openstack/latest/")).text.split("\n") == [
        "meta_data.json", "user_data", "password", "vendor_data.json", "network_data.json",
        "vendor_data2.json"]
    assert (await get(client, "/openstack/2013-04-04")).text.split("\n") == [
        "meta_data.json", "user_data", "password"]
    assert (await get(client, "/openstack/2011-01-01")).status_code == 404


async def test_documents_and_their_content_types(client):
    resp = await get(client, "/openstack/latest/meta_data.json")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    md = resp.json()
    assert md["uuid"] == instance().uuid and md["public_keys"] == {"mykey": "ssh-ed25519 AAAA me"}
    assert "devices" not in (await get(client, "/openstack/2015-10-15/meta_data.json")).json()
    resp = await get(client, "/openstack/latest/user_data")
    assert resp.content == b"#!/bin/sh\necho hi\n"
    assert resp.headers["content-type"].startswith("text/plain")
    nd = (await get(client, "/openstack/latest/network_data.json")).json()
    assert nd["networks"][0]["ip_address"] == IP
    assert (await get(client, "/openstack/latest/vendor_data.json")).json() == {}
    assert (await get(client, "/openstack/latest/vendor_data2.json")).json() == {"static": {}}
    # POST reads like GET, as in Nova
    resp = await client.post("/openstack/latest/meta_data.json", headers=signed())
    assert resp.json()["uuid"] == instance().uuid


async def test_no_user_data_is_404_and_unknown_files_too(client):
    h = signed("net-other", IP)
    resp = await client.get("/openstack/latest/user_data", headers=h)
    assert resp.status_code == 404 and resp.headers["content-type"].startswith("text/plain")
    assert resp.text.startswith("404 Not Found\n\nThe resource could not be found.")
    assert (await client.get("/openstack/latest/", headers=h)).text.split("\n")[1] == "password"
    assert (await get(client, "/openstack/latest/nope.json")).status_code == 404
    assert (await get(client, "/openstack/2013-04-04/vendor_data.json")).status_code == 404


async def test_ec2_tree(client):
    assert (await get(client, "/latest")).text == "meta-data/\nuser-data"
    listing = (await get(client, "/latest/meta-data/")).text.split("\n")
    assert {"ami-id", "instance-id", "hostname", "local-ipv4", "public-ipv4", "public-keys/",
            "placement/", "security-groups"} <= set(listing)
    assert (await get(client, "/latest/meta-data/instance-id")).text == "i-0b6c4f4e"
    assert (await get(client, "/latest/meta-data/local-ipv4")).text == IP
    assert (await get(client, "/2009-04-04/meta-data/public-ipv4")).text == "172.24.4.9"
    assert (await get(client, "/latest/meta-data/public-keys/")).text == "0=mykey"
    assert (await get(client, "/latest/meta-data/public-keys/0/openssh-key")).text == (
        "ssh-ed25519 AAAA me")
    assert (await get(client, "/latest/meta-data/placement/availability-zone")).text == "az1"
    assert (await get(client, "/latest/user-data")).content == b"#!/bin/sh\necho hi\n"
    assert (await get(client, "/ec2/latest/meta-data/hostname")).text == "web-1.novalocal"
    assert (await get(client, "/1999-01-01/meta-data/")).status_code == 404
    assert (await get(client, "/latest/meta-data/nope")).status_code == 404


async def test_signature_is_checked(client):
    bad = signed() | {signature.SIGNATURE_HEADER: "0" * 64}
    resp = await client.get("/openstack/latest/meta_data.json", headers=bad)
    assert resp.status_code == 403 and "Invalid proxy request signature." in resp.text
    missing = {k: v for k, v in signed().items() if k != signature.SIGNATURE_HEADER}
    assert (await client.get("/latest/meta-data/", headers=missing)).status_code == 403
    # a signature for one address does not vouch for another
    moved = signed() | {signature.FORWARDED_HEADER: "192.168.5.11"}
    assert (await client.get("/latest/meta-data/", headers=moved)).status_code == 403
    no_net = {signature.FORWARDED_HEADER: IP}
    assert (await client.get("/latest/meta-data/", headers=no_net)).status_code == 400
    assert (await client.get("/openstack/latest/meta_data.json")).status_code == 400


async def test_unknown_address_is_404_and_each_caller_sees_its_own(client):
    resp = await get(client, "/openstack/latest/meta_data.json", headers=signed(NET, "1.2.3.4"))
    assert resp.status_code == 404
    other = await get(client, "/openstack/latest/meta_data.json",
                      headers=signed("net-other", IP))
    assert other.json()["uuid"].startswith("9999") and "public_keys" not in other.json()


async def test_password_is_posted_once(client):
    url = "/openstack/latest/password"
    assert (await get(client, url)).text == ""
    assert (await client.post(url, content=b"x" * 1021, headers=signed())).status_code == 400
    assert (await client.post(url, content=b"enc-pass", headers=signed())).status_code == 200
    assert (await get(client, url)).text == "enc-pass"
    resp = await client.post(url, content=b"again", headers=signed())
    assert resp.status_code == 409 and resp.text.startswith("409 Conflict")
    assert (await get(client, url, headers=signed("net-other", IP))).text == ""
    assert (await get(client, "/openstack/2012-08-10/password")).status_code == 404


async def test_other_methods_are_405(client):
    resp = await client.delete("/openstack/latest/meta_data.json", headers=signed())
    assert resp.status_code == 405


def test_documents_match_the_content_builder():
    inst = instance()
    assert json.loads(content.openstack_document(inst, content.EPOXY, "network_data.json")) == (
        content.network_data(inst))


async def test_lookup_cache_expires_and_stays_bounded(monkeypatch):
    from pocketstack.metadata import lookup as module

    calls = []

    class Counting(module.InstanceLookup):
        async def _describe(self, network_id, address):
            calls.append(address)
            return instance(uuid=address)

    lk = Counting(httpx.AsyncClient(), "http://n", "http://c", lambda: None, cache_ttl=60)
    assert (await lk.find("n", "1.1.1.1")).uuid == "1.1.1.1"
    await lk.find("n", "1.1.1.1")
    assert calls == ["1.1.1.1"]
    lk.forget("1.1.1.1")
    await lk.find("n", "1.1.1.1")
    assert calls == ["1.1.1.1"] * 2
    monkeypatch.setattr(module, "MAX_CACHED", 3)
    lk.cache_ttl = 0
    for i in range(10):
        await lk.find("n", f"2.2.2.{i}")
    assert len(lk._cache) <= 3
