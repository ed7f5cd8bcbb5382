"""Networks: the attributes, provider segments, visibility and policy."""

from __future__ import annotations


def error_type(resp):
    return resp.json()["NeutronError"]["type"]


async def test_create_show_list_network(net_api):
    alice = net_api.as_("alice")
    net = await alice.network(name="n1")
    assert net["status"] == "ACTIVE" and net["admin_state_up"] is True
    assert net["project_id"] == net["tenant_id"] == "p1"
    assert net["router:external"] is False and net["shared"] is False
    assert net["mtu"] == 1450  # vxlan: 1500 - 50
    assert net["revision_number"] == 0 and net["created_at"].endswith("Z")
    assert "provider:network_type" not in net  # admin only
    shown = (await alice.get(f"/networks/{net['id']}")).json()["network"]
    assert shown["id"] == net["id"]
    admin_view = (await net_api.get(f"/networks/{net['id']}")).json()["network"]
    assert admin_view["provider:network_type"] == "vxlan"
    assert admin_view["provider:segmentation_id"] == 1
    listed = (await alice.get("/networks")).json()["networks"]
    assert [n["id"] for n in listed] == [net["id"]]


async def test_other_project_sees_nothing(net_api):
    net = await net_api.as_("alice").network(name="n1")
    bob = net_api.as_("bob")
    assert (await bob.get("/networks")).json()["networks"] == []
    resp = await bob.get(f"/networks/{net['id']}", expect=404)
    assert error_type(resp) == "NetworkNotFound"
    await bob.put(f"/networks/{net['id']}", {"network": {"name": "x"}}, expect=404)
    await bob.delete(f"/networks/{net['id']}", expect=404)


async def test_shared_and_external_are_visible_but_not_writable(net_api):
    shared = await net_api.network(name="s", shared=True)
    ext = await net_api.network(name="e", **{"router:external": True})
    bob = net_api.as_("bob")
    names = {n["name"] for n in (await bob.get("/networks")).json()["networks"]}
    assert names == {"s", "e"}
    resp = await bob.put(f"/networks/{shared['id']}", {"network": {"name": "x"}}, expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    await bob.delete(f"/networks/{ext['id']}", expect=403)


async def test_admin_only_attributes(net_api):
    alice = net_api.as_("alice")
    for attrs in ({"shared": True}, {"router:external": True},
                  {"provider:network_type": "vlan", "provider:physical_network": "physnet1"}):
        resp = await alice.post("/networks", {"network": attrs}, expect=403)
        assert error_type(resp) == "PolicyNotAuthorized"


async def test_reader_cannot_write(net_api):
    resp = await net_api.as_("reader").post("/networks", {"network": {"name": "x"}},
                                            expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    assert (await net_api.as_("reader").get("/networks")).status_code == 200


async def test_provider_segments_allocated_and_unique(net_api):
    vlan = {"provider:network_type": "vlan", "provider:physical_network": "physnet1"}
    a = await net_api.network(**vlan)
    b = await net_api.network(**vlan)
    assert (a["provider:segmentation_id"], b["provider:segmentation_id"]) == (1000, 1001)
    resp = await net_api.post("/networks", {"network": vlan | {
        "provider:segmentation_id": 1000}}, expect=409)
    assert error_type(resp) == "SegmentInUse"
    flat = await net_api.network(**{"provider:network_type": "flat",
                                    "provider:physical_network": "public"})
    assert flat["provider:segmentation_id"] is None and flat["mtu"] == 1500
    await net_api.post("/networks", {"network": {"provider:network_type": "flat",
                                                 "provider:physical_network": "nope"}},
                       expect=400)


async def test_bad_input_is_400_never_500(net_api):
    alice = net_api.as_("alice")
    for body in ({"network": {"bogus": 1}}, {"network": {"admin_state_up": "maybe"}},
                 {"network": []}, {"networkx": {}}, {"network": {"mtu": 10}}):
        resp = await alice.post("/networks", body, expect=400)
        assert "NeutronError" in resp.json()
    resp = await alice.request("POST", "/networks", content=b"{not json")
    assert resp.status_code == 400


async def test_update_bumps_revision(net_api):
    alice = net_api.as_("alice")
    net = await alice.network(name="a")
    upd = (await alice.put(f"/networks/{net['id']}", {"network": {"name": "b"}})).json()
    assert upd["network"]["name"] == "b" and upd["network"]["revision_number"] == 1


async def test_delete_network_with_subnet(net_api):
    alice = net_api.as_("alice")
    net = await alice.network(name="a")
    await alice.subnet(net["id"])
    await alice.delete(f"/networks/{net['id']}")
    assert (await alice.get("/subnets")).json()["subnets"] == []


async def test_unauthenticated_is_401_but_versions_are_public(net_api):
    anon = net_api.as_("")
    resp = await anon.get("/networks", expect=401)
    assert "NeutronError" in resp.json()
    root = await net_api.client.get("/")
    assert root.status_code == 200 and root.json()["versions"][0]["id"] == "v2.0"


async def test_extensions(net_api):
    exts = (await net_api.get("/extensions")).json()["extensions"]
    aliases = {e["alias"] for e in exts}
    assert {"router", "external-net", "security-group", "quotas", "binding",
            "standard-attr-tag", "pagination", "sorting"} <= aliases
    assert (await net_api.get("/extensions/router")).json()["extension"]["alias"] == "router"
    await net_api.get("/extensions/external-gateway-multihoming", expect=404)
